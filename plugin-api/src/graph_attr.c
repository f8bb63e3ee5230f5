/* Node attributes: storage, typed getters with ONNX's int <-> float conversion, setters that copy
 * their data (graphs excepted: their ownership moves to the node), and deep copies for clone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

void attr_free(aglm_attr *a, int detach)
{
    if (!a)
        return;
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
    if (a->strings)
        for (size_t i = 0; i < a->count; i++)
            free(a->strings[i]);
    free(a->strings);
    aglm_tensor_free(&a->t);
    if (a->tensors)
        for (size_t i = 0; i < a->count; i++)
            aglm_tensor_free(&a->tensors[i]);
    free(a->tensors);
    if (a->g) {
        a->g->owner = NULL;
        graph_free_tree(a->g, detach);
    }
    if (a->graphs)
        for (size_t i = 0; i < a->count; i++)
            if (a->graphs[i]) {
                a->graphs[i]->owner = NULL;
                graph_free_tree(a->graphs[i], detach);
            }
    free(a->graphs);
    free(a);
}

static aglm_attr *attr_new(const char *name, aglm_attr_type type)
{
    aglm_attr *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->type = type;
    if (!(a->name = strdup(name))) {
        free(a);
        return NULL;
    }
    return a;
}

/* ---- reading ----------------------------------------------------------------------------- */

size_t aglm_node_num_attrs(const aglm_node *n)
{
    return n ? n->n_attrs : 0;
}

const aglm_attr *aglm_node_attr_at(const aglm_node *n, size_t i)
{
    return n && i < n->n_attrs ? n->attrs[i] : NULL;
}

static ptrdiff_t attr_index(const aglm_node *n, const char *name)
{
    if (!n || !name)
        return -1;
    for (size_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i]->name, name) == 0)
            return (ptrdiff_t)i;
    return -1;
}

const aglm_attr *aglm_node_attr(const aglm_node *n, const char *name)
{
    ptrdiff_t i = attr_index(n, name);
    return i >= 0 ? n->attrs[i] : NULL;
}

const char *aglm_attr_name(const aglm_attr *a)
{
    return a ? a->name : NULL;
}

aglm_attr_type aglm_attr_kind(const aglm_attr *a)
{
    return a ? a->type : AGLM_ATTR_UNDEFINED;
}

/* A float attribute read as an int, when it holds one exactly representable. */
static int float_to_int(float f, int64_t *out)
{
    if (!isfinite(f) || f < -9.2233720368547758e18f || f >= 9.2233720368547758e18f)
        return 0;
    *out = (int64_t)f;
    return 1;
}

int64_t aglm_attr_i(const aglm_attr *a)
{
    int64_t v = 0;
    if (a && a->type == AGLM_ATTR_INT)
        return a->i;
    if (a && a->type == AGLM_ATTR_FLOAT)
        float_to_int(a->f, &v);
    return v;
}

float aglm_attr_f(const aglm_attr *a)
{
    if (a && a->type == AGLM_ATTR_FLOAT)
        return a->f;
    if (a && a->type == AGLM_ATTR_INT)
        return (float)a->i;
    return 0.0f;
}

const char *aglm_attr_s(const aglm_attr *a, size_t *len)
{
    int ok = a && a->type == AGLM_ATTR_STRING;
    if (len)
        *len = ok ? a->s_len : 0;
    return ok ? a->s : NULL;
}

#define LIST_GETTER(fn, ctype, kind, field)                                                        \
    ctype fn(const aglm_attr *a, size_t *count)                                                    \
    {                                                                                              \
        int ok = a && a->type == kind;                                                             \
        if (count)                                                                                 \
            *count = ok ? a->count : 0;                                                            \
        return ok ? (ctype)a->field : NULL;                                                        \
    }

LIST_GETTER(aglm_attr_ints, const int64_t *, AGLM_ATTR_INTS, ints)
LIST_GETTER(aglm_attr_floats, const float *, AGLM_ATTR_FLOATS, floats)
LIST_GETTER(aglm_attr_strings, const char *const *, AGLM_ATTR_STRINGS, strings)
LIST_GETTER(aglm_attr_tensors, const aglm_tensor *, AGLM_ATTR_TENSORS, tensors)
LIST_GETTER(aglm_attr_graphs, aglm_graph *const *, AGLM_ATTR_GRAPHS, graphs)

