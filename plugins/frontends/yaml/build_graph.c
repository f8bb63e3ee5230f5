/* The schema -> graph builder: inputs, initialisers, nodes (in order, each input looked up by
 * name), outputs; then the verifier, shape inference, and a check of declared output types. */
#include "yaml_frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_OPSET 17

static const char *const model_keys[] = {"name",    "opset",        "opsets", "metadata", "inputs",
                                         "outputs", "initializers", "nodes",  NULL};
static const char *const subgraph_keys[] = {"name",         "inputs", "outputs",
                                            "initializers", "nodes",  NULL};
static const char *const value_keys[] = {"name", "dtype", "shape", NULL};
static const char *const init_keys[] = {"name", "dtype", "shape", "data", "fill", "npy", NULL};
static const char *const node_keys[] = {"op", "name", "domain", "inputs", "outputs", "attrs", NULL};

/* A list-valued section (absent is empty). */
static aglm_status section(ydoc *d, const yaml_node_t *m, const char *key, yaml_node_t **out)
{
    *out = ydoc_get(d, m, key);
    if (!*out || ydoc_is_null(*out)) {
        *out = NULL;
        return AGLM_OK;
    }
    return ydoc_expect_seq(d, *out, key);
}

static aglm_status entry_name(ydoc *d, const yaml_node_t *m, const char *what, const char **name)
{
    yaml_node_t *n = ydoc_get(d, m, "name");
    if (!n)
        return ydoc_fail(d, m, AGLM_ERR_PARSE, "%s has no name", what);
    aglm_status st = ydoc_text(d, n, what, name);
    if (st == AGLM_OK && !**name)
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s: the name is empty", what);
    return st;
}

/* Value names are unique across a graph and the graphs enclosing it (SSA). */
static aglm_status check_new_name(ydoc *d, aglm_graph *g, const yaml_node_t *at, const char *what,
                                  const char *name)
{
    if (aglm_graph_lookup_value(g, name))
        return ydoc_fail(d, at, AGLM_ERR_EXISTS, "%s '%s' is already defined", what, name);
    return AGLM_OK;
}

static aglm_status build_inputs(yml_ctx *c, aglm_graph *g, const yaml_node_t *list)
{
    ydoc *d = c->doc;
    for (size_t i = 0; i < ydoc_seq_len(list); i++) {
        yaml_node_t *m = ydoc_seq_item(d, list, i);
        const char *name;
        aglm_status st = ydoc_check_map(d, m, "an input", value_keys);
        if (st == AGLM_OK)
            st = entry_name(d, m, "an input", &name);
        if (st != AGLM_OK)
            return st;
        char what[160];
        snprintf(what, sizeof what, "input '%s'", name);
        yaml_node_t *dtype_n = ydoc_get(d, m, "dtype"), *shape_n = ydoc_get(d, m, "shape");
        if (!dtype_n)
            return ydoc_fail(d, m, AGLM_ERR_PARSE, "%s: dtype is missing", what);
        aglm_dtype dt;
        int rank = -1;
        aglm_dim dims[AGLM_MAX_RANK];
        if ((st = yml_read_dtype(c, dtype_n, what, &dt)) != AGLM_OK)
            return st;
        if (shape_n && (st = yml_read_dims(c, shape_n, what, &rank, dims)) != AGLM_OK)
            return st;
        if ((st = check_new_name(d, g, ydoc_get(d, m, "name"), "input", name)) != AGLM_OK)
            return st;
        aglm_value *v = aglm_graph_new_value(g, name, dt, rank, dims);
        if (!v)
            return ydoc_wrap(d, m, AGLM_ERR_INVALID);
        if ((st = aglm_graph_add_input(g, v)) != AGLM_OK)
            return ydoc_wrap(d, m, st);
    }
    return AGLM_OK;
}

