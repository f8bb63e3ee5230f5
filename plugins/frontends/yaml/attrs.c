/* Node attributes from YAML: a scalar gives int, float or string; a list gives ints, floats or
 * strings; a one-key mapping gives a tensor, tensors, a graph or graphs. */
#include "yaml_frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tensor_keys[] = {"dtype", "shape", "data", "fill", "npy", NULL};
static const char *const wrapper_keys[] = {"tensor", "tensors", "graph", "graphs", NULL};

/* Errors from the IR's setters carry no location; give them the attribute's. */
static aglm_status ir_result(yml_ctx *c, const yaml_node_t *v, const char *what, aglm_status st)
{
    if (st == AGLM_OK)
        return st;
    return ydoc_wrap(c->doc, v, aglm_error_wrap(st, "%s", what));
}

static aglm_status set_scalar(yml_ctx *c, aglm_node *n, const char *name, const yaml_node_t *v,
                              const char *what)
{
    ydoc *d = c->doc;
    aglm_status st;
    switch (ydoc_scalar_kind(v)) {
    case YS_INT: {
        int64_t i;
        if ((st = ydoc_int(d, v, what, &i)) == AGLM_OK)
            st = ir_result(c, v, what, aglm_node_set_int(n, name, i));
        break;
    }
    case YS_FLOAT: {
        double f;
        if ((st = ydoc_float(d, v, what, &f)) == AGLM_OK)
            st = ir_result(c, v, what, aglm_node_set_float(n, name, (float)f));
        break;
    }
    case YS_BOOL: {
        /* ONNX has no boolean attribute; flags are ints. */
        int b;
        if ((st = ydoc_bool(d, v, what, &b)) == AGLM_OK)
            st = ir_result(c, v, what, aglm_node_set_int(n, name, b));
        break;
    }
    case YS_STRING:
        st = ir_result(c, v, what,
                       aglm_node_set_string(n, name, (const char *)v->data.scalar.value,
                                            v->data.scalar.length));
        break;
    default: return ydoc_fail(d, v, AGLM_ERR_PARSE, "%s has no value", what);
    }
    return st;
}

static aglm_status set_list(yml_ctx *c, aglm_node *n, const char *name, const yaml_node_t *v,
                            const char *what)
{
    ydoc *d = c->doc;
    size_t len = ydoc_seq_len(v);
    int floats = 0, strings = 0, numbers = 0;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = ydoc_seq_item(d, v, i);
        yscalar_kind k = ydoc_is_scalar(item) ? ydoc_scalar_kind(item) : YS_NULL;
        if (!ydoc_is_scalar(item) || k == YS_NULL)
            return ydoc_fail(
                d, item, AGLM_ERR_PARSE,
                "%s: a list holds numbers or strings, not %s (tensors and graphs go in "
                "{tensors: [...]} or {graphs: [...]})",
                what, ydoc_kind_name(item));
        strings += k == YS_STRING;
        numbers += k != YS_STRING;
        floats += k == YS_FLOAT;
    }
    if (strings && numbers)
        return ydoc_fail(d, v, AGLM_ERR_PARSE, "%s: a list must hold only numbers or only strings",
                         what);

    aglm_status st = AGLM_OK;
    if (strings) {
        const char **s = calloc(len, sizeof *s);
        if (!s)
            return aglm_error(AGLM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < len && st == AGLM_OK; i++)
            st = ydoc_text(d, ydoc_seq_item(d, v, i), what, &s[i]);
        if (st == AGLM_OK)
            st = ir_result(c, v, what, aglm_node_set_strings(n, name, s, len));
        free(s);
    } else if (floats) {
        float *f = calloc(len ? len : 1, sizeof *f);
        if (!f)
            return aglm_error(AGLM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < len && st == AGLM_OK; i++) {
            double x;
            st = ydoc_float(d, ydoc_seq_item(d, v, i), what, &x);
            f[i] = (float)x;
        }
        if (st == AGLM_OK)
            st = ir_result(c, v, what, aglm_node_set_floats(n, name, f, len));
        free(f);
    } else {
        /* An empty list has no element type; ints is what ONNX attributes most often are. */
        int64_t *ints = calloc(len ? len : 1, sizeof *ints);
        if (!ints)
            return aglm_error(AGLM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < len && st == AGLM_OK; i++) {
            yaml_node_t *item = ydoc_seq_item(d, v, i);
            if (ydoc_scalar_kind(item) == YS_BOOL) {
                int b;
                st = ydoc_bool(d, item, what, &b);
                ints[i] = b;
            } else {
                st = ydoc_int(d, item, what, &ints[i]);
            }
        }
        if (st == AGLM_OK)
            st = ir_result(c, v, what, aglm_node_set_ints(n, name, ints, len));
        free(ints);
    }
    return st;
}

static aglm_status read_attr_tensor(yml_ctx *c, const yaml_node_t *m, const char *what,
                                    aglm_tensor *t)
{
    aglm_status st = ydoc_check_map(c->doc, m, what, tensor_keys);
    if (st != AGLM_OK)
        return st;
    return yml_read_tensor(c, m, what, t);
}

