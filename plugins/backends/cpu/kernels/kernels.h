/* The cpu backend's kernel table and what kernels share.
 *
 * A kernel runs one node: it reads the node's attributes, computes its output shapes from the
 * actual input tensors (so symbolic dims need nothing at compile time), allocates each output
 * with aglm_tensor_alloc and fills it. On failure it returns an error saying what is wrong
 * (the executable adds the node's name and op) and frees only its own scratch: the caller frees
 * whatever outputs were allocated. Kernels keep no state, so one node may run on several
 * threads at once. */
#ifndef CPU_KERNELS_H
#define CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/aglm.h"
#include "threadpool.h"

/* What a kernel gets besides its tensors. */
typedef struct cpu_kctx {
    const aglm_node *node; /* for attributes */
    int64_t opset;         /* the ai.onnx opset the graph imports */
    cpu_pool *pool;        /* NULL runs single-threaded */
} cpu_kctx;

/* in[i] is NULL for an absent optional input; out has n_out zeroed descriptors, one per node
 * output (an output nothing reads is still computed and then dropped). */
typedef aglm_status (*cpu_kernel_fn)(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                     size_t n_out, aglm_tensor *out);

#define CPU_DT(dt) (1u << (dt))
#define CPU_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64))
#define CPU_NUMERIC (CPU_FLOATS | CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64))
#define CPU_ANY 0u

typedef struct cpu_kernel {
    const char *op;      /* ai.onnx op name */
    int min_inputs;      /* the first min_inputs inputs are required */
    int max_inputs;
    int max_outputs;
    uint32_t dtypes;     /* CPU_DT bits of the dtypes input 0 may have; CPU_ANY for any */
    cpu_kernel_fn run;
} cpu_kernel;

/* The kernel for an op of domain "" (ai.onnx), or NULL. */
const cpu_kernel *cpu_kernel_find(const char *op, const char *domain);

/* Family tables, each ending with an entry whose op is NULL. */
extern const cpu_kernel cpu_elementwise_kernels[];
extern const cpu_kernel cpu_unary_kernels[];
extern const cpu_kernel cpu_matmul_kernels[];
extern const cpu_kernel cpu_conv_kernels[];
extern const cpu_kernel cpu_pool_kernels[];
extern const cpu_kernel cpu_shape_kernels[];
extern const cpu_kernel cpu_softmax_kernels[];
extern const cpu_kernel cpu_cast_kernels[];

/* ---- helpers (kernels/util.c) ---------------------------------------------------------- */

/* An error unless t's dtype is among `mask`: "input 'X' has dtype f16; Relu takes f32, f64". */
aglm_status cpu_check_dtype(const cpu_kctx *k, const aglm_tensor *t, const char *what,
                            uint32_t mask);
/* An error unless both tensors have the same dtype. */
aglm_status cpu_check_same_dtype(const aglm_tensor *a, const char *what_a, const aglm_tensor *b,
                                 const char *what_b);
/* Maps axis in [-rank, rank + extra) to [0, rank + extra) (negative counts from rank, as ONNX
 * does even where `extra` allows axis == rank); an error names the attribute. */
aglm_status cpu_norm_axis(int64_t axis, int rank, int extra, const char *what, int *out);
/* Row-major element count of dims [from, to). */
int64_t cpu_dims_prod(const int64_t *dims, int from, int to);
/* Shape of t as "[1,3,4]" in buf (64 bytes is enough for any rank). */
const char *cpu_shape(const aglm_tensor *t, char *buf, size_t n);
/* Reads a 1-D (or scalar) i64/i32 tensor into vals (at most max); *count gets its length. */
aglm_status cpu_read_ints(const aglm_tensor *t, const char *what, int64_t *vals, size_t max,
                          size_t *count);

#endif
