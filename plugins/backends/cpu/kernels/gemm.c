#include <stdlib.h>
#include <string.h>

#include "gemm.h"

/* Register block (MR x NR accumulators, sized for 16 SSE registers), and cache blocks: an
 * MC x KC panel of A stays in L2 while a KC x NR sliver of B streams through L1. */
enum { MR = 4, NR = 8, MC = 64, KC = 256, NC = 256 };

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t round_up(int64_t x, int64_t m)
{
    return (x + m - 1) / m * m;
}

float *cpu_alloc_floats(size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(float);
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

size_t cpu_gemm_scratch_floats(int64_t m, int64_t n, int64_t k)
{
    int64_t kc = min64(k > 0 ? k : 1, KC);
    return (size_t)(round_up(min64(m, MC), MR) * kc + kc * round_up(min64(n, NC), NR));
}

/* op(A)[i0 .. i0+mc) x [p0 .. p0+kc) into MR-row panels, k-major inside a panel; rows past the
 * edge are zero so the micro-kernel never branches. */
static void pack_a(const cpu_gemm_args *g, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                   float *restrict ap)
{
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t rows = min64(MR, mc - ir);
        for (int64_t kk = 0; kk < kc; kk++) {
            for (int64_t r = 0; r < MR; r++) {
                float v = 0.0f;
                if (r < rows) {
                    int64_t i = i0 + ir + r, p = p0 + kk;
                    v = g->trans_a ? g->a[p * g->lda + i] : g->a[i * g->lda + p];
                }
                *ap++ = v;
            }
        }
    }
}

/* op(B)[p0 .. p0+kc) x [j0 .. j0+nc) into NR-column panels, zero-padded at the edge. */
static void pack_b(const cpu_gemm_args *g, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
                   float *restrict bp)
{
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t cols = min64(NR, nc - jr);
        for (int64_t kk = 0; kk < kc; kk++) {
            int64_t p = p0 + kk, j = j0 + jr;
            if (!g->trans_b && cols == NR) {
                memcpy(bp, g->b + p * g->ldb + j, NR * sizeof(float));
            } else {
                for (int64_t c = 0; c < NR; c++) {
                    float v = 0.0f;
                    if (c < cols)
                        v = g->trans_b ? g->b[(j + c) * g->ldb + p] : g->b[p * g->ldb + j + c];
                    bp[c] = v;
                }
            }
            bp += NR;
        }
    }
}

/* acc = A panel (kc x MR) times B panel (kc x NR). Fixed trip counts let the compiler keep the
 * accumulators in registers and vectorise over the NR columns. */
static void micro_kernel(int64_t kc, const float *restrict a, const float *restrict b,
                         float *restrict acc)
{
    float c[MR][NR] = {{0}};
    for (int64_t p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) {
            const float av = a[p * MR + r];
            for (int j = 0; j < NR; j++)
                c[r][j] += av * b[p * NR + j];
        }
    }
    memcpy(acc, c, sizeof c);
}

static void store(const cpu_gemm_args *g, int64_t i, int64_t j, int64_t rows, int64_t cols,
                  const float *acc, int first)
{
    for (int64_t r = 0; r < rows; r++) {
        float *c = g->c + (i + r) * g->ldc + j;
        const float *s = acc + r * NR;
        if (!first) {
            for (int64_t q = 0; q < cols; q++)
                c[q] += g->alpha * s[q];
        } else if (g->beta == 0.0f) {
            for (int64_t q = 0; q < cols; q++)
                c[q] = g->alpha * s[q];
        } else {
            for (int64_t q = 0; q < cols; q++)
                c[q] = g->alpha * s[q] + g->beta * c[q];
        }
    }
}