const aglm_tensor *aglm_attr_tensor(const aglm_attr *a)
{
    return a && a->type == AGLM_ATTR_TENSOR ? &a->t : NULL;
}

aglm_graph *aglm_attr_graph(const aglm_attr *a)
{
    return a && a->type == AGLM_ATTR_GRAPH ? a->g : NULL;
}

size_t aglm_attr_num_graphs(const aglm_attr *a)
{
    if (a && a->type == AGLM_ATTR_GRAPH)
        return a->g != NULL;
    return a && a->type == AGLM_ATTR_GRAPHS ? a->count : 0;
}

aglm_graph *aglm_attr_graph_at(const aglm_attr *a, size_t i)
{
    if (i >= aglm_attr_num_graphs(a))
        return NULL;
    return a->type == AGLM_ATTR_GRAPH ? a->g : a->graphs[i];
}

int64_t aglm_node_get_int(const aglm_node *n, const char *name, int64_t def)
{
    const aglm_attr *a = aglm_node_attr(n, name);
    int64_t v;
    if (a && a->type == AGLM_ATTR_INT)
        return a->i;
    if (a && a->type == AGLM_ATTR_FLOAT && float_to_int(a->f, &v))
        return v;
    return def;
}

float aglm_node_get_float(const aglm_node *n, const char *name, float def)
{
    const aglm_attr *a = aglm_node_attr(n, name);
    if (a && a->type == AGLM_ATTR_FLOAT)
        return a->f;
    if (a && a->type == AGLM_ATTR_INT)
        return (float)a->i;
    return def;
}

const char *aglm_node_get_string(const aglm_node *n, const char *name, const char *def)
{
    const aglm_attr *a = aglm_node_attr(n, name);
    return a && a->type == AGLM_ATTR_STRING ? a->s : def;
}

const int64_t *aglm_node_get_ints(const aglm_node *n, const char *name, size_t *count)
{
    return aglm_attr_ints(aglm_node_attr(n, name), count);
}

const float *aglm_node_get_floats(const aglm_node *n, const char *name, size_t *count)
{
    return aglm_attr_floats(aglm_node_attr(n, name), count);
}

/* ---- writing ----------------------------------------------------------------------------- */

/* Installs a (replacing, in place, an attribute of the same name, so printing order stays put).
 * Graphs that `a` takes over from the attribute it replaces are not freed with it. */
static aglm_status node_put_attr(aglm_node *n, aglm_attr *a)
{
    ptrdiff_t i = attr_index(n, a->name);
    if (i < 0) {
        if (grow_array((void **)&n->attrs, &n->cap_attrs, n->n_attrs + 1, sizeof *n->attrs)) {
            /* The caller keeps its graphs when setting fails. */
            a->g = NULL;
            if (a->graphs)
                memset(a->graphs, 0, a->count * sizeof *a->graphs);
            attr_free(a, 0);
            return aglm_error(AGLM_ERR_NOMEM, "node '%s': out of memory setting attribute",
                              n->name);
        }
        n->attrs[n->n_attrs++] = a;
        return AGLM_OK;
    }
    aglm_attr *old = n->attrs[i];
    size_t nkeep = a->type == AGLM_ATTR_GRAPH ? 1 : a->type == AGLM_ATTR_GRAPHS ? a->count : 0;
    for (size_t k = 0; k < nkeep; k++) {
        aglm_graph *keep = a->type == AGLM_ATTR_GRAPH ? a->g : a->graphs[k];
        if (old->g == keep)
            old->g = NULL;
        for (size_t j = 0; old->graphs && j < old->count; j++)
            if (old->graphs[j] == keep)
                old->graphs[j] = NULL;
    }
    n->attrs[i] = a;
    attr_free(old, 1);
    return AGLM_OK;
}

static aglm_status set_begin(aglm_node *n, const char *name, aglm_attr_type type, aglm_attr **out)
{
    *out = NULL;
    if (!n || !name || !name[0])
        return aglm_error(AGLM_ERR_INVALID, "set attribute: node is NULL or name is empty");
    if (!(*out = attr_new(name, type)))
        return aglm_error(AGLM_ERR_NOMEM, "node '%s': out of memory setting attribute '%s'",
                          n->name, name);
    return AGLM_OK;
}

