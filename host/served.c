/* Served models (served.h): compiling, the atomic switch, following replaced backends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pass_runner.h"
#include "served_internal.h"

#define FOLLOW_PERIOD_MS 50

struct host_served {
    host_registry *reg;
    pthread_mutex_t lock; /* guards models (the head) */
    served_model *models; /* newest first; a model's next never changes once published */
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    int stopping;
    int follower_started;
    pthread_t follower;
};

int host_served_parse_level(const char *text)
{
    return host_level_parse(text);
}

static int name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* ---- handles ----------------------------------------------------------------------------------
 */

static void handle_free(served_handle *h)
{
    host_backend_release(&h->be);
    free(h);
}

void served_release(served_handle *h)
{
    if (h && atomic_fetch_sub(&h->refs, 1) == 1)
        handle_free(h);
}

served_handle *served_acquire(served_model *m)
{
    pthread_mutex_lock(&m->lock);
    served_handle *h = m->cur;
    atomic_fetch_add(&h->refs, 1);
    pthread_mutex_unlock(&m->lock);
    return h;
}

/* Compiles source for `backend` at `level` into a new handle (one reference, the caller's). */
static aglm_status compile_handle(host_registry *reg, const aglm_graph *source, const char *backend,
                                  int level, int print_ir, served_handle **out)
{
    *out = NULL;
    served_handle *h = calloc(1, sizeof *h);
    aglm_graph *g = aglm_graph_clone(source);
    if (!h || !g) {
        free(h);
        aglm_graph_free(g);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory copying the graph for '%s'", backend);
    }
    h->level = level;
    atomic_store(&h->refs, 1);
    host_pass_run_opts po = {.print_ir = print_ir};
    aglm_status st = host_pass_run_level(reg, g, level, &po, NULL);
    if (st == AGLM_OK)
        st = host_backend_compile(reg, backend, g, NULL, &h->be);
    aglm_graph_free(g);
    if (st != AGLM_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        handle_free(h);
        return aglm_error(st, "compile for '%s': %s", backend, msg);
    }
    *out = h;
    return AGLM_OK;
}

/* ---- models -----------------------------------------------------------------------------------
 */

served_model *served_find(host_served *s, const char *name)
{
    pthread_mutex_lock(&s->lock);
    served_model *m = s->models;
    pthread_mutex_unlock(&s->lock);
    for (; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            return m;
    aglm_error(AGLM_ERR_NOT_FOUND, "no served model '%s'", name);
    return NULL;
}

static void model_free(served_model *m)
{
    served_release(m->cur);
    aglm_graph_free(m->source);
    served_stats_fini(&m->stats);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->compile_lock);
    free(m);
}

aglm_status host_served_add(host_served *s, const char *name, const aglm_graph *g,
                            const char *backend, int level)
{
    return host_served_add_traced(s, name, g, backend, level, 0);
}

aglm_status host_served_add_traced(host_served *s, const char *name, const aglm_graph *g,
                                   const char *backend, int level, int print_ir)
{
    if (!s || !name || !g || !backend)
        return aglm_error(AGLM_ERR_INVALID, "host_served_add: NULL argument");
    if (!name_valid(name))
        return aglm_error(AGLM_ERR_INVALID,
                          "model name '%.80s' is not [A-Za-z0-9_.-], 1 to 63 characters", name);
    if (strlen(backend) > 63)
        return aglm_error(AGLM_ERR_INVALID, "backend name '%.80s' is too long", backend);
    if (level < 0 || level > 3)
        return aglm_error(AGLM_ERR_INVALID, "model '%s': level %d is not 0..3 (O0..O3)", name,
                          level);
    if (served_find(s, name))
        return aglm_error(AGLM_ERR_EXISTS, "model name '%s' is already served", name);
    served_model *m = calloc(1, sizeof *m);
    if (!m || !(m->source = aglm_graph_clone(g))) {
        free(m);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory serving '%s'", name);
    }
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->backend, sizeof m->backend, "%s", backend);
    m->level = level;
    m->compiles = 1;
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->compile_lock, NULL);
    served_stats_init(&m->stats);
    aglm_status st = compile_handle(s->reg, m->source, backend, level, print_ir, &m->cur);
    if (st != AGLM_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        aglm_graph_free(m->source);
        served_stats_fini(&m->stats);
        pthread_mutex_destroy(&m->lock);
        pthread_mutex_destroy(&m->compile_lock);
        free(m);
        return aglm_error(st, "model '%s': %s", name, msg);
    }
    unsigned gen =
        host_ref_generation(m->cur->be.ref); /* before publishing: then others may swap it */
    pthread_mutex_lock(&s->lock);
    int taken = 0;
    for (served_model *o = s->models; o; o = o->next)
        taken |= strcmp(o->name, name) == 0;
    if (!taken) {
        m->next = s->models;
        s->models = m;
    }
    pthread_mutex_unlock(&s->lock);
    if (taken) {
        model_free(m);
        return aglm_error(AGLM_ERR_EXISTS, "model name '%s' is already served", name);
    }
    host_log(AGLM_LOG_INFO, NULL, "serving model '%s' on %s (generation %u) at O%d", name, backend,
             gen, level);
    return AGLM_OK;
}