static aglm_status set_tensors(yml_ctx *c, aglm_node *n, const char *name, const yaml_node_t *list,
                               const char *what)
{
    ydoc *d = c->doc;
    aglm_status st = ydoc_expect_seq(d, list, what);
    if (st != AGLM_OK)
        return st;
    size_t len = ydoc_seq_len(list);
    aglm_tensor *ts = calloc(len ? len : 1, sizeof *ts);
    if (!ts)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < len && st == AGLM_OK; i++)
        st = read_attr_tensor(c, ydoc_seq_item(d, list, i), what, &ts[i]);
    if (st == AGLM_OK)
        st = ir_result(c, list, what, aglm_node_set_tensors(n, name, ts, len));
    for (size_t i = 0; i < len; i++)
        aglm_tensor_free(&ts[i]);
    free(ts);
    return st;
}

static aglm_status set_graphs(yml_ctx *c, aglm_node *n, const char *name, const yaml_node_t *list,
                              const char *what)
{
    ydoc *d = c->doc;
    aglm_status st = ydoc_expect_seq(d, list, what);
    if (st != AGLM_OK)
        return st;
    size_t len = ydoc_seq_len(list);
    aglm_graph **gs = calloc(len ? len : 1, sizeof *gs);
    if (!gs)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < len && st == AGLM_OK; i++) {
        char sub_name[160];
        snprintf(sub_name, sizeof sub_name, "%s_%s_%zu", aglm_node_name(n), name, i);
        st = yml_build_subgraph(c, aglm_node_graph(n), ydoc_seq_item(d, list, i), sub_name, &gs[i]);
    }
    if (st == AGLM_OK &&
        (st = ir_result(c, list, what, aglm_node_set_graphs(n, name, gs, len))) == AGLM_OK) {
        free(gs);
        return AGLM_OK;
    }
    for (size_t i = 0; i < len; i++)
        aglm_graph_free(gs[i]);
    free(gs);
    return st;
}

static aglm_status set_wrapped(yml_ctx *c, aglm_node *n, const char *name, const yaml_node_t *m,
                               const char *what)
{
    ydoc *d = c->doc;
    aglm_status st = ydoc_check_map(d, m, what, wrapper_keys);
    if (st != AGLM_OK)
        return st;
    if (ydoc_map_len(m) != 1)
        return ydoc_fail(d, m, AGLM_ERR_PARSE,
                         "%s: a mapping value holds exactly one of tensor, tensors, graph, graphs",
                         what);
    yaml_node_t *key, *v;
    ydoc_map_pair(d, m, 0, &key, &v);
    const char *kind = (const char *)key->data.scalar.value;
    if (strcmp(kind, "tensor") == 0) {
        aglm_tensor t;
        if ((st = read_attr_tensor(c, v, what, &t)) != AGLM_OK)
            return st;
        st = ir_result(c, v, what, aglm_node_set_tensor(n, name, &t));
        aglm_tensor_free(&t);
        return st;
    }
    if (strcmp(kind, "tensors") == 0)
        return set_tensors(c, n, name, v, what);
    if (strcmp(kind, "graphs") == 0)
        return set_graphs(c, n, name, v, what);
    char sub_name[160];
    snprintf(sub_name, sizeof sub_name, "%s_%s", aglm_node_name(n), name);
    aglm_graph *sub = NULL;
    if ((st = yml_build_subgraph(c, aglm_node_graph(n), v, sub_name, &sub)) != AGLM_OK)
        return st;
    if ((st = ir_result(c, v, what, aglm_node_set_graph(n, name, sub))) != AGLM_OK)
        aglm_graph_free(sub);
    return st;
}

aglm_status yml_set_attrs(yml_ctx *c, aglm_node *n, const yaml_node_t *attrs, const char *who)
{
    ydoc *d = c->doc;
    if (!ydoc_is_map(attrs))
        return ydoc_fail(d, attrs, AGLM_ERR_PARSE, "%s: attrs must be a mapping, not %s", who,
                         ydoc_kind_name(attrs));
    size_t count = ydoc_map_len(attrs);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *key, *v;
        ydoc_map_pair(d, attrs, i, &key, &v);
        const char *name;
        aglm_status st = ydoc_text(d, key, "an attribute name", &name);
        if (st != AGLM_OK)
            return st;
        for (size_t j = 0; j < i; j++) {
            yaml_node_t *k2, *v2;
            ydoc_map_pair(d, attrs, j, &k2, &v2);
            if (ydoc_is_scalar(k2) && strcmp((const char *)k2->data.scalar.value, name) == 0)
                return ydoc_fail(d, key, AGLM_ERR_PARSE, "%s: attribute '%s' is given twice", who,
                                 name);
        }
        char what[256];
        snprintf(what, sizeof what, "%s: attribute '%s'", who, name);
        if (ydoc_is_scalar(v))
            st = set_scalar(c, n, name, v, what);
        else if (ydoc_is_seq(v))
            st = set_list(c, n, name, v, what);
        else
            st = set_wrapped(c, n, name, v, what);
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}