static aglm_status build_initializers(yml_ctx *c, aglm_graph *g, const yaml_node_t *list)
{
    ydoc *d = c->doc;
    for (size_t i = 0; i < ydoc_seq_len(list); i++) {
        yaml_node_t *m = ydoc_seq_item(d, list, i);
        const char *name;
        aglm_status st = ydoc_check_map(d, m, "an initializer", init_keys);
        if (st == AGLM_OK)
            st = entry_name(d, m, "an initializer", &name);
        if (st == AGLM_OK)
            st = check_new_name(d, g, ydoc_get(d, m, "name"), "initializer", name);
        if (st != AGLM_OK)
            return st;
        char what[160];
        snprintf(what, sizeof what, "initializer '%s'", name);
        aglm_tensor t;
        if ((st = yml_read_tensor(c, m, what, &t)) != AGLM_OK)
            return st;
        aglm_value *v = aglm_graph_add_initializer(g, name, &t);
        aglm_tensor_free(&t);
        if (!v)
            return ydoc_wrap(d, m, AGLM_ERR_INVALID);
    }
    return AGLM_OK;
}

/* Reads a node's input names and looks each up; "" is an absent optional input. */
static aglm_status node_inputs(yml_ctx *c, aglm_graph *g, const yaml_node_t *list, const char *who,
                               aglm_value **vals)
{
    ydoc *d = c->doc;
    for (size_t i = 0; i < ydoc_seq_len(list); i++) {
        yaml_node_t *item = ydoc_seq_item(d, list, i);
        const char *name;
        char what[300];
        snprintf(what, sizeof what, "%s: input %zu", who, i);
        aglm_status st = ydoc_text(d, item, what, &name);
        if (st != AGLM_OK)
            return st;
        vals[i] = NULL;
        if (!*name)
            continue;
        vals[i] = aglm_graph_lookup_value(g, name);
        if (!vals[i])
            return ydoc_fail(d, item, AGLM_ERR_NOT_FOUND, "%s: input '%s' is not defined", who,
                             name);
    }
    return AGLM_OK;
}

/* Creates a node's output values; "" gets a fresh name (an optional output nobody reads). */
static aglm_status node_outputs(yml_ctx *c, aglm_graph *g, const yaml_node_t *list, const char *who,
                                aglm_value **vals)
{
    ydoc *d = c->doc;
    for (size_t i = 0; i < ydoc_seq_len(list); i++) {
        yaml_node_t *item = ydoc_seq_item(d, list, i);
        const char *name;
        char what[300];
        snprintf(what, sizeof what, "%s: output %zu", who, i);
        aglm_status st = ydoc_text(d, item, what, &name);
        if (st != AGLM_OK)
            return st;
        if (*name && aglm_graph_lookup_value(g, name))
            return ydoc_fail(d, item, AGLM_ERR_EXISTS, "%s: output '%s' is already defined", who,
                             name);
        vals[i] = aglm_graph_new_value(g, *name ? name : NULL, AGLM_UNDEFINED, -1, NULL);
        if (!vals[i])
            return ydoc_wrap(d, item, AGLM_ERR_INVALID);
    }
    return AGLM_OK;
}

