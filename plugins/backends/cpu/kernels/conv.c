/* Conv (1-D to 3-D; pads, strides, dilations, groups, auto_pad, optional bias) on f32, and on
 * f16 and bf16 through f32.
 *
 * Grouped and plain convolutions lower each (image, group) to one matrix multiply: the weights
 * [M/g, C/g * kernel] times an im2col matrix [C/g * kernel, output positions], built a column
 * block at a time so its memory stays bounded. 1x1 convolutions with unit stride and no padding
 * multiply the input directly. Depthwise convolutions (one input channel per group) run a
 * direct loop over output planes instead (depthwise.c), since their matrices would be a single
 * row. */
#include <stdlib.h>
#include <string.h>

#include "conv_epilogue.h"
#include "depthwise.h"
#include "gemm.h"
#include "window.h"

/* The im2col matrix is built in column blocks of about this many floats (1 MiB), so a block
 * is still in cache when the multiply packs it (1.5 to 2x faster than 16 MiB blocks on a
 * 96 -> 24 channel 3x3 convolution of 160x160); at least COL_MIN columns, so the weights'
 * repacking per block stays small beside the multiply. */
#define COL_BUDGET ((int64_t)1 << 18)
#define COL_MIN 256

typedef struct im2col_job {
    const cpu_window *w;
    const float *x;   /* the group's first input channel */
    float *col;       /* rows = (c, kd, kh, kw), cols = output positions [p0, p0 + cols) */
    int64_t p0, cols;
} im2col_job;

static void zero(float *p, int64_t n)
{
    if (n > 0)
        memset(p, 0, (size_t)n * sizeof *p);
}

/* Rows [r0, r1) of the im2col block. Each output row (od, oh) is a run of ow whose valid
 * input columns form one interval, copied in one go; the rest is padding. */
static void im2col_rows(void *ctx, size_t r0, size_t r1, int worker)
{
    const im2col_job *j = ctx;
    const cpu_window *w = j->w;
    int64_t in_size = cpu_window_in_size(w);
    int64_t o1 = w->out[1], o2 = w->out[2];
    for (size_t r = r0; r < r1; r++) {
        int64_t t = (int64_t)r;
        int64_t kw = t % w->k[2];
        t /= w->k[2];
        int64_t kh = t % w->k[1];
        t /= w->k[1];
        int64_t kd = t % w->k[0];
        int64_t c = t / w->k[0];
        const float *xc = j->x + c * in_size;
        float *dst = j->col + (int64_t)r * j->cols;
        int64_t off2 = kw * w->d[2] - w->pb[2];
        int64_t p = j->p0, end = j->p0 + j->cols;
        while (p < end) {
            int64_t od = p / (o1 * o2), oh = (p / o2) % o1, ow = p % o2;
            int64_t run = o2 - ow < end - p ? o2 - ow : end - p;
            float *out = dst + (p - j->p0);
            int64_t id = od * w->s[0] - w->pb[0] + kd * w->d[0];
            int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];
            if (id < 0 || id >= w->in[0] || ih < 0 || ih >= w->in[1]) {
                zero(out, run);
            } else {
                const float *xrow = xc + (id * w->in[1] + ih) * w->in[2];
                /* Valid ow: 0 <= ow * s + off2 < in2. */
                int64_t s2 = w->s[2];
                int64_t lo = off2 >= 0 ? 0 : (-off2 + s2 - 1) / s2;
                int64_t hi = w->in[2] - off2 <= 0 ? 0 : (w->in[2] - off2 + s2 - 1) / s2;
                if (lo < ow)
                    lo = ow;
                if (hi > ow + run)
                    hi = ow + run;
                if (hi < lo)
                    hi = lo;
                zero(out, lo - ow);
                if (s2 == 1) {
                    if (hi > lo)
                        memcpy(out + (lo - ow), xrow + lo + off2, (size_t)(hi - lo) * sizeof *out);
                } else {
                    for (int64_t q = lo; q < hi; q++)
                        out[q - ow] = xrow[q * s2 + off2];
                }
                zero(out + (hi - ow), ow + run - hi);
            }
            p += run;
        }
    }
}

typedef struct depthwise_job {
    const cpu_window *w;
    const float *x, *wt, *bias;
    float *y;
    int64_t channels, out_channels, per_group; /* C, M, M / group */
    const cpu_conv_epilogue *ep;
} depthwise_job;

/* Output planes [b, e) of a depthwise convolution: plane = n * M + m, reading input channel
 * m / (M / group). */
