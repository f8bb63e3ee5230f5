/* fuse: a Conv and the element-wise ops after it become one aglm.FusedConv
 * (docs/extension-ops.md): the Conv's bias stays its bias; then, each taken only when the value
 * so far has that op as its only use,
 *
 *   an Add of a tensor known to have the output's shape (static dims or the same symbols),
 *   an activation: Relu, Clip (constant min/max), Sigmoid, HardSigmoid, HardSwish, Tanh,
 *     LeakyRelu, Gelu; or HardSwish written out: x * HardSigmoid(x) with alpha 1/6 and beta 1/2,
 *     or x * Clip(x + 3, 0, 6) / 6 as paddle2onnx writes it (x read by both branches only),
 *   after an activation, a Mul by a constant scalar and/or an Add of one (paddle's
 *     LearnableAffineBlock after an activation, in the PP-OCRv4 detector),
 *   an Add of a residual when none was taken before the activation.
 *
 * The fused node is the Conv rewritten in place, so it keeps its output value; the last absorbed
 * node's output is redirected to it (taking that value's name when it is a graph output). A
 * residual may be computed after the Conv in graph order, so the graph is re-sorted after
 * fusing; no cycle can appear, since the residual cannot depend on a value whose only use is the
 * Add. */
#include "aglm/aglm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_onnx(const aglm_node *n, const char *op)
{
    const char *d = aglm_node_domain(n);
    return strcmp(aglm_node_op(n), op) == 0 && (!d || !d[0] || strcmp(d, "ai.onnx") == 0);
}

/* The only node reading v (in v's own graph), or NULL; v must not be a graph output. */
static aglm_node *sole_user(const aglm_value *v)
{
    if (aglm_value_num_uses(v) != 1 || aglm_value_is_graph_output(v))
        return NULL;
    aglm_node *u = aglm_value_use(v, 0, NULL);
    return aglm_node_graph(u) == aglm_value_graph(v) ? u : NULL;
}

/* 1 when a and b are known to have the same type: each dim the same static value or the same
 * symbol (so no broadcasting can hide between them). */
static int same_type(const aglm_value *a, const aglm_value *b)
{
    if (aglm_value_rank(a) < 0 || aglm_value_dtype(a) != aglm_value_dtype(b) || aglm_value_rank(a) != aglm_value_rank(b))
        return 0;
    for (int i = 0; i < aglm_value_rank(a); i++) {
        aglm_dim x = aglm_value_dim(a, i), y = aglm_value_dim(b, i);
        if (x.value >= 0 ? x.value != y.value : !x.sym || !y.sym || strcmp(x.sym, y.sym) != 0)
            return 0;
    }
    return 1;
}

/* What one match absorbs. */
typedef struct match {
    aglm_node *conv;
    aglm_node *absorbed[8];
    size_t n_absorbed;
    aglm_value *residual;
    int residual_first;
    const char *act;
    float params[2];
    size_t n_params;
    float post_scale, post_shift;
    int has_post;
    aglm_value *last; /* the value the fused node stands for */
} match;

/* The one f32 value v holds as an initialiser or as a Constant node's output; 0 when it is not
 * such a constant. *rank gets the constant's rank when rank is not NULL. */
static int scalar_rank_of(const aglm_value *v, float *out, int *rank)
{
    const aglm_tensor *t = aglm_value_const(v);
    aglm_node *p = aglm_value_producer(v);
    if (!t && p && is_onnx(p, "Constant")) {
        const aglm_attr *a = aglm_node_attr(p, "value");
        if (a && aglm_attr_kind(a) == AGLM_ATTR_TENSOR)
            t = aglm_attr_tensor(a);
        else if ((a = aglm_node_attr(p, "value_float")) != NULL) {
            *out = aglm_attr_f(a);
            if (rank)
                *rank = 0;
            return 1;
        }
    }
    if (!t || t->dtype != AGLM_F32 || aglm_tensor_numel(t) != 1 || !t->data)
        return 0;
    *out = ((const float *)t->data)[0];
    if (rank)
        *rank = t->rank;
    return 1;
}

