/* The cpu backend's convolution driver (kernels/conv_gemm.c) on the real models' heaviest
 * non-depthwise conv shapes, beside the im2col + GEMM lowering it replaced (the whole im2col
 * matrix built, then cpu_sgemm): median ms and GFLOP/s per SIMD path, and the largest difference
 * between the two. Built and run by tools/bench-conv.sh with the backend's sources. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "kernels/conv_gemm.h"
#include "kernels/gemm.h"
#include "kernels/simd.h"
#include "threadpool.h"

typedef struct shape {
    const char *what;
    int64_t c, h, w, m, k, s, pad;
} shape;

static const shape shapes[] = {
    {"ocr-det Conv.58 3x3 96->24 @160", 96, 160, 160, 24, 3, 1, 1},
    {"ocr-det Conv.2 1x1 16->32 @320", 16, 320, 320, 32, 1, 1, 0},
    {"ocr-det Conv.6 1x1 48->48 @160", 48, 160, 160, 48, 1, 1, 0},
    {"ocr-det Conv.0 3x3/2 3->16 @640", 3, 640, 640, 16, 3, 2, 1},
    {"ocr-rec 1x1 240->240 @12x80", 240, 12, 80, 240, 1, 1, 0},
    {"ocr-rec 1x1 480->480 @6x80", 480, 6, 80, 480, 1, 1, 0},
    {"ocr-cls 1x1 32->200 @2x96", 32, 2, 96, 200, 1, 1, 0},
    {"ocr-cls 1x1 8->32 @6x96", 8, 6, 96, 32, 1, 1, 0},
    {"ocr-cls Conv.0 3x3/2 3->8 @48x192", 3, 48, 192, 8, 3, 2, 1},
};

/* The whole im2col matrix [c * k * k, oh * ow] of a 2-D window. */
static void im2col(const aglm_window *w, int64_t c, const float *x, float *col)
{
    int64_t n = w->out[1] * w->out[2];
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t kh = 0; kh < w->k[1]; kh++)
            for (int64_t kw = 0; kw < w->k[2]; kw++) {
                float *row = col + ((ch * w->k[1] + kh) * w->k[2] + kw) * n;
                for (int64_t oh = 0; oh < w->out[1]; oh++)
                    for (int64_t ow = 0; ow < w->out[2]; ow++) {
                        int64_t ih = oh * w->s[1] - w->pb[1] + kh, iw = ow * w->s[2] - w->pb[2] + kw;
                        int ok = ih >= 0 && ih < w->in[1] && iw >= 0 && iw < w->in[2];
                        row[oh * w->out[2] + ow] = ok ? x[(ch * w->in[1] + ih) * w->in[2] + iw] : 0.0f;
                    }
            }
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof t[0], bench_cmp_double);
    return t[n / 2];
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int reps = argc > 2 ? atoi(argv[2]) : 10;
    const char *only = argc > 3 ? argv[3] : ""; /* shapes whose name contains this */
    if (threads < 1 || reps < 1) {
        fprintf(stderr, "usage: bench-conv [THREADS [REPS [NAME-FILTER]]]\n");
        return 2;
    }
    if (reps > 64)
        reps = 64;
    cpu_pool *pool = NULL;
    if (cpu_pool_new(threads, &pool) != AGLM_OK) {
        fprintf(stderr, "bench-conv: %s\n", aglm_last_error());
        return 1;
    }
    cpu_kctx k = {.pool = pool};
    printf("| shape | path | conv_gemm ms (min) | GFLOP/s | im2col+sgemm ms (min) | GFLOP/s | max diff |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape *sh = &shapes[s];
        if (!strstr(sh->what, only))
            continue;
        aglm_window w = {.nd = 2};
        for (int i = 0; i < 3; i++)
            w.in[i] = w.out[i] = w.k[i] = w.s[i] = w.d[i] = 1;
        w.in[1] = sh->h;
        w.in[2] = sh->w;
        w.k[1] = w.k[2] = sh->k;
        w.s[1] = w.s[2] = sh->s;
        w.pb[1] = w.pb[2] = w.pe[1] = w.pe[2] = sh->pad;
        w.out[1] = (sh->h + 2 * sh->pad - sh->k) / sh->s + 1;
        w.out[2] = (sh->w + 2 * sh->pad - sh->k) / sh->s + 1;
        int64_t kdim = sh->c * sh->k * sh->k, n = w.out[1] * w.out[2];
        float *x = cpu_alloc_floats((size_t)(sh->c * sh->h * sh->w));
        float *wt = cpu_alloc_floats((size_t)(sh->m * kdim));
        float *bias = cpu_alloc_floats((size_t)sh->m);
        float *y = cpu_alloc_floats((size_t)(sh->m * n)), *y2 = cpu_alloc_floats((size_t)(sh->m * n));
        float *col = cpu_alloc_floats((size_t)(kdim * n));
        if (!x || !wt || !bias || !y || !y2 || !col) {
            fprintf(stderr, "bench-conv: out of memory\n");
            return 1;
        }
        bench_fill(x, sh->c * sh->h * sh->w, 1);
        bench_fill(wt, sh->m * kdim, 2);
        bench_fill(bias, sh->m, 3);
        double gflop = 2.0 * (double)sh->m * (double)n * (double)kdim / 1e9;
        for (int p = 0; p < CPU_SIMD_COUNT; p++) {
            if (!cpu_simd_available((cpu_simd)p))
                continue;
            cpu_simd_select((cpu_simd)p);
            cpu_conv_packed pk;
            if (cpu_conv_pack(wt, 1, sh->m, kdim, (cpu_simd)p, &pk) != AGLM_OK) {
                fprintf(stderr, "bench-conv: %s\n", aglm_last_error());
                return 1;
            }
            double t[64], t2[64];
            for (int r = -1; r < reps; r++) {
                double t0 = bench_now_ms(CLOCK_MONOTONIC);
                if (cpu_conv_gemm(&k, &w, x, 1, sh->c, &pk, bias, NULL, y) != AGLM_OK) {
                    fprintf(stderr, "bench-conv: %s\n", aglm_last_error());
                    return 1;
                }
                if (r >= 0)
                    t[r] = bench_now_ms(CLOCK_MONOTONIC) - t0;
            }
            for (int r = -1; r < reps; r++) {
                double t0 = bench_now_ms(CLOCK_MONOTONIC);
                for (int64_t i = 0; i < sh->m; i++)
                    for (int64_t q = 0; q < n; q++)
                        y2[i * n + q] = bias[i];
                im2col(&w, sh->c, x, col);
                cpu_gemm_args g = {.m = sh->m, .n = n, .k = kdim, .alpha = 1.0f, .a = wt,
                                   .lda = kdim, .b = col, .ldb = n, .beta = 1.0f, .c = y2,
                                   .ldc = n};
                if (cpu_sgemm(pool, &g) != AGLM_OK) {
                    fprintf(stderr, "bench-conv: %s\n", aglm_last_error());
                    return 1;
                }
                if (r >= 0)
                    t2[r] = bench_now_ms(CLOCK_MONOTONIC) - t0;
            }
            double diff = 0;
            for (int64_t i = 0; i < sh->m * n; i++)
                diff = fmax(diff, fabs((double)y[i] - y2[i]));
            /* Medians for the GFLOP/s; minimums beside them, since a loaded machine's
             * preemptions only ever add time. */
            double a = median(t, reps), b = median(t2, reps);
            printf("| %s | %s | %.3f (%.3f) | %.1f | %.3f (%.3f) | %.1f | %.2g |\n", sh->what,
                   cpu_simd_name((cpu_simd)p), a, t[0], gflop / a * 1e3, b, t2[0],
                   gflop / b * 1e3, diff);
            cpu_conv_packed_free(&pk);
        }
        free(x);
        free(wt);
        free(bias);
        free(y);
        free(y2);
        free(col);
    }
    cpu_pool_free(pool);
    return 0;
}
