/* The matrix-vector case of the f32 GEMM (m == 1: a MatMul or Gemm of one row, as a classifier
 * head or wakeword's dense layers are). The blocked driver would pack a 6-row panel for one
 * row and repack all of B every call; here B is read once, straight from where it lies. */
#include "gemm.h"
#include "simd.h"

/* Columns per block: the accumulators of one block stay in L1. */
#define COLS 512

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* a_p: element p of the single row of op(A). */
static float a_at(const cpu_gemm_args *g, int64_t p)
{
    return g->trans_a ? g->a[p * g->lda] : g->a[p];
}

static void store(const cpu_gemm_args *g, int64_t j0, const float *acc, int64_t cols)
{
    for (int64_t j = 0; j < cols; j++) {
        float v = g->alpha * acc[j];
        g->c[j0 + j] = g->beta == 0.0f ? v : v + g->beta * g->c[j0 + j];
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))

/* acc[0, cols) += a_p * B[p][j0, j0 + cols) over every p (B not transposed). */
AVX2 static void rows_avx2(const cpu_gemm_args *g, int64_t j0, int64_t cols, float *acc)
{
    int64_t vec = cols / 8 * 8;
    for (int64_t p = 0; p < g->k; p++) {
        const float *b = g->b + p * g->ldb + j0;
        const __m256 av = _mm256_set1_ps(a_at(g, p));
        int64_t j = 0;
        for (; j < vec; j += 8)
            _mm256_storeu_ps(acc + j,
                             _mm256_fmadd_ps(av, _mm256_loadu_ps(b + j), _mm256_loadu_ps(acc + j)));
        for (; j < cols; j++)
            acc[j] += a_at(g, p) * b[j];
    }
}

/* Dot product of the row of A (contiguous: !trans_a) with B's row j (B transposed). */
AVX2 static float dot_avx2(const float *a, const float *b, int64_t k)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int64_t p = 0;
    for (; p + 16 <= k; p += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p), _mm256_loadu_ps(b + p), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p + 8), _mm256_loadu_ps(b + p + 8), s1);
    }
    __m256 s = _mm256_add_ps(s0, s1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float r = _mm_cvtss_f32(h);
    for (; p < k; p++)
        r += a[p] * b[p];
    return r;
}
#endif

static void rows_portable(const cpu_gemm_args *g, int64_t j0, int64_t cols, float *acc)
{
    for (int64_t p = 0; p < g->k; p++) {
        const float *b = g->b + p * g->ldb + j0;
        float av = a_at(g, p);
        for (int64_t j = 0; j < cols; j++)
            acc[j] += av * b[j];
    }
}

/* Column blocks [b, e) of C. */
static void gemv_blocks(void *ctx, size_t b, size_t e, int worker)
{
    const cpu_gemm_args *g = ctx;
    (void)worker;
    int avx2 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    avx2 = cpu_simd_active() == CPU_SIMD_AVX2;
#endif
    float acc[COLS];
    for (size_t blk = b; blk < e; blk++) {
        int64_t j0 = (int64_t)blk * COLS, cols = min64(COLS, g->n - j0);
        for (int64_t j = 0; j < cols; j++)
            acc[j] = 0.0f;
        if (!g->trans_b) {
#if defined(__x86_64__) && defined(__GNUC__)
            if (avx2)
                rows_avx2(g, j0, cols, acc);
            else
#endif
                rows_portable(g, j0, cols, acc);
        } else {
            for (int64_t j = 0; j < cols; j++) {
                const float *brow = g->b + (j0 + j) * g->ldb;
#if defined(__x86_64__) && defined(__GNUC__)
                if (avx2 && !g->trans_a) {
                    acc[j] = dot_avx2(g->a, brow, g->k);
                    continue;
                }
#endif
                float s = 0.0f;
                for (int64_t p = 0; p < g->k; p++)
                    s += a_at(g, p) * brow[p];
                acc[j] = s;
            }
        }
        store(g, j0, acc, cols);
    }
}

int cpu_sgemv(cpu_pool *pool, const cpu_gemm_args *g)
{
    if (g->m != 1 || g->n <= 0 || g->k <= 0)
        return 0;
    size_t blocks = (size_t)((g->n + COLS - 1) / COLS);
    /* Below ~256K multiply-adds one thread finishes before the pool would wake. */
    int parallel = (double)g->n * (double)g->k >= 262144.0 && blocks > 1;
    cpu_parallel_for(parallel ? pool : NULL, blocks, 1, gemv_blocks, (void *)g);
    return 1;
}
