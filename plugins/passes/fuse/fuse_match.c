/* The fuse pass's shared helpers and its epilogue matcher (see fuse_match.h). */
#include "fuse_match.h"

#include <math.h>
#include <string.h>

aglm_node *fuse_sole_user(const aglm_value *v)
{
    if (aglm_value_num_uses(v) != 1 || aglm_value_is_graph_output(v))
        return NULL;
    aglm_node *u = aglm_value_use(v, 0, NULL);
    return aglm_node_graph(u) == aglm_value_graph(v) ? u : NULL;
}

int fuse_same_type(const aglm_value *a, const aglm_value *b)
{
    if (aglm_value_rank(a) < 0 || aglm_value_dtype(a) != aglm_value_dtype(b) ||
        aglm_value_rank(a) != aglm_value_rank(b))
        return 0;
    for (int i = 0; i < aglm_value_rank(a); i++) {
        aglm_dim x = aglm_value_dim(a, i), y = aglm_value_dim(b, i);
        if (x.value >= 0 ? x.value != y.value : !x.sym || !y.sym || strcmp(x.sym, y.sym) != 0)
            return 0;
    }
    return 1;
}

const aglm_tensor *fuse_const_f32(const aglm_value *v)
{
    const aglm_tensor *t = aglm_value_const(v);
    aglm_node *p = aglm_value_producer(v);
    if (!t && p && aglm_node_is(p, "", "Constant")) {
        const aglm_attr *a = aglm_node_attr(p, "value");
        if (a && aglm_attr_kind(a) == AGLM_ATTR_TENSOR)
            t = aglm_attr_tensor(a);
    }
    return t && t->dtype == AGLM_F32 && t->data ? t : NULL;
}

int fuse_scalar(const aglm_value *v, float *out, int *rank)
{
    const aglm_tensor *t = fuse_const_f32(v);
    aglm_node *p = aglm_value_producer(v);
    const aglm_attr *a;
    if (!t && p && aglm_node_is(p, "", "Constant") &&
        (a = aglm_node_attr(p, "value_float")) != NULL) {
        *out = aglm_attr_f(a);
        if (rank)
            *rank = 0;
        return 1;
    }
    if (!t || aglm_tensor_numel(t) != 1)
        return 0;
    *out = ((const float *)t->data)[0];
    if (rank)
        *rank = t->rank;
    return 1;
}

/* A scalar f32 constant at input i of n, left in *out when the input is absent; 0 when it is
 * present but not a constant scalar. */
static int scalar_input(const aglm_node *n, size_t i, float *out)
{
    aglm_value *v = i < aglm_node_num_inputs(n) ? aglm_node_input(n, i) : NULL;
    return !v || fuse_scalar(v, out, NULL);
}

int64_t fuse_onnx_opset(const aglm_node *n)
{
    for (const aglm_graph *g = aglm_node_graph(n); g; g = aglm_graph_parent(g))
        if (aglm_graph_opset(g, "") > 0)
            return aglm_graph_opset(g, "");
    return 0;
}

int fuse_clip_bounds(const aglm_node *u, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    int64_t opset = fuse_onnx_opset(u);
    if (opset > 0 && opset < 11) {
        *lo = aglm_node_get_float(u, "min", *lo);
        *hi = aglm_node_get_float(u, "max", *hi);
        return 1;
    }
    return scalar_input(u, 1, lo) && scalar_input(u, 2, hi);
}

aglm_value *fuse_other_input(const aglm_node *n, const aglm_value *v)
{
    if (aglm_node_num_inputs(n) != 2)
        return NULL;
    aglm_value *a = aglm_node_input(n, 0), *b = aglm_node_input(n, 1);
    return a == v && b != v ? b : b == v && a != v ? a : NULL;
}

int fuse_absorb(fuse_epilogue *m, aglm_node *n)
{
    if (m->n_absorbed >= FUSE_MAX_ABSORBED)
        return 0;
    m->absorbed[m->n_absorbed++] = n;
    m->last = aglm_node_output(n, 0);
    return 1;
}

