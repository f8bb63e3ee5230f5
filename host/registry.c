/* The plugin registry.
 *
 * Each loaded version of a plugin is one record (struct aglm_plugin_ref: a reference handed out is
 * a pointer to it) with an atomic reference count. The registry holds one reference on every
 * started version; replace and unload drop it, and whoever drops the last reference finishes the
 * version: stop, destroy, dlclose, delete the private copy.
 *
 * One mutex guards the list of versions (started and draining), their states and the generation
 * table. No plugin callback ever runs with it held: plugins call back into the host (log,
 * acquire) from init, stop and destroy, and would deadlock. */
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "host_services.h"
#include "loader.h"
#include "private_dir.h"
#include "log.h"

struct aglm_plugin_ref {
    host_registry *reg; /* NULL once orphaned by host_registry_free */
    atomic_long refs;
    host_plugin_state state; /* under reg->lock */
    unsigned generation;
    char *file; /* the path the user gave */
    /* The descriptor's strings, copied: listings read them while the code is being unloaded. */
    char name[64], version[32], summary[160];
    aglm_plugin_kind kind;
    host_loaded lib;
    void *pstate; /* from init */
    host_services svc;
    struct aglm_plugin_ref *next;
};

typedef struct name_gen {
    char name[64];
    unsigned last;
} name_gen;

struct host_registry {
    pthread_mutex_t lock;
    const host_config *cfg;
    char *dir;                 /* private copies live here */
    int dir_lock;              /* flock on dir while the registry lives */
    atomic_uint seq;           /* numbers the private copies */
    aglm_plugin_ref *versions; /* started and draining, in load order */
    name_gen *gens;            /* last generation handed out per name */
    size_t num_gens;
};

typedef aglm_plugin_ref version;

static const char *const state_names[] = {"loaded",  "initialised", "started", "draining",
                                          "stopped", "destroyed",   "unloaded"};

const char *host_plugin_state_name(host_plugin_state s)
{
    return (unsigned)s < sizeof state_names / sizeof *state_names ? state_names[s] : "?";
}

static int widest(int w, const char *text)
{
    int l = (int)strlen(text);
    return l > w ? l : w;
}

host_plugin_widths host_plugin_list_widths(const host_plugin_info *rows, size_t n)
{
    host_plugin_widths w = {4, 4, 7, 5};
    for (size_t i = 0; i < n; i++) {
        w.name = widest(w.name, rows[i].name);
        w.kind = widest(w.kind, aglm_plugin_kind_name(rows[i].kind));
        w.version = widest(w.version, rows[i].version);
        w.state = widest(w.state, host_plugin_state_name(rows[i].state));
    }
    return w;
}

static const aglm_plugin_desc *desc_of(const version *v)
{
    return v->lib.desc;
}

static const char *name_of(const version *v)
{
    return v->name;
}

/* Copies what listings show out of the descriptor, which goes away with dlclose. */
static void cache_desc(version *v)
{
    const aglm_plugin_desc *d = v->lib.desc;
    snprintf(v->name, sizeof v->name, "%s", d->name);
    snprintf(v->version, sizeof v->version, "%s", d->version ? d->version : "");
    snprintf(v->summary, sizeof v->summary, "%s", d->summary ? d->summary : "");
    v->kind = d->kind;
}

static void set_state(version *v, host_plugin_state st)
{
    if (v->reg) {
        pthread_mutex_lock(&v->reg->lock);
        v->state = st;
        pthread_mutex_unlock(&v->reg->lock);
    }
}

/* ---- under the lock ----------------------------------------------------------------------- */

static version *find_started(host_registry *r, const char *name)
{
    for (version *v = r->versions; v; v = v->next)
        if (v->state == HOST_PLUGIN_STARTED && strcmp(name_of(v), name) == 0)
            return v;
    return NULL;
}

static int requires_name(const aglm_plugin_desc *d, const char *name)
{
    for (size_t i = 0; d->requires && d->requires[i]; i++)
        if (strcmp(d->requires[i], name) == 0)
            return 1;
    return 0;
}

/* The first requirement of d that no started plugin meets, or NULL. */
static const char *missing_requirement(host_registry *r, const aglm_plugin_desc *d)
{
    for (size_t i = 0; d->requires && d->requires[i]; i++)
        if (!find_started(r, d->requires[i]))
    return d->requires[i];
    return NULL;
}

