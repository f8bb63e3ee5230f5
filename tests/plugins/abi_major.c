/* Claims ABI 2.0, which this host does not speak: the entry is written by hand to lie. */
#include "fixture.h"

static const aglm_plugin_desc abi_major_desc = {.struct_size = sizeof(aglm_plugin_desc),
                                                .abi_major = 2,
                                                .abi_minor = 0,
                                                .name = "abi_major",
                                                .version = "2.0.0",
                                                .kind = AGLM_KIND_PASS,
                                                .summary = "built for a future ABI",
                                                .ops = &fixture_noop_ops};

AGLM_API const aglm_plugin_desc *aglm_plugin_entry(void);
AGLM_API const aglm_plugin_desc *aglm_plugin_entry(void)
{
    return &abi_major_desc;
}
