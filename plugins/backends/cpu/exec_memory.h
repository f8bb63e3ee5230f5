/* Memory planning for a top-level executable: a run's intermediates live in one arena, laid out
 * by memplan.c from the byte sizes the first run with the same input shapes produced.
 *
 * A run takes a lease: the plan for its input shapes with an arena of its own (arenas are kept
 * on a mutex-guarded free list per plan, so concurrent runs never share one), or, when no plan
 * exists for those shapes yet, nothing but a record of the sizes it produces, from which the
 * plan is built when it gives the lease back. Before each step the executor lends the kernel
 * each output's planned region (exec_memory_prefill: an AGLM_TENSOR_RESERVED descriptor), which
 * aglm_tensor_alloc reuses when the output fits; an output that does not fit, or that the kernel
 * builds another way, is owned heap memory as without a plan. Graph outputs never go in the
 * arena: they are handed to the caller. Subgraph executables (If, Loop, Scan bodies) run
 * unplanned, and the outputs of the nodes holding them stay on the heap. */
#ifndef CPU_EXEC_MEMORY_H
#define CPU_EXEC_MEMORY_H

#include "exec_internal.h"

typedef struct exec_memory exec_memory;
typedef struct mem_plan mem_plan;

/* What one run holds: a plan and its arena, or a record of sizes to plan from. */
typedef struct exec_lease {
    mem_plan *plan;
    unsigned char *arena;
    uint64_t *bytes;     /* recording: per slot, bytes its producer made */
    aglm_dtype *dtypes;  /* recording: per slot, its dtype */
} exec_lease;

/* The planning state of x (built, not a subgraph): which values may go in the arena and which
 * steps may run in place. */
aglm_status exec_memory_new(const cpu_exec *x, exec_memory **out);

/* Frees m, its plans and arenas; no run may hold a lease. */
void exec_memory_free(exec_memory *m);

/* Starts a run on inputs (already checked): the plan for their shapes and an arena, or a
 * recording lease when there is no plan yet. */
aglm_status exec_memory_take(exec_memory *m, size_t n_in, const aglm_tensor *inputs,
                             exec_lease *l);

/* Before step si runs: points outs[i] at the planned region of each output that has one. */
void exec_memory_prefill(const exec_memory *m, const exec_lease *l, size_t si,
                         const aglm_tensor *slots, aglm_tensor *outs);

/* After step si stored its outputs in slots: notes their sizes when l is recording. */
void exec_memory_record(const exec_memory *m, exec_lease *l, size_t si, const aglm_tensor *slots);

/* Ends a run: gives the arena back, or (ok and recording) builds the plan for these input
 * shapes. A plan that cannot be built only leaves the next run unplanned. */
void exec_memory_give(exec_memory *m, exec_lease *l, int ok, size_t n_in,
                      const aglm_tensor *inputs);

/* The arena bytes of the plan the latest run used (0 when it ran unplanned). */
uint64_t exec_memory_arena_bytes(exec_memory *m);

#endif
