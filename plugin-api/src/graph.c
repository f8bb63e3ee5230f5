/* Graphs: creation and freeing (keeping outer use lists right when a subgraph goes), opsets,
 * metadata, graph inputs and outputs, and replace_uses. Values live in graph_value.c, nodes and
 * use lists in graph_node.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

/* ---- graphs ---------------------------------------------------------------------------- */

static aglm_graph *graph_alloc(const char *name, aglm_graph *parent, graph_shared *shared)
{
    aglm_graph *g = calloc(1, sizeof *g);
    if (!g || !(g->name = dup_str(name))) {
        free(g);
        aglm_error(AGLM_ERR_NOMEM, "out of memory creating graph '%s'", name ? name : "");
        return NULL;
    }
    g->parent = parent;
    g->shared = shared;
    shared->refs++;
    return g;
}

aglm_graph *aglm_graph_new(const char *name)
{
    graph_shared *s = shared_new();
    if (!s) {
        aglm_error(AGLM_ERR_NOMEM, "out of memory creating graph '%s'", name ? name : "");
        return NULL;
    }
    aglm_graph *g = graph_alloc(name, NULL, s);
    shared_release(s); /* the graph holds its own reference */
    return g;
}

aglm_graph *aglm_graph_new_subgraph(aglm_graph *parent, const char *name)
{
    if (!parent) {
        aglm_error(AGLM_ERR_INVALID, "subgraph '%s' needs a parent graph", name ? name : "");
        return NULL;
    }
    return graph_alloc(name, parent, parent->shared);
}

int graph_within(const aglm_graph *inner, const aglm_graph *outer)
{
    for (const aglm_graph *g = inner; g; g = g->parent)
        if (g == outer)
            return 1;
    return 0;
}

int value_visible(const aglm_value *v, const aglm_graph *g)
{
    return v && graph_within(g, v->graph);
}

/* Drops the references a tree about to be freed holds on values of enclosing graphs. */
static void detach_outer(aglm_graph *g, const aglm_graph *root)
{
    for (size_t i = 0; i < g->n_outputs; i++)
        if (!graph_within(g->outputs[i]->graph, root))
            g->outputs[i]->out_outer--;
    for (size_t i = 0; i < g->n_nodes; i++) {
        aglm_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_in; k++)
            if (n->in[k] && !graph_within(n->in[k]->graph, root))
                value_remove_use(n->in[k], n, k);
        for (size_t a = 0; a < n->n_attrs; a++) {
            const aglm_attr *at = n->attrs[a];
            if (at->type == AGLM_ATTR_GRAPH)
                detach_outer(at->g, root);
            else if (at->type == AGLM_ATTR_GRAPHS)
                for (size_t j = 0; j < at->count; j++)
                    detach_outer(at->graphs[j], root);
        }
    }
}

void graph_free_tree(aglm_graph *g, int detach)
{
    if (!g)
        return;
    if (detach && g->parent)
        detach_outer(g, g);
    for (size_t i = 0; i < g->n_nodes; i++)
        node_destroy(g->nodes[i], 0);
    for (size_t i = 0; i < g->n_values; i++)
        value_destroy(g->values[i]);
    for (size_t i = 0; i < g->n_opsets; i++)
        free(g->opset_domains[i]);
    for (size_t i = 0; i < g->n_meta; i++) {
        free(g->meta_keys[i]);
        free(g->meta_vals[i]);
    }
    free(g->opset_domains);
    free(g->opset_versions);
    free(g->meta_keys);
    free(g->meta_vals);
    free(g->nodes);
    free(g->values);
    free(g->inputs);
    free(g->outputs);
    strmap_free(&g->value_names);
    for (size_t i = 0; i < g->node_names.cap; i++)
        free((char *)g->node_names.keys[i]);
    strmap_free(&g->node_names);
    shared_release(g->shared);
    free(g->name);
    free(g);
}

void aglm_graph_free(aglm_graph *g)
{
    if (!g)
        return;
    if (g->owner) {
        /* Its node's attribute frees it; freeing it here would leave that attribute dangling. */
        aglm_error(AGLM_ERR_STATE, "graph '%s' is owned by node '%s' and was not freed", g->name,
                   g->owner->name);
        return;
    }
    graph_free_tree(g, 1);
}

const char *aglm_graph_name(const aglm_graph *g)
{
    return g ? g->name : NULL;
}

aglm_graph *aglm_graph_parent(const aglm_graph *g)
{
    return g ? g->parent : NULL;
}

/* ---- opsets and metadata ----------------------------------------------------------------- */

static ptrdiff_t opset_index(const aglm_graph *g, const char *domain)
{
    domain = domain_norm(domain);
    for (size_t i = 0; i < g->n_opsets; i++)
        if (strcmp(g->opset_domains[i], domain) == 0)
            return (ptrdiff_t)i;
    return -1;
}

