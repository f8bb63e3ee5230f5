/* Run-time inputs against a graph's declared inputs, and specialising a graph to them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "infer_internal.h"

/* A symbolic dim bound to a value by the first input dim that named it. */
typedef struct binding {
    const char *sym;
    int64_t value;
    size_t input;
    int dim;
} binding;

typedef struct bindings {
    binding *b;
    size_t n;
} bindings;

static const char *graph_label(const aglm_graph *g)
{
    const char *name = aglm_graph_name(g);
    return name && name[0] ? name : "main";
}

static char *tensor_type_str(const aglm_tensor *t, char *buf, size_t n)
{
    char shape[200];
    if (t->rank < 0 || t->rank > AGLM_MAX_RANK)
        snprintf(buf, n, "%s[rank %d]", aglm_dtype_name(t->dtype), (int)t->rank);
    else
        snprintf(buf, n, "%s%s", aglm_dtype_name(t->dtype),
                 aglm_shape_str(t->rank, t->dims, shape, sizeof shape));
    return buf;
}

static binding *find_binding(bindings *bs, const char *sym)
{
    for (size_t i = 0; i < bs->n; i++)
        if (strcmp(bs->b[i].sym, sym) == 0)
            return &bs->b[i];
    return NULL;
}

static aglm_status check_one(const aglm_graph *g, size_t i, const aglm_tensor *t, bindings *bs)
{
    aglm_value *v = aglm_graph_input(g, i);
    const char *name = aglm_value_name(v);
    char want[256], got[256];
    aglm_value_type_str(v, want, sizeof want);
    tensor_type_str(t, got, sizeof got);
    if (t->rank < 0 || t->rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_INVALID, "input '%s': rank %d is not in [0, %d]", name,
                          (int)t->rank, AGLM_MAX_RANK);
    for (int d = 0; d < t->rank; d++)
        if (t->dims[d] < 0)
            return aglm_error(AGLM_ERR_INVALID, "input '%s': dim %d of %s is negative", name, d,
                              got);
    aglm_dtype dt = aglm_value_dtype(v);
    if (dt != AGLM_UNDEFINED && dt != t->dtype)
        return aglm_error(AGLM_ERR_TYPE, "input '%s': expected %s, got %s", name, want, got);
    int rank = aglm_value_rank(v);
    if (rank < 0)
        return AGLM_OK;
    if (rank != t->rank)
        return aglm_error(AGLM_ERR_SHAPE, "input '%s': expected %s, got %s", name, want, got);
    for (int d = 0; d < rank; d++) {
        aglm_dim dim = aglm_value_dim(v, d);
        if (dim.value >= 0) {
            if (dim.value != t->dims[d])
                return aglm_error(AGLM_ERR_SHAPE, "input '%s': expected %s, got %s", name, want,
                                  got);
            continue;
        }
        if (!dim.sym)
            continue;
        binding *b = find_binding(bs, dim.sym);
        if (!b) {
            binding nb = {dim.sym, t->dims[d], i, d};
            bs->b[bs->n++] = nb;
        } else if (b->value != t->dims[d]) {
            if (b->input == i)
                return aglm_error(
                    AGLM_ERR_SHAPE,
                    "input '%s': expected %s, got %s (%s is %lld at dim %d but %lld at dim %d)",
                    name, want, got, dim.sym, (long long)b->value, b->dim, (long long)t->dims[d],
                    d);
            return aglm_error(
                AGLM_ERR_SHAPE, "input '%s': dim %d is %s=%lld in input '%s' but %lld here", name,
                d, dim.sym, (long long)b->value, aglm_value_name(aglm_graph_input(g, b->input)),
                (long long)t->dims[d]);
        }
    }
    return AGLM_OK;
}