static int scalar_of(const aglm_value *v, float *out)
{
    return scalar_rank_of(v, out, NULL);
}

/* A scalar f32 constant at input i of n, left in *out when the input is absent; 0 when it is
 * present but not a constant scalar. */
static int scalar_input(const aglm_node *n, size_t i, float *out)
{
    aglm_value *v = i < aglm_node_num_inputs(n) ? aglm_node_input(n, i) : NULL;
    return !v || scalar_of(v, out);
}

/* The ai.onnx opset u's graph imports (or its nearest ancestor); 0 when none does. */
static int64_t onnx_opset(const aglm_node *u)
{
    for (const aglm_graph *g = aglm_node_graph(u); g; g = aglm_graph_parent(g))
        if (aglm_graph_opset(g, "") > 0)
            return aglm_graph_opset(g, "");
    return 0;
}

/* The bounds of a Clip: attributes before opset 11, inputs since (attributes are then not part
 * of the op, and the kernel ignores them); 0 when not constant. */
static int clip_bounds(const aglm_node *u, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    int64_t opset = onnx_opset(u);
    if (opset > 0 && opset < 11) {
        *lo = aglm_node_get_float(u, "min", *lo);
        *hi = aglm_node_get_float(u, "max", *hi);
        return 1;
    }
    return scalar_input(u, 1, lo) && scalar_input(u, 2, hi);
}

/* The other input of a two-input node n whose one input is v; NULL when n does not read v so. */
static aglm_value *other_input(const aglm_node *n, const aglm_value *v)
{
    if (aglm_node_num_inputs(n) != 2)
        return NULL;
    aglm_value *a = aglm_node_input(n, 0), *b = aglm_node_input(n, 1);
    return a == v && b != v ? b : b == v && a != v ? a : NULL;
}

/* HardSwish as paddle2onnx writes it: Div(Mul(v, Clip(Add(v, 3), 0, 6)), 6), v read by the Add
 * and the Mul only. */
static int match_paddle_hard_swish(match *m, aglm_value *v, aglm_node *a, aglm_node *b)
{
    aglm_node *add = is_onnx(a, "Add") ? a : b, *mul = add == a ? b : a;
    float three, six, lo, hi;
    aglm_value *c = is_onnx(add, "Add") ? other_input(add, v) : NULL;
    if (!c || !is_onnx(mul, "Mul") || !scalar_of(c, &three) || three != 3.0f)
        return 0;
    aglm_node *clip = sole_user(aglm_node_output(add, 0));
    if (!clip || !is_onnx(clip, "Clip") || aglm_node_input(clip, 0) != aglm_node_output(add, 0) ||
        !clip_bounds(clip, &lo, &hi) || lo != 0.0f || hi != 6.0f)
        return 0;
    if (sole_user(aglm_node_output(clip, 0)) != mul || other_input(mul, v) != aglm_node_output(clip, 0))
        return 0;
    aglm_node *div = sole_user(aglm_node_output(mul, 0));
    if (!div || !is_onnx(div, "Div") || aglm_node_input(div, 0) != aglm_node_output(mul, 0) ||
        aglm_node_num_inputs(div) != 2 || !scalar_of(aglm_node_input(div, 1), &six) || six != 6.0f)
        return 0;
    m->act = "HardSwish";
    m->absorbed[m->n_absorbed++] = add;
    m->absorbed[m->n_absorbed++] = clip;
    m->absorbed[m->n_absorbed++] = mul;
    m->absorbed[m->n_absorbed++] = div;
    m->last = aglm_node_output(div, 0);
    return 1;
}

