/* The cpu backend's f32 GEMM on every SIMD path this CPU runs: GFLOP/s (median of the timed
 * runs) for a few shapes, the largest difference from the portable path beside each. Built and
 * run by tools/bench-gemm.sh, which compiles this with the backend's GEMM sources. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "kernels/gemm.h"
#include "kernels/simd.h"
#include "threadpool.h"

typedef struct shape {
    const char *what;
    int64_t m, n, k;
} shape;

/* Square sizes, then the shapes the real models' convolutions hand the GEMM (M = output
 * channels, N = output positions, K = input channels x kernel), then a ragged one. */
static const shape shapes[] = {
    {"square", 256, 256, 256},
    {"square", 512, 512, 512},
    {"ocr-det 3x3 96->24 @160x160", 24, 25600, 864},
    {"ocr-det 1x1 24->96 @160x160", 96, 25600, 24},
    {"ocr-rec 1x1 192->384 @6x40", 384, 240, 192},
    {"ragged", 97, 131, 77},
};

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int reps = argc > 2 ? atoi(argv[2]) : 10;
    if (threads < 1 || reps < 1) {
        fprintf(stderr, "usage: bench-gemm [THREADS [REPS]]\n");
        return 2;
    }
    cpu_pool *pool = NULL;
    if (cpu_pool_new(threads, &pool) != AGLM_OK) {
        fprintf(stderr, "bench-gemm: %s\n", aglm_last_error());
        return 1;
    }
    printf("| shape | M x N x K | path | GFLOP/s (threads=%d) | max diff from portable |\n",
           threads);
    printf("| --- | --- | --- | ---: | ---: |\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape *sh = &shapes[s];
        float *a = cpu_alloc_floats((size_t)(sh->m * sh->k));
        float *b = cpu_alloc_floats((size_t)(sh->k * sh->n));
        float *c = cpu_alloc_floats((size_t)(sh->m * sh->n));
        float *ref = cpu_alloc_floats((size_t)(sh->m * sh->n));
        if (!a || !b || !c || !ref) {
            fprintf(stderr, "bench-gemm: out of memory\n");
            return 1;
        }
        bench_fill(a, sh->m * sh->k, 1);
        bench_fill(b, sh->k * sh->n, 2);
        for (int p = 0; p < CPU_SIMD_COUNT; p++) {
            if (!cpu_simd_available((cpu_simd)p))
                continue;
            cpu_simd_select((cpu_simd)p);
            cpu_gemm_args g = {.m = sh->m, .n = sh->n, .k = sh->k, .alpha = 1.0f, .a = a,
                               .lda = sh->k, .b = b, .ldb = sh->n, .c = c, .ldc = sh->n};
            double t[64];
            int n = reps < 64 ? reps : 64;
            cpu_sgemm(pool, &g); /* warm-up */
            for (int r = 0; r < n; r++) {
                double t0 = bench_now_ms(CLOCK_MONOTONIC);
                if (cpu_sgemm(pool, &g) != AGLM_OK) {
                    fprintf(stderr, "bench-gemm: %s\n", aglm_last_error());
                    return 1;
                }
                t[r] = bench_now_ms(CLOCK_MONOTONIC) - t0;
            }
            qsort(t, (size_t)n, sizeof t[0], bench_cmp_double);
            double gflops = 2.0 * sh->m * sh->n * sh->k / (t[n / 2] * 1e6);
            double diff = 0;
            if (p == CPU_SIMD_PORTABLE)
                memcpy(ref, c, (size_t)(sh->m * sh->n) * sizeof *c);
            for (int64_t i = 0; i < sh->m * sh->n; i++)
                diff = fmax(diff, fabs((double)c[i] - ref[i]));
            printf("| %s | %lld x %lld x %lld | %s | %.1f | %.2g |\n", sh->what, (long long)sh->m,
                   (long long)sh->n, (long long)sh->k, cpu_simd_name((cpu_simd)p), gflops, diff);
        }
        free(a);
        free(b);
        free(c);
        free(ref);
    }
    cpu_pool_free(pool);
    return 0;
}
