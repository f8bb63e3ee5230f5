/* The IR text parser (grammar in docs/ir-text.md). Recursive descent over ir_lex.c's tokens;
 * every error is "line L, column C: ..." and frees everything built so far. Values may be used
 * before the statement defining them (graphs printed before toposort), within one graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir_parse.h"

typedef struct pending {
    aglm_value *v;
    int line, col;
} pending;

typedef struct outref {
    char *name;
    int typed;
    ptype type;
    int line, col;
} outref;

/* What the parser knows about the graph being read. */
typedef struct frame {
    aglm_graph *g;
    ptrmap defined; /* values some statement (or the signature) defined */
    pending *pend;  /* values used before any definition, with where they were first used */
    size_t n_pend, cap_pend;
    outref *outs;
    size_t n_outs, cap_outs;
} frame;

/* ---- values ------------------------------------------------------------------------------ */

static aglm_status mark_defined(frame *f, aglm_value *v, const token *t)
{
    return ptrmap_put(&f->defined, v, (void *)1) ? ir_nomem_at(t) : AGLM_OK;
}

/* The value `name` reads: this graph's or an enclosing graph's, or a placeholder until a later
 * statement defines it. */
static aglm_status resolve_use(frame *f, const char *name, const token *t, aglm_value **out)
{
    *out = aglm_graph_lookup_value(f->g, name);
    if (*out)
        return AGLM_OK;
    if (grow_array((void **)&f->pend, &f->cap_pend, f->n_pend + 1, sizeof *f->pend))
        return ir_nomem_at(t);
    if (!(*out = aglm_graph_new_value(f->g, name, AGLM_UNDEFINED, -1, NULL)))
        return ir_api_err(t, AGLM_ERR_NOMEM);
    f->pend[f->n_pend].v = *out;
    f->pend[f->n_pend].line = t->line;
    f->pend[f->n_pend++].col = t->col;
    return AGLM_OK;
}

/* Defines `name` in this graph with type ty (NULL: unknown), taking over a placeholder. With
 * reuse_const, a constant may also become a node output (a folded value not yet detached). */
static aglm_status define_value(frame *f, const char *name, const ptype *ty, const token *t,
                                int reuse_const, aglm_value **out)
{
    aglm_value *v = aglm_graph_find_value(f->g, name);
    aglm_status st;
    if (v && ptrmap_has(&f->defined, v) && !(reuse_const && v->has_const && !v->producer))
        return ir_err_at(t->line, t->col, "value %%%s is already defined", name);
    if (!v) {
        v = aglm_graph_new_value(f->g, name, ty ? ty->dt : AGLM_UNDEFINED, ty ? ty->rank : -1,
                                 ty ? ty->dims : NULL);
        if (!v)
            return ir_api_err(t, AGLM_ERR_NOMEM);
    } else if (ty && (st = aglm_value_set_type(v, ty->dt, ty->rank, ty->dims)) != AGLM_OK) {
        return ir_api_err(t, st);
    }
    *out = v;
    return mark_defined(f, v, t);
}

/* '%name' [':' type], or (with allow_absent) '_' giving *name NULL. */
static aglm_status parse_decl(parser *p, frame *f, int allow_absent, char **name, int *typed,
                              ptype *ty)
{
    *name = NULL;
    *typed = 0;
    if (allow_absent && tok_is(&p->lx.cur, "_")) {
        lex_next(&p->lx);
        return AGLM_OK;
    }
    aglm_status st = ir_parse_value_name(p, name);
    if (st == AGLM_OK && ir_accept(p, ':')) {
        *typed = 1;
        if ((st = ir_parse_type(p, f->g, ty)) != AGLM_OK) {
            free(*name);
            *name = NULL;
        }
    }
    return st;
}

/* ---- signature and simple statements ----------------------------------------------------- */

