/* Claims ABI 1.99, a minor newer than the host's. */
#include "fixture.h"

static const aglm_plugin_desc abi_minor_desc = {.struct_size = sizeof(aglm_plugin_desc),
                                                .abi_major = AGLM_ABI_MAJOR,
                                                .abi_minor = 99,
                                                .name = "abi_minor",
                                                .version = "1.99.0",
                                                .kind = AGLM_KIND_PASS,
                                                .summary = "built for a newer minor ABI",
                                                .ops = &fixture_noop_ops};

AGLM_API const aglm_plugin_desc *aglm_plugin_entry(void);
AGLM_API const aglm_plugin_desc *aglm_plugin_entry(void)
{
    return &abi_minor_desc;
}
