/* fuse: whole patterns into single ops (docs/extension-ops.md), every node of a pattern but the
 * last read only inside it:
 *
 *   LayerNorm: ReduceMean(x) -> Sub(x, mean) = d; Pow(d, 2) or Mul(d, d) -> ReduceMean ->
 *     Add(eps) -> Sqrt -> Div(d, .); then an optional Mul by a constant scale and an optional
 *     Add of a constant bias. Both ReduceMeans over the same trailing axes, keepdims on. Becomes
 *     LayerNormalization (ai.onnx opset >= 17 and a scale) or aglm.LayerNorm (same meaning,
 *     scale optional), axis = -(number of axes), epsilon from the Add.
 *   Gelu: 0.5 * x * (1 + Erf(x / sqrt 2)) (x / 1.41421 or x * 0.70711; the 0.5 applied to x or
 *     to the product), and the tanh form 0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3))). Becomes
 *     Gelu (opset >= 20) or aglm.Gelu, approximate "none" or "tanh".
 *   Softmax: e = Exp(Sub(x, ReduceMax(x))), Div(e, ReduceSum(e)), both reductions over the last
 *     axis only, keepdims on. Becomes Softmax with axis=-1, which means the same at every opset
 *     (before 13, flattening to 2-D at the last axis leaves rows of the last axis).
 *
 * The new node takes the pattern's last value as its output, so names and uses stay. */
#include "fuse_match.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_NODES 12

typedef struct pattern {
    aglm_node *nodes[MAX_NODES];
    size_t n;
} pattern;

static void take(pattern *p, aglm_node *n)
{
    if (p->n < MAX_NODES)
        p->nodes[p->n++] = n;
}

/* The sole user of n's output 0 when it is the ai.onnx op `op`, or NULL. */
static aglm_node *next_op(const aglm_node *n, const char *op)
{
    aglm_node *u = n ? fuse_sole_user(aglm_node_output(n, 0)) : NULL;
    return u && aglm_node_is(u, "", op) && aglm_node_num_outputs(u) == 1 ? u : NULL;
}

static int near(float a, float b, float tol)
{
    return fabsf(a - b) <= tol;
}

/* 1 when the other input of the two-input node n reading v is a constant scalar near `want`. */
static int scalar_operand(const aglm_node *n, const aglm_value *v, float want, float tol)
{
    float c;
    int rank;
    aglm_value *k = n ? fuse_other_input(n, v) : NULL;
    /* rank at most v's, so the constant cannot widen what the single op will compute */
    if (!k || !fuse_scalar(k, &c, &rank) || rank > aglm_value_rank(v) || !near(c, want, tol))
        return 0;
    return 1;
}

/* The number of distinct nodes reading v, each stored in out[] while it has room (max); the
 * count is SIZE_MAX when v is a graph output or read from a subgraph (so no match can take it). */
static size_t readers(const aglm_value *v, aglm_node **out, size_t max)
{
    size_t n = 0;
    if (aglm_value_is_graph_output(v))
        return SIZE_MAX;
    for (size_t i = 0; i < aglm_value_num_uses(v); i++) {
        aglm_node *u = aglm_value_use(v, i, NULL);
        if (aglm_node_graph(u) != aglm_value_graph(v))
            return SIZE_MAX;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = aglm_value_use(v, j, NULL) == u;
        if (seen)
            continue;
        if (n < max)
            out[n] = u;
        n++;
    }
    return n;
}

/* The reduced axes of a ReduceMean, as a count k of trailing axes; 0 when they are not the
 * trailing ones, keepdims is off, or they are not constant. */
static int trailing_axes(const aglm_node *rm, int rank)
{
    size_t count = 0;
    const int64_t *axes = aglm_node_get_ints(rm, "axes", &count);
    if (!axes && aglm_node_num_inputs(rm) > 1 && aglm_node_input(rm, 1)) {
        const aglm_tensor *t = aglm_value_const(aglm_node_input(rm, 1));
        if (!t || t->dtype != AGLM_I64 || !t->data)
            return 0;
        axes = t->data;
        count = (size_t)aglm_tensor_numel(t);
    }
    if (!axes || count == 0 || count > AGLM_MAX_RANK || aglm_node_get_int(rm, "keepdims", 1) != 1)
        return 0;
    int seen[AGLM_MAX_RANK] = {0};
    for (size_t i = 0; i < count; i++) {
        int64_t a = axes[i];
        if (a >= 0) {
            if (rank < 0 || a >= rank)
                return 0;
            a -= rank;
        }
        if (a < -(int64_t)count || seen[-a - 1])
            return 0;
        seen[-a - 1] = 1;
    }
    return (int)count;
}

