/* A shared object that is not a plugin: it exports something, but not aglm_plugin_entry. */
#include "aglm/export.h"

AGLM_API int not_an_aglm_plugin(void);
AGLM_API int not_an_aglm_plugin(void)
{
    return 42;
}
