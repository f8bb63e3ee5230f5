/* AttributeProto -> node attribute. Graphs become subgraphs that see the enclosing scopes;
 * sparse tensors become dense ones (Constant's sparse_value becomes its value); type protos
 * become ONNX's type text ("tensor(float)"); ref_attr_name inside an inlined function takes the
 * calling node's attribute (or the function's default). */
#include "onnx_frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    ATTR_SPARSE_TENSOR = 11,
    ATTR_SPARSE_TENSORS = 12,
    ATTR_TYPE_PROTO = 13,
    ATTR_TYPE_PROTOS = 14
};

/* The type of an attribute whose `type` field is missing (IR version 1), from the field set. */
static int64_t guess_type(const ox_attr *a)
{
    static const struct {
        unsigned field;
        int64_t type;
    } map[] = {{2, AGLM_ATTR_FLOAT},     {3, AGLM_ATTR_INT},       {4, AGLM_ATTR_STRING},
               {5, AGLM_ATTR_TENSOR},    {6, AGLM_ATTR_GRAPH},     {7, AGLM_ATTR_FLOATS},
               {8, AGLM_ATTR_INTS},      {9, AGLM_ATTR_STRINGS},   {10, AGLM_ATTR_TENSORS},
               {11, AGLM_ATTR_GRAPHS},   {14, ATTR_TYPE_PROTO},    {15, ATTR_TYPE_PROTOS},
               {22, ATTR_SPARSE_TENSOR}, {23, ATTR_SPARSE_TENSORS}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (a->present & (1u << map[i].field))
            return map[i].type;
    return AGLM_ATTR_UNDEFINED;
}

static aglm_status build_subgraph(ox_build *b, ox_scope *sc, aglm_node *n, const char *what,
                                  const char *aname, const ox_graph *gp, const ox_call *call,
                                  aglm_graph **out)
{
    *out = NULL;
    char *gname;
    aglm_status st = ox_cstr(gp->name, "graph name", &gname);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "%s", what);
    char fallback[400];
    snprintf(fallback, sizeof fallback, "%s.%s", aglm_node_name(n), aname);
    aglm_graph *sub = aglm_graph_new_subgraph(sc->g, gname[0] ? gname : fallback);
    free(gname);
    if (!sub)
        return aglm_error_wrap(AGLM_ERR_NOMEM, "%s", what);
    ox_scope inner;
    ox_scope_init(&inner, sub, sc);
    st = ox_build_graph(b, gp, &inner, call);
    ox_scope_free(&inner);
    if (st != AGLM_OK) {
        aglm_graph_free(sub);
        return aglm_error_wrap(st, "%s", what);
    }
    *out = sub;
    return AGLM_OK;
}

static aglm_status set_tensors(ox_build *b, aglm_node *n, const char *what, const char *aname,
                               const ox_attr *a, int sparse)
{
    size_t count = sparse ? a->n_sparses : a->n_tensors;
    aglm_tensor *ts = calloc(count + 1, sizeof *ts);
    if (!ts)
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", what);
    aglm_status st = AGLM_OK;
    size_t done = 0;
    char sub[700];
    for (; done < count && st == AGLM_OK; done++) {
        snprintf(sub, sizeof sub, "%s: tensor %zu", what, done);
        st = sparse ? ox_sparse_to_aglm(b->env, &a->sparses[done], sub, &ts[done])
                    : ox_tensor_to_aglm(b->env, &a->tensors[done], sub, &ts[done]);
    }
    if (st == AGLM_OK && (st = aglm_node_set_tensors(n, aname, ts, count)) != AGLM_OK)
        st = aglm_error_wrap(st, "%s", what);
    for (size_t i = 0; i < done; i++)
        aglm_tensor_free(&ts[i]);
    free(ts);
    return st;
}