aglm_status aglm_graph_set_opset(aglm_graph *g, const char *domain, int64_t version)
{
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "set_opset: graph is NULL");
    if (version < 0)
        return aglm_error(AGLM_ERR_INVALID,
                          "graph '%s': opset version %lld of domain '%s' is negative", g->name,
                          (long long)version, domain_norm(domain));
    ptrdiff_t i = opset_index(g, domain);
    if (i >= 0 && version == 0) { /* 0 means "not imported" */
        free(g->opset_domains[i]);
        memmove(g->opset_domains + i, g->opset_domains + i + 1,
                (g->n_opsets - (size_t)i - 1) * sizeof *g->opset_domains);
        memmove(g->opset_versions + i, g->opset_versions + i + 1,
                (g->n_opsets - (size_t)i - 1) * sizeof *g->opset_versions);
        g->n_opsets--;
        return AGLM_OK;
    }
    if (i >= 0) {
        g->opset_versions[i] = version;
        return AGLM_OK;
    }
    if (version == 0)
        return AGLM_OK;
    size_t cap = g->cap_opsets;
    char *d = dup_str(domain_norm(domain));
    if (!d || grow_array((void **)&g->opset_domains, &cap, g->n_opsets + 1, sizeof(char *)) ||
        grow_array((void **)&g->opset_versions, &g->cap_opsets, g->n_opsets + 1, sizeof(int64_t))) {
        free(d);
        return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory adding an opset", g->name);
    }
    g->opset_domains[g->n_opsets] = d;
    g->opset_versions[g->n_opsets++] = version;
    return AGLM_OK;
}

int64_t aglm_graph_opset(const aglm_graph *g, const char *domain)
{
    if (!g)
        return 0;
    ptrdiff_t i = opset_index(g, domain);
    return i >= 0 ? g->opset_versions[i] : 0;
}

size_t aglm_graph_num_opsets(const aglm_graph *g)
{
    return g ? g->n_opsets : 0;
}

const char *aglm_graph_opset_domain(const aglm_graph *g, size_t i)
{
    return g && i < g->n_opsets ? g->opset_domains[i] : NULL;
}

/* A NULL value removes the key. */
aglm_status aglm_graph_set_meta(aglm_graph *g, const char *key, const char *value)
{
    if (!g || !key)
        return aglm_error(AGLM_ERR_INVALID, "set_meta: graph or key is NULL");
    for (size_t i = 0; i < g->n_meta; i++) {
        if (strcmp(g->meta_keys[i], key) != 0)
            continue;
        if (!value) {
            free(g->meta_keys[i]);
            free(g->meta_vals[i]);
            memmove(g->meta_keys + i, g->meta_keys + i + 1, (g->n_meta - i - 1) * sizeof(char *));
            memmove(g->meta_vals + i, g->meta_vals + i + 1, (g->n_meta - i - 1) * sizeof(char *));
            g->n_meta--;
            return AGLM_OK;
        }
        char *v = dup_str(value);
        if (!v)
            return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory setting metadata '%s'",
                              g->name, key);
        free(g->meta_vals[i]);
        g->meta_vals[i] = v;
        return AGLM_OK;
    }
    if (!value)
        return AGLM_OK;
    size_t cap = g->cap_meta;
    char *k = dup_str(key), *v = dup_str(value);
    if (!k || !v || grow_array((void **)&g->meta_keys, &cap, g->n_meta + 1, sizeof(char *)) ||
        grow_array((void **)&g->meta_vals, &g->cap_meta, g->n_meta + 1, sizeof(char *))) {
        free(k);
        free(v);
        return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory setting metadata '%s'",
                          g->name, key);
    }
    g->meta_keys[g->n_meta] = k;
    g->meta_vals[g->n_meta++] = v;
    return AGLM_OK;
}

const char *aglm_graph_meta(const aglm_graph *g, const char *key)
{
    if (!g || !key)
        return NULL;
    for (size_t i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta_keys[i], key) == 0)
            return g->meta_vals[i];
    return NULL;
}

size_t aglm_graph_num_meta(const aglm_graph *g)
{
    return g ? g->n_meta : 0;
}

const char *aglm_graph_meta_key(const aglm_graph *g, size_t i)
{
    return g && i < g->n_meta ? g->meta_keys[i] : NULL;
}

/* ---- graph inputs and outputs ------------------------------------------------------------ */

aglm_status aglm_graph_add_input(aglm_graph *g, aglm_value *v)
{
    if (!g || !v)
        return aglm_error(AGLM_ERR_INVALID, "add_input: graph or value is NULL");
    if (v->graph != g)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': input '%s' belongs to graph '%s'", g->name,
                          v->name, v->graph->name);
    if (v->is_input)
        return aglm_error(AGLM_ERR_EXISTS, "graph '%s': '%s' is already an input", g->name,
                          v->name);
    if (grow_array((void **)&g->inputs, &g->cap_inputs, g->n_inputs + 1, sizeof *g->inputs))
        return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory adding input '%s'", g->name,
                          v->name);
    g->inputs[g->n_inputs++] = v;
    v->is_input = 1;
    return AGLM_OK;
}

static void output_ref(aglm_graph *g, aglm_value *v, int delta)
{
    if (v->graph == g)
        v->out_own += (size_t)delta;
    else
        v->out_outer += (size_t)delta;
}

