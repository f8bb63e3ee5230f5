/* Symbol visibility and the library version. libaglm is built with -fvisibility=hidden; only
 * AGLM_API symbols are part of the ABI. */
#ifndef AGLM_EXPORT_H
#define AGLM_EXPORT_H

#if defined(__GNUC__)
#define AGLM_API __attribute__((visibility("default")))
#else
#define AGLM_API
#endif

/* Version of libaglm and the SDK (semantic versioning; the SONAME carries the major). */
#define AGLM_VERSION_MAJOR 0
#define AGLM_VERSION_MINOR 1
#define AGLM_VERSION_PATCH 0
#define AGLM_VERSION_STRING "0.1.0"

#endif
