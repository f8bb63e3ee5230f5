/* The rewrite rules of simplify. Each looks at one node and either rewrites (and sets *fired) or
 * leaves the graph exactly as it was. */
#include "simplify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static aglm_value *in_at(const aglm_node *n, size_t i)
{
    return i < aglm_node_num_inputs(n) ? aglm_node_input(n, i) : NULL;
}

/* The constant a value holds, unless it is a graph input's overridable default. */
static const aglm_tensor *fixed_const(const aglm_value *v)
{
    return v && !aglm_value_is_graph_input(v) ? aglm_value_const(v) : NULL;
}

static int all_equal(const aglm_tensor *t, double want)
{
    if (!t || aglm_tensor_numel(t) == 0)
        return 0;
    for (int64_t i = 0; i < aglm_tensor_numel(t); i++)
        if (aglm_tensor_get_f64(t, i) != want)
            return 0;
    return 1;
}

/* 1 when broadcasting x against a tensor of c's shape gives x's shape: c has no more dims than x
 * and each of its dims (aligned right) is 1 or x's static dim. */
static int keeps_shape(const aglm_value *x, int c_rank, const int64_t *c_dims)
{
    int r = aglm_value_rank(x);
    if (r < 0 || c_rank > r)
        return 0;
    for (int i = 0; i < c_rank; i++) {
        int64_t cd = c_dims[c_rank - 1 - i];
        if (cd != 1 && aglm_value_dim(x, r - 1 - i).value != cd)
            return 0;
    }
    return 1;
}

/* x op c == x when c is all `unit` and does not broadcast x to a bigger shape. */
static int is_unit_for(const aglm_value *x, const aglm_value *c, double unit)
{
    const aglm_tensor *t = fixed_const(c);
    return t && aglm_value_dtype(x) == t->dtype && all_equal(t, unit) &&
           keeps_shape(x, t->rank, t->dims);
}

/* x+0, 0+x, x-0, x*1, 1*x, x/1. */
static aglm_status arith_identity(aglm_graph *g, aglm_node *n, int *fired)
{
    aglm_value *a = in_at(n, 0), *b = in_at(n, 1), *y = aglm_node_output(n, 0);
    int add = aglm_node_is(n, "", "Add"), mul = aglm_node_is(n, "", "Mul");
    double unit = add || aglm_node_is(n, "", "Sub") ? 0.0 : 1.0;
    if (!a || !b)
        return AGLM_OK;
    if (is_unit_for(a, b, unit))
        return simplify_forward(g, n, y, a, fired);
    if ((add || mul) && is_unit_for(b, a, unit))
        return simplify_forward(g, n, y, b, fired);
    return AGLM_OK;
}

/* x / c -> x * (1/c) for a float constant c without zeros: a multiply is cheaper everywhere. */
static aglm_status div_to_mul(aglm_graph *g, aglm_node *n, int *fired)
{
    const aglm_tensor *c = fixed_const(in_at(n, 1));
    if (!c || !aglm_dtype_is_float(c->dtype) || !in_at(n, 0) || aglm_node_num_outputs(n) != 1)
        return AGLM_OK;
    int64_t count = aglm_tensor_numel(c);
    for (int64_t i = 0; i < count; i++)
        if (aglm_tensor_get_f64(c, i) == 0.0)
            return AGLM_OK;
    aglm_tensor r;
    aglm_status st = aglm_tensor_alloc(&r, c->dtype, c->rank, c->dims);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "node '%s'", aglm_node_name(n));
    for (int64_t i = 0; i < count; i++)
        aglm_tensor_set_f64(&r, i, 1.0 / aglm_tensor_get_f64(c, i));
    /* Named after the divisor so the rewrite reads well in printed IR; a fresh name if taken. */
    char name[256];
    snprintf(name, sizeof name, "%s.reciprocal", aglm_value_name(in_at(n, 1)));
    aglm_value *rv =
        aglm_graph_find_value(g, name) ? NULL : aglm_graph_add_initializer(g, name, &r);
    if (!rv)
        rv = aglm_graph_add_initializer(g, NULL, &r);
    aglm_tensor_free(&r);
    if (!rv)
        return aglm_error_wrap(AGLM_ERR_NOMEM, "node '%s'", aglm_node_name(n));
    if ((st = aglm_node_set_input(n, 1, rv)) == AGLM_OK &&
        (st = aglm_node_set_op(n, "Mul", "")) == AGLM_OK)
        *fired = 1;
    return st;
}

/* Dropout is the identity at inference: training_mode absent or a constant false, and its mask
 * output (when it has one) read by nobody. */
static aglm_status dropout(aglm_graph *g, aglm_node *n, int *fired)
{
    aglm_value *train = in_at(n, 2);
    if (train) {
        const aglm_tensor *t = fixed_const(train);
        if (!t || aglm_tensor_numel(t) != 1 || aglm_tensor_get_f64(t, 0) != 0.0)
            return AGLM_OK;
    }
    aglm_value *mask = aglm_node_num_outputs(n) > 1 ? aglm_node_output(n, 1) : NULL;
    if (mask && (aglm_value_num_uses(mask) > 0 || aglm_value_is_graph_output(mask)))
        return AGLM_OK;
    return simplify_forward(g, n, aglm_node_output(n, 0), in_at(n, 0), fired);
}

