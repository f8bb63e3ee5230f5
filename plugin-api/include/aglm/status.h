/* Status codes and the thread-local error message.
 *
 * Every libaglm and plugin function that can fail returns an aglm_status and, on failure,
 * leaves a human-readable message in a per-thread buffer read by aglm_last_error(), the way
 * dlerror() and sqlite3_errmsg() work. Nothing aborts on bad input. */
#ifndef AGLM_STATUS_H
#define AGLM_STATUS_H

#include "aglm/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aglm_status {
    AGLM_OK = 0,
    AGLM_ERR_INVALID = 1,     /* bad argument or malformed input */
    AGLM_ERR_NOMEM = 2,       /* allocation failed */
    AGLM_ERR_IO = 3,          /* file or socket I/O failed */
    AGLM_ERR_PARSE = 4,       /* a file or text could not be parsed */
    AGLM_ERR_UNSUPPORTED = 5, /* op, dtype or feature not supported */
    AGLM_ERR_SHAPE = 6,       /* shapes disagree */
    AGLM_ERR_TYPE = 7,        /* dtypes disagree */
    AGLM_ERR_NOT_FOUND = 8,   /* a named thing does not exist */
    AGLM_ERR_EXISTS = 9,      /* a named thing already exists */
    AGLM_ERR_ABI = 10,        /* plugin ABI mismatch */
    AGLM_ERR_STATE = 11,      /* operation not allowed in the current state */
    AGLM_ERR_INTERNAL = 12    /* a bug: an invariant did not hold */
} aglm_status;

/* The message of the last failure on this thread ("" if none). Valid until the next call that
 * sets an error on this thread. */
AGLM_API const char *aglm_last_error(void);

/* Sets this thread's message (printf-style) and returns st, so `return aglm_error(...)` works. */
AGLM_API aglm_status aglm_error(aglm_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes this thread's current message with "prefix: " (printf-style) and returns st; used to
 * add context ("model.yaml: node 3") as an error travels up. */
AGLM_API aglm_status aglm_error_wrap(aglm_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clears this thread's message. */
AGLM_API void aglm_clear_error(void);

/* A short constant name for a status ("ok", "invalid argument", ...). */
AGLM_API const char *aglm_status_str(aglm_status st);

#ifdef __cplusplus
}
#endif
#endif
