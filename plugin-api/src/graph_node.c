/* Nodes and use lists: adding and removing nodes, rewiring inputs. Every change to a node input
 * updates the use list of the value it reads, so passes can walk consumers without scanning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

int value_add_use(aglm_value *v, aglm_node *n, size_t slot)
{
    if (grow_array((void **)&v->uses, &v->cap_uses, v->n_uses + 1, sizeof *v->uses))
        return -1;
    v->uses[v->n_uses].node = n;
    v->uses[v->n_uses++].slot = slot;
    return 0;
}

void value_remove_use(aglm_value *v, aglm_node *n, size_t slot)
{
    /* From the end: replace_uses and truncation drop the most recent uses first. */
    for (size_t i = v->n_uses; i-- > 0;) {
        if (v->uses[i].node == n && v->uses[i].slot == slot) {
            memmove(v->uses + i, v->uses + i + 1, (v->n_uses - i - 1) * sizeof *v->uses);
            v->n_uses--;
            return;
        }
    }
}

const char *node_op_label(const aglm_node *n, char *buf, size_t size)
{
    if (n->domain[0])
        snprintf(buf, size, "%s.%s", n->domain, n->op);
    else
        snprintf(buf, size, "%s", n->op);
    return buf;
}

/* Node names need not be unique (ONNX allows repeats), so the table counts them, under its own
 * copy of each name: any one node carrying it may go first. */
static int name_count_add(aglm_graph *g, const char *name, int delta)
{
    uintptr_t c = (uintptr_t)strmap_get(&g->node_names, name);
    if (delta < 0) {
        if (c > 1) {
            strmap_put(&g->node_names, name, (void *)(c - 1)); /* existing key: cannot fail */
        } else if (c == 1) {
            char *key = (char *)strmap_key(&g->node_names, name);
            strmap_del(&g->node_names, name);
            free(key);
        }
        return 0;
    }
    if (c)
        return strmap_put(&g->node_names, name, (void *)(c + 1));
    char *key = strdup(name);
    if (!key || strmap_put(&g->node_names, key, (void *)1)) {
        free(key);
        return -1;
    }
    return 0;
}

static char *fresh_node_name(aglm_graph *g, const char *op)
{
    size_t len = strlen(op) + 32;
    char *buf = malloc(len);
    if (!buf)
        return NULL;
    do
        snprintf(buf, len, "%s_%llu", op, (unsigned long long)g->shared->fresh++);
    while (strmap_has(&g->node_names, buf));
    return buf;
}

void node_destroy(aglm_node *n, int detach)
{
    for (size_t i = 0; i < n->n_attrs; i++)
        attr_free(n->attrs[i], detach);
    free(n->attrs);
    free(n->in);
    free(n->out);
    free(n->op);
    free(n->domain);
    free(n->name);
    free(n);
}

static aglm_status check_node_args(aglm_graph *g, const char *op, const char *name, size_t n_in,
                                   aglm_value *const *inputs, size_t n_out,
                                   aglm_value *const *outputs)
{
    const char *label = name && name[0] ? name : "(new)";
    if (!op || !op[0])
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': node '%s' has no op", g->name, label);
    if ((n_in && !inputs) || (n_out && !outputs))
        return aglm_error(AGLM_ERR_INVALID,
                          "graph '%s': node '%s' (%s): input or output array is NULL", g->name,
                          label, op);
    for (size_t i = 0; i < n_in; i++)
        if (inputs[i] && !value_visible(inputs[i], g))
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': node '%s' (%s): input %zu '%s' belongs to graph '%s', "
                              "which is not visible",
                              g->name, label, op, i, inputs[i]->name, inputs[i]->graph->name);
    for (size_t i = 0; i < n_out; i++) {
        aglm_value *v = outputs[i];
        if (!v)
            continue;
        if (v->graph != g)
            return aglm_error(AGLM_ERR_INVALID,
                              "graph '%s': node '%s' (%s): output %zu '%s' belongs to graph '%s'",
                              g->name, label, op, i, v->name, v->graph->name);
        if (v->producer)
            return aglm_error(
                AGLM_ERR_EXISTS,
                "graph '%s': node '%s' (%s): output %zu '%s' is already produced by node '%s'",
                g->name, label, op, i, v->name, v->producer->name);
        for (size_t k = 0; k < i; k++)
            if (outputs[k] == v)
                return aglm_error(AGLM_ERR_INVALID,
                                  "graph '%s': node '%s' (%s): output '%s' is listed twice",
                                  g->name, label, op, v->name);
    }
    return AGLM_OK;
}

