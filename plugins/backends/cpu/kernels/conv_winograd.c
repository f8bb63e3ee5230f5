/* Winograd F(2x2, 3x3) (conv_winograd.h), after Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks" (2015):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
 *   A^T = [1 1 1 0; 0 1 -1 -1],  Y = A^T [(G g G^T) .* (B^T d B)] A  per 2x2 output tile.
 * Work items are runs of TB tiles along one tile row of one image. Per item, every input
 * channel's 4 padded input rows are transformed into V (16 planes of C x TB, each run of nr
 * tiles laid out as the micro-kernel's packed B panel), the 16 GEMMs U_xi [M, C] x V_xi
 * [C, TB] land in Mb (16 planes of Mp x TB), and the output transform writes 2 output rows. */
#include <stdlib.h>
#include <string.h>

#include "conv_winograd.h"
#include "gemm.h"
#include "gemm_kernel.h"

/* Tiles per work item: V is 16 * C * TB floats (192 KiB at C = 96), kept in L2 while the 16
 * GEMMs read it. A multiple of every path's nr (8, 16). */
#define TB 32
/* Below this many channels on either side the transforms cost more than they save. */
#define MIN_CHANNELS 16
/* Output planes smaller than this (ocr-det's 80 x 80 and below) run faster direct: their input
 * stays in cache, so the direct driver is compute-bound near peak while the transforms are not
 * free. Winograd pays where the direct driver waits on memory (160 x 160 x 96 channels). */
#define MIN_PLANE 16384

int cpu_conv_winograd_fits(const aglm_window *w, int64_t group, int64_t channels, int64_t m)
{
    return group == 1 && channels >= MIN_CHANNELS && m >= MIN_CHANNELS / 2 && w->in[0] == 1 &&
           w->out[1] * w->out[2] >= MIN_PLANE && w->k[0] == 1 && w->k[1] == 3 && w->k[2] == 3 &&
           w->s[1] == 1 && w->s[2] == 1 && w->d[1] == 1 && w->d[2] == 1 && w->out[1] >= 2 &&
           w->out[2] >= 2;
}

aglm_status cpu_conv_winograd_pack(const float *w, int64_t m, int64_t channels, cpu_simd s,
                                   cpu_conv_packed *out)
{
    memset(out, 0, sizeof *out);
    size_t n = (size_t)(16 * m * channels);
    float *u = malloc((n ? n : 1) * sizeof *u);
    if (!u)
        return aglm_error(AGLM_ERR_NOMEM,
                          "out of memory transforming Winograd weights (%zu "
                          "floats)",
                          n);
    /* u[xi][m][c] = (G g G^T)[i][j], xi = 4 i + j. */
    for (int64_t o = 0; o < m; o++)
        for (int64_t c = 0; c < channels; c++) {
            const float *g = w + (o * channels + c) * 9;
            float t[4][3]; /* G g: 4 x 3 */
            for (int col = 0; col < 3; col++) {
                float g0 = g[col], g1 = g[3 + col], g2 = g[6 + col];
                t[0][col] = g0;
                t[1][col] = 0.5f * (g0 + g1 + g2);
                t[2][col] = 0.5f * (g0 - g1 + g2);
                t[3][col] = g2;
            }
            for (int i = 0; i < 4; i++) {
                float r[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]),
                              0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
                for (int j = 0; j < 4; j++)
                    u[((int64_t)(4 * i + j) * m + o) * channels + c] = r[j];
            }
        }
    aglm_status st = cpu_conv_pack(u, 16, m, channels, s, out);
    free(u);
    if (st == AGLM_OK)
        out->winograd = 1;
    return st;
}

typedef struct wino_job {
    const cpu_gemm_kernel *kn;
    const aglm_window *w;
    const float *x;
    const cpu_conv_packed *u;
    const float *bias;
    const cpu_conv_epilogue *ep;
    float *y;
    int64_t channels, m, th, tw, blocks; /* tile rows, tiles per row, TB-blocks per row */
    float *scratch; /* per worker: V, then Mb, then 4 padded rows and 4 transformed rows */
    size_t scratch_floats;
} wino_job;

