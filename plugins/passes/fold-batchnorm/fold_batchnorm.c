/* fold-batchnorm: a BatchNormalization in inference form whose input comes from a Conv, or a
 * Gemm, with constant f32 weights, and is that node's only use, is folded into it:
 *
 *   s = scale / sqrt(var + epsilon)      (per channel c)
 *   W'[c, ...] = W[c, ...] * s[c]        (Conv; Gemm scales column c of op(B))
 *   b'[c] = (b[c] - mean[c]) * s[c] + B[c]
 *
 * A multiplication or addition by a constant scalar after such a Conv or Gemm is the same affine
 * map with one scale or shift for every channel (paddle's LearnableAffineBlock, x * s + b, in
 * the PP-OCRv4 detector) and is folded the same way.
 *
 * The folded weights and bias are new constants: the old ones may be shared by other nodes, and
 * are pruned when nothing reads them any more. Arithmetic is in double so the folded constants
 * are the correctly rounded f32 of the exact result. Constant nodes left unread are dce's to
 * remove. */
#include "aglm/aglm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The BN's per-channel constants, as doubles. */
typedef struct bn_consts {
    int64_t channels;
    double *scale, *shift; /* y = x * scale + shift */
} bn_consts;

/* The f32 constant behind input i of n, an initialiser or a Constant node's output (the ONNX
 * frontend keeps those as nodes), or NULL. */
static const aglm_tensor *const_f32(const aglm_node *n, size_t i)
{
    aglm_value *v = i < aglm_node_num_inputs(n) ? aglm_node_input(n, i) : NULL;
    const aglm_tensor *t = v ? aglm_value_const(v) : NULL;
    aglm_node *p = v && !t ? aglm_value_producer(v) : NULL;
    if (p && aglm_node_is(p, "", "Constant")) {
        const aglm_attr *a = aglm_node_attr(p, "value");
        t = a && aglm_attr_kind(a) == AGLM_ATTR_TENSOR ? aglm_attr_tensor(a) : NULL;
    }
    return t && t->dtype == AGLM_F32 && t->data ? t : NULL;
}

static void bn_free(bn_consts *b)
{
    free(b->scale);
    free(b->shift);
}

/* Reads an inference-form BN (training_mode 0, constant parameters of `channels` values, no
 * other output read); 0 when it is not one. */
static int read_bn(const aglm_node *bn, bn_consts *out, int *nomem)
{
    if (aglm_node_get_int(bn, "training_mode", 0) != 0 || aglm_node_num_inputs(bn) != 5)
        return 0;
    for (size_t i = 1; i < aglm_node_num_outputs(bn); i++) {
        aglm_value *o = aglm_node_output(bn, i);
        if (o && (aglm_value_num_uses(o) > 0 || aglm_value_is_graph_output(o)))
            return 0;
    }
    const aglm_tensor *p[4];
    for (size_t i = 0; i < 4; i++)
        if (!(p[i] = const_f32(bn, i + 1)) || aglm_tensor_numel(p[i]) != aglm_tensor_numel(p[0]) ||
            p[i]->rank != 1)
            return 0;
    int64_t c = aglm_tensor_numel(p[0]);
    double eps = aglm_node_get_float(bn, "epsilon", 1e-5f);
    out->channels = c;
    out->scale = malloc((size_t)c * sizeof(double));
    out->shift = malloc((size_t)c * sizeof(double));
    if (!out->scale || !out->shift) {
        bn_free(out);
        *nomem = 1;
        return 0;
    }
    const float *scale = p[0]->data, *bias = p[1]->data, *mean = p[2]->data, *var = p[3]->data;
    for (int64_t i = 0; i < c; i++) {
        out->scale[i] = scale[i] / sqrt((double)var[i] + eps);
        out->shift[i] = bias[i] - mean[i] * out->scale[i];
    }
    return 1;
}

/* Adds a new f32 constant of the given shape named after `base`; NULL with an error set. */
static aglm_value *add_const(aglm_graph *g, const char *base, const char *suffix, aglm_tensor *t)
{
    char name[512];
    aglm_value *v = NULL;
    for (int i = 0; i < 1000 && !v; i++) {
        if (i == 0)
            snprintf(name, sizeof name, "%s%s", base, suffix);
        else
            snprintf(name, sizeof name, "%s%s_%d", base, suffix, i);
        if (!aglm_graph_lookup_value(g, name))
            v = aglm_graph_add_initializer(g, name, t);
    }
    if (!v)
        v = aglm_graph_add_initializer(g, NULL, t);
    aglm_tensor_free(t);
    return v;
}

