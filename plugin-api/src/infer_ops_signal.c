/* Signal rules: DFT, STFT, the cosine windows and MelWeightMatrix. Lengths that come from input
 * values are known when those inputs are constants. */
#include "infer_internal.h"

/* The value of a one-element constant integer input, or -1. */
static int64_t const_scalar(const infer_ctx *c, size_t i)
{
    int64_t v[1];
    size_t n = 0;
    int known = 0;
    if (!infer_has_in(c, i) || infer_const_ints(c, i, v, 1, &n, &known) != AGLM_OK || !known ||
        n != 1)
        return -1;
    return v[0];
}

/* The float dtype the output_datatype attribute names (f32 by default). */
static aglm_status out_dtype(const infer_ctx *c, aglm_dtype *dt)
{
    int64_t v = aglm_node_get_int(c->node, "output_datatype", AGLM_F32);
    *dt = (aglm_dtype)v;
    if (v != AGLM_F32 && v != AGLM_F64 && v != AGLM_F16 && v != AGLM_BF16)
        return infer_err(c, AGLM_ERR_UNSUPPORTED, "output_datatype %lld is not a float dtype",
                         (long long)v);
    return AGLM_OK;
}

/* DFT: the input's shape with the transformed axis resized and a last dim of 2 (1 for an inverse
 * onesided transform, whose output is real). */
static aglm_status dft(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    aglm_status st;
    if ((st = infer_need_float(c, 0)) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank < 0) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    if (x->rank < 2) {
        char s[128];
        return infer_err(c, AGLM_ERR_SHAPE,
                         "expects an input of rank >= 2 ending in 1 or 2, got %s",
                         infer_type_str(x, s, sizeof s));
    }
    y = *x;
    int r = x->rank;
    int64_t axis = c->opset >= 20 ? -2 : aglm_node_get_int(c->node, "axis", 1);
    int axis_known = 1;
    if (c->opset >= 20 && infer_has_in(c, 2)) {
        /* -1 here is either unknown or the complex dim (invalid, refused at run time) */
        axis = const_scalar(c, 2);
        axis_known = axis != -1;
    }
    int inverse = aglm_node_get_int(c->node, "inverse", 0) != 0;
    int onesided = aglm_node_get_int(c->node, "onesided", 0) != 0;
    y.dims[r - 1] = infer_dim_static(inverse && onesided ? 1 : 2);
    if (!axis_known) {
        for (int i = 0; i < r - 1; i++)
            y.dims[i] = infer_dim_unknown();
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    if (axis < -r || axis > r - 2 || axis == -1)
        return infer_err(c, AGLM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, r);
    int ax = (int)(axis < 0 ? axis + r : axis);
    int64_t n = infer_has_in(c, 1) ? const_scalar(c, 1) : -1;
    aglm_dim len = x->dims[ax];
    if (n < 0 && !infer_has_in(c, 1) && infer_dim_is_static(len))
        n = inverse && onesided ? 2 * (len.value - 1) : len.value;
    if (n >= 0)
        y.dims[ax] = infer_dim_static(onesided && !inverse ? n / 2 + 1 : n);
    else if (!infer_has_in(c, 1) && !onesided)
        y.dims[ax] = len;
    else
        y.dims[ax] = infer_dim_unknown();
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* STFT: [batch, frames, bins, 2]. */
static aglm_status stft(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    aglm_status st;
    if ((st = infer_need_float(c, 0)) != AGLM_OK ||
        (st = infer_need_rank(c, 0, 3, "signal")) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    y.rank = 4;
    for (int i = 0; i < 3; i++)
        y.dims[i] = infer_dim_unknown();
    y.dims[3] = infer_dim_static(2);
    if (x->rank == 3)
        y.dims[0] = x->dims[0];
    int64_t step = const_scalar(c, 1), flen = const_scalar(c, 3);
    if (flen < 0 && infer_has_in(c, 2) && c->in[2].rank == 1 &&
        infer_dim_is_static(c->in[2].dims[0]))
        flen = c->in[2].dims[0].value;
    if (flen < 0 && !infer_has_in(c, 2) && !infer_has_in(c, 3) && x->rank == 3 &&
        infer_dim_is_static(x->dims[1]))
        flen = x->dims[1].value;
    if (flen > 0) {
        int onesided = aglm_node_get_int(c->node, "onesided", 1) != 0;
        y.dims[2] = infer_dim_static(onesided ? flen / 2 + 1 : flen);
        if (step > 0 && x->rank == 3 && infer_dim_is_static(x->dims[1]) && x->dims[1].value >= flen)
            y.dims[1] = infer_dim_static(1 + (x->dims[1].value - flen) / step);
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* HannWindow, HammingWindow, BlackmanWindow: [size] of output_datatype. */
static aglm_status window(infer_ctx *c)
{
    aglm_status st;
    aglm_dtype dt;
    if ((st = infer_need_index_type(c, 0, "size")) != AGLM_OK ||
        (st = out_dtype(c, &dt)) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, dt);
    y.rank = 1;
    int64_t n = const_scalar(c, 0);
    y.dims[0] = n >= 0 ? infer_dim_static(n) : infer_dim_unknown();
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* MelWeightMatrix: [dft_length / 2 + 1, num_mel_bins] of output_datatype. */
static aglm_status mel(infer_ctx *c)
{
    aglm_status st;
    aglm_dtype dt;
    if ((st = out_dtype(c, &dt)) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, dt);
    y.rank = 2;
    int64_t bins = const_scalar(c, 0), len = const_scalar(c, 1);
    y.dims[0] = len >= 0 ? infer_dim_static(len / 2 + 1) : infer_dim_unknown();
    y.dims[1] = bins >= 0 ? infer_dim_static(bins) : infer_dim_unknown();
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

const infer_rule infer_rules_signal[] = {
    {"DFT", dft},
    {"STFT", stft},
    {"HannWindow", window},
    {"HammingWindow", window},
    {"BlackmanWindow", window},
    {"MelWeightMatrix", mel},
    {NULL, NULL},
};
