/* Admin replies built in memory (admin_reply.c): commands append lines, the server sends the
 * whole reply once the command is done. */
#ifndef AGLM_HOST_ADMIN_REPLY_H
#define AGLM_HOST_ADMIN_REPLY_H

#include <stddef.h>

/* A reply being built; lines end with '\n'. */
typedef struct host_admin_reply {
    char *buf;
    size_t len, cap;
    int oom; /* an append failed: the reply ends "ERR out of memory" */
} host_admin_reply;

/* Appends one printf-style line. */
void host_admin_reply_line(host_admin_reply *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends text as lines (a missing final newline is added). */
void host_admin_reply_text(host_admin_reply *r, const char *text, size_t len);
/* Appends "ERR <msg>" with newlines and control characters of msg turned into spaces. */
void host_admin_reply_err(host_admin_reply *r, const char *msg);
/* Frees the buffer; r may be reused after. */
void host_admin_reply_free(host_admin_reply *r);

#endif