static aglm_status build_node(yml_ctx *c, aglm_graph *g, const yaml_node_t *m, size_t index)
{
    ydoc *d = c->doc;
    char label[64];
    snprintf(label, sizeof label, "node #%zu", index);
    aglm_status st = ydoc_check_map(d, m, label, node_keys);
    if (st != AGLM_OK)
        return st;

    yaml_node_t *op_n = ydoc_get(d, m, "op"), *name_n = ydoc_get(d, m, "name");
    yaml_node_t *domain_n = ydoc_get(d, m, "domain"), *attrs_n = ydoc_get(d, m, "attrs");
    const char *op, *name = NULL, *domain = "";
    if (!op_n)
        return ydoc_fail(d, m, AGLM_ERR_PARSE, "%s has no op", label);
    if ((st = ydoc_text(d, op_n, label, &op)) != AGLM_OK)
        return st;
    if (name_n && (st = ydoc_text(d, name_n, label, &name)) != AGLM_OK)
        return st;
    if (domain_n && (st = ydoc_text(d, domain_n, label, &domain)) != AGLM_OK)
        return st;
    if (strcmp(domain, "ai.onnx") == 0)
        domain = "";

    char who[256];
    if (name && *name)
        snprintf(who, sizeof who, "node '%s'", name);
    else
        snprintf(who, sizeof who, "%s", label);
    /* Extension ops of the aglm domain are created by passes and may have no rule yet. */
    if (strcmp(domain, "aglm") != 0 && !aglm_infer_has_rule(op, domain)) {
        if (*domain)
            return ydoc_fail(d, op_n, AGLM_ERR_UNSUPPORTED, "%s: unknown op '%s' in domain '%s'",
                             who, op, domain);
        return ydoc_fail(d, op_n, AGLM_ERR_UNSUPPORTED, "%s: unknown op '%s'", who, op);
    }
    snprintf(who + strlen(who), sizeof who - strlen(who), " (%s)", op);

    yaml_node_t *ins_n = ydoc_get(d, m, "inputs"), *outs_n = ydoc_get(d, m, "outputs");
    if (ins_n && !ydoc_is_seq(ins_n))
        return ydoc_fail(d, ins_n, AGLM_ERR_PARSE, "%s: inputs must be a list, not %s", who,
                         ydoc_kind_name(ins_n));
    if (!outs_n)
        return ydoc_fail(d, m, AGLM_ERR_PARSE, "%s has no outputs", who);
    if (!ydoc_is_seq(outs_n))
        return ydoc_fail(d, outs_n, AGLM_ERR_PARSE, "%s: outputs must be a list, not %s", who,
                         ydoc_kind_name(outs_n));
    size_t n_in = ydoc_seq_len(ins_n), n_out = ydoc_seq_len(outs_n);
    if (n_out == 0)
        return ydoc_fail(d, outs_n, AGLM_ERR_PARSE, "%s has no outputs", who);

    aglm_value **vals = calloc(n_in + n_out, sizeof *vals);
    if (!vals)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    if ((st = node_inputs(c, g, ins_n, who, vals)) == AGLM_OK)
        st = node_outputs(c, g, outs_n, who, vals + n_in);
    aglm_node *node = NULL;
    if (st == AGLM_OK) {
        node = aglm_graph_add_node(g, op, domain, name, n_in, vals, n_out, vals + n_in);
        if (!node)
            st = ydoc_wrap(d, m, aglm_error_wrap(AGLM_ERR_INVALID, "%s", who));
    }
    free(vals);
    if (st != AGLM_OK)
        return st;
    if (*domain && aglm_graph_opset(c->top, domain) == 0 &&
        (st = aglm_graph_set_opset(c->top, domain, 1)) != AGLM_OK)
        return ydoc_wrap(d, m, st);
    if (attrs_n && !ydoc_is_null(attrs_n))
        return yml_set_attrs(c, node, attrs_n, who);
    return AGLM_OK;
}

/* A graph output: a value of this graph or, for a subgraph, of an enclosing one. */
static aglm_status find_output(yml_ctx *c, aglm_graph *g, const yaml_node_t *m, aglm_value **out)
{
    ydoc *d = c->doc;
    const char *name;
    aglm_status st = ydoc_check_map(d, m, "an output", value_keys);
    if (st == AGLM_OK)
        st = entry_name(d, m, "an output", &name);
    if (st != AGLM_OK)
        return st;
    *out = aglm_graph_lookup_value(g, name);
    if (!*out)
        return ydoc_fail(
            d, ydoc_get(d, m, "name"), AGLM_ERR_NOT_FOUND,
            "output '%s' is not defined (no input, initializer or node output has that name)",
            name);
    return AGLM_OK;
}

static aglm_status declared_type(yml_ctx *c, const yaml_node_t *m, const char *what, aglm_dtype *dt,
                                 int *rank, aglm_dim *dims)
{
    ydoc *d = c->doc;
    yaml_node_t *dtype_n = ydoc_get(d, m, "dtype"), *shape_n = ydoc_get(d, m, "shape");
    aglm_status st;
    *dt = AGLM_UNDEFINED;
    *rank = -1;
    if (dtype_n && (st = yml_read_dtype(c, dtype_n, what, dt)) != AGLM_OK)
        return st;
    if (shape_n && (st = yml_read_dims(c, shape_n, what, rank, dims)) != AGLM_OK)
        return st;
    return AGLM_OK;
}

