/* The service loop (service.h): the main thread waits on a pipe that the signal thread and the
 * shutdown command write one byte to, and does the work itself. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin_config.h"
#include "admin_server.h"
#include "log.h"
#include "lua_serve.h"
#include "reload.h"
#include "watch.h"

static int wake_pipe[2] = {-1, -1};

/* The signal thread: SIGTERM, SIGINT and SIGHUP are blocked in every thread (main blocks them
 * before it creates any) and taken here with sigwaitinfo, never by an asynchronous handler, so
 * no thread is interrupted in the middle of anything and a thread parked in a wait (which
 * ThreadSanitizer never interrupts) cannot sit on a signal. route_fd, when set, is the service's
 * pipe; otherwise the signal gets its default action (the process ends, as for any pipeline). */
static pthread_mutex_t route_lock = PTHREAD_MUTEX_INITIALIZER;
static int route_fd = -1;
static pthread_once_t signals_once = PTHREAD_ONCE_INIT;
static int signals_ok;
static int ignored_at_start[3]; /* SIGTERM, SIGINT, SIGHUP inherited as SIG_IGN (nohup, `cmd &`) */

static int slot_of(int sig)
{
    return sig == SIGTERM ? 0 : sig == SIGINT ? 1 : 2;
}

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

static void *signal_main(void *arg)
{
    (void)arg;
    sigset_t set;
    handled_set(&set);
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig < 0)
            continue;
        pthread_mutex_lock(&route_lock);
        int routed = route_fd >= 0;
        if (routed) {
            char c = sig == SIGHUP ? 'H' : sig == SIGINT ? 'I' : 'T';
            if (write(route_fd, &c, 1) < 0) {
                /* the pipe is full of wake-ups already; nothing is lost */
            }
        }
        pthread_mutex_unlock(&route_lock);
        if (routed || ignored_at_start[slot_of(sig)])
            continue; /* outside a service an inherited SIG_IGN holds, as it would unblocked */
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        signal(sig, SIG_DFL);
        pthread_sigmask(SIG_UNBLOCK, &one, NULL);
        pthread_kill(pthread_self(), sig); /* the default action: the process ends here */
    }
    return NULL;
}

static void start_signals(void)
{
    static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        struct sigaction sa;
        ignored_at_start[i] = sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
    }
    sigset_t set;
    handled_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    signals_ok = pthread_create(&t, &attr, signal_main, NULL) == 0;
    pthread_attr_destroy(&attr);
    if (!signals_ok)
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

void host_signals_init(void)
{
    pthread_once(&signals_once, start_signals);
}

static void route(int fd)
{
    pthread_mutex_lock(&route_lock);
    route_fd = fd;
    pthread_mutex_unlock(&route_lock);
}

static void request_shutdown(void *ctx)
{
    (void)ctx;
    char c = 'S';
    if (write(wake_pipe[1], &c, 1) < 0)
        host_log(AGLM_LOG_ERROR, NULL, "cannot wake the service loop: %s", strerror(errno));
}

static void reload(const host_service_options *o, host_watch *watch, pthread_mutex_t *config_lock)
{
    const char *path = *o->config ? (*o->config)->path : NULL;
    if (!path) {
        host_log(AGLM_LOG_WARN, NULL,
                 "SIGHUP: the host started without a configuration file; nothing to re-read");
        return;
    }
    host_log(AGLM_LOG_INFO, NULL, "SIGHUP: re-reading %s", path);
    pthread_mutex_lock(config_lock);
    aglm_status st = host_config_reload_watched(o->reg, watch, o->config, NULL);
    pthread_mutex_unlock(config_lock);
    if (st != AGLM_OK)
        host_log(AGLM_LOG_ERROR, NULL, "SIGHUP: %s (the running configuration is unchanged)",
                 aglm_last_error());
    else
        host_log(AGLM_LOG_INFO, NULL, "SIGHUP: configuration reloaded");
}

static host_watch *start_watch(const host_service_options *o)
{
    host_watch *w = host_watch_start(o->reg, *o->config);
    if (!w) {
        host_log(AGLM_LOG_WARN, NULL, "plugin folders are not watched: %s", aglm_last_error());
        return NULL;
    }
    for (size_t i = 0; i < o->num_watch_dirs; i++)
        if (host_watch_add_dir(w, o->watch_dirs[i]) != AGLM_OK)
            host_log(AGLM_LOG_WARN, NULL, "not watching '%s': %s", o->watch_dirs[i],
                     aglm_last_error());
    return w;
}

int host_service_run(const host_service_options *o)
{
    host_admin_config admin_cfg;
    const char *ini = *o->config ? (*o->config)->path : NULL;
    if (host_admin_config_read(ini, &admin_cfg) != AGLM_OK ||
        (o->admin_socket && *o->admin_socket &&
         host_admin_config_set_socket(&admin_cfg, o->admin_socket) != AGLM_OK)) {
        fprintf(stderr, "aglm-host: %s\n", aglm_last_error());
        return 1;
    }
    if (pipe2(wake_pipe, O_CLOEXEC) != 0) {
        fprintf(stderr, "aglm-host: cannot create the service's pipe: %s\n", strerror(errno));
        return 1;
    }
    host_signals_init();
    if (!signals_ok)
        host_log(AGLM_LOG_WARN, NULL,
                 "no signal thread: SIGTERM, SIGINT and SIGHUP keep their default action");
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe); /* a client gone mid-reply is an error, not a death */
    route(wake_pipe[1]);

    pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
    host_admin_context ctx = {
        .reg = o->reg,
        .served = o->served,
        .admin = &admin_cfg,
        .config = o->config,
        .config_lock = &config_lock,
        .plugin_dirs = o->plugin_dirs,
        .num_plugin_dirs = o->num_plugin_dirs,
        .shutdown = request_shutdown,
    };
    host_admin *admin = NULL;
    if (admin_cfg.socket[0] && host_admin_start(&ctx, &admin) != AGLM_OK) {
        fprintf(stderr, "aglm-host: %s\n", aglm_last_error());
        route(-1);
        sigaction(SIGPIPE, &old_pipe, NULL);
        close(wake_pipe[0]);
        close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
        return 1;
    }
    host_watch *watch = start_watch(o);
    host_lua_service_started();
    host_log(AGLM_LOG_INFO, NULL,
             "serving %zu model(s)%s%s; SIGTERM or shutdown stops, SIGHUP reloads",
             o->served ? host_served_count(o->served) : (size_t)0, admin ? " on " : "",
             admin ? host_admin_path(admin) : "");

    const char *why = NULL;
    while (!why) {
        char c;
        ssize_t n = read(wake_pipe[0], &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            why = "the service's pipe failed";
            break;
        }
        switch (c) {
        case 'H': reload(o, watch, &config_lock); break;
        case 'I': why = "SIGINT"; break;
        case 'S': why = "the shutdown command"; break;
        default: why = "SIGTERM"; break;
        }
    }
    host_log(AGLM_LOG_INFO, NULL, "%s: draining", why);
    host_admin_stop(admin); /* commands in flight finish and their replies go out */
    host_watch_stop(watch); /* the event in hand finishes */
    route(-1);
    sigaction(SIGPIPE, &old_pipe, NULL);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    wake_pipe[0] = wake_pipe[1] = -1;
    pthread_mutex_destroy(&config_lock);
    host_log(AGLM_LOG_INFO, NULL, "drained; exiting");
    return 0;
}
