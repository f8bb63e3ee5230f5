/* Models importing ai.onnx opsets 1 to 6. Most ops are defined the same there as at opset 7; the
 * graph is then read as opset 7, which libaglm's rules and the backends know. An op defined
 * differently (or not at all) at the imported version is refused rather than misread.
 *
 * The tables are onnx/defs/operator_sets.h: the ops of opset 1, and those each of opsets 2 to 7
 * introduced or changed. */
#include "onnx_frontend.h"

#include <string.h>

static const char *const opset1[] = {"Abs",
                                     "Add",
                                     "And",
                                     "ArgMax",
                                     "ArgMin",
                                     "AveragePool",
                                     "BatchNormalization",
                                     "Cast",
                                     "Ceil",
                                     "Clip",
                                     "Concat",
                                     "Constant",
                                     "Conv",
                                     "ConvTranspose",
                                     "DepthToSpace",
                                     "Div",
                                     "Dropout",
                                     "Elu",
                                     "Equal",
                                     "Exp",
                                     "Flatten",
                                     "Floor",
                                     "GRU",
                                     "Gather",
                                     "Gemm",
                                     "GlobalAveragePool",
                                     "GlobalLpPool",
                                     "GlobalMaxPool",
                                     "Greater",
                                     "HardSigmoid",
                                     "Hardmax",
                                     "Identity",
                                     "If",
                                     "InstanceNormalization",
                                     "LRN",
                                     "LSTM",
                                     "LeakyRelu",
                                     "Less",
                                     "Log",
                                     "LogSoftmax",
                                     "Loop",
                                     "LpNormalization",
                                     "LpPool",
                                     "MatMul",
                                     "Max",
                                     "MaxPool",
                                     "MaxRoiPool",
                                     "Mean",
                                     "Min",
                                     "Mul",
                                     "Neg",
                                     "Not",
                                     "Or",
                                     "PRelu",
                                     "Pad",
                                     "Pow",
                                     "RNN",
                                     "RandomNormal",
                                     "RandomNormalLike",
                                     "RandomUniform",
                                     "RandomUniformLike",
                                     "Reciprocal",
                                     "ReduceL1",
                                     "ReduceL2",
                                     "ReduceLogSum",
                                     "ReduceLogSumExp",
                                     "ReduceMax",
                                     "ReduceMean",
                                     "ReduceMin",
                                     "ReduceProd",
                                     "ReduceSum",
                                     "ReduceSumSquare",
                                     "Relu",
                                     "Reshape",
                                     "Selu",
                                     "Shape",
                                     "Sigmoid",
                                     "Size",
                                     "Slice",
                                     "Softmax",
                                     "Softplus",
                                     "Softsign",
                                     "SpaceToDepth",
                                     "Split",
                                     "Sqrt",
                                     "Squeeze",
                                     "Sub",
                                     "Sum",
                                     "Tanh",
                                     "Tile",
                                     "TopK",
                                     "Transpose",
                                     "Unsqueeze",
                                     "Upsample",
                                     "Xor",
                                     NULL};

static const char *const opset2[] = {"GlobalLpPool", "LpPool", "Pad", "Split", NULL};
static const char *const opset3[] = {"GRU", NULL};
static const char *const opset4[] = {"Concat", NULL};
static const char *const opset5[] = {"Reshape", NULL};
static const char *const opset6[] = {"Abs",
                                     "Add",
                                     "BatchNormalization",
                                     "Cast",
                                     "Ceil",
                                     "Clip",
                                     "Div",
                                     "Dropout",
                                     "Elu",
                                     "Exp",
                                     "Floor",
                                     "Gemm",
                                     "HardSigmoid",
                                     "InstanceNormalization",
                                     "LeakyRelu",
                                     "Log",
                                     "Max",
                                     "Mean",
                                     "Min",
                                     "Mul",
                                     "Neg",
                                     "PRelu",
                                     "Reciprocal",
                                     "Relu",
                                     "Selu",
                                     "Sigmoid",
                                     "Sqrt",
                                     "Sub",
                                     "Sum",
                                     "Tanh",
                                     "Tile",
                                     NULL};
static const char *const opset7[] = {
    "Acos", "Add",  "And",      "Asin",        "Atan", "AveragePool", "BatchNormalization",
    "Cos",  "Div",  "Dropout",  "Equal",       "Gemm", "Greater",     "GRU",
    "Less", "LSTM", "Mul",      "Or",          "Pow",  "RNN",         "Sin",
    "Sub",  "Tan",  "Upsample", "Multinomial", "Xor",  "PRelu",       NULL};

static const char *const *const changes[] = {NULL,   NULL,   opset2, opset3,
                                             opset4, opset5, opset6, opset7};

static int listed(const char *const *list, const char *op)
{
    for (; *list; list++)
        if (strcmp(*list, op) == 0)
            return 1;
    return 0;
}

aglm_status ox_check_old_op(int64_t version, const char *op, const char *who)
{
    if (version >= 7)
        return AGLM_OK;
    if (!listed(opset1, op))
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: op '%s' does not exist in ai.onnx opset %lld",
                          who, op, (long long)version);
    for (int64_t v = version + 1; v <= 7; v++)
        if (changes[v] && listed(changes[v], op))
            return aglm_error(
                AGLM_ERR_UNSUPPORTED,
                "%s: op '%s' of ai.onnx opset %lld was changed in opset %lld; models importing "
                "opsets older than 7 are read only where their ops mean what they do at 7",
                who, op, (long long)version, (long long)v);
    return AGLM_OK;
}
