/* Plans per input shapes, arenas per run, and the executor's hooks (exec_memory.h).
 *
 * Sizes come from the first run, not from shape inference: a graph's shapes may be symbolic at
 * compile time, and the run sees them all exactly. A later run whose shapes differ gets another
 * plan (the last MAX_PLANS are kept); one whose data-dependent sizes outgrow the plan only sends
 * those outputs to the heap. */
#include "exec_memory.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "memplan.h"

/* Input shapes remembered per executable: a server alternating between a few shapes keeps its
 * plans instead of replanning every run. */
#define MAX_PLANS 4

typedef struct shape_key {
    aglm_dtype dt;
    int32_t rank;
    int64_t dims[AGLM_MAX_RANK];
} shape_key;

struct mem_plan {
    size_t n_in;
    shape_key *key;       /* the input shapes it is for */
    uint64_t *offset;     /* per slot: region in the arena, MEMPLAN_NONE for none */
    uint64_t *bytes;      /* per slot: bytes the planning run made */
    aglm_dtype *dtypes;   /* per slot: dtype the planning run made */
    int32_t *inplace;     /* per step: the input slot whose region output 0 takes over, or -1 */
    uint64_t arena_bytes;
    unsigned char **idle; /* arenas no run holds */
    size_t n_idle, cap_idle;
    int refs;             /* runs holding it */
    int retired;          /* evicted: freed when the last run gives it back */
};

struct exec_memory {
    const cpu_exec *x;
    int *first, *last;      /* per slot: producing step and last reader; first < 0: not planned */
    unsigned char *ew;      /* per step: an element-wise kernel of the in-place list */
    unsigned char *nozero;  /* per step: its kernel writes every element of its one output */
    pthread_mutex_t lock;   /* guards plans, n_plans, latest_arena and every plan's idle/refs */
    mem_plan *plans[MAX_PLANS]; /* least recently used first */
    size_t n_plans;
    uint64_t latest_arena;
};

/* Kernels that write output element i only from input elements i (or broadcast ones) read in
 * the same iteration, write every output element, and allocate nothing of the output's size
 * besides it: their output may take over an input's region, and needs no zeroing. Checked
 * against kernels/elementwise.c (binary ops through cpu_bcast_run; not the variadic Max, Min,
 * Sum, Mean, which copy input 0 into the output first), unary.c and activations.c (through
 * cpu_ew_unary). Clip reads its bounds once per row, before writing. */
static const char *const inplace_ops[] = {
    "Add", "Sub", "Mul", "Div", "Mod", "Pow", "PRelu",
    "Relu", "Neg", "Abs", "Sign", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Tanh", "Sin", "Cos",
    "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Floor", "Ceil",
    "Round", "Clip",
    "Sigmoid", "LeakyRelu", "Elu", "Selu", "Celu", "ThresholdedRelu", "HardSigmoid", "HardSwish",
    "Softplus", "Softsign", "Mish", "Gelu", "Shrink", "Swish",
};

/* Kernels that write every element of their one output, so a lent region need not be zeroed
 * first (an arena region holds the last run's values; a fresh heap buffer is zeroed anyway).
 * Checked against conv.c / conv_gemm.c / conv_winograd.c / depthwise.c (every output tile is
 * stored, the first K block without reading it), fused_conv.c and fused_matmul.c (the same
 * drivers, then the epilogue in place), matmul.c (beta 0 or a broadcast C written first), and
 * the copies of Concat, Transpose and Resize. Not ConvTranspose: its general path accumulates
 * into the output. The real-model tests (runs=2) compare a second, planned run. */
static const char *const nozero_ops[] = {
    "Conv", "FusedConv", "MatMul", "Gemm", "FusedMatMul", "Concat", "Transpose", "Resize",
};

/* 1 when node n's op is one of list[0, count): ONNX ops, and with `aglm` the extension ops too. */
static int op_listed(const aglm_node *n, const char *const *list, size_t count, int aglm)
{
    const char *d = aglm_node_domain(n);
    if (d && d[0] && strcmp(d, "ai.onnx") != 0 && !(aglm && strcmp(d, "aglm") == 0))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp(aglm_node_op(n), list[i]) == 0)
            return 1;
    return 0;
}

#define LISTED(n, list, aglm) op_listed(n, list, sizeof list / sizeof list[0], aglm)

/* ---- setup ----------------------------------------------------------------------------- */