static aglm_status build_outputs(yml_ctx *c, aglm_graph *g, const yaml_node_t *list, int hint_types)
{
    ydoc *d = c->doc;
    for (size_t i = 0; i < ydoc_seq_len(list); i++) {
        yaml_node_t *m = ydoc_seq_item(d, list, i);
        aglm_value *v;
        aglm_status st = find_output(c, g, m, &v);
        if (st != AGLM_OK)
            return st;
        /* In a subgraph, a declared type stands in for inference the enclosing op may not do. */
        if (hint_types && aglm_value_graph(v) == g && aglm_value_producer(v) &&
            aglm_value_dtype(v) == AGLM_UNDEFINED) {
            aglm_dtype dt;
            int rank;
            aglm_dim dims[AGLM_MAX_RANK];
            if ((st = declared_type(c, m, "output", &dt, &rank, dims)) != AGLM_OK)
                return st;
            if ((dt != AGLM_UNDEFINED || rank >= 0) &&
                (st = aglm_value_set_type(v, dt, rank, dims)) != AGLM_OK)
                return ydoc_wrap(d, m, st);
        }
        if ((st = aglm_graph_add_output(g, v)) != AGLM_OK)
            return ydoc_wrap(d, m, st);
    }
    return AGLM_OK;
}

/* inputs, initializers, nodes, outputs: the body shared by models and subgraphs. */
static aglm_status build_body(yml_ctx *c, aglm_graph *g, const yaml_node_t *m, int top)
{
    ydoc *d = c->doc;
    yaml_node_t *inputs, *inits, *nodes, *outputs;
    aglm_status st;
    if ((st = section(d, m, "inputs", &inputs)) != AGLM_OK ||
        (st = section(d, m, "initializers", &inits)) != AGLM_OK ||
        (st = section(d, m, "nodes", &nodes)) != AGLM_OK ||
        (st = section(d, m, "outputs", &outputs)) != AGLM_OK)
        return st;
    if (!outputs || ydoc_seq_len(outputs) == 0)
        return ydoc_fail(d, outputs ? outputs : m, AGLM_ERR_PARSE, "%s has no outputs",
                         top ? "the model" : "a subgraph");
    if ((st = build_inputs(c, g, inputs)) != AGLM_OK ||
        (st = build_initializers(c, g, inits)) != AGLM_OK)
        return st;
    for (size_t i = 0; i < ydoc_seq_len(nodes); i++)
        if ((st = build_node(c, g, ydoc_seq_item(d, nodes, i), i)) != AGLM_OK)
            return st;
    return build_outputs(c, g, outputs, !top);
}

aglm_status yml_build_subgraph(yml_ctx *c, aglm_graph *parent, const yaml_node_t *m,
                               const char *name, aglm_graph **out)
{
    ydoc *d = c->doc;
    *out = NULL;
    if (c->depth >= YML_MAX_DEPTH)
        return ydoc_fail(d, m, AGLM_ERR_PARSE, "subgraphs nest deeper than %d", YML_MAX_DEPTH);
    aglm_status st = ydoc_check_map(d, m, "a graph", subgraph_keys);
    if (st != AGLM_OK)
        return st;
    yaml_node_t *name_n = ydoc_get(d, m, "name");
    if (name_n && (st = ydoc_text(d, name_n, "a graph name", &name)) != AGLM_OK)
        return st;
    aglm_graph *g = aglm_graph_new_subgraph(parent, name);
    if (!g)
        return ydoc_wrap(d, m, AGLM_ERR_NOMEM);
    c->depth++;
    st = build_body(c, g, m, 0);
    c->depth--;
    if (st != AGLM_OK) {
        aglm_graph_free(g);
        return st;
    }
    *out = g;
    return AGLM_OK;
}

static aglm_status read_opset(yml_ctx *c, const yaml_node_t *n, const char *domain)
{
    int64_t v;
    aglm_status st = ydoc_int(c->doc, n, "an opset version", &v);
    if (st != AGLM_OK)
        return st;
    if (v < 1)
        return ydoc_fail(c->doc, n, AGLM_ERR_PARSE, "opset version %lld is not >= 1", (long long)v);
    if (strcmp(domain, "ai.onnx") == 0)
        domain = "";
    if ((st = aglm_graph_set_opset(c->top, domain, v)) != AGLM_OK)
        return ydoc_wrap(c->doc, n, st);
    return AGLM_OK;
}

