/* Deep copies of graphs. One old->new value map serves the whole tree, so a subgraph's reference
 * to a value of an enclosing graph that is copied too lands on the copy; references that leave
 * the copied tree (cloning a subgraph on its own) keep pointing at the original outer value. */
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

static aglm_value *mapped(const ptrmap *map, aglm_value *v)
{
    aglm_value *m = v ? ptrmap_get(map, v) : NULL;
    return m ? m : v;
}

static aglm_status clone_values(aglm_graph *dst, const aglm_graph *src, ptrmap *map)
{
    for (size_t i = 0; i < src->n_values; i++) {
        const aglm_value *v = src->values[i];
        aglm_value *c = aglm_graph_new_value(dst, v->name, v->dtype, v->rank, v->dims);
        if (!c)
            return AGLM_ERR_NOMEM;
        if (v->has_const) {
            aglm_status st = aglm_tensor_copy(&c->cst, &v->cst);
            if (st != AGLM_OK)
                return aglm_error_wrap(st, "graph '%s': copying constant '%s'", src->name, v->name);
            c->has_const = 1;
        }
        if (ptrmap_put(map, v, c))
            return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory cloning", src->name);
    }
    return AGLM_OK;
}

static aglm_status clone_node(aglm_graph *dst, const aglm_node *n, ptrmap *map)
{
    aglm_value *stack_in[16], *stack_out[16];
    aglm_value **in = n->n_in <= 16 ? stack_in : malloc(n->n_in * sizeof *in);
    aglm_value **out = n->n_out <= 16 ? stack_out : malloc(n->n_out * sizeof *out);
    aglm_status st = AGLM_OK;
    aglm_node *c = NULL;
    if (!in || !out) {
        st = aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory cloning node '%s'", dst->name,
                        n->name);
        goto done;
    }
    for (size_t i = 0; i < n->n_in; i++)
        in[i] = mapped(map, n->in[i]);
    for (size_t i = 0; i < n->n_out; i++)
        out[i] = mapped(map, n->out[i]);
    c = aglm_graph_add_node(dst, n->op, n->domain, n->name, n->n_in, in, n->n_out, out);
    if (!c) {
        st = AGLM_ERR_NOMEM;
        goto done;
    }
    c->fresh_name = n->fresh_name;
    if (n->n_attrs && grow_array((void **)&c->attrs, &c->cap_attrs, n->n_attrs, sizeof *c->attrs)) {
        st = aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory cloning node '%s'", dst->name,
                        n->name);
        goto done;
    }
    for (size_t i = 0; i < n->n_attrs; i++) {
        aglm_attr *a = attr_clone(n->attrs[i], c, map);
        if (!a) {
            st = AGLM_ERR_NOMEM;
            goto done;
        }
        c->attrs[c->n_attrs++] = a;
    }
done:
    if (in != stack_in)
        free(in);
    if (out != stack_out)
        free(out);
    return st;
}

aglm_status graph_clone_into(aglm_graph *dst, const aglm_graph *src, ptrmap *map)
{
    aglm_status st;
    for (size_t i = 0; i < src->n_opsets; i++)
        if ((st = aglm_graph_set_opset(dst, src->opset_domains[i], src->opset_versions[i])) !=
            AGLM_OK)
            return st;
    for (size_t i = 0; i < src->n_meta; i++)
        if ((st = aglm_graph_set_meta(dst, src->meta_keys[i], src->meta_vals[i])) != AGLM_OK)
            return st;
    if ((st = clone_values(dst, src, map)) != AGLM_OK)
        return st;
    for (size_t i = 0; i < src->n_inputs; i++)
        if ((st = aglm_graph_add_input(dst, mapped(map, src->inputs[i]))) != AGLM_OK)
            return st;
    for (size_t i = 0; i < src->n_outputs; i++)
        if ((st = aglm_graph_add_output(dst, mapped(map, src->outputs[i]))) != AGLM_OK)
            return st;
    /* Every value exists before any node, so forward references (unsorted graphs) and
     * subgraph references to later values both find their copies. */
    for (size_t i = 0; i < src->n_nodes; i++)
        if ((st = clone_node(dst, src->nodes[i], map)) != AGLM_OK)
            return st;
    return AGLM_OK;
}

aglm_graph *aglm_graph_clone(const aglm_graph *g)
{
    if (!g) {
        aglm_error(AGLM_ERR_INVALID, "clone: graph is NULL");
        return NULL;
    }
    aglm_graph *c =
        g->parent ? aglm_graph_new_subgraph(g->parent, g->name) : aglm_graph_new(g->name);
    if (!c)
        return NULL;
    c->shared->fresh = c->shared->fresh > g->shared->fresh ? c->shared->fresh : g->shared->fresh;
    ptrmap map = {0};
    aglm_status st = graph_clone_into(c, g, &map);
    ptrmap_free(&map);
    if (st != AGLM_OK) {
        aglm_error_wrap(st, "cloning graph '%s'", g->name);
        graph_free_tree(c, 1);
        return NULL;
    }
    return c;
}