static void depthwise_planes(void *ctx, size_t b, size_t e, int worker)
{
    const depthwise_job *j = ctx;
    const cpu_window *w = j->w;
    int64_t in_size = cpu_window_in_size(w), out_size = cpu_window_out_size(w);
    int64_t ksize = cpu_window_kernel_size(w);
    for (size_t plane = b; plane < e; plane++) {
        int64_t n = (int64_t)plane / j->out_channels, m = (int64_t)plane % j->out_channels;
        const float *x = j->x + (n * j->channels + m / j->per_group) * in_size;
        const float *wt = j->wt + m * ksize;
        float *y = j->y + (int64_t)plane * out_size;
        cpu_depthwise_plane(w, x, wt, j->bias ? j->bias[m] : 0.0f, y);
        if (j->ep)
            j->ep->apply(j->ep->ctx, j->y, (int64_t)plane * out_size, out_size);
    }
}

typedef struct epilogue_job {
    const cpu_conv_epilogue *ep;
    float *y;
    int64_t off, stride, cols; /* row r is y[off + r * stride, + cols) */
} epilogue_job;

static void epilogue_rows(void *ctx, size_t r0, size_t r1, int worker)
{
    const epilogue_job *j = ctx;
    (void)worker;
    for (size_t r = r0; r < r1; r++)
        j->ep->apply(j->ep->ctx, j->y, j->off + (int64_t)r * j->stride, j->cols);
}

/* Runs the epilogue on `rows` rows of `cols` elements, row r starting at y[off + r * stride]. */
static void run_epilogue(const cpu_kctx *k, const cpu_conv_epilogue *ep, float *y, int64_t off,
                         int64_t rows, int64_t stride, int64_t cols)
{
    if (!ep || rows <= 0 || cols <= 0)
        return;
    epilogue_job job = {ep, y, off, stride, cols};
    size_t grain = cols >= 16384 ? 1 : (size_t)(16384 / cols);
    cpu_parallel_for(k->pool, (size_t)rows, grain, epilogue_rows, &job);
}

/* One (image, group): y[Mg, out_size] = W_g[Mg, K] x im2col(x_g)[K, out_size] (+ bias), then
 * the epilogue on each column block while it is in cache; y sits at y_base + y_off. */
static aglm_status conv_group(const cpu_kctx *k, const cpu_window *w, const float *x,
                              const float *wt, const float *bias, float *y_base, int64_t y_off,
                              int64_t cg, int64_t mg, float *col, int64_t block,
                              const cpu_conv_epilogue *ep)
{
    float *y = y_base + y_off;
    int64_t out_size = cpu_window_out_size(w), kdim = cg * cpu_window_kernel_size(w);
    if (bias)
        for (int64_t m = 0; m < mg; m++)
            for (int64_t p = 0; p < out_size; p++)
                y[m * out_size + p] = bias[m];
    cpu_gemm_args g = {.m = mg, .k = kdim, .alpha = 1.0f, .a = wt, .lda = kdim,
                       .beta = bias ? 1.0f : 0.0f, .ldc = out_size};
    if (!col) {
        g.n = out_size;
        g.b = x;
        g.ldb = out_size;
        g.c = y;
        aglm_status st = cpu_sgemm(k->pool, &g);
        if (st == AGLM_OK)
            run_epilogue(k, ep, y_base, y_off, mg, out_size, out_size);
        return st;
    }
    for (int64_t p0 = 0; p0 < out_size; p0 += block) {
        int64_t cols = out_size - p0 < block ? out_size - p0 : block;
        im2col_job job = {w, x, col, p0, cols};
        size_t grain = cols >= 16384 ? 1 : (size_t)(16384 / cols);
        cpu_parallel_for(k->pool, (size_t)kdim, grain, im2col_rows, &job);
        g.n = cols;
        g.b = col;
        g.ldb = cols;
        g.c = y + p0;
        aglm_status st = cpu_sgemm(k->pool, &g);
        if (st != AGLM_OK)
            return st;
        run_epilogue(k, ep, y_base, y_off + p0, mg, out_size, cols);
    }
    return AGLM_OK;
}

