/* What the executor (rt_executor.c), its profile (rt_profile.c) and its trace (rt_trace.c)
 * share: the executor's layout and the state of one run. Backends never see it. */
#ifndef AGLM_RT_INTERNAL_H
#define AGLM_RT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "aglm/executor.h"

/* Per profile entry (one per step of every schedule, in the order of aglm_executor_profile):
 * sums updated with relaxed atomics, so concurrent runs need no lock. */
typedef struct rt_entry {
    _Atomic uint64_t calls, ns, flops;
    char *name; /* "node" or "Loop_1::body::node" */
    const aglm_step *step;
} rt_entry;

/* Where a schedule's steps sit among the entries. */
typedef struct rt_sched_map {
    const aglm_sched *sched;
    size_t *entry; /* per step: its entry index */
} rt_sched_map;

/* One step of one run, for the trace. */
typedef struct rt_event {
    uint32_t entry;
    uint32_t tid;
    uint64_t start_ns, dur_ns, flops;
    char shapes[112]; /* input shapes, "[1,3,224,224] [64,3,7,7]" */
} rt_event;

typedef struct rt_trace {
    char *path;           /* the file to write */
    pthread_mutex_t lock; /* guards events, n, cap, dropped, runs */
    rt_event *events;
    size_t n, cap;
    uint64_t dropped; /* events past RT_TRACE_MAX, not kept */
    rt_event *runs;   /* one "run" event per run (entry unused) */
    size_t n_runs, cap_runs;
} rt_trace;

/* At most this many step events are kept per executor (a few tens of MiB): a long benchmark
 * keeps its first runs whole rather than growing without bound. */
#define RT_TRACE_MAX 200000u

typedef struct rt_profile {
    size_t n_entries;
    rt_entry *entries;
    size_t n_maps;
    rt_sched_map *maps;
    aglm_profile_entry *snapshot; /* what aglm_executor_profile hands out */
    _Atomic uint64_t runs;
    uint64_t *slot_bytes; /* top level, per slot: heap bytes the last run's producer made */
    pthread_mutex_t lock; /* guards snapshot */
} rt_profile;

struct aglm_executor {
    aglm_graph *graph;
    aglm_sched *sched;
    aglm_memory *mem; /* NULL with plan=0 */
    aglm_executor_desc desc;
    const aglm_device_mem *memory;
    rt_profile *prof; /* NULL unless profile=1 or trace= */
    rt_trace *trace;  /* NULL unless trace= */
    uint64_t t0_ns;   /* creation time: trace timestamps count from it */
    aglm_tensor *pre; /* per top-level slot: what a precomputed step made */
};

/* One run of one schedule. A subgraph's run points at its caller's for the executor, the
 * trace buffer and the captured tensors. */
struct aglm_run {
    aglm_executor *x;
    const aglm_sched *sched;
    const size_t *entry; /* per step of sched: its profile entry, NULL unprofiled */
    aglm_tensor *slots;  /* this run's tensors */
    rt_event *events;    /* the top-level run's event buffer (trace only) */
    size_t n_events, cap_events;
    struct aglm_run *top;
};

/* Monotonic time in nanoseconds. */
uint64_t rt_now_ns(void);

/* Builds x->prof (and x->trace for trace=) from the options; nothing when neither is asked. */
aglm_status rt_profile_new(aglm_executor *x, const aglm_options *opts);
void rt_profile_free(aglm_executor *x);

/* The entry array of schedule s, or NULL when x is not profiled. */
const size_t *rt_profile_entries(const aglm_executor *x, const aglm_sched *s);

/* After a step ran (top: the top-level run, for its event buffer). */
void rt_profile_step(aglm_run *r, size_t si, uint64_t start_ns, uint64_t end_ns,
                     const aglm_step_io *io, aglm_status st);

/* At the end of a top-level run: counts it and hands its events to the trace. */
void rt_profile_run_done(aglm_run *r, uint64_t start_ns, uint64_t end_ns);

/* Writes x's trace file (Chrome trace event format); an error naming the file. */
aglm_status rt_trace_write(const aglm_executor *x);

#endif