/* Checks every input, collecting symbol bindings into bs (the caller frees bs->b). */
static aglm_status check_all(const aglm_graph *g, size_t n, const aglm_tensor *inputs, bindings *bs)
{
    bs->b = NULL;
    bs->n = 0;
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "check inputs: graph is NULL");
    size_t want = aglm_graph_num_inputs(g);
    if (n != want)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s' expects %zu inputs, got %zu",
                          graph_label(g), want, n);
    if (n == 0)
        return AGLM_OK;
    if (!inputs)
        return aglm_error(AGLM_ERR_INVALID, "check inputs: inputs is NULL for %zu tensors", n);
    bs->b = calloc(n * AGLM_MAX_RANK, sizeof *bs->b);
    if (!bs->b)
        return aglm_error(AGLM_ERR_NOMEM, "check inputs: out of memory");
    for (size_t i = 0; i < n; i++) {
        aglm_status st = check_one(g, i, &inputs[i], bs);
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

AGLM_API aglm_status aglm_graph_check_inputs(const aglm_graph *g, size_t n,
                                             const aglm_tensor *inputs)
{
    bindings bs;
    aglm_status st = check_all(g, n, inputs, &bs);
    free(bs.b);
    return st;
}

/* Replaces the bound symbols in every value of g (and its subgraphs) with their values, so what
 * the graph says elsewhere (declared outputs, value_info) agrees with the new input shapes. */
static aglm_status bind_symbols(aglm_graph *g, const bindings *bs, infer_undo *undo)
{
    size_t nv = aglm_graph_num_values(g);
    for (size_t i = 0; i < nv; i++) {
        aglm_value *v = aglm_graph_value(g, i);
        int rank = aglm_value_rank(v), changed = 0;
        if (rank <= 0 || rank > AGLM_MAX_RANK)
            continue;
        aglm_dim dims[AGLM_MAX_RANK];
        for (int d = 0; d < rank; d++) {
            dims[d] = aglm_value_dim(v, d);
            if (dims[d].value >= 0 || !dims[d].sym)
                continue;
            for (size_t k = 0; k < bs->n; k++)
                if (strcmp(bs->b[k].sym, dims[d].sym) == 0) {
                    dims[d] = infer_dim_static(bs->b[k].value);
                    changed = 1;
                    break;
                }
        }
        if (changed) {
            aglm_status st = infer_set_value_type(undo, v, aglm_value_dtype(v), rank, dims);
            if (st != AGLM_OK)
                return st;
        }
    }
    size_t nn = aglm_graph_num_nodes(g);
    for (size_t i = 0; i < nn; i++) {
        aglm_node *node = aglm_graph_node(g, i);
        for (size_t a = 0; a < aglm_node_num_attrs(node); a++) {
            const aglm_attr *attr = aglm_node_attr_at(node, a);
            for (size_t k = 0; k < aglm_attr_num_graphs(attr); k++) {
                aglm_status st = bind_symbols(aglm_attr_graph_at(attr, k), bs, undo);
                if (st != AGLM_OK)
                    return st;
            }
        }
    }
    return AGLM_OK;
}

static aglm_status specialize(aglm_graph *g, size_t n, const aglm_tensor *inputs,
                              const bindings *bs, infer_undo *undo)
{
    for (size_t i = 0; i < n; i++) {
        aglm_dim dims[AGLM_MAX_RANK];
        for (int d = 0; d < inputs[i].rank; d++)
            dims[d] = infer_dim_static(inputs[i].dims[d]);
        aglm_status st = infer_set_value_type(undo, aglm_graph_input(g, i), inputs[i].dtype,
                                              inputs[i].rank, dims);
        if (st != AGLM_OK)
            return st;
    }
    aglm_status st = bind_symbols(g, bs, undo);
    if (st == AGLM_OK)
        st = infer_graph(g, undo);
    return st;
}

AGLM_API aglm_status aglm_graph_specialize(aglm_graph *g, size_t n, const aglm_tensor *inputs)
{
    bindings bs;
    aglm_status st = check_all(g, n, inputs, &bs);
    if (st != AGLM_OK) {
        free(bs.b);
        return st;
    }
    infer_undo *undo = infer_undo_new();
    if (!undo) {
        free(bs.b);
        return AGLM_ERR_NOMEM;
    }
    st = specialize(g, n, inputs, &bs, undo);
    if (st != AGLM_OK)
        infer_rollback(undo, st);
    infer_undo_free(undo);
    free(bs.b);
    return st;
}
