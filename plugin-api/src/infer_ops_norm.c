/* Normalisations, losses and integer (quantised) ops whose rules the nn and math families lack:
 * RMSNormalization, GroupNormalization, LpNormalization, MeanVarianceNormalization,
 * NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss, DynamicQuantizeLinear, ConvInteger and
 * QLinearConv. */
#include <string.h>
#include "infer_internal.h"

/* Y like X for the normalisations that keep their input's type; axis checked when given. */
static aglm_status like_x(infer_ctx *c)
{
    aglm_status st = infer_need_float(c, 0);
    if (st != AGLM_OK)
        return st;
    const infer_type *x = &c->in[0];
    if (x->rank >= 0 && aglm_node_attr(c->node, "axis")) {
        int ax;
        if ((st = infer_axis(c, aglm_node_get_int(c->node, "axis", -1), x->rank, 0, x, "axis",
                             &ax)) != AGLM_OK)
            return st;
    }
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* GroupNormalization: X is [N,C,...] and num_groups divides C. */
static aglm_status group_norm(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    if (x->rank >= 0 && x->rank < 2) {
        char sx[128];
        return infer_err(c, AGLM_ERR_SHAPE, "input %s has no channel dim",
                         infer_type_str(x, sx, sizeof sx));
    }
    int64_t g = aglm_node_get_int(c->node, "num_groups", 0);
    if (g <= 0 || (x->rank >= 2 && infer_dim_is_static(x->dims[1]) && x->dims[1].value % g != 0))
        return infer_err(c, AGLM_ERR_INVALID, "num_groups %lld does not divide the channels",
                         (long long)g);
    return like_x(c);
}

/* NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: input [N,C,d...], target [N,d...];
 * the loss has the target's shape with reduction "none", else it is a scalar. The optional
 * log_prob output of SoftmaxCrossEntropyLoss is like the scores. */
static aglm_status loss(infer_ctx *c)
{
    aglm_status st = infer_need_float(c, 0);
    if (st == AGLM_OK)
        st = infer_need_index_type(c, 1, "target");
    if (st == AGLM_OK)
        st = infer_same_dtype(c, 0, 2);
    if (st != AGLM_OK)
        return st;
    const infer_type *x = &c->in[0], *t = &c->in[1];
    const char *red = aglm_node_get_string(c->node, "reduction", "mean");
    if (strcmp(red, "none") != 0 && strcmp(red, "sum") != 0 && strcmp(red, "mean") != 0)
        return infer_err(c, AGLM_ERR_INVALID, "reduction '%s' is not none, sum or mean", red);
    if (x->rank >= 0 && t->rank >= 0) {
        int ok =
            x->rank >= 2 && t->rank == x->rank - 1 && !infer_dim_conflict(x->dims[0], t->dims[0]);
        for (int i = 1; ok && i < t->rank; i++)
            ok = !infer_dim_conflict(t->dims[i], x->dims[i + 1]);
        if (!ok) {
            char sx[128], stt[128];
            return infer_err(c, AGLM_ERR_SHAPE,
                             "input %s and target %s do not match as [N,C,d...] "
                             "and [N,d...]",
                             infer_type_str(x, sx, sizeof sx), infer_type_str(t, stt, sizeof stt));
        }
    }
    infer_type y;
    if (strcmp(red, "none") == 0) {
        y = *t;
        if (y.rank < 0 && x->rank >= 2) {
            y.rank = x->rank - 1;
            y.dims[0] = x->dims[0];
            for (int i = 2; i < x->rank; i++)
                y.dims[i - 1] = x->dims[i];
        }
        y.dtype = x->dtype;
    } else {
        infer_type_static(&y, x->dtype, 0, NULL);
    }
    infer_set_out(c, 0, &y);
    infer_out_like(c, 1, 0);
    return AGLM_OK;
}

/* DynamicQuantizeLinear: u8 like x, and scalar f32 scale and u8 zero point. */
static aglm_status dynamic_quantize(infer_ctx *c)
{
    infer_type y = c->in[0], s, z;
    y.dtype = AGLM_U8;
    infer_type_static(&s, AGLM_F32, 0, NULL);
    infer_type_static(&z, AGLM_U8, 0, NULL);
    infer_set_out(c, 0, &y);
    infer_set_out(c, 1, &s);
    infer_set_out(c, 2, &z);
    return AGLM_OK;
}

/* The Conv rule applied to x (input xi) and w (input wi) of integer types, with the result in
 * dtype dt: the geometry is Conv's, only the types differ. */
static aglm_status conv_like(infer_ctx *c, size_t xi, size_t wi, aglm_dtype dt)
{
    const infer_rule *conv = NULL;
    for (const infer_rule *r = infer_rules_nn; r->op && !conv; r++)
        if (strcmp(r->op, "Conv") == 0)
            conv = r;
    infer_type in[2] = {c->in[xi], c->in[wi]}, out[1];
    unsigned char present[2] = {1, 1}, out_set[1] = {0};
    in[0].dtype = in[1].dtype = AGLM_F32; /* Conv wants one dtype; ours may differ */
    infer_ctx sub = *c;
    sub.n_in = 2;
    sub.in = in;
    sub.present = present;
    sub.n_out = 1;
    sub.out = out;
    sub.out_set = out_set;
    infer_type y;
    infer_type_unknown(&y, dt);
    if (conv) {
        aglm_status st = conv->fn(&sub);
        if (st != AGLM_OK)
            return st;
        if (out_set[0])
            y = out[0];
        y.dtype = dt;
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

static aglm_status conv_integer(infer_ctx *c)
{
    return conv_like(c, 0, 1, AGLM_I32);
}

/* QLinearConv: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point[, B];
 * the result has y_zero_point's dtype. */
static aglm_status qlinear_conv(infer_ctx *c)
{
    aglm_dtype dt = c->in[7].dtype != AGLM_UNDEFINED ? c->in[7].dtype : c->in[0].dtype;
    return conv_like(c, 0, 3, dt);
}

const infer_rule infer_rules_norm[] = {
    {"RMSNormalization", like_x},
    {"GroupNormalization", group_norm},
    {"LpNormalization", like_x},
    {"MeanVarianceNormalization", like_x},
    {"NegativeLogLikelihoodLoss", loss},
    {"SoftmaxCrossEntropyLoss", loss},
    {"DynamicQuantizeLinear", dynamic_quantize},
    {"ConvInteger", conv_integer},
    {"QLinearConv", qlinear_conv},
    {NULL, NULL},
};