static aglm_status parse_params(parser *p, frame *f)
{
    aglm_status st = ir_expect(p, '(');
    if (st != AGLM_OK || ir_accept(p, ')'))
        return st;
    do {
        token t = p->lx.cur;
        char *name;
        int typed;
        ptype ty;
        if ((st = parse_decl(p, f, 0, &name, &typed, &ty)) != AGLM_OK)
            return st;
        aglm_value *v = NULL;
        if (aglm_graph_find_value(f->g, name))
            st = ir_err_at(t.line, t.col, "input %%%s is declared twice", name);
        else if ((st = define_value(f, name, typed ? &ty : NULL, &t, 0, &v)) == AGLM_OK &&
                 (st = aglm_graph_add_input(f->g, v)) != AGLM_OK)
            st = ir_api_err(&t, st);
        free(name);
        if (st != AGLM_OK)
            return st;
    } while (ir_accept(p, ','));
    return ir_expect(p, ')');
}

static aglm_status parse_results(parser *p, frame *f)
{
    aglm_status st = ir_expect(p, '(');
    if (st != AGLM_OK || ir_accept(p, ')'))
        return st;
    do {
        token t = p->lx.cur;
        if (grow_array((void **)&f->outs, &f->cap_outs, f->n_outs + 1, sizeof *f->outs))
            return ir_nomem_at(&t);
        outref *o = &f->outs[f->n_outs];
        if ((st = parse_decl(p, f, 0, &o->name, &o->typed, &o->type)) != AGLM_OK)
            return st;
        o->line = t.line;
        o->col = t.col;
        f->n_outs++;
    } while (ir_accept(p, ','));
    return ir_expect(p, ')');
}

