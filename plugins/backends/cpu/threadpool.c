#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct cpu_pool {
    int threads;
    pthread_t *workers;
    int num_started;
    /* Held for the whole of one parallel_for; taken with trylock so a busy pool runs inline. */
    pthread_mutex_t run_lock;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_cond_t done;
    unsigned long generation; /* bumped per loop, so a worker sees each loop once */
    int stopping;
    int busy_workers;         /* workers still inside the current loop */
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

static void *worker_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    cpu_pool *p = wa.pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stopping)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p, wa.index);
        pthread_mutex_lock(&p->mu);
        if (--p->busy_workers == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
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
    p->stopping = 1;
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
        return aglm_error(AGLM_ERR_INVALID, "thread pool: %d threads, expected at least 1", threads);
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p)
        return aglm_error(AGLM_ERR_NOMEM, "thread pool: out of memory");
    p->threads = threads;
    pthread_mutex_init(&p->run_lock, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
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

    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk;
    atomic_store(&p->next, 0);
    /* Every worker wakes for a new generation; those with nothing to grab leave at once. */
    p->busy_workers = p->num_started;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    drain(p, 0);

    pthread_mutex_lock(&p->mu);
    while (p->busy_workers > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->run_lock);
}
