/* Dead-code elimination: removes every node none of whose outputs reaches a graph output, then
 * the values left without producer or use.
 *
 * Liveness is marked backwards from the outputs of the top-level graph: a live node makes the
 * producers of its inputs live, and for each subgraph it holds, the producers of that subgraph's
 * outputs (which may sit in the subgraph or in any enclosing graph). Nodes inside a live node's
 * subgraph are swept by the same rule. Everything is marked before anything is removed, so a
 * failure (out of memory) leaves the graph untouched. */
#include "aglm/aglm.h"

#include <stdint.h>
#include <stdlib.h>

/* An open-addressing set of node pointers plus the worklist of nodes marked but not visited. */
typedef struct marks {
    const aglm_node **slots;
    size_t cap, count;
    const aglm_node **work;
    size_t work_len, work_cap;
} marks;

static size_t slot_of(const marks *m, const aglm_node *n)
{
    uintptr_t h = (uintptr_t)n;
    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29)) & (m->cap - 1);
}

static int is_marked(const marks *m, const aglm_node *n)
{
    for (size_t i = slot_of(m, n);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i])
            return 0;
        if (m->slots[i] == n)
            return 1;
    }
}

static int insert(const aglm_node **slots, size_t cap, const aglm_node *n)
{
    marks probe = {.slots = slots, .cap = cap};
    for (size_t i = slot_of(&probe, n);; i = (i + 1) & (cap - 1)) {
        if (slots[i] == n)
            return 0;
        if (!slots[i]) {
            slots[i] = n;
            return 1;
        }
    }
}

static aglm_status grow(marks *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    const aglm_node **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return aglm_error(AGLM_ERR_NOMEM, "dce: out of memory");
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i])
            insert(slots, cap, m->slots[i]);
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return AGLM_OK;
}

/* Marks n live and queues it for visiting (once). */
static aglm_status mark(marks *m, const aglm_node *n)
{
    if (!n || (m->cap && is_marked(m, n)))
        return AGLM_OK;
    if ((m->count + 1) * 2 > m->cap && grow(m) != AGLM_OK)
        return AGLM_ERR_NOMEM;
    if (m->work_len == m->work_cap) {
        size_t cap = m->work_cap ? m->work_cap * 2 : 64;
        const aglm_node **work = realloc(m->work, cap * sizeof *work);
        if (!work)
            return aglm_error(AGLM_ERR_NOMEM, "dce: out of memory");
        m->work = work;
        m->work_cap = cap;
    }
    insert(m->slots, m->cap, n);
    m->count++;
    m->work[m->work_len++] = n;
    return AGLM_OK;
}

static aglm_status mark_outputs_of(marks *m, const aglm_graph *g)
{
    for (size_t i = 0; i < aglm_graph_num_outputs(g); i++) {
        aglm_status st = mark(m, aglm_value_producer(aglm_graph_output(g, i)));
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

/* Calls fn on every subgraph held by an attribute of n. */
static aglm_status each_subgraph(const aglm_node *n, aglm_status (*fn)(void *ctx, aglm_graph *sub),
                                 void *ctx)
{
    for (size_t i = 0; i < aglm_node_num_attrs(n); i++) {
        const aglm_attr *a = aglm_node_attr_at(n, i);
        aglm_status st = AGLM_OK;
        if (aglm_attr_kind(a) == AGLM_ATTR_GRAPH) {
            st = fn(ctx, aglm_attr_graph(a));
        } else if (aglm_attr_kind(a) == AGLM_ATTR_GRAPHS) {
            size_t count = 0;
            aglm_graph *const *subs = aglm_attr_graphs(a, &count);
            for (size_t j = 0; j < count && st == AGLM_OK; j++)
                st = fn(ctx, subs[j]);
        }
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

static aglm_status mark_sub(void *ctx, aglm_graph *sub)
{
    return mark_outputs_of(ctx, sub);
}

static aglm_status mark_live(marks *m, const aglm_graph *g)
{
    aglm_status st = mark_outputs_of(m, g);
    while (st == AGLM_OK && m->work_len > 0) {
        const aglm_node *n = m->work[--m->work_len];
        for (size_t i = 0; i < aglm_node_num_inputs(n) && st == AGLM_OK; i++) {
            aglm_value *v = aglm_node_input(n, i);
            if (v)
                st = mark(m, aglm_value_producer(v));
        }
        if (st == AGLM_OK)
            st = each_subgraph(n, mark_sub, m);
    }
    return st;
}

typedef struct sweep_ctx {
    const marks *live;
    size_t removed;
} sweep_ctx;

/* Removes unmarked nodes last to first, so a dead node's consumers go before it does; recurses
 * into the subgraphs of the nodes that stay. */
static aglm_status sweep(void *ctx, aglm_graph *g)
{
    sweep_ctx *s = ctx;
    for (size_t i = aglm_graph_num_nodes(g); i-- > 0;) {
        aglm_node *n = aglm_graph_node(g, i);
        aglm_status st;
        if (is_marked(s->live, n))
            st = each_subgraph(n, sweep, s);
        else if ((st = aglm_graph_remove_node(g, n)) == AGLM_OK)
            s->removed++;
        if (st != AGLM_OK)
            return st;
    }
    s->removed += aglm_graph_prune_values(g);
    return AGLM_OK;
}

static aglm_status dce_run(void *state, aglm_graph *g, const aglm_options *opts, int *changed)
{
    (void)state;
    (void)opts;
    if (changed)
        *changed = 0;
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "dce: no graph given");
    marks m = {0};
    aglm_status st = grow(&m);
    if (st == AGLM_OK)
        st = mark_live(&m, g);
    sweep_ctx s = {.live = &m, .removed = 0};
    if (st == AGLM_OK)
        st = sweep(&s, g);
    free(m.slots);
    free(m.work);
    if (changed)
        *changed = s.removed > 0;
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "dce on graph '%s'",
                               aglm_graph_name(g) ? aglm_graph_name(g) : "?");
    return AGLM_OK;
}

static const aglm_pass_ops dce_ops = {
    .struct_size = sizeof(aglm_pass_ops),
    .run = dce_run,
};

AGLM_DEFINE_PLUGIN(.name = "dce", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "removes nodes whose results reach no graph output", .ops = &dce_ops)