/* Adds the nodes of a multi-node match at once, or none when they do not all fit. */
static int absorb_all(fuse_epilogue *m, aglm_node *const *nodes, size_t count)
{
    if (m->n_absorbed + count > FUSE_MAX_ABSORBED)
        return 0;
    for (size_t i = 0; i < count; i++)
        fuse_absorb(m, nodes[i]);
    return 1;
}

/* HardSwish as paddle2onnx writes it: Div(Mul(v, Clip(Add(v, 3), 0, 6)), 6), v read by the Add
 * and the Mul only. */
static int match_paddle_hard_swish(fuse_epilogue *m, aglm_value *v, aglm_node *a, aglm_node *b)
{
    aglm_node *add = aglm_node_is(a, "", "Add") ? a : b, *mul = add == a ? b : a;
    float three, six, lo, hi;
    aglm_value *c = aglm_node_is(add, "", "Add") ? fuse_other_input(add, v) : NULL;
    if (!c || !aglm_node_is(mul, "", "Mul") || !fuse_scalar(c, &three, NULL) || three != 3.0f)
        return 0;
    aglm_node *clip = fuse_sole_user(aglm_node_output(add, 0));
    if (!clip || !aglm_node_is(clip, "", "Clip") ||
        aglm_node_input(clip, 0) != aglm_node_output(add, 0) || !fuse_clip_bounds(clip, &lo, &hi) ||
        lo != 0.0f || hi != 6.0f)
        return 0;
    if (fuse_sole_user(aglm_node_output(clip, 0)) != mul ||
        fuse_other_input(mul, v) != aglm_node_output(clip, 0))
        return 0;
    aglm_node *div = fuse_sole_user(aglm_node_output(mul, 0));
    if (!div || !aglm_node_is(div, "", "Div") ||
        aglm_node_input(div, 0) != aglm_node_output(mul, 0) || aglm_node_num_inputs(div) != 2 ||
        !fuse_scalar(aglm_node_input(div, 1), &six, NULL) || six != 6.0f)
        return 0;
    aglm_node *nodes[4] = {add, clip, mul, div};
    if (!absorb_all(m, nodes, 4))
        return 0;
    m->act = "HardSwish";
    return 1;
}

/* x * f(x), with f read by the Mul only: gate g reading v, mul the other user of v.
 *   f = HardSigmoid(x) with alpha 1/6 and beta 1/2: HardSwish;
 *   f = Sigmoid(x): Swish (SiLU), alpha 1;
 *   f = Sigmoid(x * k), k a constant scalar (paddle2onnx's swish): Swish, alpha k. */
static int match_gate(fuse_epilogue *m, aglm_value *v, aglm_node *g, aglm_node *mul)
{
    if (!aglm_node_is(mul, "", "Mul") || aglm_node_num_outputs(g) != 1)
        return 0;
    aglm_node *nodes[3] = {g, NULL, NULL};
    size_t n = 1;
    const char *act;
    float alpha = 1.0f;
    int rank;
    aglm_value *k = aglm_node_is(g, "", "Mul") ? fuse_other_input(g, v) : NULL;
    if (k) {
        aglm_node *s = fuse_sole_user(aglm_node_output(g, 0));
        if (!fuse_scalar(k, &alpha, &rank) || rank > aglm_value_rank(v) || aglm_value_rank(v) < 0 ||
            !s || !aglm_node_is(s, "", "Sigmoid") || aglm_node_num_outputs(s) != 1)
            return 0;
        nodes[n++] = s;
        act = "Swish";
    } else if (aglm_node_num_inputs(g) != 1) {
        return 0;
    } else if (aglm_node_is(g, "", "Sigmoid")) {
        act = "Swish";
    } else if (aglm_node_is(g, "", "HardSigmoid") &&
               fabsf(aglm_node_get_float(g, "alpha", 0.2f) - 1.0f / 6.0f) <= 1e-6f &&
               fabsf(aglm_node_get_float(g, "beta", 0.5f) - 0.5f) <= 1e-6f) {
        act = "HardSwish";
    } else {
        return 0;
    }
    aglm_value *h = aglm_node_output(nodes[n - 1], 0);
    if (fuse_other_input(mul, v) != h || fuse_sole_user(h) != mul)
        return 0;
    nodes[n++] = mul;
    if (!absorb_all(m, nodes, n))
        return 0;
    m->act = act;
    m->n_params = alpha != 1.0f;
    m->params[0] = alpha;
    return 1;
}

