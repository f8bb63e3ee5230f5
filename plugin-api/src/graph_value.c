/* Values: names (hashed per graph), types with interned dim symbols, constants, accessors and
 * pruning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

void value_destroy(aglm_value *v)
{
    if (v->has_const)
        aglm_tensor_free(&v->cst);
    free(v->uses);
    free(v->name);
    free(v);
}

/* ---- values ---------------------------------------------------------------------------- */

/* A name no value of g or its ancestors carries, so a fresh value never shadows an outer one. */
char *value_fresh_name(aglm_graph *g)
{
    char buf[32];
    for (;;) {
        snprintf(buf, sizeof buf, "v%llu", (unsigned long long)g->shared->fresh++);
        if (!aglm_graph_lookup_value(g, buf))
            return strdup(buf);
    }
}

static aglm_status check_type(const aglm_graph *g, const char *what, aglm_dtype dt, int rank)
{
    if (dt != AGLM_UNDEFINED && strcmp(aglm_dtype_name(dt), "?") == 0)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': value '%s': unknown dtype %d", g->name,
                          what, (int)dt);
    if (rank < -1)
        return aglm_error(AGLM_ERR_INVALID, "graph '%s': value '%s': rank %d is negative", g->name,
                          what, rank);
    if (rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "graph '%s': value '%s': rank %d exceeds the maximum of %d", g->name,
                          what, rank, AGLM_MAX_RANK);
    return AGLM_OK;
}

/* Fills v's type; symbols are interned first so a failure leaves v unchanged. */
static aglm_status store_type(aglm_value *v, aglm_dtype dt, int rank, const aglm_dim *dims)
{
    aglm_dim tmp[AGLM_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        tmp[i].value = AGLM_DIM_DYNAMIC;
        tmp[i].sym = NULL;
        if (!dims)
            continue;
        if (dims[i].value >= 0) {
            tmp[i].value = dims[i].value;
        } else if (dims[i].sym && dims[i].sym[0]) {
            tmp[i].sym = shared_intern(v->graph->shared, dims[i].sym);
            if (!tmp[i].sym)
                return aglm_error(AGLM_ERR_NOMEM, "value '%s': out of memory interning dim '%s'",
                                  v->name, dims[i].sym);
        }
    }
    v->dtype = dt;
    v->rank = rank < 0 ? -1 : rank;
    memcpy(v->dims, tmp, (size_t)(rank > 0 ? rank : 0) * sizeof *tmp);
    return AGLM_OK;
}

aglm_value *aglm_graph_new_value(aglm_graph *g, const char *name, aglm_dtype dt, int rank,
                                 const aglm_dim *dims)
{
    if (!g) {
        aglm_error(AGLM_ERR_INVALID, "new_value: graph is NULL");
        return NULL;
    }
    int fresh = !name || !name[0];
    if (!fresh && strmap_has(&g->value_names, name)) {
        aglm_error(AGLM_ERR_EXISTS, "graph '%s': a value named '%s' already exists", g->name, name);
        return NULL;
    }
    if (check_type(g, fresh ? "(new)" : name, dt, rank) != AGLM_OK)
        return NULL;
    aglm_value *v = calloc(1, sizeof *v);
    if (!v)
        goto nomem;
    v->graph = g;
    v->name = fresh ? value_fresh_name(g) : strdup(name);
    if (!v->name)
        goto nomem;
    if (store_type(v, dt, rank, dims) != AGLM_OK) {
        value_destroy(v);
        return NULL;
    }
    if (grow_array((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values) ||
        strmap_put(&g->value_names, v->name, v))
        goto nomem;
    v->index = g->n_values;
    g->values[g->n_values++] = v;
    return v;
nomem:
    if (v)
        value_destroy(v);
    aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory adding value '%s'", g->name,
               name ? name : "");
    return NULL;
}

/* Removes v (which nothing references) from its graph and frees it. */
static void value_delete(aglm_value *v)
{
    aglm_graph *g = v->graph;
    strmap_del(&g->value_names, v->name);
    memmove(g->values + v->index, g->values + v->index + 1,
            (g->n_values - v->index - 1) * sizeof *g->values);
    g->n_values--;
    for (size_t i = v->index; i < g->n_values; i++)
        g->values[i]->index = i;
    value_destroy(v);
}

