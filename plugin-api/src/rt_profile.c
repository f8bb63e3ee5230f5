/* Profiling as an executor hook (aglm/executor.h): per-step time, calls and FLOPs summed with
 * relaxed atomics (no lock per step), subgraph steps as entries of their own after the node
 * holding them, heap peak replayed from the last run's sizes, and the step events a trace
 * keeps. FLOP counting (aglm_flops_node) reads the op schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt_internal.h"

/* ---- FLOPs ------------------------------------------------------------------------------ */

/* Product of dims[from..rank-1]. */
static uint64_t tail_product(const aglm_tensor *t, int from)
{
    uint64_t p = 1;
    for (int d = from; d < t->rank; d++)
        p *= (uint64_t)t->dims[d];
    return p;
}

uint64_t aglm_flops_node(const aglm_node *node, size_t n_in, const aglm_tensor *const *in,
                         size_t n_out, const aglm_tensor *out)
{
    const aglm_op_schema *sc = node ? aglm_node_schema(node) : NULL;
    if (!sc || sc->flops == AGLM_FLOPS_NONE || n_in < 2 || !in[0] || !in[1] || n_out < 1 || !out ||
        !out[0].data || !aglm_dtype_is_float(out[0].dtype))
        return 0;
    const aglm_tensor *a = in[0], *w = in[1], *y = &out[0];
    uint64_t macs = 0;
    switch (sc->flops) {
    case AGLM_FLOPS_CONV: /* each output element: C/group x prod(k) */
        macs = w->rank < 2 ? 0 : (uint64_t)aglm_tensor_numel(y) * tail_product(w, 1);
        break;
    case AGLM_FLOPS_CONV_TRANSPOSE: /* each input element scattered through M/group x prod(k) */
        macs = w->rank < 2 ? 0 : (uint64_t)aglm_tensor_numel(a) * tail_product(w, 1);
        break;
    case AGLM_FLOPS_MATMUL: { /* K is A's last dim, its second last under Gemm's transA */
        if (a->rank < 1)
            break;
        int trans_a = a->rank >= 2 && aglm_node_get_int(node, "transA", 0) != 0;
        macs = (uint64_t)aglm_tensor_numel(y) * (uint64_t)a->dims[a->rank - 1 - trans_a];
        break;
    }
    default: break;
    }
    return 2 * macs;
}

/* ---- building the entries --------------------------------------------------------------- */

static aglm_status add_sched(rt_profile *p, const aglm_sched *s, size_t *next)
{
    rt_sched_map *m = &p->maps[p->n_maps++];
    m->sched = s;
    m->entry = calloc(s->n_steps ? s->n_steps : 1, sizeof *m->entry);
    if (!m->entry)
        return aglm_error(AGLM_ERR_NOMEM, "profile: out of memory");
    for (size_t i = 0; i < s->n_steps; i++) {
        const aglm_step *st = &s->steps[i];
        rt_entry *e = &p->entries[*next];
        m->entry[i] = (*next)++;
        e->step = st;
        const char *name = aglm_node_name(st->node);
        size_t len = strlen(s->path) + strlen(name) + 3;
        if (!(e->name = malloc(len)))
            return aglm_error(AGLM_ERR_NOMEM, "profile: out of memory");
        snprintf(e->name, len, "%s%s%s", s->path, s->path[0] ? "::" : "", name);
        for (size_t j = 0; j < st->n_subs; j++) {
            aglm_status r = add_sched(p, st->subs[j].sched, next);
            if (r != AGLM_OK)
                return r;
        }
    }
    return AGLM_OK;
}

static size_t count_scheds(const aglm_sched *s)
{
    size_t n = 1;
    for (size_t i = 0; i < s->n_steps; i++)
        for (size_t j = 0; j < s->steps[i].n_subs; j++)
            n += count_scheds(s->steps[i].subs[j].sched);
    return n;
}

