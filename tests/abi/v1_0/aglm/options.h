/* Key=value options passed to frontends, passes, quantizers and backends (from pipeline scripts,
 * the command line or config). Borrowed strings; the caller keeps them alive for the call. */
#ifndef AGLM_OPTIONS_H
#define AGLM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aglm_kv {
    const char *key;
    const char *value;
} aglm_kv;

typedef struct aglm_options {
    size_t count;
    const aglm_kv *items;
} aglm_options;

/* The value of `key` (the last one if repeated), or NULL when absent or opts is NULL. */
AGLM_API const char *aglm_options_get(const aglm_options *opts, const char *key);
/* Integer value of `key`, or def when absent or not an integer. */
AGLM_API int64_t aglm_options_get_int(const aglm_options *opts, const char *key, int64_t def);
/* Floating value of `key`, or def. */
AGLM_API double aglm_options_get_float(const aglm_options *opts, const char *key, double def);
/* Boolean value of `key` (1/0, true/false, yes/no, on/off), or def. */
AGLM_API int aglm_options_get_bool(const aglm_options *opts, const char *key, int def);

#ifdef __cplusplus
}
#endif
#endif
