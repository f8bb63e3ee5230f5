/* The convolution driver (conv_gemm.h).
 *
 * Why not im2col + GEMM: with few output channels (ocr-det's 96 -> 24 3x3 convolutions) the
 * multiply does only ~24 multiply-adds per im2col element, so writing the im2col matrix, then
 * packing it again for the GEMM, cost as much as the arithmetic. Here the input is zero-padded
 * once (when the node has pads), and a run of nr output positions along one row of a unit-width-
 * stride convolution is, for every tap, nr consecutive floats of the padded input: the micro-
 * kernel's gather variant reads them in place through a table of per-tap offsets, so most of the
 * output needs no packing at all. A width stride s > 1 is made unit too: the copy splits every
 * input row into s phase rows (phase r holds columns r, r + s, r + 2s, ...), so the taps of a run
 * of outputs are again consecutive floats, of phase row (kw * dilation) % s. That is what makes
 * the stride-2 stems (3 input channels, kdim 27) run at GEMM speed instead of gather speed. Only
 * ragged row ends are gathered into one kdim x nr panel in the worker's scratch. Weights are packed
 * once per node at compile time (cpu_conv_prepare) in the layout of the SIMD path then active,
 * since mr depends on it. */
#include <stdlib.h>
#include <string.h>

#include "conv_gemm.h"
#include "conv_winograd.h"
#include "gemm.h"
#include "gemm_kernel.h"

/* Output positions per work item (at most: fewer when that leaves threads idle): enough that
 * the bias and epilogue pass finds the tile in cache, small enough that ocr-det's planes split
 * into many items for the threads. */
#define TILE_COLS 256
/* Floats of packed weights a work item keeps hot (192 KiB of the 512 KiB L2): a convolution
 * with more rows x kdim than this is split over output channels too. */
#define A_BUDGET 49152
/* Below this many multiply-adds in all, waking the pool costs more than it saves. */
#define PARALLEL_MACS 262144.0

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t round_up(int64_t x, int64_t m)
{
    return (x + m - 1) / m * m;
}

aglm_status cpu_conv_pack(const float *w, int64_t group, int64_t mg, int64_t kdim, cpu_simd s,
                          cpu_conv_packed *out)
{
    memset(out, 0, sizeof *out);
    const cpu_gemm_kernel *kn = cpu_gemm_kernel_for(s);
    int64_t mgp = round_up(mg, kn->mr);
    size_t n = (size_t)(group * mgp * kdim);
    float *a = cpu_alloc_floats(n);
    if (!a)
        return aglm_error(AGLM_ERR_NOMEM,
                          "out of memory packing convolution weights "
                          "(%lld floats)",
                          (long long)n);
    /* Per group, per mr-row panel: kdim steps of mr floats (row i of the panel at step p is
     * w[i][p]), the k-major panel the micro-kernels read. */
    float *dst = a;
    for (int64_t g = 0; g < group; g++)
        for (int64_t ir = 0; ir < mgp; ir += kn->mr)
            for (int64_t p = 0; p < kdim; p++)
                for (int r = 0; r < kn->mr; r++) {
                    int64_t i = ir + r;
                    *dst++ = i < mg ? w[(g * mg + i) * kdim + p] : 0.0f;
                }
    *out = (cpu_conv_packed){s, kn->mr, kn->kc, group, mg, kdim, mgp, a, 0};
    return AGLM_OK;
}

void cpu_conv_packed_free(cpu_conv_packed *p)
{
    free(p->a);
    p->a = NULL;
}

typedef struct conv_job {
    const cpu_gemm_kernel *kn;
    const aglm_window *w;
    const float *x;     /* input, or its padded / phase-split copy: planes of pin[0..2] */
    int64_t pin[3];     /* (padded) input plane dims */
    int64_t phases, pw; /* width stride s: phase rows per input row, floats per phase row */
    int64_t row;        /* floats per input row in x: phases * pw */
    int64_t in_size;    /* floats per input plane in x: pin[0] * pin[1] * row */
    const int32_t *off; /* per tap p = (c, kd, kh, kw): offset of its first input */
    int flat;           /* 1x1, unit strides, no pads: any nr consecutive outputs are direct */
    const cpu_conv_packed *pk;
    const float *bias;
    const cpu_conv_epilogue *ep;
    float *y;
    int64_t channels, m, out_size;
    int64_t group, tiles_m, tiles_n, mb, tile_cols;
    float *scratch; /* per worker: kdim * nr floats */
    size_t scratch_floats;
} conv_job;

