/* Ops that make a tensor from a few numbers: ConstantOfShape, Range, EyeLike, OneHot. Their
 * output shapes come from input values, so they are computed here at run time. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

#define NUMERIC                                                                                    \
    (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16) |                  \
     CPU_DT(AGLM_I8) | CPU_DT(AGLM_U8) | CPU_DT(AGLM_I16) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_I32) |  \
     CPU_DT(AGLM_U32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U64))

static aglm_status k_constant_of_shape(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                       size_t n_out, aglm_tensor *out)
{
    int64_t dims[AGLM_MAX_RANK];
    size_t rank;
    aglm_status st = cpu_read_ints(in[0], "input shape", dims, AGLM_MAX_RANK, &rank);
    if (st != AGLM_OK)
        return st;
    for (size_t i = 0; i < rank; i++)
        if (dims[i] < 0)
            return aglm_error(AGLM_ERR_INVALID, "shape[%zu] = %lld is negative", i,
                              (long long)dims[i]);
    aglm_dtype dt = AGLM_F32;
    const void *value = NULL;
    const aglm_attr *a = aglm_node_attr(k->node, "value");
    if (a) {
        const aglm_tensor *t = aglm_attr_tensor(a);
        if (!t || aglm_tensor_numel(t) != 1)
            return aglm_error(AGLM_ERR_INVALID, "attribute value must be a one-element tensor");
        dt = t->dtype;
        value = t->data;
    }
    if ((st = cpu_alloc(k, &out[0], dt, (int)rank, dims)) != AGLM_OK || !value)
        return st;
    size_t es = aglm_dtype_size(dt);
    int64_t n = aglm_tensor_numel(&out[0]);
    for (int64_t i = 0; i < n; i++)
        memcpy((char *)out[0].data + (size_t)i * es, value, es);
    return AGLM_OK;
}

/* The single value of a scalar (or one-element) input. */
static aglm_status scalar_in(const aglm_tensor *t, const char *what)
{
    if (aglm_tensor_numel(t) != 1 || t->rank > 1)
        return aglm_error(AGLM_ERR_SHAPE, "input %s must be a scalar, got rank %d", what,
                          (int)t->rank);
    return AGLM_OK;
}

static aglm_status k_range(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                           size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *s = in[0], *l = in[1], *d = in[2];
    aglm_status st;
    if ((st = scalar_in(s, "start")) != AGLM_OK || (st = scalar_in(l, "limit")) != AGLM_OK ||
        (st = scalar_in(d, "delta")) != AGLM_OK ||
        (st = cpu_check_same_dtype(l, "input limit", s, "input start")) != AGLM_OK ||
        (st = cpu_check_same_dtype(d, "input delta", s, "input start")) != AGLM_OK)
        return st;
    aglm_dtype dt = s->dtype;
    int64_t n;
    if (aglm_dtype_is_float(dt)) {
        double a = cpu_get_f(s->data, dt, 0), b = cpu_get_f(l->data, dt, 0);
        double step = cpu_get_f(d->data, dt, 0);
        if (step == 0 || isnan(a) || isnan(b) || isnan(step))
            return aglm_error(AGLM_ERR_INVALID, "delta is 0 or a value is NaN");
        double c = ceil((b - a) / step);
        if (c > (double)INT32_MAX)
            return aglm_error(AGLM_ERR_INVALID, "range of %g elements is too long", c);
        n = c > 0 ? (int64_t)c : 0;
        if ((st = cpu_alloc(k, &out[0], dt, 1, &n)) != AGLM_OK)
            return st;
        for (int64_t i = 0; i < n; i++)
            cpu_set_f(out[0].data, dt, i, a + (double)i * step);
        return AGLM_OK;
    }
    int64_t a = cpu_get_i(s->data, dt, 0), b = cpu_get_i(l->data, dt, 0);
    int64_t step = cpu_get_i(d->data, dt, 0);
    if (step == 0)
        return aglm_error(AGLM_ERR_INVALID, "delta is 0");
    /* ceil((b - a) / step) without overflow: spans are at most 2^64 - 1 apart */
    __int128 span = (__int128)b - a, q = span / step;
    if (q * step != span && ((span < 0) == (step < 0)))
        q++;
    if (q > INT32_MAX)
        return aglm_error(AGLM_ERR_INVALID, "range is too long");
    n = q > 0 ? (int64_t)q : 0;
    if ((st = cpu_alloc(k, &out[0], dt, 1, &n)) != AGLM_OK)
        return st;
    for (int64_t i = 0; i < n; i++)
        cpu_set_i(out[0].data, dt, i, (int64_t)((uint64_t)a + (uint64_t)i * (uint64_t)step));
    return AGLM_OK;
}

