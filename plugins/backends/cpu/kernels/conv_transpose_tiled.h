/* ConvTranspose whose kernel equals its stride (no pads, no dilation, no output padding, one
 * group): ocr-det's 2x2 stride-2 upsampling heads. Every output element then comes from exactly
 * one input position and one tap, so the product W^T [M * kernel, C] x X [C, positions] needs no
 * col2im accumulation and no column buffer: it is computed an nr-run of input positions at a
 * time into a small tile and written straight to its output positions, bias included. */
#ifndef CPU_CONV_TRANSPOSE_TILED_H
#define CPU_CONV_TRANSPOSE_TILED_H

#include "kernels.h"

/* 1 when ConvTranspose geometry w (in[] the input, out[] the output) with `group` groups can
 * run cpu_convt_tiled: kernel == stride on every dim, no pads or dilation, out == in * stride. */
int cpu_convt_tiled_fits(const aglm_window *w, int64_t group);

/* y[batch, m, out...] = ConvTranspose(x[batch, channels, in...], wt[channels, m, kernel...])
 * + bias (NULL: none), for a geometry cpu_convt_tiled_fits accepts. Every output element is
 * written (y need not be zeroed). AGLM_ERR_NOMEM when scratch cannot be had. */
aglm_status cpu_convt_tiled(const cpu_kctx *k, const aglm_window *w, const float *x, int64_t batch,
                            int64_t channels, const float *wt, int64_t m, const float *bias,
                            float *y);

#endif
