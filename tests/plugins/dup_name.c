/* Takes the name of base.c's plugin. */
#include "fixture.h"

AGLM_DEFINE_PLUGIN(.name = "base", .version = "9.9.9", .kind = AGLM_KIND_PASS,
                   .summary = "a second plugin called base", .ops = &fixture_noop_ops)
