/* A name outside [a-z0-9_-]. */
#include "fixture.h"

AGLM_DEFINE_PLUGIN(.name = "Bad Name", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "has an invalid name", .ops = &fixture_noop_ops)
