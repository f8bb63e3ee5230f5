/* Status codes and the per-thread error message (the dlerror()/sqlite3_errmsg() model). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aglm/status.h"

#define MSG_CAP 2048

static _Thread_local char msg[MSG_CAP];

/* Cuts a truncated message back to a UTF-8 character boundary, so a message that overflowed the
 * buffer never ends in half a character. */
static void trim_utf8(char *s, size_t len)
{
    size_t end = len;
    while (end > 0 && ((unsigned char)s[end - 1] & 0xC0) == 0x80)
        end--;
    if (end > 0 && ((unsigned char)s[end - 1] & 0x80)) {
        unsigned char lead = (unsigned char)s[end - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (len - (end - 1) < need)
            len = end - 1;
    }
    s[len] = '\0';
}

/* Formats into `out` (MSG_CAP bytes). The arguments may point into `msg` itself (a caller may
 * pass aglm_last_error()), so callers format into a scratch buffer and copy afterwards. */
static void format_into(char *out, const char *fmt, va_list ap)
{
    int n = vsnprintf(out, MSG_CAP, fmt ? fmt : "", ap);
    if (n < 0)
        out[0] = '\0';
    else if ((size_t)n >= MSG_CAP)
        trim_utf8(out, MSG_CAP - 1);
}

const char *aglm_last_error(void)
{
    return msg;
}

aglm_status aglm_error(aglm_status st, const char *fmt, ...)
{
    char tmp[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    format_into(tmp, fmt, ap);
    va_end(ap);
    memcpy(msg, tmp, strlen(tmp) + 1);
    return st;
}

aglm_status aglm_error_wrap(aglm_status st, const char *fmt, ...)
{
    char prefix[MSG_CAP];
    char tmp[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    format_into(prefix, fmt, ap);
    va_end(ap);
    if (msg[0] == '\0') {
        memcpy(msg, prefix, strlen(prefix) + 1);
        return st;
    }
    int n = snprintf(tmp, sizeof tmp, "%s: %s", prefix, msg);
    if (n < 0)
        return st;
    if ((size_t)n >= sizeof tmp)
        trim_utf8(tmp, sizeof tmp - 1);
    memcpy(msg, tmp, strlen(tmp) + 1);
    return st;
}

void aglm_clear_error(void)
{
    msg[0] = '\0';
}

const char *aglm_status_str(aglm_status st)
{
    switch (st) {
    case AGLM_OK: return "ok";
    case AGLM_ERR_INVALID: return "invalid argument";
    case AGLM_ERR_NOMEM: return "out of memory";
    case AGLM_ERR_IO: return "i/o error";
    case AGLM_ERR_PARSE: return "parse error";
    case AGLM_ERR_UNSUPPORTED: return "unsupported";
    case AGLM_ERR_SHAPE: return "shape mismatch";
    case AGLM_ERR_TYPE: return "type mismatch";
    case AGLM_ERR_NOT_FOUND: return "not found";
    case AGLM_ERR_EXISTS: return "already exists";
    case AGLM_ERR_ABI: return "abi mismatch";
    case AGLM_ERR_STATE: return "wrong state";
    case AGLM_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