/* A Max or Min of v and a constant scalar that does not widen v, as the clamp it is:
 * Max(v, c) = Clip(v, c, inf), Min(v, c) = Clip(v, -inf, c); 0 when u is neither. A NaN scalar
 * is left alone: Max and Min propagate it, Clip would ignore it. */
static int scalar_clamp(const aglm_node *u, const aglm_value *v, float *lo, float *hi)
{
    int max = aglm_node_is(u, "", "Max");
    aglm_value *k = max || aglm_node_is(u, "", "Min") ? fuse_other_input(u, v) : NULL;
    float c;
    int rank;
    if (!k || aglm_node_num_outputs(u) != 1 || !fuse_scalar(k, &c, &rank) || isnan(c) ||
        aglm_value_rank(v) < 0 || rank > aglm_value_rank(v))
        return 0;
    *lo = max ? c : -INFINITY;
    *hi = max ? INFINITY : c;
    return 1;
}

/* The clamp u, reading v alone, applies: Relu [0, inf], Clip with constant bounds, Max or Min
 * with a scalar; 0 when it is none of them or its bounds are crossed or NaN. */
static int clamp_of(const aglm_node *u, const aglm_value *v, float *lo, float *hi)
{
    if (aglm_node_num_outputs(u) != 1)
        return 0;
    if (aglm_node_is(u, "", "Relu")) {
        *lo = 0.0f;
        *hi = INFINITY;
        return 1;
    }
    if (aglm_node_is(u, "", "Clip"))
        return aglm_node_input(u, 0) == v && fuse_clip_bounds(u, lo, hi) && *lo <= *hi;
    return scalar_clamp(u, v, lo, hi);
}

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* ReLU6 and its kin written as several clamps in a row (Relu then Min(., 6), Max(., 0) then
 * Min(., 6), Clip then Max, ...) after a Relu or Clip activation: each further clamp narrows the
 * bounds, since clamp(clamp(x, lo, hi), a, b) = clamp(x, clamp(lo, a, b), clamp(hi, a, b)) when
 * lo <= hi and a <= b. */
static void match_more_clamps(fuse_epilogue *m)
{
    float lo = 0.0f, hi = INFINITY, a, b;
    if (strcmp(m->act, "Clip") == 0) {
        lo = m->params[0];
        hi = m->params[1];
    } else if (strcmp(m->act, "Relu") != 0) {
        return;
    }
    aglm_node *u;
    while (lo <= hi && (u = fuse_sole_user(m->last)) != NULL && clamp_of(u, m->last, &a, &b) &&
           fuse_absorb(m, u)) {
        lo = clampf(lo, a, b);
        hi = clampf(hi, a, b);
        m->act = "Clip";
        m->params[0] = lo;
        m->params[1] = hi;
        m->n_params = 2;
    }
}

/* PRelu(v, slope) with a constant slope that varies along the anchor's channel axis at most
 * (any other dim of it 1, so that it broadcasts without widening v): one value is LeakyRelu with
 * that alpha, as is a slope whose values are all equal; otherwise PRelu with one slope per
 * channel. 0 when the slope is not such a constant. */
static int match_prelu(fuse_epilogue *m, aglm_node *u, const aglm_value *v)
{
    const aglm_tensor *t =
        aglm_node_num_inputs(u) == 2 ? fuse_const_f32(aglm_node_input(u, 1)) : NULL;
    int r = aglm_value_rank(v);
    if (!t || r < 0 || t->rank > r || aglm_tensor_numel(t) < 1)
        return 0;
    int channel = m->channel_axis < 0 ? r + m->channel_axis : m->channel_axis;
    for (int i = 0; i < t->rank; i++) {
        int axis = r - t->rank + i;
        if (t->dims[i] != 1 && (m->channel_axis == 0 || axis != channel ||
                                aglm_value_dim(v, axis).value != t->dims[i]))
            return 0;
    }
    const float *s = t->data;
    size_t n = (size_t)aglm_tensor_numel(t), same = 1;
    while (same < n && s[same] == s[0])
        same++;
    if (!fuse_absorb(m, u))
        return 0;
    if (same == n) {
        m->act = "LeakyRelu";
        m->params[0] = s[0];
        m->n_params = 1;
    } else {
        m->act = "PRelu";
        m->slope = s;
        m->n_slope = n;
    }
    return 1;
}

