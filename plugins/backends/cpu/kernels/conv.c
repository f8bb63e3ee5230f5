/* Conv (1-D to 3-D; pads, strides, dilations, groups, auto_pad, optional bias) on f32, and on
 * f16 and bf16 through f32.
 *
 * Grouped and plain convolutions are, per (image, group), the matrix multiply of the weights
 * [M/g, C/g * kernel] by the im2col matrix [C/g * kernel, output positions]; conv_gemm.c runs it
 * without building that matrix, on weights packed at compile time. Depthwise convolutions (one
 * input channel per group) run a direct loop over output planes instead (depthwise.c), since
 * their matrices would be a single row. */
#include <stdlib.h>
#include <string.h>

#include "conv_epilogue.h"
#include "conv_gemm.h"
#include "conv_winograd.h"
#include "depthwise.h"
#include "gemm.h"
#include "simd.h"

typedef struct depthwise_job {
    const aglm_window *w;
    const float *x, *wt, *bias;
    float *y;
    int64_t channels, out_channels, per_group; /* C, M, M / group */
    const cpu_conv_epilogue *ep;
    float *scratch; /* per worker, scratch_floats each; NULL: none */
    size_t scratch_floats;
} depthwise_job;

/* Output planes [b, e) of a depthwise convolution: plane = n * M + m, reading input channel
 * m / (M / group). */
static void depthwise_planes(void *ctx, size_t b, size_t e, int worker)
{
    const depthwise_job *j = ctx;
    const aglm_window *w = j->w;
    int64_t in_size = aglm_window_in_size(w), out_size = aglm_window_out_size(w);
    int64_t ksize = aglm_window_kernel_size(w);
    for (size_t plane = b; plane < e; plane++) {
        int64_t n = (int64_t)plane / j->out_channels, m = (int64_t)plane % j->out_channels;
        const float *x = j->x + (n * j->channels + m / j->per_group) * in_size;
        const float *wt = j->wt + m * ksize;
        float *y = j->y + (int64_t)plane * out_size;
        cpu_depthwise_plane(w, x, wt, j->bias ? j->bias[m] : 0.0f, y,
                            j->scratch ? j->scratch + (size_t)worker * j->scratch_floats : NULL);
        if (j->ep)
            j->ep->apply(j->ep->ctx, j->y, (int64_t)plane * out_size, out_size);
    }
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
        return aglm_error(AGLM_ERR_SHAPE,
                          "X %s, W %s and group %lld disagree: need X channels "
                          "= W dim 1 x group, and W dim 0 divisible by group",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw),
                          (long long)group);
    if (b && (b->rank != 1 || b->dims[0] != m))
        return aglm_error(AGLM_ERR_SHAPE, "B %s must be [%lld], one value per output channel",
                          cpu_shape(b, sb, sizeof sb), (long long)m);
    int nd = x->rank - 2;
    aglm_window w;
    st = aglm_window_init(&w, k->node, nd, x->dims + 2, wt->dims + 2, 0);
    if (st != AGLM_OK)
        return st;
    int64_t dims[AGLM_MAX_RANK] = {batch, m};
    for (int i = 0; i < nd; i++)
        dims[2 + i] = w.out[AGLM_WINDOW_DIMS - nd + i];
    st = cpu_alloc(k, &out[0], AGLM_F32, x->rank, dims);
    if (st != AGLM_OK || aglm_tensor_numel(&out[0]) == 0)
        return st;

    const float *xd = x->data, *wd = wt->data, *bd = b ? b->data : NULL;
    float *yd = out[0].data;
    int64_t out_size = aglm_window_out_size(&w);
    int64_t ksize = aglm_window_kernel_size(&w), mg = m / group;
    if (cg == 1 && group > 1) {
        size_t grain = out_size * ksize >= 65536 ? 1 : (size_t)(65536 / (out_size * ksize));
        /* One padded plane of scratch per worker; the plane loop runs without it if there is
         * no memory for it. */
        size_t sf = (cpu_depthwise_scratch_floats(&w) + 15) / 16 * 16;
        int threads = cpu_pool_threads(k->pool);
        float *scratch = sf ? cpu_alloc_floats(sf * (size_t)threads) : NULL;
        depthwise_job job = {&w, xd, wd, bd, yd, channels, m, mg, ep, scratch, sf};
        cpu_parallel_for(k->pool, (size_t)(batch * m), grain, depthwise_planes, &job);
        free(scratch);
        return AGLM_OK;
    }
    /* Weights packed at compile time when they were a constant for this path, else now;
     * 3x3 stride-1 convolutions run Winograd on transformed weights (conv_winograd.c). */
    int wino = cpu_conv_winograd_fits(&w, group, channels, m);
    const cpu_conv_packed *pk = k->prepared ? (const cpu_conv_packed *)k->prepared + wino : NULL;
    cpu_conv_packed local = {0};
    if (!pk || !pk->a || pk->simd != cpu_simd_active() || pk->winograd != wino ||
        (wino ? pk->mg != m || pk->kdim != channels
              : pk->group != group || pk->mg != mg || pk->kdim != cg * ksize)) {
        st = wino ? cpu_conv_winograd_pack(wd, m, channels, cpu_simd_active(), &local)
                  : cpu_conv_pack(wd, group, mg, cg * ksize, cpu_simd_active(), &local);
        if (st != AGLM_OK)
            return st;
        pk = &local;
    }
    st = wino ? cpu_conv_winograd(k, &w, xd, batch, channels, pk, bd, ep, yd)
              : cpu_conv_gemm(k, &w, xd, batch, channels, pk, bd, ep, yd);
    cpu_conv_packed_free(&local);
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
        return st != AGLM_OK ? st
                             : cpu_conv_f32(k, in[0], in[1], n_in > 2 ? in[2] : NULL, NULL, out);
    aglm_tensor wide[3], y;
    const aglm_tensor *win[3] = {NULL, NULL, NULL};
    memset(wide, 0, sizeof wide);
    memset(&y, 0, sizeof y);
    for (size_t i = 0; i < n_in && i < 3 && st == AGLM_OK; i++) {
        if (!in[i])
            continue;
        if ((st = cpu_check_same_dtype(in[0], "input X", in[i], i == 1 ? "input W" : "input B")) !=
                AGLM_OK ||
            (st = cpu_alloc(k, &wide[i], AGLM_F32, in[i]->rank, in[i]->dims)) != AGLM_OK)
            break;
        float *d = wide[i].data;
        for (int64_t e = 0; e < aglm_tensor_numel(in[i]); e++)
            d[e] = (float)cpu_get_f(in[i]->data, in[i]->dtype, e);
        win[i] = &wide[i];
    }
    if (st == AGLM_OK)
        st = cpu_conv_f32(k, win[0], win[1], win[2], NULL, &y);
    if (st == AGLM_OK && (st = cpu_alloc(k, &out[0], in[0]->dtype, y.rank, y.dims)) == AGLM_OK)
        cpu_f32_store(&out[0], y.data);
    aglm_tensor_free(&y);
    for (int i = 0; i < 3; i++)
        aglm_tensor_free(&wide[i]);
    return st;
}

const cpu_kernel cpu_conv_kernels[] = {
    {"Conv", CONV_DTYPES, k_conv},
    {NULL, 0, NULL},
};

/* Conv packs constant f32 weights at compile time (conv_gemm.c). */
const cpu_prep cpu_conv_preps[] = {
    {k_conv, cpu_conv_prepare, cpu_conv_release},
    {NULL, NULL, NULL},
};
