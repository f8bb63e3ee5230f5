/* The f32 GEMM driver (gemm.h): blocks A and B into panels the micro-kernel of the chosen SIMD
 * path reads (gemm_kernel.h), packs constant B once, and splits the blocks over the pool. */
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "gemm_kernel.h"
#include "simd.h"

/* The path's micro-kernel and blocking; both paths' blocks fit any scratch sized below. */
const cpu_gemm_kernel *cpu_gemm_kernel_for(cpu_simd s)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (s == CPU_SIMD_AVX2)
        return &cpu_gemm_avx2;
#endif
    (void)s;
    return &cpu_gemm_portable;
}

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

/* Floats of packed A before packed B starts (B panels stay 64-byte aligned). */
static int64_t a_floats(const cpu_gemm_kernel *kn, int64_t m, int64_t k)
{
    return round_up(round_up(min64(m, kn->mc), kn->mr) * min64(k > 0 ? k : 1, kn->kc), 16);
}

static size_t scratch_for(const cpu_gemm_kernel *kn, int64_t m, int64_t n, int64_t k)
{
    int64_t kc = min64(k > 0 ? k : 1, kn->kc);
    return (size_t)(a_floats(kn, m, k) + kc * round_up(min64(n, kn->nc), kn->nr));
}

/* The largest over every path compiled in, so scratch sized before a change of path (the
 * setting is process-wide) still fits the new one. */
size_t cpu_gemm_scratch_floats(int64_t m, int64_t n, int64_t k)
{
    size_t most = 0;
    for (int s = 0; s < CPU_SIMD_COUNT; s++) {
        size_t f = scratch_for(cpu_gemm_kernel_for((cpu_simd)s), m, n, k);
        most = f > most ? f : most;
    }
    return most;
}

/* op(A)[i0 .. i0+mc) x [p0 .. p0+kc) into R-row panels, k-major inside a panel; rows past the
 * edge are zero so the micro-kernel never branches. One copy per register block, so the panel
 * width is a constant: with a run-time width the copies cost as much as a small multiply. */
