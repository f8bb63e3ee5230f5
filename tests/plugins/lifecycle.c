/* Records init, start, stop and destroy (and its config section) in the file its `trace` key
 * names. */
#include "fixture.h"

static aglm_status lifecycle_start(void *state)
{
    fixture_trace_line(state, "start");
    return AGLM_OK;
}

AGLM_DEFINE_PLUGIN(.name = "lifecycle", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "records its lifecycle callbacks in a trace file",
                   .init = fixture_trace_init, .start = lifecycle_start, .stop = fixture_trace_stop,
                   .destroy = fixture_trace_destroy, .ops = &fixture_noop_ops)
