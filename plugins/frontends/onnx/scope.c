/* Name scopes: an open-addressing table per graph, keyed by the name's bytes. Keys point into
 * the model buffer, which outlives the build. */
#include "onnx_frontend.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash(ox_str s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < s.n; i++)
        h = (h ^ s.p[i]) * 1099511628211ull;
    return h;
}

void ox_scope_init(ox_scope *s, aglm_graph *g, const ox_scope *outer)
{
    memset(s, 0, sizeof *s);
    s->g = g;
    s->outer = outer;
}

void ox_scope_free(ox_scope *s)
{
    free(s->keys);
    free(s->vals);
    s->keys = NULL;
    s->vals = NULL;
    s->cap = s->len = 0;
}

/* The slot of `name`, or of the empty slot where it would go. */
static size_t slot_of(const ox_scope *s, ox_str name)
{
    size_t i = (size_t)hash(name) & (s->cap - 1);
    while (s->keys[i].p && !ox_str_same(s->keys[i], name))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int grow(ox_scope *s)
{
    size_t cap = s->cap ? s->cap * 2 : 16;
    ox_str *keys = calloc(cap, sizeof *keys);
    aglm_value **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    ox_scope old = *s;
    s->keys = keys;
    s->vals = vals;
    s->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.keys[i].p)
            continue;
        size_t j = slot_of(s, old.keys[i]);
        s->keys[j] = old.keys[i];
        s->vals[j] = old.vals[i];
    }
    free(old.keys);
    free(old.vals);
    return 0;
}

/* An empty name has a non-NULL pointer too (any address), so "used slot" is keys[i].p != NULL. */
static const uint8_t empty_name[1];

aglm_status ox_scope_put(ox_scope *s, ox_str name, aglm_value *v)
{
    if (!name.p)
        name.p = empty_name;
    if ((s->len + 1) * 4 > s->cap * 3 && grow(s))
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for value names");
    size_t i = slot_of(s, name);
    if (!s->keys[i].p)
        s->len++;
    s->keys[i] = name;
    s->vals[i] = v;
    return AGLM_OK;
}

int ox_scope_get(const ox_scope *s, ox_str name, aglm_value **v)
{
    if (!s->cap)
        return 0;
    if (!name.p)
        name.p = empty_name;
    size_t i = slot_of(s, name);
    if (!s->keys[i].p)
        return 0;
    *v = s->vals[i];
    return 1;
}

int ox_scope_lookup(const ox_scope *s, ox_str name, aglm_value **v)
{
    for (; s; s = s->outer)
        if (ox_scope_get(s, name, v))
            return 1;
    return 0;
}
