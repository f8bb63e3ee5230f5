/* The plugin directory watcher: one thread, one inotify descriptor and an eventfd that wakes it
 * to stop.
 *
 * Before anything changes, the file is opened through the loader into the watcher's own private
 * folder ("peeked"): that validates it the way a load would and tells its plugin name, which
 * decides between load and replace. The registry is only reached through its public functions, so
 * the watcher never holds the registry lock itself; its own lock guards only its folder table and
 * settings and is never held across a registry call. */
#include "watch.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "private_dir.h"

#define WATCH_MASK                                                                                 \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF |    \
     IN_ONLYDIR)

typedef struct watched_dir {
    int wd;
    char *path;      /* as given: plugins loaded from it are recorded under this spelling */
    char *real;      /* its real path when it was added */
    int from_config; /* host_watch_apply_config may drop it; host_watch_add_dir's stay */
} watched_dir;

struct host_watch {
    host_registry *reg;
    int ifd;
    int wake;
    atomic_int stopping;
    pthread_t thread;
    pthread_mutex_t lock; /* dirs, cfg, unload_on_remove */
    watched_dir *dirs;
    size_t num_dirs;
    const host_config *cfg;
    int unload_on_remove;
    char *peek_dir; /* peeked copies live here for a moment */
    int peek_lock;
    unsigned peek_seq; /* the watcher thread's only */
};

/* ---- settings ------------------------------------------------------------------------------- */

static int parse_unload_on_remove(const host_config *cfg)
{
    const char *v = host_config_get(cfg, "unload_on_remove");
    if (!v)
        return 0;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        return 1;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0"))
        return 0;
    host_log(AGLM_LOG_WARN, NULL,
             "watch: [host] unload_on_remove = '%s' is not true or false; taken as false", v);
    return 0;
}

static int section_disabled(const host_section *s)
{
    const char *v = host_section_get(s, "enabled");
    return v && (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
                 !strcmp(v, "0"));
}

/* ---- the folder table (under w->lock) ------------------------------------------------------- */

static watched_dir *dir_by_wd(host_watch *w, int wd)
{
    for (size_t i = 0; i < w->num_dirs; i++)
        if (w->dirs[i].wd == wd)
            return &w->dirs[i];
    return NULL;
}

static void drop_dir(host_watch *w, watched_dir *d)
{
    free(d->path);
    free(d->real);
    *d = w->dirs[--w->num_dirs];
}

static aglm_status add_dir_locked(host_watch *w, const char *dir, int from_config)
{
    char *real = realpath(dir, NULL);
    if (!real)
        return aglm_error(errno == ENOENT ? AGLM_ERR_NOT_FOUND : AGLM_ERR_IO,
                          "plugin dir %s: cannot watch: %s", dir, strerror(errno));
    for (size_t i = 0; i < w->num_dirs; i++) {
        if (strcmp(w->dirs[i].real, real) == 0) {
            w->dirs[i].from_config |= from_config;
            free(real);
            return AGLM_OK;
        }
    }
    int wd = inotify_add_watch(w->ifd, real, WATCH_MASK);
    if (wd < 0) {
        aglm_status st =
            aglm_error(AGLM_ERR_IO, "plugin dir %s: cannot watch: %s", dir, strerror(errno));
        free(real);
        return st;
    }
    /* the same folder under another name (a bind mount) hands back a watch we have */
    for (size_t i = 0; i < w->num_dirs; i++) {
        if (w->dirs[i].wd == wd) {
            free(real);
            return AGLM_OK;
        }
    }
    watched_dir *grown = realloc(w->dirs, (w->num_dirs + 1) * sizeof *grown);
    char *path = strdup(dir);
    if (!grown || !path) {
        if (grown)
            w->dirs = grown;
        free(path);
        free(real);
        inotify_rm_watch(w->ifd, wd);
        return aglm_error(AGLM_ERR_NOMEM, "plugin dir %s: out of memory", dir);
    }
    w->dirs = grown;
    grown[w->num_dirs++] =
        (watched_dir){.wd = wd, .path = path, .real = real, .from_config = from_config};
    host_log(AGLM_LOG_INFO, NULL, "watch: watching plugin dir %s", dir);
    return AGLM_OK;
}

/* ---- registry look-ups ------------------------------------------------------------------------
 */

/* The generation of the started plugin `name`, 0 when none. Uses the listing rather than acquire,
 * which would overwrite the thread's error message with "no plugin". */
static unsigned started_generation(host_registry *reg, const char *name)
{
    host_plugin_info *rows;
    size_t n;
    unsigned gen = 0;
    if (host_registry_list(reg, &rows, &n) != AGLM_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].state == HOST_PLUGIN_STARTED && strcmp(rows[i].name, name) == 0)
            gen = rows[i].generation;
    free(rows);
    return gen;
}