/* Matches an activation reading v alone (or the HardSwish pair reading v); 1 on a match. */
static int match_activation(match *m, aglm_value *v)
{
    if (aglm_value_num_uses(v) == 2 && !aglm_value_is_graph_output(v)) {
        aglm_node *a = aglm_value_use(v, 0, NULL), *b = aglm_value_use(v, 1, NULL);
        if (aglm_node_graph(a) != aglm_value_graph(v) || aglm_node_graph(b) != aglm_value_graph(v) || a == b)
            return 0;
        if (match_paddle_hard_swish(m, v, a, b))
            return 1;
        aglm_node *hs = is_onnx(a, "HardSigmoid") ? a : is_onnx(b, "HardSigmoid") ? b : NULL;
        aglm_node *mul = hs == a ? b : a;
        if (!hs || !is_onnx(mul, "Mul") || aglm_node_num_inputs(mul) != 2)
            return 0;
        aglm_value *h = aglm_node_output(hs, 0);
        aglm_value *other = aglm_node_input(mul, 0) == v ? aglm_node_input(mul, 1) : aglm_node_input(mul, 0);
        if (other != h || sole_user(h) != mul || fabsf(aglm_node_get_float(hs, "alpha", 0.2f) - 1.0f / 6.0f) > 1e-6f ||
            fabsf(aglm_node_get_float(hs, "beta", 0.5f) - 0.5f) > 1e-6f)
            return 0;
        m->act = "HardSwish";
        m->absorbed[m->n_absorbed++] = hs;
        m->absorbed[m->n_absorbed++] = mul;
        m->last = aglm_node_output(mul, 0);
        return 1;
    }
    aglm_node *u = sole_user(v);
    if (!u || aglm_node_num_outputs(u) != 1 || aglm_node_input(u, 0) != v)
        return 0;
    m->n_params = 0;
    if (is_onnx(u, "Relu") || is_onnx(u, "Sigmoid") || is_onnx(u, "Tanh") || is_onnx(u, "HardSwish")) {
        m->act = aglm_node_op(u);
    } else if (is_onnx(u, "HardSigmoid")) {
        m->act = "HardSigmoid";
        m->params[0] = aglm_node_get_float(u, "alpha", 0.2f);
        m->params[1] = aglm_node_get_float(u, "beta", 0.5f);
        m->n_params = 2;
    } else if (is_onnx(u, "LeakyRelu")) {
        m->act = "LeakyRelu";
        m->params[0] = aglm_node_get_float(u, "alpha", 0.01f);
        m->n_params = 1;
    } else if (is_onnx(u, "Gelu")) {
        const char *approx = aglm_node_get_string(u, "approximate", "none");
        if (strcmp(approx, "none") != 0 && strcmp(approx, "tanh") != 0)
            return 0;
        m->act = "Gelu";
        m->params[0] = strcmp(approx, "tanh") == 0 ? 1.0f : 0.0f;
        m->n_params = 1;
    } else if (is_onnx(u, "Clip")) {
        float lo, hi;
        if (!clip_bounds(u, &lo, &hi))
            return 0;
        m->act = "Clip";
        m->params[0] = lo;
        m->params[1] = hi;
        m->n_params = 2;
    } else {
        return 0;
    }
    m->absorbed[m->n_absorbed++] = u;
    m->last = aglm_node_output(u, 0);
    return 1;
}

/* Matches a residual Add reading v alone; 1 on a match. */
static int match_residual(match *m, aglm_value *v)
{
    aglm_node *u = sole_user(v);
    if (!u || !is_onnx(u, "Add") || aglm_node_num_inputs(u) != 2)
        return 0;
    aglm_value *a = aglm_node_input(u, 0), *b = aglm_node_input(u, 1);
    aglm_value *r = a == v ? b : a;
    if (r == v || !same_type(r, v) || !same_type(aglm_node_output(u, 0), v))
        return 0;
    m->residual = r;
    m->absorbed[m->n_absorbed++] = u;
    m->last = aglm_node_output(u, 0);
    return 1;
}

/* Matches Mul (op "Mul") or Add of v alone by a constant scalar that does not widen v; *c gets
 * the scalar. */
static int match_scalar_op(match *m, aglm_value *v, const char *op, float *c)
{
    aglm_node *u = sole_user(v);
    int rank;
    aglm_value *k = u && is_onnx(u, op) ? other_input(u, v) : NULL;
    if (!k || aglm_node_num_outputs(u) != 1 || !scalar_rank_of(k, c, &rank) || aglm_value_rank(v) < 0 ||
        rank > aglm_value_rank(v))
        return 0;
    m->absorbed[m->n_absorbed++] = u;
    m->last = aglm_node_output(u, 0);
    return 1;
}