/* A started plugin, other than `self`, that requires `name`. */
static version *requirer_of(host_registry *r, const char *name, const version *self)
{
    for (version *v = r->versions; v; v = v->next)
        if (v != self && v->state == HOST_PLUGIN_STARTED && requires_name(desc_of(v), name))
            return v;
    return NULL;
}

static aglm_status next_generation(host_registry *r, const char *name, unsigned *gen)
{
    for (size_t i = 0; i < r->num_gens; i++) {
        if (strcmp(r->gens[i].name, name) == 0) {
            *gen = ++r->gens[i].last;
            return AGLM_OK;
        }
    }
    name_gen *grown = realloc(r->gens, (r->num_gens + 1) * sizeof *grown);
    if (!grown)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory registering plugin '%s'", name);
    r->gens = grown;
    snprintf(grown[r->num_gens].name, sizeof grown->name, "%s", name);
    grown[r->num_gens].last = 1;
    r->num_gens++;
    *gen = 1;
    return AGLM_OK;
}

static void append(host_registry *r, version *v)
{
    version **p = &r->versions;
    while (*p)
        p = &(*p)->next;
    v->next = NULL;
    *p = v;
}

static void unlink_version(host_registry *r, version *v)
{
    for (version **p = &r->versions; *p; p = &(*p)->next) {
        if (*p == v) {
            *p = v->next;
            v->next = NULL;
            return;
        }
    }
}

/* ---- outside the lock ---------------------------------------------------------------------- */

/* Undoes a version that never became visible: stop if started, destroy if initialised. */
static void discard(version *v, int started, int initialised)
{
    if (started && desc_of(v)->stop && desc_of(v)->stop(v->pstate) != AGLM_OK)
        host_log(AGLM_LOG_WARN, name_of(v), "stop failed during rollback: %s", aglm_last_error());
    if (initialised && desc_of(v)->destroy)
        desc_of(v)->destroy(v->pstate);
    if (initialised)
        host_services_fini(&v->svc);
    host_loader_close(&v->lib);
    free(v->file);
    free(v);
}

/* The last reference went: stop, destroy, dlclose, delete the copy, free the record. */
static void finish(version *v)
{
    host_registry *r = v->reg;
    if (r) {
        /* The version stays listed (stopped, then destroyed) until its code is unmapped and its
         * copy deleted, so "nothing draining" in a listing means nothing is left behind. */
        pthread_mutex_lock(&r->lock);
        if (v->state != HOST_PLUGIN_DRAINING)
            host_log(AGLM_LOG_ERROR, name_of(v),
                     "the last reference went while it was %s (one release too many)",
                     host_plugin_state_name(v->state));
        v->state = HOST_PLUGIN_STOPPED;
        pthread_mutex_unlock(&r->lock);
    }
    char name[64], *orphan_dir = NULL;
    snprintf(name, sizeof name, "%s", name_of(v));
    unsigned gen = v->generation;
    if (!r && v->lib.copy && (orphan_dir = strdup(v->lib.copy)) != NULL)
        *strrchr(orphan_dir, '/') = '\0';

    const aglm_plugin_desc *d = desc_of(v);
    aglm_clear_error();
    if (d->stop && d->stop(v->pstate) != AGLM_OK)
        host_log(AGLM_LOG_WARN, name, "stop failed: %s", aglm_last_error());
    if (d->destroy)
        d->destroy(v->pstate);
    set_state(v, HOST_PLUGIN_DESTROYED);
    host_services_fini(&v->svc);
    host_loader_close(&v->lib);
    if (r) {
        pthread_mutex_lock(&r->lock);
        unlink_version(r, v);
        pthread_mutex_unlock(&r->lock);
    }
    host_log(AGLM_LOG_DEBUG, NULL, "plugin '%s' generation %u unloaded (%s)", name, gen, v->file);
    free(v->file);
    free(v);
    if (orphan_dir) /* the registry is gone; the last orphan out removes its folder */
        host_private_dir_remove(orphan_dir);
    free(orphan_dir);
}

