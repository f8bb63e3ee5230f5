/* Constant folding: a node all of whose inputs are constants is evaluated once, at compile time,
 * and its outputs become constants (aglm_value_set_const); the node goes. Constant nodes become
 * constant values, and Shape/Size of values with static dims fold without any kernel.
 *
 * Other nodes are evaluated on the "cpu" backend when one is loaded (it is acquired per run, so
 * the pass requires nothing and follows a replaced backend); without it only Constant and
 * Shape/Size fold.
 *
 * Size does not stop folding, except for an expansion: an output over max_expand_bytes (default
 * 64 MiB) that is also bigger than the node's inputs together (ConstantOfShape, Expand or Tile to
 * hundreds of MiB, say) would cost more model memory than the node that makes it, so it stays a
 * node unless its value is needed at compile time (see needs_value). Anything else is computed
 * once here: leaving it would redo it on every run and hide it from the passes after this one. */
#include "fold.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_EXPAND_BYTES ((size_t)64 << 20)

/* Ops that a later stage must see as they are (QDQ pairs are what quantized backends fuse into
 * int8 kernels); ops whose result is not a function of their inputs the op schema flags
 * AGLM_OPF_NONDETERMINISTIC. */
static const char *const never_fold[] = {
    "QuantizeLinear",
    "DequantizeLinear",
    "DynamicQuantizeLinear",
    NULL,
};

typedef struct fold_run {
    fold_backend be; /* ops NULL when no backend is loaded */
    size_t max_expand_bytes;
    size_t folded;
} fold_run;

static int holds_graph(const aglm_node *n)
{
    for (size_t i = 0; i < aglm_node_num_attrs(n); i++) {
        aglm_attr_type k = aglm_attr_kind(aglm_node_attr_at(n, i));
        if (k == AGLM_ATTR_GRAPH || k == AGLM_ATTR_GRAPHS)
            return 1;
    }
    return 0;
}

/* A constant the model cannot override at run time (a graph input's default can be). */
static int is_fixed_const(const aglm_value *v)
{
    return aglm_value_const(v) && !aglm_value_is_graph_input(v);
}

/* 1 when n's op may be evaluated ahead of a run: a deterministic ai.onnx op without subgraphs. */
static int foldable_op(const aglm_node *n)
{
    if (aglm_node_domain(n)[0] != '\0' || holds_graph(n) || aglm_node_num_outputs(n) == 0 ||
        aglm_node_num_outputs(n) > 64)
        return 0;
    if (aglm_node_has_flags(n, AGLM_OPF_NONDETERMINISTIC))
        return 0;
    for (const char *const *p = never_fold; *p; p++)
        if (aglm_node_is(n, "", *p))
            return 0;
    return 1;
}

/* 1 when n may be evaluated now: a foldable op whose inputs are all fixed constants (and which
 * has at least one, unless it is a Constant). */
static int evaluable(const aglm_node *n)
{
    if (!foldable_op(n))
        return 0;
    size_t present = 0;
    for (size_t i = 0; i < aglm_node_num_inputs(n); i++) {
        const aglm_value *v = aglm_node_input(n, i);
        if (v && !is_fixed_const(v))
            return 0;
        present += v != NULL;
    }
    return present > 0 || aglm_node_is(n, "", "Constant");
}

/* Replaces n by the constants in res (one per output; absent outputs empty). */
static aglm_status apply(aglm_graph *g, aglm_node *n, aglm_tensor *res)
{
    size_t n_out = aglm_node_num_outputs(n);
    aglm_value *outs[64];
    for (size_t i = 0; i < n_out; i++)
        outs[i] = aglm_node_output(n, i);
    aglm_status st = aglm_graph_remove_node(g, n);
    for (size_t i = 0; i < n_out; i++) {
        if (st == AGLM_OK && outs[i])
            st = aglm_value_set_const(outs[i], &res[i]);
        aglm_tensor_free(&res[i]);
    }
    return st;
}

/* Inputs whose values passes and backends use at compile time: fold-batchnorm and fuse rewrite a
 * Conv or Gemm only when its weights (and BatchNormalization's statistics) are constants, and the
 * cpu backend pre-packs constant Conv and MatMul weights. Bit i: input i. */
static const struct {
    const char *op;
    unsigned inputs;
} value_inputs[] = {
    {"Conv", 0x6u},
    {"ConvTranspose", 0x6u},
    {"BatchNormalization", 0x1eu},
    {"Gemm", 0x6u},
    {"MatMul", 0x2u},
    {"InstanceNormalization", 0x6u},
    {"LayerNormalization", 0x6u},
    {"PRelu", 0x2u},
};

