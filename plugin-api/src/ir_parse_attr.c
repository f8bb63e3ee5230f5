/* The IR text parser's attributes: every kind has its own syntax (docs/ir-text.md), so a value
 * is parsed to its kind first and then set on the node. */
#include <stdlib.h>
#include <string.h>
#include "ir_parse.h"

/* ---- attributes -------------------------------------------------------------------------- */

/* One parsed attribute value, before it is set on the node. */
typedef struct pattr {
    aglm_attr_type type;
    int64_t i;
    float f;
    char *s;
    size_t s_len;
    aglm_tensor t;
    aglm_graph *g;
    /* lists */
    size_t count, cap;
    int64_t *ints;
    float *floats;
    char **strings;
    aglm_tensor *tensors;
    aglm_graph **graphs;
} pattr;

static void pattr_free(pattr *a)
{
    free(a->s);
    aglm_tensor_free(&a->t);
    aglm_graph_free(a->g);
    free(a->ints);
    free(a->floats);
    for (size_t i = 0; a->strings && i < a->count; i++)
        free(a->strings[i]);
    free(a->strings);
    for (size_t i = 0; a->tensors && i < a->count; i++)
        aglm_tensor_free(&a->tensors[i]);
    free(a->tensors);
    for (size_t i = 0; a->graphs && i < a->count; i++)
        aglm_graph_free(a->graphs[i]);
    free(a->graphs);
    memset(a, 0, sizeof *a);
}

static aglm_status parse_tensor_literal(parser *p, aglm_graph *g, aglm_tensor *t)
{
    token at = p->lx.cur;
    ptype ty;
    lex_next(&p->lx); /* 'tensor' */
    aglm_status st = ir_parse_type(p, g, &ty);
    if (st == AGLM_OK && ty.rank < 0)
        st = ir_err_at(at.line, at.col, "a tensor needs a shape ('[]' for a scalar)");
    return st == AGLM_OK ? ir_parse_data(p, &ty, "tensor", t) : st;
}

/* One element (or a whole scalar attribute): number, string, tensor or graph. */
static aglm_status parse_scalar(parser *p, aglm_graph *g, pattr *a)
{
    const token *t = &p->lx.cur;
    char buf[80];
    aglm_status st;
    memset(a, 0, sizeof *a);
    if (t->kind == T_NUMBER && !t->is_float) {
        a->type = AGLM_ATTR_INT;
        return ir_parse_i64(p, &a->i);
    }
    if (t->kind == T_NUMBER || ir_is_float_word(t)) {
        if ((st = ir_float_text(p, buf, sizeof buf)) != AGLM_OK)
            return st;
        a->type = AGLM_ATTR_FLOAT;
        a->f = strtof(buf, NULL);
        lex_next(&p->lx);
        return AGLM_OK;
    }
    if (t->kind == T_STRING) {
        if (!(a->s = lex_string(t, &a->s_len)))
            return ir_nomem_at(t);
        a->type = AGLM_ATTR_STRING;
        lex_next(&p->lx);
        return AGLM_OK;
    }
    if (tok_is(t, "tensor")) {
        a->type = AGLM_ATTR_TENSOR;
        return parse_tensor_literal(p, g, &a->t);
    }
    if (tok_is(t, "graph")) {
        a->type = AGLM_ATTR_GRAPH;
        return ir_parse_graph(p, g, &a->g);
    }
    return ir_unexpected(p, "an attribute value (number, string, list, tensor or graph)");
}

static aglm_attr_type list_of(aglm_attr_type t)
{
    switch (t) {
    case AGLM_ATTR_INT: return AGLM_ATTR_INTS;
    case AGLM_ATTR_FLOAT: return AGLM_ATTR_FLOATS;
    case AGLM_ATTR_STRING: return AGLM_ATTR_STRINGS;
    case AGLM_ATTR_TENSOR: return AGLM_ATTR_TENSORS;
    default: return AGLM_ATTR_GRAPHS;
    }
}

/* Moves element e into list a (whose type is settled), widening ints to floats as needed. */
static aglm_status list_append(pattr *a, pattr *e, const token *t)
{
    size_t cap = a->cap, n = a->count + 1;
    int fail = 0;
    switch (a->type) {
    case AGLM_ATTR_INTS: fail = grow_array((void **)&a->ints, &cap, n, sizeof *a->ints); break;
    case AGLM_ATTR_FLOATS:
        fail = grow_array((void **)&a->floats, &cap, n, sizeof *a->floats);
        break;
    case AGLM_ATTR_STRINGS:
        fail = grow_array((void **)&a->strings, &cap, n, sizeof *a->strings);
        break;
    case AGLM_ATTR_TENSORS:
        fail = grow_array((void **)&a->tensors, &cap, n, sizeof *a->tensors);
        break;
    default: fail = grow_array((void **)&a->graphs, &cap, n, sizeof *a->graphs); break;
    }
    if (fail)
        return ir_nomem_at(t);
    a->cap = cap;
    switch (a->type) {
    case AGLM_ATTR_INTS: a->ints[a->count] = e->i; break;
    case AGLM_ATTR_FLOATS:
        a->floats[a->count] = e->type == AGLM_ATTR_INT ? (float)e->i : e->f;
        break;
    case AGLM_ATTR_STRINGS:
        a->strings[a->count] = e->s;
        e->s = NULL;
        break;
    case AGLM_ATTR_TENSORS:
        a->tensors[a->count] = e->t;
        memset(&e->t, 0, sizeof e->t);
        break;
    default:
        a->graphs[a->count] = e->g;
        e->g = NULL;
        break;
    }
    a->count++;
    return AGLM_OK;
}

