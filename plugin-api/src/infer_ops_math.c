/* Linear algebra and reductions: MatMul, MatMulInteger, QLinearMatMul, Gemm, Softmax family,
 * Reduce*, ArgMax/ArgMin. */
#include <string.h>
#include "infer_internal.h"

static aglm_status two_shapes_err(const infer_ctx *c, const char *what, const infer_type *a,
                                  const infer_type *b)
{
    char sa[128], sb[128];
    return infer_err(c, AGLM_ERR_SHAPE, "%s %s and %s", what, infer_type_str(a, sa, sizeof sa),
                     infer_type_str(b, sb, sizeof sb));
}

/* numpy.matmul: 1-D operands are promoted (a row for A, a column for B) and the promoted dim is
 * dropped again; batch dims broadcast. */
static aglm_status matmul_shape(infer_ctx *c, aglm_dtype dt, infer_type *out)
{
    const infer_type *a = &c->in[0], *b = &c->in[1];
    infer_type_unknown(out, dt);
    if (a->rank < 0 || b->rank < 0)
        return AGLM_OK;
    if (a->rank == 0 || b->rank == 0)
        return two_shapes_err(c, "cannot multiply a scalar:", a, b);
    infer_type pa = *a, pb = *b;
    if (a->rank == 1) {
        pa.rank = 2;
        pa.dims[0] = infer_dim_static(1);
        pa.dims[1] = a->dims[0];
    }
    if (b->rank == 1) {
        pb.rank = 2;
        pb.dims[1] = infer_dim_static(1);
    }
    aglm_dim k_a = pa.dims[pa.rank - 1], k_b = pb.dims[pb.rank - 2];
    if (infer_dim_conflict(k_a, k_b))
        return two_shapes_err(c, "inner dimensions differ: cannot multiply", a, b);
    infer_type ba = pa, bb = pb, batch;
    ba.rank -= 2;
    bb.rank -= 2;
    aglm_status st = infer_broadcast(c, &ba, &bb, &batch);
    if (st != AGLM_OK)
        return two_shapes_err(c, "batch dimensions do not broadcast: cannot multiply", a, b);
    int r = batch.rank;
    if (a->rank != 1)
        batch.dims[r++] = pa.dims[pa.rank - 2];
    if (b->rank != 1)
        batch.dims[r++] = pb.dims[pb.rank - 1];
    batch.rank = r;
    batch.dtype = dt;
    *out = batch;
    return AGLM_OK;
}

static aglm_status matmul(infer_ctx *c)
{
    aglm_status st = infer_same_dtype(c, 0, 1);
    infer_type t;
    if (st == AGLM_OK && (st = matmul_shape(c, c->in[0].dtype, &t)) == AGLM_OK)
        infer_set_out(c, 0, &t);
    return st;
}

/* MatMulInteger: int8/uint8 operands, int32 result. */
static aglm_status matmul_integer(infer_ctx *c)
{
    infer_type t;
    aglm_status st = matmul_shape(c, AGLM_I32, &t);
    if (st == AGLM_OK)
        infer_set_out(c, 0, &t);
    return st;
}

/* QLinearMatMul: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point;
 * numpy.matmul of a and b, in y_zero_point's dtype. */
static aglm_status qlinear_matmul(infer_ctx *c)
{
    infer_type in[2] = {c->in[0], c->in[3]}, t;
    unsigned char present[2] = {1, 1};
    infer_ctx sub = *c;
    sub.n_in = 2;
    sub.in = in;
    sub.present = present;
    aglm_dtype dt = c->in[7].dtype != AGLM_UNDEFINED ? c->in[7].dtype : c->in[0].dtype;
    aglm_status st = matmul_shape(&sub, dt, &t);
    if (st == AGLM_OK)
        infer_set_out(c, 0, &t);
    return st;
}