/* A constant f32 operand of the two-input node n reading v, of rank at most k; NULL if none. */
static aglm_value *const_operand(const aglm_node *n, const aglm_value *v, int k)
{
    aglm_value *c = n ? fuse_other_input(n, v) : NULL;
    const aglm_tensor *t = c ? fuse_const_f32(c) : NULL;
    return t && t->rank <= k ? c : NULL;
}

typedef struct ln_match {
    pattern p;
    aglm_value *x, *scale, *bias, *last;
    int k;
    float eps;
} ln_match;

static int match_layer_norm(aglm_node *rm, ln_match *m)
{
    memset(m, 0, sizeof *m);
    if (!aglm_node_is(rm, "", "ReduceMean") || aglm_node_num_outputs(rm) != 1)
        return 0;
    aglm_value *x = aglm_node_input(rm, 0), *mean = aglm_node_output(rm, 0);
    if (aglm_value_dtype(x) != AGLM_F32 || !(m->k = trailing_axes(rm, aglm_value_rank(x))))
        return 0;
    aglm_node *sub = next_op(rm, "Sub");
    if (!sub || aglm_node_input(sub, 0) != x || aglm_node_input(sub, 1) != mean)
        return 0;
    aglm_value *d = aglm_node_output(sub, 0);
    aglm_node *users[2];
    if (readers(d, users, 2) != 2)
        return 0;
    aglm_node *div = aglm_node_is(users[0], "", "Div") ? users[0] : users[1];
    aglm_node *sq = div == users[0] ? users[1] : users[0];
    float two;
    int pow2 = aglm_node_is(sq, "", "Pow") && aglm_node_input(sq, 0) == d &&
               aglm_node_num_inputs(sq) == 2 && fuse_scalar(aglm_node_input(sq, 1), &two, NULL) &&
               two == 2.0f;
    int mul2 = aglm_node_is(sq, "", "Mul") && aglm_node_num_inputs(sq) == 2 &&
               aglm_node_input(sq, 0) == d && aglm_node_input(sq, 1) == d;
    if (!aglm_node_is(div, "", "Div") || aglm_node_input(div, 0) != d || (!pow2 && !mul2))
        return 0;
    aglm_node *rm2 = next_op(sq, "ReduceMean"), *add = next_op(rm2, "Add");
    if (!rm2 || trailing_axes(rm2, aglm_value_rank(aglm_node_output(sq, 0))) != m->k || !add)
        return 0;
    float eps;
    int rank;
    aglm_value *e = fuse_other_input(add, aglm_node_output(rm2, 0));
    aglm_node *sqrt_n = next_op(add, "Sqrt");
    if (!e || !fuse_scalar(e, &eps, &rank) || !(eps >= 0.0f) || !sqrt_n ||
        next_op(sqrt_n, "Div") != div || aglm_node_input(div, 1) != aglm_node_output(sqrt_n, 0))
        return 0;
    aglm_node *nodes[] = {rm, sub, sq, rm2, add, sqrt_n, div};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        take(&m->p, nodes[i]);
    m->x = x;
    m->eps = eps;
    m->last = aglm_node_output(div, 0);
    aglm_node *mul = next_op(div, "Mul");
    if ((m->scale = const_operand(mul, m->last, m->k)) != NULL) {
        take(&m->p, mul);
        m->last = aglm_node_output(mul, 0);
    }
    aglm_node *badd = next_op(aglm_value_producer(m->last), "Add");
    if ((m->bias = const_operand(badd, m->last, m->k)) != NULL) {
        take(&m->p, badd);
        m->last = aglm_node_output(badd, 0);
    }
    return 1;
}

/* Removes the pattern's nodes and adds `op` computing its last value from `inputs`. */
static aglm_status replace(aglm_graph *g, const pattern *p, const char *op, const char *domain,
                           const char *name, size_t n_in, aglm_value *const *inputs,
                           aglm_value *last, aglm_node **out)
{
    char keep[256];
    snprintf(keep, sizeof keep, "%s", name ? name : "");
    aglm_status st = AGLM_OK;
    for (size_t i = p->n; i-- > 0 && st == AGLM_OK;)
        st = aglm_graph_remove_node(g, p->nodes[i]);
    if (st != AGLM_OK)
        return st;
    if (domain && strcmp(domain, AGLM_DOMAIN) == 0 && (st = fuse_import_aglm(g)) != AGLM_OK)
        return st;
    *out = aglm_graph_add_node(g, op, domain, keep, n_in, inputs, 1, &last);
    return *out ? AGLM_OK : aglm_error(AGLM_ERR_NOMEM, "adding the fused %s node", op);
}

