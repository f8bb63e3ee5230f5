/* GraphProto -> aglm graph: initializers, inputs, node outputs (declared before any node, so a
 * node may read a value produced further down; the graph is sorted at the end), nodes,
 * value_info, outputs.
 *
 * An initializer that is also listed as a graph input (IR version 3 models list every weight
 * there) stays a constant and is not a graph input: users feed activations, not weights. */
#include "onnx_frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aglm_status ox_new_value(ox_scope *sc, ox_str name, const char *prefix, aglm_value **out)
{
    char *base;
    aglm_status st = ox_cstr(name, "value name", &base);
    if (st != AGLM_OK)
        return st;
    size_t pl = prefix ? strlen(prefix) : 0, n = pl + name.n + 32;
    char *cname = malloc(n);
    if (!cname) {
        free(base);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    }
    snprintf(cname, n, "%s%s", prefix ? prefix : "", base);
    /* the verifier wants names unique across nested graphs; ONNX models are meant to be so, but
     * a subgraph that reuses a name of its parent (or an inlined function's value) is renamed */
    for (uint64_t k = 1; aglm_graph_lookup_value(sc->g, cname); k++)
        snprintf(cname, n, "%s%s.%llu", prefix ? prefix : "", base, (unsigned long long)k);
    free(base);
    aglm_value *v = aglm_graph_new_value(sc->g, cname, AGLM_UNDEFINED, -1, NULL);
    free(cname);
    if (!v)
        return AGLM_ERR_INVALID;
    st = ox_scope_put(sc, name, v);
    if (st == AGLM_OK)
        *out = v;
    return st;
}

static int is_function_output(const ox_function *fn, ox_str name)
{
    for (size_t i = 0; fn && i < fn->n_outputs; i++)
        if (ox_str_same(fn->outputs[i], name))
            return 1;
    return 0;
}

aglm_status ox_declare_outputs(ox_scope *sc, const ox_node *nodes, size_t n, const char *prefix,
                               const ox_function *fn)
{
    for (size_t i = 0; i < n; i++) {
        const ox_node *np = &nodes[i];
        for (size_t k = 0; k < np->n_outputs; k++) {
            ox_str name = np->outputs[k];
            aglm_value *v;
            if (name.n == 0)
                continue;
            if (ox_scope_get(sc, name, &v)) {
                if (v && !aglm_value_producer(v) && !aglm_value_is_graph_input(v) &&
                    !aglm_value_const(v) && is_function_output(fn, name))
                    continue;
                char who[300];
                ox_node_label(np, i, who, sizeof who);
                return aglm_error(AGLM_ERR_EXISTS,
                                  "%s: output '%.*s' is already defined in this graph", who,
                                  OX_FMT(name));
            }
            aglm_status st = ox_new_value(sc, name, prefix, &v);
            if (st != AGLM_OK)
                return st;
        }
    }
    return AGLM_OK;
}

static aglm_status add_constant(ox_scope *sc, ox_str name, aglm_tensor *t, const char *what)
{
    aglm_value *v;
    if (name.n == 0) {
        aglm_tensor_free(t);
        return aglm_error(AGLM_ERR_PARSE, "%s has no name", what);
    }
    if (ox_scope_get(sc, name, &v)) {
        aglm_tensor_free(t);
        return aglm_error(AGLM_ERR_EXISTS, "%s is defined twice", what);
    }
    aglm_status st = ox_new_value(sc, name, NULL, &v);
    if (st == AGLM_OK && (st = aglm_value_set_const(v, t)) != AGLM_OK)
        st = aglm_error_wrap(st, "%s", what);
    aglm_tensor_free(t);
    return st;
}

