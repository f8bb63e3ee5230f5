/* The cpu backend's kernel table and what kernels share.
 *
 * A kernel runs one node: it reads the node's attributes, computes its output shapes from the
 * actual input tensors (so symbolic dims need nothing at compile time), allocates each output
 * with cpu_alloc and fills it. On failure it returns an error saying what is wrong
 * (the executable adds the node's name and op) and frees only its own scratch: the caller frees
 * whatever outputs were allocated. Kernels keep no run state, so one node may run on several
 * threads at once; what a kernel can work out once per node (packed weights, say) it builds in
 * its optional `prepare` at compile time, and reads it back, read-only, as cpu_kctx.prepared. */
#ifndef CPU_KERNELS_H
#define CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/aglm.h"
#include "threadpool.h"

/* What a kernel gets besides its tensors. */
typedef struct cpu_kctx {
    const aglm_node *node;  /* for attributes */
    int64_t opset;          /* the ai.onnx opset the graph imports */
    cpu_pool *pool;         /* NULL runs single-threaded */
    const aglm_step_io *io; /* the running step, for kernels that run subgraphs (If, Loop,
                             * Scan: see subgraph.h); NULL at prepare time */
    const void *prepared;   /* what the kernel's prepare built for this node, or NULL */
    aglm_tensor *out;       /* the step's output descriptors and the planned memory lent to */
    size_t n_out;           /* each (out_mem may be NULL: nothing lent) */
    const aglm_region *out_mem;
} cpu_kctx;

/* Allocates tensor t as aglm_tensor_alloc does; when t is one of the step's outputs (k->out[i])
 * and the executor lent that output planned memory, t goes there instead. Kernels allocate every
 * output and scratch tensor with it. */
static inline aglm_status cpu_alloc(const cpu_kctx *k, aglm_tensor *t, aglm_dtype dt, int rank,
                                    const int64_t *dims)
{
    const aglm_region *r = NULL;
    if (k && k->out_mem) {
        uintptr_t p = (uintptr_t)t, lo = (uintptr_t)k->out;
        if (p >= lo && p < lo + k->n_out * sizeof *t)
            r = &k->out_mem[(p - lo) / sizeof *t];
    }
    return aglm_tensor_alloc_in(t, r, dt, rank, dims);
}

/* in[i] is NULL for an absent optional input; out has n_out descriptors, one per node output
 * (an output nothing reads is still computed and then dropped). The executor may lend an output
 * a region of the run's memory-planned arena (k->out_mem), which cpu_alloc hands out when the
 * output fits: so a kernel allocates each output with cpu_alloc and reads nothing of it before.
 * An element-wise kernel whose op the schema marks AGLM_OPF_INPLACE may find
 * out[0].data == in[k]->data. */
typedef aglm_status (*cpu_kernel_fn)(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                     size_t n_out, aglm_tensor *out);

/* Optional, run once per node when the executable is built: consts[i] (i < n_in, at most 16)
 * is input i when it is a
 * constant of the graph (an initialiser), else NULL. May leave *state NULL (nothing to keep);
 * an error fails the compile. k->prepared is NULL here. */
typedef aglm_status (*cpu_prepare_fn)(const cpu_kctx *k, size_t n_in,
                                      const aglm_tensor *const *consts, void **state);
/* Frees what prepare built (never called with NULL). */
typedef void (*cpu_release_fn)(void *state);

#define CPU_DT(dt) (1u << (dt))
#define CPU_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64))
#define CPU_NUMERIC (CPU_FLOATS | CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64))
#define CPU_ANY 0u

/* A kernel's op; its input and output counts are the op schema's (aglm/op_schema.h), which
 * the executable checks before a kernel runs. */
typedef struct cpu_kernel {
    const char *op;  /* op name, in the domain of the table that lists it (table.c) */
    uint32_t dtypes; /* CPU_DT bits of the dtypes input 0 may have; CPU_ANY for any */
    cpu_kernel_fn run;
} cpu_kernel;

/* A kernel's prepare and release, found by its run function (cpu_kernel_prep). */
typedef struct cpu_prep {
    cpu_kernel_fn run;
    cpu_prepare_fn prepare;
    cpu_release_fn release;
} cpu_prep;

/* The kernel for an op of domain "" (ai.onnx), or NULL. */
const cpu_kernel *cpu_kernel_find(const char *op, const char *domain);

/* The prepare/release pair of kernel k, or NULL when it has none. */
const cpu_prep *cpu_kernel_prep(const cpu_kernel *k);