/* Gemm: Y[M,N] = alpha * op(A) * op(B) + beta * C, C broadcasting one way to [M,N]. */
static aglm_status gemm(infer_ctx *c)
{
    aglm_status st;
    if ((st = infer_same_dtype(c, 0, 1)) != AGLM_OK ||
        (st = infer_same_dtype(c, 0, 2)) != AGLM_OK ||
        (st = infer_need_rank(c, 0, 2, "A")) != AGLM_OK ||
        (st = infer_need_rank(c, 1, 2, "B")) != AGLM_OK)
        return st;
    const infer_type *a = &c->in[0], *b = &c->in[1];
    infer_type y;
    infer_type_unknown(&y, a->dtype);
    if (a->rank == 2 && b->rank == 2) {
        int ta = aglm_node_get_int(c->node, "transA", 0) != 0;
        int tb = aglm_node_get_int(c->node, "transB", 0) != 0;
        aglm_dim m = a->dims[ta ? 1 : 0], ka = a->dims[ta ? 0 : 1];
        aglm_dim kb = b->dims[tb ? 1 : 0], n = b->dims[tb ? 0 : 1];
        if (infer_dim_conflict(ka, kb)) {
            char sa[128], sb[128];
            return infer_err(c, AGLM_ERR_SHAPE,
                             "inner dimensions differ: cannot multiply %s%s and %s%s",
                             infer_type_str(a, sa, sizeof sa), ta ? " (transposed)" : "",
                             infer_type_str(b, sb, sizeof sb), tb ? " (transposed)" : "");
        }
        y.rank = 2;
        y.dims[0] = m;
        y.dims[1] = n;
        /* C must broadcast to [M,N] without growing it */
        const infer_type *cc = &c->in[2];
        if (infer_has_in(c, 2) && cc->rank >= 0) {
            int ok = cc->rank <= 2;
            for (int i = 0; ok && i < cc->rank; i++) {
                aglm_dim d = cc->dims[i], want = y.dims[2 - cc->rank + i];
                ok = !(infer_dim_is_static(d) && d.value != 1 && infer_dim_conflict(d, want));
            }
            if (!ok) {
                char sy[128], sc[128];
                return infer_err(c, AGLM_ERR_SHAPE, "cannot broadcast C %s to the result %s",
                                 infer_type_str(cc, sc, sizeof sc),
                                 infer_type_str(&y, sy, sizeof sy));
            }
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Softmax, LogSoftmax, Hardmax: same type; axis defaults to 1 before opset 13, -1 from 13. */
static aglm_status softmax(infer_ctx *c)
{
    aglm_status st = infer_need_float(c, 0);
    if (st != AGLM_OK)
        return st;
    const infer_type *x = &c->in[0];
    if (x->rank >= 0) {
        int64_t axis = aglm_node_get_int(c->node, "axis", c->opset >= 13 ? -1 : 1);
        int ax;
        /* before opset 13 the input is coerced to 2-D as [d0*..*d(axis-1), d(axis)*..], which
         * is still defined for axis == rank (the default 1 on a 1-D input) */
        if ((st = infer_axis(c, axis, x->rank, c->opset >= 13 ? 0 : 1, x, "axis", &ax)) != AGLM_OK)
            return st;
    }
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* The opset from which a reduction takes axes as input 1 instead of an attribute. */
static int64_t axes_input_opset(const char *op)
{
    return strcmp(op, "ReduceSum") == 0 ? 13 : 18;
}

/* Reduce*: axes (attribute or input by opset), keepdims, noop_with_empty_axes. */
static aglm_status reduce(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int keep = aglm_node_get_int(c->node, "keepdims", 1) != 0;
    int noop = aglm_node_get_int(c->node, "noop_with_empty_axes", 0) != 0;
    int64_t axes[AGLM_MAX_RANK * 2];
    size_t n_axes = 0;
    int known = 1;
    aglm_status st;
    if (c->opset >= axes_input_opset(c->op)) {
        if (infer_has_in(c, 1)) {
            if ((st = infer_const_ints(c, 1, axes, AGLM_MAX_RANK * 2, &n_axes, &known)) != AGLM_OK)
                return st;
        }
    } else {
        int present;
        if ((st = infer_attr_ints(c, "axes", axes, AGLM_MAX_RANK * 2, &n_axes, &present)) !=
            AGLM_OK)
            return st;
    }
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (known && n_axes == 0 && noop) {
        infer_out_like(c, 0, 0);
        return AGLM_OK;
    }
    if (x->rank < 0) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    if (!known) {
        /* axes decided at run time: with keepdims the rank stays; without it, it drops by the
         * number of axes when that is known */
        const infer_type *ax = &c->in[1];
        if (keep) {
            y.rank = x->rank;
        } else if (ax->rank == 1 && infer_dim_is_static(ax->dims[0]) &&
                   ax->dims[0].value <= x->rank) {
            y.rank = x->rank - (int)ax->dims[0].value;
        }
        for (int i = 0; i < y.rank; i++)
            y.dims[i] = infer_dim_unknown();
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    unsigned char reduced[AGLM_MAX_RANK] = {0};
    for (size_t i = 0; i < n_axes; i++) {
        int a;
        if ((st = infer_axis(c, axes[i], x->rank, 0, x, "axis", &a)) != AGLM_OK)
            return st;
        reduced[a] = 1;
    }
    y.rank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (n_axes == 0 || reduced[i]) {
            if (keep)
                y.dims[y.rank++] = infer_dim_static(1);
        } else {
            y.dims[y.rank++] = x->dims[i];
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* ArgMax, ArgMin: one axis, keepdims, int64 indices. */
static aglm_status argminmax(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    infer_type y;
    infer_type_unknown(&y, AGLM_I64);
    if (x->rank >= 0) {
        int a;
        aglm_status st =
            infer_axis(c, aglm_node_get_int(c->node, "axis", 0), x->rank, 0, x, "axis", &a);
        if (st != AGLM_OK)
            return st;
        int keep = aglm_node_get_int(c->node, "keepdims", 1) != 0;
        y.rank = 0;
        for (int i = 0; i < x->rank; i++) {
            if (i != a)
                y.dims[y.rank++] = x->dims[i];
            else if (keep)
                y.dims[y.rank++] = infer_dim_static(1);
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

#define REDUCE(name)                                                                               \
    {                                                                                              \
        name, reduce                                                                               \
    }

const infer_rule infer_rules_math[] = {
    {"MatMul", matmul},
    {"MatMulInteger", matmul_integer},
    {"QLinearMatMul", qlinear_matmul},
    {"Gemm", gemm},
    {"Softmax", softmax},
    {"LogSoftmax", softmax},
    {"Hardmax", softmax},
    REDUCE("ReduceMean"),
    REDUCE("ReduceSum"),
    REDUCE("ReduceMax"),
    REDUCE("ReduceMin"),
    REDUCE("ReduceProd"),
    REDUCE("ReduceL1"),
    REDUCE("ReduceL2"),
    REDUCE("ReduceLogSum"),
    REDUCE("ReduceLogSumExp"),
    REDUCE("ReduceSumSquare"),
    {"ArgMax", argminmax},
    {"ArgMin", argminmax},
    {NULL, NULL},
};
