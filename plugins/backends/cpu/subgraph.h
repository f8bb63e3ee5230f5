/* Running a node's subgraphs (If branches, Loop and Scan bodies) from its kernel.
 *
 * The runtime layer schedules every graph attribute of a node when the executable is built and
 * runs it on the calling run's captured values (aglm/executor.h: aglm_run_sub); these are the
 * kernels' names for that, so a kernel never sees the executor. Nothing here is shared between
 * runs. */
#ifndef CPU_SUBGRAPH_H
#define CPU_SUBGRAPH_H

#include "aglm/aglm.h"
#include "kernels/kernels.h"

/* A scheduled graph attribute of the running node. */
typedef aglm_sched_sub cpu_sub;

/* The subgraph for graph attribute `attr` of the running node; NULL with an error naming the
 * attribute when the node has none. */
const cpu_sub *cpu_sub_find(const cpu_kctx *k, const char *attr);

/* The subgraph's IR (input and output counts, declared types). */
const aglm_graph *cpu_sub_graph(const cpu_sub *sub);

/* Runs sub on n_in borrowed inputs (its graph's inputs, in order); outputs are tensors the caller
 * owns. Counts and declared input dtypes are checked; on failure every output is left empty. */
aglm_status cpu_sub_run(const cpu_kctx *k, const cpu_sub *sub, size_t n_in, const aglm_tensor *in,
                        size_t n_out, aglm_tensor *out);

#endif
