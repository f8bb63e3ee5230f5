/* Topological sort: Kahn's algorithm with the ready set ordered by current position, so an
 * already sorted graph keeps its order and a rewritten one moves as little as possible. A node
 * holding subgraphs depends on the producers of every outer value its subgraphs read. */
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

/* The node of g that is m or (for a node inside a subgraph) holds m's subgraph; NULL for a node
 * of a detached subgraph. */
static aglm_node *node_in(aglm_node *m, const aglm_graph *g)
{
    while (m && m->graph != g)
        m = m->graph->owner;
    return m;
}

typedef struct heap {
    size_t *a;
    size_t len;
} heap;

static void heap_push(heap *h, size_t x)
{
    size_t i = h->len++;
    while (i > 0 && h->a[(i - 1) / 2] > x) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = x;
}

static size_t heap_pop(heap *h)
{
    size_t top = h->a[0], x = h->a[--h->len], i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && h->a[c + 1] < h->a[c])
            c++;
        if (h->a[c] >= x)
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->len)
        h->a[i] = x;
    return top;
}

/* Counts (delta > 0) or releases (delta < 0) every dependency edge p -> q, where q reads an
 * output of p; an edge counted twice is released twice, so multiplicity is harmless. */
static void for_each_edge(aglm_graph *g, aglm_node *p, size_t *indeg, int delta, heap *ready)
{
    for (size_t o = 0; o < p->n_out; o++) {
        aglm_value *v = p->out[o];
        for (size_t u = 0; v && u < v->n_uses; u++) {
            aglm_node *q = node_in(v->uses[u].node, g);
            if (!q)
                continue;
            if (delta > 0) {
                indeg[q->index]++;
            } else if (--indeg[q->index] == 0) {
                heap_push(ready, q->index);
            }
        }
    }
}

/* A not-yet-emitted producer (in g) of something q reads, directly or from a subgraph. */
static aglm_node *pending_pred(const aglm_graph *g, const aglm_node *q, const size_t *indeg)
{
    for (size_t i = 0; i < q->n_in; i++) {
        aglm_node *p = q->in[i] ? q->in[i]->producer : NULL;
        if (p && p->graph == g && indeg[p->index])
            return p;
    }
    for (size_t a = 0; a < q->n_attrs; a++) {
        const aglm_attr *at = q->attrs[a];
        size_t cnt = at->type == AGLM_ATTR_GRAPH ? 1 : at->type == AGLM_ATTR_GRAPHS ? at->count : 0;
        for (size_t j = 0; j < cnt; j++) {
            const aglm_graph *s = at->type == AGLM_ATTR_GRAPH ? at->g : at->graphs[j];
            for (size_t k = 0; k < s->n_nodes; k++) {
                aglm_node *p = pending_pred(g, s->nodes[k], indeg);
                if (p)
                    return p;
            }
        }
    }
    return NULL;
}

static aglm_status cycle_error(aglm_graph *g, const size_t *indeg)
{
    aglm_node *q = NULL;
    for (size_t i = 0; i < g->n_nodes && !q; i++)
        if (indeg[i])
            q = g->nodes[i];
    /* Walking back n steps along pending edges must end on the cycle. */
    for (size_t step = 0; step < g->n_nodes && q; step++) {
        aglm_node *p = pending_pred(g, q, indeg);
        if (!p)
            break;
        q = p;
    }
    char op[256];
    return aglm_error(AGLM_ERR_INVALID, "graph '%s': the nodes form a cycle through node '%s' (%s)",
                      g->name, q ? q->name : "?", q ? node_op_label(q, op, sizeof op) : "?");
}

/* Sorts g's own nodes. */
static aglm_status sort_graph(aglm_graph *g)
{
    size_t n = g->n_nodes;
    if (n < 2) {
        /* A single node reading its own output is still a cycle. */
        size_t indeg[1] = {0};
        if (n == 1) {
            for_each_edge(g, g->nodes[0], indeg, 1, NULL);
            if (indeg[0])
                return cycle_error(g, indeg);
        }
        return AGLM_OK;
    }
    size_t *indeg = calloc(n, sizeof *indeg);
    aglm_node **order = malloc(n * sizeof *order);
    heap ready = {malloc(n * sizeof(size_t)), 0};
    if (!indeg || !order || !ready.a) {
        free(indeg);
        free(order);
        free(ready.a);
        return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory sorting %zu nodes", g->name,
                          n);
    }
    for (size_t i = 0; i < n; i++)
        for_each_edge(g, g->nodes[i], indeg, 1, NULL);
    for (size_t i = 0; i < n; i++)
        if (!indeg[i])
            heap_push(&ready, i);
    size_t done = 0;
    while (ready.len) {
        aglm_node *p = g->nodes[heap_pop(&ready)];
        order[done++] = p;
        for_each_edge(g, p, indeg, -1, &ready);
    }
    aglm_status st = AGLM_OK;
    if (done < n) {
        st = cycle_error(g, indeg);
    } else {
        memcpy(g->nodes, order, n * sizeof *order);
        for (size_t i = 0; i < n; i++)
            g->nodes[i]->index = i;
    }
    free(indeg);
    free(order);
    free(ready.a);
    return st;
}

/* Subgraphs are sorted too, so the whole tree is in the order the verifier asks for. */
aglm_status aglm_graph_toposort(aglm_graph *g)
{
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "toposort: graph is NULL");
    aglm_status st = sort_graph(g);
    for (size_t i = 0; i < g->n_nodes && st == AGLM_OK; i++) {
        const aglm_node *n = g->nodes[i];
        for (size_t a = 0; a < n->n_attrs && st == AGLM_OK; a++) {
            const aglm_attr *at = n->attrs[a];
            size_t cnt = at->type == AGLM_ATTR_GRAPH    ? 1
                         : at->type == AGLM_ATTR_GRAPHS ? at->count
                                                        : 0;
            for (size_t j = 0; j < cnt && st == AGLM_OK; j++) {
                st = aglm_graph_toposort(at->type == AGLM_ATTR_GRAPH ? at->g : at->graphs[j]);
                if (st != AGLM_OK) {
                    char op[256];
                    st = aglm_error_wrap(st, "graph '%s': node '%s' (%s): attribute '%s'", g->name,
                                         n->name, node_op_label(n, op, sizeof op), at->name);
                }
            }
        }
    }
    return st;
}
