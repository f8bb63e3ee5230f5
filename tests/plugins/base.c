/* A plugin others require. */
#include "fixture.h"

AGLM_DEFINE_PLUGIN(.name = "base", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "required by needs_base", .ops = &fixture_noop_ops)
