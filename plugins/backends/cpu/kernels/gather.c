/* Ops that pick elements by index or by condition: Gather, GatherElements, GatherND, Compress,
 * NonZero. Data of any dtype; indices are i32 or i64, negative ones counting from the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define INDEX_TYPES (CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64))

/* Every element of idx, checked against [-dim, dim) and made non-negative, in a malloc'd array. */
static aglm_status read_indices(const cpu_kctx *k, const aglm_tensor *idx, int64_t dim,
                                int64_t **out)
{
    aglm_status st = cpu_check_dtype(k, idx, "input indices", INDEX_TYPES);
    if (st != AGLM_OK)
        return st;
    int64_t n = aglm_tensor_numel(idx);
    int64_t *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld indices", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        st = cpu_norm_index(cpu_get_i(idx->data, idx->dtype, i), dim, "index", &v[i]);
        if (st != AGLM_OK) {
            free(v);
            return st;
        }
    }
    *out = v;
    return AGLM_OK;
}

static aglm_status k_gather(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *idx = in[1];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", 0), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    int rank = x->rank - 1 + idx->rank;
    if (rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_SHAPE, "result rank %d exceeds %d", rank, AGLM_MAX_RANK);
    int64_t dims[AGLM_MAX_RANK];
    int r = 0;
    for (int i = 0; i < axis; i++)
        dims[r++] = x->dims[i];
    for (int i = 0; i < idx->rank; i++)
        dims[r++] = idx->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        dims[r++] = x->dims[i];
    int64_t *ix;
    if ((st = read_indices(k, idx, x->dims[axis], &ix)) != AGLM_OK)
        return st;
    st = cpu_alloc(k, &out[0], x->dtype, rank, dims);
    if (st == AGLM_OK) {
        size_t es = aglm_dtype_size(x->dtype);
        int64_t outer = cpu_dims_prod(x->dims, 0, axis), n = aglm_tensor_numel(idx);
        size_t inner = (size_t)cpu_dims_prod(x->dims, axis + 1, x->rank) * es;
        const char *src = x->data;
        char *dst = out[0].data;
        for (int64_t o = 0; o < outer && inner; o++)
            for (int64_t j = 0; j < n; j++)
                memcpy(dst + ((size_t)(o * n + j)) * inner,
                       src + ((size_t)(o * x->dims[axis] + ix[j])) * inner, inner);
    }
    free(ix);
    return st;
}

static aglm_status k_gather_elements(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                     size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *idx = in[1];
    char sx[64], si[64];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", 0), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    if (idx->rank != x->rank)
        return aglm_error(AGLM_ERR_SHAPE, "indices %s and data %s differ in rank",
                          cpu_shape(idx, si, sizeof si), cpu_shape(x, sx, sizeof sx));
    for (int d = 0; d < x->rank; d++)
        if (d != axis && idx->dims[d] > x->dims[d])
            return aglm_error(AGLM_ERR_SHAPE, "indices %s exceed data %s on axis %d",
                              cpu_shape(idx, si, sizeof si), cpu_shape(x, sx, sizeof sx), d);
    int64_t *ix;
    if ((st = read_indices(k, idx, x->dims[axis], &ix)) != AGLM_OK)
        return st;
    st = cpu_alloc(k, &out[0], x->dtype, idx->rank, idx->dims);
    if (st == AGLM_OK) {
        size_t es = aglm_dtype_size(x->dtype);
        int64_t xstride[AGLM_MAX_RANK], s = 1;
        for (int d = x->rank - 1; d >= 0; d--) {
            xstride[d] = s;
            s *= x->dims[d];
        }
        int64_t n = aglm_tensor_numel(idx), pos[AGLM_MAX_RANK] = {0};
        for (int64_t i = 0; i < n; i++) {
            int64_t off = 0;
            for (int d = 0; d < x->rank; d++)
                off += (d == axis ? ix[i] : pos[d]) * xstride[d];
            memcpy((char *)out[0].data + (size_t)i * es, (const char *)x->data + (size_t)off * es,
                   es);
            for (int d = x->rank - 1; d >= 0 && ++pos[d] == idx->dims[d]; d--)
                pos[d] = 0;
        }
    }
    free(ix);
    return st;
}

