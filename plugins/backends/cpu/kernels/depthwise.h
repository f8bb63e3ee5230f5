/* Depthwise convolution (one input channel per group), one output plane at a time, on the SIMD
 * path the backend selected (simd.h). */
#ifndef CPU_DEPTHWISE_H
#define CPU_DEPTHWISE_H

#include <stddef.h>
#include "kernels.h"

/* y (w's output volume) = bias + the window's taps of x (one input channel, w's input volume)
 * weighted by wt (w's kernel volume). Each output sums its taps in (kd, kh, kw) order, as a
 * direct loop would, so the portable path's results do not depend on how rows are split.
 * scratch (cpu_depthwise_scratch_floats floats, or NULL) lets the AVX2 path copy a 2-D plane
 * into a zero-padded one and run 8 outputs per register across every tap. */
void cpu_depthwise_plane(const aglm_window *w, const float *x, const float *wt, float bias,
                         float *y, float *scratch);

/* Floats of scratch cpu_depthwise_plane can use for window w (0 when it would not use any). */
size_t cpu_depthwise_scratch_floats(const aglm_window *w);

#endif
