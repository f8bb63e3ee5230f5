/* fuse: rewrites groups of ops into single ops a backend runs in one kernel. In this order, so
 * the biggest patterns win: whole patterns (LayerNorm, Gelu, Softmax: fuse_patterns.c), then
 * Conv / MatMul / Gemm with their element-wise epilogues (fuse_conv.c, fuse_matmul.c), then the
 * runs of element-wise ops that are left (fuse_chain.c). What each creates is described in
 * docs/extension-ops.md. */
#include "fuse_match.h"

static aglm_status fuse_run(void *state, aglm_graph *g, const aglm_options *opts, int *changed)
{
    (void)state;
    (void)opts;
    if (changed)
        *changed = 0;
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "fuse: no graph given");
    size_t fused = 0;
    aglm_status st = fuse_patterns(g, &fused);
    /* the pattern rewrites append their nodes: sort before matching what reads them */
    if (st == AGLM_OK && fused)
        st = aglm_graph_toposort(g);
    if (st == AGLM_OK)
        st = fuse_convs(g, &fused);
    if (st == AGLM_OK)
        st = fuse_matmuls(g, &fused);
    if (st == AGLM_OK)
        st = fuse_chains(g, &fused);
    if (st == AGLM_OK && fused) {
        aglm_graph_prune_values(g);
        st = aglm_graph_toposort(g);
    }
    if (changed)
        *changed = fused > 0;
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "fuse on graph '%s'",
                               aglm_graph_name(g) ? aglm_graph_name(g) : "?");
    return AGLM_OK;
}

static const aglm_pass_ops fuse_ops = {
    .struct_size = sizeof(aglm_pass_ops),
    .run = fuse_run,
};

AGLM_DEFINE_PLUGIN(.name = "fuse", .version = "1.1.0", .kind = AGLM_KIND_PASS,
                   .summary =
                       "fuses LayerNorm/Gelu/Softmax patterns, Conv/MatMul/Gemm epilogues and "
                       "element-wise chains into single ops",
                   .ops = &fuse_ops)
