/* Request counters and latency percentiles of a served model: the last SERVED_SAMPLES
 * latencies in a ring, sorted on demand (stats is rare; requests are not). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "served_stats.h"

void served_stats_init(served_stats *st)
{
    memset(st, 0, sizeof *st);
    pthread_mutex_init(&st->lock, NULL);
}

void served_stats_fini(served_stats *st)
{
    pthread_mutex_destroy(&st->lock);
}

void served_stats_record(served_stats *st, int ok, double ms)
{
    pthread_mutex_lock(&st->lock);
    st->requests++;
    if (!ok)
        st->errors++;
    else {
        st->samples[st->next] = ms;
        st->next = (st->next + 1) % SERVED_SAMPLES;
        if (st->filled < SERVED_SAMPLES)
            st->filled++;
    }
    pthread_mutex_unlock(&st->lock);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p% of the samples at or below it. */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

void served_stats_fill(served_stats *st, host_served_info *info)
{
    static _Thread_local double sorted[SERVED_SAMPLES];
    pthread_mutex_lock(&st->lock);
    info->requests = st->requests;
    info->errors = st->errors;
    size_t n = st->filled;
    memcpy(sorted, st->samples, n * sizeof *sorted);
    pthread_mutex_unlock(&st->lock);
    info->p50_ms = info->p90_ms = info->p99_ms = info->max_ms = 0;
    if (n == 0)
        return;
    qsort(sorted, n, sizeof *sorted, cmp_double);
    info->p50_ms = percentile(sorted, n, 50);
    info->p90_ms = percentile(sorted, n, 90);
    info->p99_ms = percentile(sorted, n, 99);
    info->max_ms = sorted[n - 1];
}

double served_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