static aglm_status set_nomem(aglm_node *n, aglm_attr *a)
{
    aglm_status st = aglm_error(AGLM_ERR_NOMEM, "node '%s': out of memory setting attribute '%s'",
                                n->name, a->name);
    attr_free(a, 0);
    return st;
}

aglm_status aglm_node_set_int(aglm_node *n, const char *name, int64_t v)
{
    aglm_attr *a;
    aglm_status st = set_begin(n, name, AGLM_ATTR_INT, &a);
    if (st != AGLM_OK)
        return st;
    a->i = v;
    return node_put_attr(n, a);
}

aglm_status aglm_node_set_float(aglm_node *n, const char *name, float v)
{
    aglm_attr *a;
    aglm_status st = set_begin(n, name, AGLM_ATTR_FLOAT, &a);
    if (st != AGLM_OK)
        return st;
    a->f = v;
    return node_put_attr(n, a);
}

aglm_status aglm_node_set_string(aglm_node *n, const char *name, const char *s, size_t len)
{
    if (!s && len)
        return aglm_error(AGLM_ERR_INVALID, "node '%s': attribute '%s': string is NULL",
                          n ? n->name : "", name);
    aglm_attr *a;
    aglm_status st = set_begin(n, name, AGLM_ATTR_STRING, &a);
    if (st != AGLM_OK)
        return st;
    if (!(a->s = dup_mem(s, len)))
        return set_nomem(n, a);
    a->s_len = len;
    return node_put_attr(n, a);
}

/* Lists always get storage, even when empty, so a present attribute never reads as absent. */
static void *copy_list(const void *src, size_t count, size_t elem)
{
    void *p = malloc((count ? count : 1) * elem);
    if (p && count)
        memcpy(p, src, count * elem);
    return p;
}

aglm_status aglm_node_set_ints(aglm_node *n, const char *name, const int64_t *v, size_t count)
{
    if (!v && count)
        return aglm_error(AGLM_ERR_INVALID, "node '%s': attribute '%s': ints are NULL",
                          n ? n->name : "", name);
    aglm_attr *a;
    aglm_status st = set_begin(n, name, AGLM_ATTR_INTS, &a);
    if (st != AGLM_OK)
        return st;
    if (count > SIZE_MAX / sizeof *v || !(a->ints = copy_list(v, count, sizeof *v)))
        return set_nomem(n, a);
    a->count = count;
    return node_put_attr(n, a);
}

aglm_status aglm_node_set_floats(aglm_node *n, const char *name, const float *v, size_t count)
{
    if (!v && count)
        return aglm_error(AGLM_ERR_INVALID, "node '%s': attribute '%s': floats are NULL",
                          n ? n->name : "", name);
    aglm_attr *a;
    aglm_status st = set_begin(n, name, AGLM_ATTR_FLOATS, &a);
    if (st != AGLM_OK)
        return st;
    if (count > SIZE_MAX / sizeof *v || !(a->floats = copy_list(v, count, sizeof *v)))
        return set_nomem(n, a);
    a->count = count;
    return node_put_attr(n, a);
}

aglm_status aglm_node_set_strings(aglm_node *n, const char *name, const char *const *v,
                                  size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!v || !v[i])
            return aglm_error(AGLM_ERR_INVALID, "node '%s': attribute '%s': string %zu is NULL",
                              n ? n->name : "", name, i);
    aglm_attr *a;
    aglm_status st = set_begin(n, name, AGLM_ATTR_STRINGS, &a);
    if (st != AGLM_OK)
        return st;
    if (count > SIZE_MAX / sizeof(char *) ||
        !(a->strings = calloc(count ? count : 1, sizeof(char *))))
        return set_nomem(n, a);
    a->count = count;
    for (size_t i = 0; i < count; i++)
        if (!(a->strings[i] = strdup(v[i])))
            return set_nomem(n, a);
    return node_put_attr(n, a);
}