/* Parity-split entries kept per input row: TB + 1 are used, the rest let every loop below run
 * a constant TB or NP times (what -O2 vectorises). */
enum { NP = TB + 8 };

/* The column half of B^T d B for `runs` runs of nr tiles of one transformed row pair (es: even
 * columns, os: odd), into 4 planes `plane` floats apart, runs of nr tiles run_stride floats apart.
 * Inlined with nr a constant, so the inner loop has a fixed trip count and vectorises. */
static inline __attribute__((always_inline)) void col_transform(const float *restrict es,
                                                                const float *restrict os,
                                                                float *restrict v, int64_t plane,
                                                                int64_t run_stride, int64_t nr,
                                                                int64_t runs)
{
    for (int64_t run = 0; run < runs; run++, es += nr, os += nr, v += run_stride)
        for (int64_t q = 0; q < nr; q++) {
            v[q] = es[q] - es[q + 1];
            v[plane + q] = os[q] + es[q + 1];
            v[2 * plane + q] = es[q + 1] - os[q];
            v[3 * plane + q] = os[q] - os[q + 1];
        }
}

/* V for channel c of the first `used` runs of nr tiles from t0 on tile row r (tiles past the row's
 * end read zero padding or real columns: finite values whose GEMM columns are never stored). Tile
 * t's 4x4 patch starts at padded column 2 t, so its columns are even[t], odd[t], even[t + 1], odd[t
 * + 1] of the rows split by parity: every step below is then unit-stride. `row` holds 8 * NP floats
 * (then the output transform uses 4 * TB of it, hence the max). */
CPU_VECTORISE static void input_transform(const wino_job *j, const float *xc, int64_t r, int64_t t0,
                                          int64_t used, float *row, float *v, int64_t c)
{
    const aglm_window *w = j->w;
    int64_t nr = j->kn->nr, runs = TB / nr, ch = j->channels, in2 = w->in[2];
    int64_t x0 = 2 * t0 - w->pb[2];
    /* Columns [lo, hi) of the span [x0, x0 + 2 NP) are inside the image. */
    int64_t lo = x0 < 0 ? -x0 : 0, hi = in2 - x0 < 2 * NP ? in2 - x0 : 2 * NP;
    float *restrict e = row, *restrict o = e + 4 * NP; /* row i at i * NP */
    for (int i = 0; i < 4; i++) {
        float *restrict ei = e + i * NP, *restrict oi = o + i * NP;
        int64_t h = 2 * r - w->pb[1] + i;
        if (h < 0 || h >= w->in[1]) {
            memset(ei, 0, NP * sizeof *ei);
            memset(oi, 0, NP * sizeof *oi);
            continue;
        }
        /* Entries t whose two columns lie inside the image are read directly; the few at
         * the image's edges test each column (outside is the zero padding). */
        const float *xr = xc + h * in2;
        int64_t ta = (lo + 1) / 2, tb = hi / 2;
        for (int64_t t = 0; t < NP; t++) {
            if (t == ta && ta < tb) {
                const float *src = xr + x0 + 2 * ta;
                float *restrict ed = ei + ta, *restrict od = oi + ta;
                for (int64_t q = 0; q < tb - ta; q++) {
                    ed[q] = src[2 * q];
                    od[q] = src[2 * q + 1];
                }
                t = tb;
                if (t >= NP)
                    break;
            }
            int64_t col = x0 + 2 * t;
            ei[t] = col >= 0 && col < in2 ? xr[col] : 0.0f;
            oi[t] = col + 1 >= 0 && col + 1 < in2 ? xr[col + 1] : 0.0f;
        }
    }
    /* B^T d over the 4 rows, in place: s0 = d0 - d2, s1 = d1 + d2, s2 = d2 - d1, s3 = d1 - d3. */
    for (int half = 0; half < 2; half++) {
        float *restrict d0 = half ? o : e, *restrict d1 = d0 + NP, *restrict d2 = d1 + NP;
        float *restrict d3 = d2 + NP;
        for (int t = 0; t < NP; t++) {
            float a = d0[t], b = d1[t], cc = d2[t], dd = d3[t];
            d0[t] = a - cc;
            d1[t] = b + cc;
            d2[t] = cc - b;
            d3[t] = b - dd;
        }
    }
    /* (B^T d) B per tile, straight into plane xi = 4 i + jx, run t / nr, column t % nr. */
    for (int i = 0; i < 4; i++) {
        const float *es = e + i * NP, *os = o + i * NP;
        float *vi = v + ((int64_t)(4 * i) * runs * ch + c) * nr;
        int64_t plane = runs * ch * nr, run_stride = ch * nr;
        if (nr == 16)
            col_transform(es, os, vi, plane, run_stride, 16, used);
        else if (nr == 8)
            col_transform(es, os, vi, plane, run_stride, 8, used);
        else
            col_transform(es, os, vi, plane, run_stride, nr, used);
    }
}