/* Turns an ints list into a floats list when a float element shows up. */
static aglm_status widen_to_floats(pattr *a, const token *t)
{
    float *f = malloc((a->cap ? a->cap : 1) * sizeof *f);
    if (!f)
        return ir_nomem_at(t);
    for (size_t i = 0; i < a->count; i++)
        f[i] = (float)a->ints[i];
    free(a->ints);
    a->ints = NULL;
    a->floats = f;
    a->type = AGLM_ATTR_FLOATS;
    return AGLM_OK;
}

static aglm_status parse_list(parser *p, aglm_graph *g, aglm_attr_type forced, pattr *a)
{
    memset(a, 0, sizeof *a);
    a->type = forced;
    token open = p->lx.cur;
    aglm_status st = ir_expect(p, '[');
    if (st != AGLM_OK || ir_accept(p, ']')) {
        if (st == AGLM_OK && !forced)
            st = ir_err_at(
                open.line, open.col,
                "an empty list needs its kind: ints[], floats[], strings[], tensors[] or graphs[]");
        return st;
    }
    do {
        token t = p->lx.cur;
        pattr e;
        if ((st = parse_scalar(p, g, &e)) != AGLM_OK)
            return st;
        aglm_attr_type want = list_of(e.type);
        if (!a->type)
            a->type = want;
        if (a->type == AGLM_ATTR_INTS && want == AGLM_ATTR_FLOATS && !forced)
            st = widen_to_floats(a, &t);
        else if (a->type != want && !(a->type == AGLM_ATTR_FLOATS && want == AGLM_ATTR_INTS))
            st = ir_err_at(t.line, t.col, "a list cannot mix kinds: expected %s",
                           a->type == AGLM_ATTR_INTS      ? "an integer"
                           : a->type == AGLM_ATTR_FLOATS  ? "a number"
                           : a->type == AGLM_ATTR_STRINGS ? "a string"
                           : a->type == AGLM_ATTR_TENSORS ? "a tensor"
                                                          : "a graph");
        if (st == AGLM_OK)
            st = list_append(a, &e, &t);
        pattr_free(&e);
        if (st != AGLM_OK)
            return st;
    } while (ir_accept(p, ','));
    return ir_expect(p, ']');
}

static aglm_status parse_attr_value(parser *p, aglm_graph *g, pattr *a)
{
    static const struct {
        const char *word;
        aglm_attr_type type;
    } kinds[] = {{"ints", AGLM_ATTR_INTS},
                 {"floats", AGLM_ATTR_FLOATS},
                 {"strings", AGLM_ATTR_STRINGS},
                 {"tensors", AGLM_ATTR_TENSORS},
                 {"graphs", AGLM_ATTR_GRAPHS}};
    const token *t = &p->lx.cur;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (tok_is(t, kinds[i].word)) {
            lex_next(&p->lx);
            return parse_list(p, g, kinds[i].type, a);
        }
    if (tok_punct(t, '['))
        return parse_list(p, g, AGLM_ATTR_UNDEFINED, a);
    return parse_scalar(p, g, a);
}

/* Sets a on n; graphs move to the node (and out of a) only on success. */
static aglm_status set_attr(aglm_node *n, const char *name, pattr *a)
{
    aglm_status st;
    switch (a->type) {
    case AGLM_ATTR_INT: return aglm_node_set_int(n, name, a->i);
    case AGLM_ATTR_FLOAT: return aglm_node_set_float(n, name, a->f);
    case AGLM_ATTR_STRING: return aglm_node_set_string(n, name, a->s, a->s_len);
    case AGLM_ATTR_TENSOR: return aglm_node_set_tensor(n, name, &a->t);
    case AGLM_ATTR_INTS: return aglm_node_set_ints(n, name, a->ints, a->count);
    case AGLM_ATTR_FLOATS: return aglm_node_set_floats(n, name, a->floats, a->count);
    case AGLM_ATTR_STRINGS:
        return aglm_node_set_strings(n, name, (const char *const *)a->strings, a->count);
    case AGLM_ATTR_TENSORS: return aglm_node_set_tensors(n, name, a->tensors, a->count);
    case AGLM_ATTR_GRAPH:
        if ((st = aglm_node_set_graph(n, name, a->g)) == AGLM_OK)
            a->g = NULL;
        return st;
    default:
        if ((st = aglm_node_set_graphs(n, name, a->graphs, a->count)) == AGLM_OK)
            a->count = 0;
        return st;
    }
}

aglm_status ir_parse_attrs(parser *p, aglm_graph *g, aglm_node *n)
{
    aglm_status st;
    if (ir_accept(p, '}'))
        return AGLM_OK;
    do {
        token t = p->lx.cur;
        char *name;
        pattr a = {0};
        if ((st = ir_parse_name(p, "an attribute name", &name)) != AGLM_OK)
            return st;
        if (aglm_node_attr(n, name))
            st = ir_err_at(t.line, t.col, "attribute '%s' is given twice", name);
        if (st == AGLM_OK)
            st = ir_expect(p, '=');
        if (st == AGLM_OK)
            st = parse_attr_value(p, g, &a);
        if (st == AGLM_OK && (st = set_attr(n, name, &a)) != AGLM_OK)
            st = ir_api_err(&t, st);
        pattr_free(&a);
        free(name);
        if (st != AGLM_OK)
            return st;
    } while (ir_accept(p, ','));
    return ir_expect(p, '}');
}
