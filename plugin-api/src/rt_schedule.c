/* Schedules (aglm/schedule.h): the support check with its one error, slots, steps bound to
 * slots, last readers and frees, and subgraphs scheduled with their captures. */
#include "aglm/schedule.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The unsupported-node error lists at most this many nodes by name. */
#define MAX_LISTED 20

typedef struct value_ref {
    const aglm_value *v;
    int32_t slot;
} value_ref;

/* ---- walking subgraphs ------------------------------------------------------------------ */

/* Calls fn on each subgraph node n holds, with the attribute's name; stops at the first error. */
static aglm_status each_subgraph(const aglm_node *n,
                                 aglm_status (*fn)(const aglm_graph *, const char *, void *),
                                 void *arg)
{
    for (size_t a = 0; a < aglm_node_num_attrs(n); a++) {
        const aglm_attr *at = aglm_node_attr_at(n, a);
        for (size_t k = 0; k < aglm_attr_num_graphs(at); k++) {
            aglm_status st = fn(aglm_attr_graph_at(at, k), aglm_attr_name(at), arg);
            if (st != AGLM_OK)
                return st;
        }
    }
    return AGLM_OK;
}

/* ---- the support check ------------------------------------------------------------------ */

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (w > 0)
        *len = *len + (size_t)w < cap ? *len + (size_t)w : cap;
}

typedef struct unsupported_list {
    const aglm_sched_backend *be;
    char text[2048];
    size_t len, bad;
} unsupported_list;

/* Lists g's unsupported nodes, those inside subgraphs included. Never fails. */
static aglm_status list_unsupported(const aglm_graph *g, const char *attr, void *arg)
{
    (void)attr;
    unsupported_list *l = arg;
    for (size_t i = 0; i < aglm_graph_num_nodes(g); i++) {
        const aglm_node *n = aglm_graph_node(g, i);
        char why[96] = "";
        int ok = l->be->supports(l->be->ctx, n, why, sizeof why);
        each_subgraph(n, list_unsupported, l);
        if (ok || l->bad++ >= MAX_LISTED)
            continue;
        const char *domain = aglm_node_domain(n);
        append(l->text, sizeof l->text, &l->len, "%s'%s' (%s%s%s%s%s)", l->bad > 1 ? ", " : "",
               aglm_node_name(n), domain && domain[0] ? domain : "", domain && domain[0] ? "." : "",
               aglm_node_op(n), why[0] ? " " : "", why);
    }
    return AGLM_OK;
}

static aglm_status check_supported(const aglm_graph *g, const aglm_sched_backend *be)
{
    if (!be->supports)
        return AGLM_OK;
    unsupported_list l;
    l.be = be;
    l.text[0] = '\0';
    l.len = l.bad = 0;
    list_unsupported(g, NULL, &l);
    if (!l.bad)
        return AGLM_OK;
    if (l.bad > MAX_LISTED)
        append(l.text, sizeof l.text, &l.len, " and %zu more", l.bad - MAX_LISTED);
    return aglm_error(AGLM_ERR_UNSUPPORTED, "backend %s cannot run %zu node%s: %s", be->name, l.bad,
                      l.bad == 1 ? "" : "s", l.text);
}

/* ---- captures --------------------------------------------------------------------------- */

typedef struct capture_set {
    const aglm_value **v;
    size_t n, cap;
    const aglm_graph *root;
} capture_set;

/* 1 when a is a strict ancestor of g. */
static int is_ancestor(const aglm_graph *a, const aglm_graph *g)
{
    for (g = aglm_graph_parent(g); g; g = aglm_graph_parent(g))
        if (g == a)
            return 1;
    return 0;
}

static aglm_status note(capture_set *cs, const aglm_value *v)
{
    if (!v || !is_ancestor(aglm_value_graph(v), cs->root))
        return AGLM_OK;
    for (size_t i = 0; i < cs->n; i++)
        if (cs->v[i] == v)
            return AGLM_OK;
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 8;
        const aglm_value **grown = realloc(cs->v, cap * sizeof *grown);
        if (!grown)
            return aglm_error(AGLM_ERR_NOMEM, "schedule: out of memory");
        cs->v = grown;
        cs->cap = cap;
    }
    cs->v[cs->n++] = v;
    return AGLM_OK;
}

/* Notes what g (root or a descendant) reads from root's ancestors. */
static aglm_status collect(const aglm_graph *g, const char *attr, void *arg)
{
    (void)attr;
    capture_set *cs = arg;
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_nodes(g) && st == AGLM_OK; i++) {
        const aglm_node *n = aglm_graph_node(g, i);
        for (size_t j = 0; j < aglm_node_num_inputs(n) && st == AGLM_OK; j++)
            st = note(cs, aglm_node_input(n, j));
        if (st == AGLM_OK)
            st = each_subgraph(n, collect, cs);
    }
    for (size_t i = 0; i < aglm_graph_num_outputs(g) && st == AGLM_OK; i++)
        st = note(cs, aglm_graph_output(g, i));
    return st;
}

