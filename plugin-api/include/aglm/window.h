/* Sliding-window geometry of Conv, ConvTranspose and the pools: kernel_shape, strides,
 * dilations, pads, auto_pad (and ConvTranspose's output_padding and output_shape) resolved
 * against an input's spatial sizes into output sizes and begin/end pads. Shape inference and the
 * backends both compute output sizes here, so that they cannot disagree.
 *
 * auto_pad SAME_UPPER / SAME_LOWER computes the pads and ignores a `pads` attribute, VALID pads
 * nothing (and ignores ceil_mode, as ONNX's VALID formula does), NOTSET reads `pads`: what ONNX
 * Runtime does. ceil_mode rounds output sizes up but drops a last window that would start in the
 * end padding (PyTorch's rule, which ONNX adopted). */
#ifndef AGLM_WINDOW_H
#define AGLM_WINDOW_H

#include <stdint.h>
#include "aglm/export.h"
#include "aglm/graph.h"
#include "aglm/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* aglm_window holds this many spatial dims: a 1-D or 2-D op gets leading unit dims (kernel 1,
 * stride 1, no padding), so one loop nest serves every rank. */
#define AGLM_WINDOW_DIMS 3
/* Kernel sizes, strides, dilations, pads and output_padding above this are rejected, and input
 * sizes above AGLM_WINDOW_MAX_SIZE, so the size arithmetic cannot overflow. */
#define AGLM_WINDOW_MAX_ATTR ((int64_t)INT32_MAX)
#define AGLM_WINDOW_MAX_SIZE (INT64_MAX >> 4)

typedef enum aglm_auto_pad {
    AGLM_AUTO_PAD_NOTSET = 0, /* the pads attribute (absent: none) */
    AGLM_AUTO_PAD_SAME_UPPER, /* output ceil(in / stride), the odd pad at the end */
    AGLM_AUTO_PAD_SAME_LOWER, /* the same, the odd pad at the beginning */
    AGLM_AUTO_PAD_VALID       /* no padding */
} aglm_auto_pad;

typedef struct aglm_window {
    int nd;                        /* spatial dims of the op: 1 to AGLM_WINDOW_DIMS */
    int64_t in[AGLM_WINDOW_DIMS];  /* input spatial size */
    int64_t out[AGLM_WINDOW_DIMS]; /* output spatial size */
    int64_t k[AGLM_WINDOW_DIMS];   /* kernel size (taps) */
    int64_t s[AGLM_WINDOW_DIMS];   /* stride */
    int64_t d[AGLM_WINDOW_DIMS];   /* dilation */
    int64_t pb[AGLM_WINDOW_DIMS];  /* padding before */
    int64_t pe[AGLM_WINDOW_DIMS];  /* padding after */
} aglm_window;

/* Node's auto_pad attribute (absent or "" is NOTSET); AGLM_ERR_INVALID "attribute auto_pad 'X'
 * is not NOTSET, SAME_UPPER, SAME_LOWER or VALID" for another value. */
AGLM_API aglm_status aglm_auto_pad_of(const aglm_node *node, aglm_auto_pad *out);

/* One spatial axis of a Conv or pool: the output size *out of an input of size `in` under a
 * kernel of `kernel` taps, `stride` and `dilation`. *pad_begin and *pad_end hold the pads
 * attribute's values on entry (read for NOTSET) and the pads used on return. AGLM_ERR_SHAPE when
 * the dilated window is larger than the padded input, AGLM_ERR_INVALID for a value out of range
 * (see AGLM_WINDOW_MAX_ATTR). */
AGLM_API aglm_status aglm_window_axis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                                      aglm_auto_pad pad, int ceil_mode, int64_t *pad_begin,
                                      int64_t *pad_end, int64_t *out);

/* One spatial axis of a ConvTranspose: the output size *out of an input of size `in`, from
 * stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 less the pads, or
 * output_shape (when >= 0) or in * stride (SAME) with the pads that need. *pad_begin and *pad_end
 * as aglm_window_axis. AGLM_ERR_SHAPE when the output size would be negative. */
AGLM_API aglm_status aglm_window_transpose_axis(int64_t in, int64_t kernel, int64_t stride,
                                                int64_t dilation, int64_t output_padding,
                                                int64_t output_shape, aglm_auto_pad pad,
                                                int64_t *pad_begin, int64_t *pad_end, int64_t *out);

/* Resolves Conv's or a pool's window attributes on `node` for an input of spatial sizes
 * in[0..nd). `kernel` gives the kernel size when the op takes it from a weight (Conv; a
 * kernel_shape attribute must then agree); NULL reads kernel_shape, which is then required.
 * ceil_mode rounds output sizes up (pools). Errors name the attribute or the spatial dim. */
AGLM_API aglm_status aglm_window_init(aglm_window *w, const aglm_node *node, int nd,
                                      const int64_t *in, const int64_t *kernel, int ceil_mode);

/* The same for ConvTranspose (kernel from its weight; also output_padding and output_shape):
 * in[] is the input (the small side), out[] the output. */
AGLM_API aglm_status aglm_window_init_transpose(aglm_window *w, const aglm_node *node, int nd,
                                                const int64_t *in, const int64_t *kernel);

/* Elements of the output and input spatial volumes and of the kernel. */
AGLM_API int64_t aglm_window_out_size(const aglm_window *w);
AGLM_API int64_t aglm_window_in_size(const aglm_window *w);
AGLM_API int64_t aglm_window_kernel_size(const aglm_window *w);

#ifdef __cplusplus
}
#endif
#endif
