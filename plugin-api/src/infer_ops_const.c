/* Rules of ops that make shapes and constants: Shape, Size, Constant, ConstantOfShape. */
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
    } else if (aglm_node_attr(c->node, "value_string") || aglm_node_attr(c->node, "value_strings") ||
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
            return infer_err(c, AGLM_ERR_INVALID, "shape %s has a negative dim", infer_ints_str(dims, n, ss, sizeof ss));
        }
    infer_type y;
    infer_type_static(&y, dt, (int)n, dims);
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

const infer_rule infer_rules_const[] = {
    {"Shape", shape, 1, 1, 1, 1},
    {"Size", size, 1, 1, 1, 1},
    {"Constant", constant, 0, 0, 1, 1},
    {"ConstantOfShape", constant_of_shape, 1, 1, 1, 1},
    {NULL, NULL, 0, 0, 0, 0},
};
