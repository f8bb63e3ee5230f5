/* ONNX strings (length-counted slices of the input) next to C strings. */
#include "onnx_frontend.h"

#include <stdlib.h>
#include <string.h>

int ox_str_eq(ox_str s, const char *c)
{
    size_t n = strlen(c);
    return s.n == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

int ox_str_same(ox_str a, ox_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

aglm_status ox_cstr(ox_str s, const char *what, char **out)
{
    *out = NULL;
    if (s.n && memchr(s.p, 0, s.n))
        return aglm_error(AGLM_ERR_PARSE, "%s '%.*s' contains a NUL byte", what, OX_FMT(s));
    char *c = malloc(s.n + 1);
    if (!c)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory copying %s", what);
    if (s.n)
        memcpy(c, s.p, s.n);
    c[s.n] = '\0';
    *out = c;
    return AGLM_OK;
}