static aglm_status copy_tensor(aglm_node *n, const char *name, aglm_tensor *dst,
                               const aglm_tensor *src)
{
    if (!src)
        return aglm_error(AGLM_ERR_INVALID, "node '%s': attribute '%s': tensor is NULL", n->name,
                          name);
    aglm_status st = aglm_tensor_copy(dst, src);
    return st == AGLM_OK ? st : aglm_error_wrap(st, "node '%s': attribute '%s'", n->name, name);
}

aglm_status aglm_node_set_tensor(aglm_node *n, const char *name, const aglm_tensor *t)
{
    aglm_attr *a;
    aglm_status st = set_begin(n, name, AGLM_ATTR_TENSOR, &a);
    if (st != AGLM_OK)
        return st;
    if ((st = copy_tensor(n, name, &a->t, t)) != AGLM_OK) {
        attr_free(a, 0);
        return st;
    }
    return node_put_attr(n, a);
}

aglm_status aglm_node_set_tensors(aglm_node *n, const char *name, const aglm_tensor *t,
                                  size_t count)
{
    if (!t && count)
        return aglm_error(AGLM_ERR_INVALID, "node '%s': attribute '%s': tensors are NULL",
                          n ? n->name : "", name);
    aglm_attr *a;
    aglm_status st = set_begin(n, name, AGLM_ATTR_TENSORS, &a);
    if (st != AGLM_OK)
        return st;
    if (count > SIZE_MAX / sizeof *t || !(a->tensors = calloc(count ? count : 1, sizeof *t)))
        return set_nomem(n, a);
    a->count = count;
    for (size_t i = 0; i < count; i++)
        if ((st = copy_tensor(n, name, &a->tensors[i], &t[i])) != AGLM_OK) {
            attr_free(a, 0);
            return st;
        }
    return node_put_attr(n, a);
}

/* A graph may move to n when it is a subgraph of n's graph that no attribute holds yet, or the
 * one that n's attribute `name` already holds (re-setting it is then harmless). */
static aglm_status check_sub(aglm_node *n, const char *name, const aglm_graph *sub)
{
    if (!sub)
        return aglm_error(AGLM_ERR_INVALID, "node '%s': attribute '%s': graph is NULL", n->name,
                          name);
    if (sub->parent != n->graph)
        return aglm_error(
            AGLM_ERR_INVALID,
            "node '%s': attribute '%s': graph '%s' must be a subgraph of graph '%s' (the node's)",
            n->name, name, sub->name, n->graph->name);
    if (sub->owner) {
        const aglm_attr *cur = sub->owner == n ? aglm_node_attr(n, name) : NULL;
        int held = cur && cur->g == sub;
        for (size_t j = 0; cur && cur->graphs && j < cur->count; j++)
            held |= cur->graphs[j] == sub;
        if (!held)
            return aglm_error(AGLM_ERR_STATE,
                              "node '%s': attribute '%s': graph '%s' already belongs to node '%s'",
                              n->name, name, sub->name, sub->owner->name);
    }
    return AGLM_OK;
}

aglm_status aglm_node_set_graph(aglm_node *n, const char *name, aglm_graph *sub)
{
    if (!n || !name || !name[0])
        return aglm_error(AGLM_ERR_INVALID, "set attribute: node is NULL or name is empty");
    aglm_status st = check_sub(n, name, sub);
    if (st != AGLM_OK)
        return st;
    aglm_attr *a;
    if ((st = set_begin(n, name, AGLM_ATTR_GRAPH, &a)) != AGLM_OK)
        return st;
    a->g = sub;
    if ((st = node_put_attr(n, a)) != AGLM_OK)
        return st;
    sub->owner = n;
    return AGLM_OK;
}

