/* Plans per input shapes, arenas per run, and the executor's hooks (aglm/memplan.h).
 *
 * A specialised graph (every planned value of static shape) is planned from inference when the
 * executor is built. Otherwise sizes come from the first run with given input shapes, which sees
 * them all exactly; a later run whose shapes differ gets another plan (the last MAX_PLANS are
 * kept); one whose data-dependent sizes outgrow the plan only sends those outputs to the heap. */
#include "aglm/memplan.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Input shapes remembered per executable: a server alternating between a few shapes keeps its
 * plans instead of replanning every run. */
#define MAX_PLANS 4

typedef struct shape_key {
    aglm_dtype dt;
    int32_t rank;
    int64_t dims[AGLM_MAX_RANK];
} shape_key;

typedef struct mem_plan {
    size_t n_in;
    shape_key *key;     /* the input shapes it is for */
    uint64_t *offset;   /* per slot: region in the arena, AGLM_PLAN_NONE for none */
    uint64_t *bytes;    /* per slot: bytes the planning run made */
    aglm_dtype *dtypes; /* per slot: dtype the planning run made */
    int32_t *inplace;   /* per step: the input slot whose region output 0 takes over, or -1 */
    uint64_t arena_bytes;
    unsigned char **idle; /* arenas no run holds */
    size_t n_idle, cap_idle;
    int refs;    /* runs holding it */
    int retired; /* evicted: freed when the last run gives it back */
} mem_plan;

struct aglm_memory {
    const aglm_sched *s;
    const aglm_device_mem *mem;
    void *mem_state;
    int is_static;         /* the plan came from inference */
    int *first, *last;     /* per slot: producing step and last reader; first < 0: not planned */
    unsigned char *ew;     /* per step: an element-wise kernel of the in-place list */
    unsigned char *nozero; /* per step: its kernel writes every element of its one output */
    pthread_mutex_t lock;  /* guards plans, n_plans, latest_arena and every plan's idle/refs */
    mem_plan *plans[MAX_PLANS]; /* least recently used first */
    size_t n_plans;
    uint64_t latest_arena;
};

/* ---- setup ----------------------------------------------------------------------------- */

static void plan_free(const aglm_memory *m, mem_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_idle; i++)
        m->mem->free(m->mem_state, p->idle[i]);
    free(p->idle);
    free(p->key);
    free(p->offset);
    free(p->bytes);
    free(p->dtypes);
    free(p->inplace);
    free(p);
}

void aglm_memory_free(aglm_memory *m)
{
    if (!m)
        return;
    if (m->s) /* set once the mutex is initialised */
        pthread_mutex_destroy(&m->lock);
    for (size_t i = 0; i < m->n_plans; i++)
        plan_free(m, m->plans[i]);
    free(m->first);
    free(m->last);
    free(m->ew);
    free(m->nozero);
    free(m);
}

/* ---- planning -------------------------------------------------------------------------- */

static void key_of(size_t n_in, const aglm_tensor *inputs, shape_key *key)
{
    memset(key, 0, n_in * sizeof *key);
    for (size_t i = 0; i < n_in; i++) {
        key[i].dt = inputs[i].dtype;
        key[i].rank = inputs[i].rank;
        for (int d = 0; d < inputs[i].rank && d < AGLM_MAX_RANK; d++)
            key[i].dims[d] = inputs[i].dims[d];
    }
}

static int plan_matches(const mem_plan *p, size_t n_in, const shape_key *key)
{
    return p->n_in == n_in && memcmp(p->key, key, n_in * sizeof *key) == 0;
}

/* Output 0 of step si takes over the region of input slot i when i is planned, read last here,
 * by no other input of the step, and came out with the output's dtype and bytes (then it has its
 * shape too: a broadcast that keeps the element count keeps the layout). */
static int32_t inplace_input(const aglm_memory *m, size_t si, const uint64_t *bytes,
                             const aglm_dtype *dtypes)
{
    const aglm_step *s = &m->s->steps[si];
    int32_t o = s->out[0];
    if (!m->ew[si] || o < 0 || m->first[o] < 0 || !bytes[o])
        return -1;
    for (size_t k = 0; k < s->n_in; k++) {
        int32_t i = s->in[k];
        if (i < 0 || m->first[i] < 0 || m->last[i] != (int)si || bytes[i] != bytes[o] ||
            dtypes[i] != dtypes[o])
            continue;
        int twice = 0;
        for (size_t j = 0; j < s->n_in; j++)
            twice |= j != k && s->in[j] == i;
        if (!twice)
            return i;
    }
    return -1;
}

