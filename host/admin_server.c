/* The admin socket server (admin_server.h).
 *
 * Stopping: one byte written to a pipe that nobody reads makes its read end readable for good,
 * so every thread polling it (the acceptor and each client between commands) wakes and leaves;
 * a command already running finishes and its reply goes out first. */
#include "admin_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin_parse.h"
#include "admin_socket.h"
#include "log.h"

/* The line buffer holds one full line and its newline, plus one byte to see that it is longer. */
#define LINE_BUF (HOST_ADMIN_LINE_MAX + 2)

typedef struct client {
    struct host_admin *a;
    int fd;
    unsigned long id;
    pthread_t thread;
    int used;        /* under a->lock */
    atomic_int done; /* the thread has finished; join it */
} client;

struct host_admin {
    host_admin_context ctx;
    host_admin_config cfg; /* copied: ctx.admin points here */
    host_admin_socket sock;
    int stop_pipe[2];
    pthread_t acceptor;
    pthread_mutex_t lock;
    client *clients;
    int max_clients;
    unsigned long next_id;
};

static int stopping(const host_admin *a)
{
    struct pollfd p = {.fd = a->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* Sends all of buf; 0 when the client went away or did not read for the idle timeout (2 s once
 * the server is stopping, so a client that stopped reading cannot hold up a drain). */
static int send_all(host_admin *a, int fd, const char *buf, size_t len)
{
    int stop_seen = 0;
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p[2] = {{.fd = fd, .events = POLLOUT},
                                  {.fd = a->stop_pipe[0], .events = POLLIN}};
            int got = poll(p, stop_seen ? 1 : 2, stop_seen ? 2000 : a->cfg.idle_timeout_s * 1000);
            if (got > 0 && !stop_seen && (p[1].revents & POLLIN)) {
                stop_seen = 1;
                continue;
            }
            if (got > 0 || (got < 0 && errno == EINTR))
                continue;
        }
        return 0;
    }
    return 1;
}

static void send_line(host_admin *a, int fd, const char *line)
{
    send_all(a, fd, line, strlen(line));
}

/* Runs one line; 0 when the reply could not be sent (the client is gone). */
static int serve_line(client *c, const char *line, size_t len)
{
    host_admin_reply r = {0};
    host_admin_execute(&c->a->ctx, line, len, &r);
    int ok = r.buf ? send_all(c->a, c->fd, r.buf, r.len) : 0;
    if (!ok)
        host_log(AGLM_LOG_DEBUG, NULL, "admin: client %lu went away before its reply was sent",
                 c->id);
    host_admin_reply_free(&r);
    return ok;
}

static void *client_main(void *arg)
{
    client *c = arg;
    host_admin *a = c->a;
    char buf[LINE_BUF];
    size_t len = 0;
    for (;;) {
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            size_t line_len = (size_t)(nl - buf);
            if (!serve_line(c, buf, line_len))
                break;
            len -= line_len + 1;
            memmove(buf, nl + 1, len);
            if (stopping(a))
                break;
            continue;
        }
        if (len >= LINE_BUF - 1) {
            char msg[96];
            snprintf(msg, sizeof msg, "ERR line too long (more than %d bytes)\n",
                     HOST_ADMIN_LINE_MAX);
            send_line(a, c->fd, msg);
            host_log(AGLM_LOG_WARN, NULL,
                     "admin: client %lu sent a line over %d bytes; disconnected", c->id,
                     HOST_ADMIN_LINE_MAX);
            break;
        }
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                              {.fd = a->stop_pipe[0], .events = POLLIN}};
        int n = poll(p, 2, a->cfg.idle_timeout_s * 1000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            char msg[64];
            snprintf(msg, sizeof msg, "ERR idle timeout (%d s)\n", a->cfg.idle_timeout_s);
            send_line(a, c->fd, msg);
            host_log(AGLM_LOG_INFO, NULL, "admin: client %lu idle for %d s; disconnected", c->id,
                     a->cfg.idle_timeout_s);
            break;
        }
        if (n < 0 || (p[1].revents & POLLIN))
            break;
        ssize_t got = read(c->fd, buf + len, LINE_BUF - 1 - len);
        if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (got <= 0) {
            if (got == 0 && len > 0) /* a last line without its newline */
                serve_line(c, buf, len);
            break;
        }
        len += (size_t)got;
    }
    host_log(AGLM_LOG_DEBUG, NULL, "admin: client %lu disconnected", c->id);
    /* done first: a client that reconnects as soon as it sees the close finds its slot free */
    int fd = c->fd;
    atomic_store(&c->done, 1);
    close(fd);
    return NULL;
}

static void reap(host_admin *a, int all)
{
    for (int i = 0; i < a->max_clients; i++) {
        client *c = &a->clients[i];
        pthread_mutex_lock(&a->lock);
        int used = c->used;
        pthread_mutex_unlock(&a->lock);
        if (!used || (!all && !atomic_load(&c->done)))
            continue;
        pthread_join(c->thread, NULL);
        pthread_mutex_lock(&a->lock);
        c->used = 0;
        pthread_mutex_unlock(&a->lock);
    }
}

static int peer_allowed(host_admin *a, int fd, uid_t *uid)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return 0;
    *uid = cred.uid;
    if (cred.uid == geteuid())
        return 1;
    for (size_t i = 0; i < a->cfg.num_allow_uids; i++)
        if (a->cfg.allow_uids[i] == cred.uid)
            return 1;
    return 0;
}

