/* The cpu backend's thread pool (threadpool.h): workers that spin briefly, then sleep, between
 * parallel loops; and the parsing of thread-count settings. */
#include "threadpool.h"

#include <errno.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* How long a worker (or the caller waiting for them) spins on the next loop before it sleeps
 * on the condition variable: kernels run back to back (ocr-cls: a convolution every ~30 us),
 * and a futex wake costs several microseconds each way. Bounded in time, not in pauses (a pause
 * takes 10 to 150 cycles depending on the CPU), so an idle or oversubscribed pool soon yields
 * its core. */
#define SPIN_NS 40000L

struct cpu_pool {
    int threads;
    pthread_t *workers;
    int num_started;
    /* Held for the whole of one parallel_for; taken with trylock so a busy pool runs inline. */
    pthread_mutex_t run_lock;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_cond_t done;
    /* Bumped per loop (under mu, so sleepers cannot miss it), read by spinning workers
     * without the lock; its release store publishes the loop's fields below. */
    atomic_ulong generation;
    atomic_int stopping;
    atomic_int busy_workers; /* workers still inside the current loop */
    int sleepers;            /* workers waiting on `wake` (under mu) */
    int caller_waiting;      /* the caller waits on `done` (under mu) */
    /* The current loop. */
    cpu_range_fn fn;
    void *ctx;
    size_t n;
    size_t chunk;
    atomic_size_t next;
};

typedef struct worker_arg {
    cpu_pool *pool;
    int index;
} worker_arg;

static void drain(cpu_pool *p, int worker)
{
    for (;;) {
        size_t begin = atomic_fetch_add(&p->next, p->chunk);
        if (begin >= p->n)
            return;
        size_t end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
        p->fn(p->ctx, begin, end, worker);
    }
}

static long elapsed_ns(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

/* Spins up to SPIN_NS until the generation moves past `seen` or the pool stops; 1 if it did. */
static int spin_for_work(cpu_pool *p, unsigned long seen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1;; i++) {
        if (atomic_load_explicit(&p->generation, memory_order_acquire) != seen ||
            atomic_load_explicit(&p->stopping, memory_order_relaxed))
            return 1;
        CPU_RELAX();
        if (i % 16 == 0 && elapsed_ns(&t0) > SPIN_NS)
            return 0;
    }
}

/* Spins up to SPIN_NS until every worker has left the loop; 1 if they have. */
static int spin_for_workers(cpu_pool *p)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1;; i++) {
        if (atomic_load_explicit(&p->busy_workers, memory_order_acquire) == 0)
            return 1;
        CPU_RELAX();
        if (i % 16 == 0 && elapsed_ns(&t0) > SPIN_NS)
            return 0;
    }
}

static void *worker_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    cpu_pool *p = wa.pool;
    unsigned long seen = 0;
    for (;;) {
        if (!spin_for_work(p, seen)) {
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (!atomic_load(&p->stopping) && atomic_load(&p->generation) == seen)
                pthread_cond_wait(&p->wake, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stopping))
            break;
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);
        drain(p, wa.index);
        if (atomic_fetch_sub_explicit(&p->busy_workers, 1, memory_order_acq_rel) == 1) {
            /* The last one out wakes the caller if it gave up spinning. */
            pthread_mutex_lock(&p->mu);
            if (p->caller_waiting)
                pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

int cpu_online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

static void stop_workers(cpu_pool *p)
{
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stopping, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->num_started; i++)
        pthread_join(p->workers[i], NULL);
    p->num_started = 0;
}

aglm_status cpu_pool_new(int threads, cpu_pool **out)
{
    *out = NULL;
    if (threads < 1)
        return aglm_error(AGLM_ERR_INVALID, "thread pool: %d threads, expected at least 1",
                          threads);
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p)
        return aglm_error(AGLM_ERR_NOMEM, "thread pool: out of memory");
    p->threads = threads;
    pthread_mutex_init(&p->run_lock, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->stopping, 0);
    atomic_init(&p->busy_workers, 0);
    if (threads > 1) {
        p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
        if (!p->workers) {
            cpu_pool_free(p);
            return aglm_error(AGLM_ERR_NOMEM, "thread pool: out of memory");
        }
    }
    for (int i = 1; i < threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa) {
            wa->pool = p;
            wa->index = i;
        }
        if (!wa || pthread_create(&p->workers[p->num_started], NULL, worker_main, wa) != 0) {
            free(wa);
            cpu_pool_free(p);
            return aglm_error(AGLM_ERR_NOMEM, "thread pool: cannot start worker %d of %d", i,
                              threads - 1);
        }
        p->num_started++;
    }
    *out = p;
    return AGLM_OK;
}

void cpu_pool_free(cpu_pool *p)
{
    if (!p)
        return;
    stop_workers(p);
    free(p->workers);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->run_lock);
    free(p);
}

int cpu_pool_threads(const cpu_pool *p)
{
    return p ? p->threads : 1;
}

void cpu_parallel_for(cpu_pool *p, size_t n, size_t grain, cpu_range_fn fn, void *ctx)
{
    if (n == 0)
        return;
    if (grain < 1)
        grain = 1;
    if (!p || p->threads < 2 || n <= grain || pthread_mutex_trylock(&p->run_lock) != 0) {
        fn(ctx, 0, n, 0);
        return;
    }
    /* A few chunks per thread balance uneven work without much counter traffic. */
    size_t chunk = n / ((size_t)p->threads * 4);
    if (chunk < grain)
        chunk = grain;

    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk;
    atomic_store(&p->next, 0);
    /* Every worker takes part in every generation (the next loop cannot start before all have
     * left this one); those with nothing to grab leave at once. */
    atomic_store(&p->busy_workers, p->num_started);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    if (p->sleepers > 0)
        pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    drain(p, 0);

    if (!spin_for_workers(p)) {
        pthread_mutex_lock(&p->mu);
        p->caller_waiting = 1;
        while (atomic_load(&p->busy_workers) > 0)
            pthread_cond_wait(&p->done, &p->mu);
        p->caller_waiting = 0;
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&p->run_lock);
}

aglm_status cpu_parse_threads(const char *s, const char *what, int *threads)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 1024)
        return aglm_error(AGLM_ERR_INVALID, "%s = '%s': expected an integer from 1 to 1024", what,
                          s);
    *threads = (int)v;
    return AGLM_OK;
}
