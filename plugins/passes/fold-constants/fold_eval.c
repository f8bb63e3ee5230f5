/* Evaluates one node with constant inputs on a backend: the node is copied into a graph of its
 * own whose inputs are constants, that graph is compiled and run, and its outputs come back.
 * Reusing the backend means folding computes exactly what running the model would, with no
 * second set of kernels to keep in step. */
#include "fold.h"

#include <string.h>

/* Copies attribute a onto node n (nodes with subgraphs are never folded). */
static aglm_status copy_attr(aglm_node *n, const aglm_attr *a)
{
    const char *name = aglm_attr_name(a);
    size_t count = 0, len = 0;
    switch (aglm_attr_kind(a)) {
    case AGLM_ATTR_INT: return aglm_node_set_int(n, name, aglm_attr_i(a));
    case AGLM_ATTR_FLOAT: return aglm_node_set_float(n, name, aglm_attr_f(a));
    case AGLM_ATTR_STRING: {
        const char *s = aglm_attr_s(a, &len);
        return aglm_node_set_string(n, name, s, len);
    }
    case AGLM_ATTR_TENSOR: return aglm_node_set_tensor(n, name, aglm_attr_tensor(a));
    case AGLM_ATTR_INTS: {
        const int64_t *v = aglm_attr_ints(a, &count);
        return aglm_node_set_ints(n, name, v, count);
    }
    case AGLM_ATTR_FLOATS: {
        const float *v = aglm_attr_floats(a, &count);
        return aglm_node_set_floats(n, name, v, count);
    }
    case AGLM_ATTR_STRINGS: {
        const char *const *v = aglm_attr_strings(a, &count);
        return aglm_node_set_strings(n, name, v, count);
    }
    case AGLM_ATTR_TENSORS: {
        const aglm_tensor *v = aglm_attr_tensors(a, &count);
        return aglm_node_set_tensors(n, name, v, count);
    }
    default:
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "fold-constants: attribute '%s' of node '%s' holds a graph", name,
                          aglm_node_name(n));
    }
}

static const aglm_graph *root_of(const aglm_graph *g)
{
    while (aglm_graph_parent(g))
        g = aglm_graph_parent(g);
    return g;
}

/* The node alone in a new graph: constants in, the node's outputs out. */
static aglm_status one_node_graph(const aglm_node *n, aglm_graph **out)
{
    *out = NULL;
    const aglm_graph *root = root_of(aglm_node_graph(n));
    size_t n_in = aglm_node_num_inputs(n), n_out = aglm_node_num_outputs(n);
    aglm_value *ins[64], *outs[64];
    if (n_in > 64 || n_out > 64)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "fold-constants: node '%s' has too many inputs or outputs",
                          aglm_node_name(n));
    aglm_graph *g = aglm_graph_new("fold");
    if (!g)
        return AGLM_ERR_NOMEM;
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_opsets(root) && st == AGLM_OK; i++) {
        const char *d = aglm_graph_opset_domain(root, i);
        st = aglm_graph_set_opset(g, d, aglm_graph_opset(root, d));
    }
    for (size_t i = 0; i < n_in && st == AGLM_OK; i++) {
        aglm_value *v = aglm_node_input(n, i);
        ins[i] = v ? aglm_graph_add_initializer(g, NULL, aglm_value_const(v)) : NULL;
        if (v && !ins[i])
            st = AGLM_ERR_NOMEM;
    }
    for (size_t i = 0; i < n_out && st == AGLM_OK; i++) {
        aglm_value *v = aglm_node_output(n, i);
        outs[i] = v ? aglm_graph_new_value(g, NULL, AGLM_UNDEFINED, -1, NULL) : NULL;
        if (v && (!outs[i] || aglm_graph_add_output(g, outs[i]) != AGLM_OK))
            st = AGLM_ERR_NOMEM;
    }
    aglm_node *copy = NULL;
    if (st == AGLM_OK && !(copy = aglm_graph_add_node(g, aglm_node_op(n), aglm_node_domain(n),
                                                      aglm_node_name(n), n_in, ins, n_out, outs)))
        st = AGLM_ERR_INVALID;
    for (size_t i = 0; copy && i < aglm_node_num_attrs(n) && st == AGLM_OK; i++)
        st = copy_attr(copy, aglm_node_attr_at(n, i));
    if (st == AGLM_OK)
        st = aglm_infer_shapes(g);
    if (st != AGLM_OK) {
        aglm_graph_free(g);
        return st;
    }
    *out = g;
    return AGLM_OK;
}

/* 1 when every output's size is known and within limit, checked before anything is allocated. */
static int outputs_fit(const aglm_graph *g, size_t limit)
{
    for (size_t i = 0; i < aglm_graph_num_outputs(g); i++) {
        const aglm_value *v = aglm_graph_output(g, i);
        size_t bytes = aglm_dtype_size(aglm_value_dtype(v));
        if (!bytes || !aglm_value_is_static(v))
            return 0;
        for (int d = 0; d < aglm_value_rank(v); d++) {
            int64_t dim = aglm_value_dim(v, d).value;
            if (dim && bytes > limit / (size_t)dim)
                return 0;
            bytes *= (size_t)dim;
        }
        if (bytes > limit)
            return 0;
    }
    return 1;
}

aglm_status fold_eval(const fold_backend *be, const aglm_node *n, size_t limit, aglm_tensor *out,
                      int *done)
{
    *done = 0;
    aglm_graph *g;
    /* A node the backend or shape inference refuses is simply not folded: running the model
     * reports the problem where it belongs. */
    if (one_node_graph(n, &g) != AGLM_OK) {
        aglm_clear_error();
        return AGLM_OK;
    }
    aglm_status st = AGLM_OK;
    size_t n_res = aglm_graph_num_outputs(g);
    aglm_tensor res[64];
    memset(res, 0, sizeof res);
    aglm_exec *x = NULL;
    if (outputs_fit(g, limit) && be->ops->compile(be->state, g, NULL, &x) == AGLM_OK) {
        st = be->ops->run(be->state, x, 0, NULL, n_res, res);
        be->ops->release(be->state, x);
        if (st == AGLM_OK) {
            for (size_t i = 0, k = 0; i < aglm_node_num_outputs(n); i++)
                if (aglm_node_output(n, i))
                    out[i] = res[k++];
            *done = 1;
        }
    }
    if (!*done)
        aglm_clear_error();
    aglm_graph_free(g);
    return AGLM_OK;
}
