/* Ops that move or relabel data without arithmetic: Identity, Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose, Concat, Shape, Size, Constant. They work on any dtype. */
#include <stdio.h>
#include <string.h>

#include "kernels.h"

/* A copy of x's data under a new shape (the element count is the caller's to check). */
static aglm_status copy_reshaped(const cpu_kctx *k, const aglm_tensor *x, int rank,
                                 const int64_t *dims, aglm_tensor *y)
{
    aglm_status st = cpu_alloc(k, y, x->dtype, rank, dims);
    if (st == AGLM_OK && aglm_tensor_nbytes(y))
        memcpy(y->data, x->data, aglm_tensor_nbytes(y));
    return st;
}

static aglm_status k_identity(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    return aglm_tensor_copy(&out[0], in[0]);
}

static aglm_status k_reshape(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t dims[AGLM_MAX_RANK];
    size_t rank = 0;
    char sx[64];
    aglm_status st;
    if (k->opset < 5) {
        /* Reshape-1 takes the shape as an attribute */
        const int64_t *a = aglm_node_get_ints(k->node, "shape", &rank);
        if (!a)
            return aglm_error(AGLM_ERR_INVALID, "attribute shape is required");
        if (rank > AGLM_MAX_RANK)
            return aglm_error(AGLM_ERR_INVALID, "attribute shape has %zu values, at most %d", rank,
                              AGLM_MAX_RANK);
        memcpy(dims, a, rank * sizeof *a);
    } else if (n_in < 2 || !in[1]) {
        return aglm_error(AGLM_ERR_INVALID, "input shape is required");
    } else if ((st = cpu_read_ints(in[1], "input shape", dims, AGLM_MAX_RANK, &rank)) != AGLM_OK) {
        return st;
    }
    int allowzero = aglm_node_get_int(k->node, "allowzero", 0) != 0;
    int infer = -1, has_zero = 0;
    int64_t known = 1;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] == -1) {
            if (infer >= 0)
                return aglm_error(AGLM_ERR_INVALID, "shape has more than one -1");
            infer = (int)i;
            continue;
        }
        if (dims[i] < -1)
            return aglm_error(AGLM_ERR_INVALID, "shape[%zu] = %lld is negative", i,
                              (long long)dims[i]);
        if (dims[i] == 0) {
            has_zero = 1;
            if (!allowzero) {
                /* 0 copies the input's dim at the same index. */
                if ((int)i >= x->rank)
                    return aglm_error(AGLM_ERR_SHAPE,
                                      "shape[%zu] = 0 copies a dim the input %s "
                                      "does not have",
                                      i, cpu_shape(x, sx, sizeof sx));
                dims[i] = x->dims[i];
            }
        }
        known *= dims[i];
    }
    int64_t numel = aglm_tensor_numel(x);
    if (infer >= 0) {
        if (allowzero && has_zero)
            return aglm_error(AGLM_ERR_INVALID, "shape has both 0 and -1 with allowzero=1");
        if (known == 0 || numel % known != 0)
            return aglm_error(AGLM_ERR_SHAPE,
                              "cannot infer the -1 of the shape: input %s has "
                              "%lld elements, the other dims multiply to %lld",
                              cpu_shape(x, sx, sizeof sx), (long long)numel, (long long)known);
        dims[infer] = numel / known;
        known *= dims[infer];
    }
    if (known != numel) {
        char sy[64];
        return aglm_error(AGLM_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s",
                          cpu_shape(x, sx, sizeof sx), (long long)numel,
                          aglm_shape_str((int)rank, dims, sy, sizeof sy));
    }
    return copy_reshaped(k, x, (int)rank, dims, &out[0]);
}

static aglm_status k_flatten(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", 1), x->rank, 1, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    int64_t dims[2] = {cpu_dims_prod(x->dims, 0, axis), cpu_dims_prod(x->dims, axis, x->rank)};
    return copy_reshaped(k, x, 2, dims, &out[0]);
}

/* Axes of Squeeze/Unsqueeze: an attribute before opset 13, an optional input from 13 on. */
static aglm_status read_axes(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             int64_t *axes, size_t *count, int *given)
{
    *count = 0;
    *given = 0;
    if (k->opset >= 13) {
        if (n_in < 2 || !in[1])
            return AGLM_OK;
        *given = 1;
        return cpu_read_ints(in[1], "input axes", axes, AGLM_MAX_RANK, count);
    }
    size_t n = 0;
    const int64_t *a = aglm_node_get_ints(k->node, "axes", &n);
    if (!a)
        return AGLM_OK;
    if (n > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_INVALID, "attribute axes has %zu values, at most %d", n,
                          AGLM_MAX_RANK);
    memcpy(axes, a, n * sizeof *a);
    *count = n;
    *given = 1;
    return AGLM_OK;
}

