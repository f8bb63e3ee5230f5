/* Memory planning, part of the backend runtime layer: a run's intermediates live in one arena
 * whose layout comes from the values' lifetimes, and an element-wise step may write over an input
 * it reads last. The arena is allocated through the backend's device-memory table, so the same
 * planner serves host and device memory.
 *
 * Sizes come from shape inference when the graph is specialised (every planned value has a
 * static shape: the plan exists before the first run), else from a recording run: the first run
 * with given input shapes notes what each step made, and its plan serves the next runs with those
 * shapes (the last few input shapes keep their plans). Each run takes its own arena from a free
 * list, so concurrent runs never share one. */
#ifndef AGLM_MEMPLAN_H
#define AGLM_MEMPLAN_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/export.h"
#include "aglm/plugin.h"
#include "aglm/schedule.h"
#include "aglm/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Arena offsets are multiples of this: every value starts as aligned as aglm_tensor_alloc's. */
#define AGLM_PLAN_ALIGN 64u
/* The offset of a value that has no place in the arena. */
#define AGLM_PLAN_NONE UINT64_MAX

/* ---- the planner ---------------------------------------------------------------------- */

typedef struct aglm_plan_value {
    int first,
        last;       /* steps producing it and reading it last (inclusive); first < 0: not planned */
    uint64_t bytes; /* 0: not planned */
    int32_t share;  /* a value whose region this one takes over in place (the step producing this
                     * one reads that one last), or -1 */
} aglm_plan_value;

/* Fills offset[i] for each of the n values (AGLM_PLAN_NONE for one not planned) and
 * *arena_bytes with the arena they need: largest first, each into the tightest gap among the
 * placed regions alive at the same time. Errors only when out of memory. */
AGLM_API aglm_status aglm_plan_assign(size_t n, const aglm_plan_value *v, uint64_t *offset,
                                      uint64_t *arena_bytes);

/* bytes rounded up to AGLM_PLAN_ALIGN (0 stays 0). */
AGLM_API uint64_t aglm_plan_round(uint64_t bytes);

/* ---- planned memory lent to a step ---------------------------------------------------- */

/* A region of the run's arena lent to one output of a step. */
typedef struct aglm_region {
    void *data;     /* NULL: nothing lent (allocate as usual) */
    uint64_t bytes; /* its capacity */
    int no_zero;    /* 1: the op writes every element, the region is handed over as it is */
} aglm_region;

/* Fills *t (host memory) for dtype dt and shape dims: in region r when r lends one and the
 * tensor fits (t then borrows it, zeroed unless r->no_zero), else in fresh owned zeroed memory as
 * aglm_tensor_alloc does. r may be NULL. */
AGLM_API aglm_status aglm_tensor_alloc_in(aglm_tensor *t, const aglm_region *r, aglm_dtype dt,
                                          int rank, const int64_t *dims);

/* The device-memory table of host memory (aligned_alloc, free, memcpy). */
AGLM_API const aglm_device_mem *aglm_host_memory(void);

/* ---- plans per executable ------------------------------------------------------------- */

typedef struct aglm_memory aglm_memory;

/* What one run holds: the plan for its input shapes and an arena, or a record of the sizes its
 * steps make, from which the plan is built when the run ends. */
typedef struct aglm_lease {
    void *plan;
    unsigned char *arena;
    uint64_t *bytes;    /* recording: per slot, bytes its producer made */
    aglm_dtype *dtypes; /* recording: per slot, its dtype */
} aglm_lease;

/* The planning state of top-level schedule s, arenas allocated through mem (state: its state
 * argument). Which values are planned and which steps run in place come from the op schema.
 * When every planned value of s has a static shape, the plan for s's input shapes is built at
 * once. */
AGLM_API aglm_status aglm_memory_new(const aglm_sched *s, const aglm_device_mem *mem, void *state,
                                     aglm_memory **out);

/* Frees m, its plans and arenas; no run may hold a lease. NULL is a no-op. */
AGLM_API void aglm_memory_free(aglm_memory *m);

/* Starts a run on inputs (already checked): a plan and arena, or a recording lease. */
AGLM_API aglm_status aglm_memory_take(aglm_memory *m, size_t n_in, const aglm_tensor *inputs,
                                      aglm_lease *l);

/* Before step si runs: fills out_mem[i] for each output that has a planned region (data NULL
 * for the rest); slots are the run's tensors (an in-place region is lent only when its input
 * came out as planned). */
AGLM_API void aglm_memory_lend(const aglm_memory *m, const aglm_lease *l, size_t si,
                               const aglm_tensor *slots, aglm_region *out_mem);

/* After step si stored its outputs in slots: notes their sizes when l is recording. */
AGLM_API void aglm_memory_record(const aglm_memory *m, aglm_lease *l, size_t si,
                                 const aglm_tensor *slots);

/* Ends a run: the arena goes back to the free list, or (ok and recording) the plan for these
 * input shapes is built. A plan that cannot be built only leaves the next run unplanned. */
AGLM_API void aglm_memory_give(aglm_memory *m, aglm_lease *l, int ok, size_t n_in,
                               const aglm_tensor *inputs);

/* Arena bytes of the plan the latest run used (0: it ran unplanned). */
AGLM_API uint64_t aglm_memory_arena_bytes(aglm_memory *m);

/* 1 when m's plan was built from inferred shapes, before any run. */
AGLM_API int aglm_memory_is_static(const aglm_memory *m);

#ifdef __cplusplus
}
#endif
#endif