static aglm_status set_graphs(ox_build *b, ox_scope *sc, aglm_node *n, const char *what,
                              const char *aname, const ox_attr *a, const ox_call *call)
{
    aglm_graph **gs = calloc(a->n_graphs + 1, sizeof *gs);
    if (!gs)
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", what);
    aglm_status st = AGLM_OK;
    size_t built = 0;
    char sub[700];
    for (; built < a->n_graphs && st == AGLM_OK; built++) {
        snprintf(sub, sizeof sub, "%s: graph %zu", what, built);
        st = build_subgraph(b, sc, n, sub, aname, &a->graphs[built], call, &gs[built]);
    }
    if (st == AGLM_OK && (st = aglm_node_set_graphs(n, aname, gs, a->n_graphs)) == AGLM_OK) {
        free(gs);
        return AGLM_OK;
    }
    for (size_t i = 0; i < built; i++)
        aglm_graph_free(gs[i]);
    free(gs);
    return st;
}

/* strings or type texts as C strings, then set as a list of strings. */
static aglm_status set_strings(aglm_node *n, const char *what, const char *aname, const ox_attr *a,
                               int types)
{
    size_t count = types ? a->n_types : a->n_strings;
    char **ss = calloc(count + 1, sizeof *ss);
    if (!ss)
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", what);
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < count && st == AGLM_OK; i++) {
        if (types) {
            if (!(ss[i] = ox_type_text(&a->types[i])))
                st = aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", what);
        } else if ((st = ox_cstr(a->strings[i], "string", &ss[i])) != AGLM_OK) {
            st = aglm_error_wrap(st, "%s", what);
        }
    }
    if (st == AGLM_OK &&
        (st = aglm_node_set_strings(n, aname, (const char *const *)ss, count)) != AGLM_OK)
        st = aglm_error_wrap(st, "%s", what);
    for (size_t i = 0; i < count; i++)
        free(ss[i]);
    free(ss);
    return st;
}

/* libaglm's setter errors say nothing of the node; add it. */
static aglm_status set_result(aglm_status st, const char *what)
{
    return st == AGLM_OK ? st : aglm_error_wrap(st, "%s", what);
}

static aglm_status set_value(ox_build *b, ox_scope *sc, aglm_node *n, const char *what,
                             const char *aname, const ox_attr *a, const ox_call *call)
{
    int64_t type = a->has_type ? a->type : guess_type(a);
    aglm_tensor t;
    aglm_graph *g;
    aglm_status st;
    char *text;
    switch (type) {
    case AGLM_ATTR_FLOAT: return set_result(aglm_node_set_float(n, aname, a->f), what);
    case AGLM_ATTR_INT: return set_result(aglm_node_set_int(n, aname, a->i), what);
    case AGLM_ATTR_STRING:
        return set_result(aglm_node_set_string(n, aname, (const char *)a->s.p, a->s.n), what);
    case AGLM_ATTR_FLOATS:
        return set_result(aglm_node_set_floats(n, aname, a->floats, a->n_floats), what);
    case AGLM_ATTR_INTS: return set_result(aglm_node_set_ints(n, aname, a->ints, a->n_ints), what);
    case AGLM_ATTR_STRINGS: return set_strings(n, what, aname, a, 0);
    case ATTR_TYPE_PROTOS: return set_strings(n, what, aname, a, 1);
    case AGLM_ATTR_TENSOR:
    case ATTR_SPARSE_TENSOR:
        if (type == AGLM_ATTR_TENSOR ? !a->t : !a->sparse)
            return aglm_error(AGLM_ERR_PARSE, "%s: a tensor attribute without a tensor", what);
        st = type == AGLM_ATTR_TENSOR ? ox_tensor_to_aglm(b->env, a->t, what, &t)
                                      : ox_sparse_to_aglm(b->env, a->sparse, what, &t);
        if (st != AGLM_OK)
            return st;
        st = aglm_node_set_tensor(n, aname, &t);
        aglm_tensor_free(&t);
        return set_result(st, what);
    case AGLM_ATTR_TENSORS:
    case ATTR_SPARSE_TENSORS: return set_tensors(b, n, what, aname, a, type == ATTR_SPARSE_TENSORS);
    case AGLM_ATTR_GRAPH:
        if (!a->g)
            return aglm_error(AGLM_ERR_PARSE, "%s: a graph attribute without a graph", what);
        if ((st = build_subgraph(b, sc, n, what, aname, a->g, call, &g)) != AGLM_OK)
            return st;
        if ((st = aglm_node_set_graph(n, aname, g)) != AGLM_OK)
            aglm_graph_free(g);
        return set_result(st, what);
    case AGLM_ATTR_GRAPHS: return set_graphs(b, sc, n, what, aname, a, call);
    case ATTR_TYPE_PROTO:
        if (!a->tp)
            return aglm_error(AGLM_ERR_PARSE, "%s: a type attribute without a type", what);
        if (!(text = ox_type_text(a->tp)))
            return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", what);
        st = aglm_node_set_string(n, aname, text, strlen(text));
        free(text);
        return set_result(st, what);
    case AGLM_ATTR_UNDEFINED:
        return aglm_error(AGLM_ERR_PARSE, "%s has neither a type nor a value", what);
    default:
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s has unknown attribute type %lld", what,
                          (long long)type);
    }
}

