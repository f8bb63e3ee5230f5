/* Model-local functions (ModelProto.functions) are inlined where they are called: the body's
 * nodes are added to the calling graph with their values renamed "<caller>/<name>", the
 * function's inputs and outputs bound to the call's, and ref_attr_name resolved against the
 * call's attributes. Backends then see only ordinary ops. A function that calls itself, directly
 * or not, is an error. */
#include "onnx_frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int same_domain(ox_str a, ox_str b)
{
    int ao = a.n == 0 || ox_str_eq(a, "ai.onnx"), bo = b.n == 0 || ox_str_eq(b, "ai.onnx");
    return ao || bo ? ao && bo : ox_str_same(a, b);
}

const ox_function *ox_find_function(const ox_build *b, const ox_node *np, size_t *index)
{
    const ox_model *m = b->model;
    for (size_t i = 0; m && i < m->n_functions; i++) {
        const ox_function *fn = &m->functions[i];
        if (ox_str_same(fn->name, np->op) && same_domain(fn->domain, np->domain) &&
            ox_str_same(fn->overload, np->overload)) {
            *index = i;
            return fn;
        }
    }
    return NULL;
}

/* Imports the function's opsets that the model lacks, so its nodes' domains are known. */
static aglm_status import_opsets(ox_build *b, const ox_function *fn)
{
    for (size_t i = 0; i < fn->n_opsets; i++) {
        char *d;
        aglm_status st = ox_cstr(fn->opsets[i].domain, "domain", &d);
        if (st != AGLM_OK)
            return st;
        const char *dom = strcmp(d, "ai.onnx") == 0 ? "" : d;
        if (fn->opsets[i].version > 0 && aglm_graph_opset(b->top, dom) == 0)
            st = aglm_graph_set_opset(b->top, dom, fn->opsets[i].version);
        free(d);
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

/* A call's input or output i, or an empty name when the call does not give it. */
static ox_str arg(const ox_str *list, size_t n, size_t i)
{
    return i < n ? list[i] : (ox_str){0};
}

/* Binds the function's inputs and outputs in fs to the call's values. */
static aglm_status bind(const ox_scope *caller, ox_scope *fs, const ox_node *np,
                        const ox_function *fn, const char *who)
{
    aglm_status st;
    for (size_t i = 0; i < fn->n_inputs; i++) {
        ox_str a = arg(np->inputs, np->n_inputs, i);
        aglm_value *v = NULL;
        if (a.n && !ox_scope_lookup(caller, a, &v))
            return aglm_error(AGLM_ERR_NOT_FOUND, "%s: input %zu '%.*s' is not defined", who, i,
                              OX_FMT(a));
        if ((st = ox_scope_put(fs, fn->inputs[i], v)) != AGLM_OK)
            return st;
    }
    for (size_t i = 0; i < fn->n_outputs; i++) {
        ox_str a = arg(np->outputs, np->n_outputs, i);
        aglm_value *v;
        if (!a.n || ox_scope_get(fs, fn->outputs[i], &v))
            continue; /* not wanted, or an input passed through (an Identity is added later) */
        ox_scope_get(caller, a, &v); /* declared by the caller's ox_declare_outputs */
        if ((st = ox_scope_put(fs, fn->outputs[i], v)) != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

/* Call outputs the body left unproduced: a function output that is one of its inputs. */
static aglm_status pass_through(ox_scope *caller, const ox_scope *fs, const ox_node *np,
                                const ox_function *fn, const char *who)
{
    for (size_t i = 0; i < fn->n_outputs && i < np->n_outputs; i++) {
        aglm_value *out = NULL, *src = NULL;
        if (!np->outputs[i].n || !ox_scope_get(caller, np->outputs[i], &out) ||
            aglm_value_producer(out))
            continue;
        if (!ox_scope_get(fs, fn->outputs[i], &src) || !src || src == out)
            return aglm_error(AGLM_ERR_INVALID, "%s: function output '%.*s' is never produced", who,
                              OX_FMT(fn->outputs[i]));
        if (!aglm_graph_add_node(caller->g, "Identity", "", NULL, 1, &src, 1, &out))
            return aglm_error_wrap(AGLM_ERR_INVALID, "%s", who);
    }
    return AGLM_OK;
}

aglm_status ox_inline_call(ox_build *b, ox_scope *sc, const ox_node *np, const char *who,
                           size_t index, const ox_call *call)
{
    const ox_function *fn = &b->model->functions[index];
    if (b->fn_active[index])
        return aglm_error(AGLM_ERR_INVALID,
                          "%s: function '%.*s' calls itself (recursion is not allowed)", who,
                          OX_FMT(fn->name));
    if (b->call_depth >= OX_MAX_CALL_DEPTH)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: functions nest more than %d deep", who,
                          OX_MAX_CALL_DEPTH);
    char prefix[512];
    if (np->name.n)
        snprintf(prefix, sizeof prefix, "%s%.*s/", call ? call->prefix : "", OX_FMT(np->name));
    else
        snprintf(prefix, sizeof prefix, "%s%.*s_%llu/", call ? call->prefix : "", OX_FMT(fn->name),
                 (unsigned long long)b->fresh++);
    ox_call frame = {fn, np, call, prefix};
    ox_scope fs;
    /* a function body sees only its own inputs, not the caller's scope */
    ox_scope_init(&fs, sc->g, NULL);
    b->fn_active[index] = 1;
    b->call_depth++;
    aglm_status st = import_opsets(b, fn);
    if (st == AGLM_OK)
        st = bind(sc, &fs, np, fn, who);
    if (st == AGLM_OK)
        st = ox_declare_outputs(&fs, fn->nodes, fn->n_nodes, prefix, fn);
    for (size_t i = 0; i < fn->n_nodes && st == AGLM_OK; i++)
        st = ox_build_node(b, &fs, &fn->nodes[i], i, &frame);
    for (size_t i = 0; i < fn->n_value_info && st == AGLM_OK; i++) {
        aglm_value *v;
        char what[300];
        if (!fn->value_info[i].has_type || !ox_scope_get(&fs, fn->value_info[i].name, &v) || !v ||
            !aglm_value_producer(v) || aglm_value_dtype(v) != AGLM_UNDEFINED)
            continue;
        snprintf(what, sizeof what, "value_info '%.*s'", OX_FMT(fn->value_info[i].name));
        st = ox_apply_type(&fn->value_info[i].type, v, what);
    }
    if (st == AGLM_OK)
        st = pass_through(sc, &fs, np, fn, who);
    b->call_depth--;
    b->fn_active[index] = 0;
    ox_scope_free(&fs);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "%s: in function '%.*s'", who, OX_FMT(fn->name));
    return AGLM_OK;
}