/* Matches an activation reading v alone (or the written-out pairs reading v); 1 on a match. */
static int match_activation(fuse_epilogue *m, aglm_value *v)
{
    if (aglm_value_num_uses(v) == 2 && !aglm_value_is_graph_output(v)) {
        aglm_node *a = aglm_value_use(v, 0, NULL), *b = aglm_value_use(v, 1, NULL);
        if (aglm_node_graph(a) != aglm_value_graph(v) ||
            aglm_node_graph(b) != aglm_value_graph(v) || a == b)
            return 0;
        return match_paddle_hard_swish(m, v, a, b) || match_gate(m, v, a, b) ||
               match_gate(m, v, b, a);
    }
    aglm_node *u = fuse_sole_user(v);
    float p[2];
    if (u && scalar_clamp(u, v, &p[0], &p[1])) {
        if (!fuse_absorb(m, u))
            return 0;
        m->act = "Clip";
        m->n_params = 2;
        memcpy(m->params, p, sizeof p);
        return 1;
    }
    if (!u || aglm_node_num_outputs(u) != 1 || aglm_node_input(u, 0) != v)
        return 0;
    if (aglm_node_is(u, "", "PRelu"))
        return match_prelu(m, u, v);
    const char *act;
    size_t n = 0;
    if (aglm_node_is(u, "", "Relu") || aglm_node_is(u, "", "Sigmoid") ||
        aglm_node_is(u, "", "Tanh") || aglm_node_is(u, "", "HardSwish")) {
        act = aglm_node_op(u);
    } else if (aglm_node_is(u, "", "HardSigmoid")) {
        act = "HardSigmoid";
        p[n++] = aglm_node_get_float(u, "alpha", 0.2f);
        p[n++] = aglm_node_get_float(u, "beta", 0.5f);
    } else if (aglm_node_is(u, "", "LeakyRelu")) {
        act = "LeakyRelu";
        p[n++] = aglm_node_get_float(u, "alpha", 0.01f);
    } else if (aglm_node_is(u, "", "Swish")) {
        act = "Swish";
        p[n++] = aglm_node_get_float(u, "alpha", 1.0f);
    } else if (aglm_node_is(u, "", "Gelu") || aglm_node_is(u, AGLM_DOMAIN, AGLM_OP_GELU)) {
        const char *approx = aglm_node_get_string(u, "approximate", "none");
        if (strcmp(approx, "none") != 0 && strcmp(approx, "tanh") != 0)
            return 0;
        act = "Gelu";
        p[n++] = strcmp(approx, "tanh") == 0 ? 1.0f : 0.0f;
    } else if (aglm_node_is(u, "", "Clip")) {
        if (!fuse_clip_bounds(u, &p[0], &p[1]))
            return 0;
        act = "Clip";
        n = 2;
    } else {
        return 0;
    }
    if (!fuse_absorb(m, u))
        return 0;
    m->act = act;
    m->n_params = n;
    memcpy(m->params, p, n * sizeof p[0]);
    return 1;
}

/* Matches a residual Add reading v alone; 1 on a match. */
static int match_residual(fuse_epilogue *m, aglm_value *v)
{
    aglm_node *u = fuse_sole_user(v);
    if (!u || !aglm_node_is(u, "", "Add") || aglm_node_num_inputs(u) != 2)
        return 0;
    aglm_value *a = aglm_node_input(u, 0), *b = aglm_node_input(u, 1);
    aglm_value *r = a == v ? b : a;
    if (r == v || !fuse_same_type(r, v) || !fuse_same_type(aglm_node_output(u, 0), v) ||
        !fuse_absorb(m, u))
        return 0;
    m->residual = r;
    return 1;
}

