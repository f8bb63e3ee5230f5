/* The cpu backend's thread pool (plugins/backends/cpu/threadpool.c, compiled into this test):
 * every item of every loop runs exactly once, whether the workers are still spinning from the
 * last loop or asleep on the condition variable; worker indices stay in range; a loop started
 * from inside a loop runs inline; freeing a pool right after a loop returns. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "threadpool.h"

typedef struct count_job {
    atomic_int *hits; /* per item */
    atomic_int bad_worker;
    int threads;
    cpu_pool *pool;    /* for nested loops; NULL: none */
    atomic_int *inner; /* per item of the nested loop */
    size_t inner_n;
} count_job;

static void count_items(void *ctx, size_t b, size_t e, int worker)
{
    count_job *j = ctx;
    if (worker < 0 || worker >= j->threads)
        atomic_fetch_add(&j->bad_worker, 1);
    for (size_t i = b; i < e; i++)
        atomic_fetch_add(&j->hits[i], 1);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Runs a loop of n items with grain g and checks each ran once. */
static void run_and_check(cpu_pool *pool, int threads, size_t n, size_t grain)
{
    atomic_int *hits = calloc(n ? n : 1, sizeof *hits);
    assert_non_null(hits);
    count_job j = {.hits = hits, .threads = threads};
    cpu_parallel_for(pool, n, grain, count_items, &j);
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&hits[i]) != 1)
            fail_msg("loop of %zu items (grain %zu): item %zu ran %d times", n, grain, i,
                     atomic_load(&hits[i]));
    assert_int_equal(atomic_load(&j.bad_worker), 0);
    free(hits);
}

/* Back to back (workers still spinning) and after pauses longer than the spin (workers asleep),
 * with sizes from a single chunk to many. */
static void test_every_item_once(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        cpu_pool *pool = NULL;
        assert_int_equal(cpu_pool_new(threads, &pool), AGLM_OK);
        assert_int_equal(cpu_pool_threads(pool), threads);
        for (int r = 0; r < 400; r++)
            run_and_check(pool, threads, (size_t)(r * 37 % 1000), (size_t)(1 + r % 5));
        for (int r = 0; r < 6; r++) {
            sleep_us(r % 2 ? 200 : 2000); /* past the 40 us spin: workers have gone to sleep */
            run_and_check(pool, threads, 1000, 1);
        }
        cpu_pool_free(pool);
    }
}

static void nested(void *ctx, size_t b, size_t e, int worker)
{
    count_job *j = ctx;
    count_items(ctx, b, e, worker);
    /* The pool is busy with this loop: the inner one must run inline, not wait for it. */
    count_job inner = {.hits = j->inner, .threads = j->threads};
    for (size_t i = b; i < e; i++)
        cpu_parallel_for(j->pool, j->inner_n, 1, count_items, &inner);
    if (atomic_load(&inner.bad_worker))
        atomic_fetch_add(&j->bad_worker, 1);
}

static void test_nested_loop_runs_inline(void **state)
{
    (void)state;
    cpu_pool *pool = NULL;
    assert_int_equal(cpu_pool_new(2, &pool), AGLM_OK);
    enum { N = 64, INNER = 50 };
    atomic_int hits[N], inner[INNER];
    for (int i = 0; i < N; i++)
        atomic_init(&hits[i], 0);
    for (int i = 0; i < INNER; i++)
        atomic_init(&inner[i], 0);
    count_job j = {.hits = hits, .threads = 2, .pool = pool, .inner = inner, .inner_n = INNER};
    cpu_parallel_for(pool, N, 1, nested, &j);
    for (int i = 0; i < N; i++)
        assert_int_equal(atomic_load(&hits[i]), 1);
    for (int i = 0; i < INNER; i++)
        assert_int_equal(atomic_load(&inner[i]), N); /* once per outer item */
    assert_int_equal(atomic_load(&j.bad_worker), 0);
    cpu_pool_free(pool);
}

/* Freeing a pool whose workers are spinning, or asleep, returns; a NULL pool runs inline. */
static void test_free_and_null_pool(void **state)
{
    (void)state;
    for (int r = 0; r < 50; r++) {
        cpu_pool *pool = NULL;
        assert_int_equal(cpu_pool_new(3, &pool), AGLM_OK);
        run_and_check(pool, 3, 100, 1);
        if (r % 10 == 0)
            sleep_us(1000);
        cpu_pool_free(pool);
    }
    cpu_pool_free(NULL);
    assert_int_equal(cpu_pool_threads(NULL), 1);
    run_and_check(NULL, 1, 33, 1);
    cpu_pool *pool = (cpu_pool *)0x1;
    assert_int_equal(cpu_pool_new(0, &pool), AGLM_ERR_INVALID);
    assert_null(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_item_once),
        cmocka_unit_test(test_nested_loop_runs_inline),
        cmocka_unit_test(test_free_and_null_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
