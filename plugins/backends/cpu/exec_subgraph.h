/* Running a node's subgraphs (If branches, Loop and Scan bodies) from its kernel.
 *
 * At compile time every graph attribute of a node is compiled into an executable of its own,
 * whose reads of enclosing graphs' values ("captures") are mapped onto the calling executable's
 * slots. At run time a kernel finds the compiled attribute with cpu_scope_sub and runs it as
 * often as it likes with cpu_scope_run; captured values are read in place from the calling run,
 * which keeps them alive until the node is done. Nothing here is shared between runs. */
#ifndef CPU_EXEC_SUBGRAPH_H
#define CPU_EXEC_SUBGRAPH_H

#include "aglm/aglm.h"
#include "exec.h"
#include "kernels/kernels.h"

/* The executable compiled for graph attribute `attr` of the running node; NULL with an error
 * naming the attribute when the node has none. */
const cpu_exec *cpu_scope_sub(const cpu_kctx *k, const char *attr);

/* The subgraph's IR (input and output counts, declared types). */
const aglm_graph *cpu_sub_graph(const cpu_exec *sub);

/* Runs sub on n_in borrowed inputs (its graph's inputs, in order); outputs are tensors the caller
 * owns. Counts and declared input dtypes are checked; on failure every output is left empty. */
aglm_status cpu_scope_run(const cpu_kctx *k, const cpu_exec *sub, size_t n_in,
                          const aglm_tensor *in, size_t n_out, aglm_tensor *out);

#endif
