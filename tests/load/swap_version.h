/* Force-included into the second build of the cpu backend: the same descriptor with another
 * version string (AGLM_SWAP_VERSION), so `plugins` tells the two builds apart. The later
 * designated initialiser wins (C11 6.7.9p19). */
#include "aglm/plugin.h"

#undef AGLM_DEFINE_PLUGIN
#define AGLM_DEFINE_PLUGIN(...)                                                                    \
    AGLM_API const aglm_plugin_desc *aglm_plugin_entry(void);                                      \
    AGLM_API const aglm_plugin_desc *aglm_plugin_entry(void)                                       \
    {                                                                                              \
        static const aglm_plugin_desc aglm_desc_ = {.struct_size = sizeof(aglm_plugin_desc),       \
                                                    .abi_major = AGLM_ABI_MAJOR,                   \
                                                    .abi_minor = AGLM_ABI_MINOR,                   \
                                                    __VA_ARGS__,                                   \
                                                    .version = AGLM_SWAP_VERSION};                 \
        return &aglm_desc_;                                                                        \
    }
