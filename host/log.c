/* The host's log. Each line is formatted whole and written with one stdio call, so lines from
 * several threads never interleave (stdio locks the stream per call). */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static _Atomic int log_threshold = AGLM_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void host_log_set_level(aglm_log_level level)
{
    int lv = (int)level;
    lv = lv < AGLM_LOG_ERROR ? AGLM_LOG_ERROR : lv > AGLM_LOG_TRACE ? AGLM_LOG_TRACE : lv;
    atomic_store(&log_threshold, lv);
}

aglm_log_level host_log_level(void)
{
    return (aglm_log_level)atomic_load(&log_threshold);
}

int host_log_parse_level(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i <= AGLM_LOG_TRACE; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return AGLM_LOG_WARN;
    return -1;
}

void host_logv(aglm_log_level level, const char *who, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&log_threshold))
        return;
    int lv = (int)level;
    lv = lv < AGLM_LOG_ERROR ? AGLM_LOG_ERROR : lv > AGLM_LOG_TRACE ? AGLM_LOG_TRACE : lv;

    char stack[1024];
    char *big = NULL;
    const char *msg = stack;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(stack, sizeof stack, fmt, copy);
    va_end(copy);
    if (n < 0) {
        msg = "(unformattable log message)";
    } else if ((size_t)n >= sizeof stack && (big = malloc((size_t)n + 1)) != NULL) {
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        msg = big; /* without memory the line is truncated, never lost */
    }
    if (who && *who)
        fprintf(stderr, "aglm: %s: [%s] %s\n", level_names[lv], who, msg);
    else
        fprintf(stderr, "aglm: %s: %s\n", level_names[lv], msg);
    free(big);
}

void host_log(aglm_log_level level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_logv(level, who, fmt, ap);
    va_end(ap);
}
