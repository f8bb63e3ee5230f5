/* Per-node timing for compile option profile=1.
 *
 * A profiled executable's steps run a wrapper kernel that times the original one. Kernels only
 * see their node, so the wrapper finds its step through a table of every profiled node in the
 * plugin, sorted by node pointer (nodes belong to each executable's private graph clone, so a
 * pointer names one step of one executable). One mutex guards the table and the sums: its cost
 * is two lock round trips per node, only in profiled executables.
 *
 * Peak bytes: intermediates live in the run's arena (exec_memory.h), whose size the plan gives,
 * or, when they fall back to the heap, are freed after their last reader (exec.c's free plan):
 * replaying that plan over the heap output sizes of the last run gives the most heap bytes alive
 * at once (kernel scratch buffers not counted). The profile's peak is the sum of both. */
#include "exec_profile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec_flops.h"
#include "exec_internal.h"
#include "exec_memory.h"

typedef struct prof {
    const cpu_exec *x;
    cpu_kernel *kernels;          /* per step: a copy of its kernel whose run is timed_run */
    const cpu_kernel **orig;      /* per step: the kernel it wraps */
    aglm_profile_entry *entries;  /* per step: the sums */
    aglm_profile_entry *snapshot; /* what cpu_exec_profile hands out */
    uint64_t *slot_bytes;         /* per slot: bytes the last run's producer allocated */
    uint64_t flops;               /* conv/matmul flops over the runs (exec_flops.c) */
} prof;

typedef struct node_ref {
    const aglm_node *node;
    prof *p;
    size_t step;
} node_ref;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static node_ref *refs;
static size_t n_refs;

static int cmp_node(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const node_ref *)a)->node, y = (uintptr_t)((const node_ref *)b)->node;
    return x < y ? -1 : x > y;
}

