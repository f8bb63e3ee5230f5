/* Rules of the extension ops that passes create, domain "aglm" (docs/extension-ops.md).
 *
 * aglm.FusedConv is a Conv with an element-wise epilogue, so its output is Conv's: the Conv rule
 * runs on its first three inputs, then the residual, when present, must have that output's type
 * exactly (the epilogue adds it element by element, without broadcasting). aglm.FusedMatMul
 * likewise gives Gemm's output (2-D A and B, or any of Gemm's attributes) or MatMul's (a bias
 * then being a vector of B's last dim). aglm.LayerNorm and aglm.Gelu are ONNX's
 * LayerNormalization (scale optional) and Gelu under the aglm domain, for graphs whose opset
 * predates them: ONNX's rules apply. aglm.Elementwise gives its X's type; its tensor operands
 * must have X's dtype (the kernel checks their shapes). */
#include <string.h>
#include "aglm/ext_ops.h"
#include "infer_internal.h"

static const char *const activations[] = {
    "",     "Relu",      "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "LeakyRelu", "Gelu", "Swish",   "PRelu",       NULL,
};

static const infer_rule *onnx_rule(const char *op)
{
    for (const infer_rule *r = infer_rules_nn; r->op; r++)
        if (strcmp(r->op, op) == 0)
            return r;
    for (const infer_rule *r = infer_rules_math; r->op; r++)
        if (strcmp(r->op, op) == 0)
            return r;
    for (const infer_rule *r = infer_rules_elementwise; r->op; r++)
        if (strcmp(r->op, op) == 0)
            return r;
    return NULL;
}

static aglm_status check_activation(const infer_ctx *c)
{
    const char *act = aglm_node_get_string(c->node, AGLM_ATTR_ACTIVATION, "");
    for (size_t i = 0; activations[i]; i++)
        if (strcmp(act, activations[i]) == 0)
            return AGLM_OK;
    return infer_err(c, AGLM_ERR_INVALID,
                     "activation '%s' is not one of Relu, Clip, Sigmoid, HardSigmoid, "
                     "HardSwish, Tanh, LeakyRelu, Gelu, Swish, PRelu (or empty)",
                     act);
}

/* PRelu's activation_params are one slope for all, or one per channel of the output's axis
 * `axis` (negative: from the end), which must agree when that dim is known. */
static aglm_status check_prelu(infer_ctx *c, int axis)
{
    const aglm_attr *a = aglm_node_attr(c->node, AGLM_ATTR_ACTIVATION_PARAMS);
    if (strcmp(aglm_node_get_string(c->node, AGLM_ATTR_ACTIVATION, ""), "PRelu") != 0 ||
        !c->out_set[0] || c->out[0].rank < 0)
        return AGLM_OK;
    size_t count = 0;
    if (a && aglm_attr_kind(a) == AGLM_ATTR_FLOATS)
        aglm_attr_floats(a, &count);
    else if (a && aglm_attr_kind(a) == AGLM_ATTR_INTS)
        aglm_attr_ints(a, &count);
    int ax = axis < 0 ? c->out[0].rank + axis : axis;
    int64_t n = ax >= 0 && ax < c->out[0].rank ? c->out[0].dims[ax].value : -1;
    if (count == 0 || (count > 1 && n >= 0 && (int64_t)count != n))
        return infer_err(c, AGLM_ERR_SHAPE,
                         "PRelu's activation_params hold %zu slopes, the output's channels are "
                         "%lld",
                         count, (long long)n);
    return AGLM_OK;
}

/* The residual (input 3), when present, must have the output's type exactly. */
static aglm_status check_residual(infer_ctx *c, const char *what)
{
    if (!infer_has_in(c, 3) || c->in[3].rank < 0 || !c->out_set[0])
        return infer_same_dtype(c, 0, 3);
    const infer_type *r = &c->in[3], *y = &c->out[0];
    int same = r->dtype == y->dtype && r->rank == y->rank;
    for (int i = 0; same && y->rank >= 0 && i < r->rank; i++)
        same = !infer_dim_conflict(r->dims[i], y->dims[i]);
    if (!same) {
        char sr[128], sy[128];
        return infer_err(c, AGLM_ERR_SHAPE, "residual %s does not match the %s's output %s",
                         infer_type_str(r, sr, sizeof sr), what, infer_type_str(y, sy, sizeof sy));
    }
    return AGLM_OK;
}

