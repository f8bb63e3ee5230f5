/* A plugin that needs a symbol nothing defines: dlopen (RTLD_NOW) refuses it. */
#include "fixture.h"

int aglm_fixture_symbol_nobody_defines(void);

static aglm_status unresolved_init(const aglm_host *host, void **state)
{
    (void)host, (void)state;
    return aglm_fixture_symbol_nobody_defines() ? AGLM_OK : AGLM_ERR_INTERNAL;
}

AGLM_DEFINE_PLUGIN(.name = "unresolved", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "cannot be loaded", .init = unresolved_init, .ops = &fixture_noop_ops)