aglm_node *aglm_graph_add_node(aglm_graph *g, const char *op, const char *domain, const char *name,
                               size_t n_in, aglm_value *const *inputs, size_t n_out,
                               aglm_value *const *outputs)
{
    if (!g) {
        aglm_error(AGLM_ERR_INVALID, "add_node: graph is NULL");
        return NULL;
    }
    if (check_node_args(g, op, name, n_in, inputs, n_out, outputs) != AGLM_OK)
        return NULL;
    aglm_node *n = calloc(1, sizeof *n);
    size_t uses = 0;
    if (!n)
        goto nomem;
    n->graph = g;
    n->op = strdup(op);
    n->domain = strdup(domain_norm(domain));
    n->fresh_name = !name || !name[0];
    n->name = n->fresh_name ? fresh_node_name(g, op) : strdup(name);
    n->in = calloc(n_in ? n_in : 1, sizeof *n->in);
    n->out = calloc(n_out ? n_out : 1, sizeof *n->out);
    n->cap_in = n_in ? n_in : 1;
    if (!n->op || !n->domain || !n->name || !n->in || !n->out)
        goto nomem;
    if (grow_array((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes) ||
        name_count_add(g, n->name, 1))
        goto nomem;
    for (; uses < n_in; uses++) {
        n->in[uses] = inputs[uses];
        if (inputs[uses] && value_add_use(inputs[uses], n, uses))
            goto nomem_named;
    }
    n->n_in = n_in;
    n->n_out = n_out;
    for (size_t i = 0; i < n_out; i++) {
        n->out[i] = outputs[i];
        if (outputs[i])
            outputs[i]->producer = n;
    }
    n->index = g->n_nodes;
    g->nodes[g->n_nodes++] = n;
    return n;
nomem_named:
    while (uses-- > 0)
        if (inputs[uses])
            value_remove_use(inputs[uses], n, uses);
    name_count_add(g, n->name, -1);
nomem:
    if (n)
        node_destroy(n, 0);
    aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory adding node '%s' (%s)", g->name,
               name ? name : "", op);
    return NULL;
}

aglm_status aglm_graph_remove_node(aglm_graph *g, aglm_node *n)
{
    if (!g || !n)
        return aglm_error(AGLM_ERR_INVALID, "remove_node: graph or node is NULL");
    if (n->graph != g || n->index >= g->n_nodes || g->nodes[n->index] != n)
        return aglm_error(AGLM_ERR_NOT_FOUND, "graph '%s': node '%s' (%s) is not in this graph",
                          g->name, n->name, n->op);
    for (size_t i = 0; i < n->n_in; i++)
        if (n->in[i])
            value_remove_use(n->in[i], n, i);
    for (size_t i = 0; i < n->n_out; i++)
        if (n->out[i])
            n->out[i]->producer = NULL;
    memmove(g->nodes + n->index, g->nodes + n->index + 1,
            (g->n_nodes - n->index - 1) * sizeof *g->nodes);
    g->n_nodes--;
    for (size_t i = n->index; i < g->n_nodes; i++)
        g->nodes[i]->index = i;
    name_count_add(g, n->name, -1);
    node_destroy(n, 1);
    return AGLM_OK;
}