static aglm_status check_const(const char *name, const aglm_tensor *t)
{
    if (!t)
        return aglm_error(AGLM_ERR_INVALID, "constant '%s': tensor is NULL", name);
    if (t->device != AGLM_DEVICE_CPU)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "constant '%s': only CPU tensors can be constants",
                          name);
    if (t->rank < 0 || t->rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_INVALID, "constant '%s': bad rank %d", name, (int)t->rank);
    if (aglm_dtype_size(t->dtype) == 0)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "constant '%s': dtype %s cannot be stored in a tensor", name,
                          aglm_dtype_name(t->dtype));
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0)
            return aglm_error(AGLM_ERR_INVALID, "constant '%s': dim %d is negative (%lld)", name, i,
                              (long long)t->dims[i]);
    if (!t->data && aglm_tensor_nbytes(t) > 0)
        return aglm_error(AGLM_ERR_INVALID, "constant '%s': tensor has no data", name);
    return AGLM_OK;
}

static void type_from_tensor(aglm_value *v, const aglm_tensor *t)
{
    v->dtype = t->dtype;
    v->rank = t->rank;
    for (int i = 0; i < t->rank; i++) {
        v->dims[i].value = t->dims[i];
        v->dims[i].sym = NULL;
    }
}

aglm_value *aglm_graph_add_initializer(aglm_graph *g, const char *name, const aglm_tensor *t)
{
    if (!g) {
        aglm_error(AGLM_ERR_INVALID, "add_initializer: graph is NULL");
        return NULL;
    }
    aglm_status st = check_const(name ? name : "", t);
    if (st != AGLM_OK) {
        aglm_error_wrap(st, "graph '%s'", g->name);
        return NULL;
    }
    aglm_value *v = aglm_graph_new_value(g, name, t->dtype, -1, NULL);
    if (!v)
        return NULL;
    st = aglm_tensor_copy(&v->cst, t);
    if (st != AGLM_OK) {
        aglm_error_wrap(st, "graph '%s': constant '%s'", g->name, v->name);
        value_delete(v);
        return NULL;
    }
    v->has_const = 1;
    type_from_tensor(v, t);
    return v;
}

aglm_value *aglm_graph_find_value(const aglm_graph *g, const char *name)
{
    return g && name ? strmap_get(&g->value_names, name) : NULL;
}

aglm_value *aglm_graph_lookup_value(const aglm_graph *g, const char *name)
{
    for (; g; g = g->parent) {
        aglm_value *v = aglm_graph_find_value(g, name);
        if (v)
            return v;
    }
    return NULL;
}

size_t aglm_graph_num_values(const aglm_graph *g)
{
    return g ? g->n_values : 0;
}

aglm_value *aglm_graph_value(const aglm_graph *g, size_t i)
{
    return g && i < g->n_values ? g->values[i] : NULL;
}

aglm_status value_rename(aglm_value *v, const char *name)
{
    aglm_graph *g = v->graph;
    if (strcmp(v->name, name) == 0)
        return AGLM_OK;
    if (strmap_has(&g->value_names, name))
        return aglm_error(AGLM_ERR_EXISTS, "graph '%s': a value named '%s' already exists", g->name,
                          name);
    char *copy = strdup(name);
    if (!copy)
        return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory renaming '%s'", g->name,
                          v->name);
    strmap_del(&g->value_names, v->name);
    if (strmap_put(&g->value_names, copy, v) != 0) {
        strmap_put(&g->value_names, v->name, v); /* cannot fail: the slot just freed */
        free(copy);
        return aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory renaming '%s'", g->name,
                          v->name);
    }
    free(v->name);
    v->name = copy;
    return AGLM_OK;
}

size_t aglm_graph_prune_values(aglm_graph *g)
{
    if (!g)
        return 0;
    size_t kept = 0, gone = 0;
    for (size_t i = 0; i < g->n_values; i++) {
        aglm_value *v = g->values[i];
        if (!v->producer && !v->n_uses && !v->is_input && !v->out_own && !v->out_outer) {
            strmap_del(&g->value_names, v->name);
            value_destroy(v);
            gone++;
            continue;
        }
        v->index = kept;
        g->values[kept++] = v;
    }
    g->n_values = kept;
    return gone;
}