static aglm_status read_header(yml_ctx *c, const yaml_node_t *root)
{
    ydoc *d = c->doc;
    yaml_node_t *opset = ydoc_get(d, root, "opset"), *opsets = ydoc_get(d, root, "opsets");
    yaml_node_t *meta = ydoc_get(d, root, "metadata");
    aglm_status st;
    if (opset && opsets)
        return ydoc_fail(d, opsets, AGLM_ERR_PARSE, "give either opset or opsets, not both");
    if (opsets) {
        if (!ydoc_is_map(opsets))
            return ydoc_fail(d, opsets, AGLM_ERR_PARSE,
                             "opsets must be a mapping of domain to version, not %s",
                             ydoc_kind_name(opsets));
        for (size_t i = 0; i < ydoc_map_len(opsets); i++) {
            yaml_node_t *k, *v;
            const char *domain = "";
            ydoc_map_pair(d, opsets, i, &k, &v);
            /* `"": 17` and `~: 17` both name ai.onnx. */
            if (!ydoc_is_null(k) && (st = ydoc_text(d, k, "an opset domain", &domain)) != AGLM_OK)
                return st;
            if ((st = read_opset(c, v, domain)) != AGLM_OK)
                return st;
        }
    }
    if (aglm_graph_opset(c->top, "") == 0) {
        if (opset)
            st = read_opset(c, opset, "");
        else
            st = aglm_graph_set_opset(c->top, "", DEFAULT_OPSET);
        if (st != AGLM_OK)
            return st;
    }
    if (meta) {
        if (!ydoc_is_map(meta))
            return ydoc_fail(d, meta, AGLM_ERR_PARSE, "metadata must be a mapping, not %s",
                             ydoc_kind_name(meta));
        for (size_t i = 0; i < ydoc_map_len(meta); i++) {
            yaml_node_t *k, *v;
            const char *key, *value;
            ydoc_map_pair(d, meta, i, &k, &v);
            if ((st = ydoc_text(d, k, "a metadata key", &key)) != AGLM_OK ||
                (st = ydoc_text(d, v, "a metadata value", &value)) != AGLM_OK)
                return st;
            if ((st = aglm_graph_set_meta(c->top, key, value)) != AGLM_OK)
                return ydoc_wrap(d, k, st);
        }
    }
    return AGLM_OK;
}

static void type_text(aglm_dtype dt, int rank, const aglm_dim *dims, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "%s", aglm_dtype_name(dt));
    if (rank < 0 || used >= n)
        return;
    for (int i = 0; i < rank && used < n; i++) {
        const char *sep = i ? "," : "[";
        if (dims[i].value >= 0)
            used += (size_t)snprintf(buf + used, n - used, "%s%lld", sep, (long long)dims[i].value);
        else
            used += (size_t)snprintf(buf + used, n - used, "%s%s", sep,
                                     dims[i].sym ? dims[i].sym : "?");
    }
    if (used < n)
        snprintf(buf + used, n - used, rank ? "]" : "[]");
}

/* A declared output type must agree with the inferred one; what it adds (a dtype or dims that
 * inference left unknown) refines the value. */