/* The plan for input shapes `key` from the bytes and dtypes each slot's producer makes. */
static aglm_status plan_build(const aglm_memory *m, const uint64_t *bytes, const aglm_dtype *dtypes,
                              size_t n_in, const shape_key *key, mem_plan **out)
{
    const aglm_sched *x = m->s;
    size_t n = x->n_slots ? x->n_slots : 1;
    mem_plan *p = calloc(1, sizeof *p);
    aglm_plan_value *v = calloc(n, sizeof *v);
    if (p) {
        p->key = calloc(n_in ? n_in : 1, sizeof *p->key);
        p->offset = calloc(n, sizeof *p->offset);
        p->bytes = malloc(n * sizeof *p->bytes);
        p->dtypes = malloc(n * sizeof *p->dtypes);
        p->inplace = malloc((x->n_steps ? x->n_steps : 1) * sizeof *p->inplace);
    }
    if (!p || !v || !p->key || !p->offset || !p->bytes || !p->dtypes || !p->inplace) {
        free(v);
        plan_free(m, p);
        return aglm_error(AGLM_ERR_NOMEM, "memory plan: out of memory");
    }
    p->n_in = n_in;
    memcpy(p->key, key, n_in * sizeof *key);
    memcpy(p->bytes, bytes, x->n_slots * sizeof *p->bytes);
    memcpy(p->dtypes, dtypes, x->n_slots * sizeof *p->dtypes);
    for (size_t i = 0; i < x->n_slots; i++)
        v[i] = (aglm_plan_value){m->first[i], m->last[i], bytes[i], -1};
    for (size_t si = 0; si < x->n_steps; si++) {
        p->inplace[si] = inplace_input(m, si, bytes, dtypes);
        if (p->inplace[si] >= 0)
            v[x->steps[si].out[0]].share = p->inplace[si];
    }
    aglm_status st = aglm_plan_assign(x->n_slots, v, p->offset, &p->arena_bytes);
    free(v);
    if (st != AGLM_OK) {
        plan_free(m, p);
        return st;
    }
    *out = p;
    return AGLM_OK;
}

/* ---- runs ------------------------------------------------------------------------------ */

aglm_status aglm_memory_take(aglm_memory *m, size_t n_in, const aglm_tensor *inputs, aglm_lease *l)
{
    memset(l, 0, sizeof *l);
    shape_key stack_key[8], *key = n_in <= 8 ? stack_key : calloc(n_in, sizeof *key);
    if (!key)
        return aglm_error(AGLM_ERR_NOMEM, "memory plan: out of memory");
    key_of(n_in, inputs, key);
    pthread_mutex_lock(&m->lock);
    mem_plan *p = NULL;
    for (size_t i = 0; i < m->n_plans && !p; i++) {
        if (!plan_matches(m->plans[i], n_in, key))
            continue;
        p = m->plans[i];
        memmove(&m->plans[i], &m->plans[i + 1], (m->n_plans - i - 1) * sizeof *m->plans);
        m->plans[m->n_plans - 1] = p; /* most recently used last */
    }
    if (p) {
        p->refs++;
        l->plan = p;
        l->arena = p->n_idle ? p->idle[--p->n_idle] : NULL;
    }
    m->latest_arena = p ? p->arena_bytes : 0;
    pthread_mutex_unlock(&m->lock);
    if (key != stack_key)
        free(key);
    if (p && !l->arena) {
        /* A fresh arena for this run; without one the run only goes unplanned. */
        void *arena = NULL;
        if (m->mem->alloc(m->mem_state,
                          p->arena_bytes ? aglm_plan_round(p->arena_bytes) : AGLM_PLAN_ALIGN,
                          &arena) != AGLM_OK)
            arena = NULL;
        l->arena = arena;
        if (!l->arena)
            aglm_memory_give(m, l, 0, 0, NULL);
        return AGLM_OK;
    }
    if (!p) {
        size_t n = m->s->n_slots ? m->s->n_slots : 1;
        l->bytes = calloc(n, sizeof *l->bytes);
        l->dtypes = calloc(n, sizeof *l->dtypes);
        if (!l->bytes || !l->dtypes) {
            free(l->bytes);
            free(l->dtypes);
            l->bytes = NULL;
            l->dtypes = NULL;
        }
    }
    return AGLM_OK;
}

