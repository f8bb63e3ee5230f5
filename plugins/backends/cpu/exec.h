/* The cpu backend's executable: the runtime layer's executor (aglm/executor.h) with a kernel
 * and its prepared state bound to every step, running on a thread pool.
 *
 * Everything that is not about the CPU (schedule, memory plan, input and output checks,
 * subgraphs, profiling) is the runtime layer's; this file binds kernels to steps and runs them.
 * Any number of threads may run one executable at once. */
#ifndef CPU_EXEC_H
#define CPU_EXEC_H

#include "aglm/aglm.h"
#include "threadpool.h"

typedef struct cpu_exec cpu_exec;

/* 1 when the backend has a kernel for node n (op, domain and, when known, input dtype); on 0,
 * why may get a short reason ("on f16"). Subgraph nodes are asked about separately. */
int cpu_exec_supports(const aglm_node *n, char *why, size_t why_len);

/* Compiles g. Every unsupported node is listed in one error ("backend cpu cannot run 2 nodes:
 * 'n1' (Foo), 'n7' (Bar.baz)"). Option threads=N gives the executable its own pool of N
 * threads; otherwise it runs on `pool` (borrowed: it must outlive the executable). The runtime
 * layer's options (profile, trace, plan) apply too. */
aglm_status cpu_exec_compile(const aglm_graph *g, const aglm_options *opts, cpu_pool *pool,
                             cpu_exec **out);

/* Runs x (aglm_executor_run: inputs checked, outputs owned by the caller). */
aglm_status cpu_exec_run(cpu_exec *x, size_t n_in, const aglm_tensor *inputs, size_t n_out,
                         aglm_tensor *outputs);

/* The profile of x (aglm_executor_profile). */
aglm_status cpu_exec_profile(cpu_exec *x, aglm_profile *out);

/* Frees x; NULL is a no-op. */
void cpu_exec_free(cpu_exec *x);

#endif