static aglm_status k_squeeze(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t axes[AGLM_MAX_RANK];
    size_t count;
    int given;
    char sx[64];
    aglm_status st = read_axes(k, n_in, in, axes, &count, &given);
    if (st != AGLM_OK)
        return st;
    int drop[AGLM_MAX_RANK] = {0};
    for (size_t i = 0; i < count; i++) {
        int a;
        st = cpu_norm_axis(axes[i], x->rank, 0, "axis", &a);
        if (st != AGLM_OK)
            return st;
        if (x->dims[a] != 1)
            return aglm_error(AGLM_ERR_SHAPE, "cannot squeeze axis %d of %s: its size is not 1", a,
                              cpu_shape(x, sx, sizeof sx));
        drop[a] = 1;
    }
    int64_t dims[AGLM_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (given ? drop[i] : x->dims[i] == 1)
            continue;
        dims[rank++] = x->dims[i];
    }
    return copy_reshaped(k, x, rank, dims, &out[0]);
}

static aglm_status k_unsqueeze(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t axes[AGLM_MAX_RANK];
    size_t count;
    int given;
    aglm_status st = read_axes(k, n_in, in, axes, &count, &given);
    if (st != AGLM_OK)
        return st;
    if (!given)
        return aglm_error(AGLM_ERR_INVALID, "axes are required");
    int rank = x->rank + (int)count;
    if (rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_SHAPE, "result rank %d exceeds %d", rank, AGLM_MAX_RANK);
    int inserted[AGLM_MAX_RANK] = {0};
    for (size_t i = 0; i < count; i++) {
        int a;
        st = cpu_norm_axis(axes[i], rank, 0, "axis", &a);
        if (st != AGLM_OK)
            return st;
        if (inserted[a])
            return aglm_error(AGLM_ERR_INVALID, "axis %d is given twice", a);
        inserted[a] = 1;
    }
    int64_t dims[AGLM_MAX_RANK];
    for (int i = 0, j = 0; i < rank; i++)
        dims[i] = inserted[i] ? 1 : x->dims[j++];
    return copy_reshaped(k, x, rank, dims, &out[0]);
}

typedef struct transpose_job {
    int rank;
    int64_t dims[AGLM_MAX_RANK];   /* output dims */
    int64_t stride[AGLM_MAX_RANK]; /* input element stride for each output dim */
    size_t esize;
    const char *x;
    char *y;
} transpose_job;

#define GATHER(T)                                                                                  \
    do {                                                                                           \
        const T *src = (const T *)j->x + off;                                                      \
        T *dst = (T *)j->y + row * inner;                                                          \
        if (step == 1) {                                                                           \
            memcpy(dst, src, (size_t)inner * sizeof(T));                                           \
            break;                                                                                 \
        }                                                                                          \
        for (int64_t i = 0; i < inner; i++)                                                        \
            dst[i] = src[i * step];                                                                \
    } while (0)

/* Output rows [b, e) (a row is the innermost output dim). */
static void transpose_rows(void *ctx, size_t b, size_t e, int worker)
{
    const transpose_job *j = ctx;
    int r = j->rank;
    int64_t inner = j->dims[r - 1], step = j->stride[r - 1];
    for (int64_t row = (int64_t)b; row < (int64_t)e; row++) {
        int64_t rem = row, off = 0;
        for (int i = r - 2; i >= 0; i--) {
            off += (rem % j->dims[i]) * j->stride[i];
            rem /= j->dims[i];
        }
        switch (j->esize) {
        case 1: GATHER(uint8_t); break;
        case 2: GATHER(uint16_t); break;
        case 4: GATHER(uint32_t); break;
        default: GATHER(uint64_t); break;
        }
    }
}

