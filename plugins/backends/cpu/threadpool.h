/* A fixed pool of worker threads for the cpu backend's kernels.
 *
 * One parallel_for runs on the pool at a time. A caller that finds the pool busy (another run on
 * the same executable or backend, or a kernel nested inside a parallel region) runs its loop
 * inline on its own thread instead of waiting, so concurrent runs never block each other and
 * never deadlock. */
#ifndef CPU_THREADPOOL_H
#define CPU_THREADPOOL_H

#include <stddef.h>
#include "aglm/status.h"

typedef struct cpu_pool cpu_pool;

/* Processes items [begin, end). `worker` is in [0, threads): the caller is 0, so per-worker
 * scratch can be indexed by it. */
typedef void (*cpu_range_fn)(void *ctx, size_t begin, size_t end, int worker);

/* A pool running loops on `threads` threads in all (the caller plus threads - 1 workers). */
aglm_status cpu_pool_new(int threads, cpu_pool **out);
/* Joins the workers and frees the pool; NULL is a no-op. No parallel_for may be in flight. */
void cpu_pool_free(cpu_pool *p);
/* Threads a loop may use (1 for a NULL pool). */
int cpu_pool_threads(const cpu_pool *p);

/* Calls fn over [0, n) in chunks of at least `grain` items, spread over the pool, and returns
 * when every item is done. A NULL pool, a single chunk or a busy pool runs fn(ctx, 0, n, 0). */
void cpu_parallel_for(cpu_pool *p, size_t n, size_t grain, cpu_range_fn fn, void *ctx);

/* Online cores of this machine (at least 1). */
int cpu_online_cores(void);

/* Parses a thread count setting s (an integer from 1 to 1024) into *threads; an error naming
 * `what` ("[plugin.cpu] threads") and s otherwise. Shared by the plugin's config and compile's
 * threads option. */
aglm_status cpu_parse_threads(const char *s, const char *what, int *threads);

#endif