static aglm_status k_gather_nd(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *idx = in[1];
    char sx[64], si[64];
    aglm_status st = cpu_check_dtype(k, idx, "input indices", INDEX_TYPES);
    if (st != AGLM_OK)
        return st;
    int64_t b = aglm_node_get_int(k->node, "batch_dims", 0);
    if (idx->rank < 1 || b < 0 || b >= idx->rank || b >= x->rank)
        return aglm_error(AGLM_ERR_SHAPE, "batch_dims %lld does not fit indices %s and data %s",
                          (long long)b, cpu_shape(idx, si, sizeof si), cpu_shape(x, sx, sizeof sx));
    int64_t kk = idx->dims[idx->rank - 1];
    if (kk > x->rank - b)
        return aglm_error(AGLM_ERR_SHAPE,
                          "indices %s index %lld dims of data %s past batch_dims "
                          "%lld",
                          cpu_shape(idx, si, sizeof si), (long long)kk, cpu_shape(x, sx, sizeof sx),
                          (long long)b);
    for (int d = 0; d < b; d++)
        if (idx->dims[d] != x->dims[d])
            return aglm_error(AGLM_ERR_SHAPE, "batch dim %d differs: indices %s, data %s", d,
                              cpu_shape(idx, si, sizeof si), cpu_shape(x, sx, sizeof sx));
    int64_t dims[AGLM_MAX_RANK];
    int rank = 0;
    if (idx->rank - 1 + x->rank - (int)(b + kk) > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_SHAPE, "result rank exceeds %d", AGLM_MAX_RANK);
    for (int d = 0; d < idx->rank - 1; d++)
        dims[rank++] = idx->dims[d];
    for (int d = (int)(b + kk); d < x->rank; d++)
        dims[rank++] = x->dims[d];
    if ((st = cpu_alloc(k, &out[0], x->dtype, rank, dims)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    int64_t batches = cpu_dims_prod(x->dims, 0, (int)b);
    int64_t per_batch = cpu_dims_prod(idx->dims, (int)b, idx->rank - 1);
    int64_t chunk = cpu_dims_prod(x->dims, (int)(b + kk), x->rank);
    int64_t xbatch = cpu_dims_prod(x->dims, (int)b, x->rank);
    int64_t xstride[AGLM_MAX_RANK], s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        xstride[d] = s;
        s *= x->dims[d];
    }
    char *dst = out[0].data;
    for (int64_t bi = 0; bi < batches; bi++) {
        for (int64_t t = 0; t < per_batch; t++) {
            int64_t row = bi * per_batch + t, off = bi * xbatch;
            for (int64_t j = 0; j < kk; j++) {
                int64_t v;
                st = cpu_norm_index(cpu_get_i(idx->data, idx->dtype, row * kk + j), x->dims[b + j],
                                    "index", &v);
                if (st != AGLM_OK)
                    return st;
                off += v * xstride[b + j];
            }
            if (chunk)
                memcpy(dst + (size_t)(row * chunk) * es, (const char *)x->data + (size_t)off * es,
                       (size_t)chunk * es);
        }
    }
    return AGLM_OK;
}

static aglm_status k_compress(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *cond = in[1];
    if (cond->rank != 1)
        return aglm_error(AGLM_ERR_SHAPE, "input condition must be 1-D, got rank %d",
                          (int)cond->rank);
    aglm_tensor flat;
    int64_t n = aglm_tensor_numel(x);
    const aglm_tensor *src = x;
    int axis = 0;
    if (aglm_node_attr(k->node, "axis")) {
        aglm_status st = cpu_norm_axis(aglm_node_get_int(k->node, "axis", 0), x->rank, 0,
                                       "attribute axis", &axis);
        if (st != AGLM_OK)
            return st;
    } else {
        aglm_tensor_wrap(&flat, x->dtype, 1, &n, x->data);
        src = &flat;
    }
    int64_t dim = src->dims[axis], len = cond->dims[0], kept = 0;
    for (int64_t i = 0; i < len; i++) {
        if (cpu_get_i(cond->data, cond->dtype, i) == 0)
            continue;
        if (i >= dim)
            return aglm_error(AGLM_ERR_SHAPE, "condition selects index %lld of an axis of %lld",
                              (long long)i, (long long)dim);
        kept++;
    }
    int64_t dims[AGLM_MAX_RANK];
    memcpy(dims, src->dims, sizeof dims);
    dims[axis] = kept;
    aglm_status st = cpu_alloc(k, &out[0], x->dtype, src->rank, dims);
    if (st != AGLM_OK || kept == 0)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    int64_t outer = cpu_dims_prod(src->dims, 0, axis);
    size_t inner = (size_t)cpu_dims_prod(src->dims, axis + 1, src->rank) * es;
    char *dst = out[0].data;
    for (int64_t o = 0; o < outer && inner; o++)
        for (int64_t i = 0; i < len && i < dim; i++)
            if (cpu_get_i(cond->data, cond->dtype, i) != 0) {
                memcpy(dst, (const char *)x->data + (size_t)(o * dim + i) * inner, inner);
                dst += inner;
            }
    return AGLM_OK;
}

/* 1 when element i is not zero (floats: -0 counts as zero, NaN as non-zero). */
static int nonzero_at(const aglm_tensor *x, int64_t i)
{
    if (aglm_dtype_is_float(x->dtype))
        return cpu_get_f(x->data, x->dtype, i) != 0.0;
    return cpu_get_i(x->data, x->dtype, i) != 0;
}

static aglm_status k_nonzero(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t n = aglm_tensor_numel(x), count = 0;
    for (int64_t i = 0; i < n; i++)
        count += nonzero_at(x, i);
    int64_t dims[2] = {x->rank, count};
    aglm_status st = cpu_alloc(k, &out[0], AGLM_I64, 2, dims);
    if (st != AGLM_OK)
        return st;
    int64_t *y = out[0].data, pos[AGLM_MAX_RANK] = {0}, j = 0;
    for (int64_t i = 0; i < n; i++) {
        if (nonzero_at(x, i)) {
            for (int d = 0; d < x->rank; d++)
                y[d * count + j] = pos[d];
            j++;
        }
        for (int d = x->rank - 1; d >= 0 && ++pos[d] == x->dims[d]; d--)
            pos[d] = 0;
    }
    return AGLM_OK;
}

#define NUMERIC_OR_BOOL                                                                            \
    (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16) |                  \
     CPU_DT(AGLM_I8) | CPU_DT(AGLM_U8) | CPU_DT(AGLM_I16) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_I32) |  \
     CPU_DT(AGLM_U32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U64) | CPU_DT(AGLM_BOOL))

const cpu_kernel cpu_gather_kernels[] = {
    {"Gather", CPU_ANY, k_gather},           {"GatherElements", CPU_ANY, k_gather_elements},
    {"GatherND", CPU_ANY, k_gather_nd},      {"Compress", CPU_ANY, k_compress},
    {"NonZero", NUMERIC_OR_BOOL, k_nonzero}, {NULL, 0, NULL},
};