static aglm_status rewrite_layer_norm(aglm_graph *g, const ln_match *m)
{
    int onnx = fuse_onnx_opset(m->p.nodes[0]) >= 17 && m->scale;
    aglm_value *in[3] = {m->x, m->scale, m->bias};
    aglm_node *n;
    aglm_status st = replace(g, &m->p, onnx ? "LayerNormalization" : AGLM_OP_LAYER_NORM,
                             onnx ? "" : AGLM_DOMAIN, aglm_node_name(m->p.nodes[0]),
                             m->bias    ? 3
                             : m->scale ? 2
                                        : 1,
                             in, m->last, &n);
    if (st == AGLM_OK)
        st = aglm_node_set_int(n, "axis", -m->k);
    if (st == AGLM_OK)
        st = aglm_node_set_float(n, "epsilon", m->eps);
    return st;
}

typedef struct gelu_match {
    pattern p;
    aglm_value *x, *last;
    int tanh_form;
} gelu_match;

/* The tail shared by both forms: t -> Add(1) -> Mul(x, .) -> Mul(0.5), or with the 0.5 on x:
 * Mul(Mul(x, 0.5), .). t is Erf's or Tanh's node, x the pattern's input. */
static int match_gelu_tail(gelu_match *m, aglm_node *t, aglm_value *x)
{
    aglm_node *add = next_op(t, "Add"), *mul = next_op(add, "Mul");
    if (!add || !scalar_operand(add, aglm_node_output(t, 0), 1.0f, 1e-6f) || !mul)
        return 0;
    aglm_value *o = fuse_other_input(mul, aglm_node_output(add, 0));
    aglm_node *half = o ? aglm_value_producer(o) : NULL;
    take(&m->p, add);
    take(&m->p, mul);
    if (o == x) {
        aglm_node *h = next_op(mul, "Mul");
        if (!h || !scalar_operand(h, aglm_node_output(mul, 0), 0.5f, 1e-6f))
            return 0;
        take(&m->p, h);
        m->last = aglm_node_output(h, 0);
    } else if (half && aglm_node_is(half, "", "Mul") && fuse_sole_user(o) == mul &&
               scalar_operand(half, x, 0.5f, 1e-6f)) {
        take(&m->p, half);
        m->last = aglm_node_output(mul, 0);
    } else {
        return 0;
    }
    /* x is read by the pattern only: two entry nodes, three in the tanh form (Pow and Add) */
    return readers(x, NULL, 0) == (m->tanh_form ? 3u : 2u);
}

static int match_gelu(aglm_node *t, gelu_match *m)
{
    memset(m, 0, sizeof *m);
    int erf = aglm_node_is(t, "", "Erf");
    if ((!erf && !aglm_node_is(t, "", "Tanh")) || aglm_node_num_outputs(t) != 1)
        return 0;
    aglm_value *in = aglm_node_input(t, 0);
    aglm_node *s = aglm_value_producer(in);
    if (!s || aglm_node_num_inputs(s) != 2 || fuse_sole_user(in) != t)
        return 0;
    aglm_value *x = NULL;
    if (erf) {
        /* x / sqrt 2 or x * (1 / sqrt 2) */
        x = aglm_node_input(s, 0);
        if (!(aglm_node_is(s, "", "Div") && scalar_operand(s, x, 1.41421356f, 1e-4f)) &&
            !(aglm_node_is(s, "", "Mul") &&
              ((scalar_operand(s, x, 0.70710678f, 1e-4f)) ||
               scalar_operand(s, x = aglm_node_input(s, 1), 0.70710678f, 1e-4f))))
            return 0;
        take(&m->p, s);
    } else {
        /* Mul(sqrt(2/pi), Add(x, Mul(0.044715, Pow(x, 3)))) */
        aglm_value *sum = aglm_node_input(s, 0);
        if (!aglm_node_is(s, "", "Mul") ||
            (!scalar_operand(s, sum, 0.7978845608f, 1e-4f) &&
             !scalar_operand(s, sum = aglm_node_input(s, 1), 0.7978845608f, 1e-4f)))
            return 0;
        aglm_node *add = aglm_value_producer(sum);
        if (!add || !aglm_node_is(add, "", "Add") || fuse_sole_user(sum) != s)
            return 0;
        for (int i = 0; i < 2 && !x; i++) {
            aglm_value *c = aglm_node_input(add, (size_t)i),
                       *px = aglm_node_input(add, (size_t)(1 - i));
            aglm_node *cm = aglm_value_producer(c), *pw;
            aglm_value *cube = cm && aglm_node_is(cm, "", "Mul") ? aglm_node_input(cm, 0) : NULL;
            if (cube && !scalar_operand(cm, cube, 0.044715f, 1e-5f))
                cube = aglm_node_input(cm, 1);
            pw = cube ? aglm_value_producer(cube) : NULL;
            float three;
            if (pw && cm && fuse_sole_user(c) == add && fuse_sole_user(cube) == cm &&
                scalar_operand(cm, cube, 0.044715f, 1e-5f) && aglm_node_is(pw, "", "Pow") &&
                aglm_node_input(pw, 0) == px && aglm_node_num_inputs(pw) == 2 &&
                fuse_scalar(aglm_node_input(pw, 1), &three, NULL) && three == 3.0f) {
                x = px;
                take(&m->p, pw);
                take(&m->p, cm);
                take(&m->p, add);
                take(&m->p, s);
            }
        }
        if (!x)
            return 0;
        m->tanh_form = 1;
    }
    take(&m->p, t);
    m->x = x;
    return aglm_value_dtype(x) == AGLM_F32 && match_gelu_tail(m, t, x);
}

