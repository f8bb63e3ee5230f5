/* Winograd F(2x2, 3x3) for the 3x3 stride-1 convolutions of one group (ocr-det's 96 -> 24
 * heads): 16 multiplies per 2x2 output tile and channel pair instead of 36. The input's 4x4
 * tiles and the weights are transformed (B^T d B, G g G^T), the 16 transformed planes are 16
 * independent GEMMs run on the GEMM micro-kernel, and the output transform (A^T m A) adds the
 * bias and runs the epilogue. */
#ifndef CPU_CONV_WINOGRAD_H
#define CPU_CONV_WINOGRAD_H

#include "conv_epilogue.h"
#include "conv_gemm.h"

/* 1 when a convolution of `channels` input and m output channels over window w with `group`
 * groups takes the Winograd path: 2-D, 3x3, unit strides and dilations, one group, enough
 * channels that the GEMMs outweigh the transforms, and an output plane of at least 128 x 128
 * (smaller ones run faster direct, conv_gemm.h). */
int cpu_conv_winograd_fits(const aglm_window *w, int64_t group, int64_t channels, int64_t m);

/* Transforms 3x3 weights w[m, channels, 3, 3] to U = G g G^T and packs the 16 planes [m,
 * channels] for SIMD path s (a cpu_conv_packed of 16 groups, winograd set). */
aglm_status cpu_conv_winograd_pack(const float *w, int64_t m, int64_t channels, cpu_simd s,
                                   cpu_conv_packed *out);

/* y[batch, m, out...] = conv(x[batch, channels, in...], the weights u packed) + bias (NULL:
 * none), then ep (NULL: none), for a window cpu_conv_winograd_fits accepts. */
aglm_status cpu_conv_winograd(const cpu_kctx *k, const aglm_window *w, const float *x,
                              int64_t batch, int64_t channels, const cpu_conv_packed *u,
                              const float *bias, const cpu_conv_epilogue *ep, float *y);

#endif
