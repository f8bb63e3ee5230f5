/* Rules of ops that make shapes and constants: Shape, Size, Constant, ConstantOfShape, Range,
 * EyeLike, OneHot. Sizes that come from input values are known only when those inputs are
 * constants; otherwise the rank is. */
#include <math.h>
#include "infer_internal.h"

/* Shape: int64 [rank] (or [end - start] with opset 15's start/end). */
static aglm_status shape(infer_ctx *c)
{
    infer_type y;
    infer_type_unknown(&y, AGLM_I64);
    y.rank = 1;
    y.dims[0] = infer_dim_unknown();
    if (c->in[0].rank >= 0) {
        int s, e;
        infer_shape_range(c->node, c->opset, c->in[0].rank, &s, &e);
        y.dims[0] = infer_dim_static(e - s);
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Size: an int64 scalar. */
static aglm_status size(infer_ctx *c)
{
    infer_type y;
    infer_type_static(&y, AGLM_I64, 0, NULL);
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Constant: the type of whichever value attribute it has. String and sparse constants have no
 * tensor type here, so they are left as they are. */
static aglm_status constant(infer_ctx *c)
{
    const aglm_attr *a;
    infer_type y;
    if ((a = aglm_node_attr(c->node, "value")) && aglm_attr_kind(a) == AGLM_ATTR_TENSOR) {
        const aglm_tensor *t = aglm_attr_tensor(a);
        if (!t || t->rank < 0 || t->rank > AGLM_MAX_RANK)
            return infer_err(c, AGLM_ERR_INVALID, "attribute 'value' is not a valid tensor");
        infer_type_static(&y, t->dtype, t->rank, t->dims);
    } else if ((a = aglm_node_attr(c->node, "value_float"))) {
        infer_type_static(&y, AGLM_F32, 0, NULL);
    } else if ((a = aglm_node_attr(c->node, "value_int"))) {
        infer_type_static(&y, AGLM_I64, 0, NULL);
    } else if ((a = aglm_node_attr(c->node, "value_floats"))) {
        size_t n = 0;
        aglm_attr_floats(a, &n);
        int64_t d = (int64_t)n;
        infer_type_static(&y, AGLM_F32, 1, &d);
    } else if ((a = aglm_node_attr(c->node, "value_ints"))) {
        size_t n = 0;
        aglm_attr_ints(a, &n);
        int64_t d = (int64_t)n;
        infer_type_static(&y, AGLM_I64, 1, &d);
    } else if (aglm_node_attr(c->node, "value_string") ||
               aglm_node_attr(c->node, "value_strings") ||
               aglm_node_attr(c->node, "sparse_value")) {
        return AGLM_OK;
    } else {
        return infer_err(c, AGLM_ERR_INVALID, "has no value attribute");
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* ConstantOfShape: the dims are input 0's values, the dtype that of attribute 'value' (f32). */
static aglm_status constant_of_shape(infer_ctx *c)
{
    aglm_dtype dt = AGLM_F32;
    const aglm_attr *a = aglm_node_attr(c->node, "value");
    if (a && aglm_attr_kind(a) == AGLM_ATTR_TENSOR && aglm_attr_tensor(a))
        dt = aglm_attr_tensor(a)->dtype;
    int64_t dims[AGLM_MAX_RANK];
    size_t n;
    int known;
    aglm_status st;
    if ((st = infer_need_int64(c, 0, "shape")) != AGLM_OK ||
        (st = infer_const_ints(c, 0, dims, AGLM_MAX_RANK, &n, &known)) != AGLM_OK)
        return st;
    if (!known)
        return infer_rank_from_length(c, 0, dt);
    for (size_t i = 0; i < n; i++)
        if (dims[i] < 0) {
            char ss[160];
            return infer_err(c, AGLM_ERR_INVALID, "shape %s has a negative dim",
                             infer_ints_str(dims, n, ss, sizeof ss));
        }
    infer_type y;
    infer_type_static(&y, dt, (int)n, dims);
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* The one value of constant scalar input i as a double; 0 when it is not known. */
static int const_scalar(const infer_ctx *c, size_t i, double *v)
{
    aglm_value *val = infer_in_value(c, i);
    const aglm_tensor *t = val ? aglm_value_const(val) : NULL;
    if (!t || aglm_tensor_numel(t) != 1 || t->device != AGLM_DEVICE_CPU || !t->data ||
        aglm_dtype_size(t->dtype) == 0)
        return 0;
    *v = aglm_tensor_get_f64(t, 0);
    return 1;
}

/* Range: 1-D of start's dtype, max(ceil((limit - start) / delta), 0) long. */
static aglm_status range(infer_ctx *c)
{
    aglm_status st;
    if ((st = infer_same_dtype(c, 0, 1)) != AGLM_OK || (st = infer_same_dtype(c, 0, 2)) != AGLM_OK)
        return st;
    for (size_t i = 0; i < 3; i++)
        if (c->in[i].rank > 0 && !(c->in[i].rank == 1 && c->in[i].dims[0].value == 1)) {
            char s[128];
            return infer_err(c, AGLM_ERR_SHAPE, "input %zu must be a scalar, got %s", i,
                             infer_type_str(&c->in[i], s, sizeof s));
        }
    infer_type y;
    infer_type_unknown(&y, c->in[0].dtype);
    y.rank = 1;
    y.dims[0] = infer_dim_unknown();
    double a, b, d;
    if (const_scalar(c, 0, &a) && const_scalar(c, 1, &b) && const_scalar(c, 2, &d)) {
        if (d == 0)
            return infer_err(c, AGLM_ERR_INVALID, "delta is 0");
        double n = ceil((b - a) / d);
        if (n < (double)INT32_MAX)
            y.dims[0] = infer_dim_static(n > 0 ? (int64_t)n : 0);
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* EyeLike: the shape of the 2-D input, dtype from attribute 'dtype' (default the input's). */
static aglm_status eye_like(infer_ctx *c)
{
    aglm_status st = infer_need_rank(c, 0, 2, "input");
    if (st != AGLM_OK)
        return st;
    infer_type y = c->in[0];
    if (aglm_node_attr(c->node, "dtype")) {
        y.dtype = (aglm_dtype)aglm_node_get_int(c->node, "dtype", 0);
        if (aglm_dtype_size(y.dtype) == 0)
            return infer_err(c, AGLM_ERR_UNSUPPORTED,
                             "attribute 'dtype' %d is not a supported dtype", (int)y.dtype);
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* OneHot: indices' shape with depth inserted at axis; the dtype of values. */
static aglm_status one_hot(infer_ctx *c)
{
    const infer_type *idx = &c->in[0];
    infer_type y;
    infer_type_unknown(&y, c->in[2].dtype);
    if (idx->rank >= 0) {
        int rank = idx->rank + 1, axis;
        if (rank > AGLM_MAX_RANK)
            return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank %d is more than %d", rank,
                             AGLM_MAX_RANK);
        infer_type r = *idx;
        r.rank = rank;
        aglm_status st =
            infer_axis(c, aglm_node_get_int(c->node, "axis", -1), rank, 0, &r, "axis", &axis);
        if (st != AGLM_OK)
            return st;
        double depth;
        aglm_dim dd = const_scalar(c, 1, &depth) && depth >= 1 && depth < (double)INT32_MAX
                          ? infer_dim_static((int64_t)depth)
                          : infer_dim_unknown();
        y.rank = rank;
        for (int i = 0, j = 0; i < rank; i++)
            y.dims[i] = i == axis ? dd : idx->dims[j++];
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

const infer_rule infer_rules_const[] = {
    {"Range", range},
    {"EyeLike", eye_like},
    {"OneHot", one_hot},
    {"Shape", shape},
    {"Size", size},
    {"Constant", constant},
    {"ConstantOfShape", constant_of_shape},
    {NULL, NULL},
};
