/* The memory planner's arithmetic (aglm/memplan.h): greedy offset assignment over value
 * lifetimes, and the host-memory table. Values sharing a region in place are merged into one
 * group first: the group lives from its earliest producer to its latest reader and is as big as
 * its largest member. */
#include "aglm/memplan.h"

#include <stdlib.h>
#include <string.h>

typedef struct group {
    int first, last;
    uint64_t size, offset;
    int placed;
} group;

uint64_t aglm_plan_round(uint64_t bytes)
{
    return (bytes + AGLM_PLAN_ALIGN - 1) / AGLM_PLAN_ALIGN * AGLM_PLAN_ALIGN;
}

static int planned(const aglm_plan_value *v)
{
    return v->first >= 0 && v->last >= v->first && v->bytes > 0;
}

/* The value whose region v[i] ends up in: the end of its chain of shares. A share pointing at a
 * value that is not planned, or a chain longer than n (a cycle), leaves i on its own. */
static size_t root_of(size_t n, const aglm_plan_value *v, size_t i)
{
    size_t r = i, hops = 0;
    while (v[r].share >= 0 && (size_t)v[r].share < n && planned(&v[v[r].share]) && hops++ < n)
        r = (size_t)v[r].share;
    return hops > n ? i : r;
}

/* Largest first; among equals the earliest born, then the lowest index, so the result does not
 * depend on qsort (the groups are one array, so their addresses order them by index). */
static int cmp_group(const void *a, const void *b)
{
    const group *x = *(const group *const *)a, *y = *(const group *const *)b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int cmp_offset(const void *a, const void *b)
{
    const group *x = *(const group *const *)a, *y = *(const group *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Places g below, between or above the placed groups alive at the same time (live, n_live of
 * them): the smallest gap that holds it, else the end of the highest. */
static uint64_t best_fit(const group *g, const group **live, size_t n_live)
{
    qsort(live, n_live, sizeof *live, cmp_offset);
    uint64_t end = 0, best = AGLM_PLAN_NONE, best_gap = AGLM_PLAN_NONE;
    for (size_t i = 0; i < n_live; i++) {
        if (live[i]->offset > end) {
            uint64_t gap = live[i]->offset - end;
            if (gap >= g->size && gap < best_gap) {
                best = end;
                best_gap = gap;
            }
        }
        if (live[i]->offset + live[i]->size > end)
            end = live[i]->offset + live[i]->size;
    }
    return best != AGLM_PLAN_NONE ? best : end;
}

aglm_status aglm_plan_assign(size_t n, const aglm_plan_value *v, uint64_t *offset,
                             uint64_t *arena_bytes)
{
    *arena_bytes = 0;
    group *groups = calloc(n ? n : 1, sizeof *groups);
    size_t *root = calloc(n ? n : 1, sizeof *root);
    group **order = calloc(n ? n : 1, sizeof *order);
    const group **live = calloc(n ? n : 1, sizeof *live);
    if (!groups || !root || !order || !live) {
        free(groups);
        free(root);
        free(order);
        free(live);
        return aglm_error(AGLM_ERR_NOMEM, "memory plan: out of memory");
    }
    /* groups[r] gathers every value whose root is r. */
    for (size_t i = 0; i < n; i++) {
        offset[i] = AGLM_PLAN_NONE;
        if (!planned(&v[i]))
            continue;
        size_t r = root[i] = root_of(n, v, i);
        group *g = &groups[r];
        uint64_t size = aglm_plan_round(v[i].bytes);
        if (!g->size) {
            g->first = v[i].first;
            g->last = v[i].last;
        }
        g->first = v[i].first < g->first ? v[i].first : g->first;
        g->last = v[i].last > g->last ? v[i].last : g->last;
        g->size = size > g->size ? size : g->size;
    }
    size_t n_groups = 0;
    for (size_t i = 0; i < n; i++)
        if (groups[i].size)
            order[n_groups++] = &groups[i];
    qsort(order, n_groups, sizeof *order, cmp_group);
    for (size_t k = 0; k < n_groups; k++) {
        group *g = order[k];
        size_t n_live = 0;
        for (size_t j = 0; j < k; j++) {
            const group *p = order[j];
            if (p->first <= g->last && g->first <= p->last)
                live[n_live++] = p;
        }
        g->offset = best_fit(g, live, n_live);
        g->placed = 1;
        if (g->offset + g->size > *arena_bytes)
            *arena_bytes = g->offset + g->size;
    }
    for (size_t i = 0; i < n; i++)
        if (planned(&v[i]) && groups[root[i]].placed)
            offset[i] = groups[root[i]].offset;
    free(groups);
    free(root);
    free(order);
    free(live);
    return AGLM_OK;
}

/* ---- host memory ------------------------------------------------------------------------ */

static aglm_status host_alloc(void *state, size_t bytes, void **ptr)
{
    (void)state;
    *ptr = aligned_alloc(AGLM_PLAN_ALIGN, bytes ? aglm_plan_round(bytes) : AGLM_PLAN_ALIGN);
    if (!*ptr)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return AGLM_OK;
}

static void host_free(void *state, void *ptr)
{
    (void)state;
    free(ptr);
}

static aglm_status host_copy(void *state, void *dst, const void *src, size_t bytes)
{
    (void)state;
    if (bytes)
        memcpy(dst, src, bytes);
    return AGLM_OK;
}

static const aglm_device_mem host_memory = {
    .struct_size = sizeof(aglm_device_mem),
    .device = AGLM_DEVICE_CPU,
    .alloc = host_alloc,
    .free = host_free,
    .to_device = host_copy,
    .to_host = host_copy,
};

const aglm_device_mem *aglm_host_memory(void)
{
    return &host_memory;
}