/* ---- building --------------------------------------------------------------------------- */

static int cmp_ref(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const value_ref *)a)->v, y = (uintptr_t)((const value_ref *)b)->v;
    return x < y ? -1 : x > y;
}

static int32_t find_slot(const value_ref *refs, size_t n, const aglm_value *v)
{
    value_ref key = {v, -1};
    const value_ref *r = bsearch(&key, refs, n, sizeof key, cmp_ref);
    return r ? r->slot : -1;
}

typedef struct builder {
    aglm_sched *s;
    const aglm_sched_backend *be;
    value_ref *refs; /* s's values sorted by pointer */
    aglm_step *step; /* the step whose subgraphs are being scheduled */
} builder;

static aglm_status sched_build(aglm_sched *s, const aglm_sched_backend *be);

static aglm_status nomem(void)
{
    return aglm_error(AGLM_ERR_NOMEM, "schedule: out of memory");
}

/* One slot per value of the graph, then one per captured outer value. */
static aglm_status build_slots(builder *b)
{
    aglm_sched *s = b->s;
    const aglm_graph *g = s->graph;
    size_t n_values = aglm_graph_num_values(g);
    s->n_slots = n_values + s->n_captures;
    s->slots = calloc(s->n_slots ? s->n_slots : 1, sizeof *s->slots);
    b->refs = calloc(s->n_slots ? s->n_slots : 1, sizeof *b->refs);
    if (!s->slots || !b->refs)
        return nomem();
    for (size_t i = 0; i < s->n_slots; i++) {
        const aglm_value *v = i < n_values ? aglm_graph_value(g, i) : s->captures[i - n_values];
        aglm_slot *sl = &s->slots[i];
        sl->value = v;
        sl->producer = sl->last_reader = -1;
        sl->kind = AGLM_SLOT_NODE;
        if (i >= n_values) {
            sl->kind = AGLM_SLOT_OUTER;
            sl->index = i - n_values;
        } else if ((sl->constant = aglm_value_const(v)) != NULL) {
            sl->kind = AGLM_SLOT_CONST;
        }
        b->refs[i] = (value_ref){v, (int32_t)i};
    }
    qsort(b->refs, s->n_slots, sizeof *b->refs, cmp_ref);
    /* A graph input shadows an initialiser of the same value (an ONNX default the caller
     * overrides). */
    for (size_t i = 0; i < aglm_graph_num_inputs(g); i++) {
        int32_t k = find_slot(b->refs, s->n_slots, aglm_graph_input(g, i));
        if (k < 0)
            return aglm_error(AGLM_ERR_INTERNAL,
                              "schedule: graph input %zu is not a value of "
                              "the graph",
                              i);
        s->slots[k].kind = AGLM_SLOT_INPUT;
        s->slots[k].index = i;
    }
    return AGLM_OK;
}

/* Schedules one graph attribute of the step being built and maps its captures onto the calling
 * schedule's slots. */
static aglm_status schedule_sub(const aglm_graph *g, const char *attr, void *arg)
{
    builder *b = arg;
    aglm_step *step = b->step;
    aglm_sched_sub *e = &step->subs[step->n_subs];
    aglm_sched *sub = calloc(1, sizeof *sub);
    if (!sub)
        return nomem();
    e->attr = attr;
    e->sched = sub;
    step->n_subs++;
    sub->graph = g;
    sub->parent = b->s;
    size_t plen = strlen(b->s->path) + strlen(aglm_node_name(step->node)) + strlen(attr) + 5;
    char *path = malloc(plen);
    if (!path)
        return nomem();
    snprintf(path, plen, "%s%s%s::%s", b->s->path, b->s->path[0] ? "::" : "",
             aglm_node_name(step->node), attr);
    sub->path = path;
    capture_set cs = {NULL, 0, 0, g};
    aglm_status st = collect(g, attr, &cs);
    sub->captures = cs.v;
    sub->n_captures = cs.n;
    if (st == AGLM_OK)
        st = sched_build(sub, b->be);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "attribute '%s'", attr);
    e->capture_slot = calloc(sub->n_captures ? sub->n_captures : 1, sizeof *e->capture_slot);
    if (!e->capture_slot)
        return nomem();
    for (size_t c = 0; c < sub->n_captures; c++) {
        const aglm_value *v = sub->captures[c];
        int32_t k = find_slot(b->refs, b->s->n_slots, v);
        if (k < 0)
            return aglm_error(AGLM_ERR_INVALID,
                              "attribute '%s' reads '%s', which is not visible "
                              "from node '%s'",
                              attr, aglm_value_name(v), aglm_node_name(step->node));
        if (b->s->slots[k].kind == AGLM_SLOT_NODE && b->s->slots[k].producer < 0)
            return aglm_error(AGLM_ERR_INVALID,
                              "attribute '%s' reads '%s' before any node "
                              "produces it",
                              attr, aglm_value_name(v));
        e->capture_slot[c] = k;
    }
    return AGLM_OK;
}

