/* The verifier: walks a graph tree in node order, keeping per graph the set of values defined so
 * far, and checks every invariant of aglm/graph.h. Errors read
 *   graph 'main': node 'conv1' (Conv): input 1 'w' is used before it is defined
 * and, from inside a subgraph, are prefixed with the path that leads there. */
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

/* The values defined so far in one graph of the walk; scopes chain outwards. */
typedef struct scope {
    const aglm_graph *g;
    ptrmap defined;
    const struct scope *outer;
} scope;

typedef struct vctx {
    ptrmap refs;     /* value -> node input slots reading it */
    ptrmap out_refs; /* value -> subgraph output slots holding it */
} vctx;

static aglm_status nomem(const aglm_graph *g)
{
    return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory while verifying", g->name);
}

static int count_add(ptrmap *m, const void *key)
{
    return ptrmap_put(m, key, (void *)((uintptr_t)ptrmap_get(m, key) + 1));
}

static size_t count_of(const ptrmap *m, const void *key)
{
    return (size_t)(uintptr_t)ptrmap_get(m, key);
}

/* 1 when v may be read at this point of the walk. A value of a graph above the verified tree
 * has no scope: it counts as defined when anything defines it. */
static int is_defined(const scope *sc, const aglm_value *v)
{
    for (; sc; sc = sc->outer)
        if (sc->g == v->graph)
            return ptrmap_has(&sc->defined, v);
    return v->producer || v->is_input || v->has_const;
}

static aglm_status check_tensor(const aglm_graph *g, const char *what, const aglm_tensor *t)
{
    if (t->rank < 0 || t->rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: tensor rank %d is out of range",
                          g->name, what, (int)t->rank);
    if (aglm_dtype_size(t->dtype) == 0)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: tensor dtype %d is not storable",
                          g->name, what, (int)t->dtype);
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0)
            return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: tensor dim %d is negative",
                              g->name, what, i);
    if (!t->data && aglm_tensor_nbytes(t) > 0)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: tensor has no data", g->name, what);
    if (t->device != AGLM_DEVICE_CPU)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: tensor is not on the CPU", g->name,
                          what);
    return AGLM_OK;
}

static int type_matches_tensor(const aglm_value *v, const aglm_tensor *t)
{
    if (v->dtype != t->dtype || v->rank != t->rank)
        return 0;
    for (int i = 0; i < t->rank; i++)
        if (v->dims[i].value != t->dims[i])
            return 0;
    return 1;
}

/* Names, indices, constants and input flags of g's values. */
static aglm_status check_values(const aglm_graph *g)
{
    char op[256], ty[128], tt[128];
    for (size_t i = 0; i < g->n_values; i++) {
        const aglm_value *v = g->values[i];
        if (v->graph != g || v->index != i || !v->name[0] ||
            strmap_get(&g->value_names, v->name) != v)
            return aglm_error(AGLM_ERR_INTERNAL,
                              "graph '%s': value %zu '%s' is not indexed by its graph", g->name, i,
                              v->name);
        const aglm_value *outer = g->parent ? aglm_graph_lookup_value(g->parent, v->name) : NULL;
        if (outer)
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': value '%s' shadows a value of enclosing graph '%s'",
                              g->name, v->name, outer->graph->name);
        if (!v->has_const)
            continue;
        char what[300];
        snprintf(what, sizeof what, "constant '%s'", v->name);
        aglm_status st = check_tensor(g, what, &v->cst);
        if (st != AGLM_OK)
            return st;
        if (v->producer)
            return aglm_error(
                AGLM_ERR_INVALID,
                "graph '%s': value '%s' is both a constant and the output of node '%s' (%s)",
                g->name, v->name, v->producer->name, node_op_label(v->producer, op, sizeof op));
        if (!type_matches_tensor(v, &v->cst)) {
            char shape[100];
            snprintf(tt, sizeof tt, "%s%s", aglm_dtype_name(v->cst.dtype),
                     aglm_shape_str(v->cst.rank, v->cst.dims, shape, sizeof shape));
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': constant '%s' is declared %s but holds a %s tensor",
                              g->name, v->name, aglm_value_type_str(v, ty, sizeof ty), tt);
        }
    }
    size_t flagged = 0;
    for (size_t i = 0; i < g->n_values; i++)
        flagged += g->values[i]->is_input != 0;
    for (size_t i = 0; i < g->n_inputs; i++) {
        const aglm_value *v = g->inputs[i];
        if (v->graph != g || !v->is_input)
            return aglm_error(AGLM_ERR_INTERNAL,
                              "graph '%s': input %zu '%s' is not a value of this graph", g->name, i,
                              v->name);
        for (size_t k = 0; k < i; k++)
            if (g->inputs[k] == v)
                return aglm_error(AGLM_ERR_INVALID, "graph '%s': '%s' is listed as an input twice",
                                  g->name, v->name);
        if (v->producer)
            return aglm_error(
                AGLM_ERR_INVALID, "graph '%s': input %zu '%s' is also the output of node '%s' (%s)",
                g->name, i, v->name, v->producer->name, node_op_label(v->producer, op, sizeof op));
    }
    if (flagged != g->n_inputs)
        return aglm_error(AGLM_ERR_INTERNAL,
                          "graph '%s': %zu values are flagged as inputs but %zu are listed",
                          g->name, flagged, g->n_inputs);
    return AGLM_OK;
}