static void fill_info(served_model *m, host_served_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", m->name);
    pthread_mutex_lock(&m->lock);
    snprintf(info->backend, sizeof info->backend, "%s", m->backend);
    info->generation = host_ref_generation(m->cur->be.ref);
    info->level = m->level;
    info->compiles = m->compiles;
    const aglm_graph *sig = m->cur->be.sig;
    size_t len = 0;
    for (size_t i = 0; i < aglm_graph_num_inputs(sig) && len < sizeof info->inputs; i++) {
        char type[128];
        const aglm_value *v = aglm_graph_input(sig, i);
        len += (size_t)snprintf(info->inputs + len, sizeof info->inputs - len, "%s%s: %s",
                                i ? ", " : "", aglm_value_name(v),
                                aglm_value_type_str(v, type, sizeof type));
    }
    pthread_mutex_unlock(&m->lock);
    served_stats_fill(&m->stats, info);
}

/* Compiles m again and switches to it. With only_if, does nothing (and returns AGLM_OK) unless
 * that handle is still the current one: another follow got there first. */
static aglm_status recompile_model(host_served *s, served_model *m, const char *backend, int level,
                                   unsigned *follow_gen, const served_handle *only_if)
{
    pthread_mutex_lock(&m->compile_lock);
    if (only_if) {
        pthread_mutex_lock(&m->lock);
        int moved = m->cur != only_if;
        pthread_mutex_unlock(&m->lock);
        if (moved) {
            pthread_mutex_unlock(&m->compile_lock);
            return AGLM_OK;
        }
    }
    char be[64];
    pthread_mutex_lock(&m->lock);
    snprintf(be, sizeof be, "%s", backend ? backend : m->backend);
    if (level < 0)
        level = m->level;
    pthread_mutex_unlock(&m->lock);
    served_handle *h = NULL;
    aglm_status st = compile_handle(s->reg, m->source, be, level, 0, &h);
    served_handle *old = NULL;
    if (st == AGLM_OK) {
        pthread_mutex_lock(&m->lock);
        old = m->cur;
        m->cur = h;
        snprintf(m->backend, sizeof m->backend, "%s", be);
        m->level = level;
        m->compiles++;
        m->follow_failed_gen = 0;
        pthread_mutex_unlock(&m->lock);
        host_log(AGLM_LOG_INFO, NULL, "model '%s' now runs on %s (generation %u) at O%d", m->name,
                 be, host_ref_generation(h->be.ref), level);
    } else if (follow_gen) {
        pthread_mutex_lock(&m->lock);
        m->follow_failed_gen = *follow_gen;
        pthread_mutex_unlock(&m->lock);
    }
    pthread_mutex_unlock(&m->compile_lock);
    served_release(old); /* requests in flight keep it until they end */
    if (st != AGLM_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        return aglm_error(st, "model '%s': %s", m->name, msg);
    }
    return AGLM_OK;
}

aglm_status host_served_recompile(host_served *s, const char *name, const char *backend, int level,
                                  host_served_info *info)
{
    if (!s || !name)
        return aglm_error(AGLM_ERR_INVALID, "host_served_recompile: NULL argument");
    if (backend && strlen(backend) > 63)
        return aglm_error(AGLM_ERR_INVALID, "backend name '%.80s' is too long", backend);
    if (level > 3)
        return aglm_error(AGLM_ERR_INVALID, "model '%s': level %d is not 0..3 (O0..O3)", name,
                          level);
    served_model *m = served_find(s, name);
    if (!m)
        return AGLM_ERR_NOT_FOUND;
    aglm_status st = recompile_model(s, m, backend, level, NULL, NULL);
    if (st == AGLM_OK && info)
        fill_info(m, info);
    return st;
}