void aglm_memory_lend(const aglm_memory *m, const aglm_lease *l, size_t si,
                      const aglm_tensor *slots, aglm_region *out_mem)
{
    const mem_plan *p = l->plan;
    const aglm_step *s = &m->s->steps[si];
    for (size_t i = 0; i < s->n_out; i++)
        out_mem[i] = (aglm_region){NULL, 0, 0};
    if (!p || !l->arena)
        return;
    for (size_t i = 0; i < s->n_out; i++) {
        int32_t o = s->out[i];
        if (o < 0 || p->offset[o] == AGLM_PLAN_NONE)
            continue;
        unsigned char *region = l->arena + p->offset[o];
        uint64_t cap = aglm_plan_round(p->bytes[o]);
        int32_t src = i == 0 ? p->inplace[si] : -1;
        if (src >= 0 && slots[src].data == region) {
            /* In place: only when the input came out as planned, and then with exactly the
             * output's planned bytes, so a broadcast output bigger than the input goes to the
             * heap instead of overwriting input elements still to be read. */
            if (aglm_tensor_nbytes(&slots[src]) != p->bytes[src] ||
                slots[src].dtype != p->dtypes[src])
                continue;
            cap = p->bytes[o];
        }
        out_mem[i] = (aglm_region){region, cap, m->nozero[si]};
    }
}

void aglm_memory_record(const aglm_memory *m, aglm_lease *l, size_t si, const aglm_tensor *slots)
{
    if (!l->bytes)
        return;
    const aglm_step *s = &m->s->steps[si];
    for (size_t i = 0; i < s->n_out; i++)
        if (s->out[i] >= 0) {
            l->bytes[s->out[i]] = aglm_tensor_nbytes(&slots[s->out[i]]);
            l->dtypes[s->out[i]] = slots[s->out[i]].dtype;
        }
}

void aglm_memory_give(aglm_memory *m, aglm_lease *l, int ok, size_t n_in, const aglm_tensor *inputs)
{
    mem_plan *built = NULL;
    if (l->bytes && ok) {
        shape_key stack_key[8], *key = n_in <= 8 ? stack_key : calloc(n_in, sizeof *key);
        if (key) {
            key_of(n_in, inputs, key);
            if (plan_build(m, l->bytes, l->dtypes, n_in, key, &built) != AGLM_OK)
                built = NULL; /* the next run records again */
        }
        if (key != stack_key)
            free(key);
    }
    free(l->bytes);
    free(l->dtypes);
    pthread_mutex_lock(&m->lock);
    mem_plan *p = l->plan;
    if (p) {
        if (l->arena && p->n_idle == p->cap_idle) {
            size_t cap = p->cap_idle ? 2 * p->cap_idle : 2;
            unsigned char **grown = realloc(p->idle, cap * sizeof *grown);
            if (grown) {
                p->idle = grown;
                p->cap_idle = cap;
            }
        }
        if (l->arena && p->n_idle < p->cap_idle)
            p->idle[p->n_idle++] = l->arena;
        else
            m->mem->free(m->mem_state, l->arena);
        if (--p->refs == 0 && p->retired)
            plan_free(m, p);
    }
    for (size_t i = 0; built && i < m->n_plans; i++)
        if (plan_matches(m->plans[i], built->n_in, built->key)) {
            plan_free(m, built); /* another run planned these shapes first */
            built = NULL;
        }
    if (built) {
        if (m->n_plans == MAX_PLANS) {
            mem_plan *old = m->plans[0];
            memmove(&m->plans[0], &m->plans[1], (MAX_PLANS - 1) * sizeof *m->plans);
            m->n_plans--;
            old->retired = 1;
            if (old->refs == 0)
                plan_free(m, old);
        }
        m->plans[m->n_plans++] = built;
    }
    pthread_mutex_unlock(&m->lock);
    memset(l, 0, sizeof *l);
}

uint64_t aglm_memory_arena_bytes(aglm_memory *m)
{
    if (!m)
        return 0;
    pthread_mutex_lock(&m->lock);
    uint64_t b = m->latest_arena;
    pthread_mutex_unlock(&m->lock);
    return b;
}

int aglm_memory_is_static(const aglm_memory *m)
{
    return m && m->is_static;
}

/* ---- setup ----------------------------------------------------------------------------- */

/* Bytes of value v from inference, or 0 when its shape or dtype is not static. */
static uint64_t static_bytes(const aglm_value *v, aglm_dtype *dt)
{
    *dt = aglm_value_dtype(v);
    int rank = aglm_value_rank(v);
    if (*dt == AGLM_UNDEFINED || rank < 0 || !aglm_dtype_size(*dt))
        return 0;
    uint64_t n = aglm_dtype_size(*dt);
    for (int d = 0; d < rank; d++) {
        aglm_dim dim = aglm_value_dim(v, d);
        if (dim.value < 0 || __builtin_mul_overflow(n, (uint64_t)dim.value, &n))
            return 0;
    }
    return n;
}