static aglm_status check_attr(const aglm_graph *g, const aglm_node *n, const char *label,
                              const aglm_attr *a)
{
    if (!a->name || !a->name[0])
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': node '%s' (%s): an attribute has no name",
                          g->name, n->name, label);
    char what[512];
    snprintf(what, sizeof what, "node '%s' (%s): attribute '%s'", n->name, label, a->name);
    int list = a->type >= AGLM_ATTR_FLOATS && a->type <= AGLM_ATTR_GRAPHS;
    const void *arr = a->type == AGLM_ATTR_FLOATS    ? (const void *)a->floats
                      : a->type == AGLM_ATTR_INTS    ? (const void *)a->ints
                      : a->type == AGLM_ATTR_STRINGS ? (const void *)a->strings
                      : a->type == AGLM_ATTR_TENSORS ? (const void *)a->tensors
                                                     : (const void *)a->graphs;
    if (list && !arr)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: list of %zu has no storage", g->name,
                          what, a->count);
    aglm_status st = AGLM_OK;
    switch (a->type) {
    case AGLM_ATTR_FLOAT:
    case AGLM_ATTR_INT:
    case AGLM_ATTR_FLOATS:
    case AGLM_ATTR_INTS: break;
    case AGLM_ATTR_STRING:
        if (!a->s)
            return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: string is NULL", g->name, what);
        break;
    case AGLM_ATTR_STRINGS:
        for (size_t i = 0; i < a->count; i++)
            if (!a->strings[i])
                return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: string %zu is NULL", g->name,
                                  what, i);
        break;
    case AGLM_ATTR_TENSOR: st = check_tensor(g, what, &a->t); break;
    case AGLM_ATTR_TENSORS:
        for (size_t i = 0; i < a->count && st == AGLM_OK; i++)
            st = check_tensor(g, what, &a->tensors[i]);
        break;
    case AGLM_ATTR_GRAPH:
    case AGLM_ATTR_GRAPHS:
        for (size_t i = 0; i < (a->type == AGLM_ATTR_GRAPH ? 1 : a->count); i++) {
            const aglm_graph *s = a->type == AGLM_ATTR_GRAPH ? a->g : a->graphs[i];
            if (!s)
                return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: graph is NULL", g->name, what);
            if (s->parent != g || s->owner != n)
                return aglm_error(AGLM_ERR_INVALID,
                                  "graph '%s': %s: subgraph '%s' is not owned by this node",
                                  g->name, what, s->name);
        }
        break;
    default:
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': %s: unknown attribute type %d", g->name,
                          what, (int)a->type);
    }
    return st;
}

static aglm_status verify_graph(vctx *cx, const aglm_graph *g, const scope *outer);