/* Offset in the (padded, phase-split) input plane of output position j's window origin: its
 * row, then ow in phase row 0 (a tap's offset adds its phase and column). */
static int64_t out_base(const conv_job *j, int64_t pos)
{
    const aglm_window *w = j->w;
    int64_t ow = pos % w->out[2], t = pos / w->out[2];
    int64_t oh = t % w->out[1], od = t / w->out[1];
    return (od * w->s[0] * j->pin[1] + oh * w->s[1]) * j->row + ow;
}

/* Gathers taps [p0, p0 + kb) of outputs [pos, pos + len) (len <= nr) into a kb x nr panel,
 * columns past len zero. */
static void gather_panel(const conv_job *j, const float *xg, int64_t p0, int64_t kb, int64_t pos,
                         int64_t len, float *bp)
{
    int nr = j->kn->nr;
    int64_t base[16];
    for (int64_t q = 0; q < len; q++)
        base[q] = out_base(j, pos + q);
    for (int64_t p = 0; p < kb; p++) {
        const float *src = xg + j->off[p0 + p];
        float *d = bp + p * nr;
        int64_t q = 0;
        for (; q < len; q++)
            d[q] = src[base[q]];
        for (; q < nr; q++)
            d[q] = 0.0f;
    }
}

/* One work item: output channels [i0, i0 + mc) of group g of image n, positions [j0, j0 + nc).
 * K runs in blocks of the path's kc, so the taps of one run of outputs (kc cache lines) stay in
 * L1 while every register block of weights passes over them. */
static void conv_tile(const conv_job *j, int64_t n, int64_t g, int64_t i0, int64_t mc, int64_t j0,
                      int64_t nc, float *bp)
{
    const cpu_gemm_kernel *kn = j->kn;
    const cpu_conv_packed *pk = j->pk;
    int64_t kdim = pk->kdim, o2 = j->w->out[2], mr = kn->mr, nr = kn->nr;
    int64_t cg = j->channels / j->group;
    const float *xg = j->x + (n * j->channels + g * cg) * j->in_size;
    const float *ag = pk->a + g * pk->mgp * kdim;
    int64_t ybase = (n * j->m + g * pk->mg) * j->out_size;
    float *yg = j->y + ybase;
    cpu_gemm_out o = {.ldc = j->out_size, .alpha = 1.0f, .beta = 0.0f};
    for (int64_t p0 = 0; p0 < kdim; p0 += kn->kc) {
        int64_t kb = min64(kn->kc, kdim - p0);
        o.first = p0 == 0;
        for (int64_t pos = j0; pos < j0 + nc;) {
            int64_t len = min64(nr, j0 + nc - pos);
            const float *b = NULL;
            /* Direct when the run is nr outputs of one row (unit stride in the phase rows). */
            if (len == nr && (j->flat || o2 - pos % o2 >= nr))
                b = xg + out_base(j, pos);
            else
                gather_panel(j, xg, p0, kb, pos, len, bp);
            if (b && !kn->gather) {
                /* No in-place kernel on this path: copy the run's rows into a panel once, for
                 * every register block of weights. */
                for (int64_t p = 0; p < kb; p++)
                    memcpy(bp + p * nr, b + j->off[p0 + p], (size_t)nr * sizeof *bp);
                b = NULL;
            }
            o.cols = (int)len;
            for (int64_t ir = i0; ir < i0 + mc; ir += mr) {
                o.rows = (int)min64(mr, i0 + mc - ir);
                o.c = yg + ir * j->out_size + pos;
                if (b)
                    kn->gather(kb, ag + ir * kdim + p0 * mr, b, j->off + p0, &o);
                else
                    kn->run(kb, ag + ir * kdim + p0 * mr, bp, &o);
            }
            pos += len;
        }
    }
    /* Bias and epilogue while the tile is in cache. */
    for (int64_t i = i0; i < i0 + mc; i++) {
        float *row = yg + i * j->out_size + j0;
        if (j->bias) {
            float bv = j->bias[g * pk->mg + i];
            for (int64_t q = 0; q < nc; q++)
                row[q] += bv;
        }
        if (j->ep)
            j->ep->apply(j->ep->ctx, j->y, ybase + i * j->out_size + j0, nc);
    }
}