aglm_status aglm_node_set_graphs(aglm_node *n, const char *name, aglm_graph *const *subs,
                                 size_t count)
{
    if (!n || !name || !name[0])
        return aglm_error(AGLM_ERR_INVALID, "set attribute: node is NULL or name is empty");
    if (!subs && count)
        return aglm_error(AGLM_ERR_INVALID, "node '%s': attribute '%s': graphs are NULL", n->name,
                          name);
    aglm_status st;
    for (size_t i = 0; i < count; i++) {
        if ((st = check_sub(n, name, subs[i])) != AGLM_OK)
            return st;
        for (size_t k = 0; k < i; k++)
            if (subs[k] == subs[i])
                return aglm_error(AGLM_ERR_INVALID,
                                  "node '%s': attribute '%s': graph '%s' is listed twice", n->name,
                                  name, subs[i]->name);
    }
    aglm_attr *a;
    if ((st = set_begin(n, name, AGLM_ATTR_GRAPHS, &a)) != AGLM_OK)
        return st;
    if (count > SIZE_MAX / sizeof *subs || !(a->graphs = copy_list(subs, count, sizeof *subs)))
        return set_nomem(n, a);
    a->count = count;
    if ((st = node_put_attr(n, a)) != AGLM_OK)
        return st;
    for (size_t i = 0; i < count; i++)
        subs[i]->owner = n;
    return AGLM_OK;
}

aglm_status aglm_node_remove_attr(aglm_node *n, const char *name)
{
    ptrdiff_t i = attr_index(n, name);
    if (i < 0)
        return aglm_error(AGLM_ERR_NOT_FOUND, "node '%s': no attribute '%s'", n ? n->name : "",
                          name ? name : "");
    aglm_attr *a = n->attrs[i];
    memmove(n->attrs + i, n->attrs + i + 1, (n->n_attrs - (size_t)i - 1) * sizeof *n->attrs);
    n->n_attrs--;
    attr_free(a, 1);
    return AGLM_OK;
}

/* ---- cloning ----------------------------------------------------------------------------- */

static aglm_graph *clone_sub(const aglm_graph *src, aglm_node *dst, ptrmap *map)
{
    aglm_graph *g = aglm_graph_new_subgraph(dst->graph, src->name);
    if (!g)
        return NULL;
    if (graph_clone_into(g, src, map) != AGLM_OK) {
        graph_free_tree(g, 1);
        return NULL;
    }
    g->owner = dst;
    return g;
}

aglm_attr *attr_clone(const aglm_attr *a, aglm_node *dst, ptrmap *map)
{
    aglm_attr *c = attr_new(a->name, a->type);
    if (!c)
        goto nomem;
    c->i = a->i;
    c->f = a->f;
    c->count = a->count;
    size_t n = a->count ? a->count : 1;
    switch (a->type) {
    case AGLM_ATTR_STRING:
        if (!(c->s = dup_mem(a->s, a->s_len)))
            goto nomem;
        c->s_len = a->s_len;
        break;
    case AGLM_ATTR_INTS:
        if (!(c->ints = copy_list(a->ints, a->count, sizeof *a->ints)))
            goto nomem;
        break;
    case AGLM_ATTR_FLOATS:
        if (!(c->floats = copy_list(a->floats, a->count, sizeof *a->floats)))
            goto nomem;
        break;
    case AGLM_ATTR_STRINGS:
        if (!(c->strings = calloc(n, sizeof *c->strings)))
            goto nomem;
        for (size_t i = 0; i < a->count; i++)
            if (!(c->strings[i] = strdup(a->strings[i])))
                goto nomem;
        break;
    case AGLM_ATTR_TENSOR:
        if (aglm_tensor_copy(&c->t, &a->t) != AGLM_OK)
            goto fail;
        break;
    case AGLM_ATTR_TENSORS:
        if (!(c->tensors = calloc(n, sizeof *c->tensors)))
            goto nomem;
        for (size_t i = 0; i < a->count; i++)
            if (aglm_tensor_copy(&c->tensors[i], &a->tensors[i]) != AGLM_OK)
                goto fail;
        break;
    case AGLM_ATTR_GRAPH:
        if (!(c->g = clone_sub(a->g, dst, map)))
            goto fail;
        break;
    case AGLM_ATTR_GRAPHS:
        if (!(c->graphs = calloc(n, sizeof *c->graphs)))
            goto nomem;
        for (size_t i = 0; i < a->count; i++)
            if (!(c->graphs[i] = clone_sub(a->graphs[i], dst, map)))
                goto fail;
        break;
    default: break;
    }
    return c;
nomem:
    aglm_error(AGLM_ERR_NOMEM, "node '%s': out of memory copying attribute '%s'", dst->name,
               a->name);
fail:
    attr_free(c, 1);
    return NULL;
}