/* The attribute a reference in an inlined function body stands for: the calling node's
 * attribute of that name, else the function's default; NULL when neither exists. *where gets
 * the frame in which the found attribute must itself be read. */
static const ox_attr *resolve_ref(const ox_call *call, ox_str ref, const ox_call **where)
{
    for (size_t i = 0; i < call->node->n_attrs; i++)
        if (ox_str_same(call->node->attrs[i].name, ref)) {
            *where = call->outer;
            return &call->node->attrs[i];
        }
    for (size_t i = 0; i < call->fn->n_attr_defaults; i++)
        if (ox_str_same(call->fn->attr_defaults[i].name, ref)) {
            *where = NULL;
            return &call->fn->attr_defaults[i];
        }
    return NULL;
}

aglm_status ox_set_attr(ox_build *b, ox_scope *sc, aglm_node *n, const char *who, const ox_attr *a,
                        const ox_call *call)
{
    char what[600];
    char *aname;
    aglm_status st = ox_cstr(a->name, "attribute name", &aname);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "%s", who);
    snprintf(what, sizeof what, "%s: attribute '%s'", who, aname);
    if (!aname[0]) {
        st = aglm_error(AGLM_ERR_PARSE, "%s: an attribute has no name", who);
        goto done;
    }
    if (aglm_node_attr(n, aname)) {
        st = aglm_error(AGLM_ERR_PARSE, "%s appears twice", what);
        goto done;
    }
    const ox_attr *src = a;
    const ox_call *frame = call;
    /* a reference may lead to another reference of the caller's own function */
    for (int hops = 0; src->ref_attr_name.n; hops++) {
        if (!frame || hops > OX_MAX_CALL_DEPTH) {
            st = aglm_error(AGLM_ERR_PARSE,
                            "%s refers to attribute '%.*s' of an enclosing function, but the node "
                            "is not inside a function",
                            what, OX_FMT(src->ref_attr_name));
            goto done;
        }
        const ox_call *next;
        if (!(src = resolve_ref(frame, src->ref_attr_name, &next)))
            goto done; /* neither given nor defaulted: the attribute is absent */
        frame = next;
    }
    int constant = strcmp(aglm_node_op(n), "Constant") == 0 && aglm_node_domain(n)[0] == '\0';
    const char *as = aname;
    if (constant && (strcmp(aname, "value_string") == 0 || strcmp(aname, "value_strings") == 0)) {
        st = aglm_error(AGLM_ERR_UNSUPPORTED, "%s: dtype string not supported", what);
        goto done;
    }
    /* Constant's sparse_value means a dense output, which is what value holds */
    if (constant && strcmp(aname, "sparse_value") == 0)
        as = "value";
    st = set_value(b, sc, n, what, as, src, frame);
done:
    free(aname);
    return st;
}