static void conv_items(void *ctx, size_t begin, size_t end, int worker)
{
    const conv_job *j = ctx;
    float *bp = j->scratch + (size_t)worker * j->scratch_floats;
    for (size_t idx = begin; idx < end; idx++) {
        int64_t t = (int64_t)idx;
        int64_t tn = t % j->tiles_n;
        t /= j->tiles_n;
        int64_t tm = t % j->tiles_m;
        t /= j->tiles_m;
        int64_t g = t % j->group, n = t / j->group;
        int64_t i0 = tm * j->mb, j0 = tn * j->tile_cols;
        conv_tile(j, n, g, i0, min64(j->mb, j->pk->mg - i0), j0,
                  min64(j->tile_cols, j->out_size - j0), bp);
    }
}

typedef struct pad_job {
    const aglm_window *w;
    const float *x;
    float *xp;
    int64_t pin[3];
    int64_t phases, pw, row, in_size; /* as in conv_job */
} pad_job;

/* One input row (w->in[2] floats) into a phase-split row of j->row floats: column c of the
 * padded row goes to phase c % phases, index c / phases; everything else zero. */
static void split_row(const pad_job *j, const float *src, float *r)
{
    const aglm_window *w = j->w;
    int64_t s = j->phases, in2 = w->in[2], pb = w->pb[2];
    /* Per phase, a strided read: padded column ph + s * i is input column ph + s * i - pb. */
    for (int64_t ph = 0; ph < s; ph++) {
        float *dst = r + ph * j->pw;
        int64_t c = ph - pb;
        for (int64_t i = 0; i < j->pw; i++, c += s)
            dst[i] = c >= 0 && c < in2 ? src[c] : 0.0f;
    }
}

/* Planes [b, e) of the input copied into the middle of their zeroed padded planes, each row
 * split into its width-stride phases. */
static void pad_planes(void *ctx, size_t b, size_t e, int worker)
{
    const pad_job *j = ctx;
    const aglm_window *w = j->w;
    (void)worker;
    int64_t in_size = w->in[0] * w->in[1] * w->in[2], pin_size = j->in_size;
    for (size_t plane = b; plane < e; plane++) {
        const float *src = j->x + (int64_t)plane * in_size;
        float *dst = j->xp + (int64_t)plane * pin_size;
        int64_t row = j->row, psize = j->pin[1] * row;
        /* Zero only what the copy leaves: whole padding planes and rows, and each copied
         * row's two margins. */
        memset(dst, 0, (size_t)(w->pb[0] * psize) * sizeof *dst);
        memset(dst + (w->pb[0] + w->in[0]) * psize, 0, (size_t)(w->pe[0] * psize) * sizeof *dst);
        for (int64_t d = 0; d < w->in[0]; d++) {
            float *pl = dst + (d + w->pb[0]) * psize;
            memset(pl, 0, (size_t)(w->pb[1] * row) * sizeof *dst);
            memset(pl + (w->pb[1] + w->in[1]) * row, 0, (size_t)(w->pe[1] * row) * sizeof *dst);
            for (int64_t h = 0; h < w->in[1]; h++) {
                float *r = pl + (h + w->pb[1]) * row;
                if (j->phases > 1) {
                    split_row(j, src + (d * w->in[1] + h) * w->in[2], r);
                    continue;
                }
                memset(r, 0, (size_t)w->pb[2] * sizeof *dst);
                memcpy(r + w->pb[2], src + (d * w->in[1] + h) * w->in[2],
                       (size_t)w->in[2] * sizeof *dst);
                memset(r + w->pb[2] + w->in[2], 0, (size_t)w->pe[2] * sizeof *dst);
            }
        }
    }
}