static void take_client(host_admin *a, int fd)
{
    uid_t uid = (uid_t)-1;
    if (!peer_allowed(a, fd, &uid)) {
        char msg[96];
        snprintf(msg, sizeof msg, "ERR permission denied: uid %d may not use this socket\n",
                 (int)uid);
        send_line(a, fd, msg);
        host_log(AGLM_LOG_WARN, NULL,
                 "admin: refused a client of uid %d (not the host's, not in allow_uids)", (int)uid);
        close(fd);
        return;
    }
    reap(a, 0);
    client *c = NULL;
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < a->max_clients && !c; i++)
        if (!a->clients[i].used)
            c = &a->clients[i];
    if (c) {
        c->used = 1;
        c->fd = fd;
        c->id = ++a->next_id;
        atomic_store(&c->done, 0);
    }
    pthread_mutex_unlock(&a->lock);
    if (!c) {
        char msg[64];
        snprintf(msg, sizeof msg, "ERR too many clients (at most %d)\n", a->max_clients);
        send_line(a, fd, msg);
        host_log(AGLM_LOG_WARN, NULL, "admin: refused a client: %d already connected",
                 a->max_clients);
        close(fd);
        return;
    }
    host_log(AGLM_LOG_DEBUG, NULL, "admin: client %lu connected (uid %d)", c->id, (int)uid);
    int err = pthread_create(&c->thread, NULL, client_main, c);
    if (err != 0) {
        send_line(a, fd, "ERR cannot start a thread for this client\n");
        host_log(AGLM_LOG_ERROR, NULL, "admin: cannot start a client thread: %s", strerror(err));
        close(fd);
        pthread_mutex_lock(&a->lock);
        c->used = 0;
        pthread_mutex_unlock(&a->lock);
        return;
    }
}

static void *acceptor_main(void *arg)
{
    host_admin *a = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = a->sock.fd, .events = POLLIN},
                              {.fd = a->stop_pipe[0], .events = POLLIN}};
        int n = poll(p, 2, 1000);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (p[1].revents & POLLIN))
            break;
        reap(a, 0);
        if (n <= 0 || !(p[0].revents & POLLIN))
            continue;
        int fd = accept4(a->sock.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
                host_log(AGLM_LOG_WARN, NULL, "admin: accept: %s", strerror(errno));
                usleep(100 * 1000); /* the connection waits in the backlog; do not spin */
            }
            continue;
        }
        take_client(a, fd);
    }
    return NULL;
}

aglm_status host_admin_start(const host_admin_context *ctx, host_admin **out)
{
    *out = NULL;
    if (!ctx || !ctx->admin || !ctx->admin->socket[0])
        return aglm_error(AGLM_ERR_INVALID, "admin: no socket path configured");
    host_admin *a = calloc(1, sizeof *a);
    if (!a)
        return aglm_error(AGLM_ERR_NOMEM, "admin: out of memory");
    a->cfg = *ctx->admin;
    a->ctx = *ctx;
    a->ctx.admin = &a->cfg;
    a->max_clients = a->cfg.max_clients > 0 ? a->cfg.max_clients : 1;
    if (a->cfg.idle_timeout_s <= 0)
        a->cfg.idle_timeout_s = 60;
    a->clients = calloc((size_t)a->max_clients, sizeof *a->clients);
    if (!a->clients) {
        free(a);
        return aglm_error(AGLM_ERR_NOMEM, "admin: out of memory");
    }
    for (int i = 0; i < a->max_clients; i++)
        a->clients[i].a = a;
    if (pipe2(a->stop_pipe, O_CLOEXEC) != 0) {
        free(a->clients);
        free(a);
        return aglm_error(AGLM_ERR_IO, "admin: pipe: %s", strerror(errno));
    }
    aglm_status st = host_admin_socket_open(a->cfg.socket, &a->sock);
    if (st != AGLM_OK)
        goto fail;
    pthread_mutex_init(&a->lock, NULL);
    int err = pthread_create(&a->acceptor, NULL, acceptor_main, a);
    if (err != 0) {
        pthread_mutex_destroy(&a->lock);
        host_admin_socket_close(&a->sock);
        st = aglm_error(AGLM_ERR_INTERNAL, "admin: cannot start the accepting thread: %s",
                        strerror(err));
        goto fail;
    }
    if (strcmp(a->sock.real, a->sock.path) != 0)
        host_log(AGLM_LOG_INFO, NULL, "admin socket %s (a link to %s: its folder is not private)",
                 a->sock.path, a->sock.real);
    else
        host_log(AGLM_LOG_INFO, NULL, "admin socket %s", a->sock.path);
    *out = a;
    return AGLM_OK;
fail:
    close(a->stop_pipe[0]);
    close(a->stop_pipe[1]);
    free(a->clients);
    free(a);
    return st;
}

const char *host_admin_path(const host_admin *a)
{
    return a ? a->sock.path : NULL;
}

void host_admin_stop(host_admin *a)
{
    if (!a)
        return;
    if (write(a->stop_pipe[1], "x", 1) != 1)
        host_log(AGLM_LOG_ERROR, NULL, "admin: cannot signal the threads to stop: %s",
                 strerror(errno));
    pthread_join(a->acceptor, NULL);
    host_admin_socket_close(&a->sock);
    reap(a, 1);
    pthread_mutex_destroy(&a->lock);
    close(a->stop_pipe[0]);
    close(a->stop_pipe[1]);
    free(a->clients);
    free(a);
}
