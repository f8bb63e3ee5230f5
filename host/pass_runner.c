/* The pass driver (pass_runner.h), and the one place the host calls a pass plugin, so every
 * caller gets the same checks of the pass's table, error wording and release of its reference. */
#include "pass_runner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define MAX_WARNED 64

static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;
static char warned[MAX_WARNED][64];
static size_t num_warned;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 1 the first time `name` is seen in this process (so each missing pass is warned about once). */
static int first_warning(const char *name)
{
    int first = 1;
    pthread_mutex_lock(&warned_lock);
    for (size_t i = 0; i < num_warned && first; i++)
        first = strcmp(warned[i], name) != 0;
    if (first && num_warned < MAX_WARNED)
        snprintf(warned[num_warned++], sizeof warned[0], "%s", name);
    pthread_mutex_unlock(&warned_lock);
    return first;
}

int host_print_ir_parse(const char *text)
{
    if (!text || !*text || strcmp(text, "none") == 0 || strcmp(text, "0") == 0)
        return 0;
    if (strcmp(text, "after-each") == 0)
        return 1;
    return -1;
}

int host_pass_loaded(host_registry *reg, const char *name)
{
    aglm_plugin_ref *ref = host_registry_acquire(reg, name, AGLM_KIND_PASS);
    host_registry_release(ref);
    aglm_clear_error();
    return ref != NULL;
}

void host_pass_report_free(host_pass_report *r)
{
    if (!r)
        return;
    free(r->passes);
    free(r->missing);
    memset(r, 0, sizeof *r);
}

static aglm_status add_stat(host_pass_report *r, size_t *cap, const host_pass_stat *s)
{
    if (r->num_passes == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        host_pass_stat *grown = realloc(r->passes, n * sizeof *grown);
        if (!grown)
            return aglm_error(AGLM_ERR_NOMEM, "out of memory recording pass '%s'", s->name);
        r->passes = grown;
        *cap = n;
    }
    r->passes[r->num_passes++] = *s;
    return AGLM_OK;
}

static aglm_status add_missing(host_pass_report *r, const char *name)
{
    for (size_t i = 0; i < r->num_missing; i++)
        if (strcmp(r->missing[i], name) == 0)
            return AGLM_OK;
    char(*grown)[64] = realloc(r->missing, (r->num_missing + 1) * sizeof *grown);
    if (!grown)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory recording missing pass '%s'", name);
    r->missing = grown;
    snprintf(r->missing[r->num_missing++], sizeof r->missing[0], "%s", name);
    return AGLM_OK;
}

/* Acquires pass `name`, runs it on g and releases it: the one place a pass plugin is called.
 * *ms gets the time of the run alone. *missing is 1 when no such pass is loaded, with the
 * registry's message as it is; any other error says which pass. */
static aglm_status call_pass(host_registry *reg, const char *name, aglm_graph *g,
                             const aglm_options *opts, int *changed, double *ms, int *missing)
{
    static const aglm_options none = {0, NULL};
    *changed = 0;
    *ms = 0;
    aglm_plugin_ref *ref = host_registry_acquire(reg, name, AGLM_KIND_PASS);
    *missing = ref == NULL;
    if (!ref)
        return AGLM_ERR_NOT_FOUND;
    const aglm_pass_ops *ops = host_ref_desc(ref)->ops;
    aglm_status st;
    if (!AGLM_HAS_MEMBER(aglm_pass_ops, ops, run) || !ops->run) {
        st = aglm_error(AGLM_ERR_UNSUPPORTED, "pass '%s' has no run", name);
    } else {
        double t0 = now_ms();
        aglm_clear_error();
        st = ops->run(host_ref_state(ref), g, opts ? opts : &none, changed);
        *ms = now_ms() - t0;
        if (st != AGLM_OK) {
            if (!*aglm_last_error())
                aglm_error(st, "failed (%s)", aglm_status_str(st));
            st = aglm_error_wrap(st, "pass '%s'", name);
        }
    }
    if (st != AGLM_OK) {
        /* Dropping the last reference runs the plugin's stop and destroy, which may set errors
         * of their own. */
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        host_registry_release(ref);
        return aglm_error(st, "%s", msg);
    }
    host_registry_release(ref);
    return AGLM_OK;
}

aglm_status host_pass_run_one(host_registry *reg, aglm_graph *g, const char *name,
                              const aglm_options *opts, int *changed)
{
    int ignored, missing;
    double ms;
    if (!reg || !g || !name)
        return aglm_error(AGLM_ERR_INVALID, "host_pass_run_one: NULL argument");
    aglm_status st = call_pass(reg, name, g, opts, changed ? changed : &ignored, &ms, &missing);
    return missing ? aglm_error_wrap(st, "pass '%s'", name) : st;
}

/* A pass that changed the graph may have made shapes knowable that were not (a folded Shape
 * chain gives a Reshape its constant target), so later passes match on inferred shapes. */
