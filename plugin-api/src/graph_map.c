/* Hash tables and small helpers behind the graph IR: name look-ups stay O(1) in models with
 * thousands of values, and clone/verify get pointer sets without touching the objects. */
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

int grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return -1;
        n *= 2;
    }
    if (n > SIZE_MAX / elem)
        return -1;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = n;
    return 0;
}

const char *domain_norm(const char *d)
{
    return (!d || strcmp(d, "ai.onnx") == 0) ? "" : d;
}

char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

char *dup_mem(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* ---- string map (linear probing, backward-shift deletion: no tombstones) ----------------- */

static size_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 29));
}

static int strmap_resize(strmap *m, size_t cap)
{
    const char **keys = calloc(cap, sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = str_hash(m->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

static size_t strmap_slot(const strmap *m, const char *key)
{
    size_t j = str_hash(key) & (m->cap - 1);
    while (m->keys[j] && strcmp(m->keys[j], key) != 0)
        j = (j + 1) & (m->cap - 1);
    return j;
}

int strmap_put(strmap *m, const char *key, void *val)
{
    if ((m->len + 1) * 4 > m->cap * 3 && strmap_resize(m, m->cap ? m->cap * 2 : 16) != 0)
        return -1;
    size_t j = strmap_slot(m, key);
    if (!m->keys[j]) { /* an existing entry keeps its key pointer */
        m->len++;
        m->keys[j] = key;
    }
    m->vals[j] = val;
    return 0;
}

const char *strmap_key(const strmap *m, const char *key)
{
    if (!m->cap || !key)
        return NULL;
    return m->keys[strmap_slot(m, key)];
}

void *strmap_get(const strmap *m, const char *key)
{
    if (!m->cap || !key)
        return NULL;
    size_t j = strmap_slot(m, key);
    return m->keys[j] ? m->vals[j] : NULL;
}

int strmap_has(const strmap *m, const char *key)
{
    if (!m->cap || !key)
        return 0;
    return m->keys[strmap_slot(m, key)] != NULL;
}

void strmap_del(strmap *m, const char *key)
{
    if (!m->cap || !key)
        return;
    size_t mask = m->cap - 1, i = strmap_slot(m, key);
    if (!m->keys[i])
        return;
    m->keys[i] = NULL;
    m->len--;
    /* Shift later members of the probe run back so look-ups never stop at the hole early. */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = str_hash(m->keys[j]) & mask;
        int movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->keys[j] = NULL;
            i = j;
        }
    }
}

void strmap_free(strmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- pointer map (insert-only; used for short-lived look-ups) ----------------------------- */

static size_t ptr_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 32));
}

static int ptrmap_resize(ptrmap *m, size_t cap)
{
    const void **keys = calloc(cap, sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = ptr_hash(m->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

static size_t ptrmap_slot(const ptrmap *m, const void *key)
{
    size_t j = ptr_hash(key) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    return j;
}

int ptrmap_put(ptrmap *m, const void *key, void *val)
{
    if ((m->len + 1) * 4 > m->cap * 3 && ptrmap_resize(m, m->cap ? m->cap * 2 : 16) != 0)
        return -1;
    size_t j = ptrmap_slot(m, key);
    if (!m->keys[j])
        m->len++;
    m->keys[j] = key;
    m->vals[j] = val;
    return 0;
}

void *ptrmap_get(const ptrmap *m, const void *key)
{
    if (!m->cap || !key)
        return NULL;
    size_t j = ptrmap_slot(m, key);
    return m->keys[j] ? m->vals[j] : NULL;
}

int ptrmap_has(const ptrmap *m, const void *key)
{
    if (!m->cap || !key)
        return 0;
    return m->keys[ptrmap_slot(m, key)] != NULL;
}

void ptrmap_free(ptrmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- shared state of a graph tree -------------------------------------------------------- */

graph_shared *shared_new(void)
{
    graph_shared *s = calloc(1, sizeof *s);
    if (s)
        s->refs = 1;
    return s;
}

void shared_release(graph_shared *s)
{
    if (!s || --s->refs > 0)
        return;
    for (size_t i = 0; i < s->syms.cap; i++)
        free((char *)s->syms.keys[i]);
    strmap_free(&s->syms);
    free(s);
}

const char *shared_intern(graph_shared *s, const char *sym)
{
    const char *have = strmap_get(&s->syms, sym);
    if (have)
        return have;
    char *copy = strdup(sym);
    if (!copy)
        return NULL;
    if (strmap_put(&s->syms, copy, copy) != 0) {
        free(copy);
        return NULL;
    }
    return copy;
}
