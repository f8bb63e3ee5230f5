/* aglm.FusedConv (docs/extension-ops.md): Conv + bias, then an element-wise epilogue (a residual
 * add and an activation, in the order residual_before_activation says, and a scale and shift
 * after the activation: fused_act.c) applied by the convolution itself through its epilogue
 * hook, on f32. PRelu's slopes run along the output's channels (W's first dim). */
#include "conv_epilogue.h"
#include "conv_gemm.h"
#include "fused_act.h"

static void epilogue(const void *ctx, float *y, int64_t off, int64_t len)
{
    cpu_fused_epilogue_apply(ctx, y, off, len);
}

/* The epilogue reads the residual at the output's offsets, and PRelu's slope by the channel of
 * an offset, so both need the output's shape before the convolution runs: *spatial gets the
 * elements per channel, and R (when not NULL) must be the output's shape. */
static aglm_status check_output(const cpu_kctx *k, const aglm_tensor *x, const aglm_tensor *wt,
                                const aglm_tensor *r, int64_t *spatial)
{
    char sr[64], sx[64], sw[64];
    if (x->rank < 3 || wt->rank != x->rank)
        return aglm_error(AGLM_ERR_SHAPE, "X %s and W %s must have the same rank, at least 3",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw));
    int nd = x->rank - 2;
    aglm_window w;
    aglm_status st = aglm_window_init(&w, k->node, nd, x->dims + 2, wt->dims + 2, 0);
    if (st != AGLM_OK)
        return st;
    *spatial = 1;
    for (int i = 0; i < nd; i++)
        *spatial *= w.out[AGLM_WINDOW_DIMS - nd + i];
    int same = !r || (r->rank == x->rank && r->dims[0] == x->dims[0] && r->dims[1] == wt->dims[0]);
    for (int i = 0; r && same && i < nd; i++)
        same = r->dims[2 + i] == w.out[AGLM_WINDOW_DIMS - nd + i];
    if (!same)
        return aglm_error(
            AGLM_ERR_SHAPE, "residual R %s does not match the output of convolving X %s with W %s",
            cpu_shape(r, sr, sizeof sr), cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw));
    return AGLM_OK;
}

static aglm_status k_fused_conv(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *r = n_in > 3 ? in[3] : NULL;
    cpu_fused_epilogue f;
    int64_t spatial = 0;
    aglm_status st = cpu_fused_epilogue_read(k->node, &f);
    if (st == AGLM_OK && r)
        st = cpu_check_same_dtype(in[0], "input X", r, "residual R");
    if (st == AGLM_OK && (r || f.act == CPU_ACT_PRELU))
        st = check_output(k, in[0], in[1], r, &spatial);
    if (st == AGLM_OK && in[1]->rank > 0)
        st = cpu_fused_epilogue_layout(&f, in[1]->dims[0], spatial);
    if (st != AGLM_OK)
        return st;
    f.residual = r ? r->data : NULL;
    cpu_conv_epilogue ep = {epilogue, &f};
    return cpu_conv_f32(k, in[0], in[1], n_in > 2 ? in[2] : NULL, &ep, out);
}

const cpu_kernel cpu_aglm_kernels[] = {
    {AGLM_OP_FUSED_CONV, CPU_DT(AGLM_F32), k_fused_conv},
    {NULL, 0, NULL},
};

/* FusedConv packs constant f32 weights at compile time as Conv does (conv_gemm.c). */
const cpu_prep cpu_fused_conv_preps[] = {
    {k_fused_conv, cpu_conv_prepare, cpu_conv_release},
    {NULL, NULL, NULL},
};
