/* peak.c: this CPU's measured peak f32 multiply-add rate, per SIMD path, on 1 and on T threads.
 *
 *   cc -O2 -fno-tree-vectorize -pthread tools/peak.c -o peak && ./peak [T] [seconds] [repeats]
 *
 * T: threads (default 1); seconds: length of one timed repeat (default 0.05); repeats: default 10.
 *
 * Each path runs a register-only loop of independent multiply-add chains (12 accumulators, enough
 * to cover a 4-5 cycle FMA latency on two pipes) that touches no memory, so what it measures is
 * the arithmetic throughput the cores deliver right now (turbo, SMT siblings and other tenants of
 * a shared machine included). Paths: AVX-512F (16 lanes, only if __builtin_cpu_supports says so),
 * AVX2+FMA (8 lanes) and portable scalar C (x = x * a + b, compiled without vectorisation:
 * 2 flop per element step). A multiply-add counts 2 flop. Each figure is the best of several
 * timed repeats (noise only slows a loop down). Threads start together behind a barrier; the
 * T-thread rate is all threads' flop over the wall time from the barrier to the last finish.
 *
 * Output, one line per path and thread count, then a line naming the widest path:
 *   path avx2-fma threads 1 gflops 78.3
 *   path avx2-fma threads 2 gflops 155.9
 *   widest avx2-fma
 * A path the CPU lacks prints "path avx512f skipped (not on this CPU)".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PEAK_X86 1
#endif

#define NACC 12

static volatile float sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Each kernel runs n iterations of NACC independent multiply-adds and returns the flop done. */

static double kernel_scalar(long n)
{
    volatile float va = 0.999999f, vb = 1e-6f;
    float a = va, b = vb;
    float x0 = 1, x1 = 2, x2 = 3, x3 = 4, x4 = 5, x5 = 6, x6 = 7, x7 = 8, x8 = 9, x9 = 10, x10 = 11,
          x11 = 12;
    for (long i = 0; i < n; i++) {
        x0 = x0 * a + b;
        x1 = x1 * a + b;
        x2 = x2 * a + b;
        x3 = x3 * a + b;
        x4 = x4 * a + b;
        x5 = x5 * a + b;
        x6 = x6 * a + b;
        x7 = x7 * a + b;
        x8 = x8 * a + b;
        x9 = x9 * a + b;
        x10 = x10 * a + b;
        x11 = x11 * a + b;
    }
    sink = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11;
    return 2.0 * NACC * (double)n;
}