aglm_status aglm_graph_add_output(aglm_graph *g, aglm_value *v)
{
    if (!g || !v)
        return aglm_error(AGLM_ERR_INVALID, "add_output: graph or value is NULL");
    if (!value_visible(v, g))
        return aglm_error(AGLM_ERR_INVALID,
                          "graph '%s': output '%s' belongs to graph '%s', which it cannot see",
                          g->name, v->name, v->graph->name);
    if (grow_array((void **)&g->outputs, &g->cap_outputs, g->n_outputs + 1, sizeof *g->outputs))
        return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory adding output '%s'", g->name,
                          v->name);
    g->outputs[g->n_outputs++] = v;
    output_ref(g, v, 1);
    return AGLM_OK;
}

aglm_status aglm_graph_set_output(aglm_graph *g, size_t i, aglm_value *v)
{
    if (!g || !v)
        return aglm_error(AGLM_ERR_INVALID, "set_output: graph or value is NULL");
    if (i >= g->n_outputs)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': output %zu out of range (%zu outputs)",
                          g->name, i, g->n_outputs);
    if (!value_visible(v, g))
        return aglm_error(AGLM_ERR_INVALID,
                          "graph '%s': output '%s' belongs to graph '%s', which it cannot see",
                          g->name, v->name, v->graph->name);
    output_ref(g, g->outputs[i], -1);
    g->outputs[i] = v;
    output_ref(g, v, 1);
    return AGLM_OK;
}

size_t aglm_graph_num_inputs(const aglm_graph *g)
{
    return g ? g->n_inputs : 0;
}

aglm_value *aglm_graph_input(const aglm_graph *g, size_t i)
{
    return g && i < g->n_inputs ? g->inputs[i] : NULL;
}

size_t aglm_graph_num_outputs(const aglm_graph *g)
{
    return g ? g->n_outputs : 0;
}

aglm_value *aglm_graph_output(const aglm_graph *g, size_t i)
{
    return g && i < g->n_outputs ? g->outputs[i] : NULL;
}

/* ---- replace_uses ------------------------------------------------------------------------- */

/* Redirects output slots of g's subgraphs (at any depth) that hold `from`. */
static void replace_sub_outputs(aglm_graph *g, aglm_value *from, aglm_value *to)
{
    for (size_t i = 0; i < g->n_nodes; i++) {
        aglm_node *n = g->nodes[i];
        for (size_t a = 0; a < n->n_attrs; a++) {
            const aglm_attr *at = n->attrs[a];
            size_t cnt = at->type == AGLM_ATTR_GRAPH    ? 1
                         : at->type == AGLM_ATTR_GRAPHS ? at->count
                                                        : 0;
            for (size_t j = 0; j < cnt; j++) {
                aglm_graph *s = at->type == AGLM_ATTR_GRAPH ? at->g : at->graphs[j];
                for (size_t k = 0; k < s->n_outputs; k++)
                    if (s->outputs[k] == from) {
                        output_ref(s, from, -1);
                        s->outputs[k] = to;
                        output_ref(s, to, 1);
                    }
                replace_sub_outputs(s, from, to);
            }
        }
    }
}

aglm_status aglm_graph_replace_uses(aglm_graph *g, aglm_value *from, aglm_value *to)
{
    if (!g || !from || !to)
        return aglm_error(AGLM_ERR_INVALID, "replace_uses: graph or value is NULL");
    if (from->graph != g)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': replace_uses: '%s' belongs to graph '%s'",
                          g->name, from->name, from->graph->name);
    if (!value_visible(to, g))
        return aglm_error(AGLM_ERR_INVALID,
                          "graph '%s': replace_uses: '%s' of graph '%s' is not visible here",
                          g->name, to->name, to->graph->name);
    if (from == to)
        return AGLM_OK;
    /* Names first: the only step that can fail, so a failure changes nothing. `to` takes the
     * output's name unless it already carries a name users see (a graph input or output) or
     * lives in an enclosing graph; then the output slot simply refers to `to`. */
    if (from->out_own && to->graph == g && !to->is_input && !to->out_own) {
        char *fresh = value_fresh_name(g);
        char *old_from = fresh ? strdup(from->name) : NULL;
        aglm_status st = old_from ? value_rename(from, fresh) : AGLM_ERR_NOMEM;
        if (st == AGLM_OK && (st = value_rename(to, old_from)) != AGLM_OK)
            value_rename(from, old_from); /* the name was just freed: cannot fail */
        free(fresh);
        free(old_from);
        if (st != AGLM_OK)
            return st == AGLM_ERR_NOMEM ? aglm_error(st, "graph '%s': out of memory renaming '%s'",
                                                     g->name, from->name)
                                        : st;
    }
    while (from->n_uses) {
        value_use u = from->uses[from->n_uses - 1];
        aglm_status st = aglm_node_set_input(u.node, u.slot, to);
        if (st != AGLM_OK)
            return st; /* only allocation can fail; the uses moved so far stay consistent */
    }
    for (size_t k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == from) {
            output_ref(g, from, -1);
            g->outputs[k] = to;
            output_ref(g, to, 1);
        }
    if (from->out_outer)
        replace_sub_outputs(g, from, to);
    return AGLM_OK;
}
