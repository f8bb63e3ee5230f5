/* fuse: a Conv and the element-wise ops after it become one aglm.FusedConv
 * (docs/extension-ops.md): the Conv's bias stays its bias; then, each taken only when the value
 * so far has that op as its only use,
 *
 *   an Add of a tensor known to have the output's shape (static dims or the same symbols),
 *   an activation: Relu, Clip (constant min/max), Sigmoid, HardSigmoid, HardSwish, Tanh,
 *     LeakyRelu, Gelu, Swish, PRelu with a constant slope along C (or one slope), Max / Min with
 *     a constant scalar (as Clip; further clamps after a Relu or Clip narrow it: ReLU6
 *     written as Relu then Min(., 6)); or written out: x * HardSigmoid(x) with alpha 1/6 and beta
 * 1/2, x * Clip(x + 3, 0, 6) / 6 as paddle2onnx writes it (x read by both branches only), or x *
 * Sigmoid(x) (Swish, SiLU), after an activation, a Mul by a constant scalar and/or an Add of one
 * (paddle's LearnableAffineBlock after an activation, in the PP-OCRv4 detector), an Add of a
 * residual when none was taken before the activation.
 *
 * The fused node is the Conv rewritten in place, so it keeps its output value; the last absorbed
 * node's output is redirected to it (taking that value's name when it is a graph output). A
 * residual may be computed after the Conv in graph order, so the graph is re-sorted after
 * fusing; no cycle can appear, since the residual cannot depend on a value whose only use is the
 * Add. */
#include "fuse_match.h"

static int match_conv(aglm_node *conv, fuse_epilogue *m)
{
    if (!aglm_node_is(conv, "", "Conv") || aglm_node_num_outputs(conv) != 1 ||
        aglm_node_num_inputs(conv) < 2 || aglm_value_dtype(aglm_node_output(conv, 0)) != AGLM_F32)
        return 0;
    fuse_epilogue_init(m, conv);
    m->channel_axis = 1;
    fuse_epilogue_extend(m);
    return m->n_absorbed > 0;
}

aglm_status fuse_convs(aglm_graph *g, size_t *count)
{
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_nodes(g) && st == AGLM_OK; i++) {
        fuse_epilogue m;
        if (!match_conv(aglm_graph_node(g, i), &m))
            continue;
        if ((st = fuse_import_aglm(g)) == AGLM_OK &&
            (st = fuse_epilogue_rewrite(g, &m, AGLM_OP_FUSED_CONV)) == AGLM_OK)
            ++*count;
    }
    return st;
}