static aglm_status count_sub(const aglm_graph *g, const char *attr, void *arg)
{
    (void)g;
    (void)attr;
    (*(size_t *)arg)++;
    return AGLM_OK;
}

static aglm_status bind_step(builder *b, size_t idx)
{
    aglm_sched *s = b->s;
    aglm_step *step = &s->steps[idx];
    const aglm_node *n = aglm_graph_node(s->graph, idx);
    const char *name = aglm_node_name(n), *op = aglm_node_op(n);
    step->node = n;
    step->schema = aglm_node_schema(n);
    step->n_in = aglm_node_num_inputs(n);
    step->n_out = aglm_node_num_outputs(n);
    aglm_status st = aglm_node_check_arity(n);
    if (st != AGLM_OK)
        return st;
    step->in = calloc(step->n_in ? step->n_in : 1, sizeof *step->in);
    step->out = calloc(step->n_out ? step->n_out : 1, sizeof *step->out);
    if (!step->in || !step->out)
        return nomem();
    for (size_t i = 0; i < step->n_in; i++) {
        const aglm_value *v = aglm_node_input(n, i);
        step->in[i] = v ? find_slot(b->refs, s->n_slots, v) : -1;
        if (v && step->in[i] < 0)
            return aglm_error(AGLM_ERR_INVALID,
                              "node '%s' (%s): input '%s' is not a value of "
                              "this graph or an enclosing one",
                              name, op, aglm_value_name(v));
        if (v && s->slots[step->in[i]].kind == AGLM_SLOT_NODE && s->slots[step->in[i]].producer < 0)
            return aglm_error(AGLM_ERR_INVALID,
                              "node '%s' (%s): input '%s' is not produced by "
                              "any earlier node",
                              name, op, aglm_value_name(v));
    }
    size_t n_subs = 0;
    each_subgraph(n, count_sub, &n_subs);
    if (n_subs) {
        if (!(step->subs = calloc(n_subs, sizeof *step->subs)))
            return nomem();
        b->step = step;
        if ((st = each_subgraph(n, schedule_sub, b)) != AGLM_OK)
            return aglm_error_wrap(st, "node '%s' (%s)", name, op);
    }
    for (size_t i = 0; i < step->n_out; i++) {
        const aglm_value *v = aglm_node_output(n, i);
        step->out[i] = v ? find_slot(b->refs, s->n_slots, v) : -1;
        if (step->out[i] < 0)
            continue;
        aglm_slot *sl = &s->slots[step->out[i]];
        if (sl->kind != AGLM_SLOT_NODE)
            return aglm_error(AGLM_ERR_INVALID,
                              "node '%s' (%s): output '%s' is a graph input "
                              "or constant",
                              name, op, aglm_value_name(v));
        sl->producer = (int32_t)idx;
    }
    if (step->n_in > s->max_in)
        s->max_in = step->n_in;
    if (step->n_out > s->max_out)
        s->max_out = step->n_out;
    return AGLM_OK;
}

static aglm_status bind_outputs(builder *b)
{
    aglm_sched *s = b->s;
    s->n_outputs = aglm_graph_num_outputs(s->graph);
    s->out_slot = calloc(s->n_outputs ? s->n_outputs : 1, sizeof *s->out_slot);
    s->out_move = calloc(s->n_outputs ? s->n_outputs : 1, 1);
    if (!s->out_slot || !s->out_move)
        return nomem();
    for (size_t i = 0; i < s->n_outputs; i++) {
        const aglm_value *v = aglm_graph_output(s->graph, i);
        int32_t k = find_slot(b->refs, s->n_slots, v);
        if (k < 0 || (s->slots[k].kind == AGLM_SLOT_NODE && s->slots[k].producer < 0))
            return aglm_error(AGLM_ERR_INVALID,
                              "backend %s: graph output '%s' is not produced "
                              "by any node",
                              b->be->name, v ? aglm_value_name(v) : "?");
        s->out_slot[i] = k;
    }
    /* The last output naming a slot takes its tensor; earlier ones copy it. */
    for (size_t i = 0; i < s->n_outputs; i++) {
        int later = 0;
        for (size_t j = i + 1; j < s->n_outputs; j++)
            later |= s->out_slot[j] == s->out_slot[i];
        s->out_move[i] = s->slots[s->out_slot[i]].kind == AGLM_SLOT_NODE && !later;
    }
    return AGLM_OK;
}

/* Each intermediate is freed by the step after which nothing reads it (a subgraph's read of an
 * outer value counts as a read by the step holding the subgraph); graph outputs stay. */