#ifdef PEAK_X86
__attribute__((target("avx2,fma"))) static double kernel_avx2(long n)
{
    volatile float va = 0.999999f, vb = 1e-6f;
    __m256 a = _mm256_set1_ps(va), b = _mm256_set1_ps(vb);
    __m256 x0 = _mm256_set1_ps(1), x1 = _mm256_set1_ps(2), x2 = _mm256_set1_ps(3),
           x3 = _mm256_set1_ps(4), x4 = _mm256_set1_ps(5), x5 = _mm256_set1_ps(6),
           x6 = _mm256_set1_ps(7), x7 = _mm256_set1_ps(8), x8 = _mm256_set1_ps(9),
           x9 = _mm256_set1_ps(10), x10 = _mm256_set1_ps(11), x11 = _mm256_set1_ps(12);
    for (long i = 0; i < n; i++) {
        x0 = _mm256_fmadd_ps(x0, a, b);
        x1 = _mm256_fmadd_ps(x1, a, b);
        x2 = _mm256_fmadd_ps(x2, a, b);
        x3 = _mm256_fmadd_ps(x3, a, b);
        x4 = _mm256_fmadd_ps(x4, a, b);
        x5 = _mm256_fmadd_ps(x5, a, b);
        x6 = _mm256_fmadd_ps(x6, a, b);
        x7 = _mm256_fmadd_ps(x7, a, b);
        x8 = _mm256_fmadd_ps(x8, a, b);
        x9 = _mm256_fmadd_ps(x9, a, b);
        x10 = _mm256_fmadd_ps(x10, a, b);
        x11 = _mm256_fmadd_ps(x11, a, b);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)),
                             _mm256_add_ps(_mm256_add_ps(x4, x5), _mm256_add_ps(x6, x7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(x8, x9), _mm256_add_ps(x10, x11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    sink = out[0] + out[7];
    return 2.0 * 8 * NACC * (double)n;
}

__attribute__((target("avx512f"))) static double kernel_avx512(long n)
{
    volatile float va = 0.999999f, vb = 1e-6f;
    __m512 a = _mm512_set1_ps(va), b = _mm512_set1_ps(vb);
    __m512 x0 = _mm512_set1_ps(1), x1 = _mm512_set1_ps(2), x2 = _mm512_set1_ps(3),
           x3 = _mm512_set1_ps(4), x4 = _mm512_set1_ps(5), x5 = _mm512_set1_ps(6),
           x6 = _mm512_set1_ps(7), x7 = _mm512_set1_ps(8), x8 = _mm512_set1_ps(9),
           x9 = _mm512_set1_ps(10), x10 = _mm512_set1_ps(11), x11 = _mm512_set1_ps(12);
    for (long i = 0; i < n; i++) {
        x0 = _mm512_fmadd_ps(x0, a, b);
        x1 = _mm512_fmadd_ps(x1, a, b);
        x2 = _mm512_fmadd_ps(x2, a, b);
        x3 = _mm512_fmadd_ps(x3, a, b);
        x4 = _mm512_fmadd_ps(x4, a, b);
        x5 = _mm512_fmadd_ps(x5, a, b);
        x6 = _mm512_fmadd_ps(x6, a, b);
        x7 = _mm512_fmadd_ps(x7, a, b);
        x8 = _mm512_fmadd_ps(x8, a, b);
        x9 = _mm512_fmadd_ps(x9, a, b);
        x10 = _mm512_fmadd_ps(x10, a, b);
        x11 = _mm512_fmadd_ps(x11, a, b);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x0, x1), _mm512_add_ps(x2, x3)),
                             _mm512_add_ps(_mm512_add_ps(x4, x5), _mm512_add_ps(x6, x7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(x8, x9), _mm512_add_ps(x10, x11)));
    sink = _mm512_reduce_add_ps(s);
    return 2.0 * 16 * NACC * (double)n;
}
#endif

typedef double (*kernel_fn)(long);

struct job {
    kernel_fn fn;
    long n;
    pthread_barrier_t *bar;
};

static void *worker(void *p)
{
    struct job *j = p;
    pthread_barrier_wait(j->bar);
    j->fn(j->n);
    return NULL;
}

/* Rate of fn on t threads, each running n iterations: the flop of all over the wall time. */
static double rate(kernel_fn fn, long n, int t)
{
    pthread_t th[256];
    struct job jobs[256];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)t + 1);
    for (int i = 0; i < t; i++) {
        jobs[i] = (struct job){fn, n, &bar};
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    pthread_barrier_wait(&bar);
    double t0 = now();
    for (int i = 0; i < t; i++)
        pthread_join(th[i], NULL);
    double dt = now() - t0;
    pthread_barrier_destroy(&bar);
    return (double)t * 2.0 * NACC * (double)n / dt; /* x lanes: per-element flop */
}

static int repeats = 10;

static void measure(const char *name, kernel_fn fn, int lanes, int threads, double seconds)
{
    /* Calibrate: iterations for about `seconds` per repeat on one thread. */
    long n = 1 << 16;
    for (;;) {
        double t0 = now();
        fn(n);
        double dt = now() - t0;
        if (dt > 0.02) {
            n = (long)(n * seconds / dt) + 1;
            break;
        }
        n *= 4;
    }
    int counts[2] = {1, threads};
    for (int c = 0; c < (threads > 1 ? 2 : 1); c++) {
        double best = 0;
        for (int r = 0; r < repeats; r++) {
            double g = rate(fn, n, counts[c]) * lanes / 1e9;
            if (g > best)
                best = g;
        }
        printf("path %s threads %d gflops %.1f\n", name, counts[c], best);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    double seconds = argc > 2 ? atof(argv[2]) : 0.05;
    if (argc > 3)
        repeats = atoi(argv[3]);
    if (repeats < 1)
        repeats = 1;
    if (threads < 1)
        threads = 1;
    if (threads > 256)
        threads = 256;
    const char *widest = "scalar";
#ifdef PEAK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        measure("avx512f", kernel_avx512, 16, threads, seconds);
        widest = "avx512f";
    } else {
        printf("path avx512f skipped (not on this CPU)\n");
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        measure("avx2-fma", kernel_avx2, 8, threads, seconds);
        if (widest[0] == 's')
            widest = "avx2-fma";
    } else {
        printf("path avx2-fma skipped (not on this CPU)\n");
    }
#endif
    measure("scalar", kernel_scalar, 1, threads, seconds);
    printf("widest %s\n", widest);
    return 0;
}
