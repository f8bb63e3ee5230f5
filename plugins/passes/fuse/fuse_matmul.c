/* fuse: a MatMul or Gemm and the element-wise ops after it become one aglm.FusedMatMul
 * (docs/extension-ops.md). A MatMul first takes an Add of a bias: a constant f32 vector of B's
 * last dim (which must be known), so the Add cannot widen the product; a Gemm already has its C.
 * Then both take the epilogue aglm.FusedConv takes (fuse_epilogue_extend): residual Add,
 * activation, scale and shift by scalars, residual Add. The node is rewritten in place as in
 * fuse_conv.c; a Gemm keeps its transA/transB/alpha/beta. */
#include "fuse_match.h"

/* An Add of a bias vector [N] reading v alone, N being B's static last dim; 1 on a match. */
static int match_bias(fuse_epilogue *m, aglm_value *b)
{
    int rank = aglm_value_rank(b);
    aglm_node *u = fuse_sole_user(m->last);
    aglm_value *c = u && aglm_node_is(u, "", "Add") ? fuse_other_input(u, m->last) : NULL;
    const aglm_tensor *t = c ? fuse_const_f32(c) : NULL;
    if (!t || rank < 2 || t->rank != 1 || aglm_value_dim(b, rank - 1).value != t->dims[0] ||
        aglm_node_num_outputs(u) != 1 || !fuse_absorb(m, u))
        return 0;
    m->bias = c;
    return 1;
}

static int match_matmul(aglm_node *n, fuse_epilogue *m)
{
    int mm = aglm_node_is(n, "", "MatMul");
    if ((!mm && !aglm_node_is(n, "", "Gemm")) || aglm_node_num_outputs(n) != 1 ||
        aglm_node_num_inputs(n) < 2 || aglm_value_dtype(aglm_node_output(n, 0)) != AGLM_F32)
        return 0;
    fuse_epilogue_init(m, n);
    m->channel_axis = -1; /* PRelu's slope runs along N */
    if (mm)
        match_bias(m, aglm_node_input(n, 1));
    fuse_epilogue_extend(m);
    return m->n_absorbed > 0;
}

aglm_status fuse_matmuls(aglm_graph *g, size_t *count)
{
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_nodes(g) && st == AGLM_OK; i++) {
        fuse_epilogue m;
        if (!match_matmul(aglm_graph_node(g, i), &m))
            continue;
        if ((st = fuse_import_aglm(g)) == AGLM_OK &&
            (st = fuse_epilogue_rewrite(g, &m, AGLM_OP_FUSED_MATMUL)) == AGLM_OK)
            ++*count;
    }
    return st;
}
