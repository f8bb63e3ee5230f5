/* Building admin replies in memory, so a command never waits on a slow client while it holds
 * anything, and a client that goes away mid-reply costs nothing but the send. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_reply.h"

static int reserve(host_admin_reply *r, size_t more)
{
    if (r->oom)
        return 0;
    if (r->len + more + 1 <= r->cap)
        return 1;
    size_t cap = r->cap ? r->cap : 256;
    while (cap < r->len + more + 1)
        cap *= 2;
    char *grown = realloc(r->buf, cap);
    if (!grown) {
        r->oom = 1;
        return 0;
    }
    r->buf = grown;
    r->cap = cap;
    return 1;
}

void host_admin_reply_text(host_admin_reply *r, const char *text, size_t len)
{
    if (len == 0 || !reserve(r, len + 1))
        return;
    memcpy(r->buf + r->len, text, len);
    r->len += len;
    if (text[len - 1] != '\n')
        r->buf[r->len++] = '\n';
    r->buf[r->len] = '\0';
}

void host_admin_reply_line(host_admin_reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(r, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(r->buf + r->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->len += (size_t)n;
    r->buf[r->len++] = '\n';
    r->buf[r->len] = '\0';
}

void host_admin_reply_err(host_admin_reply *r, const char *msg)
{
    if (!msg || !*msg)
        msg = "failed";
    size_t n = strlen(msg);
    if (!reserve(r, n + 5))
        return;
    char *p = r->buf + r->len;
    memcpy(p, "ERR ", 4);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)msg[i];
        p[4 + i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    r->len += n + 4;
    r->buf[r->len++] = '\n';
    r->buf[r->len] = '\0';
}

void host_admin_reply_free(host_admin_reply *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}
