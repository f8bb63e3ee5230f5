/* Floating-point operations of a node's run, for the profile's GFLOP line: the multiply-adds of
 * convolutions and matrix products (Conv, aglm.FusedConv, ConvTranspose, MatMul, Gemm,
 * aglm.FusedMatMul), counted as 2 operations each, from the actual tensors of the run. Bias,
 * activation, residual and every element-wise op are not counted: they are a few percent of the
 * arithmetic and would make the count depend on what the passes fused. */
#ifndef CPU_EXEC_FLOPS_H
#define CPU_EXEC_FLOPS_H

#include <stddef.h>
#include <stdint.h>

#include "aglm/aglm.h"

/* The operations node's kernel just did on inputs `in` (NULL for an absent one) giving `out`;
 * 0 for an op that is not counted, a non-float output, or a missing input or output. */
uint64_t exec_flops_node(const aglm_node *node, size_t n_in, const aglm_tensor *const *in,
                         size_t n_out, const aglm_tensor *out);

#endif
