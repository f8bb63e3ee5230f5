/* The cpu backend's executable: a private clone of the graph with shapes inferred, and its nodes
 * as a list of steps in topological order, each bound to a kernel and to value slots.
 *
 * A run keeps every tensor it makes in its own slot array, so any number of threads may run one
 * executable at once; the executable itself is read-only after compile (its memory plans are
 * behind a lock, exec_memory.h). Graph inputs and constants are read in place, never copied.
 * Intermediates live in a per-run arena laid out by the memory plan, or, where the plan has no
 * room for one, on the heap, freed after its last reader.
 *
 * A node holding subgraphs (If, Loop, Scan) has each one compiled into an executable of its own,
 * whose reads of enclosing graphs' values are fed from the calling run's slots; its kernel runs
 * them through exec_subgraph.h (layout in exec_internal.h). */
#ifndef CPU_EXEC_H
#define CPU_EXEC_H

#include "aglm/aglm.h"
#include "threadpool.h"

typedef struct cpu_exec cpu_exec;

/* 1 when the backend has a kernel for node n (op, domain and, when known, input dtype) and for
 * every node of its subgraphs. */
int cpu_exec_supports(const aglm_node *n);

/* Compiles g. Every unsupported node is listed in one error ("backend cpu cannot run 2 nodes:
 * 'n1' (Foo), 'n7' (Bar.baz)"). Option threads=N gives the executable its own pool of N
 * threads; otherwise it runs on `pool` (borrowed: it must outlive the executable). */
aglm_status cpu_exec_compile(const aglm_graph *g, const aglm_options *opts, cpu_pool *pool,
                             cpu_exec **out);

/* Runs x. Inputs are checked against the graph's (count, dtype, shape); outputs are tensors the
 * caller owns and frees with aglm_tensor_free. On failure every output is left empty. */
aglm_status cpu_exec_run(const cpu_exec *x, size_t n_in, const aglm_tensor *inputs, size_t n_out,
                         aglm_tensor *outputs);

/* Parses a thread count setting s (an integer from 1 to 1024) into *threads; an error naming
 * `what` ("[plugin.cpu] threads") and s otherwise. Shared by the plugin's config and compile's
 * threads option (defined in backend.c). */
aglm_status cpu_parse_threads(const char *s, const char *what, int *threads);

/* Threads the executable's loops may use. */
int cpu_exec_threads(const cpu_exec *x);

void cpu_exec_free(cpu_exec *x);

#endif