/* ---- value accessors --------------------------------------------------------------------- */

const char *aglm_value_name(const aglm_value *v)
{
    return v ? v->name : NULL;
}

aglm_graph *aglm_value_graph(const aglm_value *v)
{
    return v ? v->graph : NULL;
}

aglm_dtype aglm_value_dtype(const aglm_value *v)
{
    return v ? v->dtype : AGLM_UNDEFINED;
}

int aglm_value_rank(const aglm_value *v)
{
    return v ? v->rank : -1;
}

aglm_dim aglm_value_dim(const aglm_value *v, int i)
{
    aglm_dim d = {AGLM_DIM_DYNAMIC, NULL};
    if (v && i >= 0 && i < v->rank)
        d = v->dims[i];
    return d;
}

int aglm_value_is_static(const aglm_value *v)
{
    if (!v || v->rank < 0)
        return 0;
    for (int i = 0; i < v->rank; i++)
        if (v->dims[i].value < 0)
            return 0;
    return 1;
}

aglm_status aglm_value_set_type(aglm_value *v, aglm_dtype dt, int rank, const aglm_dim *dims)
{
    if (!v)
        return aglm_error(AGLM_ERR_INVALID, "set_type: value is NULL");
    aglm_status st = check_type(v->graph, v->name, dt, rank);
    return st != AGLM_OK ? st : store_type(v, dt, rank, dims);
}

char *aglm_value_type_str(const aglm_value *v, char *buf, size_t n)
{
    if (!buf || !n)
        return buf;
    buf[0] = '\0';
    if (!v)
        return buf;
    size_t len = (size_t)snprintf(buf, n, "%s", aglm_dtype_name(v->dtype));
    if (v->rank < 0)
        return buf;
    for (int i = 0; i <= v->rank && len < n; i++) {
        const char *sep = i == 0 ? "[" : ",";
        if (i == v->rank)
            len += (size_t)snprintf(buf + len, n - len, "%s]", v->rank ? "" : "[");
        else if (v->dims[i].value >= 0)
            len += (size_t)snprintf(buf + len, n - len, "%s%lld", sep, (long long)v->dims[i].value);
        else
            len += (size_t)snprintf(buf + len, n - len, "%s%s", sep,
                                    v->dims[i].sym ? v->dims[i].sym : "?");
    }
    return buf;
}

const aglm_tensor *aglm_value_const(const aglm_value *v)
{
    return v && v->has_const ? &v->cst : NULL;
}

aglm_status aglm_value_set_const(aglm_value *v, aglm_tensor *t)
{
    if (!v)
        return aglm_error(AGLM_ERR_INVALID, "set_const: value is NULL");
    aglm_status st = check_const(v->name, t);
    if (st != AGLM_OK)
        return st;
    aglm_tensor moved;
    if (t->flags & AGLM_TENSOR_OWNS_DATA) {
        moved = *t;
    } else {
        /* Borrowed data is not ours to keep: copy it so the caller's buffer can go. */
        st = aglm_tensor_copy(&moved, t);
        if (st != AGLM_OK)
            return aglm_error_wrap(st, "constant '%s'", v->name);
    }
    if (v->has_const)
        aglm_tensor_free(&v->cst);
    v->cst = moved;
    v->has_const = 1;
    type_from_tensor(v, &moved);
    memset(t, 0, sizeof *t);
    return AGLM_OK;
}

aglm_node *aglm_value_producer(const aglm_value *v)
{
    return v ? v->producer : NULL;
}

size_t aglm_value_num_uses(const aglm_value *v)
{
    return v ? v->n_uses : 0;
}

aglm_node *aglm_value_use(const aglm_value *v, size_t i, size_t *input_index)
{
    if (!v || i >= v->n_uses)
        return NULL;
    if (input_index)
        *input_index = v->uses[i].slot;
    return v->uses[i].node;
}

int aglm_value_is_graph_input(const aglm_value *v)
{
    return v ? v->is_input : 0;
}

int aglm_value_is_graph_output(const aglm_value *v)
{
    return v ? v->out_own > 0 : 0;
}
