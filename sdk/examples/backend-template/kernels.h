/* The tiny backend's kernels: one function per op, each computing one step of a compiled graph
 * from what the runtime layer hands it (aglm_step_io: input tensors, empty output descriptors,
 * planned memory for each output). */
#ifndef TINY_KERNELS_H
#define TINY_KERNELS_H

#include <aglm/aglm.h>

/* Fills io->out[0] from io->in[]; on failure says what is wrong (the executor adds the node). */
typedef aglm_status (*tiny_kernel_fn)(const aglm_step_io *io);

typedef struct tiny_kernel {
    const char *op; /* ONNX op type ("Add") */
    tiny_kernel_fn run;
} tiny_kernel;

/* The kernel for node n (an ONNX op the backend implements), or NULL. Dtypes are not checked
 * here: every kernel computes f32, and the backend's support check refuses the rest. */
const tiny_kernel *tiny_kernel_find(const aglm_node *n);

#endif