/* Drops one reference; returns the count before. */
static long drop_ref(version *v)
{
    long before = atomic_fetch_sub(&v->refs, 1);
    if (before == 1) {
        finish(v);
    } else if (before <= 0) {
        atomic_fetch_add(&v->refs, 1);
        host_log(AGLM_LOG_ERROR, NULL, "release of a plugin reference that is not held");
    }
    return before;
}

static int section_disabled(const host_section *s)
{
    const char *v = host_section_get(s, "enabled");
    return v && (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
                 !strcmp(v, "0"));
}

typedef struct load_want {
    const char *name; /* replace: the name and kind the new version must have */
    aglm_plugin_kind kind;
    int skip_disabled; /* directory scans honour enabled=false */
} load_want;

typedef struct load_result {
    int skipped;             /* disabled in config; nothing loaded */
    int missing_requirement; /* refused for a requirement that a later load may meet */
} load_result;

static aglm_status call_failed(const char *file, const char *what, const char *name, aglm_status st,
                               char *msg, size_t msg_len)
{
    const char *e = aglm_last_error();
    if (e && *e)
        snprintf(msg, msg_len, "%s: %s of '%s' failed: %s", file, what, name, e);
    else
        snprintf(msg, msg_len, "%s: %s of '%s' failed (%s)", file, what, name, aglm_status_str(st));
    return st == AGLM_OK ? AGLM_ERR_INTERNAL : st;
}

/* Loads, validates, inits and starts `path` without making it visible; *out has one reference
 * (the registry's) once committed. */
static aglm_status open_version(host_registry *r, const char *path, const load_want *want,
                                load_result *res, version **out)
{
    *out = NULL;
    version *v = calloc(1, sizeof *v);
    if (!v || !(v->file = strdup(path))) {
        free(v);
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", path);
    }
    unsigned seq = atomic_fetch_add(&r->seq, 1) + 1;
    aglm_status st = host_loader_open(path, r->dir, seq, &v->lib);
    if (st != AGLM_OK) {
        free(v->file);
        free(v);
        return st;
    }
    cache_desc(v);
    const aglm_plugin_desc *d = desc_of(v);
    pthread_mutex_lock(&r->lock); /* host_registry_set_config may swap r->cfg */
    const host_section *section = host_config_plugin(r->cfg, d->name);
    pthread_mutex_unlock(&r->lock);

    if (want->name && strcmp(want->name, d->name) != 0)
        st = aglm_error(AGLM_ERR_INVALID, "%s: holds plugin '%s', which cannot replace '%s'", path,
                        d->name, want->name);
    else if (want->name && want->kind != d->kind)
        st = aglm_error(AGLM_ERR_INVALID, "%s: a %s cannot replace the %s '%s'", path,
                        aglm_plugin_kind_name(d->kind), aglm_plugin_kind_name(want->kind),
                        want->name);
    if (st != AGLM_OK) {
        discard(v, 0, 0);
        return st;
    }
    if (want->skip_disabled && section_disabled(section)) {
        host_log(AGLM_LOG_INFO, NULL, "%s: plugin '%s' is disabled in the config, skipped", path,
                 d->name);
        res->skipped = 1;
        discard(v, 0, 0);
        return AGLM_OK;
    }

    /* Checked again when the version is committed; checking first spares a doomed init. */
    pthread_mutex_lock(&r->lock);
    version *holder = want->name ? NULL : find_started(r, d->name);
    const char *missing = holder ? NULL : missing_requirement(r, d);
    if (holder)
        st = aglm_error(AGLM_ERR_EXISTS, "%s: plugin name '%s' is taken by %s", path, d->name,
                        holder->file);
    else if (missing)
        st = aglm_error(AGLM_ERR_NOT_FOUND, "%s: requires plugin '%s', which is not loaded", path,
                        missing);
    pthread_mutex_unlock(&r->lock);
    if (st != AGLM_OK) {
        res->missing_requirement = missing != NULL;
        discard(v, 0, 0);
        return st;
    }

    st = host_services_init(&v->svc, r, section, d->name);
    if (st != AGLM_OK) {
        discard(v, 0, 0);
        return aglm_error_wrap(st, "%s", path);
    }
    char msg[1024];
    if (d->init) {
        aglm_clear_error();
        st = d->init(&v->svc.table, &v->pstate);
        if (st != AGLM_OK) {
            st = call_failed(path, "init", d->name, st, msg, sizeof msg);
            host_services_fini(&v->svc);
            discard(v, 0, 0);
            return aglm_error(st, "%s", msg);
        }
    }
    if (d->start) {
        aglm_clear_error();
        st = d->start(v->pstate);
        if (st != AGLM_OK) {
            st = call_failed(path, "start", d->name, st, msg, sizeof msg);
            discard(v, 0, 1);
            return aglm_error(st, "%s", msg);
        }
    }
    atomic_store(&v->refs, 1);
    v->reg = r;
    *out = v;
    return AGLM_OK;
}

