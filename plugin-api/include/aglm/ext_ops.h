/* Names of the aglm.* extension ops and their attributes (docs/extension-ops.md), so that the
 * passes that create these ops, shape inference and the backends that run them spell every name
 * from one place: a misspelt attribute would otherwise be silently read as its default. */
#ifndef AGLM_EXT_OPS_H
#define AGLM_EXT_OPS_H

/* The domain of the extension ops; a graph holding one imports it at AGLM_DOMAIN_VERSION. */
#define AGLM_DOMAIN "aglm"
#define AGLM_DOMAIN_VERSION 1

/* ---- ops ---------------------------------------------------------------------------------- */

/* Conv with an element-wise epilogue: inputs X, W, B (optional), R (optional residual). */
#define AGLM_OP_FUSED_CONV "FusedConv"
/* MatMul or Gemm with the same epilogue: inputs A, B, C (optional bias), R (optional residual). */
#define AGLM_OP_FUSED_MATMUL "FusedMatMul"
/* ONNX LayerNormalization (one output, scale optional) for opsets before 17. */
#define AGLM_OP_LAYER_NORM "LayerNorm"
/* ONNX Gelu (attribute approximate) for opsets before 20. */
#define AGLM_OP_GELU "Gelu"
/* A run of element-wise ops applied per element: X and up to AGLM_ELEMENTWISE_MAX_OPERANDS
 * tensor operands of X's shape. */
#define AGLM_OP_ELEMENTWISE "Elementwise"
#define AGLM_ELEMENTWISE_MAX_OPERANDS 8

/* ---- attributes of aglm.FusedConv and aglm.FusedMatMul (besides Conv's or Gemm's) -------- */

/* string: "" (none), Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, LeakyRelu, Gelu, Swish,
 * PRelu. */
#define AGLM_ATTR_ACTIVATION "activation"
/* floats: the activation's parameters (Clip [min, max], HardSigmoid [alpha, beta], PRelu one
 * slope per channel, ...). */
#define AGLM_ATTR_ACTIVATION_PARAMS "activation_params"
/* int, default 1: with R, 1 adds R before the activation, 0 after the post scale and shift. */
#define AGLM_ATTR_RESIDUAL_BEFORE_ACTIVATION "residual_before_activation"
/* floats, defaults 1 and 0: act(...) * post_scale + post_shift. */
#define AGLM_ATTR_POST_SCALE "post_scale"
#define AGLM_ATTR_POST_SHIFT "post_shift"

/* ---- attributes of aglm.Elementwise, one entry per step ----------------------------------- */

/* strings: each step's op (Relu, Add, ...). */
#define AGLM_ATTR_OPS "ops"
/* ints: -1 for a unary op, 0 for the step's scalar, k >= 1 for input k. */
#define AGLM_ATTR_OPERANDS "operands"
/* floats: each step's scalar operand. */
#define AGLM_ATTR_SCALARS "scalars"
/* ints: 1 computes op(operand, v) instead of op(v, operand). */
#define AGLM_ATTR_REVERSED "reversed"

#endif