aglm_status exec_memory_new(const cpu_exec *x, exec_memory **out)
{
    *out = NULL;
    exec_memory *m = calloc(1, sizeof *m);
    size_t n = x->n_slots ? x->n_slots : 1;
    if (m) {
        m->first = malloc(n * sizeof *m->first);
        m->last = malloc(n * sizeof *m->last);
        m->ew = calloc(x->n_steps ? x->n_steps : 1, 1);
        m->nozero = calloc(x->n_steps ? x->n_steps : 1, 1);
    }
    if (!m || !m->first || !m->last || !m->ew || !m->nozero) {
        exec_memory_free(m);
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: memory plan: out of memory");
    }
    m->x = x;
    pthread_mutex_init(&m->lock, NULL);
    /* Only values a node makes, that some step reads last and that are not graph outputs
     * (slot_last < 0): the caller takes those, so they must be heap memory it can own. */
    for (size_t i = 0; i < x->n_slots; i++) {
        int ok = x->slots[i].kind == SLOT_NODE && x->slots[i].produced_by >= 0 &&
                 x->slot_last[i] >= 0;
        m->first[i] = ok ? x->slots[i].produced_by : -1;
        m->last[i] = ok ? x->slot_last[i] : -1;
    }
    /* A node holding subgraphs (If, Loop, Scan) builds its outputs over its iterations and
     * reads their descriptors to tell whether it has started one (control.c): a lent region
     * would look like a started output. Its outputs stay on the heap. */
    for (size_t s = 0; s < x->n_steps; s++) {
        const step *st = &x->steps[s];
        m->ew[s] = st->n_out == 1 && LISTED(st->node, inplace_ops, 0);
        m->nozero[s] = st->n_out == 1 && (m->ew[s] || LISTED(st->node, nozero_ops, 1));
        for (size_t i = 0; st->n_subs && i < st->n_out; i++)
            if (st->out[i] >= 0)
                m->first[st->out[i]] = m->last[st->out[i]] = -1;
    }
    *out = m;
    return AGLM_OK;
}

static void plan_free(mem_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_idle; i++)
        free(p->idle[i]);
    free(p->idle);
    free(p->key);
    free(p->offset);
    free(p->bytes);
    free(p->dtypes);
    free(p->inplace);
    free(p);
}