/* Makes a fresh load visible, unless a racing load took the name or a requirement went. */
static aglm_status commit_load(host_registry *r, version *v)
{
    const aglm_plugin_desc *d = desc_of(v);
    aglm_status st = AGLM_OK;
    pthread_mutex_lock(&r->lock);
    version *holder = find_started(r, d->name);
    const char *missing = holder ? NULL : missing_requirement(r, d);
    if (holder)
        st = aglm_error(AGLM_ERR_EXISTS, "%s: plugin name '%s' is taken by %s", v->file, d->name,
                        holder->file);
    else if (missing)
        st = aglm_error(AGLM_ERR_NOT_FOUND, "%s: requires plugin '%s', which is not loaded",
                        v->file, missing);
    else
        st = next_generation(r, d->name, &v->generation);
    if (st == AGLM_OK) {
        v->state = HOST_PLUGIN_STARTED;
        append(r, v);
    }
    pthread_mutex_unlock(&r->lock);
    if (st != AGLM_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        discard(v, 1, 1);
        return aglm_error(st, "%s", msg);
    }
    host_log(AGLM_LOG_DEBUG, NULL, "loaded %s: %s '%s' %s, generation %u", v->file,
             aglm_plugin_kind_name(d->kind), d->name, d->version ? d->version : "", v->generation);
    return AGLM_OK;
}

static aglm_status load_file(host_registry *r, const char *path, int skip_disabled,
                             load_result *res, char *name_out)
{
    load_want want = {.skip_disabled = skip_disabled};
    version *v;
    aglm_status st = open_version(r, path, &want, res, &v);
    if (st != AGLM_OK || !v)
        return st;
    char name[64];
    snprintf(name, sizeof name, "%s", name_of(v));
    st = commit_load(r, v);
    if (st == AGLM_OK && name_out)
        memcpy(name_out, name, sizeof name);
    return st;
}

/* ---- public ---------------------------------------------------------------------------------- */

aglm_status host_registry_new(const host_config *cfg, host_registry **out)
{
    if (!out)
        return aglm_error(AGLM_ERR_INVALID, "host_registry_new: NULL argument");
    *out = NULL;
    host_registry *r = calloc(1, sizeof *r);
    if (!r)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory creating the plugin registry");
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return aglm_error(AGLM_ERR_INTERNAL, "cannot create the registry's mutex");
    }
    host_private_dir_sweep();
    aglm_status st = host_private_dir_make(&r->dir, &r->dir_lock);
    if (st != AGLM_OK) {
        pthread_mutex_destroy(&r->lock);
        free(r);
        return st;
    }
    r->cfg = cfg;
    *out = r;
    return AGLM_OK;
}

