/* Key=value options: look-ups and typed parsing. A value that does not parse as the asked type
 * falls back to the default, like an absent one. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aglm/options.h"

const char *aglm_options_get(const aglm_options *opts, const char *key)
{
    if (!opts || !opts->items || !key)
        return NULL;
    /* Scan backwards: the last occurrence wins, so a later "key=value" overrides an earlier one. */
    for (size_t i = opts->count; i-- > 0;) {
        const aglm_kv *kv = &opts->items[i];
        if (kv->key && strcmp(kv->key, key) == 0)
            return kv->value;
    }
    return NULL;
}

int64_t aglm_options_get_int(const aglm_options *opts, const char *key, int64_t def)
{
    const char *s = aglm_options_get(opts, key);
    if (!s || !*s)
        return def;
    char *end;
    errno = 0;
    /* Base 10 on purpose: "threads=010" means ten, not octal eight. */
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || end == s || *end != '\0')
        return def;
    return (int64_t)v;
}

double aglm_options_get_float(const aglm_options *opts, const char *key, double def)
{
    const char *s = aglm_options_get(opts, key);
    if (!s || !*s)
        return def;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        return def;
    if (errno == ERANGE && isinf(v)) /* overflow; underflow to a tiny value is fine */
        return def;
    return v;
}

int aglm_options_get_bool(const aglm_options *opts, const char *key, int def)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    const char *s = aglm_options_get(opts, key);
    if (!s)
        return def;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return 1;
        if (strcasecmp(s, no[i]) == 0)
            return 0;
    }
    return def;
}
