/* Run-time version and the names of plugin kinds. */
#include "aglm/aglm.h"

const char *aglm_version(void)
{
    return AGLM_VERSION_STRING;
}

const char *aglm_plugin_kind_name(aglm_plugin_kind kind)
{
    switch (kind) {
    case AGLM_KIND_FRONTEND: return "frontend";
    case AGLM_KIND_PASS: return "pass";
    case AGLM_KIND_QUANTIZER: return "quantizer";
    case AGLM_KIND_BACKEND: return "backend";
    }
    return "?";
}