aglm_status rt_profile_new(aglm_executor *x, const aglm_options *opts)
{
    const char *name = x->desc.sched.name;
    const char *v = aglm_options_get(opts, "profile");
    int on = v ? aglm_options_get_bool(opts, "profile", -1) : 0;
    if (on < 0)
        return aglm_error(AGLM_ERR_INVALID, "backend %s: option profile = '%s': expected 1 or 0",
                          name, v);
    const char *trace = aglm_options_get(opts, "trace");
    if (trace && !trace[0])
        return aglm_error(AGLM_ERR_INVALID,
                          "backend %s: option trace is empty: give a file "
                          "name (trace=run.json)",
                          name);
    if (!on && !trace)
        return AGLM_OK;
    rt_profile *p = calloc(1, sizeof *p);
    if (!p)
        return aglm_error(AGLM_ERR_NOMEM, "backend %s: profile: out of memory", name);
    x->prof = p;
    pthread_mutex_init(&p->lock, NULL);
    p->n_entries = aglm_sched_total_steps(x->sched);
    size_t n_maps = count_scheds(x->sched);
    p->entries = calloc(p->n_entries ? p->n_entries : 1, sizeof *p->entries);
    p->maps = calloc(n_maps, sizeof *p->maps);
    p->snapshot = calloc(p->n_entries ? p->n_entries : 1, sizeof *p->snapshot);
    p->slot_bytes = calloc(x->sched->n_slots ? x->sched->n_slots : 1, sizeof *p->slot_bytes);
    if (!p->entries || !p->maps || !p->snapshot || !p->slot_bytes)
        return aglm_error(AGLM_ERR_NOMEM, "backend %s: profile: out of memory", name);
    size_t next = 0;
    aglm_status st = add_sched(p, x->sched, &next);
    if (st != AGLM_OK || !trace)
        return st;
    rt_trace *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(trace))) {
        free(t);
        return aglm_error(AGLM_ERR_NOMEM, "backend %s: trace: out of memory", name);
    }
    pthread_mutex_init(&t->lock, NULL);
    x->trace = t;
    /* Say now, not when the executor is freed, that the file cannot be written. */
    FILE *f = fopen(trace, "w");
    if (!f)
        return aglm_error(AGLM_ERR_IO, "backend %s: trace file '%s' cannot be written", name,
                          trace);
    fclose(f);
    return AGLM_OK;
}

void rt_profile_free(aglm_executor *x)
{
    rt_profile *p = x->prof;
    if (p) {
        for (size_t i = 0; p->entries && i < p->n_entries; i++)
            free(p->entries[i].name);
        for (size_t i = 0; p->maps && i < p->n_maps; i++)
            free(p->maps[i].entry);
        pthread_mutex_destroy(&p->lock);
        free(p->entries);
        free(p->maps);
        free(p->snapshot);
        free(p->slot_bytes);
        free(p);
        x->prof = NULL;
    }
    rt_trace *t = x->trace;
    if (t) {
        pthread_mutex_destroy(&t->lock);
        free(t->path);
        free(t->events);
        free(t->runs);
        free(t);
        x->trace = NULL;
    }
}

const size_t *rt_profile_entries(const aglm_executor *x, const aglm_sched *s)
{
    if (!x->prof)
        return NULL;
    for (size_t i = 0; i < x->prof->n_maps; i++)
        if (x->prof->maps[i].sched == s)
            return x->prof->maps[i].entry;
    return NULL;
}

/* ---- per step and per run --------------------------------------------------------------- */

static uint32_t thread_id(void)
{
    return (uint32_t)syscall(SYS_gettid);
}

/* "[1,3,224,224] [64,3,7,7]" for the inputs of a step, cut to fit. */
static void shapes_of(const aglm_step_io *io, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < io->step->n_in && len + 1 < cap; i++) {
        char s[96];
        if (io->in[i])
            aglm_shape_str(io->in[i]->rank, io->in[i]->dims, s, sizeof s);
        else
            snprintf(s, sizeof s, "-");
        int w = snprintf(buf + len, cap - len, "%s%s", i ? " " : "", s);
        if (w < 0)
            break;
        len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
}

void rt_profile_step(aglm_run *r, size_t si, uint64_t start_ns, uint64_t end_ns,
                     const aglm_step_io *io, aglm_status st)
{
    rt_profile *p = r->x->prof;
    rt_entry *e = &p->entries[r->entry[si]];
    uint64_t flops = st == AGLM_OK ? aglm_flops_node(io->step->node, io->step->n_in, io->in,
                                                     io->step->n_out, io->out)
                                   : 0;
    atomic_fetch_add_explicit(&e->calls, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->ns, end_ns - start_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->flops, flops, memory_order_relaxed);
    if (!r->sched->parent && st == AGLM_OK) {
        /* Heap bytes per slot (arena outputs count 0) for the peak replay; the last run wins,
         * so concurrent runs only race on which one that is. */
        for (size_t i = 0; i < io->step->n_out; i++)
            if (io->step->out[i] >= 0)
                __atomic_store_n(
                    &p->slot_bytes[io->step->out[i]],
                    io->out[i].flags & AGLM_TENSOR_OWNS_DATA ? aglm_tensor_nbytes(&io->out[i]) : 0,
                    __ATOMIC_RELAXED);
    }
    aglm_run *top = r->top;
    if (!r->x->trace || !top)
        return;
    if (top->n_events == top->cap_events) {
        size_t cap = top->cap_events ? top->cap_events * 2 : 64;
        rt_event *grown = realloc(top->events, cap * sizeof *grown);
        if (!grown)
            return; /* the trace loses an event, the run goes on */
        top->events = grown;
        top->cap_events = cap;
    }
    rt_event *ev = &top->events[top->n_events++];
    ev->entry = (uint32_t)r->entry[si];
    ev->tid = thread_id();
    ev->start_ns = start_ns - r->x->t0_ns;
    ev->dur_ns = end_ns - start_ns;
    ev->flops = flops;
    shapes_of(io, ev->shapes, sizeof ev->shapes);
}

