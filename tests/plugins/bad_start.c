/* init succeeds, start fails: the host must destroy it without calling stop. Traced like
 * lifecycle.c. */
#include "fixture.h"

static aglm_status bad_start_start(void *state)
{
    fixture_trace_line(state, "start-fail");
    return aglm_error(AGLM_ERR_STATE, "bad_start: the device went away");
}

AGLM_DEFINE_PLUGIN(.name = "bad_start", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "fails in start", .init = fixture_trace_init,
                   .start = bad_start_start, .stop = fixture_trace_stop,
                   .destroy = fixture_trace_destroy, .ops = &fixture_noop_ops)