static aglm_status refine_shapes(aglm_graph *g, const char *name)
{
    aglm_status st = aglm_graph_toposort(g);
    if (st == AGLM_OK)
        st = aglm_infer_shapes(g);
    return st == AGLM_OK ? st : aglm_error_wrap(st, "after pass '%s'", name);
}

static void print_ir(const aglm_graph *g, const char *label, const host_pass_stat *s)
{
    char *text = aglm_graph_to_text(g, AGLM_PRINT_ELIDE_CONSTANTS);
    fprintf(stderr, "# IR after pass '%s' (%s, round %d): %zu -> %zu nodes, %.3f ms%s\n", s->name,
            label, s->round, s->nodes_before, s->nodes_after, s->ms,
            s->changed ? "" : ", unchanged");
    fputs(text ? text : "# (cannot print the graph)\n", stderr);
    if (text && text[0] && text[strlen(text) - 1] != '\n')
        fputc('\n', stderr);
    fflush(stderr);
    free(text);
}

aglm_status host_pass_run(host_registry *reg, aglm_graph *g, const char *const *names, size_t n,
                          const host_pass_run_opts *opts, host_pass_report *report)
{
    static const host_pass_run_opts defaults = {0};
    host_pass_report local;
    host_pass_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    if (!reg || !g || (n > 0 && !names))
        return aglm_error(AGLM_ERR_INVALID, "host_pass_run: NULL argument");
    const host_pass_run_opts *o = opts ? opts : &defaults;
    const char *label = o->label ? o->label : "passes";
    snprintf(r->label, sizeof r->label, "%s", label);
#ifdef NDEBUG
    int verify = o->verify || o->print_ir;
#else
    int verify = 1;
#endif
    size_t cap = 0;
    aglm_status st = AGLM_OK;
    double start = now_ms();
    r->nodes_before = r->nodes_after = aglm_graph_num_nodes(g);
    int max_rounds = o->iterate ? HOST_LEVEL_MAX_ROUNDS : 1;
    for (int round = 1, again = 1; again && round <= max_rounds && st == AGLM_OK; round++) {
        again = 0;
        r->rounds = round;
        for (size_t i = 0; i < n && st == AGLM_OK; i++) {
            host_pass_stat s;
            memset(&s, 0, sizeof s);
            snprintf(s.name, sizeof s.name, "%s", names[i]);
            s.round = round;
            s.nodes_before = aglm_graph_num_nodes(g);
            int missing;
            st = call_pass(reg, names[i], g, o->pass_opts, &s.changed, &s.ms, &missing);
            if (missing && !o->skip_missing) {
                st = aglm_error_wrap(st, "pass '%s'", names[i]);
                break;
            }
            if (missing) {
                if (first_warning(names[i]))
                    host_log(AGLM_LOG_WARN, NULL, "%s: pass '%s' skipped: %s", label, names[i],
                             aglm_last_error());
                aglm_clear_error();
                st = add_missing(r, names[i]);
                continue;
            }
            s.nodes_after = aglm_graph_num_nodes(g);
            if (st == AGLM_OK && s.changed)
                st = refine_shapes(g, names[i]);
            if (st != AGLM_OK)
                break;
            host_log(AGLM_LOG_INFO, NULL, "%s: pass '%s': %zu -> %zu nodes in %.3f ms%s", label,
                     s.name, s.nodes_before, s.nodes_after, s.ms, s.changed ? "" : " (unchanged)");
            if (o->print_ir)
                print_ir(g, label, &s);
            if (verify && aglm_graph_verify(g) != AGLM_OK) {
                st =
                    aglm_error_wrap(AGLM_ERR_INTERNAL, "pass '%s' left an invalid graph", names[i]);
                break;
            }
            again |= s.changed;
            st = add_stat(r, &cap, &s);
        }
    }
    r->nodes_after = aglm_graph_num_nodes(g);
    r->ms = now_ms() - start;
    if (report == NULL)
        host_pass_report_free(&local);
    return st;
}

aglm_status host_pass_run_level(host_registry *reg, aglm_graph *g, int level,
                                const host_pass_run_opts *opts, host_pass_report *report)
{
    if (level < 0 || level >= HOST_NUM_LEVELS) {
        if (report)
            memset(report, 0, sizeof *report);
        return aglm_error(AGLM_ERR_INVALID, "level %d is not 0..3 (O0..O3)", level);
    }
    host_levels *table = malloc(sizeof *table);
    if (!table) {
        if (report)
            memset(report, 0, sizeof *report);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory reading the levels");
    }
    host_levels_get(table);
    const host_level *lv = &table->level[level];
    const char *names[HOST_LEVEL_MAX_PASSES];
    for (size_t i = 0; i < lv->count; i++)
        names[i] = lv->passes[i];
    char label[8];
    snprintf(label, sizeof label, "O%d", level);
    host_pass_run_opts o = {0};
    if (opts)
        o = *opts;
    o.skip_missing = 1;
    o.iterate = lv->iterate;
    o.label = label;
    aglm_status st = host_pass_run(reg, g, names, lv->count, &o, report);
    free(table);
    return st;
}