/* Prepare tables (kernels/table.c lists them), each ending with an entry whose run is NULL. */
extern const cpu_prep cpu_conv_preps[];
extern const cpu_prep cpu_fused_conv_preps[];
extern const cpu_prep cpu_matmul_preps[];
extern const cpu_prep cpu_aglm_matmul_preps[];

/* Family tables, each ending with an entry whose op is NULL. */
extern const cpu_kernel cpu_elementwise_kernels[];
extern const cpu_kernel cpu_unary_kernels[];
extern const cpu_kernel cpu_matmul_kernels[];
extern const cpu_kernel cpu_conv_kernels[];
extern const cpu_kernel cpu_pool_kernels[];
extern const cpu_kernel cpu_shape_kernels[];
extern const cpu_kernel cpu_softmax_kernels[];
extern const cpu_kernel cpu_cast_kernels[];
extern const cpu_kernel cpu_compare_kernels[], cpu_bitwise_kernels[], cpu_activation_kernels[];
/* ops-tensor: data movement and indexing */
extern const cpu_kernel cpu_gather_kernels[], cpu_scatter_kernels[], cpu_slice_kernels[];
extern const cpu_kernel cpu_pad_kernels[], cpu_sort_kernels[], cpu_cumulative_kernels[];
extern const cpu_kernel cpu_generate_kernels[], cpu_layout_kernels[], cpu_einsum_kernels[];
extern const cpu_kernel cpu_control_kernels[];
extern const cpu_kernel cpu_rnn_kernels[];
extern const cpu_kernel cpu_attention_kernels[];
extern const cpu_kernel cpu_state_mixer_kernels[];
/* Kernels of domain ai.onnx.preview (FlexAttention), looked up by that domain only. */
extern const cpu_kernel cpu_preview_kernels[];
/* Kernels of domain aglm (the extension ops passes create), looked up by that domain only. */
extern const cpu_kernel cpu_aglm_kernels[];
extern const cpu_kernel cpu_aglm_matmul_kernels[], cpu_aglm_pattern_kernels[],
    cpu_aglm_elementwise_kernels[];
extern const cpu_kernel cpu_reduce_kernels[];
extern const cpu_kernel cpu_norm_kernels[];
extern const cpu_kernel cpu_loss_kernels[];
extern const cpu_kernel cpu_quant_kernels[];
extern const cpu_kernel cpu_dropout_kernels[];
extern const cpu_kernel cpu_resize_kernels[];
extern const cpu_kernel cpu_convtranspose_kernels[];
extern const cpu_kernel cpu_gridsample_kernels[];
extern const cpu_kernel cpu_nms_kernels[];
extern const cpu_kernel cpu_signal_kernels[];
extern const cpu_kernel cpu_roi_kernels[];
extern const cpu_kernel cpu_deformconv_kernels[];
extern const cpu_kernel cpu_causalconv_kernels[];

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
/* Elements of a float tensor (f16, bf16, f32, f64) as f32: t's own data when it is f32, else a
 * converted copy in malloc'd *scratch, which the caller frees (NULL when nothing was copied).
 * NULL with an error for another dtype or when out of memory. */
const float *cpu_f32_view(const aglm_tensor *t, float **scratch);
/* Writes the first numel(out) values of src into out's data, rounding to its float dtype. */
void cpu_f32_store(aglm_tensor *out, const float *src);

/* Element i of numeric data of dtype dt, read as a double (floats, f16/bf16 widened) or as an
 * int64 (integers and bool; u64 keeps its bit pattern), and written back converting (integers
 * wrap as a C cast to the narrower type does; a float becomes an int64 saturated, NaN as 0).
 * Slow per-element paths only. */
double cpu_get_f(const void *data, aglm_dtype dt, int64_t i);
void cpu_set_f(void *data, aglm_dtype dt, int64_t i, double v);
int64_t cpu_get_i(const void *data, aglm_dtype dt, int64_t i);
void cpu_set_i(void *data, aglm_dtype dt, int64_t i, int64_t v);
/* Maps index v in [-dim, dim) to [0, dim); an error naming `what` otherwise. */
aglm_status cpu_norm_index(int64_t v, int64_t dim, const char *what, int64_t *out);

/* Fills y from x (same rank and element size): element (i0, .., ir-1) of y is element
 * (maps[0][i0], .., maps[r-1][ir-1]) of x, or the es bytes at `fill` where any map entry is -1
 * (fill NULL: left as allocated, zero). maps[d] has y->dims[d] entries. Runs on the pool. */
void cpu_copy_mapped(cpu_pool *pool, const aglm_tensor *x, aglm_tensor *y,
                     const int64_t *const *maps, const void *fill);

#endif