static aglm_status k_transpose(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int r = x->rank;
    int64_t perm[AGLM_MAX_RANK];
    size_t count = 0;
    const int64_t *p = aglm_node_get_ints(k->node, "perm", &count);
    if (!p) {
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
    } else {
        if ((int)count != r)
            return aglm_error(AGLM_ERR_INVALID, "attribute perm has %zu values for rank %d", count,
                              r);
        int seen[AGLM_MAX_RANK] = {0};
        for (int i = 0; i < r; i++) {
            int a;
            aglm_status st = cpu_norm_axis(p[i], r, 0, "perm value", &a);
            if (st != AGLM_OK)
                return st;
            if (seen[a])
                return aglm_error(AGLM_ERR_INVALID, "attribute perm repeats axis %d", a);
            seen[a] = 1;
            perm[i] = a;
        }
    }
    transpose_job job = {.rank = r, .esize = aglm_dtype_size(x->dtype), .x = x->data};
    int64_t in_stride[AGLM_MAX_RANK];
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        in_stride[i] = s;
        s *= x->dims[i];
    }
    for (int i = 0; i < r; i++) {
        job.dims[i] = x->dims[perm[i]];
        job.stride[i] = in_stride[perm[i]];
    }
    aglm_status st = cpu_alloc(k, &out[0], x->dtype, r, job.dims);
    if (st != AGLM_OK || aglm_tensor_numel(x) == 0)
        return st;
    if (r == 0) {
        memcpy(out[0].data, x->data, job.esize);
        return AGLM_OK;
    }
    job.y = out[0].data;
    /* Unit dims dropped and neighbours merged where the input steps through them as one, so
     * a permutation that keeps the last axis ([0,2,1,3], [2,0,3,1,4]) copies whole runs and
     * one that moves nothing is one run. */
    int cr = 0;
    for (int i = 0; i < r; i++) {
        if (job.dims[i] == 1)
            continue;
        if (cr > 0 && job.stride[cr - 1] == job.stride[i] * job.dims[i]) {
            job.dims[cr - 1] *= job.dims[i];
            job.stride[cr - 1] = job.stride[i];
            continue;
        }
        job.dims[cr] = job.dims[i];
        job.stride[cr] = job.stride[i];
        cr++;
    }
    if (cr == 0) {
        job.dims[0] = 1;
        job.stride[0] = 1;
        cr = 1;
    }
    job.rank = cr;
    int64_t inner = job.dims[cr - 1], rows = aglm_tensor_numel(x) / inner;
    size_t grain = inner >= 16384 ? 1 : (size_t)(16384 / inner);
    cpu_parallel_for(k->pool, (size_t)rows, grain, transpose_rows, &job);
    return AGLM_OK;
}

/* Bytes per task of a parallel Concat: large enough to amortise a task, small enough to
 * balance. */
#define CONCAT_BLOCK ((size_t)256 << 10)

typedef struct concat_job {
    const aglm_tensor *const *in;
    size_t n_in, inner;
    int axis;
    char *y;
    size_t total;
} concat_job;

/* Output blocks [b, e) of a Concat whose output is the inputs one after another. */
static void concat_blocks(void *ctx, size_t b, size_t e, int worker)
{
    (void)worker;
    const concat_job *j = ctx;
    size_t lo = b * CONCAT_BLOCK, hi = e * CONCAT_BLOCK, pos = 0;
    if (hi > j->total)
        hi = j->total;
    for (size_t i = 0; i < j->n_in && pos < hi; i++) {
        size_t chunk = (size_t)j->in[i]->dims[j->axis] * j->inner;
        size_t from = lo > pos ? lo : pos, to = hi < pos + chunk ? hi : pos + chunk;
        if (from < to)
            memcpy(j->y + from, (const char *)j->in[i]->data + (from - pos), to - from);
        pos += chunk;
    }
}

static aglm_status k_concat(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x0 = in[0];
    char s0[64], si[64];
    const aglm_node *node = k->node;
    /* Concat-1 defaults axis to 1; from opset 4 it is required */
    if (!aglm_node_attr(node, "axis") && k->opset >= 4)
        return aglm_error(AGLM_ERR_INVALID, "attribute axis is required");
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(node, "axis", 1), x0->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    int64_t dims[AGLM_MAX_RANK];
    memcpy(dims, x0->dims, sizeof dims);
    dims[axis] = 0;
    for (size_t i = 0; i < n_in; i++) {
        const aglm_tensor *x = in[i];
        if (!x)
            return aglm_error(AGLM_ERR_INVALID, "input %zu is absent", i);
        char what[32];
        snprintf(what, sizeof what, "input %zu", i);
        st = cpu_check_same_dtype(x, what, x0, "input 0");
        if (st != AGLM_OK)
            return st;
        int ok = x->rank == x0->rank;
        for (int d = 0; ok && d < x->rank; d++)
            ok = d == axis || x->dims[d] == x0->dims[d];
        if (!ok)
            return aglm_error(AGLM_ERR_SHAPE,
                              "input %zu %s does not match input 0 %s outside "
                              "axis %d",
                              i, cpu_shape(x, si, sizeof si), cpu_shape(x0, s0, sizeof s0), axis);
        dims[axis] += x->dims[axis];
    }
    st = cpu_alloc(k, &out[0], x0->dtype, x0->rank, dims);
    if (st != AGLM_OK)
        return st;
    size_t esize = aglm_dtype_size(x0->dtype);
    int64_t outer = cpu_dims_prod(dims, 0, axis);
    size_t inner = (size_t)cpu_dims_prod(dims, axis + 1, x0->rank) * esize;
    char *y = out[0].data;
    size_t total = aglm_tensor_nbytes(&out[0]);
    if (outer == 1 && total >= 2 * CONCAT_BLOCK) {
        /* one image's channels (an FPN's feature maps): the output's bytes in blocks over the
         * pool, each block copying from the inputs it overlaps */
        concat_job job = {in, n_in, inner, axis, y, total};
        cpu_parallel_for(k->pool, (total + CONCAT_BLOCK - 1) / CONCAT_BLOCK, 1, concat_blocks,
                         &job);
        return AGLM_OK;
    }
    for (int64_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < n_in; i++) {
            size_t chunk = (size_t)in[i]->dims[axis] * inner;
            if (chunk) {
                memcpy(y, (const char *)in[i]->data + (size_t)o * chunk, chunk);
                y += chunk;
            }
        }
    }
    return AGLM_OK;
}