static aglm_status fused_conv(infer_ctx *c)
{
    aglm_status st = check_activation(c);
    if (st != AGLM_OK)
        return st;
    const infer_rule *conv = onnx_rule("Conv");
    if (!conv)
        return infer_err(c, AGLM_ERR_INTERNAL, "no Conv rule to build on");
    infer_ctx inner = *c;
    inner.n_in = c->n_in < 3 ? c->n_in : 3;
    if ((st = conv->fn(&inner)) != AGLM_OK || (st = check_prelu(c, 1)) != AGLM_OK)
        return st;
    return check_residual(c, "convolution");
}

static aglm_status fused_matmul(infer_ctx *c)
{
    aglm_status st = check_activation(c);
    if (st != AGLM_OK)
        return st;
    const infer_type *a = &c->in[0], *b = &c->in[1];
    int gemm = aglm_node_attr(c->node, "transA") || aglm_node_attr(c->node, "transB") ||
               aglm_node_attr(c->node, "alpha") || aglm_node_attr(c->node, "beta") ||
               (a->rank == 2 && b->rank == 2);
    const infer_rule *base = onnx_rule(gemm ? "Gemm" : "MatMul");
    if (!base)
        return infer_err(c, AGLM_ERR_INTERNAL, "no %s rule to build on", gemm ? "Gemm" : "MatMul");
    infer_ctx inner = *c;
    inner.n_in = gemm ? (c->n_in < 3 ? c->n_in : 3) : 2;
    if ((st = base->fn(&inner)) != AGLM_OK)
        return st;
    if (!gemm && infer_has_in(c, 2)) {
        const infer_type *bias = &c->in[2];
        if ((st = infer_same_dtype(c, 0, 2)) != AGLM_OK)
            return st;
        if (bias->rank >= 0 && b->rank >= 0 &&
            (bias->rank != 1 || b->rank < 2 ||
             infer_dim_conflict(bias->dims[0], b->dims[b->rank - 1]))) {
            char sc[128], sb[128];
            return infer_err(c, AGLM_ERR_SHAPE,
                             "bias %s must be a vector of B %s's last dim (B of rank >= 2)",
                             infer_type_str(bias, sc, sizeof sc), infer_type_str(b, sb, sizeof sb));
        }
    }
    if ((st = check_prelu(c, -1)) != AGLM_OK)
        return st;
    return check_residual(c, "product");
}

/* An aglm op that is an ONNX op by another name: ONNX's rule. */
static aglm_status as_onnx(infer_ctx *c, const char *op)
{
    const infer_rule *base = onnx_rule(op);
    return base ? base->fn(c) : infer_err(c, AGLM_ERR_INTERNAL, "no %s rule to build on", op);
}

static aglm_status layer_norm(infer_ctx *c)
{
    return as_onnx(c, "LayerNormalization");
}

static aglm_status gelu(infer_ctx *c)
{
    return as_onnx(c, "Gelu");
}

static aglm_status elementwise(infer_ctx *c)
{
    size_t count = 0;
    const aglm_attr *ops = aglm_node_attr(c->node, AGLM_ATTR_OPS);
    if (!ops || aglm_attr_kind(ops) != AGLM_ATTR_STRINGS ||
        (aglm_attr_strings(ops, &count), count == 0))
        return infer_err(c, AGLM_ERR_INVALID,
                         "attribute ops (a list of op names) is missing or empty");
    for (size_t i = 1; i < c->n_in; i++) {
        aglm_status st = infer_same_dtype(c, 0, i);
        if (st != AGLM_OK)
            return st;
    }
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

const infer_rule infer_rules_aglm[] = {
    {AGLM_DOMAIN "." AGLM_OP_FUSED_CONV, fused_conv},
    {AGLM_DOMAIN "." AGLM_OP_FUSED_MATMUL, fused_matmul},
    {AGLM_DOMAIN "." AGLM_OP_LAYER_NORM, layer_norm},
    {AGLM_DOMAIN "." AGLM_OP_GELU, gelu},
    {AGLM_DOMAIN "." AGLM_OP_ELEMENTWISE, elementwise},
    {NULL, NULL},
};