/* The started plugin loaded from DIR_REAL/BASE (the file is gone: only its folder can be resolved).
 */
static int loaded_from(host_registry *reg, const char *dir_real, const char *base, char name[64])
{
    host_plugin_info *rows;
    size_t n;
    int found = 0;
    if (host_registry_list(reg, &rows, &n) != AGLM_OK)
        return 0;
    for (size_t i = 0; i < n && !found; i++) {
        if (rows[i].state != HOST_PLUGIN_STARTED)
            continue;
        char *slash = strrchr(rows[i].file, '/');
        const char *row_base = slash ? slash + 1 : rows[i].file;
        if (strcmp(row_base, base) != 0)
            continue;
        if (slash)
            *slash = '\0';
        char *real = realpath(slash ? (slash == rows[i].file ? "/" : rows[i].file) : ".", NULL);
        if (real && strcmp(real, dir_real) == 0) {
            snprintf(name, 64, "%s", rows[i].name);
            found = 1;
        }
        free(real);
    }
    free(rows);
    return found;
}

/* ---- events ------------------------------------------------------------------------------------
 */

/* Opens the file as a load would, in the watcher's folder, and unmaps it again: a file that would
 * not load is refused here, before the registry sees it. */
static aglm_status peek(host_watch *w, const char *path, char name[64])
{
    host_loaded l;
    aglm_status st = host_loader_open(path, w->peek_dir, ++w->peek_seq, &l);
    if (st != AGLM_OK)
        return st;
    snprintf(name, 64, "%s", l.desc->name);
    host_loader_close(&l);
    return AGLM_OK;
}

static void arrived(host_watch *w, const char *path, const char *event)
{
    char name[64], msg[1024];
    if (peek(w, path, name) != AGLM_OK) {
        host_log(AGLM_LOG_WARN, NULL, "watch: %s %s: not loaded: %s", path, event,
                 aglm_last_error());
        return;
    }
    pthread_mutex_lock(&w->lock);
    int disabled = section_disabled(host_config_plugin(w->cfg, name));
    pthread_mutex_unlock(&w->lock);
    if (disabled) {
        host_log(AGLM_LOG_INFO, NULL,
                 "watch: %s %s: plugin '%s' is disabled in the config, not loaded", path, event,
                 name);
        return;
    }
    /* Another loader (the admin socket, a script) may race us: retry once the other way round. */
    int replacing = started_generation(w->reg, name) != 0;
    aglm_status st = AGLM_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (replacing) {
            st = host_registry_replace(w->reg, name, path);
            if (st == AGLM_OK) {
                host_log(AGLM_LOG_INFO, NULL,
                         "watch: %s %s: replaced plugin '%s', generation %u serves", path, event,
                         name, started_generation(w->reg, name));
                return;
            }
            snprintf(msg, sizeof msg, "%s", aglm_last_error());
            if ((st != AGLM_ERR_NOT_FOUND && st != AGLM_ERR_STATE) ||
                started_generation(w->reg, name))
                break;
            replacing = 0; /* unloaded meanwhile: load it instead */
        } else {
            st = host_registry_load(w->reg, path, NULL);
            if (st == AGLM_OK) {
                host_log(AGLM_LOG_INFO, NULL, "watch: %s %s: loaded plugin '%s', generation %u",
                         path, event, name, started_generation(w->reg, name));
                return;
            }
            snprintf(msg, sizeof msg, "%s", aglm_last_error());
            if (st != AGLM_ERR_EXISTS)
                break;
            replacing = 1; /* loaded meanwhile: replace it */
        }
    }
    if (replacing)
        host_log(AGLM_LOG_WARN, NULL,
                 "watch: %s %s: replace of '%s' refused, the old version keeps serving: %s", path,
                 event, name, msg);
    else
        host_log(AGLM_LOG_WARN, NULL, "watch: %s %s: load refused: %s", path, event, msg);
}

static void removed(host_watch *w, const char *dir_real, const char *path, const char *base,
                    const char *event)
{
    char name[64];
    if (!loaded_from(w->reg, dir_real, base, name)) {
        host_log(AGLM_LOG_INFO, NULL, "watch: %s %s: no started plugin was loaded from it", path,
                 event);
        return;
    }
    pthread_mutex_lock(&w->lock);
    int unload = w->unload_on_remove;
    pthread_mutex_unlock(&w->lock);
    if (!unload) {
        host_log(AGLM_LOG_INFO, NULL,
                 "watch: %s %s: plugin '%s' stays loaded ([host] unload_on_remove is false)", path,
                 event, name);
        return;
    }
    int deferred = 0;
    if (host_registry_unload(w->reg, name, &deferred) != AGLM_OK)
        host_log(AGLM_LOG_WARN, NULL, "watch: %s %s: unload of '%s' refused: %s", path, event, name,
                 aglm_last_error());
    else
        host_log(AGLM_LOG_INFO, NULL, "watch: %s %s: plugin '%s' unloaded%s", path, event, name,
                 deferred ? " (draining: references are still held)" : "");
}