/* A domain: identifiers joined by '.', or one quoted string. */
static aglm_status parse_domain(parser *p, char **out)
{
    aglm_status st = ir_parse_name(p, "a domain", out);
    while (st == AGLM_OK && tok_punct(&p->lx.cur, '.')) {
        lex_next(&p->lx);
        char *seg;
        if ((st = ir_parse_name(p, "a domain part", &seg)) != AGLM_OK)
            break;
        size_t a = strlen(*out), b = strlen(seg);
        char *joined = realloc(*out, a + b + 2);
        if (!joined) {
            free(seg);
            st = ir_nomem_at(&p->lx.cur);
            break;
        }
        joined[a] = '.';
        memcpy(joined + a + 1, seg, b + 1);
        free(seg);
        *out = joined;
    }
    if (st != AGLM_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

static aglm_status parse_opset(parser *p, frame *f)
{
    token t = p->lx.cur;
    char *domain;
    int64_t version;
    aglm_status st = parse_domain(p, &domain);
    if (st != AGLM_OK)
        return st;
    token vt = p->lx.cur;
    if ((st = ir_parse_i64(p, &version)) == AGLM_OK) {
        if (version <= 0)
            st = ir_err_at(vt.line, vt.col, "opset version must be positive");
        else if (aglm_graph_opset(f->g, domain))
            st = ir_err_at(t.line, t.col, "opset %s is imported twice", domain);
        else if ((st = aglm_graph_set_opset(f->g, domain, version)) != AGLM_OK)
            st = ir_api_err(&t, st);
    }
    free(domain);
    return st;
}

static aglm_status parse_meta(parser *p, frame *f)
{
    token t = p->lx.cur;
    char *key = NULL, *val = NULL;
    aglm_status st = ir_parse_name(p, "a metadata key", &key);
    if (st == AGLM_OK)
        st = ir_expect(p, '=');
    if (st == AGLM_OK && p->lx.cur.kind != T_STRING)
        st = ir_unexpected(p, "a string");
    if (st == AGLM_OK)
        st = ir_parse_name(p, "a metadata value", &val);
    if (st == AGLM_OK && aglm_graph_meta(f->g, key))
        st = ir_err_at(t.line, t.col, "metadata '%s' is given twice", key);
    if (st == AGLM_OK && (st = aglm_graph_set_meta(f->g, key, val)) != AGLM_OK)
        st = ir_api_err(&t, st);
    free(key);
    free(val);
    return st;
}

static aglm_status parse_const(parser *p, frame *f)
{
    token t = p->lx.cur;
    char *name, what[300];
    ptype ty;
    aglm_status st = ir_parse_value_name(p, &name);
    if (st != AGLM_OK)
        return st;
    snprintf(what, sizeof what, "constant %%%s", name);
    aglm_value *v = aglm_graph_find_value(f->g, name);
    aglm_tensor data = {0};
    if (v && ptrmap_has(&f->defined, v) && !(v->is_input && !v->has_const))
        st = ir_err_at(t.line, t.col, "value %%%s is already defined", name);
    if (st == AGLM_OK)
        st = ir_expect(p, ':');
    if (st == AGLM_OK)
        st = ir_parse_type(p, f->g, &ty);
    if (st == AGLM_OK && ty.rank < 0)
        st = ir_err_at(t.line, t.col, "%s needs a shape ('[]' for a scalar)", what);
    if (st == AGLM_OK)
        st = ir_expect(p, '=');
    if (st == AGLM_OK)
        st = ir_parse_data(p, &ty, what, &data);
    if (st == AGLM_OK && !v && !(v = aglm_graph_new_value(f->g, name, ty.dt, ty.rank, ty.dims)))
        st = ir_api_err(&t, AGLM_ERR_NOMEM);
    if (st == AGLM_OK && (st = aglm_value_set_const(v, &data)) != AGLM_OK)
        st = ir_api_err(&t, st);
    if (st == AGLM_OK)
        st = mark_defined(f, v, &t);
    aglm_tensor_free(&data);
    free(name);
    return st;
}

static aglm_status parse_value_stmt(parser *p, frame *f)
{
    token t = p->lx.cur;
    char *name;
    int typed;
    ptype ty;
    aglm_value *v;
    aglm_status st = parse_decl(p, f, 0, &name, &typed, &ty);
    if (st != AGLM_OK)
        return st;
    st = define_value(f, name, typed ? &ty : NULL, &t, 0, &v);
    free(name);
    return st;
}

/* ---- nodes ------------------------------------------------------------------------------- */

typedef struct pout {
    char *name; /* NULL for '_' */
    int typed;
    ptype type;
    token at;
} pout;

/* The op reference: identifiers or strings joined by '.', the last being the op. */
static aglm_status parse_opref(parser *p, char **domain, char **op)
{
    *domain = NULL;
    aglm_status st = ir_parse_name(p, "an op", op);
    while (st == AGLM_OK && tok_punct(&p->lx.cur, '.')) {
        lex_next(&p->lx);
        char *seg;
        if ((st = ir_parse_name(p, "an op name", &seg)) != AGLM_OK)
            break;
        size_t a = *domain ? strlen(*domain) : 0, b = strlen(*op);
        char *d = realloc(*domain, a + b + 2);
        if (!d) {
            free(seg);
            st = ir_nomem_at(&p->lx.cur);
            break;
        }
        if (a)
            d[a++] = '.';
        memcpy(d + a, *op, b + 1);
        *domain = d;
        free(*op);
        *op = seg;
    }
    if (st != AGLM_OK) {
        free(*domain);
        free(*op);
        *domain = *op = NULL;
    }
    return st;
}

static aglm_status parse_args(parser *p, frame *f, aglm_value ***args, size_t *n)
{
    size_t cap = 0;
    aglm_status st = ir_expect(p, '(');
    *args = NULL;
    *n = 0;
    if (st != AGLM_OK || ir_accept(p, ')'))
        return st;
    do {
        token t = p->lx.cur;
        aglm_value *v = NULL;
        if (grow_array((void **)args, &cap, *n + 1, sizeof **args))
            return ir_nomem_at(&t);
        if (tok_is(&t, "_")) {
            lex_next(&p->lx);
        } else {
            char *name;
            if (t.kind != T_VALUE)
                return ir_unexpected(p, "an input (%name or '_')");
            if ((st = ir_parse_value_name(p, &name)) != AGLM_OK)
                return st;
            st = resolve_use(f, name, &t, &v);
            free(name);
            if (st != AGLM_OK)
                return st;
        }
        (*args)[(*n)++] = v;
    } while (ir_accept(p, ','));
    return ir_expect(p, ')');
}

static aglm_status parse_node(parser *p, frame *f)
{
    token start = p->lx.cur;
    pout *outs = NULL;
    size_t n_out = 0, cap = 0, n_in = 0;
    aglm_value **ins = NULL, **outv = NULL;
    char *op = NULL, *domain = NULL, *name = NULL;
    aglm_status st = AGLM_OK;
    if (p->lx.cur.kind == T_VALUE || tok_is(&p->lx.cur, "_")) {
        do {
            if (grow_array((void **)&outs, &cap, n_out + 1, sizeof *outs)) {
                st = ir_nomem_at(&p->lx.cur);
                goto done;
            }
            pout *o = &outs[n_out];
            o->at = p->lx.cur;
            if ((st = parse_decl(p, f, 1, &o->name, &o->typed, &o->type)) != AGLM_OK)
                goto done;
            n_out++;
        } while (ir_accept(p, ','));
        if ((st = ir_expect(p, '=')) != AGLM_OK)
            goto done;
    }
    token op_at = p->lx.cur;
    if ((st = parse_opref(p, &domain, &op)) != AGLM_OK ||
        (st = parse_args(p, f, &ins, &n_in)) != AGLM_OK)
        goto done;
    if (n_out && !(outv = calloc(n_out, sizeof *outv))) {
        st = ir_nomem_at(&start);
        goto done;
    }
    for (size_t i = 0; i < n_out; i++)
        if (outs[i].name &&
            (st = define_value(f, outs[i].name, outs[i].typed ? &outs[i].type : NULL, &outs[i].at,
                               1, &outv[i])) != AGLM_OK)
            goto done;
    aglm_node *n = aglm_graph_add_node(f->g, op, domain, NULL, n_in, ins, n_out, outv);
    if (!n) {
        st = ir_api_err(&op_at, AGLM_ERR_INVALID);
        goto done;
    }
    if (ir_accept(p, '{') && (st = ir_parse_attrs(p, f->g, n)) != AGLM_OK)
        goto done;
    if (tok_punct(&p->lx.cur, '@')) {
        lex_next(&p->lx);
        token nt = p->lx.cur;
        if ((st = ir_parse_name(p, "a node name", &name)) != AGLM_OK)
            goto done;
        if (!name[0])
            st = ir_err_at(nt.line, nt.col, "a node name cannot be empty");
        else if ((st = node_rename(n, name)) != AGLM_OK)
            st = ir_api_err(&nt, st);
    }
done:
    for (size_t i = 0; i < n_out; i++)
        free(outs[i].name);
    free(outs);
    free(outv);
    free(ins);
    free(op);
    free(domain);
    free(name);
    return st;
}

/* ---- graphs ------------------------------------------------------------------------------ */

static aglm_status parse_body(parser *p, frame *f)
{
    aglm_status st = ir_expect(p, '{');
    while (st == AGLM_OK && !tok_punct(&p->lx.cur, '}')) {
        const token *t = &p->lx.cur;
        if (tok_is(t, "opset")) {
            lex_next(&p->lx);
            st = parse_opset(p, f);
        } else if (tok_is(t, "meta")) {
            lex_next(&p->lx);
            st = parse_meta(p, f);
        } else if (tok_is(t, "const")) {
            lex_next(&p->lx);
            st = parse_const(p, f);
        } else if (tok_is(t, "value")) {
            lex_next(&p->lx);
            st = parse_value_stmt(p, f);
        } else if (t->kind == T_VALUE || t->kind == T_IDENT || t->kind == T_STRING) {
            st = parse_node(p, f);
        } else {
            st = ir_unexpected(p, "a statement or '}'");
        }
    }
    if (st == AGLM_OK)
        lex_next(&p->lx); /* '}' */
    return st;
}

/* After the body: every placeholder got defined, and the outputs name visible values. */
static aglm_status finish_graph(frame *f)
{
    for (size_t i = 0; i < f->n_pend; i++)
        if (!ptrmap_has(&f->defined, f->pend[i].v))
            return ir_err_at(f->pend[i].line, f->pend[i].col,
                             "value %%%s is used but never defined (a subgraph can only read outer "
                             "values defined "
                             "before it)",
                             f->pend[i].v->name);
    for (size_t i = 0; i < f->n_outs; i++) {
        const outref *o = &f->outs[i];
        aglm_value *v = aglm_graph_lookup_value(f->g, o->name);
        if (!v)
            return ir_err_at(o->line, o->col, "output %%%s is never defined", o->name);
        if (o->typed && !ir_type_equal(&o->type, v)) {
            char have[128], want[128];
            return ir_err_at(o->line, o->col, "output %%%s is declared %s but defined as %s",
                             o->name, ir_ptype_str(&o->type, want, sizeof want),
                             aglm_value_type_str(v, have, sizeof have));
        }
        aglm_status st = aglm_graph_add_output(f->g, v);
        if (st != AGLM_OK)
            return aglm_error_wrap(st, "line %d, column %d", o->line, o->col);
    }
    return AGLM_OK;
}

aglm_status ir_parse_graph(parser *p, aglm_graph *parent, aglm_graph **out)
{
    *out = NULL;
    token t = p->lx.cur;
    if (!tok_is(&t, "graph"))
        return ir_unexpected(p, "'graph'");
    if (p->depth >= MAX_DEPTH)
        return ir_err_at(t.line, t.col, "graphs are nested more than %d deep", MAX_DEPTH);
    lex_next(&p->lx);
    char *name;
    aglm_status st = ir_parse_name(p, "a graph name", &name);
    if (st != AGLM_OK)
        return st;
    frame f = {0};
    f.g = parent ? aglm_graph_new_subgraph(parent, name) : aglm_graph_new(name);
    free(name);
    if (!f.g)
        return ir_api_err(&t, AGLM_ERR_NOMEM);
    p->depth++;
    st = parse_params(p, &f);
    if (st == AGLM_OK && p->lx.cur.kind != T_ARROW)
        st = ir_unexpected(p, "'->'");
    if (st == AGLM_OK) {
        lex_next(&p->lx);
        st = parse_results(p, &f);
    }
    if (st == AGLM_OK)
        st = parse_body(p, &f);
    if (st == AGLM_OK)
        st = finish_graph(&f);
    p->depth--;
    ptrmap_free(&f.defined);
    free(f.pend);
    for (size_t i = 0; i < f.n_outs; i++)
        free(f.outs[i].name);
    free(f.outs);
    if (st != AGLM_OK) {
        graph_free_tree(f.g, 1);
        return st;
    }
    *out = f.g;
    return AGLM_OK;
}

aglm_status aglm_graph_parse(const char *text, aglm_graph **out)
{
    if (!out)
        return aglm_error(AGLM_ERR_INVALID, "parse: out is NULL");
    *out = NULL;
    if (!text)
        return aglm_error(AGLM_ERR_INVALID, "parse: text is NULL");
    parser p = {0};
    lex_init(&p.lx, text);
    aglm_graph *g;
    aglm_status st = ir_parse_graph(&p, NULL, &g);
    if (st == AGLM_OK && p.lx.cur.kind != T_EOF) {
        st = ir_unexpected(&p, "end of input");
        graph_free_tree(g, 1);
    }
    if (st == AGLM_OK)
        *out = g;
    return st;
}