#define PACK_A(R)                                                                                  \
    static void pack_a_##R(const cpu_gemm_args *g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, \
                           float *restrict ap)                                                     \
    {                                                                                              \
        for (int64_t ir = 0; ir < mc; ir += R) {                                                   \
            int64_t rows = min64(R, mc - ir);                                                      \
            for (int64_t kk = 0; kk < kc; kk++) {                                                  \
                int64_t p = p0 + kk;                                                               \
                for (int64_t r = 0; r < R; r++) {                                                  \
                    float v = 0.0f;                                                                \
                    if (r < rows) {                                                                \
                        int64_t i = i0 + ir + r;                                                   \
                        v = g->trans_a ? g->a[p * g->lda + i] : g->a[i * g->lda + p];              \
                    }                                                                              \
                    *ap++ = v;                                                                     \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

/* op(B)[p0 .. p0+kc) x [j0 .. j0+nc) into C-column panels, zero-padded at the edge. */
#define PACK_B(C)                                                                                  \
    static void pack_b_##C(const cpu_gemm_args *g, int64_t p0, int64_t kc, int64_t j0, int64_t nc, \
                           float *restrict bp)                                                     \
    {                                                                                              \
        for (int64_t jr = 0; jr < nc; jr += C) {                                                   \
            int64_t cols = min64(C, nc - jr);                                                      \
            for (int64_t kk = 0; kk < kc; kk++) {                                                  \
                int64_t p = p0 + kk, j = j0 + jr;                                                  \
                if (!g->trans_b && cols == C) {                                                    \
                    memcpy(bp, g->b + p * g->ldb + j, C * sizeof(float));                          \
                } else {                                                                           \
                    for (int64_t c = 0; c < C; c++) {                                              \
                        float v = 0.0f;                                                            \
                        if (c < cols)                                                              \
                            v = g->trans_b ? g->b[(j + c) * g->ldb + p]                            \
                                           : g->b[p * g->ldb + j + c];                             \
                        bp[c] = v;                                                                 \
                    }                                                                              \
                }                                                                                  \
                bp += C;                                                                           \
            }                                                                                      \
        }                                                                                          \
    }

PACK_A(4)
PACK_A(6)
PACK_B(8)
PACK_B(16)

static void pack_a(const cpu_gemm_args *g, int mr, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
                   float *ap)
{
    if (mr == 6)
        pack_a_6(g, i0, mc, p0, kc, ap);
    else
        pack_a_4(g, i0, mc, p0, kc, ap);
}

static void pack_b(const cpu_gemm_args *g, int nr, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
                   float *bp)
{
    if (nr == 16)
        pack_b_16(g, p0, kc, j0, nc, bp);
    else
        pack_b_8(g, p0, kc, j0, nc, bp);
}

void cpu_gemm_store(const cpu_gemm_out *o, const float *acc, int stride)
{
    for (int r = 0; r < o->rows; r++) {
        float *c = o->c + r * o->ldc;
        const float *s = acc + r * stride;
        if (!o->first) {
            for (int q = 0; q < o->cols; q++)
                c[q] += o->alpha * s[q];
        } else if (o->beta == 0.0f) {
            for (int q = 0; q < o->cols; q++)
                c[q] = o->alpha * s[q];
        } else {
            for (int q = 0; q < o->cols; q++)
                c[q] = o->alpha * s[q] + o->beta * c[q];
        }
    }
}

/* The portable micro-kernel: 4 x 8 accumulators, sized for 16 SSE registers. Fixed trip counts
 * let the compiler keep them in registers and vectorise over the 8 columns. */
enum { MR = 4, NR = 8 };

static void portable_kernel(int64_t kc, const float *restrict a, const float *restrict b,
                            const cpu_gemm_out *o)
{
    float c[MR][NR] = {{0}};
    for (int64_t p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) {
            const float av = a[p * MR + r];
            for (int j = 0; j < NR; j++)
                c[r][j] += av * b[p * NR + j];
        }
    }
    cpu_gemm_store(o, &c[0][0], NR);
}

/* An MC x KC panel of A stays in L2 while a KC x NR sliver of B streams through L1. No gather
 * kernel: reading B in place through the offset table made gcc spill the accumulators of this
 * 16-register kernel (4x slower), so the convolution driver copies such panels first. */
const cpu_gemm_kernel cpu_gemm_portable = {"portable", MR, NR, 64, 256, 256, portable_kernel, NULL};

size_t cpu_gemm_packed_b_floats(const cpu_gemm_kernel *kn, int64_t k, int64_t n)
{
    return (size_t)(k * round_up(n, kn->nr));
}

void cpu_gemm_pack_b(const cpu_gemm_kernel *kn, const cpu_gemm_args *g, float *dst)
{
    int64_t np = round_up(g->n, kn->nr);
    for (int64_t p0 = 0; p0 < g->k; p0 += kn->kc)
        pack_b(g, kn->nr, p0, min64(kn->kc, g->k - p0), 0, g->n, dst + p0 * np);
}

/* The packed B usable for this tile, or NULL: packed for another path's kernel (the SIMD
 * setting changed since), or a tile not starting on a panel boundary, gets packed per call. */
static const float *packed_for_tile(const cpu_gemm_kernel *kn, const cpu_gemm_packed *pb,
                                    int64_t j0)
{
    return pb && pb->b && pb->kn == kn && j0 % kn->nr == 0 ? pb->b : NULL;
}

/* C[i0 .. i0+mc) x [j0 .. j0+nc); pb, when usable, holds op(B) already packed. */
static void gemm_tile(const cpu_gemm_kernel *kn, const cpu_gemm_args *g, const cpu_gemm_packed *pb,
                      int64_t i0, int64_t mc, int64_t j0, int64_t nc, float *scratch)
{
    if (g->k == 0) {
        /* An empty sum: C = beta * C, and beta == 0 must not read C. */
        for (int64_t i = i0; i < i0 + mc; i++)
            for (int64_t j = j0; j < j0 + nc; j++)
                g->c[i * g->ldc + j] = g->beta == 0.0f ? 0.0f : g->beta * g->c[i * g->ldc + j];
        return;
    }
    float *ap = scratch;
    float *bbuf = scratch + a_floats(kn, g->m, g->k);
    const float *bp = bbuf, *pre = packed_for_tile(kn, pb, j0);
    int64_t np = round_up(g->n, kn->nr);
    cpu_gemm_out o = {.ldc = g->ldc, .alpha = g->alpha, .beta = g->beta};
    for (int64_t p0 = 0; p0 < g->k; p0 += kn->kc) {
        int64_t kc = min64(kn->kc, g->k - p0);
        pack_a(g, kn->mr, i0, mc, p0, kc, ap);
        if (pre)
            bp = pre + p0 * np + j0 * kc;
        else
            pack_b(g, kn->nr, p0, kc, j0, nc, bbuf);
        o.first = p0 == 0;
        for (int64_t jr = 0; jr < nc; jr += kn->nr) {
            o.cols = (int)min64(kn->nr, nc - jr);
            for (int64_t ir = 0; ir < mc; ir += kn->mr) {
                o.rows = (int)min64(kn->mr, mc - ir);
                o.c = g->c + (i0 + ir) * g->ldc + j0 + jr;
                kn->run(kc, ap + ir * kc, bp + jr * kc, &o);
            }
        }
    }
}

/* The tiling of C into jobs for the pool. */
typedef struct tiling {
    const cpu_gemm_kernel *kn;
    const cpu_gemm_args *g;
    const cpu_gemm_packed *pb; /* NULL: B packed per tile */
    int64_t mb, nb;            /* tile size */
    int64_t tiles_n;           /* tiles per row of tiles */
    float *scratch;            /* per worker */
    size_t scratch_floats;
} tiling;

static void tile_range(void *ctx, size_t begin, size_t end, int worker)
{
    const tiling *t = ctx;
    float *scratch = t->scratch + (size_t)worker * t->scratch_floats;
    for (size_t idx = begin; idx < end; idx++) {
        int64_t ti = (int64_t)idx / t->tiles_n, tj = (int64_t)idx % t->tiles_n;
        int64_t i0 = ti * t->mb, j0 = tj * t->nb;
        gemm_tile(t->kn, t->g, t->pb, i0, min64(t->mb, t->g->m - i0), j0,
                  min64(t->nb, t->g->n - j0), scratch);
    }
}

static void plan(tiling *t, const cpu_gemm_kernel *kn, const cpu_gemm_args *g, int threads)
{
    t->kn = kn;
    t->g = g;
    t->mb = kn->mc;
    t->nb = kn->nc;
    int64_t want = 2 * (int64_t)threads, rows = (g->m + t->mb - 1) / t->mb;
    /* Too few tiles to keep the threads busy: split the columns into about equal parts first
     * (halving them would leave a ragged last part: a 303-column im2col block on two threads
     * went 256 + 47), then the rows. */
    if (rows * ((g->n + t->nb - 1) / t->nb) < want) {
        int64_t parts = (want + rows - 1) / rows;
        int64_t nb = round_up((g->n + parts - 1) / parts, kn->nr);
        t->nb = nb < 4 * kn->nr ? min64(4 * kn->nr, t->nb) : min64(nb, t->nb);
    }
    while (((g->m + t->mb - 1) / t->mb) * ((g->n + t->nb - 1) / t->nb) < want && t->mb > 2 * kn->mr)
        t->mb = round_up(t->mb / 2, kn->mr);
    t->tiles_n = (g->n + t->nb - 1) / t->nb;
}

void cpu_sgemm_serial_packed(const cpu_gemm_args *g, const cpu_gemm_packed *pb, float *scratch)
{
    if (g->m <= 0 || g->n <= 0)
        return;
    const cpu_gemm_kernel *kn = cpu_gemm_kernel_for(cpu_simd_active());
    for (int64_t i0 = 0; i0 < g->m; i0 += kn->mc)
        for (int64_t j0 = 0; j0 < g->n; j0 += kn->nc)
            gemm_tile(kn, g, pb, i0, min64(kn->mc, g->m - i0), j0, min64(kn->nc, g->n - j0),
                      scratch);
}

void cpu_sgemm_serial(const cpu_gemm_args *g, float *scratch)
{
    cpu_sgemm_serial_packed(g, NULL, scratch);
}

aglm_status cpu_sgemm(cpu_pool *pool, const cpu_gemm_args *g)
{
    return cpu_sgemm_packed(pool, g, NULL);
}

aglm_status cpu_sgemm_packed(cpu_pool *pool, const cpu_gemm_args *g, const cpu_gemm_packed *pb)
{
    if (g->m <= 0 || g->n <= 0 || cpu_sgemv(pool, g))
        return AGLM_OK;
    int threads = cpu_pool_threads(pool);
    /* Below ~64K multiply-adds the pool's wake-up costs more than it saves. */
    if ((double)g->m * (double)g->n * (double)g->k < 65536.0)
        threads = 1;
    tiling t;
    plan(&t, cpu_gemm_kernel_for(cpu_simd_active()), g, threads);
    t.pb = pb;
    t.scratch_floats = round_up((int64_t)scratch_for(t.kn, g->m, g->n, g->k), 16);
    t.scratch = cpu_alloc_floats(t.scratch_floats * (size_t)threads);
    if (!t.scratch)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for a %lldx%lldx%lld matrix multiply",
                          (long long)g->m, (long long)g->n, (long long)g->k);
    size_t tiles = (size_t)(((g->m + t.mb - 1) / t.mb) * t.tiles_n);
    cpu_parallel_for(threads > 1 ? pool : NULL, tiles, 1, tile_range, &t);
    free(t.scratch);
    return AGLM_OK;
}