static aglm_status plan_frees(aglm_sched *s)
{
    for (size_t si = 0; si < s->n_steps; si++) {
        const aglm_step *st = &s->steps[si];
        for (size_t i = 0; i < st->n_in; i++)
            if (st->in[i] >= 0)
                s->slots[st->in[i]].last_reader = (int32_t)si;
        for (size_t j = 0; j < st->n_subs; j++)
            for (size_t c = 0; c < st->subs[j].sched->n_captures; c++)
                s->slots[st->subs[j].capture_slot[c]].last_reader = (int32_t)si;
    }
    for (size_t i = 0; i < s->n_outputs; i++)
        s->slots[s->out_slot[i]].last_reader = -1;
    for (size_t i = 0; i < s->n_slots; i++) {
        const aglm_slot *sl = &s->slots[i];
        if (sl->kind != AGLM_SLOT_NODE || sl->last_reader < 0)
            continue;
        aglm_step *st = &s->steps[sl->last_reader];
        int32_t *grown = realloc(st->free, (st->n_free + 1) * sizeof *grown);
        if (!grown)
            return nomem();
        st->free = grown;
        st->free[st->n_free++] = (int32_t)i;
    }
    return AGLM_OK;
}

static aglm_status bind_backend(aglm_sched *s, const aglm_sched_backend *be)
{
    for (size_t i = 0; be->bind && i < s->n_steps; i++) {
        aglm_step *st = &s->steps[i];
        aglm_status r = be->bind(be->ctx, s, st);
        if (r != AGLM_OK)
            return aglm_error_wrap(r, "node '%s' (%s)", aglm_node_name(st->node),
                                   aglm_node_op(st->node));
    }
    return AGLM_OK;
}

/* s->graph, parent, path and captures are set. */
static aglm_status sched_build(aglm_sched *s, const aglm_sched_backend *be)
{
    builder b = {s, be, NULL, NULL};
    aglm_status st = build_slots(&b);
    s->n_steps = st == AGLM_OK ? aglm_graph_num_nodes(s->graph) : 0;
    if (st == AGLM_OK && !(s->steps = calloc(s->n_steps ? s->n_steps : 1, sizeof *s->steps)))
        st = nomem();
    for (size_t i = 0; i < s->n_steps && st == AGLM_OK; i++)
        st = bind_step(&b, i);
    if (st == AGLM_OK)
        st = bind_outputs(&b);
    if (st == AGLM_OK)
        st = plan_frees(s);
    if (st == AGLM_OK)
        st = bind_backend(s, be);
    free(b.refs);
    return st;
}

aglm_status aglm_sched_new(const aglm_graph *g, const aglm_sched_backend *be, aglm_sched **out)
{
    *out = NULL;
    if (!g || !be || !be->name)
        return aglm_error(AGLM_ERR_INVALID, "aglm_sched_new: graph or backend is NULL");
    aglm_status st = check_supported(g, be);
    if (st != AGLM_OK)
        return st;
    aglm_sched *s = calloc(1, sizeof *s);
    if (!s)
        return nomem();
    s->graph = g;
    s->path = "";
    if ((st = sched_build(s, be)) != AGLM_OK) {
        aglm_sched_free(s, be);
        return st;
    }
    *out = s;
    return AGLM_OK;
}

void aglm_sched_free(aglm_sched *s, const aglm_sched_backend *be)
{
    if (!s)
        return;
    for (size_t i = 0; s->steps && i < s->n_steps; i++) {
        aglm_step *st = &s->steps[i];
        for (size_t j = 0; j < st->n_subs; j++) {
            aglm_sched_free(st->subs[j].sched, be);
            free(st->subs[j].capture_slot);
        }
        if (st->user && be && be->unbind)
            be->unbind(be->ctx, st);
        free(st->subs);
        free(st->in);
        free(st->out);
        free(st->free);
    }
    free(s->steps);
    free(s->slots);
    free(s->out_slot);
    free(s->out_move);
    free(s->captures);
    if (s->parent)
        free((char *)s->path);
    free(s);
}

const aglm_sched_sub *aglm_step_sub(const aglm_step *step, const char *attr)
{
    for (size_t i = 0; step && i < step->n_subs; i++)
        if (strcmp(step->subs[i].attr, attr) == 0)
            return &step->subs[i];
    aglm_error(AGLM_ERR_INVALID, "attribute '%s' (a graph) is missing", attr);
    return NULL;
}

size_t aglm_sched_total_steps(const aglm_sched *s)
{
    size_t n = s->n_steps;
    for (size_t i = 0; i < s->n_steps; i++)
        for (size_t j = 0; j < s->steps[i].n_subs; j++)
            n += aglm_sched_total_steps(s->steps[i].subs[j].sched);
    return n;
}