/* The plan for a specialised graph: when every planned slot and every graph input has a static
 * shape, the plan is built now and no run records. Anything else leaves m without a plan. */
static aglm_status plan_static(aglm_memory *m)
{
    const aglm_sched *s = m->s;
    size_t n = s->n_slots ? s->n_slots : 1, n_in = aglm_graph_num_inputs(s->graph);
    uint64_t *bytes = calloc(n, sizeof *bytes);
    aglm_dtype *dtypes = calloc(n, sizeof *dtypes);
    shape_key *key = calloc(n_in ? n_in : 1, sizeof *key);
    aglm_status st = AGLM_OK;
    if (!bytes || !dtypes || !key) {
        st = aglm_error(AGLM_ERR_NOMEM, "memory plan: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_in; i++) {
        const aglm_value *v = aglm_graph_input(s->graph, i);
        aglm_dtype dt = AGLM_UNDEFINED;
        if (aglm_value_is_static(v))
            static_bytes(v, &dt);
        if (dt == AGLM_UNDEFINED)
            goto done;
        key[i].dt = dt;
        key[i].rank = aglm_value_rank(v);
        for (int d = 0; d < key[i].rank && d < AGLM_MAX_RANK; d++)
            key[i].dims[d] = aglm_value_dim(v, d).value;
    }
    for (size_t i = 0; i < s->n_slots; i++) {
        if (m->first[i] < 0)
            continue;
        const aglm_value *v = s->slots[i].value;
        if (!aglm_value_is_static(v))
            goto done;
        bytes[i] = static_bytes(v, &dtypes[i]);
        if (dtypes[i] == AGLM_UNDEFINED)
            goto done;
    }
    mem_plan *p = NULL;
    if ((st = plan_build(m, bytes, dtypes, n_in, key, &p)) == AGLM_OK) {
        m->plans[m->n_plans++] = p;
        m->is_static = 1;
    }
done:
    free(bytes);
    free(dtypes);
    free(key);
    return st;
}

aglm_status aglm_memory_new(const aglm_sched *s, const aglm_device_mem *mem, void *state,
                            aglm_memory **out)
{
    *out = NULL;
    aglm_memory *m = calloc(1, sizeof *m);
    size_t n = s->n_slots ? s->n_slots : 1;
    if (m) {
        m->first = malloc(n * sizeof *m->first);
        m->last = malloc(n * sizeof *m->last);
        m->ew = calloc(s->n_steps ? s->n_steps : 1, 1);
        m->nozero = calloc(s->n_steps ? s->n_steps : 1, 1);
    }
    if (!m || !m->first || !m->last || !m->ew || !m->nozero) {
        aglm_memory_free(m);
        return aglm_error(AGLM_ERR_NOMEM, "memory plan: out of memory");
    }
    m->s = s;
    m->mem = mem ? mem : aglm_host_memory();
    m->mem_state = state;
    pthread_mutex_init(&m->lock, NULL);
    /* Only values a node makes, that some step reads last and that are not graph outputs
     * (last_reader < 0): the caller takes those, so they must be memory it can own. */
    for (size_t i = 0; i < s->n_slots; i++) {
        const aglm_slot *sl = &s->slots[i];
        int ok = sl->kind == AGLM_SLOT_NODE && sl->producer >= 0 && sl->last_reader >= 0;
        m->first[i] = ok ? sl->producer : -1;
        m->last[i] = ok ? sl->last_reader : -1;
    }
    /* A node holding subgraphs (If, Loop, Scan) builds its outputs over its iterations and
     * reads their descriptors to tell whether it has started one: a lent region would look like
     * a started output. Its outputs stay off the plan. */
    for (size_t si = 0; si < s->n_steps; si++) {
        const aglm_step *st = &s->steps[si];
        uint32_t flags = st->schema ? st->schema->flags : 0;
        m->ew[si] = st->n_out == 1 && (flags & AGLM_OPF_INPLACE);
        m->nozero[si] = st->n_out == 1 && (m->ew[si] || (flags & AGLM_OPF_WRITES_ALL));
        int holds = st->n_subs || (flags & AGLM_OPF_SUBGRAPHS);
        for (size_t i = 0; holds && i < st->n_out; i++)
            if (st->out[i] >= 0)
                m->first[st->out[i]] = m->last[st->out[i]] = -1;
    }
    aglm_status st = plan_static(m);
    if (st != AGLM_OK) {
        aglm_memory_free(m);
        return st;
    }
    *out = m;
    return AGLM_OK;
}