size_t host_served_follow(host_served *s, host_served_follow_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->lock);
    served_model *m = s->models;
    pthread_mutex_unlock(&s->lock);
    size_t switched = 0;
    for (; m; m = m->next) {
        served_handle *h = served_acquire(m); /* held until done, so comparing it is safe */
        char be[64]; /* copied: the name lives in the version's mapped code */
        snprintf(be, sizeof be, "%s", host_ref_desc(h->be.ref)->name);
        pthread_mutex_lock(&m->lock);
        unsigned failed = m->follow_failed_gen;
        int same_name = strcmp(m->backend, be) == 0;
        pthread_mutex_unlock(&m->lock);
        aglm_plugin_ref *now =
            same_name ? host_registry_acquire(s->reg, be, AGLM_KIND_BACKEND) : NULL;
        unsigned gen = now ? host_ref_generation(now) : 0;
        int stale = now && now != h->be.ref && gen != failed;
        host_registry_release(now);
        if (stale) {
            aglm_status st = recompile_model(s, m, NULL, -1, &gen, h);
            if (st == AGLM_OK)
                switched++;
            else
                host_log(AGLM_LOG_ERROR, NULL,
                         "following the replace of '%s': %s (it keeps serving on the old version)",
                         be, aglm_last_error());
            if (fn)
                fn(ctx, m->name, be, gen, st, st == AGLM_OK ? "" : aglm_last_error());
        }
        served_release(h);
    }
    return switched;
}

static void *follower_main(void *arg)
{
    host_served *s = arg;
    pthread_mutex_lock(&s->stop_lock);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += FOLLOW_PERIOD_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->stop_lock);
        host_served_follow(s, NULL, NULL);
        pthread_mutex_lock(&s->stop_lock);
    }
    pthread_mutex_unlock(&s->stop_lock);
    return NULL;
}

aglm_status host_served_new(host_registry *reg, host_served **out)
{
    if (!reg || !out)
        return aglm_error(AGLM_ERR_INVALID, "host_served_new: NULL argument");
    *out = NULL;
    host_served *s = calloc(1, sizeof *s);
    if (!s)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory creating the served-model table");
    s->reg = reg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->stop_cond, &ca);
    pthread_condattr_destroy(&ca);
    int err = pthread_create(&s->follower, NULL, follower_main, s);
    if (err != 0) {
        pthread_cond_destroy(&s->stop_cond);
        pthread_mutex_destroy(&s->stop_lock);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return aglm_error(AGLM_ERR_INTERNAL, "cannot start the served-model follower thread: %s",
                          strerror(err));
    }
    s->follower_started = 1;
    *out = s;
    return AGLM_OK;
}

void host_served_free(host_served *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->stop_lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->stop_cond);
    pthread_mutex_unlock(&s->stop_lock);
    if (s->follower_started)
        pthread_join(s->follower, NULL);
    served_model *m = s->models;
    while (m) {
        served_model *next = m->next;
        model_free(m);
        m = next;
    }
    pthread_cond_destroy(&s->stop_cond);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const host_served_info *)a)->name, ((const host_served_info *)b)->name);
}

aglm_status host_served_list(host_served *s, host_served_info **rows, size_t *count)
{
    if (!s || !rows || !count)
        return aglm_error(AGLM_ERR_INVALID, "host_served_list: NULL argument");
    *rows = NULL;
    *count = 0;
    pthread_mutex_lock(&s->lock);
    served_model *head = s->models;
    pthread_mutex_unlock(&s->lock);
    size_t n = 0;
    for (served_model *m = head; m; m = m->next)
        n++;
    host_served_info *out = calloc(n ? n : 1, sizeof *out);
    if (!out)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory listing served models");
    size_t i = 0;
    for (served_model *m = head; m && i < n; m = m->next)
        fill_info(m, &out[i++]);
    qsort(out, n, sizeof *out, cmp_info);
    *rows = out;
    *count = n;
    return AGLM_OK;
}

size_t host_served_count(host_served *s)
{
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    served_model *head = s->models;
    pthread_mutex_unlock(&s->lock);
    for (served_model *m = head; m; m = m->next)
        n++;
    return n;
}