/* Gives producer p (Conv or Gemm) new weights and bias absorbing the BN; *folded 0 when p does
 * not fit. */
static aglm_status fold_into(aglm_graph *g, aglm_node *p, const bn_consts *bn, int *folded)
{
    int gemm = aglm_node_is(p, "", "Gemm");
    const aglm_tensor *w = const_f32(p, 1);
    aglm_value *bv = aglm_node_num_inputs(p) > 2 ? aglm_node_input(p, 2) : NULL;
    const aglm_tensor *b = bv ? const_f32(p, 2) : NULL;
    *folded = 0;
    if (!w || (bv && !b))
        return AGLM_OK;
    int trans_b = gemm && aglm_node_get_int(p, "transB", 0) != 0;
    double beta = gemm ? aglm_node_get_float(p, "beta", 1.0f) : 1.0;
    int64_t c = bn->channels;
    if (gemm) {
        if (w->rank != 2 || w->dims[trans_b ? 0 : 1] != c)
            return AGLM_OK;
        if (b && aglm_tensor_numel(b) != 1 &&
            !(aglm_tensor_numel(b) == c && b->dims[b->rank - 1] == c))
            return AGLM_OK; /* a bias with rows would need a per-row fold */
    } else if (w->rank < 3 || w->dims[0] != c || (b && aglm_tensor_numel(b) != c)) {
        return AGLM_OK;
    }
    aglm_tensor nw, nb;
    aglm_status st = aglm_tensor_alloc(&nw, AGLM_F32, w->rank, w->dims);
    if (st != AGLM_OK)
        return st;
    if ((st = aglm_tensor_alloc(&nb, AGLM_F32, 1, &c)) != AGLM_OK) {
        aglm_tensor_free(&nw);
        return st;
    }
    const float *wd = w->data;
    float *nwd = nw.data, *nbd = nb.data;
    int64_t n = aglm_tensor_numel(w);
    for (int64_t i = 0; i < n; i++) {
        /* the channel of element i: Conv's dim 0; Gemm's row of B^T or column of B */
        int64_t ch = gemm ? (trans_b ? i / w->dims[1] : i % w->dims[1]) : i / (n / c);
        nwd[i] = (float)(wd[i] * bn->scale[ch]);
    }
    for (int64_t i = 0; i < c; i++) {
        double bias = b ? ((const float *)b->data)[aglm_tensor_numel(b) == 1 ? 0 : i] * beta : 0.0;
        nbd[i] = (float)(bias * bn->scale[i] + bn->shift[i]);
    }
    const char *base = aglm_node_name(p);
    aglm_value *wv = add_const(g, base, "_folded_W", &nw);
    aglm_value *nbv = wv ? add_const(g, base, "_folded_B", &nb) : NULL;
    if (!wv)
        aglm_tensor_free(&nb);
    if (!nbv)
        return aglm_error_wrap(AGLM_ERR_NOMEM,
                               "fold-batchnorm: adding the folded constants of node '%s'", base);
    st = aglm_node_set_input(p, 2, nbv); /* appends the bias when p had none */
    if (st == AGLM_OK)
        st = aglm_node_set_input(p, 1, wv);
    if (st == AGLM_OK && gemm)
        st = aglm_node_set_float(p, "beta", 1.0f);
    *folded = st == AGLM_OK;
    return st;
}

/* The Conv or Gemm producing x, when x is its only output and the node reading x its only use. */
static aglm_node *foldable_producer(aglm_graph *g, aglm_value *x)
{
    aglm_node *p = x ? aglm_value_producer(x) : NULL;
    if (!p || !(aglm_node_is(p, "", "Conv") || aglm_node_is(p, "", "Gemm")) ||
        aglm_node_graph(p) != g || aglm_value_num_uses(x) != 1 || aglm_value_is_graph_output(x) ||
        aglm_node_num_outputs(p) != 1)
        return NULL;
    if (aglm_node_is(p, "", "Gemm") && aglm_value_rank(x) != 2)
        return NULL;
    return p;
}

