/* The host's log: lines to stderr, "aglm: LEVEL: [plugin] message", filtered by level.
 * Thread-safe; the level can change at run time. */
#ifndef AGLM_HOST_LOG_H
#define AGLM_HOST_LOG_H

#include <stdarg.h>
#include "aglm/plugin.h"

/* Sets the threshold: lines above it are dropped. */
void host_log_set_level(aglm_log_level level);
aglm_log_level host_log_level(void);
/* Parses "error", "warn", "info", "debug", "trace"; -1 if unknown. */
int host_log_parse_level(const char *name);
/* Logs one line; `who` (may be NULL) names the plugin. */
void host_log(aglm_log_level level, const char *who, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void host_logv(aglm_log_level level, const char *who, const char *fmt, va_list ap);

#endif