static aglm_status k_eye_like(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    if (x->rank != 2) {
        char sx[64];
        return aglm_error(AGLM_ERR_SHAPE, "input %s must be 2-D", cpu_shape(x, sx, sizeof sx));
    }
    aglm_dtype dt = x->dtype;
    if (aglm_node_attr(k->node, "dtype")) {
        dt = (aglm_dtype)aglm_node_get_int(k->node, "dtype", 0);
        if (aglm_dtype_size(dt) == 0)
            return aglm_error(AGLM_ERR_UNSUPPORTED, "attribute dtype %d is not supported", (int)dt);
    }
    aglm_status st = cpu_alloc(k, &out[0], dt, 2, x->dims);
    if (st != AGLM_OK)
        return st;
    int64_t off = aglm_node_get_int(k->node, "k", 0);
    for (int64_t i = 0; i < x->dims[0]; i++) {
        int64_t j = i + off;
        if (j >= 0 && j < x->dims[1])
            cpu_set_f(out[0].data, dt, i * x->dims[1] + j, 1.0);
    }
    return AGLM_OK;
}

static aglm_status k_one_hot(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *idx = in[0], *depth = in[1], *values = in[2];
    aglm_status st;
    if ((st = cpu_check_dtype(k, depth, "input depth", NUMERIC)) != AGLM_OK ||
        (st = scalar_in(depth, "depth")) != AGLM_OK)
        return st;
    if (aglm_tensor_numel(values) != 2 || values->rank != 1)
        return aglm_error(AGLM_ERR_SHAPE,
                          "input values must hold [off, on], got rank %d with "
                          "%lld elements",
                          (int)values->rank, (long long)aglm_tensor_numel(values));
    int64_t d;
    if (aglm_dtype_is_float(depth->dtype)) {
        double fd = cpu_get_f(depth->data, depth->dtype, 0);
        /* checked before the cast, which is undefined outside int64's range */
        if (!(fd >= 1 && fd < (double)INT32_MAX))
            return aglm_error(AGLM_ERR_INVALID, "depth %g is out of range", fd);
        d = (int64_t)fd;
    } else {
        d = cpu_get_i(depth->data, depth->dtype, 0);
    }
    if (d < 1)
        return aglm_error(AGLM_ERR_INVALID, "depth %lld is less than 1", (long long)d);
    int rank = idx->rank + 1;
    if (rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_SHAPE, "result rank %d exceeds %d", rank, AGLM_MAX_RANK);
    int axis;
    if ((st = cpu_norm_axis(aglm_node_get_int(k->node, "axis", -1), rank, 0, "attribute axis",
                            &axis)) != AGLM_OK)
        return st;
    int64_t dims[AGLM_MAX_RANK];
    for (int i = 0, j = 0; i < rank; i++)
        dims[i] = i == axis ? d : idx->dims[j++];
    if ((st = cpu_alloc(k, &out[0], values->dtype, rank, dims)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(values->dtype);
    const char *off = values->data, *on = off + es;
    char *y = out[0].data;
    int64_t outer = cpu_dims_prod(idx->dims, 0, axis);
    int64_t inner = cpu_dims_prod(idx->dims, axis, idx->rank);
    for (int64_t i = 0; i < outer * d * inner; i++)
        memcpy(y + (size_t)i * es, off, es);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t p = o * inner + i;
            int64_t v;
            if (aglm_dtype_is_float(idx->dtype)) {
                double fv = cpu_get_f(idx->data, idx->dtype, p);
                if (!(fv > -(double)INT32_MAX && fv < (double)INT32_MAX))
                    continue; /* far out of range (or NaN): all off */
                v = (int64_t)fv;
            } else {
                v = cpu_get_i(idx->data, idx->dtype, p);
            }
            if (v < 0)
                v += d;
            if (v >= 0 && v < d)
                memcpy(y + (size_t)((o * d + v) * inner + i) * es, on, es);
        }
    return AGLM_OK;
}

const cpu_kernel cpu_generate_kernels[] = {
    {"ConstantOfShape", CPU_DT(AGLM_I64), k_constant_of_shape},
    {"Range", NUMERIC, k_range},
    {"EyeLike", CPU_ANY, k_eye_like},
    {"OneHot", NUMERIC, k_one_hot},
    {NULL, 0, NULL},
};