void host_registry_free(host_registry *r)
{
    if (!r)
        return;
    /* Dependents go first: each round drops the newest started plugin nothing else requires. */
    for (;;) {
        pthread_mutex_lock(&r->lock);
        version *pick = NULL, *any = NULL;
        for (version *v = r->versions; v; v = v->next) {
            if (v->state != HOST_PLUGIN_STARTED)
                continue;
            any = v;
            if (!requirer_of(r, name_of(v), v))
                pick = v;
        }
        if (!pick)
            pick = any; /* a cycle made by replaces: any order will do */
        if (pick)
            pick->state = HOST_PLUGIN_DRAINING;
        pthread_mutex_unlock(&r->lock);
        if (!pick)
            break;
        drop_ref(pick);
    }
    /* Versions another thread is finishing (stopped, destroyed) still need the registry. */
    for (;;) {
        int finishing = 0;
        pthread_mutex_lock(&r->lock);
        for (version *v = r->versions; v; v = v->next)
            finishing |= v->state == HOST_PLUGIN_STOPPED || v->state == HOST_PLUGIN_DESTROYED;
        pthread_mutex_unlock(&r->lock);
        if (!finishing)
            break;
        usleep(1000);
    }
    pthread_mutex_lock(&r->lock);
    while (r->versions) {
        version *v = r->versions;
        r->versions = v->next;
        v->next = NULL;
        host_log(AGLM_LOG_WARN, name_of(v),
                 "generation %u still has %ld reference(s) at shutdown; left loaded", v->generation,
                 (long)atomic_load(&v->refs));
        v->reg = NULL;
        host_services_detach(&v->svc);
    }
    pthread_mutex_unlock(&r->lock);
    close(r->dir_lock);
    host_private_dir_remove(r->dir);
    free(r->dir);
    free(r->gens);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

aglm_status host_registry_load(host_registry *r, const char *path, char *name_out)
{
    if (!r || !path)
        return aglm_error(AGLM_ERR_INVALID, "host_registry_load: NULL argument");
    load_result res = {0};
    return load_file(r, path, 0, &res, name_out);
}

typedef struct pending {
    char *path;
    char *why; /* the last refusal, for a missing requirement */
} pending;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static aglm_status list_so_files(const char *dir, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return aglm_error(AGLM_ERR_IO, "%s: cannot read directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    aglm_status st = AGLM_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0 || e->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *grown);
        if (!grown || asprintf(&grown[n], "%s/%s", dir, e->d_name) < 0) {
            names = grown ? grown : names;
            st = aglm_error(AGLM_ERR_NOMEM, "%s: out of memory listing the directory", dir);
            break;
        }
        names = grown;
        n++;
    }
    closedir(d);
    if (st != AGLM_OK) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return st;
    }
    if (n > 1) /* an empty folder leaves names NULL, which qsort must not get */
        qsort(names, n, sizeof *names, cmp_str);
    *out = names;
    *count = n;
    return AGLM_OK;
}