void rt_profile_run_done(aglm_run *r, uint64_t start_ns, uint64_t end_ns)
{
    atomic_fetch_add_explicit(&r->x->prof->runs, 1, memory_order_relaxed);
    rt_trace *t = r->x->trace;
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    size_t room = t->n < RT_TRACE_MAX ? RT_TRACE_MAX - t->n : 0;
    size_t take = r->n_events < room ? r->n_events : room;
    if (t->n + take > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->n + take)
            cap *= 2;
        rt_event *grown = realloc(t->events, cap * sizeof *grown);
        if (grown) {
            t->events = grown;
            t->cap = cap;
        } else {
            take = 0;
        }
    }
    memcpy(t->events + t->n, r->events, take * sizeof *r->events);
    t->n += take;
    t->dropped += r->n_events - take;
    if (t->n_runs == t->cap_runs) {
        size_t cap = t->cap_runs ? t->cap_runs * 2 : 16;
        rt_event *grown = realloc(t->runs, cap * sizeof *grown);
        if (grown) {
            t->runs = grown;
            t->cap_runs = cap;
        }
    }
    if (t->n_runs < t->cap_runs)
        t->runs[t->n_runs++] =
            (rt_event){0, thread_id(), start_ns - r->x->t0_ns, end_ns - start_ns, 0, ""};
    pthread_mutex_unlock(&t->lock);
}

/* ---- the profile a backend hands out ---------------------------------------------------- */

/* Replays the top level's free plan over the last run's heap output sizes. */
static uint64_t peak_heap(const aglm_executor *x)
{
    const aglm_sched *s = x->sched;
    uint64_t live = 0, peak = 0;
    for (size_t i = 0; i < s->n_steps; i++) {
        const aglm_step *st = &s->steps[i];
        for (size_t j = 0; j < st->n_out; j++)
            if (st->out[j] >= 0)
                live += __atomic_load_n(&x->prof->slot_bytes[st->out[j]], __ATOMIC_RELAXED);
        if (live > peak)
            peak = live;
        for (size_t j = 0; j < st->n_free; j++)
            live -= __atomic_load_n(&x->prof->slot_bytes[st->free[j]], __ATOMIC_RELAXED);
    }
    return peak;
}

aglm_status aglm_executor_profile(aglm_executor *x, aglm_profile *out)
{
    if (!x || !out)
        return aglm_error(AGLM_ERR_INVALID, "aglm_executor_profile: NULL executor or profile");
    rt_profile *p = x->prof;
    if (!p)
        return aglm_error(AGLM_ERR_INVALID,
                          "backend %s: the executable was compiled without "
                          "option profile=1",
                          x->desc.sched.name);
    uint64_t flops = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_entries; i++) {
        const rt_entry *e = &p->entries[i];
        uint64_t ns = atomic_load_explicit(&e->ns, memory_order_relaxed);
        p->snapshot[i] = (aglm_profile_entry){e->name, aglm_node_op(e->step->node),
                                              atomic_load_explicit(&e->calls, memory_order_relaxed),
                                              (double)ns / 1e6};
        /* Subgraph steps are inside their holder's time; their FLOPs are not counted twice
         * only because holders (If, Loop, Scan) count none themselves. */
        flops += atomic_load_explicit(&e->flops, memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->lock);
    out->struct_size = sizeof *out;
    out->count = p->n_entries;
    out->entries = p->snapshot;
    out->runs = atomic_load_explicit(&p->runs, memory_order_relaxed);
    out->flops = flops;
    uint64_t arena = aglm_memory_arena_bytes(x->mem);
    out->peak_bytes = arena + peak_heap(x);
    out->arena_bytes = arena;
    if (x->trace)
        return rt_trace_write(x);
    return AGLM_OK;
}