static aglm_status check_node_inputs(vctx *cx, const scope *sc, const aglm_node *n,
                                     const char *label)
{
    const aglm_graph *g = sc->g;
    for (size_t i = 0; i < n->n_in; i++) {
        const aglm_value *v = n->in[i];
        if (!v)
            continue;
        if (!value_visible(v, g))
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': node '%s' (%s): input %zu '%s' belongs to graph '%s', "
                              "which is not visible here",
                              g->name, n->name, label, i, v->name, v->graph->name);
        if (!is_defined(sc, v)) {
            if (v->producer || v->is_input || v->has_const)
                return aglm_error(
                    AGLM_ERR_INVALID,
                    "graph '%s': node '%s' (%s): input %zu '%s' is used before it is defined",
                    g->name, n->name, label, i, v->name);
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': node '%s' (%s): input %zu '%s' is never defined: no "
                              "node produces it and it is "
                              "neither a graph input nor a constant",
                              g->name, n->name, label, i, v->name);
        }
        if (count_add(&cx->refs, v))
            return nomem(g);
    }
    return AGLM_OK;
}

static aglm_status check_node(vctx *cx, scope *sc, const aglm_node *n)
{
    const aglm_graph *g = sc->g;
    char label[256];
    if (n->graph != g || n->index >= g->n_nodes || g->nodes[n->index] != n)
        return aglm_error(AGLM_ERR_INTERNAL, "graph '%s': node '%s' is not indexed by its graph",
                          g->name, n->name);
    if (!n->op[0] || !n->name[0])
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': node %zu has an empty op or name", g->name,
                          n->index);
    node_op_label(n, label, sizeof label);
    aglm_status st = check_node_inputs(cx, sc, n, label);
    if (st != AGLM_OK)
        return st;
    for (size_t a = 0; a < n->n_attrs; a++) {
        const aglm_attr *at = n->attrs[a];
        if ((st = check_attr(g, n, label, at)) != AGLM_OK)
            return st;
        for (size_t k = 0; k < a; k++)
            if (strcmp(n->attrs[k]->name, at->name) == 0)
                return aglm_error(AGLM_ERR_INVALID,
                                  "graph '%s': node '%s' (%s): attribute '%s' appears twice",
                                  g->name, n->name, label, at->name);
        size_t cnt = at->type == AGLM_ATTR_GRAPH ? 1 : at->type == AGLM_ATTR_GRAPHS ? at->count : 0;
        /* Subgraphs run before n produces anything: they see what is defined before n. */
        for (size_t j = 0; j < cnt; j++) {
            const aglm_graph *s = at->type == AGLM_ATTR_GRAPH ? at->g : at->graphs[j];
            if ((st = verify_graph(cx, s, sc)) != AGLM_OK)
                return aglm_error_wrap(st, "graph '%s': node '%s' (%s): attribute '%s'", g->name,
                                       n->name, label, at->name);
        }
    }
    for (size_t i = 0; i < n->n_out; i++) {
        const aglm_value *v = n->out[i];
        if (!v)
            continue;
        if (v->graph != g)
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': node '%s' (%s): output %zu '%s' belongs to graph '%s'",
                              g->name, n->name, label, i, v->name, v->graph->name);
        if (v->producer != n)
            return aglm_error(
                AGLM_ERR_INVALID,
                "graph '%s': node '%s' (%s): output %zu '%s' records another producer", g->name,
                n->name, label, i, v->name);
        if (ptrmap_has(&sc->defined, v))
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': node '%s' (%s): output %zu '%s' is already defined "
                              "(graph input, constant, "
                              "or an earlier output)",
                              g->name, n->name, label, i, v->name);
        if (ptrmap_put(&sc->defined, v, (void *)1))
            return nomem(g);
    }
    return AGLM_OK;
}

/* 1 when node m is in g or in a subgraph attached (through owning nodes) below g; a pass may
 * hold subgraphs it has built but not attached yet, whose nodes already read g's values. */
static int in_tree(const aglm_node *m, const aglm_graph *g)
{
    const aglm_graph *h = m ? m->graph : NULL;
    while (h && h != g) {
        if (!h->owner)
            return 0;
        h = h->parent;
    }
    return h == g;
}

