/* What the benchmark tools (bench-gemm.c, bench-conv.c, bench-libs.c) share: a millisecond
 * clock, an ascending comparison for qsort (medians), and a reproducible fill. Header-only:
 * each tool is one translation unit compiled by its script. */
#ifndef AGLM_BENCH_UTIL_H
#define AGLM_BENCH_UTIL_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on clock clk (CLOCK_MONOTONIC for latency, CLOCK_PROCESS_CPUTIME_ID for CPU). */
static inline double bench_now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* qsort comparison of doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p[0..n) with values in [-1, 1) from a linear congruential sequence seeded by seed. */
static inline void bench_fill(float *p, int64_t n, unsigned seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / (float)(1u << 23) - 1.0f;
    }
}

#endif