/* Output channels of a Conv or Gemm with constant weights; 0 when unknown. */
static int64_t channels_of(const aglm_node *p)
{
    const aglm_tensor *w = const_f32(p, 1);
    if (!w || w->rank < 2)
        return 0;
    if (aglm_node_is(p, "", "Gemm"))
        return w->dims[aglm_node_get_int(p, "transB", 0) ? 0 : 1];
    return w->dims[0];
}

/* Reads Mul or Add n of x by a constant f32 scalar (of a rank that does not widen x) as the
 * per-channel affine map of x's producer p; 0 when n is not one. */
static int read_scalar_affine(const aglm_node *n, aglm_value *x, const aglm_node *p, bn_consts *out,
                              int *nomem)
{
    if (aglm_node_num_inputs(n) != 2 || aglm_node_num_outputs(n) != 1)
        return 0;
    size_t ci = aglm_node_input(n, 0) == x ? 1 : 0;
    const aglm_tensor *t = const_f32(n, ci);
    int64_t c = channels_of(p);
    if (aglm_node_input(n, 1 - ci) != x || !t || aglm_tensor_numel(t) != 1 || c <= 0 ||
        aglm_value_rank(x) < 0 || t->rank > aglm_value_rank(x))
        return 0;
    int mul = aglm_node_is(n, "", "Mul");
    double v = ((const float *)t->data)[0];
    out->channels = c;
    out->scale = malloc((size_t)c * sizeof(double));
    out->shift = malloc((size_t)c * sizeof(double));
    if (!out->scale || !out->shift) {
        bn_free(out);
        *nomem = 1;
        return 0;
    }
    for (int64_t i = 0; i < c; i++) {
        out->scale[i] = mul ? v : 1.0;
        out->shift[i] = mul ? 0.0 : v;
    }
    return 1;
}

/* Folds BatchNormalization, or Mul or Add by a scalar, node n into the node before it. */
static aglm_status fold_one(aglm_graph *g, aglm_node *n, int *folded)
{
    *folded = 0;
    int bn = aglm_node_is(n, "", "BatchNormalization");
    if (!bn && !aglm_node_is(n, "", "Mul") && !aglm_node_is(n, "", "Add"))
        return AGLM_OK;
    aglm_value *x = NULL;
    aglm_node *p = NULL;
    for (size_t i = 0; i < (bn ? 1 : 2) && !p && i < aglm_node_num_inputs(n); i++)
        p = foldable_producer(g, x = aglm_node_input(n, i));
    if (!p)
        return AGLM_OK;
    bn_consts c = {0};
    int nomem = 0;
    if (!(bn ? read_bn(n, &c, &nomem) : read_scalar_affine(n, x, p, &c, &nomem)))
        return nomem ? aglm_error(AGLM_ERR_NOMEM, "fold-batchnorm: out of memory at node '%s'",
                                  aglm_node_name(n))
                     : AGLM_OK;
    aglm_status st = fold_into(g, p, &c, folded);
    bn_free(&c);
    if (st != AGLM_OK || !*folded)
        return st;
    aglm_value *y = aglm_node_output(n, 0);
    if ((st = aglm_graph_remove_node(g, n)) == AGLM_OK)
        st = aglm_graph_replace_uses(g, y, x);
    return st;
}

static aglm_status fold_graph(aglm_graph *g, size_t *count)
{
    for (size_t i = 0; i < aglm_graph_num_nodes(g);) {
        aglm_node *n = aglm_graph_node(g, i);
        int folded = 0;
        aglm_status st = fold_one(g, n, &folded);
        if (st != AGLM_OK)
            return st;
        if (folded)
            (*count)++;
        else
            i++;
    }
    if (*count)
        aglm_graph_prune_values(g);
    return AGLM_OK;
}

static aglm_status fold_run(void *state, aglm_graph *g, const aglm_options *opts, int *changed)
{
    (void)state;
    (void)opts;
    if (changed)
        *changed = 0;
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "fold-batchnorm: no graph given");
    size_t count = 0;
    aglm_status st = fold_graph(g, &count);
    if (changed)
        *changed = count > 0;
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "fold-batchnorm on graph '%s'",
                               aglm_graph_name(g) ? aglm_graph_name(g) : "?");
    return AGLM_OK;
}

static const aglm_pass_ops fold_ops = {
    .struct_size = sizeof(aglm_pass_ops),
    .run = fold_run,
};

AGLM_DEFINE_PLUGIN(.name = "fold-batchnorm", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "folds inference BatchNormalization into the Conv or Gemm before it",
                   .ops = &fold_ops)