/* An empty sum (no input channels): the output is the bias, then the epilogue. */
static void conv_empty(const conv_job *j, int64_t batch)
{
    for (int64_t r = 0; r < batch * j->m; r++) {
        float bv = j->bias ? j->bias[r % j->m] : 0.0f;
        for (int64_t q = 0; q < j->out_size; q++)
            j->y[r * j->out_size + q] = bv;
        if (j->ep)
            j->ep->apply(j->ep->ctx, j->y, r * j->out_size, j->out_size);
    }
}

aglm_status cpu_conv_gemm(const cpu_kctx *k, const aglm_window *w, const float *x, int64_t batch,
                          int64_t channels, const cpu_conv_packed *pk, const float *bias,
                          const cpu_conv_epilogue *ep, float *y)
{
    const cpu_gemm_kernel *kn = cpu_gemm_kernel_for(pk->simd);
    int64_t ksize = aglm_window_kernel_size(w), kdim = pk->kdim, cg = channels / pk->group;
    conv_job j = {.kn = kn,
                  .w = w,
                  .x = x,
                  .pk = pk,
                  .bias = bias,
                  .ep = ep,
                  .y = y,
                  .channels = channels,
                  .m = pk->group * pk->mg,
                  .out_size = aglm_window_out_size(w),
                  .group = pk->group};
    if (kdim == 0 || cg == 0) {
        conv_empty(&j, batch);
        return AGLM_OK;
    }
    int padded = 0;
    for (int i = 0; i < AGLM_WINDOW_DIMS; i++) {
        j.pin[i] = w->in[i] + w->pb[i] + w->pe[i];
        padded = padded || w->pb[i] || w->pe[i];
    }
    /* Strided along the width: the copy splits rows into phases (see the top of the file). */
    j.phases = w->s[2];
    j.pw = (j.pin[2] + j.phases - 1) / j.phases;
    j.row = j.phases * j.pw;
    int copied = padded || j.phases > 1;
    j.in_size = j.pin[0] * j.pin[1] * j.row;
    j.flat = ksize == 1 && !padded && w->s[0] == 1 && w->s[1] == 1 && w->s[2] == 1;
    /* Offsets are int32 to keep the gather kernel's table small; a group's padded input must
     * fit (it always does for the models at hand: 2^31 floats is 8 GiB). */
    if ((double)cg * (double)j.in_size >= 2147483647.0)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "convolution input group of %lld x %lld floats "
                          "is over 2^31",
                          (long long)cg, (long long)j.in_size);

    double macs = (double)batch * (double)j.m * (double)j.out_size * (double)kdim;
    cpu_pool *pool = macs < PARALLEL_MACS ? NULL : k->pool;
    int threads = cpu_pool_threads(pool);

    /* Output-channel tiles keep a work item's weights within A_BUDGET; then column tiles. */
    int64_t kb = min64(kdim, kn->kc);
    j.mb = round_up(pk->mg, kn->mr);
    if (j.mb * kb > A_BUDGET)
        j.mb = A_BUDGET / kb / kn->mr * kn->mr > kn->mr ? A_BUDGET / kb / kn->mr * kn->mr : kn->mr;
    j.tiles_m = (pk->mg + j.mb - 1) / j.mb;
    j.tile_cols = TILE_COLS;
    j.tiles_n = (j.out_size + j.tile_cols - 1) / j.tile_cols;
    size_t items = (size_t)(batch * pk->group * j.tiles_m * j.tiles_n);
    /* Too few items for the threads (ocr-cls's 1x1 convolutions over 192 positions: one):
     * narrower column tiles first, down to four register blocks, since those share the
     * weights; three items on two threads would leave one idle a third of the time. */
    while (threads > 1 && items < 2 * (size_t)threads && j.tile_cols > 4 * kn->nr) {
        j.tile_cols = round_up(j.tile_cols / 2, kn->nr);
        j.tiles_n = (j.out_size + j.tile_cols - 1) / j.tile_cols;
        items = (size_t)(batch * pk->group * j.tiles_m * j.tiles_n);
    }
    /* Too few items for the threads: split the output channels further (each item then
     * gathers its own panels, so not below two register blocks). */
    while (threads > 1 && items < 2 * (size_t)threads && j.mb > 2 * kn->mr) {
        j.mb = round_up(j.mb / 2, kn->mr);
        j.tiles_m = (pk->mg + j.mb - 1) / j.mb;
        items = (size_t)(batch * pk->group * j.tiles_m * j.tiles_n);
    }

    int32_t *off = malloc((size_t)kdim * sizeof *off);
    j.scratch_floats = (size_t)round_up(kb * kn->nr, 16);
    j.scratch = cpu_alloc_floats(j.scratch_floats * (size_t)threads);
    float *xp = NULL;
    if (copied)
        xp = cpu_alloc_floats((size_t)(batch * channels * j.in_size));
    if (!off || !j.scratch || (copied && !xp)) {
        free(off);
        free(j.scratch);
        free(xp);
        return aglm_error(AGLM_ERR_NOMEM,
                          "out of memory for convolution scratch (%lld taps, "
                          "%lld input floats)",
                          (long long)kdim, (long long)(batch * channels * j.in_size));
    }
    for (int64_t p = 0; p < kdim; p++) {
        int64_t t = p, kw = t % w->k[2];
        t /= w->k[2];
        int64_t kh = t % w->k[1];
        t /= w->k[1];
        int64_t kd = t % w->k[0], c = t / w->k[0];
        int64_t col = kw * w->d[2]; /* padded column from the window origin */
        off[p] = (int32_t)(c * j.in_size + (kd * w->d[0] * j.pin[1] + kh * w->d[1]) * j.row +
                           (col % j.phases) * j.pw + col / j.phases);
    }
    j.off = off;
    if (copied) {
        pad_job pj = {w, x, xp, {j.pin[0], j.pin[1], j.pin[2]}, j.phases, j.pw, j.row, j.in_size};
        size_t grain = j.in_size >= 16384 ? 1 : (size_t)(16384 / j.in_size);
        cpu_parallel_for(pool, (size_t)(batch * channels), grain, pad_planes, &pj);
        j.x = xp;
    }
    cpu_parallel_for(pool, items, 1, conv_items, &j);
    free(xp);
    free(j.scratch);
    free(off);
    return AGLM_OK;
}

