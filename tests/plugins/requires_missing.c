/* Requires a plugin that never exists. */
#include "fixture.h"

static const char *const requires_missing_requires[] = {"nonexistent", NULL};

AGLM_DEFINE_PLUGIN(.name = "requires_missing", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "requires a plugin nobody has", .requires = requires_missing_requires,
                   .ops = &fixture_noop_ops)