CPU_VECTORISE static void wino_items(void *ctx, size_t begin, size_t end, int worker)
{
    const wino_job *j = ctx;
    const aglm_window *w = j->w;
    const cpu_gemm_kernel *kn = j->kn;
    const cpu_conv_packed *u = j->u;
    int64_t nr = kn->nr, mr = kn->mr, runs = TB / nr, ch = j->channels, mp = u->mgp;
    int64_t oh = w->out[1], ow = w->out[2], out_size = oh * ow;
    float *v = j->scratch + (size_t)worker * j->scratch_floats;
    float *mb = v + 16 * ch * TB;
    float *rows = mb + 16 * mp * TB;
    for (size_t idx = begin; idx < end; idx++) {
        int64_t t = (int64_t)idx, blk = t % j->blocks;
        t /= j->blocks;
        int64_t r = t % j->th, n = t / j->th;
        int64_t t0 = blk * TB, len = j->tw - t0 < TB ? j->tw - t0 : TB;
        int64_t used = (len + nr - 1) / nr; /* runs of nr tiles with any real one */
        const float *xn = j->x + n * ch * w->in[1] * w->in[2];
        for (int64_t c = 0; c < ch; c++)
            input_transform(j, xn + c * w->in[1] * w->in[2], r, t0, used, rows, v, c);
        /* The 16 GEMMs, K in blocks of the path's kc. */
        cpu_gemm_out o = {.ldc = TB, .rows = (int)mr, .cols = (int)nr, .alpha = 1.0f};
        for (int64_t xi = 0; xi < 16; xi++)
            for (int64_t run = 0; run < used; run++) {
                const float *bpanel = v + (xi * runs + run) * ch * nr;
                for (int64_t p0 = 0; p0 < ch; p0 += kn->kc) {
                    int64_t kb = ch - p0 < kn->kc ? ch - p0 : kn->kc;
                    o.first = p0 == 0;
                    for (int64_t ir = 0; ir < mp; ir += mr) {
                        o.c = mb + (xi * mp + ir) * TB + run * nr;
                        kn->run(kb, u->a + (xi * mp + ir) * ch + p0 * mr, bpanel + p0 * nr, &o);
                    }
                }
            }
        /* A^T m A, plus bias, to output rows 2r and 2r + 1: the 4 outputs of each tile into
         * q-indexed rows first (vectorises), then interleaved into the output. */
        int64_t c0 = 2 * t0, c1 = 2 * (t0 + len) < ow ? 2 * (t0 + len) : ow;
        int full = 2 * (t0 + len) <= ow, two = 2 * r + 1 < oh;
        float *restrict q00 = rows, *restrict q01 = q00 + TB, *restrict q10 = q01 + TB;
        float *restrict q11 = q10 + TB;
        for (int64_t o2 = 0; o2 < j->m; o2++) {
            float bv = j->bias ? j->bias[o2] : 0.0f;
            const float *mx[16];
            for (int xi = 0; xi < 16; xi++)
                mx[xi] = mb + ((int64_t)xi * mp + o2) * TB;
            /* All columns of the used runs (those past len hold finite leftovers). */
            for (int64_t q = 0; q < used * nr; q++) {
                /* A^T m: a0j = m0j + m1j + m2j, a1j = m1j - m2j - m3j (row i of m is xi 4i..) */
                float a00 = mx[0][q] + mx[4][q] + mx[8][q], a01 = mx[1][q] + mx[5][q] + mx[9][q];
                float a02 = mx[2][q] + mx[6][q] + mx[10][q], a03 = mx[3][q] + mx[7][q] + mx[11][q];
                float a10 = mx[4][q] - mx[8][q] - mx[12][q], a11 = mx[5][q] - mx[9][q] - mx[13][q];
                float a12 = mx[6][q] - mx[10][q] - mx[14][q];
                float a13 = mx[7][q] - mx[11][q] - mx[15][q];
                q00[q] = a00 + a01 + a02 + bv;
                q01[q] = a01 - a02 - a03 + bv;
                q10[q] = a10 + a11 + a12 + bv;
                q11[q] = a11 - a12 - a13 + bv;
            }
            float *y0 = j->y + (n * j->m + o2) * out_size + 2 * r * ow + c0;
            float *y1 = y0 + ow;
            if (full) {
                for (int64_t q = 0; q < len; q++) {
                    y0[2 * q] = q00[q];
                    y0[2 * q + 1] = q01[q];
                }
                if (two)
                    for (int64_t q = 0; q < len; q++) {
                        y1[2 * q] = q10[q];
                        y1[2 * q + 1] = q11[q];
                    }
            } else {
                /* The row's last tile hangs over an odd width. */
                for (int64_t q = 0; q < len; q++) {
                    y0[2 * q] = q00[q];
                    if (c0 + 2 * q + 1 < ow)
                        y0[2 * q + 1] = q01[q];
                    if (two) {
                        y1[2 * q] = q10[q];
                        if (c0 + 2 * q + 1 < ow)
                            y1[2 * q + 1] = q11[q];
                    }
                }
            }
            if (j->ep) {
                int64_t base = (n * j->m + o2) * out_size + 2 * r * ow;
                j->ep->apply(j->ep->ctx, j->y, base + c0, c1 - c0);
                if (two)
                    j->ep->apply(j->ep->ctx, j->y, base + ow + c0, c1 - c0);
            }
        }
    }
}

