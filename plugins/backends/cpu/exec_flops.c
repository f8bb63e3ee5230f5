/* Floating-point operations of the conv and matmul ops, from a run's tensors (exec_flops.h).
 *
 * Every count is 2 x (output elements) x (multiply-adds per output element), which holds for
 * grouped, strided, dilated and padded convolutions alike: the weight's dims after the first
 * are exactly the products that make one output (Conv) or that one input element feeds
 * (ConvTranspose), whatever the padding drops at the borders. */
#include "exec_flops.h"

#include <string.h>

static int is_op(const aglm_node *n, const char *op, int aglm_domain)
{
    const char *d = aglm_node_domain(n);
    int in_aglm = d && strcmp(d, "aglm") == 0;
    return in_aglm == aglm_domain && strcmp(aglm_node_op(n), op) == 0;
}

/* Product of dims[from..rank-1]. */
static uint64_t tail_product(const aglm_tensor *t, int from)
{
    uint64_t p = 1;
    for (int d = from; d < t->rank; d++)
        p *= (uint64_t)t->dims[d];
    return p;
}

/* Conv, aglm.FusedConv: Y[N, M, out...] from W[M, C/group, k...]: each output element is
 * C/group x prod(k) multiply-adds. */
static uint64_t conv_macs(const aglm_tensor *w, const aglm_tensor *y)
{
    return w->rank < 2 ? 0 : (uint64_t)aglm_tensor_numel(y) * tail_product(w, 1);
}

/* ConvTranspose: each element of X[N, C, in...] is scattered through W[C, M/group, k...]:
 * M/group x prod(k) multiply-adds. */
static uint64_t conv_transpose_macs(const aglm_tensor *x, const aglm_tensor *w)
{
    return w->rank < 2 ? 0 : (uint64_t)aglm_tensor_numel(x) * tail_product(w, 1);
}

/* MatMul, Gemm, aglm.FusedMatMul: A[..., M, K] x B[..., K, N]; each output element is K
 * multiply-adds. K is A's last dim, or its second last under Gemm's transA=1 (which
 * aglm.FusedMatMul keeps when it replaced a Gemm); a rank-1 A is [K]. */
static uint64_t matmul_macs(const aglm_node *n, const aglm_tensor *a, const aglm_tensor *y)
{
    if (a->rank < 1)
        return 0;
    int trans_a = a->rank >= 2 && aglm_node_get_int(n, "transA", 0) != 0;
    return (uint64_t)aglm_tensor_numel(y) * (uint64_t)a->dims[a->rank - 1 - trans_a];
}

uint64_t exec_flops_node(const aglm_node *node, size_t n_in, const aglm_tensor *const *in,
                         size_t n_out, const aglm_tensor *out)
{
    if (!node || n_in < 2 || !in[0] || !in[1] || n_out < 1 || !out || !out[0].data ||
        !aglm_dtype_is_float(out[0].dtype))
        return 0;
    uint64_t macs = 0;
    if (is_op(node, "Conv", 0) || is_op(node, "FusedConv", 1))
        macs = conv_macs(in[1], &out[0]);
    else if (is_op(node, "ConvTranspose", 0))
        macs = conv_transpose_macs(in[0], in[1]);
    else if (is_op(node, "MatMul", 0) || is_op(node, "Gemm", 0) || is_op(node, "FusedMatMul", 1))
        macs = matmul_macs(node, in[0], &out[0]);
    return 2 * macs;
}