aglm_status host_registry_load_dir(host_registry *r, const char *dir, int *loaded, int *failed)
{
    if (loaded)
        *loaded = 0;
    if (failed)
        *failed = 0;
    if (!r || !dir)
        return aglm_error(AGLM_ERR_INVALID, "host_registry_load_dir: NULL argument");
    char **files;
    size_t n;
    aglm_status st = list_so_files(dir, &files, &n);
    if (st != AGLM_OK)
        return st;
    pending *todo = calloc(n ? n : 1, sizeof *todo);
    if (!todo) {
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        free(files);
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (size_t i = 0; i < n; i++)
        todo[i].path = files[i];
    free(files);

    /* A plugin refused only for a missing requirement is retried while the scan makes progress,
     * so file names need not follow the dependency order. */
    int nl = 0, nf = 0;
    size_t left = n;
    for (int progress = 1; progress && left;) {
        progress = 0;
        size_t kept = 0;
        for (size_t i = 0; i < left; i++) {
            load_result res = {0};
            st = load_file(r, todo[i].path, 1, &res, NULL);
            if (st != AGLM_OK && res.missing_requirement) {
                free(todo[i].why);
                todo[i].why = strdup(aglm_last_error());
                todo[kept++] = todo[i];
                continue;
            }
            if (st == AGLM_OK && !res.skipped) {
                nl++;
                progress = 1;
            } else if (st != AGLM_OK) {
                host_log(AGLM_LOG_ERROR, NULL, "%s", aglm_last_error());
                nf++;
            }
            free(todo[i].path);
            free(todo[i].why);
        }
        left = kept;
    }
    for (size_t i = 0; i < left; i++) {
        host_log(AGLM_LOG_ERROR, NULL, "%s", todo[i].why ? todo[i].why : todo[i].path);
        nf++;
        free(todo[i].path);
        free(todo[i].why);
    }
    free(todo);
    if (loaded)
        *loaded = nl;
    if (failed)
        *failed = nf;
    return AGLM_OK;
}

aglm_status host_registry_unload(host_registry *r, const char *name, int *deferred)
{
    if (deferred)
        *deferred = 0;
    if (!r || !name)
        return aglm_error(AGLM_ERR_INVALID, "host_registry_unload: NULL argument");
    aglm_status st = AGLM_OK;
    pthread_mutex_lock(&r->lock);
    version *v = find_started(r, name);
    version *user = v ? requirer_of(r, name, v) : NULL;
    if (!v)
        st = aglm_error(AGLM_ERR_NOT_FOUND, "no plugin '%s'", name);
    else if (user)
        st = aglm_error(AGLM_ERR_STATE, "cannot unload '%s': plugin '%s' (%s) requires it", name,
                        name_of(user), user->file);
    else
        v->state = HOST_PLUGIN_DRAINING;
    pthread_mutex_unlock(&r->lock);
    if (st != AGLM_OK)
        return st;
    long before = drop_ref(v); /* v may be gone now */
    if (before > 1)
        host_log(AGLM_LOG_INFO, NULL, "plugin '%s' is draining: %ld reference(s) still held", name,
                 before - 1);
    if (deferred)
        *deferred = before > 1;
    return AGLM_OK;
}

aglm_status host_registry_replace(host_registry *r, const char *name, const char *path)
{
    if (!r || !name)
        return aglm_error(AGLM_ERR_INVALID, "host_registry_replace: NULL argument");
    pthread_mutex_lock(&r->lock);
    version *cur = find_started(r, name);
    char *file = cur ? strdup(path ? path : cur->file) : NULL;
    aglm_plugin_kind kind = cur ? desc_of(cur)->kind : 0;
    pthread_mutex_unlock(&r->lock);
    if (!cur)
        return aglm_error(AGLM_ERR_NOT_FOUND, "no plugin '%s'", name);
    if (!file)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory replacing '%s'", name);

    load_want want = {.name = name, .kind = kind};
    load_result res = {0};
    version *v;
    aglm_status st = open_version(r, file, &want, &res, &v);
    if (st != AGLM_OK) {
        free(file);
        return st;
    }

    /* The switch: from here on look-ups get the new version; the old one drains. */
    pthread_mutex_lock(&r->lock);
    cur = find_started(r, name);
    const char *missing = cur ? missing_requirement(r, desc_of(v)) : NULL;
    if (!cur)
        st = aglm_error(AGLM_ERR_STATE, "%s: plugin '%s' was unloaded while being replaced", file,
                        name);
    else if (missing)
        st = aglm_error(AGLM_ERR_NOT_FOUND, "%s: requires plugin '%s', which is not loaded", file,
                        missing);
    else
        st = next_generation(r, name, &v->generation);
    if (st == AGLM_OK) {
        v->state = HOST_PLUGIN_STARTED;
        append(r, v);
        cur->state = HOST_PLUGIN_DRAINING;
    }
    unsigned old_gen = cur ? cur->generation : 0, new_gen = v->generation;
    pthread_mutex_unlock(&r->lock);
    if (st != AGLM_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        discard(v, 1, 1);
        free(file);
        return aglm_error(st, "%s", msg);
    }
    host_log(AGLM_LOG_INFO, NULL,
             "plugin '%s' replaced: generation %u from %s serves, generation %u drains", name,
             new_gen, file, old_gen);
    free(file);
    drop_ref(cur);
    return AGLM_OK;
}

aglm_plugin_ref *host_registry_acquire(host_registry *r, const char *name, aglm_plugin_kind kind)
{
    if (!r || !name) {
        aglm_error(AGLM_ERR_INVALID, "host_registry_acquire: NULL argument");
        return NULL;
    }
    pthread_mutex_lock(&r->lock);
    version *v = find_started(r, name);
    if (!v)
        aglm_error(AGLM_ERR_NOT_FOUND, "no plugin '%s'", name);
    else if (kind && desc_of(v)->kind != kind) {
        aglm_error(AGLM_ERR_TYPE, "plugin '%s' is a %s, not a %s", name,
                   aglm_plugin_kind_name(desc_of(v)->kind), aglm_plugin_kind_name(kind));
        v = NULL;
    } else {
        atomic_fetch_add(&v->refs, 1);
    }
    pthread_mutex_unlock(&r->lock);
    return v;
}

static int cmp_ref_name(const void *a, const void *b)
{
    return strcmp(name_of(*(version *const *)a), name_of(*(version *const *)b));
}

aglm_status host_registry_acquire_all(host_registry *r, aglm_plugin_kind kind,
                                      aglm_plugin_ref ***refs, size_t *count)
{
    if (!r || !refs || !count)
        return aglm_error(AGLM_ERR_INVALID, "host_registry_acquire_all: NULL argument");
    *refs = NULL;
    *count = 0;
    pthread_mutex_lock(&r->lock);
    size_t n = 0;
    for (version *v = r->versions; v; v = v->next)
        n += v->state == HOST_PLUGIN_STARTED && (!kind || desc_of(v)->kind == kind);
    version **out = malloc((n ? n : 1) * sizeof *out);
    if (!out) {
        pthread_mutex_unlock(&r->lock);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory listing plugins");
    }
    size_t i = 0;
    for (version *v = r->versions; v; v = v->next) {
        if (v->state == HOST_PLUGIN_STARTED && (!kind || desc_of(v)->kind == kind)) {
            atomic_fetch_add(&v->refs, 1);
            out[i++] = v;
        }
    }
    pthread_mutex_unlock(&r->lock);
    qsort(out, n, sizeof *out, cmp_ref_name);
    *refs = out;
    *count = n;
    return AGLM_OK;
}

void host_registry_release(aglm_plugin_ref *ref)
{
    if (ref)
        drop_ref(ref);
}

const aglm_plugin_desc *host_ref_desc(const aglm_plugin_ref *ref)
{
    return ref ? ref->lib.desc : NULL;
}

void *host_ref_state(const aglm_plugin_ref *ref)
{
    return ref ? ref->pstate : NULL;
}

unsigned host_ref_generation(const aglm_plugin_ref *ref)
{
    return ref ? ref->generation : 0;
}

static int cmp_info(const void *a, const void *b)
{
    const host_plugin_info *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->generation > y->generation) - (x->generation < y->generation);
}

