/* Folding that needs no kernel: Constant nodes (their attribute is the value) and Shape/Size of
 * values whose shape inference already knows the dims. */
#include "fold.h"

#include <string.h>

/* A Constant's value attribute as a tensor; value_string(s) and sparse_value are not tensors
 * libaglm stores, so such nodes stay. */
static aglm_status constant_value(const aglm_node *n, aglm_tensor *out, int *done)
{
    const aglm_attr *a;
    if ((a = aglm_node_attr(n, "value")) && aglm_attr_kind(a) == AGLM_ATTR_TENSOR) {
        aglm_status st = aglm_tensor_copy(out, aglm_attr_tensor(a));
        *done = st == AGLM_OK;
        return st;
    }
    aglm_dtype dt = AGLM_UNDEFINED;
    size_t count = 1;
    int rank = 0;
    const void *src = NULL;
    int64_t i64;
    float f32;
    if ((a = aglm_node_attr(n, "value_int")) && aglm_attr_kind(a) == AGLM_ATTR_INT) {
        i64 = aglm_attr_i(a);
        dt = AGLM_I64, src = &i64;
    } else if ((a = aglm_node_attr(n, "value_float")) && aglm_attr_kind(a) == AGLM_ATTR_FLOAT) {
        f32 = aglm_attr_f(a);
        dt = AGLM_F32, src = &f32;
    } else if ((a = aglm_node_attr(n, "value_ints")) && aglm_attr_kind(a) == AGLM_ATTR_INTS) {
        dt = AGLM_I64, rank = 1, src = aglm_attr_ints(a, &count);
    } else if ((a = aglm_node_attr(n, "value_floats")) && aglm_attr_kind(a) == AGLM_ATTR_FLOATS) {
        dt = AGLM_F32, rank = 1, src = aglm_attr_floats(a, &count);
    } else {
        return AGLM_OK;
    }
    int64_t dims[1] = {(int64_t)count};
    aglm_status st = aglm_tensor_alloc(out, dt, rank, dims);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "constant node '%s'", aglm_node_name(n));
    if (count)
        memcpy(out->data, src, count * aglm_dtype_size(dt));
    *done = 1;
    return AGLM_OK;
}

static int64_t clamp_index(int64_t i, int64_t rank)
{
    if (i < 0)
        i += rank;
    return i < 0 ? 0 : i > rank ? rank : i;
}

/* Shape (with its opset-15 start/end window) and Size, when the dims they read are static. */
static aglm_status shape_value(const aglm_node *n, aglm_tensor *out, int *done)
{
    aglm_value *x = aglm_node_num_inputs(n) == 1 ? aglm_node_input(n, 0) : NULL;
    int rank = x ? aglm_value_rank(x) : -1;
    if (rank < 0)
        return AGLM_OK;
    int64_t lo = 0, hi = rank;
    int size = aglm_node_is(n, "", "Size");
    if (!size) {
        lo = clamp_index(aglm_node_get_int(n, "start", 0), rank);
        hi = clamp_index(aglm_node_get_int(n, "end", rank), rank);
        if (hi < lo)
            hi = lo;
    }
    int64_t prod = 1;
    for (int64_t i = lo; i < hi; i++) {
        if (aglm_value_dim(x, (int)i).value < 0)
            return AGLM_OK;
        prod *= aglm_value_dim(x, (int)i).value;
    }
    int64_t len = hi - lo;
    aglm_status st = aglm_tensor_alloc(out, AGLM_I64, size ? 0 : 1, &len);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "%s node '%s'", aglm_node_op(n), aglm_node_name(n));
    int64_t *d = out->data;
    if (size)
        d[0] = prod;
    else
        for (int64_t i = lo; i < hi; i++)
            d[i - lo] = aglm_value_dim(x, (int)i).value;
    *done = 1;
    return AGLM_OK;
}

aglm_status fold_direct(const aglm_node *n, aglm_tensor *out, int *done)
{
    *done = 0;
    aglm_status st = AGLM_OK;
    if (aglm_node_num_outputs(n) != 1 || !aglm_node_output(n, 0))
        return AGLM_OK;
    /* No size limit here: a Constant's value is in the model already, and Shape/Size give one
     * integer per dim. */
    if (aglm_node_is(n, "", "Constant"))
        st = constant_value(n, out, done);
    else if (aglm_node_is(n, "", "Shape") || aglm_node_is(n, "", "Size"))
        st = shape_value(n, out, done);
    return st;
}
