/* Rules of the extension ops that passes create, domain "aglm" (docs/extension-ops.md).
 *
 * aglm.FusedConv is a Conv with an element-wise epilogue, so its output is Conv's: the Conv rule
 * runs on its first three inputs, then the residual, when present, must have that output's type
 * exactly (the epilogue adds it element by element, without broadcasting). */
#include <string.h>
#include "infer_internal.h"

static const char *const activations[] = {
    "", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu", "Gelu", NULL,
};

static const infer_rule *onnx_rule(const char *op)
{
    for (const infer_rule *r = infer_rules_nn; r->op; r++)
        if (strcmp(r->op, op) == 0)
            return r;
    return NULL;
}

static aglm_status check_activation(const infer_ctx *c)
{
    const char *act = aglm_node_get_string(c->node, "activation", "");
    for (size_t i = 0; activations[i]; i++)
        if (strcmp(act, activations[i]) == 0)
            return AGLM_OK;
    return infer_err(c, AGLM_ERR_INVALID, "activation '%s' is not one of Relu, Clip, Sigmoid, HardSigmoid, "
                     "HardSwish, Tanh, LeakyRelu, Gelu (or empty)", act);
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
    if ((st = conv->fn(&inner)) != AGLM_OK)
        return st;
    if (!infer_has_in(c, 3) || c->in[3].rank < 0 || !c->out_set[0])
        return infer_same_dtype(c, 0, 3);
    const infer_type *r = &c->in[3], *y = &c->out[0];
    int same = r->dtype == y->dtype && r->rank == y->rank;
    for (int i = 0; same && y->rank >= 0 && i < r->rank; i++)
        same = !infer_dim_conflict(r->dims[i], y->dims[i]);
    if (!same) {
        char sr[128], sy[128];
        return infer_err(c, AGLM_ERR_SHAPE, "residual %s does not match the convolution's output %s",
                         infer_type_str(r, sr, sizeof sr), infer_type_str(y, sy, sizeof sy));
    }
    return AGLM_OK;
}

const infer_rule infer_rules_aglm[] = {
    {"aglm.FusedConv", fused_conv, 2, 4, 1, 1},
    {NULL, NULL, 0, 0, 0, 0},
};
