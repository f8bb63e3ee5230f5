/* The admin socket's line protocol, client side. */
#include "admin_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int admin_connect(admin_conn *c, const char *path, int timeout_s)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = timeout_s};
    if (strlen(path) >= sizeof addr.sun_path ||
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static int fail(char **reply, const char *what)
{
    if (asprintf(reply, "connection: %s: %s", what, strerror(errno)) < 0)
        *reply = NULL;
    return -1;
}

/* Appends one line to the malloc'd text. */
static int append(char **text, size_t *len, const char *line, size_t n)
{
    char *grown = realloc(*text, *len + n + 2);
    if (!grown)
        return -1;
    memcpy(grown + *len, line, n);
    grown[*len + n] = '\n';
    grown[*len + n + 1] = '\0';
    *text = grown;
    *len += n + 1;
    return 0;
}

int admin_call(admin_conn *c, const char *cmd, char **reply)
{
    *reply = NULL;
    if (c->fd < 0) {
        errno = ENOTCONN;
        return fail(reply, "not connected");
    }
    size_t n = strlen(cmd);
    char line[4200];
    if (n + 2 > sizeof line) {
        errno = E2BIG;
        return fail(reply, "command");
    }
    memcpy(line, cmd, n);
    line[n++] = '\n';
    for (size_t done = 0; done < n;) {
        ssize_t w = send(c->fd, line + done, n - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return fail(reply, "send");
        done += (size_t)w;
    }
    char *text = NULL;
    size_t text_len = 0;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (!nl) {
            if (c->len == sizeof c->buf) {
                free(text);
                errno = EMSGSIZE;
                return fail(reply, "reply line too long");
            }
            ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                free(text);
                if (r == 0)
                    errno = ECONNRESET;
                return fail(reply, r == 0 ? "closed by the host" : "recv");
            }
            c->len += (size_t)r;
            continue;
        }
        size_t ln = (size_t)(nl - c->buf);
        int ok = ln == 2 && memcmp(c->buf, "OK", 2) == 0;
        int err = ln >= 3 && memcmp(c->buf, "ERR", 3) == 0;
        if (!ok && append(&text, &text_len, c->buf, ln) != 0) {
            free(text);
            return fail(reply, "out of memory");
        }
        memmove(c->buf, nl + 1, c->len - ln - 1);
        c->len -= ln + 1;
        if (ok || err) {
            *reply = text ? text : strdup("");
            return ok ? 1 : 0;
        }
    }
}

void admin_close(admin_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int admin_once(const char *path, const char *cmd, char **reply)
{
    admin_conn *c = malloc(sizeof *c);
    if (!c || admin_connect(c, path, 60) != 0) {
        free(c);
        return fail(reply, "connect");
    }
    int rc = admin_call(c, cmd, reply);
    admin_close(c);
    free(c);
    return rc;
}
