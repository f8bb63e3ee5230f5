/* The tiny backend's kernels: Add, Mul and Relu element-wise with NumPy broadcasting, and MatMul
 * with NumPy's matmul semantics (1-D operands, broadcast batch dimensions), all on f32.
 *
 * They are plain reference loops, written to be read. Each one allocates its output with
 * aglm_tensor_alloc_in, which places it in the planned memory the runtime layer lends
 * (io->out_mem[0]) when there is some, and on the heap otherwise: the kernel never needs to know
 * which. Add, Mul and Relu may be handed the memory of an input they read last (in place): they
 * read element i of every input before they write element i, as the op schema promises. */
#include "kernels.h"

#include <string.h>

/* Per dimension of an output of rank `rank`, how far the flat index of a tensor of shape
 * t_dims[t_rank] (aligned to the right, NumPy style) moves when that output index grows by one:
 * 0 where the tensor is broadcast (the dimension is 1 or absent). */
static void broadcast_strides(int t_rank, const int64_t *t_dims, int rank, int64_t *strides)
{
    int64_t step = 1;
    for (int d = rank - 1; d >= 0; d--) {
        int td = d - (rank - t_rank);
        strides[d] = td < 0 || t_dims[td] == 1 ? 0 : step;
        if (td >= 0)
            step *= t_dims[td];
    }
}

/* The flat index into a tensor with strides `strides` of output element i (output shape dims). */
static int64_t source_index(int64_t i, int rank, const int64_t *dims, const int64_t *strides)
{
    int64_t at = 0;
    for (int d = rank - 1; d >= 0; d--) {
        at += (i % dims[d]) * strides[d];
        i /= dims[d];
    }
    return at;
}

/* ---- element-wise ----------------------------------------------------------------------- */

typedef enum binary_op { BIN_ADD, BIN_MUL } binary_op;

static aglm_status binary(const aglm_step_io *io, binary_op op)
{
    const aglm_tensor *a = io->in[0], *b = io->in[1];
    int rank;
    int64_t dims[AGLM_MAX_RANK], sa[AGLM_MAX_RANK], sb[AGLM_MAX_RANK];
    aglm_status st = aglm_broadcast_shapes(a->rank, a->dims, b->rank, b->dims, &rank, dims);
    if (st == AGLM_OK)
        st = aglm_tensor_alloc_in(&io->out[0], &io->out_mem[0], AGLM_F32, rank, dims);
    if (st != AGLM_OK)
        return st;
    broadcast_strides(a->rank, a->dims, rank, sa);
    broadcast_strides(b->rank, b->dims, rank, sb);
    const float *x = a->data, *y = b->data;
    float *z = io->out[0].data;
    int64_t n = aglm_tensor_numel(&io->out[0]);
    for (int64_t i = 0; i < n; i++) {
        float u = x[source_index(i, rank, dims, sa)], v = y[source_index(i, rank, dims, sb)];
        z[i] = op == BIN_ADD ? u + v : u * v;
    }
    return AGLM_OK;
}

static aglm_status add(const aglm_step_io *io)
{
    return binary(io, BIN_ADD);
}

static aglm_status mul(const aglm_step_io *io)
{
    return binary(io, BIN_MUL);
}

static aglm_status relu(const aglm_step_io *io)
{
    const aglm_tensor *a = io->in[0];
    aglm_status st = aglm_tensor_alloc_in(&io->out[0], &io->out_mem[0], AGLM_F32, a->rank, a->dims);
    if (st != AGLM_OK)
        return st;
    const float *x = a->data;
    float *y = io->out[0].data;
    int64_t n = aglm_tensor_numel(a);
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] < 0.0f ? 0.0f : x[i]; /* NaN stays NaN, as max(x, 0) in ONNX */
    return AGLM_OK;
}

/* ---- MatMul ----------------------------------------------------------------------------- */

/* C[..., M, N] = A[..., M, K] x B[..., K, N]. A 1-D A is a row [1, K] and a 1-D B a column
 * [K, 1], whose added dimension is dropped from the result; the batch dimensions (all but the
 * last two) broadcast against each other. */
static aglm_status matmul(const aglm_step_io *io)
{
    const aglm_tensor *a = io->in[0], *b = io->in[1];
    if (a->rank < 1 || b->rank < 1)
        return aglm_error(AGLM_ERR_SHAPE, "MatMul of a scalar");
    int64_t m = a->rank > 1 ? a->dims[a->rank - 2] : 1, k = a->dims[a->rank - 1];
    int64_t kb = b->rank > 1 ? b->dims[b->rank - 2] : b->dims[0];
    int64_t n = b->rank > 1 ? b->dims[b->rank - 1] : 1;
    if (k != kb) {
        char sa[96], sb[96];
        return aglm_error(AGLM_ERR_SHAPE, "A%s and B%s: inner dimensions %lld and %lld differ",
                          aglm_shape_str(a->rank, a->dims, sa, sizeof sa),
                          aglm_shape_str(b->rank, b->dims, sb, sizeof sb), (long long)k,
                          (long long)kb);
    }
    /* The batch dimensions of the result, and how each operand's matrices step along them. */
    int a_batch = a->rank > 2 ? a->rank - 2 : 0, b_batch = b->rank > 2 ? b->rank - 2 : 0;
    int rank;
    int64_t dims[AGLM_MAX_RANK], sa[AGLM_MAX_RANK], sb[AGLM_MAX_RANK];
    aglm_status st = aglm_broadcast_shapes(a_batch, a->dims, b_batch, b->dims, &rank, dims);
    if (st != AGLM_OK)
        return st;
    broadcast_strides(a_batch, a->dims, rank, sa);
    broadcast_strides(b_batch, b->dims, rank, sb);
    int64_t batches = 1;
    for (int d = 0; d < rank; d++)
        batches *= dims[d];
    int64_t out_dims[AGLM_MAX_RANK];
    int out_rank = rank;
    memcpy(out_dims, dims, (size_t)rank * sizeof *dims);
    if (a->rank > 1)
        out_dims[out_rank++] = m;
    if (b->rank > 1)
        out_dims[out_rank++] = n;
    if (out_rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_SHAPE, "result of rank %d; at most %d", out_rank, AGLM_MAX_RANK);
    if ((st = aglm_tensor_alloc_in(&io->out[0], &io->out_mem[0], AGLM_F32, out_rank, out_dims)) !=
        AGLM_OK)
        return st;

    float *c = io->out[0].data;
    for (int64_t p = 0; p < batches; p++) {
        const float *pa = (const float *)a->data + source_index(p, rank, dims, sa) * m * k;
        const float *pb = (const float *)b->data + source_index(p, rank, dims, sb) * k * n;
        float *pc = c + p * m * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double sum = 0.0; /* every element is written: planned memory may be unzeroed */
                for (int64_t q = 0; q < k; q++)
                    sum += (double)pa[i * k + q] * pb[q * n + j];
                pc[i * n + j] = (float)sum;
            }
    }
    return AGLM_OK;
}

/* ---- the table -------------------------------------------------------------------------- */

static const tiny_kernel kernels[] = {
    {"Add", add},
    {"Mul", mul},
    {"Relu", relu},
    {"MatMul", matmul},
};

const tiny_kernel *tiny_kernel_find(const aglm_node *n)
{
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (aglm_node_is(n, "", kernels[i].op))
            return &kernels[i];
    return NULL;
}
