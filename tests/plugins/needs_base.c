/* Requires "base". */
#include "fixture.h"

static const char *const needs_base_requires[] = {"base", NULL};

AGLM_DEFINE_PLUGIN(.name = "needs_base", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "requires base", .requires = needs_base_requires,
                   .ops = &fixture_noop_ops)
