/* Constant folding: a node all of whose inputs are constants is evaluated once, at compile time,
 * and its outputs become constants (aglm_value_set_const); the node goes. Constant nodes become
 * constant values, and Shape/Size of values with static dims fold without any kernel.
 *
 * Other nodes are evaluated on the "cpu" backend when one is loaded (it is acquired per run, so
 * the pass requires nothing and follows a replaced backend); without it only Constant and
 * Shape/Size fold. Option max_bytes (default 1 MiB) bounds each computed tensor, so folding never
 * materialises a huge constant (an Expand of a scalar to an image, say). */
#include "fold.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BYTES (1u << 20)

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
    size_t max_bytes;
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

/* 1 when n may be evaluated now: a deterministic ai.onnx op without subgraphs, whose inputs are
 * all fixed constants (and which has at least one, unless it is a Constant). */
static int evaluable(const aglm_node *n)
{
    if (aglm_node_domain(n)[0] != '\0' || holds_graph(n) || aglm_node_num_outputs(n) == 0 ||
        aglm_node_num_outputs(n) > 64)
        return 0;
    if (aglm_node_has_flags(n, AGLM_OPF_NONDETERMINISTIC))
        return 0;
    for (const char *const *p = never_fold; *p; p++)
        if (aglm_node_is(n, "", *p))
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

static aglm_status try_fold(fold_run *r, aglm_graph *g, aglm_node *n, int *folded)
{
    *folded = 0;
    aglm_tensor res[64];
    memset(res, 0, sizeof res);
    int done = 0;
    aglm_status st = fold_direct(n, r->max_bytes, &res[0], &done);
    if (st == AGLM_OK && !done && r->be.ops && evaluable(n) && !aglm_node_is(n, "", "Constant"))
        st = fold_eval(&r->be, n, r->max_bytes, res, &done);
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

static aglm_status read_max_bytes(const aglm_options *opts, size_t *out)
{
    *out = DEFAULT_MAX_BYTES;
    const char *s = aglm_options_get(opts, "max_bytes");
    if (!s)
        return AGLM_OK;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || v < 0)
        return aglm_error(AGLM_ERR_INVALID,
                          "fold-constants: option max_bytes=%s: expected an integer >= 0", s);
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
    aglm_status st = read_max_bytes(opts, &r.max_bytes);
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
