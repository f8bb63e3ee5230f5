/* Compiling and running subgraphs: capture analysis, compiling a node's graph attributes, and
 * the entry points control-flow kernels call (exec_subgraph.h). */
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"
#include "exec_subgraph.h"

/* ---- captures -------------------------------------------------------------------------- */

typedef struct capture_set {
    const aglm_value **v;
    size_t n, cap;
} capture_set;

/* 1 when a is a strict ancestor of g. */
static int is_ancestor(const aglm_graph *a, const aglm_graph *g)
{
    for (g = aglm_graph_parent(g); g; g = aglm_graph_parent(g))
        if (g == a)
            return 1;
    return 0;
}

static aglm_status note(capture_set *cs, const aglm_graph *root, const aglm_value *v)
{
    if (!v || !is_ancestor(aglm_value_graph(v), root))
        return AGLM_OK;
    for (size_t i = 0; i < cs->n; i++)
        if (cs->v[i] == v)
            return AGLM_OK;
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 8;
        const aglm_value **grown = realloc(cs->v, cap * sizeof *grown);
        if (!grown)
            return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
        cs->v = grown;
        cs->cap = cap;
    }
    cs->v[cs->n++] = v;
    return AGLM_OK;
}

/* Notes what g (a descendant of root, or root itself) reads from root's ancestors. */
static aglm_status collect(capture_set *cs, const aglm_graph *root, const aglm_graph *g)
{
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_nodes(g) && st == AGLM_OK; i++) {
        const aglm_node *n = aglm_graph_node(g, i);
        for (size_t j = 0; j < aglm_node_num_inputs(n) && st == AGLM_OK; j++)
            st = note(cs, root, aglm_node_input(n, j));
        for (size_t a = 0; a < aglm_node_num_attrs(n) && st == AGLM_OK; a++) {
            const aglm_attr *at = aglm_node_attr_at(n, a);
            size_t count = 0;
            aglm_graph *one = NULL;
            aglm_graph *const *subs = NULL;
            if (aglm_attr_kind(at) == AGLM_ATTR_GRAPH) {
                one = aglm_attr_graph(at);
                subs = &one;
                count = one ? 1 : 0;
            } else if (aglm_attr_kind(at) == AGLM_ATTR_GRAPHS) {
                subs = aglm_attr_graphs(at, &count);
            }
            for (size_t k = 0; k < count && st == AGLM_OK; k++)
                st = collect(cs, root, subs[k]);
        }
    }
    for (size_t i = 0; i < aglm_graph_num_outputs(g) && st == AGLM_OK; i++)
        st = note(cs, root, aglm_graph_output(g, i));
    return st;
}

aglm_status exec_captures(const aglm_graph *g, const aglm_value ***out, size_t *n)
{
    capture_set cs = {NULL, 0, 0};
    aglm_status st = collect(&cs, g, g);
    if (st != AGLM_OK) {
        free(cs.v);
        return st;
    }
    *out = cs.v;
    *n = cs.n;
    return AGLM_OK;
}

/* ---- compiling a node's subgraphs -------------------------------------------------------- */

static void sub_free(exec_sub *e)
{
    if (e->x) {
        exec_free_parts(e->x);
        free(e->x);
    }
    free(e->cap_slot);
}

void exec_free_subs(step *s)
{
    for (size_t i = 0; i < s->n_subs; i++)
        sub_free(&s->subs[i]);
    free(s->subs);
    s->subs = NULL;
    s->n_subs = 0;
}

static aglm_status compile_one(cpu_exec *x, const aglm_node *n, const char *attr, aglm_graph *g,
                               exec_sub *e, const value_ref *refs, size_t n_refs)
{
    e->attr = attr;
    e->x = calloc(1, sizeof *e->x);
    if (!e->x)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    cpu_exec *sx = e->x;
    sx->graph = g;
    sx->is_sub = 1;
    sx->pool = x->pool;
    sx->opset = aglm_graph_opset(g, "");
    if (sx->opset <= 0)
        sx->opset = x->opset;
    aglm_status st = exec_captures(g, &sx->captures, &sx->n_captures);
    if (st == AGLM_OK)
        st = exec_build(sx);
    if (st != AGLM_OK)
        return st;
    e->cap_slot = calloc(sx->n_captures ? sx->n_captures : 1, sizeof *e->cap_slot);
    if (!e->cap_slot)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    for (size_t c = 0; c < sx->n_captures; c++) {
        const aglm_value *v = sx->captures[c];
        int32_t s = exec_find_slot(refs, n_refs, v);
        if (s < 0)
            return aglm_error(AGLM_ERR_INVALID, "reads '%s', which is not visible from node "
                              "'%s'", aglm_value_name(v), aglm_node_name(n));
        if (x->slots[s].kind == SLOT_NODE && x->slots[s].produced_by < 0)
            return aglm_error(AGLM_ERR_INVALID, "reads '%s' before any node produces it",
                              aglm_value_name(v));
        e->cap_slot[c] = s;
    }
    return AGLM_OK;
}

