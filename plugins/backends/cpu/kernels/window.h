/* Sliding-window geometry shared by Conv and the pools: kernel_shape, strides, dilations, pads
 * and auto_pad, resolved against an actual input into output sizes and begin pads.
 *
 * Every window is normalised to three spatial dims (depth, height, width): a 1-D or 2-D op gets
 * leading unit dims with kernel 1, stride 1 and no padding, so one loop nest serves all ranks. */
#ifndef CPU_WINDOW_H
#define CPU_WINDOW_H

#include <stdint.h>
#include "kernels.h"

#define CPU_WINDOW_DIMS 3

typedef struct cpu_window {
    int nd;                        /* spatial dims of the op: 1 to 3 */
    int64_t in[CPU_WINDOW_DIMS];   /* input spatial size */
    int64_t out[CPU_WINDOW_DIMS];  /* output spatial size */
    int64_t k[CPU_WINDOW_DIMS];    /* kernel size (taps) */
    int64_t s[CPU_WINDOW_DIMS];    /* stride */
    int64_t d[CPU_WINDOW_DIMS];    /* dilation */
    int64_t pb[CPU_WINDOW_DIMS];   /* padding before */
    int64_t pe[CPU_WINDOW_DIMS];   /* padding after */
} cpu_window;

/* Resolves the node's window attributes for an input of spatial size in[0..nd). `kernel` gives
 * the kernel size when the op takes it from a weight tensor (Conv); NULL reads the
 * kernel_shape attribute, which is then required. ceil_mode rounds output sizes up (pools).
 * Errors name the attribute and the sizes. */
aglm_status cpu_window_init(cpu_window *w, const aglm_node *node, int nd, const int64_t *in,
                            const int64_t *kernel, int ceil_mode);

/* Total elements of the output / input spatial volume and the kernel. */
int64_t cpu_window_out_size(const cpu_window *w);
int64_t cpu_window_in_size(const cpu_window *w);
int64_t cpu_window_kernel_size(const cpu_window *w);

#endif