void exec_memory_free(exec_memory *m)
{
    if (!m)
        return;
    if (m->x) /* set once the mutex is initialised */
        pthread_mutex_destroy(&m->lock);
    for (size_t i = 0; i < m->n_plans; i++)
        plan_free(m->plans[i]);
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
static int32_t inplace_input(const exec_memory *m, size_t si, const uint64_t *bytes,
                             const aglm_dtype *dtypes)
{
    const step *s = &m->x->steps[si];
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

/* The plan for what a recording run made. */
static aglm_status plan_build(const exec_memory *m, const exec_lease *l, size_t n_in,
                              const aglm_tensor *inputs, mem_plan **out)
{
    const cpu_exec *x = m->x;
    size_t n = x->n_slots ? x->n_slots : 1;
    mem_plan *p = calloc(1, sizeof *p);
    memplan_value *v = calloc(n, sizeof *v);
    if (p) {
        p->key = calloc(n_in ? n_in : 1, sizeof *p->key);
        p->offset = calloc(n, sizeof *p->offset);
        p->bytes = malloc(n * sizeof *p->bytes);
        p->dtypes = malloc(n * sizeof *p->dtypes);
        p->inplace = malloc((x->n_steps ? x->n_steps : 1) * sizeof *p->inplace);
    }
    if (!p || !v || !p->key || !p->offset || !p->bytes || !p->dtypes || !p->inplace) {
        free(v);
        plan_free(p);
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: memory plan: out of memory");
    }
    p->n_in = n_in;
    key_of(n_in, inputs, p->key);
    memcpy(p->bytes, l->bytes, x->n_slots * sizeof *p->bytes);
    memcpy(p->dtypes, l->dtypes, x->n_slots * sizeof *p->dtypes);
    for (size_t i = 0; i < x->n_slots; i++)
        v[i] = (memplan_value){m->first[i], m->last[i], l->bytes[i], -1};
    for (size_t si = 0; si < x->n_steps; si++) {
        p->inplace[si] = inplace_input(m, si, l->bytes, l->dtypes);
        if (p->inplace[si] >= 0)
            v[x->steps[si].out[0]].share = p->inplace[si];
    }
    aglm_status st = memplan_assign(x->n_slots, v, p->offset, &p->arena_bytes);
    free(v);
    if (st != AGLM_OK) {
        plan_free(p);
        return st;
    }
    *out = p;
    return AGLM_OK;
}

/* ---- runs ------------------------------------------------------------------------------ */

aglm_status exec_memory_take(exec_memory *m, size_t n_in, const aglm_tensor *inputs,
                             exec_lease *l)
{
    memset(l, 0, sizeof *l);
    shape_key stack_key[8], *key = n_in <= 8 ? stack_key : calloc(n_in, sizeof *key);
    if (!key)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: memory plan: out of memory");
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
        l->arena = aligned_alloc(MEMPLAN_ALIGN, p->arena_bytes ? memplan_round(p->arena_bytes)
                                                               : MEMPLAN_ALIGN);
        if (!l->arena)
            exec_memory_give(m, l, 0, 0, NULL);
        return AGLM_OK;
    }
    if (!p) {
        size_t n = m->x->n_slots ? m->x->n_slots : 1;
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

void exec_memory_prefill(const exec_memory *m, const exec_lease *l, size_t si,
                         const aglm_tensor *slots, aglm_tensor *outs)
{
    const mem_plan *p = l->plan;
    if (!p || !l->arena)
        return;
    const step *s = &m->x->steps[si];
    for (size_t i = 0; i < s->n_out; i++) {
        int32_t o = s->out[i];
        if (o < 0 || p->offset[o] == MEMPLAN_NONE)
            continue;
        unsigned char *region = l->arena + p->offset[o];
        uint64_t cap = memplan_round(p->bytes[o]);
        int32_t src = i == 0 ? p->inplace[si] : -1;
        if (src >= 0 && slots[src].data == region) {
            /* In place: only when the input came out as planned, and then with exactly the
             * output's planned bytes, so a broadcast output bigger than the input goes to the
             * heap instead of overwriting input elements still to be read. */
            if (aglm_tensor_nbytes(&slots[src]) != p->bytes[src] || slots[src].dtype != p->dtypes[src])
                continue;
            cap = p->bytes[o];
        }
        int64_t dim = (int64_t)cap;
        aglm_tensor_wrap(&outs[i], AGLM_U8, 1, &dim, region);
        outs[i].flags = AGLM_TENSOR_RESERVED | (m->nozero[si] ? AGLM_TENSOR_NO_ZERO : 0u);
    }
}

void exec_memory_record(const exec_memory *m, exec_lease *l, size_t si, const aglm_tensor *slots)
{
    if (!l->bytes)
        return;
    const step *s = &m->x->steps[si];
    for (size_t i = 0; i < s->n_out; i++)
        if (s->out[i] >= 0) {
            l->bytes[s->out[i]] = aglm_tensor_nbytes(&slots[s->out[i]]);
            l->dtypes[s->out[i]] = slots[s->out[i]].dtype;
        }
}

void exec_memory_give(exec_memory *m, exec_lease *l, int ok, size_t n_in,
                      const aglm_tensor *inputs)
{
    mem_plan *built = NULL;
    if (l->bytes && ok && plan_build(m, l, n_in, inputs, &built) != AGLM_OK)
        built = NULL; /* the next run records again */
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
            free(l->arena);
        if (--p->refs == 0 && p->retired)
            plan_free(p);
    }
    for (size_t i = 0; built && i < m->n_plans; i++)
        if (plan_matches(m->plans[i], built->n_in, built->key)) {
            plan_free(built); /* another run planned these shapes first */
            built = NULL;
        }
    if (built) {
        if (m->n_plans == MAX_PLANS) {
            mem_plan *old = m->plans[0];
            memmove(&m->plans[0], &m->plans[1], (MAX_PLANS - 1) * sizeof *m->plans);
            m->n_plans--;
            old->retired = 1;
            if (old->refs == 0)
                plan_free(old);
        }
        m->plans[m->n_plans++] = built;
    }
    pthread_mutex_unlock(&m->lock);
    memset(l, 0, sizeof *l);
}

uint64_t exec_memory_arena_bytes(exec_memory *m)
{
    if (!m)
        return 0;
    pthread_mutex_lock(&m->lock);
    uint64_t b = m->latest_arena;
    pthread_mutex_unlock(&m->lock);
    return b;
}
