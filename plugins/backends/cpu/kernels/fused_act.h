/* The element-wise epilogue of the fused aglm ops (aglm.FusedConv, aglm.FusedMatMul:
 * docs/extension-ops.md): a residual add, an activation and a scale and shift, read from the
 * node's attributes once and applied to ranges of f32 output. */
#ifndef CPU_FUSED_ACT_H
#define CPU_FUSED_ACT_H

#include "kernels.h"

typedef enum cpu_act {
    CPU_ACT_NONE,
    CPU_ACT_RELU,
    CPU_ACT_CLIP,
    CPU_ACT_SIGMOID,
    CPU_ACT_HARD_SIGMOID,
    CPU_ACT_HARD_SWISH,
    CPU_ACT_TANH,
    CPU_ACT_LEAKY_RELU,
    CPU_ACT_GELU,
    CPU_ACT_GELU_TANH,
    CPU_ACT_SWISH,
    CPU_ACT_PRELU /* per channel: the slope depends on the element's place, see channels */
} cpu_act;

typedef struct cpu_fused_epilogue {
    cpu_act act;
    float p0, p1;          /* Clip min/max, HardSigmoid alpha/beta, LeakyRelu and Swish alpha */
    const float *residual; /* same shape as the output, or NULL */
    int residual_first;    /* 1: act(y + r); 0: act(y) + r */
    float post_scale, post_shift; /* applied after the activation */
    /* PRelu: one slope per channel, from the node's floats (or its ints, as IR text writes
     * whole numbers); element i of the output is in channel (i / inner) % channels */
    const float *slope;
    const int64_t *slope_i;
    int64_t channels, inner;
} cpu_fused_epilogue;

/* Reads activation, activation_params, residual_before_activation, post_scale and post_shift
 * of node n into *f (residual left NULL); an error names an unknown activation or too many
 * params. */
aglm_status cpu_fused_epilogue_read(const aglm_node *n, cpu_fused_epilogue *f);

/* Tells a PRelu epilogue the output's layout: `channels` channels of `inner` consecutive
 * elements each, repeated; an error when its slope has another count. Nothing for the others. */
aglm_status cpu_fused_epilogue_layout(cpu_fused_epilogue *f, int64_t channels, int64_t inner);

/* Applies the activation alone to y[0, len) (PRelu excepted: it needs the offsets). */
void cpu_fused_activate(cpu_act act, float p0, float p1, float *y, int64_t len);

/* Applies the whole epilogue to y[off, off + len) (the residual read at the same offsets). */
void cpu_fused_epilogue_apply(const cpu_fused_epilogue *f, float *y, int64_t off, int64_t len);

#endif