static int is_plugin_file(const struct inotify_event *ev)
{
    size_t n = ev->len ? strlen(ev->name) : 0;
    return n > 3 && ev->name[0] != '.' && strcmp(ev->name + n - 3, ".so") == 0;
}

/* 1 if a plugin file of the batch after `from` arrives under `cookie`: a rename within watched
 * folders, which the arrival handles (by replace) without unloading first. */
static int renamed_within(const char *buf, size_t len, size_t from, uint32_t cookie)
{
    for (size_t off = from; off + sizeof(struct inotify_event) <= len;) {
        const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
        if ((ev->mask & IN_MOVED_TO) && ev->cookie == cookie && is_plugin_file(ev))
            return 1;
        off += sizeof *ev + ev->len;
    }
    return 0;
}

/* The folder an event belongs to, copied out so no lock is held while it is handled. */
static int dir_of_event(host_watch *w, const struct inotify_event *ev, char *path, char *real,
                        size_t n)
{
    pthread_mutex_lock(&w->lock);
    watched_dir *d = dir_by_wd(w, ev->wd);
    if (d) {
        snprintf(path, n, "%s", d->path);
        snprintf(real, n, "%s", d->real);
    }
    pthread_mutex_unlock(&w->lock);
    return d != NULL;
}

static void folder_gone(host_watch *w, const struct inotify_event *ev)
{
    pthread_mutex_lock(&w->lock);
    watched_dir *d = dir_by_wd(w, ev->wd);
    if (d && !(ev->mask & IN_IGNORED)) {
        host_log(AGLM_LOG_WARN, NULL,
                 "watch: plugin dir %s was %s; no longer watched (its plugins stay loaded)",
                 d->path, (ev->mask & IN_DELETE_SELF) ? "deleted" : "moved");
        inotify_rm_watch(w->ifd, ev->wd);
    }
    if (d)
        drop_dir(w, d);
    pthread_mutex_unlock(&w->lock);
}

static void handle_batch(host_watch *w, const char *buf, size_t len)
{
    char dir[PATH_MAX], real[PATH_MAX], path[PATH_MAX + 256];
    for (size_t off = 0; off + sizeof(struct inotify_event) <= len && !atomic_load(&w->stopping);) {
        const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
        off += sizeof *ev + ev->len;
        if (ev->mask & IN_Q_OVERFLOW) {
            host_log(AGLM_LOG_WARN, NULL,
                     "watch: inotify queue overflowed; plugin file changes were missed");
            continue;
        }
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
            folder_gone(w, ev);
            continue;
        }
        if (!dir_of_event(w, ev, dir, real, sizeof dir) || !ev->len)
            continue;
        if (!is_plugin_file(ev)) {
            host_log(AGLM_LOG_DEBUG, NULL, "watch: %s/%s ignored (hidden, or not *.so)", dir,
                     ev->name);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, ev->name);
        if (ev->mask & IN_CLOSE_WRITE)
            arrived(w, path, "written");
        else if (ev->mask & IN_MOVED_TO)
            arrived(w, path, "renamed in");
        else if ((ev->mask & IN_MOVED_FROM) && renamed_within(buf, len, off, ev->cookie))
            host_log(AGLM_LOG_INFO, NULL,
                     "watch: %s renamed within the plugin dirs: its new name decides", path);
        else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
            removed(w, real, path, ev->name, (ev->mask & IN_DELETE) ? "deleted" : "renamed away");
    }
}

static void *watch_main(void *arg)
{
    host_watch *w = arg;
    _Alignas(struct inotify_event) char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
    while (!atomic_load(&w->stopping)) {
        struct pollfd p[2] = {{.fd = w->wake, .events = POLLIN}, {.fd = w->ifd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            host_log(AGLM_LOG_WARN, NULL,
                     "watch: poll failed: %s; plugin dirs are no longer watched", strerror(errno));
            break;
        }
        if (p[0].revents)
            break;
        if (!(p[1].revents & POLLIN))
            continue;
        ssize_t n = read(w->ifd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            host_log(AGLM_LOG_WARN, NULL,
                     "watch: read failed: %s; plugin dirs are no longer watched", strerror(errno));
            break;
        }
        handle_batch(w, buf, (size_t)n);
    }
    return NULL;
}

/* ---- public ------------------------------------------------------------------------------------
 */

static void free_watch(host_watch *w)
{
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->wake >= 0)
        close(w->wake);
    for (size_t i = 0; i < w->num_dirs; i++) {
        free(w->dirs[i].path);
        free(w->dirs[i].real);
    }
    free(w->dirs);
    if (w->peek_dir) {
        close(w->peek_lock);
        host_private_dir_remove(w->peek_dir);
        free(w->peek_dir);
    }
    pthread_mutex_destroy(&w->lock);
    free(w);
}