static aglm_status k_shape(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                           size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t r = x->rank;
    /* start/end (opset 15) slice the shape; out-of-range values clamp. */
    int64_t start = aglm_node_get_int(k->node, "start", 0);
    int64_t end = aglm_node_get_int(k->node, "end", r);
    if (start < 0)
        start += r;
    if (end < 0)
        end += r;
    start = start < 0 ? 0 : (start > r ? r : start);
    end = end < 0 ? 0 : (end > r ? r : end);
    int64_t n = end > start ? end - start : 0;
    aglm_status st = cpu_alloc(k, &out[0], AGLM_I64, 1, &n);
    if (st != AGLM_OK)
        return st;
    for (int64_t i = 0; i < n; i++)
        ((int64_t *)out[0].data)[i] = x->dims[start + i];
    return AGLM_OK;
}

static aglm_status k_size(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    aglm_status st = cpu_alloc(k, &out[0], AGLM_I64, 0, NULL);
    if (st == AGLM_OK)
        *(int64_t *)out[0].data = aglm_tensor_numel(in[0]);
    return st;
}

static aglm_status k_constant(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    const aglm_node *node = k->node;
    const aglm_attr *a;
    size_t count;
    aglm_status st;
    if ((a = aglm_node_attr(node, "value")) != NULL) {
        const aglm_tensor *t = aglm_attr_tensor(a);
        if (!t)
            return aglm_error(AGLM_ERR_INVALID, "attribute value is not a tensor");
        return aglm_tensor_copy(&out[0], t);
    }
    if (aglm_node_attr(node, "value_float")) {
        st = cpu_alloc(k, &out[0], AGLM_F32, 0, NULL);
        if (st == AGLM_OK)
            *(float *)out[0].data = aglm_node_get_float(node, "value_float", 0.0f);
        return st;
    }
    if (aglm_node_attr(node, "value_int")) {
        st = cpu_alloc(k, &out[0], AGLM_I64, 0, NULL);
        if (st == AGLM_OK)
            *(int64_t *)out[0].data = aglm_node_get_int(node, "value_int", 0);
        return st;
    }
    const float *fv = aglm_node_get_floats(node, "value_floats", &count);
    if (fv || aglm_node_attr(node, "value_floats")) {
        int64_t n = (int64_t)count;
        st = cpu_alloc(k, &out[0], AGLM_F32, 1, &n);
        if (st == AGLM_OK && count)
            memcpy(out[0].data, fv, count * sizeof *fv);
        return st;
    }
    const int64_t *iv = aglm_node_get_ints(node, "value_ints", &count);
    if (iv || aglm_node_attr(node, "value_ints")) {
        int64_t n = (int64_t)count;
        st = cpu_alloc(k, &out[0], AGLM_I64, 1, &n);
        if (st == AGLM_OK && count)
            memcpy(out[0].data, iv, count * sizeof *iv);
        return st;
    }
    if (aglm_node_num_attrs(node) > 0)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "attribute %s is not supported (strings and "
                          "sparse tensors are not)",
                          aglm_attr_name(aglm_node_attr_at(node, 0)));
    return aglm_error(AGLM_ERR_INVALID, "no value attribute");
}

const cpu_kernel cpu_shape_kernels[] = {
    {"Identity", CPU_ANY, k_identity},
    {"Reshape", CPU_ANY, k_reshape},
    {"Flatten", CPU_ANY, k_flatten},
    {"Squeeze", CPU_ANY, k_squeeze},
    {"Unsqueeze", CPU_ANY, k_unsqueeze},
    {"Transpose", CPU_ANY, k_transpose},
    {"Concat", CPU_ANY, k_concat},
    {"Shape", CPU_ANY, k_shape},
    {"Size", CPU_ANY, k_size},
    {"Constant", CPU_ANY, k_constant},
    {NULL, 0, NULL},
};