aglm_status exec_compile_subs(cpu_exec *x, step *s, const value_ref *refs, size_t n_refs)
{
    const aglm_node *n = s->node;
    size_t count = 0;
    for (size_t a = 0; a < aglm_node_num_attrs(n); a++)
        count += aglm_attr_kind(aglm_node_attr_at(n, a)) == AGLM_ATTR_GRAPH &&
                 aglm_attr_graph(aglm_node_attr_at(n, a));
    if (!count)
        return AGLM_OK;
    s->subs = calloc(count, sizeof *s->subs);
    if (!s->subs)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    for (size_t a = 0; a < aglm_node_num_attrs(n); a++) {
        const aglm_attr *at = aglm_node_attr_at(n, a);
        if (aglm_attr_kind(at) != AGLM_ATTR_GRAPH || !aglm_attr_graph(at))
            continue;
        aglm_status st = compile_one(x, n, aglm_attr_name(at), aglm_attr_graph(at),
                                     &s->subs[s->n_subs++], refs, n_refs);
        if (st != AGLM_OK)
            return aglm_error_wrap(st, "node '%s' (%s): attribute '%s'", aglm_node_name(n),
                                   aglm_node_op(n), aglm_attr_name(at));
    }
    return AGLM_OK;
}

/* ---- the kernels' side ------------------------------------------------------------------- */

const cpu_exec *cpu_scope_sub(const cpu_kctx *k, const char *attr)
{
    for (size_t i = 0; k->scope && i < k->scope->s->n_subs; i++)
        if (strcmp(k->scope->s->subs[i].attr, attr) == 0)
            return k->scope->s->subs[i].x;
    aglm_error(AGLM_ERR_INVALID, "attribute '%s' (a graph) is missing", attr);
    return NULL;
}

const aglm_graph *cpu_sub_graph(const cpu_exec *sub)
{
    return sub->graph;
}

aglm_status cpu_scope_run(const cpu_kctx *k, const cpu_exec *sub, size_t n_in,
                          const aglm_tensor *in, size_t n_out, aglm_tensor *out)
{
    for (size_t i = 0; i < n_out; i++)
        memset(&out[i], 0, sizeof out[i]);
    const exec_sub *e = NULL;
    for (size_t i = 0; k->scope && i < k->scope->s->n_subs; i++)
        if (k->scope->s->subs[i].x == sub)
            e = &k->scope->s->subs[i];
    if (!e)
        return aglm_error(AGLM_ERR_INTERNAL, "subgraph is not one of the running node's");
    const aglm_graph *g = sub->graph;
    size_t want_in = aglm_graph_num_inputs(g);
    if (n_in != want_in || n_out != sub->n_outputs)
        return aglm_error(AGLM_ERR_INVALID, "%s: takes %zu inputs and gives %zu outputs; the node "
                          "feeds %zu and takes %zu", e->attr, want_in, sub->n_outputs, n_in, n_out);
    for (size_t i = 0; i < n_in; i++) {
        aglm_dtype dt = aglm_value_dtype(aglm_graph_input(g, i));
        if (dt != AGLM_UNDEFINED && dt != in[i].dtype)
            return aglm_error(AGLM_ERR_TYPE, "%s: input '%s' is declared %s but gets %s", e->attr,
                              aglm_value_name(aglm_graph_input(g, i)), aglm_dtype_name(dt),
                              aglm_dtype_name(in[i].dtype));
    }
    const aglm_tensor *stack_caps[16];
    const aglm_tensor **caps = stack_caps;
    if (sub->n_captures > 16 && !(caps = malloc(sub->n_captures * sizeof *caps)))
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    for (size_t c = 0; c < sub->n_captures; c++)
        caps[c] = &k->scope->slots[e->cap_slot[c]];
    aglm_status st = exec_run_graph(sub, n_in, in, caps, n_out, out);
    if (caps != stack_caps)
        free(caps);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "%s", e->attr);
    return AGLM_OK;
}