size_t aglm_graph_num_nodes(const aglm_graph *g)
{
    return g ? g->n_nodes : 0;
}

aglm_node *aglm_graph_node(const aglm_graph *g, size_t i)
{
    return g && i < g->n_nodes ? g->nodes[i] : NULL;
}

const char *aglm_node_op(const aglm_node *n)
{
    return n ? n->op : NULL;
}

const char *aglm_node_domain(const aglm_node *n)
{
    return n ? n->domain : NULL;
}

const char *aglm_node_name(const aglm_node *n)
{
    return n ? n->name : NULL;
}

aglm_graph *aglm_node_graph(const aglm_node *n)
{
    return n ? n->graph : NULL;
}

aglm_status aglm_node_set_op(aglm_node *n, const char *op, const char *domain)
{
    if (!n || !op || !op[0])
        return aglm_error(AGLM_ERR_INVALID, "set_op: node is NULL or op is empty");
    char *o = strdup(op), *d = strdup(domain_norm(domain));
    if (!o || !d) {
        free(o);
        free(d);
        return aglm_error(AGLM_ERR_NOMEM, "node '%s': out of memory setting op '%s'", n->name, op);
    }
    free(n->op);
    free(n->domain);
    n->op = o;
    n->domain = d;
    return AGLM_OK;
}

aglm_status node_rename(aglm_node *n, const char *name)
{
    char *copy = strdup(name);
    if (!copy || name_count_add(n->graph, name, 1)) {
        free(copy);
        return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory naming node '%s'",
                          n->graph->name, name);
    }
    name_count_add(n->graph, n->name, -1);
    free(n->name);
    n->name = copy;
    n->fresh_name = 0;
    return AGLM_OK;
}

size_t aglm_node_num_inputs(const aglm_node *n)
{
    return n ? n->n_in : 0;
}

aglm_value *aglm_node_input(const aglm_node *n, size_t i)
{
    return n && i < n->n_in ? n->in[i] : NULL;
}

aglm_status aglm_node_set_input(aglm_node *n, size_t i, aglm_value *v)
{
    if (!n)
        return aglm_error(AGLM_ERR_INVALID, "set_input: node is NULL");
    if (i > n->n_in)
        return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): input %zu out of range (%zu inputs)",
                          n->name, n->op, i, n->n_in);
    if (v && !value_visible(v, n->graph))
        return aglm_error(
            AGLM_ERR_INVALID,
            "node '%s' (%s): input %zu '%s' belongs to graph '%s', which is not visible", n->name,
            n->op, i, v->name, v->graph->name);
    if (i == n->n_in && grow_array((void **)&n->in, &n->cap_in, n->n_in + 1, sizeof *n->in))
        return aglm_error(AGLM_ERR_NOMEM, "node '%s': out of memory adding an input", n->name);
    if (v && value_add_use(v, n, i))
        return aglm_error(AGLM_ERR_NOMEM, "node '%s': out of memory recording a use of '%s'",
                          n->name, v->name);
    if (i == n->n_in)
        n->in[n->n_in++] = NULL;
    if (n->in[i])
        value_remove_use(n->in[i], n, i);
    n->in[i] = v;
    return AGLM_OK;
}

aglm_status aglm_node_truncate_inputs(aglm_node *n, size_t count)
{
    if (!n)
        return aglm_error(AGLM_ERR_INVALID, "truncate_inputs: node is NULL");
    while (n->n_in > count) {
        n->n_in--;
        if (n->in[n->n_in])
            value_remove_use(n->in[n->n_in], n, n->n_in);
    }
    return AGLM_OK;
}

size_t aglm_node_num_outputs(const aglm_node *n)
{
    return n ? n->n_out : 0;
}

aglm_value *aglm_node_output(const aglm_node *n, size_t i)
{
    return n && i < n->n_out ? n->out[i] : NULL;
}
