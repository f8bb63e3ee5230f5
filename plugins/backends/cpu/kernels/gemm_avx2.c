/* The AVX2 + FMA GEMM micro-kernel: 6 x 16 accumulators (12 of the 16 ymm registers, two for
 * the B row, one for the broadcast A value), the usual shape for this register file. Compiled
 * with a per-function target, so the rest of the plugin stays baseline x86-64. */
#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#include "gemm_kernel.h"

enum { MR = 6, NR = 16 };

#define AVX2 __attribute__((target("avx2,fma")))

/* One full row of the block: C[r] from acc lo/hi, per the store rule of cpu_gemm_out. */
AVX2 static inline void store_row(const cpu_gemm_out *o, int r, __m256 lo, __m256 hi)
{
    float *c = o->c + r * o->ldc;
    const __m256 alpha = _mm256_set1_ps(o->alpha);
    lo = _mm256_mul_ps(alpha, lo);
    hi = _mm256_mul_ps(alpha, hi);
    if (!o->first) {
        lo = _mm256_add_ps(_mm256_loadu_ps(c), lo);
        hi = _mm256_add_ps(_mm256_loadu_ps(c + 8), hi);
    } else if (o->beta != 0.0f) {
        const __m256 beta = _mm256_set1_ps(o->beta);
        lo = _mm256_add_ps(lo, _mm256_mul_ps(beta, _mm256_loadu_ps(c)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(beta, _mm256_loadu_ps(c + 8)));
    }
    _mm256_storeu_ps(c, lo);
    _mm256_storeu_ps(c + 8, hi);
}

/* The multiply and store of both kernels; off NULL reads B packed (row p at b + p * NR), else
 * in place (row p at b + off[p]). Always inlined into the two wrappers below, so each gets a
 * loop without the test. */
AVX2 static inline __attribute__((always_inline)) void block(int64_t kc, const float *a,
                                                             const float *b, const int32_t *off,
                                                             const cpu_gemm_out *o)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t p = 0; p < kc; p++) {
        const float *brow = off ? b + off[p] : b + p * NR;
        const __m256 b0 = _mm256_loadu_ps(brow), b1 = _mm256_loadu_ps(brow + 8);
        __m256 av;
#define ROW(r, lo, hi)                                                                             \
    av = _mm256_broadcast_ss(a + r);                                                               \
    lo = _mm256_fmadd_ps(av, b0, lo);                                                              \
    hi = _mm256_fmadd_ps(av, b1, hi);
        ROW(0, c00, c01)
        ROW(1, c10, c11)
        ROW(2, c20, c21)
        ROW(3, c30, c31)
        ROW(4, c40, c41)
        ROW(5, c50, c51)
#undef ROW
        a += MR;
    }
    if (o->rows == MR && o->cols == NR) {
        store_row(o, 0, c00, c01);
        store_row(o, 1, c10, c11);
        store_row(o, 2, c20, c21);
        store_row(o, 3, c30, c31);
        store_row(o, 4, c40, c41);
        store_row(o, 5, c50, c51);
        return;
    }
    /* An edge block: spill and store only the real rows and columns. */
    float acc[MR * NR] __attribute__((aligned(32)));
    _mm256_store_ps(acc + 0 * NR, c00);
    _mm256_store_ps(acc + 0 * NR + 8, c01);
    _mm256_store_ps(acc + 1 * NR, c10);
    _mm256_store_ps(acc + 1 * NR + 8, c11);
    _mm256_store_ps(acc + 2 * NR, c20);
    _mm256_store_ps(acc + 2 * NR + 8, c21);
    _mm256_store_ps(acc + 3 * NR, c30);
    _mm256_store_ps(acc + 3 * NR + 8, c31);
    _mm256_store_ps(acc + 4 * NR, c40);
    _mm256_store_ps(acc + 4 * NR + 8, c41);
    _mm256_store_ps(acc + 5 * NR, c50);
    _mm256_store_ps(acc + 5 * NR + 8, c51);
    cpu_gemm_store(o, acc, NR);
}

AVX2 static void ukernel(int64_t kc, const float *a, const float *b, const cpu_gemm_out *o)
{
    block(kc, a, b, NULL, o);
}

AVX2 static void gkernel(int64_t kc, const float *a, const float *x, const int32_t *off,
                         const cpu_gemm_out *o)
{
    block(kc, a, x, off, o);
}

/* mc = 72 rows of A (72 KiB at kc = 256) sit in L2 beside the B panel; a 256 x 16 B sliver is
 * 16 KiB of L1. */
const cpu_gemm_kernel cpu_gemm_avx2 = {"avx2", MR, NR, 72, 256, 256, ukernel, gkernel};

#else
/* Not x86-64: the portable path only (ISO C wants at least one declaration here). */
typedef int cpu_gemm_avx2_unused;
#endif