/* Matches Mul (op "Mul") or Add of v alone by a constant scalar that does not widen v; *c gets
 * the scalar. */
static int match_scalar_op(fuse_epilogue *m, aglm_value *v, const char *op, float *c)
{
    aglm_node *u = fuse_sole_user(v);
    int rank;
    aglm_value *k = u && aglm_node_is(u, "", op) ? fuse_other_input(u, v) : NULL;
    if (!k || aglm_node_num_outputs(u) != 1 || !fuse_scalar(k, c, &rank) ||
        aglm_value_rank(v) < 0 || rank > aglm_value_rank(v))
        return 0;
    return fuse_absorb(m, u);
}

void fuse_epilogue_init(fuse_epilogue *m, aglm_node *anchor)
{
    memset(m, 0, sizeof *m);
    m->anchor = anchor;
    m->last = aglm_node_output(anchor, 0);
    m->act = "";
    m->post_scale = 1.0f;
}

void fuse_epilogue_extend(fuse_epilogue *m)
{
    if (match_residual(m, m->last))
        m->residual_first = 1;
    if (!match_activation(m, m->last))
        return;
    match_more_clamps(m);
    /* after an activation: y * post_scale + post_shift from a Mul and/or an Add by scalars */
    int mul = match_scalar_op(m, m->last, "Mul", &m->post_scale);
    int add = match_scalar_op(m, m->last, "Add", &m->post_shift);
    m->has_post = mul || add;
    if (!m->residual)
        match_residual(m, m->last);
}

aglm_status fuse_epilogue_rewrite(aglm_graph *g, const fuse_epilogue *m, const char *op)
{
    aglm_node *c = m->anchor;
    aglm_value *y = aglm_node_output(c, 0);
    aglm_status st = AGLM_OK;
    /* the checks are done: what follows fails only when out of memory */
    size_t want = m->residual ? 4 : m->bias ? 3 : 0;
    for (size_t i = aglm_node_num_inputs(c); i < want && st == AGLM_OK; i++)
        st = aglm_node_set_input(c, i, NULL);
    if (st == AGLM_OK && m->bias)
        st = aglm_node_set_input(c, 2, m->bias);
    if (st == AGLM_OK && m->residual)
        st = aglm_node_set_input(c, 3, m->residual);
    if (st == AGLM_OK && m->act[0])
        st = aglm_node_set_string(c, AGLM_ATTR_ACTIVATION, m->act, strlen(m->act));
    if (st == AGLM_OK && m->slope)
        st = aglm_node_set_floats(c, AGLM_ATTR_ACTIVATION_PARAMS, m->slope, m->n_slope);
    else if (st == AGLM_OK && m->n_params)
        st = aglm_node_set_floats(c, AGLM_ATTR_ACTIVATION_PARAMS, m->params, m->n_params);
    if (st == AGLM_OK && m->residual)
        st = aglm_node_set_int(c, AGLM_ATTR_RESIDUAL_BEFORE_ACTIVATION, m->residual_first);
    if (st == AGLM_OK && m->has_post && m->post_scale != 1.0f)
        st = aglm_node_set_float(c, AGLM_ATTR_POST_SCALE, m->post_scale);
    if (st == AGLM_OK && m->has_post && m->post_shift != 0.0f)
        st = aglm_node_set_float(c, AGLM_ATTR_POST_SHIFT, m->post_shift);
    if (st == AGLM_OK)
        st = aglm_node_set_op(c, op, AGLM_DOMAIN);
    for (size_t i = m->n_absorbed; i-- > 0 && st == AGLM_OK;)
        st = aglm_graph_remove_node(g, m->absorbed[i]);
    if (st == AGLM_OK)
        st = aglm_graph_replace_uses(g, m->last, y);
    return st;
}

aglm_status fuse_import_aglm(aglm_graph *g)
{
    return aglm_graph_opset(g, AGLM_DOMAIN) == 0
               ? aglm_graph_set_opset(g, AGLM_DOMAIN, AGLM_DOMAIN_VERSION)
               : AGLM_OK;
}