static aglm_status build_initializers(ox_build *b, const ox_graph *gp, ox_scope *sc)
{
    char what[300];
    aglm_tensor t;
    aglm_status st;
    for (size_t i = 0; i < gp->n_inits; i++) {
        const ox_tensor *tp = &gp->inits[i];
        snprintf(what, sizeof what, "initializer '%.*s'", OX_FMT(tp->name));
        if ((st = ox_tensor_to_aglm(b->env, tp, what, &t)) != AGLM_OK ||
            (st = add_constant(sc, tp->name, &t, what)) != AGLM_OK)
            return st;
    }
    for (size_t i = 0; i < gp->n_sparse_inits; i++) {
        const ox_sparse *sp = &gp->sparse_inits[i];
        snprintf(what, sizeof what, "sparse initializer '%.*s'", OX_FMT(sp->values.name));
        if ((st = ox_sparse_to_aglm(b->env, sp, what, &t)) != AGLM_OK ||
            (st = add_constant(sc, sp->values.name, &t, what)) != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

/* An input that names an initializer: its declared type must agree with the constant. */
static aglm_status check_default(const ox_value_info *vi, aglm_value *v, const char *what)
{
    const aglm_tensor *c = aglm_value_const(v);
    if (!vi->has_type || vi->type.kind != OX_TYPE_TENSOR)
        return AGLM_OK;
    aglm_dtype dt = AGLM_UNDEFINED;
    aglm_status st;
    if (vi->type.elem_type && (st = ox_map_dtype(vi->type.elem_type, what, &dt)) != AGLM_OK)
        return st;
    int ok = dt == AGLM_UNDEFINED || dt == c->dtype;
    if (vi->type.has_shape) {
        ok = ok && vi->type.n_dims == (size_t)c->rank;
        for (size_t i = 0; ok && i < vi->type.n_dims; i++)
            if (vi->type.dims[i].kind == 1 && vi->type.dims[i].value >= 0 &&
                vi->type.dims[i].value != c->dims[i])
                ok = 0;
    }
    if (!ok) {
        char shape[200];
        return aglm_error(AGLM_ERR_TYPE,
                          "%s is also an initializer, and its declared type does not match the "
                          "initializer's %s%s",
                          what, aglm_dtype_name(c->dtype),
                          aglm_shape_str(c->rank, c->dims, shape, sizeof shape));
    }
    return AGLM_OK;
}

static aglm_status build_inputs(ox_build *b, const ox_graph *gp, ox_scope *sc)
{
    char what[300];
    for (size_t i = 0; i < gp->n_inputs; i++) {
        const ox_value_info *vi = &gp->inputs[i];
        aglm_value *v;
        aglm_status st;
        snprintf(what, sizeof what, "input '%.*s'", OX_FMT(vi->name));
        if (vi->name.n == 0)
            return aglm_error(AGLM_ERR_PARSE, "input %zu has no name", i);
        if (ox_scope_get(sc, vi->name, &v)) {
            if (v && aglm_value_const(v) && !aglm_value_is_graph_input(v)) {
                if ((st = check_default(vi, v, what)) != AGLM_OK)
                    return st;
                continue;
            }
            return aglm_error(AGLM_ERR_EXISTS, "%s is listed twice", what);
        }
        if ((st = ox_new_value(sc, vi->name, NULL, &v)) != AGLM_OK)
            return st;
        if (vi->has_type && (st = ox_apply_type(&vi->type, v, what)) != AGLM_OK)
            return st;
        if ((st = aglm_graph_add_input(sc->g, v)) != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

/* Declared types of node outputs (value_info, and the graph's outputs). Values of enclosing
 * graphs, inputs and constants already have their types and are left alone. */
static aglm_status declare_types(const ox_scope *sc, const ox_value_info *list, size_t n,
                                 const char *kind)
{
    char what[300];
    for (size_t i = 0; i < n; i++) {
        aglm_value *v;
        if (!list[i].has_type || !ox_scope_get(sc, list[i].name, &v) || !v ||
            !aglm_value_producer(v))
            continue;
        snprintf(what, sizeof what, "%s '%.*s'", kind, OX_FMT(list[i].name));
        aglm_status st = ox_apply_type(&list[i].type, v, what);
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

static aglm_status build_outputs(const ox_graph *gp, ox_scope *sc)
{
    for (size_t i = 0; i < gp->n_outputs; i++) {
        const ox_value_info *vi = &gp->outputs[i];
        aglm_value *v = NULL;
        if (!ox_scope_lookup(sc, vi->name, &v) || !v)
            return aglm_error(
                AGLM_ERR_NOT_FOUND,
                "output '%.*s' is not defined (no input, initializer or node output has that name)",
                OX_FMT(vi->name));
        aglm_status st = aglm_graph_add_output(sc->g, v);
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

aglm_status ox_build_graph(ox_build *b, const ox_graph *gp, ox_scope *sc, const ox_call *call)
{
    aglm_status st;
    if ((st = build_initializers(b, gp, sc)) != AGLM_OK ||
        (st = build_inputs(b, gp, sc)) != AGLM_OK ||
        (st = ox_declare_outputs(sc, gp->nodes, gp->n_nodes, call ? call->prefix : NULL, NULL)) !=
            AGLM_OK)
        return st;
    for (size_t i = 0; i < gp->n_nodes; i++)
        if ((st = ox_build_node(b, sc, &gp->nodes[i], i, call)) != AGLM_OK)
            return st;
    if ((st = declare_types(sc, gp->value_info, gp->n_value_info, "value_info")) != AGLM_OK ||
        (st = declare_types(sc, gp->outputs, gp->n_outputs, "output")) != AGLM_OK ||
        (st = build_outputs(gp, sc)) != AGLM_OK)
        return st;
    return aglm_graph_toposort(sc->g);
}