static aglm_status cast_same(aglm_graph *g, aglm_node *n, int *fired)
{
    aglm_value *x = in_at(n, 0);
    int64_t to = aglm_node_get_int(n, "to", -1);
    if (!x || aglm_value_dtype(x) == AGLM_UNDEFINED || (int64_t)aglm_value_dtype(x) != to)
        return AGLM_OK;
    return simplify_forward(g, n, aglm_node_output(n, 0), x, fired);
}

static int same_static_shape(const aglm_value *a, const aglm_value *b)
{
    if (!aglm_value_is_static(a) || !aglm_value_is_static(b) ||
        aglm_value_rank(a) != aglm_value_rank(b))
        return 0;
    for (int i = 0; i < aglm_value_rank(a); i++)
        if (aglm_value_dim(a, i).value != aglm_value_dim(b, i).value)
            return 0;
    return 1;
}

/* Reshape(Reshape(x, s1), s2) -> Reshape(x, s2) when s2 is a constant that copies no dim from
 * the inner result (no 0, or allowzero=1); a Reshape to x's own static shape goes. */
static aglm_status reshape(aglm_graph *g, aglm_node *n, int *fired)
{
    aglm_value *x = in_at(n, 0), *y = aglm_node_output(n, 0);
    if (!x || !y)
        return AGLM_OK;
    if (same_static_shape(x, y))
        return simplify_forward(g, n, y, x, fired);
    aglm_node *inner = aglm_value_producer(x);
    const aglm_tensor *s = fixed_const(in_at(n, 1));
    if (!aglm_node_is(inner, "", "Reshape") || !in_at(inner, 0) || !s ||
        aglm_node_graph(inner) != g)
        return AGLM_OK;
    if (aglm_node_get_int(n, "allowzero", 0) == 0)
        for (int64_t i = 0; i < aglm_tensor_numel(s); i++)
            if (aglm_tensor_get_f64(s, i) == 0.0)
                return AGLM_OK;
    aglm_status st = aglm_node_set_input(n, 0, in_at(inner, 0));
    if (st == AGLM_OK)
        st = simplify_drop_if_dead(g, inner);
    *fired = st == AGLM_OK;
    return st;
}

/* The perm of Transpose n over an input of rank `rank` (default: reversed dims); 0 when unknown. */
static int perm_of(const aglm_node *n, int rank, int64_t *perm)
{
    size_t count = 0;
    const int64_t *p = aglm_node_get_ints(n, "perm", &count);
    if (p) {
        if (count > AGLM_MAX_RANK)
            return 0;
        for (size_t i = 0; i < count; i++)
            perm[i] = p[i];
        return (int)count;
    }
    if (rank <= 0 || rank > AGLM_MAX_RANK)
        return 0;
    for (int i = 0; i < rank; i++)
        perm[i] = rank - 1 - i;
    return rank;
}

/* Transpose(Transpose(x, p1), p2) -> Transpose(x, p) with p[i] = p1[p2[i]]; an identity perm
 * leaves x. */
static aglm_status transpose(aglm_graph *g, aglm_node *n, int *fired)
{
    aglm_value *x = in_at(n, 0), *y = aglm_node_output(n, 0);
    if (!x || !y)
        return AGLM_OK;
    int64_t p2[AGLM_MAX_RANK], p1[AGLM_MAX_RANK], p[AGLM_MAX_RANK];
    int r2 = perm_of(n, aglm_value_rank(x), p2);
    if (r2 == 0)
        return AGLM_OK;
    for (int i = 0; i < r2; i++)
        if (p2[i] < 0 || p2[i] >= r2)
            return AGLM_OK;
    aglm_node *inner = aglm_value_producer(x);
    if (aglm_node_is(inner, "", "Transpose") && in_at(inner, 0) && aglm_node_graph(inner) == g) {
        int r1 = perm_of(inner, aglm_value_rank(in_at(inner, 0)), p1);
        if (r1 != r2)
            return AGLM_OK;
        for (int i = 0; i < r2; i++) {
            if (p1[i] < 0 || p1[i] >= r1)
                return AGLM_OK;
            p[i] = p1[p2[i]];
        }
        aglm_status st = aglm_node_set_ints(n, "perm", p, (size_t)r2);
        if (st == AGLM_OK)
            st = aglm_node_set_input(n, 0, in_at(inner, 0));
        if (st == AGLM_OK)
            st = simplify_drop_if_dead(g, inner);
        *fired = st == AGLM_OK;
        return st;
    }
    for (int i = 0; i < r2; i++)
        if (p2[i] != i)
            return AGLM_OK;
    return simplify_forward(g, n, y, x, fired);
}

