/* ModelProto -> graph: opset imports, metadata, the main graph; then the verifier and shape
 * inference, so the caller gets a graph every later stage can trust. */
#include "onnx_frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ai.onnx opsets the frontend reads directly; older ones are read as 7 (opset_compat.c). */
#define OLDEST_DIRECT_OPSET 7

static aglm_status set_opsets(ox_build *b, const ox_model *m)
{
    aglm_status st;
    for (size_t i = 0; i < m->n_opsets; i++) {
        const ox_opset *o = &m->opsets[i];
        char *d;
        if ((st = ox_cstr(o->domain, "opset_import domain", &d)) != AGLM_OK)
            return st;
        const char *dom = strcmp(d, "ai.onnx") == 0 ? "" : d, *shown = dom[0] ? dom : "ai.onnx";
        int64_t v = o->version, read_as = v;
        if (!dom[0] && v >= 1 && v < OLDEST_DIRECT_OPSET) {
            read_as = OLDEST_DIRECT_OPSET;
            if (!b->old_opset)
                b->old_opset = v;
        }
        int64_t have = aglm_graph_opset(b->top, dom);
        if (v < 1)
            st = aglm_error(AGLM_ERR_PARSE, "opset_import of '%s' has version %lld", shown,
                            (long long)v);
        else if ((have && have != read_as) || (read_as != v && b->old_opset != v))
            st = aglm_error(
                AGLM_ERR_PARSE, "opset_import lists '%s' twice, with versions %lld and %lld", shown,
                (long long)(b->old_opset && !dom[0] ? b->old_opset : have), (long long)v);
        else
            st = aglm_graph_set_opset(b->top, dom, read_as);
        free(d);
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

static aglm_status put_meta(aglm_graph *g, const char *key, ox_str value)
{
    char *v = malloc(value.n + 1);
    if (!v)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for metadata");
    /* metadata is text; a NUL byte (not valid in a C string) ends it */
    memcpy(v, value.p ? (const char *)value.p : "", value.n);
    v[value.n] = '\0';
    aglm_status st = aglm_graph_set_meta(g, key, v);
    free(v);
    return st;
}

static const char *const fixed_keys[] = {"ir_version",       "producer_name",   "producer_version",
                                         "domain",           "model_version",   "doc_string",
                                         "graph_doc_string", "local_functions", NULL};

/* Model fields under their ModelProto names; metadata_props under their own keys, except one
 * that would hide a model field, which goes under "metadata_props.KEY"; the graph's own
 * metadata_props under "graph.KEY". */
static aglm_status set_meta(aglm_graph *g, const ox_model *m)
{
    char num[32];
    aglm_status st = AGLM_OK;
    snprintf(num, sizeof num, "%lld", (long long)m->ir_version);
    st = aglm_graph_set_meta(g, "ir_version", num);
    if (st == AGLM_OK && m->producer_name.n)
        st = put_meta(g, "producer_name", m->producer_name);
    if (st == AGLM_OK && m->producer_version.n)
        st = put_meta(g, "producer_version", m->producer_version);
    if (st == AGLM_OK && m->domain.n)
        st = put_meta(g, "domain", m->domain);
    if (st == AGLM_OK && m->has_model_version) {
        snprintf(num, sizeof num, "%lld", (long long)m->model_version);
        st = aglm_graph_set_meta(g, "model_version", num);
    }
    if (st == AGLM_OK && m->doc.n)
        st = put_meta(g, "doc_string", m->doc);
    if (st == AGLM_OK && m->graph.doc.n)
        st = put_meta(g, "graph_doc_string", m->graph.doc);
    for (size_t i = 0; i < m->n_meta + m->graph.n_meta && st == AGLM_OK; i++) {
        int graph = i >= m->n_meta;
        const ox_strpair *kv = graph ? &m->graph.meta[i - m->n_meta] : &m->meta[i];
        char key[300];
        snprintf(key, sizeof key, "%s%.*s", graph ? "graph." : "", OX_FMT(kv->key));
        for (const char *const *k = fixed_keys; *k && !graph; k++)
            if (strcmp(key, *k) == 0) {
                snprintf(key, sizeof key, "metadata_props.%.*s", OX_FMT(kv->key));
                break;
            }
        st = put_meta(g, key, kv->value);
    }
    if (st == AGLM_OK && m->n_functions) {
        /* the functions themselves are inlined where called; their names are kept for reference */
        size_t cap = 64, len = 0;
        for (size_t i = 0; i < m->n_functions; i++)
            cap += m->functions[i].domain.n + m->functions[i].name.n + 4;
        char *list = malloc(cap);
        if (!list)
            return aglm_error(AGLM_ERR_NOMEM, "out of memory for metadata");
        list[0] = '\0';
        for (size_t i = 0; i < m->n_functions; i++) {
            const ox_function *fn = &m->functions[i];
            len += (size_t)snprintf(list + len, cap - len, "%s%.*s%s%.*s", i ? ", " : "",
                                    OX_FMT(fn->domain), fn->domain.n ? "." : "", OX_FMT(fn->name));
            if (len >= cap)
                len = cap - 1;
        }
        st = aglm_graph_set_meta(g, "local_functions", list);
        free(list);
    }
    return st;
}

aglm_status ox_build_model(const ox_model *m, const ox_env *env, const char *default_name,
                           aglm_graph **out)
{
    *out = NULL;
    if (!m->has_ir_version)
        return aglm_error(AGLM_ERR_PARSE, "not an ONNX model: ir_version (field 1) is missing");
    if (!m->has_graph)
        return aglm_error(AGLM_ERR_PARSE, "the model has no graph (field 7)");
    char *gname;
    aglm_status st = ox_cstr(m->graph.name, "graph name", &gname);
    if (st != AGLM_OK)
        return st;
    aglm_graph *g = aglm_graph_new(gname[0] ? gname : default_name);
    free(gname);
    if (!g)
        return AGLM_ERR_NOMEM;
    ox_build b = {.env = env, .model = m, .top = g};
    b.fn_active = calloc(m->n_functions + 1, 1);
    ox_scope top;
    ox_scope_init(&top, g, NULL);
    if (!b.fn_active)
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory");
    if (st == AGLM_OK)
        st = set_opsets(&b, m);
    if (st == AGLM_OK)
        st = set_meta(g, m);
    if (st == AGLM_OK)
        st = ox_build_graph(&b, &m->graph, &top, NULL);
    ox_scope_free(&top);
    free(b.fn_active);
    if (st == AGLM_OK)
        st = aglm_graph_verify(g);
    if (st == AGLM_OK && (st = aglm_infer_shapes(g)) != AGLM_OK)
        st = aglm_error_wrap(st, "shape inference");
    if (st != AGLM_OK) {
        aglm_graph_free(g);
        return st;
    }
    *out = g;
    return AGLM_OK;
}
