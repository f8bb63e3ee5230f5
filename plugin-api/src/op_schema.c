/* The op schema (aglm/op_schema.h): one sorted table, searched by bsearch.
 *
 * Arities are the ONNX spec's, across opsets (the table has no version: BatchNormalization keeps
 * opset 9's five outputs, Reshape-1 and Upsample-7 their single input), so that no opset a
 * rule or kernel handles is refused here; what a given opset forbids, the rule or kernel says.
 * Flags come from what the kernels guarantee: AGLM_OPF_INPLACE lists exactly the ops whose cpu
 * kernels read element i of every input before writing element i (binary ops through one
 * broadcast loop, unary ops and activations through one unary loop; not the variadic Max, Min,
 * Sum, Mean, which copy input 0 into the output first), and AGLM_OPF_WRITES_ALL adds those whose
 * kernels store every output element without reading it (Conv and aglm.FusedConv drivers, MatMul,
 * Gemm, aglm.FusedMatMul, the copies of Concat, Transpose and Resize; not ConvTranspose, which
 * accumulates into its output). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/ext_ops.h"
#include "aglm/op_schema.h"

#define ONNX ""
#define AGLM AGLM_DOMAIN
#define PREVIEW "ai.onnx.preview"
#define V AGLM_OP_VARIADIC
#define EW AGLM_OPF_ELEMENTWISE
#define IP AGLM_OPF_INPLACE
#define WA AGLM_OPF_WRITES_ALL
#define SG AGLM_OPF_SUBGRAPHS
#define ND AGLM_OPF_NONDETERMINISTIC
#define NOFL AGLM_FLOPS_NONE

/* Sorted by domain, then op, as strcmp orders them (the unit test checks). */
static const aglm_op_schema table[] = {
    {ONNX, "Abs", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Acos", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Acosh", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Add", 2, 2, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "AffineGrid", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "And", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "ArgMax", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "ArgMin", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Asin", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Asinh", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Atan", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Atanh", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Attention", 3, 7, 1, 4, 0, NOFL},
    {ONNX, "AveragePool", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "BatchNormalization", 5, 5, 1, 5, 0, NOFL},
    {ONNX, "Bernoulli", 1, 1, 1, 1, ND, NOFL},
    {ONNX, "BitCast", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "BitShift", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "BitwiseAnd", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "BitwiseNot", 1, 1, 1, 1, EW, NOFL},
    {ONNX, "BitwiseOr", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "BitwiseXor", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "BlackmanWindow", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Cast", 1, 1, 1, 1, EW, NOFL},
    {ONNX, "CastLike", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "CausalConvWithState", 2, 4, 1, 2, 0, NOFL},
    {ONNX, "Ceil", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Celu", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "CenterCropPad", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "Clip", 1, 3, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Col2Im", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "Compress", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "Concat", 1, V, 1, 1, WA, NOFL},
    {ONNX, "Constant", 0, 0, 1, 1, 0, NOFL},
    {ONNX, "ConstantOfShape", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Conv", 2, 3, 1, 1, WA, AGLM_FLOPS_CONV},
    {ONNX, "ConvInteger", 2, 4, 1, 1, 0, NOFL},
    {ONNX, "ConvTranspose", 2, 3, 1, 1, 0, AGLM_FLOPS_CONV_TRANSPOSE},
    {ONNX, "Cos", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Cosh", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "CumProd", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "CumSum", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "DFT", 1, 3, 1, 1, 0, NOFL},
    {ONNX, "DeformConv", 3, 5, 1, 1, 0, NOFL},
    {ONNX, "DepthToSpace", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "DequantizeLinear", 2, 3, 1, 1, 0, NOFL},
    {ONNX, "Div", 2, 2, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Dropout", 1, 3, 1, 2, ND, NOFL},
    {ONNX, "DynamicQuantizeLinear", 1, 1, 1, 3, 0, NOFL},
    {ONNX, "Einsum", 1, V, 1, 1, 0, NOFL},
    {ONNX, "Elu", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Equal", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "Erf", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Exp", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Expand", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "EyeLike", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Flatten", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Floor", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "GRU", 3, 6, 0, 2, 0, NOFL},
    {ONNX, "Gather", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "GatherElements", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "GatherND", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "Gelu", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Gemm", 2, 3, 1, 1, WA, AGLM_FLOPS_MATMUL},
    {ONNX, "GlobalAveragePool", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "GlobalLpPool", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "GlobalMaxPool", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Greater", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "GreaterOrEqual", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "GridSample", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "GroupNormalization", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "HammingWindow", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "HannWindow", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "HardSigmoid", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "HardSwish", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Hardmax", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Identity", 1, 1, 1, 1, EW, NOFL},
    {ONNX, "If", 1, 1, 1, V, SG, NOFL},
    {ONNX, "InstanceNormalization", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "IsInf", 1, 1, 1, 1, EW, NOFL},
    {ONNX, "IsNaN", 1, 1, 1, 1, EW, NOFL},
    {ONNX, "LRN", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "LSTM", 3, 8, 0, 3, 0, NOFL},
    {ONNX, "LayerNormalization", 2, 3, 1, 3, 0, NOFL},
    {ONNX, "LeakyRelu", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Less", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "LessOrEqual", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "LinearAttention", 3, 6, 1, 2, 0, NOFL},
    {ONNX, "Log", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "LogSoftmax", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Loop", 0, V, 1, V, SG, NOFL},
    {ONNX, "LpNormalization", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "LpPool", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "MatMul", 2, 2, 1, 1, WA, AGLM_FLOPS_MATMUL},
    {ONNX, "MatMulInteger", 2, 4, 1, 1, 0, NOFL},
    {ONNX, "Max", 1, V, 1, 1, EW, NOFL},
    {ONNX, "MaxPool", 1, 1, 1, 2, 0, NOFL},
    {ONNX, "MaxRoiPool", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "MaxUnpool", 2, 3, 1, 1, 0, NOFL},
    {ONNX, "Mean", 1, V, 1, 1, EW, NOFL},
    {ONNX, "MeanVarianceNormalization", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "MelWeightMatrix", 5, 5, 1, 1, 0, NOFL},
    {ONNX, "Min", 1, V, 1, 1, EW, NOFL},
    {ONNX, "Mish", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Mod", 2, 2, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Mul", 2, 2, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Multinomial", 1, 1, 1, 1, ND, NOFL},
    {ONNX, "Neg", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "NegativeLogLikelihoodLoss", 2, 3, 1, 1, 0, NOFL},
    {ONNX, "NonMaxSuppression", 2, 5, 1, 1, 0, NOFL},
    {ONNX, "NonZero", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Not", 1, 1, 1, 1, EW, NOFL},
    {ONNX, "OneHot", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "Or", 2, 2, 1, 1, EW, NOFL},
    {ONNX, "PRelu", 2, 2, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Pad", 1, 4, 1, 1, 0, NOFL},
    {ONNX, "Pow", 2, 2, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "QLinearConv", 8, 9, 1, 1, 0, NOFL},
    {ONNX, "QLinearMatMul", 8, 8, 1, 1, 0, NOFL},
    {ONNX, "QuantizeLinear", 2, 3, 1, 1, 0, NOFL},
    {ONNX, "RMSNormalization", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "RNN", 3, 6, 0, 2, 0, NOFL},
    {ONNX, "RandomNormal", 0, 0, 1, 1, ND, NOFL},
    {ONNX, "RandomNormalLike", 1, 1, 1, 1, ND, NOFL},
    {ONNX, "RandomUniform", 0, 0, 1, 1, ND, NOFL},
    {ONNX, "RandomUniformLike", 1, 1, 1, 1, ND, NOFL},
    {ONNX, "Range", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "Reciprocal", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "ReduceL1", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceL2", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceLogSum", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceLogSumExp", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceMax", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceMean", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceMin", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceProd", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceSum", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "ReduceSumSquare", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "Relu", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Reshape", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "Resize", 1, 4, 1, 1, WA, NOFL},
    {ONNX, "ReverseSequence", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "RoiAlign", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "RotaryEmbedding", 3, 4, 1, 1, 0, NOFL},
    {ONNX, "Round", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "STFT", 2, 4, 1, 1, 0, NOFL},
    {ONNX, "Scan", 0, V, 1, V, SG, NOFL},
    {ONNX, "Scatter", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "ScatterElements", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "ScatterND", 3, 3, 1, 1, 0, NOFL},
    {ONNX, "Selu", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Shape", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Shrink", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Sigmoid", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Sign", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Sin", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Sinh", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Size", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Slice", 1, 5, 1, 1, 0, NOFL},
    {ONNX, "Softmax", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "SoftmaxCrossEntropyLoss", 2, 3, 1, 2, 0, NOFL},
    {ONNX, "Softplus", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Softsign", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "SpaceToDepth", 1, 1, 1, 1, 0, NOFL},
    {ONNX, "Split", 1, 2, 1, V, 0, NOFL},
    {ONNX, "Sqrt", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Squeeze", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "Sub", 2, 2, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Sum", 1, V, 1, 1, EW, NOFL},
    {ONNX, "Swish", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Tan", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Tanh", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "TensorScatter", 2, 3, 1, 1, 0, NOFL},
    {ONNX, "ThresholdedRelu", 1, 1, 1, 1, EW | IP | WA, NOFL},
    {ONNX, "Tile", 2, 2, 1, 1, 0, NOFL},
    {ONNX, "TopK", 1, 2, 1, 2, 0, NOFL},
    {ONNX, "Transpose", 1, 1, 1, 1, WA, NOFL},
    {ONNX, "Trilu", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "Unique", 1, 1, 1, 4, 0, NOFL},
    {ONNX, "Unsqueeze", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "Upsample", 1, 2, 1, 1, 0, NOFL},
    {ONNX, "Where", 3, 3, 1, 1, EW, NOFL},
    {ONNX, "Xor", 2, 2, 1, 1, EW, NOFL},
    {AGLM, AGLM_OP_ELEMENTWISE, 1, 1 + AGLM_ELEMENTWISE_MAX_OPERANDS, 1, 1, EW, NOFL},
    {AGLM, AGLM_OP_FUSED_CONV, 2, 4, 1, 1, WA, AGLM_FLOPS_CONV},
    {AGLM, AGLM_OP_FUSED_MATMUL, 2, 4, 1, 1, WA, AGLM_FLOPS_MATMUL},
    {AGLM, AGLM_OP_GELU, 1, 1, 1, 1, EW, NOFL},
    {AGLM, AGLM_OP_LAYER_NORM, 1, 3, 1, 1, 0, NOFL},
    {PREVIEW, "FlexAttention", 3, 3, 1, 1, 0, NOFL},
};

#define COUNT (sizeof table / sizeof table[0])

static const char *norm_domain(const char *domain)
{
    return !domain || strcmp(domain, "ai.onnx") == 0 ? "" : domain;
}

static int by_name(const void *key, const void *entry)
{
    const aglm_op_schema *a = key, *b = entry;
    int c = strcmp(a->domain, b->domain);
    return c ? c : strcmp(a->op, b->op);
}

AGLM_API const aglm_op_schema *aglm_op_schema_find(const char *domain, const char *op)
{
    if (!op)
        return NULL;
    aglm_op_schema key = {norm_domain(domain), op, 0, 0, 0, 0, 0, AGLM_FLOPS_NONE};
    return bsearch(&key, table, COUNT, sizeof table[0], by_name);
}

AGLM_API const aglm_op_schema *aglm_node_schema(const aglm_node *n)
{
    return n ? aglm_op_schema_find(aglm_node_domain(n), aglm_node_op(n)) : NULL;
}

AGLM_API int aglm_node_is(const aglm_node *n, const char *domain, const char *op)
{
    return n && op && strcmp(aglm_node_op(n), op) == 0 &&
           strcmp(norm_domain(aglm_node_domain(n)), norm_domain(domain)) == 0;
}

AGLM_API int aglm_node_has_flags(const aglm_node *n, uint32_t flags)
{
    const aglm_op_schema *s = aglm_node_schema(n);
    return s && (s->flags & flags) == flags;
}

/* "2", "2 to 3" or "1 or more" into buf. */
static const char *range_str(char *buf, size_t cap, unsigned lo, unsigned hi)
{
    if (lo == hi)
        snprintf(buf, cap, "%u", lo);
    else if (hi == AGLM_OP_VARIADIC)
        snprintf(buf, cap, "%u or more", lo);
    else
        snprintf(buf, cap, "%u to %u", lo, hi);
    return buf;
}

AGLM_API aglm_status aglm_node_check_arity(const aglm_node *n)
{
    if (!n)
        return aglm_error(AGLM_ERR_INVALID, "check arity: node is NULL");
    const char *name = aglm_node_name(n) ? aglm_node_name(n) : "";
    const char *op = aglm_node_op(n), *domain = norm_domain(aglm_node_domain(n));
    const aglm_op_schema *s = aglm_node_schema(n);
    if (!s)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "node '%s': unknown op '%s%s%s'", name, domain,
                          domain[0] ? "." : "", op);
    size_t n_in = aglm_node_num_inputs(n), n_out = aglm_node_num_outputs(n);
    char r[32];
    if (n_in < s->min_inputs || (s->max_inputs != AGLM_OP_VARIADIC && n_in > s->max_inputs))
        return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): %zu input%s; %s takes %s", name, op,
                          n_in, n_in == 1 ? "" : "s", op,
                          range_str(r, sizeof r, s->min_inputs, s->max_inputs));
    for (size_t i = 0; i < s->min_inputs; i++)
        if (!aglm_node_input(n, i))
            return aglm_error(AGLM_ERR_INVALID,
                              "node '%s' (%s): required input %zu is missing; "
                              "%s takes %s",
                              name, op, i, op,
                              range_str(r, sizeof r, s->min_inputs, s->max_inputs));
    if (n_out < s->min_outputs || (s->max_outputs != AGLM_OP_VARIADIC && n_out > s->max_outputs))
        return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): %zu output%s; %s gives %s", name, op,
                          n_out, n_out == 1 ? "" : "s", op,
                          range_str(r, sizeof r, s->min_outputs, s->max_outputs));
    return AGLM_OK;
}

AGLM_API size_t aglm_op_schema_count(void)
{
    return COUNT;
}

AGLM_API const aglm_op_schema *aglm_op_schema_at(size_t i)
{
    return i < COUNT ? &table[i] : NULL;
}
