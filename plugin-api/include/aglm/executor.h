/* The executor, the top of the backend runtime layer: compiles a graph into a schedule with a
 * memory plan, and runs it by handing each step to the backend's step function with its input
 * tensors, output descriptors and the planned memory lent to each output. It checks inputs and
 * outputs against the graph, frees each intermediate after its last reader, times steps when
 * profiling, and runs subgraph bodies for control-flow kernels. A backend is then its kernels
 * and its device glue (docs/backend-guide.md).
 *
 * Runs keep their tensors in their own slot arrays, so any number of threads may run one
 * executor at once. */
#ifndef AGLM_EXECUTOR_H
#define AGLM_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/export.h"
#include "aglm/memplan.h"
#include "aglm/options.h"
#include "aglm/plugin.h"
#include "aglm/schedule.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aglm_executor aglm_executor;
typedef struct aglm_run aglm_run;

/* What a step function gets. */
typedef struct aglm_step_io {
    const aglm_sched *sched; /* the schedule the step belongs to (a subgraph's, maybe) */
    const aglm_step *step;
    const aglm_tensor *const *in; /* step->n_in inputs, NULL for an absent one */
    aglm_tensor *out;             /* step->n_out empty descriptors for the step to fill */
    const aglm_region *out_mem;   /* step->n_out regions of planned memory (data NULL: none) */
    aglm_run *run;                /* the run, for aglm_run_sub */
} aglm_step_io;

/* Runs one step: fills every io->out[i] (planned memory through aglm_tensor_alloc_in or the
 * backend's own equivalent). On failure it frees its own scratch and says what is wrong; the
 * executor adds the node's name and op and frees whatever outputs were filled. */
typedef aglm_status (*aglm_step_fn)(void *ctx, const aglm_step_io *io);

typedef struct aglm_executor_desc {
    aglm_sched_backend sched;      /* name, supports, bind, unbind, ctx */
    aglm_step_fn step;             /* called with sched.ctx */
    const aglm_device_mem *memory; /* NULL: host memory */
    void *memory_state;
} aglm_executor_desc;

/* Compiles g for the backend d describes: clones g, infers shapes, sorts it, schedules it (one
 * error listing every node the backend cannot run), plans its memory. Options read here:
 * profile=1 (time and FLOPs per step, aglm_executor_profile), trace=FILE.json (a Chrome trace of
 * every run, written when the executor is freed and whenever its profile is read), plan=0 (no
 * memory plan: every intermediate on the heap), precompute=0 (see below). *d is copied.
 *
 * A top-level step whose inputs are all constants (initialisers, or outputs of such steps) and
 * whose op is deterministic runs once here, through the backend's step function; runs skip it
 * and read its outputs as constants, and the steps reading them are bound again, so their bind
 * sees the constants (packed weights). Its outputs are held for the executor's life.
 * precompute=0 runs such steps on every run instead. A step making a graph output always runs. */
AGLM_API aglm_status aglm_executor_new(const aglm_graph *g, const aglm_options *opts,
                                       const aglm_executor_desc *d, aglm_executor **out);

/* Frees x (writing its trace file first, if it has one); NULL is a no-op. No run may be in
 * flight. */
AGLM_API void aglm_executor_free(aglm_executor *x);

/* x's graph (the private clone, shapes inferred) and top-level schedule. */
AGLM_API const aglm_graph *aglm_executor_graph(const aglm_executor *x);
AGLM_API const aglm_sched *aglm_executor_sched(const aglm_executor *x);

/* Runs x. Inputs are checked against the graph (count, dtype, shape) and must be in the
 * backend's memory; outputs are tensors the caller owns (aglm_tensor_free for host memory). On
 * failure every output is left empty and the error names the node that failed. */
AGLM_API aglm_status aglm_executor_run(aglm_executor *x, size_t n_in, const aglm_tensor *inputs,
                                       size_t n_out, aglm_tensor *outputs);

/* Runs subgraph attribute `attr` of the running step (If branches, Loop and Scan bodies) on
 * n_in borrowed inputs; outputs are tensors the caller owns. Counts and declared dtypes are
 * checked. Values of enclosing graphs are read in place from the calling run. Call it from the
 * thread running the step (the run's trace buffer is that thread's). */
AGLM_API aglm_status aglm_run_sub(const aglm_step_io *io, const char *attr, size_t n_in,
                                  const aglm_tensor *in, size_t n_out, aglm_tensor *out);

/* The graph of subgraph attribute attr of the running step, or NULL with an error. */
AGLM_API const aglm_graph *aglm_run_sub_graph(const aglm_step_io *io, const char *attr);

/* Fills *out with time per node summed over the runs so far (subgraph nodes follow the node
 * holding them, named "Loop_1::body::Add_3"), FLOPs, peak and arena bytes. An error when x was
 * compiled without profile=1 or trace=. The entries stay valid until x's next run or free. */
AGLM_API aglm_status aglm_executor_profile(aglm_executor *x, aglm_profile *out);

/* Floating-point operations node's step did on `in` giving `out`: 2 per multiply-add of the
 * ops whose schema counts FLOPs (convolutions, matrix products); 0 for the rest, a non-float
 * output or a missing tensor. */
AGLM_API uint64_t aglm_flops_node(const aglm_node *node, size_t n_in, const aglm_tensor *const *in,
                                  size_t n_out, const aglm_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