aglm_status cpu_conv_winograd(const cpu_kctx *k, const aglm_window *w, const float *x,
                              int64_t batch, int64_t channels, const cpu_conv_packed *u,
                              const float *bias, const cpu_conv_epilogue *ep, float *y)
{
    const cpu_gemm_kernel *kn = cpu_gemm_kernel_for(u->simd);
    if (TB % kn->nr != 0)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "Winograd tile block %d is not a multiple of "
                          "the %s path's nr %d",
                          TB, kn->name, kn->nr);
    wino_job j = {kn, w, x, u, bias, ep, y, channels, u->mg, 0, 0, 0, NULL, 0};
    j.th = (w->out[1] + 1) / 2;
    j.tw = (w->out[2] + 1) / 2;
    j.blocks = (j.tw + TB - 1) / TB;
    size_t items = (size_t)(batch * j.th * j.blocks);
    if (items == 0)
        return AGLM_OK;
    j.scratch_floats =
        (size_t)((16 * channels + 16 * u->mgp) * TB + 8 * NP + 4 * TB + 15) / 16 * 16;
    cpu_pool *pool = k->pool;
    int threads = cpu_pool_threads(pool);
    j.scratch = cpu_alloc_floats(j.scratch_floats * (size_t)threads);
    if (!j.scratch)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for Winograd tiles (%zu floats)",
                          j.scratch_floats * (size_t)threads);
    /* Zeroed once, so GEMM columns past a row's last tile (never stored) start finite. */
    memset(j.scratch, 0, j.scratch_floats * (size_t)threads * sizeof *j.scratch);
    cpu_parallel_for(pool, items, 1, wino_items, &j);
    free(j.scratch);
    return AGLM_OK;
}