/* The axes of a Squeeze/Unsqueeze (input 1 from opset 13, attribute before), made non-negative
 * against `rank` and sorted; -1 when absent or not constant. */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int axes_of(const aglm_node *n, int rank, int64_t *axes)
{
    int count = 0;
    const aglm_tensor *t = fixed_const(in_at(n, 1));
    if (t) {
        if (aglm_tensor_numel(t) > AGLM_MAX_RANK || !aglm_dtype_is_int(t->dtype))
            return -1;
        for (int64_t i = 0; i < aglm_tensor_numel(t); i++)
            axes[count++] = (int64_t)aglm_tensor_get_f64(t, i);
    } else if (in_at(n, 1)) {
        return -1;
    } else {
        size_t k = 0;
        const int64_t *a = aglm_node_get_ints(n, "axes", &k);
        if (!a || k > AGLM_MAX_RANK)
            return -1;
        for (size_t i = 0; i < k; i++)
            axes[count++] = a[i];
    }
    if (count == 0 || rank < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        if (axes[i] < 0)
            axes[i] += rank;
        if (axes[i] < 0 || axes[i] >= rank)
            return -1;
    }
    qsort(axes, (size_t)count, sizeof *axes, cmp_i64);
    return count;
}

/* Squeeze(Unsqueeze(x, a), a) and Unsqueeze(Squeeze(x, a), a) are x. Axes are compared against
 * the rank of the larger of the two shapes, where both ops number them. */
static aglm_status squeeze_pair(aglm_graph *g, aglm_node *n, int *fired)
{
    int outer_sq = aglm_node_is(n, "", "Squeeze");
    aglm_value *mid = in_at(n, 0), *y = aglm_node_output(n, 0);
    aglm_node *inner = mid ? aglm_value_producer(mid) : NULL;
    if (!y || !aglm_node_is(inner, "", outer_sq ? "Unsqueeze" : "Squeeze") ||
        aglm_node_graph(inner) != g || !in_at(inner, 0))
        return AGLM_OK;
    aglm_value *x = in_at(inner, 0);
    int rank = outer_sq ? aglm_value_rank(mid) : aglm_value_rank(x);
    int64_t a[AGLM_MAX_RANK], b[AGLM_MAX_RANK];
    int na = axes_of(n, rank, a), nb = axes_of(inner, rank, b);
    if (na < 0 || na != nb || memcmp(a, b, (size_t)na * sizeof *a) != 0)
        return AGLM_OK;
    aglm_status st = simplify_forward(g, n, y, x, fired);
    if (st == AGLM_OK && *fired)
        st = simplify_drop_if_dead(g, inner);
    return st;
}

/* Expand(x, s) is x when s broadcasts to x's own shape. */
static aglm_status expand_same(aglm_graph *g, aglm_node *n, int *fired)
{
    aglm_value *x = in_at(n, 0);
    const aglm_tensor *s = fixed_const(in_at(n, 1));
    if (!x || !s || s->rank != 1 || aglm_tensor_numel(s) > AGLM_MAX_RANK)
        return AGLM_OK;
    int64_t dims[AGLM_MAX_RANK];
    for (int64_t i = 0; i < aglm_tensor_numel(s); i++)
        dims[i] = (int64_t)aglm_tensor_get_f64(s, i);
    if (!keeps_shape(x, (int)aglm_tensor_numel(s), dims))
        return AGLM_OK;
    return simplify_forward(g, n, aglm_node_output(n, 0), x, fired);
}

aglm_status simplify_node(aglm_graph *g, aglm_node *n, int *fired)
{
    *fired = 0;
    if (aglm_node_num_outputs(n) == 0 || !aglm_node_output(n, 0))
        return AGLM_OK;
    aglm_status st = AGLM_OK;
    if (aglm_node_is(n, "", "Identity"))
        st = simplify_forward(g, n, aglm_node_output(n, 0), in_at(n, 0), fired);
    else if (aglm_node_is(n, "", "Dropout"))
        st = dropout(g, n, fired);
    else if (aglm_node_is(n, "", "Cast"))
        st = cast_same(g, n, fired);
    else if (aglm_node_is(n, "", "Add") || aglm_node_is(n, "", "Sub") || aglm_node_is(n, "", "Mul"))
        st = arith_identity(g, n, fired);
    else if (aglm_node_is(n, "", "Div")) {
        if ((st = arith_identity(g, n, fired)) == AGLM_OK && !*fired)
            st = div_to_mul(g, n, fired);
    } else if (aglm_node_is(n, "", "Reshape"))
        st = reshape(g, n, fired);
    else if (aglm_node_is(n, "", "Transpose"))
        st = transpose(g, n, fired);
    else if (aglm_node_is(n, "", "Squeeze") || aglm_node_is(n, "", "Unsqueeze"))
        st = squeeze_pair(g, n, fired);
    else if (aglm_node_is(n, "", "Expand"))
        st = expand_same(g, n, fired);
    else if (aglm_node_is(n, "", "Concat") && aglm_node_num_inputs(n) == 1)
        st = simplify_forward(g, n, aglm_node_output(n, 0), in_at(n, 0), fired);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "node '%s' (%s)", aglm_node_name(n), aglm_node_op(n));
    return AGLM_OK;
}
