/* Common-subexpression elimination by value numbering: two nodes with the same op, domain,
 * attributes and inputs compute the same values, so the later one goes and its uses read the
 * earlier one's outputs. Constants with the same dtype, shape and bytes are merged first, which
 * lets nodes reading twin constants merge too. One sweep in graph (topological) order suffices:
 * by the time a node is looked at, its inputs are already the representatives.
 *
 * Never merged: nodes holding subgraphs, non-deterministic ops (two RandomNormal nodes draw
 * different numbers), ops of domains other than ai.onnx and aglm (their semantics are unknown
 * here), and pairs whose merge would rename a value users see (two graph outputs). Subgraphs are
 * processed on their own. */
#include "cse.h"

#include <stdlib.h>
#include <string.h>

/* An open-addressing table of representatives: nodes or constant values. */
typedef struct entry {
    uint64_t hash;
    void *item;
} entry;

typedef struct table {
    entry *slots;
    size_t cap, count;
} table;

static aglm_status table_grow(table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return aglm_error(AGLM_ERR_NOMEM, "cse: out of memory");
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].item)
            continue;
        size_t j = t->slots[i].hash & (cap - 1);
        while (slots[j].item)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return AGLM_OK;
}

/* The representative equal to `item`, or NULL after inserting `item` as one. */
static aglm_status table_find_or_add(table *t, uint64_t hash, void *item,
                                     int (*eq)(const void *, const void *), void **found)
{
    *found = NULL;
    if ((t->count + 1) * 2 > t->cap) {
        aglm_status st = table_grow(t);
        if (st != AGLM_OK)
            return st;
    }
    size_t j = hash & (t->cap - 1);
    for (; t->slots[j].item; j = (j + 1) & (t->cap - 1)) {
        if (t->slots[j].hash == hash && eq(t->slots[j].item, item)) {
            *found = t->slots[j].item;
            return AGLM_OK;
        }
    }
    t->slots[j] = (entry){hash, item};
    t->count++;
    return AGLM_OK;
}

static int node_eq(const void *a, const void *b)
{
    return cse_node_equal(a, b);
}

static int const_eq(const void *a, const void *b)
{
    return cse_tensor_equal(aglm_value_const(a), aglm_value_const(b));
}

static int holds_graph(const aglm_node *n)
{
    for (size_t i = 0; i < aglm_node_num_attrs(n); i++) {
        aglm_attr_type k = aglm_attr_kind(aglm_node_attr_at(n, i));
        if (k == AGLM_ATTR_GRAPH || k == AGLM_ATTR_GRAPHS)
            return 1;
    }
    return 0;
}

static int mergeable(const aglm_node *n)
{
    const char *d = aglm_node_domain(n);
    if ((d[0] != '\0' && strcmp(d, AGLM_DOMAIN) != 0) || aglm_node_num_outputs(n) == 0 ||
        holds_graph(n))
        return 0;
    return !aglm_node_has_flags(n, AGLM_OPF_NONDETERMINISTIC);
}

/* 1 when uses of `from` can move to `to` without renaming a value users see. */
static int can_redirect(const aglm_value *from, const aglm_value *to)
{
    return !aglm_value_is_graph_output(from) ||
           (!aglm_value_is_graph_output(to) && !aglm_value_is_graph_input(to));
}

static aglm_status merge_constants(aglm_graph *g, size_t *merged)
{
    table t = {0};
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_values(g) && st == AGLM_OK; i++) {
        aglm_value *v = aglm_graph_value(g, i);
        const aglm_tensor *c = aglm_value_const(v);
        if (!c || aglm_value_is_graph_input(v) ||
            aglm_value_num_uses(v) + aglm_value_is_graph_output(v) == 0)
            continue;
        void *rep;
        st = table_find_or_add(&t, cse_tensor_hash(c), v, const_eq, &rep);
        if (st == AGLM_OK && rep && can_redirect(v, rep) &&
            (st = aglm_graph_replace_uses(g, v, rep)) == AGLM_OK)
            (*merged)++;
    }
    free(t.slots);
    return st;
}

/* Moves every use of n's outputs to rep's and removes n; nothing happens unless every output can
 * move. */
static aglm_status merge_node(aglm_graph *g, aglm_node *n, aglm_node *rep, int *done)
{
    *done = 0;
    size_t n_out = aglm_node_num_outputs(n);
    for (size_t i = 0; i < n_out; i++) {
        aglm_value *a = aglm_node_output(n, i), *b = aglm_node_output(rep, i);
        if (a && (!b || !can_redirect(a, b)))
            return AGLM_OK;
    }
    for (size_t i = 0; i < n_out; i++) {
        aglm_value *a = aglm_node_output(n, i);
        aglm_status st = a ? aglm_graph_replace_uses(g, a, aglm_node_output(rep, i)) : AGLM_OK;
        if (st != AGLM_OK)
            return st;
    }
    *done = 1;
    return aglm_graph_remove_node(g, n);
}

static aglm_status cse_graph(aglm_graph *g, size_t *merged);

static aglm_status cse_subgraphs(const aglm_node *n, size_t *merged)
{
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_node_num_attrs(n) && st == AGLM_OK; i++) {
        const aglm_attr *a = aglm_node_attr_at(n, i);
        if (aglm_attr_kind(a) == AGLM_ATTR_GRAPH) {
            st = cse_graph(aglm_attr_graph(a), merged);
        } else if (aglm_attr_kind(a) == AGLM_ATTR_GRAPHS) {
            size_t count = 0;
            aglm_graph *const *subs = aglm_attr_graphs(a, &count);
            for (size_t j = 0; j < count && st == AGLM_OK; j++)
                st = cse_graph(subs[j], merged);
        }
    }
    return st;
}

static aglm_status cse_graph(aglm_graph *g, size_t *merged)
{
    size_t before = *merged;
    aglm_status st = merge_constants(g, merged);
    table t = {0};
    for (size_t i = 0; i < aglm_graph_num_nodes(g) && st == AGLM_OK;) {
        aglm_node *n = aglm_graph_node(g, i);
        int done = 0;
        if (mergeable(n)) {
            void *rep;
            st = table_find_or_add(&t, cse_node_hash(n), n, node_eq, &rep);
            if (st == AGLM_OK && rep)
                st = merge_node(g, n, rep, &done);
        } else {
            st = cse_subgraphs(n, merged);
        }
        if (st != AGLM_OK)
            st = aglm_error_wrap(st, "node '%s' (%s)", aglm_node_name(n), aglm_node_op(n));
        if (done)
            (*merged)++;
        else
            i++;
    }
    free(t.slots);
    if (*merged > before)
        aglm_graph_prune_values(g); /* the merged-away outputs and constants */
    return st;
}

static aglm_status cse_run(void *state, aglm_graph *g, const aglm_options *opts, int *changed)
{
    (void)state;
    (void)opts;
    if (changed)
        *changed = 0;
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "cse: no graph given");
    size_t merged = 0;
    aglm_status st = cse_graph(g, &merged);
    if (merged) {
        if (changed)
            *changed = 1;
    }
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "cse on graph '%s'",
                               aglm_graph_name(g) ? aglm_graph_name(g) : "?");
    return AGLM_OK;
}

static const aglm_pass_ops cse_ops = {
    .struct_size = sizeof(aglm_pass_ops),
    .run = cse_run,
};

AGLM_DEFINE_PLUGIN(.name = "cse", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary =
                       "merges nodes with the same op, attributes and inputs, and equal constants",
                   .ops = &cse_ops)