static const node_ref *find_node(const aglm_node *n)
{
    node_ref key = {n, NULL, 0};
    return bsearch(&key, refs, n_refs, sizeof key, cmp_node);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static aglm_status timed_run(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    pthread_mutex_lock(&lock);
    const node_ref *r = find_node(k->node);
    prof *p = r ? r->p : NULL;
    size_t si = r ? r->step : 0;
    pthread_mutex_unlock(&lock);
    if (!p)
        return aglm_error(AGLM_ERR_INTERNAL, "backend cpu: profile: node '%s' is not profiled",
                          aglm_node_name(k->node));
    /* p stays valid while the run lasts: detach only runs when the executable is freed. */
    double t0 = now_ms();
    aglm_status st = p->orig[si]->run(k, n_in, in, n_out, out);
    double dt = now_ms() - t0;
    pthread_mutex_lock(&lock);
    p->entries[si].calls++;
    p->entries[si].total_ms += dt;
    p->flops += st == AGLM_OK ? exec_flops_node(k->node, n_in, in, n_out, out) : 0;
    const step *s = &p->x->steps[si];
    for (size_t i = 0; st == AGLM_OK && i < n_out && i < s->n_out; i++)
        if (s->out[i] >= 0)
            p->slot_bytes[s->out[i]] =
                out[i].flags & AGLM_TENSOR_OWNS_DATA ? aglm_tensor_nbytes(&out[i]) : 0;
    pthread_mutex_unlock(&lock);
    return st;
}

static void prof_free(prof *p)
{
    if (!p)
        return;
    free(p->kernels);
    free(p->orig);
    free(p->entries);
    free(p->snapshot);
    free(p->slot_bytes);
    free(p);
}

aglm_status exec_profile_attach(cpu_exec *x, const aglm_options *opts)
{
    const char *v = aglm_options_get(opts, "profile");
    if (!v)
        return AGLM_OK;
    int on = aglm_options_get_bool(opts, "profile", -1);
    if (on < 0)
        return aglm_error(AGLM_ERR_INVALID, "backend cpu: option profile = '%s': expected 1 or 0",
                          v);
    if (!on || !x->n_steps)
        return AGLM_OK;
    size_t n = x->n_steps;
    prof *p = calloc(1, sizeof *p);
    if (p) {
        p->x = x;
        p->kernels = calloc(n, sizeof *p->kernels);
        p->orig = calloc(n, sizeof *p->orig);
        p->entries = calloc(n, sizeof *p->entries);
        p->snapshot = calloc(n, sizeof *p->snapshot);
        p->slot_bytes = calloc(x->n_slots ? x->n_slots : 1, sizeof *p->slot_bytes);
    }
    pthread_mutex_lock(&lock);
    node_ref *grown = p ? realloc(refs, (n_refs + n) * sizeof *grown) : NULL;
    if (grown)
        refs = grown;
    if (!p || !p->kernels || !p->orig || !p->entries || !p->snapshot || !p->slot_bytes || !grown) {
        pthread_mutex_unlock(&lock);
        prof_free(p);
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: profile: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        step *s = &x->steps[i];
        p->orig[i] = s->kernel;
        p->kernels[i] = *s->kernel;
        p->kernels[i].run = timed_run;
        s->kernel = &p->kernels[i];
        p->entries[i].node = aglm_node_name(s->node);
        p->entries[i].op = aglm_node_op(s->node);
        refs[n_refs++] = (node_ref){s->node, p, i};
    }
    qsort(refs, n_refs, sizeof *refs, cmp_node);
    pthread_mutex_unlock(&lock);
    return AGLM_OK;
}

void exec_profile_detach(const cpu_exec *x)
{
    prof *p = NULL;
    pthread_mutex_lock(&lock);
    size_t kept = 0;
    for (size_t i = 0; i < n_refs; i++) {
        if (refs[i].p->x == x)
            p = refs[i].p;
        else
            refs[kept++] = refs[i];
    }
    n_refs = kept;
    if (!n_refs) {
        free(refs);
        refs = NULL;
    }
    pthread_mutex_unlock(&lock);
    prof_free(p);
}

/* Replays the free plan over the last run's heap output sizes (arena outputs count 0). */
static uint64_t peak_bytes(const prof *p)
{
    uint64_t live = 0, peak = 0;
    for (size_t i = 0; i < p->x->n_steps; i++) {
        const step *s = &p->x->steps[i];
        for (size_t j = 0; j < s->n_out; j++)
            if (s->out[j] >= 0)
                live += p->slot_bytes[s->out[j]];
        if (live > peak)
            peak = live;
        for (size_t j = 0; j < s->n_free; j++)
            live -= p->slot_bytes[s->free[j]];
    }
    return peak;
}

aglm_status cpu_exec_profile(void *state, aglm_exec *exec, aglm_profile *out)
{
    (void)state;
    const cpu_exec *x = (const cpu_exec *)exec;
    if (!x || !out)
        return aglm_error(AGLM_ERR_INVALID, "backend cpu: profile: NULL executable or profile");
    pthread_mutex_lock(&lock);
    prof *p = NULL;
    uint64_t heap = 0;
    for (size_t i = 0; i < n_refs && !p; i++)
        if (refs[i].p->x == x)
            p = refs[i].p;
    if (p) {
        memcpy(p->snapshot, p->entries, x->n_steps * sizeof *p->snapshot);
        out->struct_size = sizeof *out;
        out->count = x->n_steps;
        out->entries = p->snapshot;
        out->runs = p->entries[0].calls;
        heap = peak_bytes(p);
        out->flops = p->flops;
    }
    pthread_mutex_unlock(&lock);
    if (!p)
        return aglm_error(AGLM_ERR_INVALID, "backend cpu: the executable was compiled without "
                          "option profile=1");
    uint64_t arena = exec_memory_arena_bytes(x->mem);
    out->peak_bytes = arena + heap;
    out->arena_bytes = arena;
    return AGLM_OK;
}