aglm_status host_registry_list(host_registry *r, host_plugin_info **rows, size_t *count)
{
    if (!r || !rows || !count)
        return aglm_error(AGLM_ERR_INVALID, "host_registry_list: NULL argument");
    *rows = NULL;
    *count = 0;
    pthread_mutex_lock(&r->lock);
    size_t n = 0;
    for (version *v = r->versions; v; v = v->next)
        n++;
    host_plugin_info *out = calloc(n ? n : 1, sizeof *out);
    if (!out) {
        pthread_mutex_unlock(&r->lock);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory listing plugins");
    }
    size_t i = 0;
    for (version *v = r->versions; v; v = v->next, i++) {
        host_plugin_info *row = &out[i];
        snprintf(row->name, sizeof row->name, "%s", v->name);
        snprintf(row->version, sizeof row->version, "%s", v->version);
        snprintf(row->file, sizeof row->file, "%s", v->file);
        snprintf(row->summary, sizeof row->summary, "%s", v->summary);
        row->kind = v->kind;
        row->state = v->state;
        /* the registry's own reference is bookkeeping, not a user's */
        long refs = atomic_load(&v->refs) - (v->state == HOST_PLUGIN_STARTED);
        row->refs = refs < 0 ? 0 : refs;
        row->generation = v->generation;
    }
    pthread_mutex_unlock(&r->lock);
    qsort(out, n, sizeof *out, cmp_info);
    *rows = out;
    *count = n;
    return AGLM_OK;
}

size_t host_registry_num_draining(host_registry *r)
{
    if (!r)
        return 0;
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (version *v = r->versions; v; v = v->next)
        n += v->state != HOST_PLUGIN_STARTED; /* draining, or being stopped and unloaded */
    pthread_mutex_unlock(&r->lock);
    return n;
}

aglm_status host_registry_metrics(host_registry *r, const char *name, host_metric **out,
                                  size_t *count)
{
    if (!r || !name || !out || !count)
        return aglm_error(AGLM_ERR_INVALID, "host_registry_metrics: NULL argument");
    aglm_plugin_ref *ref = host_registry_acquire(r, name, 0);
    if (!ref)
        return AGLM_ERR_NOT_FOUND;
    aglm_status st = host_services_metrics(&ref->svc, out, count);
    host_registry_release(ref);
    return st;
}

void host_registry_set_config(host_registry *r, const host_config *cfg)
{
    if (!r || !cfg)
        return;
    pthread_mutex_lock(&r->lock);
    r->cfg = cfg;
    pthread_mutex_unlock(&r->lock);
}