static aglm_status rewrite_gelu(aglm_graph *g, const gelu_match *m)
{
    int onnx = fuse_onnx_opset(m->p.nodes[0]) >= 20;
    aglm_node *n;
    const char *name = aglm_node_name(m->p.nodes[0]);
    aglm_status st = replace(g, &m->p, onnx ? "Gelu" : AGLM_OP_GELU, onnx ? "" : AGLM_DOMAIN, name,
                             1, &m->x, m->last, &n);
    if (st == AGLM_OK && m->tanh_form)
        st = aglm_node_set_string(n, "approximate", "tanh", 4);
    return st;
}

typedef struct softmax_match {
    pattern p;
    aglm_value *x, *last;
} softmax_match;

static int match_softmax(aglm_node *rm, softmax_match *m)
{
    memset(m, 0, sizeof *m);
    if (!aglm_node_is(rm, "", "ReduceMax") || aglm_node_num_outputs(rm) != 1)
        return 0;
    aglm_value *x = aglm_node_input(rm, 0);
    aglm_node *sub = next_op(rm, "Sub"), *ex = next_op(sub, "Exp"), *users[2];
    if (aglm_value_dtype(x) != AGLM_F32 || trailing_axes(rm, aglm_value_rank(x)) != 1 || !sub ||
        !ex || aglm_node_input(sub, 0) != x || aglm_node_input(sub, 1) != aglm_node_output(rm, 0))
        return 0;
    aglm_value *e = aglm_node_output(ex, 0);
    if (readers(e, users, 2) != 2)
        return 0;
    aglm_node *div = aglm_node_is(users[0], "", "Div") ? users[0] : users[1];
    aglm_node *rs = div == users[0] ? users[1] : users[0];
    if (!aglm_node_is(div, "", "Div") || !aglm_node_is(rs, "", "ReduceSum") ||
        aglm_node_num_outputs(rs) != 1 || aglm_node_input(rs, 0) != e ||
        trailing_axes(rs, aglm_value_rank(e)) != 1 || next_op(rs, "Div") != div ||
        aglm_node_input(div, 0) != e || aglm_node_input(div, 1) != aglm_node_output(rs, 0))
        return 0;
    aglm_node *nodes[] = {rm, sub, ex, rs, div};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        take(&m->p, nodes[i]);
    m->x = x;
    m->last = aglm_node_output(div, 0);
    return 1;
}

static aglm_status rewrite_softmax(aglm_graph *g, const softmax_match *m)
{
    aglm_node *n;
    aglm_status st =
        replace(g, &m->p, "Softmax", "", aglm_node_name(m->p.nodes[0]), 1, &m->x, m->last, &n);
    return st == AGLM_OK ? aglm_node_set_int(n, "axis", -1) : st;
}

aglm_status fuse_patterns(aglm_graph *g, size_t *count)
{
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_nodes(g) && st == AGLM_OK; i++) {
        aglm_node *n = aglm_graph_node(g, i);
        ln_match ln;
        gelu_match ge;
        softmax_match sm;
        if (match_layer_norm(n, &ln))
            st = rewrite_layer_norm(g, &ln);
        else if (match_gelu(n, &ge))
            st = rewrite_gelu(g, &ge);
        else if (match_softmax(n, &sm))
            st = rewrite_softmax(g, &sm);
        else
            continue;
        /* nodes before i may have gone too: scan again from the start */
        ++*count;
        i = (size_t)-1;
    }
    return st;
}