host_watch *host_watch_start(host_registry *reg, const host_config *cfg)
{
    if (!reg || !cfg) {
        aglm_error(AGLM_ERR_INVALID, "host_watch_start: NULL argument");
        return NULL;
    }
    host_watch *w = calloc(1, sizeof *w);
    if (!w) {
        aglm_error(AGLM_ERR_NOMEM, "out of memory starting the plugin dir watcher");
        return NULL;
    }
    w->ifd = w->wake = -1;
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        aglm_error(AGLM_ERR_INTERNAL, "cannot create the plugin dir watcher's mutex");
        return NULL;
    }
    w->reg = reg;
    w->cfg = cfg;
    w->unload_on_remove = parse_unload_on_remove(cfg);
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->ifd < 0 || w->wake < 0) {
        aglm_error(AGLM_ERR_IO, "cannot start the plugin dir watcher: %s", strerror(errno));
        free_watch(w);
        return NULL;
    }
    if (host_private_dir_make(&w->peek_dir, &w->peek_lock) != AGLM_OK) {
        free_watch(w);
        return NULL;
    }
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < cfg->num_plugin_dirs; i++)
        if (add_dir_locked(w, cfg->plugin_dirs[i], 1) != AGLM_OK)
            host_log(AGLM_LOG_WARN, NULL, "watch: %s", aglm_last_error());
    pthread_mutex_unlock(&w->lock);

    /* Signals are the service loop's business: the watcher thread takes none of them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, watch_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        aglm_error(AGLM_ERR_INTERNAL, "cannot start the plugin dir watcher's thread: %s",
                   strerror(rc));
        free_watch(w);
        return NULL;
    }
    return w;
}

aglm_status host_watch_add_dir(host_watch *w, const char *dir)
{
    if (!w || !dir)
        return aglm_error(AGLM_ERR_INVALID, "host_watch_add_dir: NULL argument");
    pthread_mutex_lock(&w->lock);
    aglm_status st = add_dir_locked(w, dir, 0);
    pthread_mutex_unlock(&w->lock);
    return st;
}

static int listed(const host_config *cfg, const char *real)
{
    int found = 0;
    for (size_t i = 0; i < cfg->num_plugin_dirs && !found; i++) {
        char *r = realpath(cfg->plugin_dirs[i], NULL);
        found = r && strcmp(r, real) == 0;
        free(r);
    }
    return found;
}

aglm_status host_watch_apply_config(host_watch *w, const host_config *cfg)
{
    if (!w || !cfg)
        return aglm_error(AGLM_ERR_INVALID, "host_watch_apply_config: NULL argument");
    int unload = parse_unload_on_remove(cfg);
    aglm_status st = AGLM_OK;
    pthread_mutex_lock(&w->lock);
    w->cfg = cfg;
    if (unload != w->unload_on_remove)
        host_log(AGLM_LOG_INFO, NULL, "watch: unload_on_remove is now %s",
                 unload ? "true" : "false");
    w->unload_on_remove = unload;
    for (size_t i = 0; i < w->num_dirs;) {
        watched_dir *d = &w->dirs[i];
        if (d->from_config && !listed(cfg, d->real)) {
            host_log(AGLM_LOG_INFO, NULL,
                     "watch: plugin dir %s is no longer configured; not watched (its plugins "
                     "stay loaded)",
                     d->path);
            inotify_rm_watch(w->ifd, d->wd);
            drop_dir(w, d);
        } else {
            i++;
        }
    }
    for (size_t i = 0; i < cfg->num_plugin_dirs; i++) {
        aglm_status one = add_dir_locked(w, cfg->plugin_dirs[i], 1);
        if (one != AGLM_OK) {
            host_log(AGLM_LOG_WARN, NULL, "watch: %s", aglm_last_error());
            st = one;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

void host_watch_stop(host_watch *w)
{
    if (!w)
        return;
    atomic_store(&w->stopping, 1);
    uint64_t one = 1;
    while (write(w->wake, &one, sizeof one) < 0 && errno == EINTR)
        ;
    pthread_join(w->thread, NULL);
    free_watch(w);
}
