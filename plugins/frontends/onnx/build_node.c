/* NodeProto -> aglm node: op and domain (checked against the opset imports), inputs looked up
 * through the scopes, outputs declared beforehand, then the attributes. A node that calls a
 * model-local function is inlined instead. */
#include "onnx_frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ox_node_label(const ox_node *np, size_t index, char *buf, size_t n)
{
    char op[160];
    if (np->domain.n && !ox_str_eq(np->domain, "ai.onnx"))
        snprintf(op, sizeof op, "%.*s.%.*s", OX_FMT(np->domain), OX_FMT(np->op));
    else
        snprintf(op, sizeof op, "%.*s", OX_FMT(np->op));
    if (np->name.n)
        snprintf(buf, n, "node '%.*s' (%s)", OX_FMT(np->name), op);
    else
        snprintf(buf, n, "node #%zu (%s)", index, op);
}

/* The version of `domain` a node binds to: its function's import first, then the model's. */
static int64_t domain_version(const ox_build *b, ox_str domain, const ox_call *call)
{
    int onnx = domain.n == 0 || ox_str_eq(domain, "ai.onnx");
    for (; call; call = call->outer)
        for (size_t i = 0; i < call->fn->n_opsets; i++) {
            ox_str d = call->fn->opsets[i].domain;
            if (onnx ? (d.n == 0 || ox_str_eq(d, "ai.onnx")) : ox_str_same(d, domain))
                return call->fn->opsets[i].version;
        }
    char *c;
    if (ox_cstr(domain, "domain", &c) != AGLM_OK) {
        aglm_clear_error();
        return 0;
    }
    int64_t v = aglm_graph_opset(b->top, onnx ? "" : c);
    free(c);
    return v;
}

/* Node inputs: "" is an absent optional input; trailing absent ones are dropped. */
static aglm_status resolve_inputs(const ox_scope *sc, const ox_node *np, const char *who,
                                  aglm_value **vals, size_t *n)
{
    size_t count = np->n_inputs;
    while (count && np->inputs[count - 1].n == 0)
        count--;
    for (size_t i = 0; i < count; i++) {
        vals[i] = NULL;
        if (np->inputs[i].n && !ox_scope_lookup(sc, np->inputs[i], &vals[i]))
            return aglm_error(AGLM_ERR_NOT_FOUND, "%s: input %zu '%.*s' is not defined", who, i,
                              OX_FMT(np->inputs[i]));
    }
    *n = count;
    return AGLM_OK;
}

/* Node outputs, declared in sc by ox_declare_outputs; "" is an output nobody asked for. */
static void resolve_outputs(const ox_scope *sc, const ox_node *np, aglm_value **vals, size_t *n)
{
    size_t count = np->n_outputs;
    while (count && np->outputs[count - 1].n == 0)
        count--;
    for (size_t i = 0; i < count; i++) {
        vals[i] = NULL;
        if (np->outputs[i].n)
            ox_scope_get(sc, np->outputs[i], &vals[i]);
    }
    *n = count;
}

aglm_status ox_build_node(ox_build *b, ox_scope *sc, const ox_node *np, size_t index,
                          const ox_call *call)
{
    char who[400];
    ox_node_label(np, index, who, sizeof who);
    if (np->op.n == 0)
        return aglm_error(AGLM_ERR_PARSE, "%s has no op_type", who);
    size_t fn_index;
    if (ox_find_function(b, np, &fn_index))
        return ox_inline_call(b, sc, np, who, fn_index, call);

    int onnx = np->domain.n == 0 || ox_str_eq(np->domain, "ai.onnx");
    char *op = NULL, *domain = NULL, *name = NULL;
    aglm_value **vals = NULL;
    aglm_status st;
    if ((st = ox_cstr(np->op, "op_type", &op)) != AGLM_OK ||
        (st = ox_cstr(onnx ? (ox_str){0} : np->domain, "domain", &domain)) != AGLM_OK ||
        (st = ox_cstr(np->name, "node name", &name)) != AGLM_OK) {
        st = aglm_error_wrap(st, "%s", who);
        goto done;
    }
    if (domain_version(b, np->domain, call) == 0) {
        st = aglm_error(AGLM_ERR_NOT_FOUND,
                        "%s: domain '%s' is not imported (the model's opset_import has no "
                        "entry for it)",
                        who, onnx ? "ai.onnx" : domain);
        goto done;
    }
    if (onnx && b->old_opset && (st = ox_check_old_op(b->old_opset, op, who)) != AGLM_OK)
        goto done;

    size_t n_in = 0, n_out = 0;
    vals = calloc(np->n_inputs + np->n_outputs + 1, sizeof *vals);
    if (!vals) {
        st = aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", who);
        goto done;
    }
    if ((st = resolve_inputs(sc, np, who, vals, &n_in)) != AGLM_OK)
        goto done;
    resolve_outputs(sc, np, vals + n_in, &n_out);
    char *full = name;
    char buf[512];
    if (call && name[0]) {
        snprintf(buf, sizeof buf, "%s%s", call->prefix, name);
        full = buf;
    }
    aglm_node *n = aglm_graph_add_node(sc->g, op, domain, full[0] ? full : NULL, n_in, vals, n_out,
                                       vals + n_in);
    if (!n) {
        st = aglm_error_wrap(AGLM_ERR_INVALID, "%s", who);
        goto done;
    }
    for (size_t i = 0; i < np->n_attrs && st == AGLM_OK; i++)
        st = ox_set_attr(b, sc, n, who, &np->attrs[i], call);
done:
    free(vals);
    free(op);
    free(domain);
    free(name);
    return st;
}