/* C[i0 .. i0+mc) x [j0 .. j0+nc). */
static void gemm_tile(const cpu_gemm_args *g, int64_t i0, int64_t mc, int64_t j0, int64_t nc,
                      float *scratch)
{
    if (g->k == 0) {
        /* An empty sum: C = beta * C, and beta == 0 must not read C. */
        for (int64_t i = i0; i < i0 + mc; i++)
            for (int64_t j = j0; j < j0 + nc; j++)
                g->c[i * g->ldc + j] = g->beta == 0.0f ? 0.0f : g->beta * g->c[i * g->ldc + j];
        return;
    }
    float *ap = scratch;
    float *bp = scratch + round_up(min64(g->m, MC), MR) * min64(g->k, KC);
    float acc[MR * NR];
    for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
        int64_t kc = min64(KC, g->k - p0);
        pack_a(g, i0, mc, p0, kc, ap);
        pack_b(g, p0, kc, j0, nc, bp);
        for (int64_t jr = 0; jr < nc; jr += NR) {
            for (int64_t ir = 0; ir < mc; ir += MR) {
                micro_kernel(kc, ap + ir * kc, bp + jr * kc, acc);
                store(g, i0 + ir, j0 + jr, min64(MR, mc - ir), min64(NR, nc - jr), acc, p0 == 0);
            }
        }
    }
}

/* The tiling of C into jobs for the pool. */
typedef struct tiling {
    const cpu_gemm_args *g;
    int64_t mb, nb;       /* tile size */
    int64_t tiles_n;      /* tiles per row of tiles */
    float *scratch;       /* per worker */
    size_t scratch_floats;
} tiling;

static void tile_range(void *ctx, size_t begin, size_t end, int worker)
{
    const tiling *t = ctx;
    float *scratch = t->scratch + (size_t)worker * t->scratch_floats;
    for (size_t idx = begin; idx < end; idx++) {
        int64_t ti = (int64_t)idx / t->tiles_n, tj = (int64_t)idx % t->tiles_n;
        int64_t i0 = ti * t->mb, j0 = tj * t->nb;
        gemm_tile(t->g, i0, min64(t->mb, t->g->m - i0), j0, min64(t->nb, t->g->n - j0), scratch);
    }
}

static void plan(tiling *t, const cpu_gemm_args *g, int threads)
{
    t->g = g;
    t->mb = MC;
    t->nb = NC;
    /* Smaller tiles when the big ones would leave threads idle. */
    for (;;) {
        int64_t tiles = ((g->m + t->mb - 1) / t->mb) * ((g->n + t->nb - 1) / t->nb);
        if (tiles >= 2 * (int64_t)threads)
            break;
        if (t->nb > 4 * NR && t->nb >= g->n / 2)
            t->nb /= 2;
        else if (t->mb > 2 * MR)
            t->mb /= 2;
        else
            break;
    }
    t->tiles_n = (g->n + t->nb - 1) / t->nb;
}

void cpu_sgemm_serial(const cpu_gemm_args *g, float *scratch)
{
    if (g->m <= 0 || g->n <= 0)
        return;
    for (int64_t i0 = 0; i0 < g->m; i0 += MC)
        for (int64_t j0 = 0; j0 < g->n; j0 += NC)
            gemm_tile(g, i0, min64(MC, g->m - i0), j0, min64(NC, g->n - j0), scratch);
}

aglm_status cpu_sgemm(cpu_pool *pool, const cpu_gemm_args *g)
{
    if (g->m <= 0 || g->n <= 0)
        return AGLM_OK;
    int threads = cpu_pool_threads(pool);
    /* Below ~64K multiply-adds the pool's wake-up costs more than it saves. */
    if ((double)g->m * (double)g->n * (double)g->k < 65536.0)
        threads = 1;
    tiling t;
    plan(&t, g, threads);
    t.scratch_floats = round_up((int64_t)cpu_gemm_scratch_floats(g->m, g->n, g->k), 16);
    t.scratch = cpu_alloc_floats(t.scratch_floats * (size_t)threads);
    if (!t.scratch)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for a %lldx%lldx%lld matrix multiply",
                          (long long)g->m, (long long)g->n, (long long)g->k);
    size_t tiles = (size_t)(((g->m + t.mb - 1) / t.mb) * t.tiles_n);
    cpu_parallel_for(threads > 1 ? pool : NULL, tiles, 1, tile_range, &t);
    free(t.scratch);
    return AGLM_OK;
}