void cpu_conv_release(void *state)
{
    cpu_conv_packed *p = state;
    if (!p)
        return;
    cpu_conv_packed_free(&p[0]);
    cpu_conv_packed_free(&p[1]);
    free(p);
}

aglm_status cpu_conv_prepare(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *consts,
                             void **state)
{
    *state = NULL;
    const aglm_tensor *wt = n_in > 1 ? consts[1] : NULL;
    if (!wt || wt->dtype != AGLM_F32 || wt->rank < 3 || wt->rank - 2 > AGLM_WINDOW_DIMS)
        return AGLM_OK; /* not constant, or not f32: packed per call */
    int64_t group = aglm_node_get_int(k->node, "group", 1), m = wt->dims[0], cg = wt->dims[1];
    if (group < 1 || m % group != 0 || (cg == 1 && group > 1))
        return AGLM_OK; /* the kernel reports bad shapes; depthwise runs its own loop */
    int64_t kdim = aglm_tensor_numel(wt) / (m ? m : 1);
    if (m == 0 || kdim == 0)
        return AGLM_OK;
    /* Whether Winograd can apply depends on the input size (large planes only), unknown here:
     * when the kernel, strides and dilations allow it for a large probe input, both layouts
     * are packed, and the kernel picks per run. */
    int64_t probe[AGLM_WINDOW_DIMS] = {1024, 1024, 1024};
    aglm_window w;
    int wino = aglm_window_init(&w, k->node, wt->rank - 2, probe, wt->dims + 2, 0) == AGLM_OK &&
               cpu_conv_winograd_fits(&w, group, cg * group, m);
    aglm_clear_error();
    cpu_conv_packed *p = calloc(2, sizeof *p);
    if (!p)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory packing convolution weights");
    aglm_status st = cpu_conv_pack(wt->data, group, m / group, kdim, cpu_simd_active(), &p[0]);
    if (st == AGLM_OK && wino)
        st = cpu_conv_winograd_pack(wt->data, m, cg, cpu_simd_active(), &p[1]);
    if (st != AGLM_OK) {
        cpu_conv_release(p);
        return st;
    }
    *state = p;
    return AGLM_OK;
}