/* Bounds the walks below, whose graph is a DAG with shared paths; running out answers "no",
 * which at worst leaves an expansion to be computed per run. */
typedef struct walk {
    const aglm_node *from; /* the node being decided: its outputs count as constants */
    unsigned budget;
} walk;

/* 1 when n would fold once `from` has: a foldable op whose inputs are fixed constants or come
 * from nodes that would. */
static int computable(walk *w, const aglm_node *n, int depth)
{
    if (n == w->from)
        return 1;
    if (depth > 16 || w->budget == 0 || !foldable_op(n))
        return 0;
    w->budget--;
    for (size_t i = 0; i < aglm_node_num_inputs(n); i++) {
        const aglm_value *v = aglm_node_input(n, i);
        if (!v || is_fixed_const(v))
            continue;
        const aglm_node *p = aglm_value_producer(v);
        if (!p || !computable(w, p, depth + 1))
            return 0;
    }
    return 1;
}

/* 1 when v's value is needed ahead of a run: it is, or folds into, one of value_inputs. */
static int value_needed(walk *w, const aglm_value *v, int depth)
{
    for (size_t i = 0; i < aglm_value_num_uses(v); i++) {
        size_t slot = 0;
        const aglm_node *c = aglm_value_use(v, i, &slot);
        for (size_t k = 0; k < sizeof value_inputs / sizeof value_inputs[0]; k++)
            if (slot < 32 && (value_inputs[k].inputs >> slot & 1u) &&
                aglm_node_is(c, "", value_inputs[k].op))
                return 1;
        if (depth < 16 && w->budget && computable(w, c, 0))
            for (size_t o = 0; o < aglm_node_num_outputs(c); o++)
                if (aglm_node_output(c, o) && value_needed(w, aglm_node_output(c, o), depth + 1))
                    return 1;
    }
    return 0;
}

static int needs_value(const aglm_node *n)
{
    walk w = {.from = n, .budget = 4096};
    for (size_t o = 0; o < aglm_node_num_outputs(n); o++)
        if (aglm_node_output(n, o) && value_needed(&w, aglm_node_output(n, o), 0))
            return 1;
    return 0;
}

/* v's bytes as inference typed it; SIZE_MAX when unknown or too big to count. */
static size_t typed_bytes(const aglm_value *v)
{
    size_t bytes = aglm_dtype_size(aglm_value_dtype(v));
    if (!bytes || !aglm_value_is_static(v))
        return SIZE_MAX;
    for (int d = 0; d < aglm_value_rank(v); d++) {
        size_t dim = (size_t)aglm_value_dim(v, d).value;
        if (dim && bytes > SIZE_MAX / dim)
            return SIZE_MAX;
        bytes *= dim;
    }
    return bytes;
}

/* The most bytes an output of n may have and still fold (see the top of this file). */
static size_t fold_limit(const fold_run *r, const aglm_node *n)
{
    size_t in = 0;
    for (size_t i = 0; i < aglm_node_num_inputs(n); i++) {
        const aglm_value *v = aglm_node_input(n, i);
        size_t b = v ? aglm_tensor_nbytes(aglm_value_const(v)) : 0;
        in = b > SIZE_MAX - in ? SIZE_MAX : in + b;
    }
    size_t limit = in > r->max_expand_bytes ? in : r->max_expand_bytes, most = 0;
    for (size_t o = 0; o < aglm_node_num_outputs(n); o++) {
        const aglm_value *v = aglm_node_output(n, o);
        size_t b = v ? typed_bytes(v) : 0;
        most = b > most ? b : most;
    }
    /* The walk over the consumers only where the limit could bite. */
    if (most <= limit || !needs_value(n))
        return limit;
    return SIZE_MAX;
}

static aglm_status try_fold(fold_run *r, aglm_graph *g, aglm_node *n, int *folded)
{
    *folded = 0;
    aglm_tensor res[64];
    memset(res, 0, sizeof res);
    int done = 0;
    aglm_status st = fold_direct(n, &res[0], &done);
    if (st == AGLM_OK && !done && r->be.ops && evaluable(n) && !aglm_node_is(n, "", "Constant"))
        st = fold_eval(&r->be, n, fold_limit(r, n), res, &done);
    if (st == AGLM_OK && done) {
        st = apply(g, n, res);
        *folded = st == AGLM_OK;
    } else {
        for (size_t i = 0; i < aglm_node_num_outputs(n) && i < 64; i++)
            aglm_tensor_free(&res[i]);
    }
    return st;
}

