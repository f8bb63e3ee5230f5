/* Ops that write updates into a copy of their data: ScatterElements, Scatter (its opset 9-10
 * name) and ScatterND, with reduction none, add, mul, max or min, and TensorScatter (KV cache
 * updates). Updates apply in order, so with reduction none a repeated index keeps the last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define INDEX_TYPES (CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64))

typedef enum reduction { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } reduction;

static aglm_status reduction_of(const cpu_kctx *k, const aglm_tensor *x, reduction *r)
{
    const char *s = aglm_node_get_string(k->node, "reduction", "none");
    if (strcmp(s, "none") == 0)
        *r = RED_NONE;
    else if (strcmp(s, "add") == 0)
        *r = RED_ADD;
    else if (strcmp(s, "mul") == 0)
        *r = RED_MUL;
    else if (strcmp(s, "max") == 0)
        *r = RED_MAX;
    else if (strcmp(s, "min") == 0)
        *r = RED_MIN;
    else
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute reduction '%s' is not none, add, mul, max "
                          "or min",
                          s);
    if (*r != RED_NONE && x->dtype == AGLM_BOOL)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "reduction '%s' on bool data", s);
    return AGLM_OK;
}

/* y[di] = y[di] (reduction) u[ui]. */
static void apply(reduction r, aglm_dtype dt, size_t es, void *y, int64_t di, const void *u,
                  int64_t ui)
{
    if (r == RED_NONE) {
        memcpy((char *)y + (size_t)di * es, (const char *)u + (size_t)ui * es, es);
        return;
    }
    if (aglm_dtype_is_float(dt)) {
        double a = cpu_get_f(y, dt, di), b = cpu_get_f(u, dt, ui), v;
        switch (r) {
        case RED_ADD: v = a + b; break;
        case RED_MUL: v = a * b; break;
        case RED_MAX: v = a >= b || a != a ? a : b; break;
        default: v = a <= b || a != a ? a : b; break;
        }
        cpu_set_f(y, dt, di, v);
        return;
    }
    int64_t a = cpu_get_i(y, dt, di), b = cpu_get_i(u, dt, ui), v;
    int less = dt == AGLM_U64 ? (uint64_t)a < (uint64_t)b : a < b;
    switch (r) {
    case RED_ADD: v = (int64_t)((uint64_t)a + (uint64_t)b); break;
    case RED_MUL: v = (int64_t)((uint64_t)a * (uint64_t)b); break;
    case RED_MAX: v = less ? b : a; break;
    default: v = less ? a : b; break;
    }
    cpu_set_i(y, dt, di, v);
}

static aglm_status scatter_elements(const cpu_kctx *k, const aglm_tensor *const *in, reduction red,
                                    aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *idx = in[1], *upd = in[2];
    char sx[64], si[64], su[64];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", 0), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    if ((st = cpu_check_dtype(k, idx, "input indices", INDEX_TYPES)) != AGLM_OK ||
        (st = cpu_check_same_dtype(upd, "input updates", x, "input data")) != AGLM_OK)
        return st;
    if (!aglm_tensor_same_shape(idx, upd) || idx->rank != x->rank)
        return aglm_error(AGLM_ERR_SHAPE, "indices %s, updates %s and data %s do not match",
                          cpu_shape(idx, si, sizeof si), cpu_shape(upd, su, sizeof su),
                          cpu_shape(x, sx, sizeof sx));
    for (int d = 0; d < x->rank; d++)
        if (d != axis && idx->dims[d] > x->dims[d])
            return aglm_error(AGLM_ERR_SHAPE, "indices %s exceed data %s on axis %d",
                              cpu_shape(idx, si, sizeof si), cpu_shape(x, sx, sizeof sx), d);
    if ((st = aglm_tensor_copy(&out[0], x)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    int64_t xstride[AGLM_MAX_RANK], s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        xstride[d] = s;
        s *= x->dims[d];
    }
    int64_t n = aglm_tensor_numel(idx), pos[AGLM_MAX_RANK] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t v;
        st = cpu_norm_index(cpu_get_i(idx->data, idx->dtype, i), x->dims[axis], "index", &v);
        if (st != AGLM_OK)
            return st;
        int64_t off = 0;
        for (int d = 0; d < x->rank; d++)
            off += (d == axis ? v : pos[d]) * xstride[d];
        apply(red, x->dtype, es, out[0].data, off, upd->data, i);
        for (int d = x->rank - 1; d >= 0 && ++pos[d] == idx->dims[d]; d--)
            pos[d] = 0;
    }
    return AGLM_OK;
}

static aglm_status k_scatter_elements(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                      size_t n_out, aglm_tensor *out)
{
    reduction red = RED_NONE;
    aglm_status st = reduction_of(k, in[0], &red);
    return st != AGLM_OK ? st : scatter_elements(k, in, red, out);
}

static aglm_status k_scatter(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    return scatter_elements(k, in, RED_NONE, out);
}

