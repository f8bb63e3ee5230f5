/* The hook through which a fused convolution (aglm.FusedConv, kernels/fused_conv.c) finishes its
 * output while it is still in cache, instead of a second kernel reading it back. */
#ifndef CPU_CONV_EPILOGUE_H
#define CPU_CONV_EPILOGUE_H

#include "kernels.h"

typedef struct cpu_conv_epilogue {
    /* Called on y[off, off + len), elements of the output that hold convolution + bias; ranges
     * are disjoint and may be handed to several threads at once. */
    void (*apply)(const void *ctx, float *y, int64_t off, int64_t len);
    const void *ctx;
} cpu_conv_epilogue;

/* Conv on f32 x, w and optional b (NULL) with the node's Conv attributes, allocating out; `ep`
 * (NULL: none) runs on every output element once. */
aglm_status cpu_conv_f32(const cpu_kctx *k, const aglm_tensor *x, const aglm_tensor *wt,
                         const aglm_tensor *b, const cpu_conv_epilogue *ep, aglm_tensor *out);

#endif