static int use_cmp(const void *a, const void *b)
{
    const value_use *x = a, *y = b;
    if (x->node != y->node)
        return (uintptr_t)x->node < (uintptr_t)y->node ? -1 : 1;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* Each value's use list names exactly the node input slots that read it, and its output
 * counters match the output slots that hold it. Runs once all of g's subgraphs were walked. */
static aglm_status check_uses(vctx *cx, const aglm_graph *g)
{
    for (size_t i = 0; i < g->n_values; i++) {
        const aglm_value *v = g->values[i];
        size_t attached = 0;
        for (size_t u = 0; u < v->n_uses; u++)
            attached += in_tree(v->uses[u].node, g);
        if (attached != count_of(&cx->refs, v))
            return aglm_error(AGLM_ERR_INTERNAL,
                              "graph '%s': value '%s' lists %zu uses but %zu node inputs read it",
                              g->name, v->name, attached, count_of(&cx->refs, v));
        /* Outputs of detached subgraphs count too, and the walk cannot see those. */
        if (v->out_outer < count_of(&cx->out_refs, v))
            return aglm_error(AGLM_ERR_INTERNAL,
                              "graph '%s': value '%s': subgraph output count is off", g->name,
                              v->name);
        value_use *copy = v->n_uses ? malloc(v->n_uses * sizeof *copy) : NULL;
        if (v->n_uses && !copy)
            return nomem(g);
        for (size_t u = 0; u < v->n_uses; u++) {
            const aglm_node *m = v->uses[u].node;
            size_t slot = v->uses[u].slot;
            if (!m || slot >= m->n_in || m->in[slot] != v || m->index >= m->graph->n_nodes ||
                m->graph->nodes[m->index] != m) {
                free(copy);
                return aglm_error(AGLM_ERR_INTERNAL,
                                  "graph '%s': value '%s': use %zu does not match a node input",
                                  g->name, v->name, u);
            }
            copy[u] = v->uses[u];
        }
        if (v->n_uses > 1)
            qsort(copy, v->n_uses, sizeof *copy, use_cmp);
        for (size_t u = 1; u < v->n_uses; u++)
            if (!use_cmp(&copy[u - 1], &copy[u])) {
                free(copy);
                return aglm_error(AGLM_ERR_INTERNAL,
                                  "graph '%s': value '%s': a use is listed twice", g->name,
                                  v->name);
            }
        free(copy);
    }
    return AGLM_OK;
}

static aglm_status check_outputs(vctx *cx, const scope *sc)
{
    const aglm_graph *g = sc->g;
    for (size_t i = 0; i < g->n_outputs; i++) {
        const aglm_value *v = g->outputs[i];
        if (!v || !value_visible(v, g))
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': output %zu is not a value this graph can see", g->name,
                              i);
        if (!is_defined(sc, v))
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': output %zu '%s' is never defined: no node produces it "
                              "and it is neither "
                              "a graph input nor a constant",
                              g->name, i, v->name);
        if (v->graph != g && count_add(&cx->out_refs, v))
            return nomem(g);
    }
    for (size_t i = 0; i < g->n_values; i++) {
        const aglm_value *v = g->values[i];
        size_t own = 0;
        for (size_t k = 0; k < g->n_outputs; k++)
            own += g->outputs[k] == v;
        if (own != v->out_own)
            return aglm_error(AGLM_ERR_INTERNAL, "graph '%s': value '%s': output count is off",
                              g->name, v->name);
    }
    return AGLM_OK;
}

static aglm_status verify_graph(vctx *cx, const aglm_graph *g, const scope *outer)
{
    scope sc = {g, {0}, outer};
    aglm_status st = check_values(g);
    for (size_t i = 0; i < g->n_values && st == AGLM_OK; i++) {
        const aglm_value *v = g->values[i];
        if ((v->is_input || v->has_const) && ptrmap_put(&sc.defined, v, (void *)1))
            st = nomem(g);
    }
    for (size_t i = 0; i < g->n_nodes && st == AGLM_OK; i++)
        st = check_node(cx, &sc, g->nodes[i]);
    if (st == AGLM_OK)
        st = check_outputs(cx, &sc);
    if (st == AGLM_OK)
        st = check_uses(cx, g);
    ptrmap_free(&sc.defined);
    return st;
}

aglm_status aglm_graph_verify(const aglm_graph *g)
{
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "verify: graph is NULL");
    vctx cx = {{0}, {0}};
    aglm_status st = verify_graph(&cx, g, NULL);
    ptrmap_free(&cx.refs);
    ptrmap_free(&cx.out_refs);
    return st;
}