static aglm_status check_declared_output(yml_ctx *c, aglm_value *v, const yaml_node_t *m)
{
    ydoc *d = c->doc;
    char what[160];
    snprintf(what, sizeof what, "output '%s'", aglm_value_name(v));
    aglm_dtype want_dt;
    int want_rank;
    aglm_dim want[AGLM_MAX_RANK];
    aglm_status st = declared_type(c, m, what, &want_dt, &want_rank, want);
    if (st != AGLM_OK)
        return st;
    aglm_dtype dt = aglm_value_dtype(v);
    int rank = aglm_value_rank(v);
    aglm_dim dims[AGLM_MAX_RANK];
    for (int i = 0; i < rank; i++)
        dims[i] = aglm_value_dim(v, i);

    int clash = want_dt != AGLM_UNDEFINED && dt != AGLM_UNDEFINED && want_dt != dt;
    clash |= want_rank >= 0 && rank >= 0 && want_rank != rank;
    for (int i = 0; !clash && want_rank >= 0 && i < rank; i++)
        clash = want[i].value >= 0 && dims[i].value >= 0 && want[i].value != dims[i].value;
    if (clash) {
        char a[128], b[128];
        type_text(want_dt != AGLM_UNDEFINED ? want_dt : dt, want_rank, want, a, sizeof a);
        aglm_value_type_str(v, b, sizeof b);
        return ydoc_fail(d, m, AGLM_ERR_SHAPE, "%s is declared %s but the model computes %s", what,
                         a, b);
    }
    if (want_dt == AGLM_UNDEFINED && want_rank < 0)
        return AGLM_OK;
    if (dt == AGLM_UNDEFINED)
        dt = want_dt;
    if (rank < 0) {
        rank = want_rank;
        memcpy(dims, want, sizeof(aglm_dim) * (size_t)(rank > 0 ? rank : 0));
    } else if (want_rank >= 0) {
        for (int i = 0; i < rank; i++)
            if (dims[i].value < 0 && (want[i].value >= 0 || (!dims[i].sym && want[i].sym)))
                dims[i] = want[i];
    }
    if ((st = aglm_value_set_type(v, dt, rank, dims)) != AGLM_OK)
        return ydoc_wrap(d, m, st);
    return AGLM_OK;
}

/* Inference names the node but not where it is in the file: infer node by node, in order, until
 * one fails, and put that node's line and column in front of its message. */
static aglm_status locate_infer_error(yml_ctx *c, aglm_graph *g, const yaml_node_t *root,
                                      aglm_status st)
{
    ydoc *d = c->doc;
    char *first = strdup(aglm_last_error());
    if (!first)
        return ydoc_wrap(d, NULL, st);
    yaml_node_t *nodes = ydoc_get(d, root, "nodes");
    size_t n = aglm_graph_num_nodes(g);
    for (size_t i = 0; i < n && i < ydoc_seq_len(nodes); i++) {
        aglm_status node_st = aglm_infer_node(aglm_graph_node(g, i));
        if (node_st != AGLM_OK) {
            free(first);
            return ydoc_wrap(d, ydoc_seq_item(d, nodes, i), node_st);
        }
    }
    st = ydoc_fail(d, NULL, st, "%s", first);
    free(first);
    return st;
}

static aglm_status finish(yml_ctx *c, aglm_graph *g, const yaml_node_t *root)
{
    ydoc *d = c->doc;
    aglm_status st = aglm_graph_verify(g);
    if (st != AGLM_OK)
        return ydoc_wrap(d, NULL, st);
    if ((st = aglm_infer_shapes(g)) != AGLM_OK)
        return locate_infer_error(c, g, root, st);
    yaml_node_t *outputs = ydoc_get(d, root, "outputs");
    for (size_t i = 0; i < ydoc_seq_len(outputs); i++)
        if ((st = check_declared_output(c, aglm_graph_output(g, i),
                                        ydoc_seq_item(d, outputs, i))) != AGLM_OK)
            return st;
    return AGLM_OK;
}

aglm_status yml_build_model(ydoc *d, const char *dir, const char *default_name, aglm_graph **out)
{
    *out = NULL;
    yaml_node_t *root = ydoc_root(d);
    aglm_status st = ydoc_check_map(d, root, "the model", model_keys);
    if (st != AGLM_OK)
        return st;
    const char *name = default_name;
    yaml_node_t *name_n = ydoc_get(d, root, "name");
    if (name_n && (st = ydoc_text(d, name_n, "the model name", &name)) != AGLM_OK)
        return st;
    aglm_graph *g = aglm_graph_new(name);
    if (!g)
        return ydoc_wrap(d, NULL, AGLM_ERR_NOMEM);
    yml_ctx c = {.doc = d, .dir = dir, .top = g, .depth = 0};
    if ((st = read_header(&c, root)) == AGLM_OK && (st = build_body(&c, g, root, 1)) == AGLM_OK)
        st = finish(&c, g, root);
    if (st != AGLM_OK) {
        aglm_graph_free(g);
        return st;
    }
    *out = g;
    return AGLM_OK;
}