/* After an activation: y * post_scale + post_shift from a Mul and/or an Add by scalars. */
static void match_post_affine(match *m)
{
    m->post_scale = 1.0f;
    m->post_shift = 0.0f;
    int mul = match_scalar_op(m, m->last, "Mul", &m->post_scale);
    int add = match_scalar_op(m, m->last, "Add", &m->post_shift);
    m->has_post = mul || add;
}

static int match_conv(aglm_node *conv, match *m)
{
    memset(m, 0, sizeof *m);
    if (!is_onnx(conv, "Conv") || aglm_node_num_outputs(conv) != 1 || aglm_node_num_inputs(conv) < 2)
        return 0;
    aglm_value *y = aglm_node_output(conv, 0);
    if (aglm_value_dtype(y) != AGLM_F32)
        return 0;
    m->conv = conv;
    m->last = y;
    m->act = "";
    if (match_residual(m, y))
        m->residual_first = 1;
    int act = match_activation(m, m->last);
    if (act)
        match_post_affine(m);
    if (act && !m->residual)
        match_residual(m, m->last);
    return m->n_absorbed > 0;
}

static aglm_status rewrite(aglm_graph *g, const match *m)
{
    aglm_node *c = m->conv;
    aglm_value *y = aglm_node_output(c, 0);
    aglm_status st = AGLM_OK;
    /* the checks are done: what follows fails only when out of memory */
    for (size_t i = aglm_node_num_inputs(c); i < 3 && m->residual && st == AGLM_OK; i++)
        st = aglm_node_set_input(c, i, NULL);
    if (st == AGLM_OK && m->residual)
        st = aglm_node_set_input(c, 3, m->residual);
    if (st == AGLM_OK && m->act[0])
        st = aglm_node_set_string(c, "activation", m->act, strlen(m->act));
    if (st == AGLM_OK && m->n_params)
        st = aglm_node_set_floats(c, "activation_params", m->params, m->n_params);
    if (st == AGLM_OK && m->residual)
        st = aglm_node_set_int(c, "residual_before_activation", m->residual_first);
    if (st == AGLM_OK && m->has_post && m->post_scale != 1.0f)
        st = aglm_node_set_float(c, "post_scale", m->post_scale);
    if (st == AGLM_OK && m->has_post && m->post_shift != 0.0f)
        st = aglm_node_set_float(c, "post_shift", m->post_shift);
    if (st == AGLM_OK)
        st = aglm_node_set_op(c, "FusedConv", "aglm");
    for (size_t i = m->n_absorbed; i-- > 0 && st == AGLM_OK;)
        st = aglm_graph_remove_node(g, m->absorbed[i]);
    if (st == AGLM_OK)
        st = aglm_graph_replace_uses(g, m->last, y);
    return st;
}

static aglm_status fuse_run(void *state, aglm_graph *g, const aglm_options *opts, int *changed)
{
    (void)state;
    (void)opts;
    if (changed)
        *changed = 0;
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "fuse: no graph given");
    size_t fused = 0;
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_nodes(g) && st == AGLM_OK; i++) {
        match m;
        if (!match_conv(aglm_graph_node(g, i), &m))
            continue;
        if (fused == 0 && aglm_graph_opset(g, "aglm") == 0)
            st = aglm_graph_set_opset(g, "aglm", 1);
        if (st == AGLM_OK && (st = rewrite(g, &m)) == AGLM_OK)
            fused++;
    }
    if (st == AGLM_OK && fused) {
        aglm_graph_prune_values(g);
        st = aglm_graph_toposort(g);
    }
    if (changed)
        *changed = fused > 0;
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "fuse on graph '%s'", aglm_graph_name(g) ? aglm_graph_name(g) : "?");
    return AGLM_OK;
}

static const aglm_pass_ops fuse_ops = {
    .struct_size = sizeof(aglm_pass_ops),
    .run = fuse_run,
};

AGLM_DEFINE_PLUGIN(.name = "fuse", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "fuses Conv with its bias, residual Add and activation into aglm.FusedConv",
                   .ops = &fuse_ops)