static aglm_status fold_graph(fold_run *r, aglm_graph *g);

static aglm_status fold_subgraphs(fold_run *r, const aglm_node *n)
{
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_node_num_attrs(n) && st == AGLM_OK; i++) {
        const aglm_attr *a = aglm_node_attr_at(n, i);
        if (aglm_attr_kind(a) == AGLM_ATTR_GRAPH) {
            st = fold_graph(r, aglm_attr_graph(a));
        } else if (aglm_attr_kind(a) == AGLM_ATTR_GRAPHS) {
            size_t count = 0;
            aglm_graph *const *subs = aglm_attr_graphs(a, &count);
            for (size_t j = 0; j < count && st == AGLM_OK; j++)
                st = fold_graph(r, subs[j]);
        }
    }
    return st;
}

/* One sweep in graph order folds whole chains: a folded node's outputs are constants by the
 * time its consumers (later in topological order) are looked at. */
static aglm_status fold_graph(fold_run *r, aglm_graph *g)
{
    size_t before = r->folded;
    for (size_t i = 0; i < aglm_graph_num_nodes(g);) {
        aglm_node *n = aglm_graph_node(g, i);
        int folded = 0;
        aglm_status st = try_fold(r, g, n, &folded);
        if (st == AGLM_OK && !folded)
            st = fold_subgraphs(r, n);
        if (st != AGLM_OK)
            return aglm_error_wrap(st, "node '%s' (%s)", aglm_node_name(n), aglm_node_op(n));
        if (folded)
            r->folded++;
        else
            i++;
    }
    if (r->folded > before)
        aglm_graph_prune_values(g); /* inputs of folded nodes that nothing else reads */
    return AGLM_OK;
}

/* max_bytes is the option's older name, from when it bounded every computed tensor; it is read
 * as max_expand_bytes so existing configurations keep working. */
static aglm_status read_max_expand_bytes(const aglm_options *opts, size_t *out)
{
    *out = DEFAULT_MAX_EXPAND_BYTES;
    const char *key = "max_expand_bytes";
    const char *s = aglm_options_get(opts, key);
    if (!s && (s = aglm_options_get(opts, "max_bytes")))
        key = "max_bytes";
    if (!s)
        return AGLM_OK;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno == ERANGE ||
        (unsigned long long)(size_t)v != v)
        return aglm_error(AGLM_ERR_INVALID,
                          "fold-constants: option %s=%s: expected an integer >= 0 (bytes)", key, s);
    *out = (size_t)v;
    return AGLM_OK;
}

static aglm_status fold_init(const aglm_host *host, void **state)
{
    *state = (void *)host;
    return AGLM_OK;
}

static aglm_status fold_run_pass(void *state, aglm_graph *g, const aglm_options *opts, int *changed)
{
    const aglm_host *host = state;
    if (changed)
        *changed = 0;
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "fold-constants: no graph given");
    fold_run r = {.folded = 0};
    aglm_status st = read_max_expand_bytes(opts, &r.max_expand_bytes);
    if (st != AGLM_OK)
        return st;
    aglm_plugin_ref *ref =
        host && host->acquire ? host->acquire(host, "cpu", AGLM_KIND_BACKEND) : NULL;
    if (ref) {
        r.be.ops = host->ref_desc(ref)->ops;
        r.be.state = host->ref_state(ref);
    } else {
        aglm_clear_error();
        if (host)
            host->log(host, AGLM_LOG_DEBUG,
                      "no cpu backend loaded: folding Constant and Shape/Size only");
    }
    st = fold_graph(&r, g);
    if (ref)
        host->release(host, ref);
    if (r.folded) {
        if (changed)
            *changed = 1;
        if (host)
            host->log(host, AGLM_LOG_DEBUG, "folded %zu nodes", r.folded);
    }
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "fold-constants on graph '%s'",
                               aglm_graph_name(g) ? aglm_graph_name(g) : "?");
    return AGLM_OK;
}

static const aglm_pass_ops fold_ops = {
    .struct_size = sizeof(aglm_pass_ops),
    .run = fold_run_pass,
};

AGLM_DEFINE_PLUGIN(.name = "fold-constants", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary =
                       "evaluates nodes whose inputs are all constants, shape arithmetic included",
                   .init = fold_init, .ops = &fold_ops)