aglm_status cpu_conv_f32(const cpu_kctx *k, const aglm_tensor *x, const aglm_tensor *wt,
                         const aglm_tensor *b, const cpu_conv_epilogue *ep, aglm_tensor *out)
{
    char sx[64], sw[64], sb[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", CPU_DT(AGLM_F32));
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(x, "input X", wt, "input W");
    if (st == AGLM_OK && b)
        st = cpu_check_same_dtype(x, "input X", b, "input B");
    if (st != AGLM_OK)
        return st;
    if (x->rank < 3 || wt->rank != x->rank)
        return aglm_error(AGLM_ERR_SHAPE, "X %s and W %s must have the same rank, at least 3",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw));
    int64_t group = aglm_node_get_int(k->node, "group", 1);
    int64_t batch = x->dims[0], channels = x->dims[1], m = wt->dims[0], cg = wt->dims[1];
    if (group < 1 || m % group != 0 || cg * group != channels)
        return aglm_error(AGLM_ERR_SHAPE, "X %s, W %s and group %lld disagree: need X channels "
                          "= W dim 1 x group, and W dim 0 divisible by group",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw),
                          (long long)group);
    if (b && (b->rank != 1 || b->dims[0] != m))
        return aglm_error(AGLM_ERR_SHAPE, "B %s must be [%lld], one value per output channel",
                          cpu_shape(b, sb, sizeof sb), (long long)m);
    int nd = x->rank - 2;
    cpu_window w;
    st = cpu_window_init(&w, k->node, nd, x->dims + 2, wt->dims + 2, 0);
    if (st != AGLM_OK)
        return st;
    int64_t dims[AGLM_MAX_RANK] = {batch, m};
    for (int i = 0; i < nd; i++)
        dims[2 + i] = w.out[CPU_WINDOW_DIMS - nd + i];
    st = aglm_tensor_alloc(&out[0], AGLM_F32, x->rank, dims);
    if (st != AGLM_OK || aglm_tensor_numel(&out[0]) == 0)
        return st;

    const float *xd = x->data, *wd = wt->data, *bd = b ? b->data : NULL;
    float *yd = out[0].data;
    int64_t in_size = cpu_window_in_size(&w), out_size = cpu_window_out_size(&w);
    int64_t ksize = cpu_window_kernel_size(&w), mg = m / group;
    if (cg == 1 && group > 1) {
        depthwise_job job = {&w, xd, wd, bd, yd, channels, m, mg, ep};
        size_t grain = out_size * ksize >= 65536 ? 1 : (size_t)(65536 / (out_size * ksize));
        cpu_parallel_for(k->pool, (size_t)(batch * m), grain, depthwise_planes, &job);
        return AGLM_OK;
    }
    int direct = ksize == 1;
    for (int i = 0; i < CPU_WINDOW_DIMS; i++)
        direct = direct && w.s[i] == 1 && w.pb[i] == 0 && w.pe[i] == 0;
    float *col = NULL;
    int64_t kdim = cg * ksize, block = out_size;
    if (!direct) {
        if (kdim * block > COL_BUDGET)
            block = COL_BUDGET / kdim > COL_MIN ? COL_BUDGET / kdim : COL_MIN;
        if (block > out_size)
            block = out_size;
        col = cpu_alloc_floats((size_t)(kdim * block));
        if (!col)
            return aglm_error(AGLM_ERR_NOMEM, "out of memory for an im2col buffer of %lld floats",
                              (long long)(kdim * block));
    }
    for (int64_t n = 0; n < batch && st == AGLM_OK; n++)
        for (int64_t g = 0; g < group && st == AGLM_OK; g++)
            st = conv_group(k, &w, xd + (n * channels + g * cg) * in_size, wd + g * mg * kdim,
                            bd ? bd + g * mg : NULL, yd, (n * m + g * mg) * out_size, cg, mg,
                            col, block, ep);
    free(col);
    return st;
}

#define CONV_DTYPES (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))

/* f16 and bf16 convolve in f32 (inputs widened, the result rounded back). */
static aglm_status k_conv(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    aglm_status st = cpu_check_dtype(k, in[0], "input X", CONV_DTYPES);
    if (st != AGLM_OK || in[0]->dtype == AGLM_F32)
        return st != AGLM_OK ? st : cpu_conv_f32(k, in[0], in[1], n_in > 2 ? in[2] : NULL, NULL, out);
    aglm_tensor wide[3], y;
    const aglm_tensor *win[3] = {NULL, NULL, NULL};
    memset(wide, 0, sizeof wide);
    memset(&y, 0, sizeof y);
    for (size_t i = 0; i < n_in && i < 3 && st == AGLM_OK; i++) {
        if (!in[i])
            continue;
        if ((st = cpu_check_same_dtype(in[0], "input X", in[i], i == 1 ? "input W" : "input B")) != AGLM_OK ||
            (st = aglm_tensor_alloc(&wide[i], AGLM_F32, in[i]->rank, in[i]->dims)) != AGLM_OK)
            break;
        float *d = wide[i].data;
        for (int64_t e = 0; e < aglm_tensor_numel(in[i]); e++)
            d[e] = (float)cpu_get_f(in[i]->data, in[i]->dtype, e);
        win[i] = &wide[i];
    }
    if (st == AGLM_OK)
        st = cpu_conv_f32(k, win[0], win[1], win[2], NULL, &y);
    if (st == AGLM_OK && (st = aglm_tensor_alloc(&out[0], in[0]->dtype, y.rank, y.dims)) == AGLM_OK)
        cpu_f32_store(&out[0], y.data);
    aglm_tensor_free(&y);
    for (int i = 0; i < 3; i++)
        aglm_tensor_free(&wide[i]);
    return st;
}

const cpu_kernel cpu_conv_kernels[] = {
    {"Conv", 2, 3, 1, CONV_DTYPES, k_conv},
    {NULL, 0, 0, 0, 0, NULL},
};

/* None yet: the conv kernels fill this in as they pre-pack weights. */
const cpu_prep cpu_conv_preps[] = {
    {NULL, NULL, NULL},
};