static aglm_status k_scatter_nd(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *idx = in[1], *upd = in[2];
    char sx[64], si[64], su[64];
    reduction red = RED_NONE;
    aglm_status st = reduction_of(k, x, &red);
    if (st != AGLM_OK)
        return st;
    if ((st = cpu_check_dtype(k, idx, "input indices", INDEX_TYPES)) != AGLM_OK ||
        (st = cpu_check_same_dtype(upd, "input updates", x, "input data")) != AGLM_OK)
        return st;
    int64_t kk = idx->rank ? idx->dims[idx->rank - 1] : 0;
    /* updates must have shape indices.shape[:-1] + data.shape[k:] */
    int ok = idx->rank >= 1 && kk <= x->rank && upd->rank == idx->rank - 1 + x->rank - (int)kk;
    for (int d = 0; ok && d < upd->rank; d++)
        ok = upd->dims[d] == (d < idx->rank - 1 ? idx->dims[d] : x->dims[kk + d - (idx->rank - 1)]);
    if (!ok)
        return aglm_error(AGLM_ERR_SHAPE, "indices %s, updates %s and data %s do not match",
                          cpu_shape(idx, si, sizeof si), cpu_shape(upd, su, sizeof su),
                          cpu_shape(x, sx, sizeof sx));
    if ((st = aglm_tensor_copy(&out[0], x)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    int64_t xstride[AGLM_MAX_RANK], s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        xstride[d] = s;
        s *= x->dims[d];
    }
    int64_t rows = cpu_dims_prod(idx->dims, 0, idx->rank - 1);
    int64_t chunk = cpu_dims_prod(x->dims, (int)kk, x->rank);
    for (int64_t row = 0; row < rows; row++) {
        int64_t off = 0;
        for (int64_t j = 0; j < kk; j++) {
            int64_t v;
            st = cpu_norm_index(cpu_get_i(idx->data, idx->dtype, row * kk + j), x->dims[j], "index",
                                &v);
            if (st != AGLM_OK)
                return st;
            off += v * xstride[j];
        }
        if (red == RED_NONE) {
            if (chunk)
                memcpy((char *)out[0].data + (size_t)off * es,
                       (const char *)upd->data + (size_t)(row * chunk) * es, (size_t)chunk * es);
            continue;
        }
        for (int64_t e = 0; e < chunk; e++)
            apply(red, x->dtype, es, out[0].data, off + e, upd->data, row * chunk + e);
    }
    return AGLM_OK;
}

/* TensorScatter (opset 24): writes update into a copy of past_cache along `axis` (default -2),
 * starting for each batch at write_indices[batch] (0 without them), modulo the axis length in
 * circular mode. */
static aglm_status k_tensor_scatter(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *upd = in[1], *wi = n_in > 2 ? in[2] : NULL;
    char sx[64], su[64];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", -2), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    if (axis == 0)
        return aglm_error(AGLM_ERR_INVALID, "attribute axis must not be the batch axis 0");
    const char *mode = aglm_node_get_string(k->node, "mode", "linear");
    int circular = strcmp(mode, "circular") == 0;
    if (!circular && strcmp(mode, "linear") != 0)
        return aglm_error(AGLM_ERR_INVALID, "attribute mode '%s' is not linear or circular", mode);
    if ((st = cpu_check_same_dtype(upd, "input update", x, "input past_cache")) != AGLM_OK)
        return st;
    int ok = upd->rank == x->rank && upd->dims[axis] <= x->dims[axis];
    for (int d = 0; ok && d < x->rank; d++)
        ok = d == axis || upd->dims[d] == x->dims[d];
    if (!ok)
        return aglm_error(AGLM_ERR_SHAPE, "update %s does not fit past_cache %s on axis %d",
                          cpu_shape(upd, su, sizeof su), cpu_shape(x, sx, sizeof sx), axis);
    if (wi) {
        if ((st = cpu_check_dtype(k, wi, "input write_indices", INDEX_TYPES)) != AGLM_OK)
            return st;
        if (wi->rank != 1 || wi->dims[0] != x->dims[0])
            return aglm_error(AGLM_ERR_SHAPE, "write_indices must hold one index per batch (%lld)",
                              (long long)x->dims[0]);
    }
    if ((st = aglm_tensor_copy(&out[0], x)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    int64_t outer = cpu_dims_prod(x->dims, 0, axis), per_batch = cpu_dims_prod(x->dims, 1, axis);
    int64_t max = x->dims[axis], seq = upd->dims[axis];
    size_t chunk = (size_t)cpu_dims_prod(x->dims, axis + 1, x->rank) * es;
    for (int64_t o = 0; o < outer && chunk; o++) {
        int64_t w = wi ? cpu_get_i(wi->data, wi->dtype, o / per_batch) : 0;
        if (w < 0 || (!circular && w + seq > max))
            return aglm_error(AGLM_ERR_INVALID,
                              "write index %lld of batch %lld does not fit %lld "
                              "updates in an axis of %lld",
                              (long long)w, (long long)(o / per_batch), (long long)seq,
                              (long long)max);
        for (int64_t s = 0; s < seq; s++) {
            int64_t pos = circular ? (w + s) % max : w + s;
            memcpy((char *)out[0].data + (size_t)(o * max + pos) * chunk,
                   (const char *)upd->data + (size_t)(o * seq + s) * chunk, chunk);
        }
    }
    return AGLM_OK;
}

const cpu_kernel cpu_scatter_kernels[] = {
    {"TensorScatter", CPU_ANY, k_tensor_scatter},
    {"ScatterElements", CPU_ANY, k_scatter_elements},
    {"Scatter", CPU_ANY, k_scatter},
    {"ScatterND", CPU_ANY, k_scatter_nd},
    {NULL, 0, NULL},
};
