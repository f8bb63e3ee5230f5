/* init fails with a message of its own. */
#include "fixture.h"

static aglm_status bad_init_init(const aglm_host *host, void **state)
{
    (void)host, (void)state;
    return aglm_error(AGLM_ERR_UNSUPPORTED, "bad_init: no licence key configured");
}

AGLM_DEFINE_PLUGIN(.name = "bad_init", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "fails in init", .init = bad_init_init, .ops = &fixture_noop_ops)
