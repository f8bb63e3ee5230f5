#include "exec_internal.h"
#include "exec_memory.h"
#include "exec_profile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The opset assumed when a graph imports none: the newest the kernels know. */
#define CPU_DEFAULT_OPSET 21
/* The unsupported-node error lists at most this many nodes by name. */
#define MAX_LISTED 20

/* ---- support check --------------------------------------------------------------------- */

static const cpu_kernel *node_kernel(const aglm_node *n, int *dtype_ok)
{
    const cpu_kernel *k = cpu_kernel_find(aglm_node_op(n), aglm_node_domain(n));
    *dtype_ok = 1;
    if (k && k->dtypes != CPU_ANY && aglm_node_num_inputs(n) > 0 && aglm_node_input(n, 0)) {
        aglm_dtype dt = aglm_value_dtype(aglm_node_input(n, 0));
        if (dt != AGLM_UNDEFINED && (dt >= 32 || !(k->dtypes & CPU_DT(dt))))
            *dtype_ok = 0;
    }
    return k;
}

/* Calls fn on each subgraph a node holds; stops at the first nonzero return and gives it. */
static int each_subgraph(const aglm_node *n, int (*fn)(const aglm_graph *, void *), void *arg)
{
    for (size_t a = 0; a < aglm_node_num_attrs(n); a++) {
        const aglm_attr *at = aglm_node_attr_at(n, a);
        if (aglm_attr_kind(at) == AGLM_ATTR_GRAPH) {
            int r = aglm_attr_graph(at) ? fn(aglm_attr_graph(at), arg) : 0;
            if (r)
                return r;
        } else if (aglm_attr_kind(at) == AGLM_ATTR_GRAPHS) {
            size_t count;
            aglm_graph *const *gs = aglm_attr_graphs(at, &count);
            for (size_t i = 0; i < count; i++) {
                int r = fn(gs[i], arg);
                if (r)
                    return r;
            }
        }
    }
    return 0;
}

static int graph_unsupported(const aglm_graph *g, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < aglm_graph_num_nodes(g); i++)
        if (!cpu_exec_supports(aglm_graph_node(g, i)))
            return 1;
    return 0;
}

/* A node holding subgraphs is supported when every node inside them is. */
int cpu_exec_supports(const aglm_node *n)
{
    int dtype_ok;
    return node_kernel(n, &dtype_ok) != NULL && dtype_ok && !each_subgraph(n, graph_unsupported, NULL);
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (w > 0)
        *len = *len + (size_t)w < cap ? *len + (size_t)w : cap;
}

typedef struct unsupported_list {
    char text[2048];
    size_t len, bad;
} unsupported_list;

/* Lists g's unsupported nodes, those inside subgraphs included. */
static int list_unsupported(const aglm_graph *g, void *arg)
{
    unsupported_list *l = arg;
    for (size_t i = 0; i < aglm_graph_num_nodes(g); i++) {
        const aglm_node *n = aglm_graph_node(g, i);
        int dtype_ok;
        const cpu_kernel *k = node_kernel(n, &dtype_ok);
        each_subgraph(n, list_unsupported, l);
        if (k && dtype_ok)
            continue;
        if (l->bad++ >= MAX_LISTED)
            continue;
        const char *domain = aglm_node_domain(n);
        append(l->text, sizeof l->text, &l->len, "%s'%s' (%s%s%s", l->bad > 1 ? ", " : "",
               aglm_node_name(n), domain && domain[0] ? domain : "",
               domain && domain[0] ? "." : "", aglm_node_op(n));
        if (k)
            append(l->text, sizeof l->text, &l->len, " on %s",
                   aglm_dtype_name(aglm_value_dtype(aglm_node_input(n, 0))));
        append(l->text, sizeof l->text, &l->len, ")");
    }
    return 0;
}

/* One error naming every node the backend cannot run. */
static aglm_status check_supported(const aglm_graph *g)
{
    unsupported_list l;
    l.text[0] = '\0';
    l.len = l.bad = 0;
    list_unsupported(g, &l);
    if (!l.bad)
        return AGLM_OK;
    if (l.bad > MAX_LISTED)
        append(l.text, sizeof l.text, &l.len, " and %zu more", l.bad - MAX_LISTED);
    return aglm_error(AGLM_ERR_UNSUPPORTED, "backend cpu cannot run %zu node%s: %s", l.bad,
                      l.bad == 1 ? "" : "s", l.text);
}

/* ---- compile --------------------------------------------------------------------------- */

static int cmp_ref(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const value_ref *)a)->v, y = (uintptr_t)((const value_ref *)b)->v;
    return x < y ? -1 : x > y;
}

int32_t exec_find_slot(const value_ref *refs, size_t n, const aglm_value *v)
{
    value_ref key = {v, -1};
    const value_ref *r = bsearch(&key, refs, n, sizeof key, cmp_ref);
    return r ? r->slot : -1;
}

static aglm_status parse_threads(const aglm_options *opts, int *threads)
{
    const char *s = aglm_options_get(opts, "threads");
    *threads = 0;
    return s ? cpu_parse_threads(s, "backend cpu: option threads", threads) : AGLM_OK;
}

/* One slot per value of the graph, then (for a subgraph) one per captured outer value. */
static aglm_status build_slots(cpu_exec *x, value_ref **refs_out)
{
    const aglm_graph *g = x->graph;
    size_t n_values = aglm_graph_num_values(g);
    x->n_slots = n_values + x->n_captures;
    x->slots = calloc(x->n_slots ? x->n_slots : 1, sizeof *x->slots);
    value_ref *refs = calloc(x->n_slots ? x->n_slots : 1, sizeof *refs);
    if (!x->slots || !refs) {
        free(refs);
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    }
    for (size_t i = 0; i < x->n_slots; i++) {
        const aglm_value *v = i < n_values ? aglm_graph_value(g, i) : x->captures[i - n_values];
        slot *s = &x->slots[i];
        s->value = v;
        s->produced_by = -1;
        s->kind = SLOT_NODE;
        if (i >= n_values) {
            s->kind = SLOT_OUTER;
            s->input = i - n_values;
        } else if ((s->constant = aglm_value_const(v)) != NULL) {
            s->kind = SLOT_CONST;
        }
        refs[i].v = v;
        refs[i].slot = (int32_t)i;
    }
    qsort(refs, x->n_slots, sizeof *refs, cmp_ref);
    /* A graph input shadows an initialiser of the same value (an ONNX default the caller
     * overrides). */
    for (size_t i = 0; i < aglm_graph_num_inputs(g); i++) {
        int32_t s = exec_find_slot(refs, x->n_slots, aglm_graph_input(g, i));
        if (s < 0) {
            free(refs);
            return aglm_error(AGLM_ERR_INTERNAL, "backend cpu: graph input %zu is not a value of "
                              "the graph", i);
        }
        x->slots[s].kind = SLOT_INPUT;
        x->slots[s].input = i;
    }
    *refs_out = refs;
    return AGLM_OK;
}

/* Runs the kernel's prepare on the node with its constant inputs. */
static aglm_status prepare_step(const cpu_exec *x, step *s)
{
    s->prep = cpu_kernel_prep(s->kernel);
    if (!s->prep)
        return AGLM_OK;
    const aglm_tensor *consts[16] = {NULL};
    size_t n = s->n_in < 16 ? s->n_in : 16;
    for (size_t i = 0; i < n; i++)
        if (s->in[i] >= 0 && x->slots[s->in[i]].kind == SLOT_CONST)
            consts[i] = x->slots[s->in[i]].constant;
    cpu_kctx k = {s->node, x->opset, x->pool, NULL, NULL};
    aglm_status st = s->prep->prepare(&k, n, consts, &s->prepared);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "node '%s' (%s)", aglm_node_name(s->node),
                               aglm_node_op(s->node));
    return AGLM_OK;
}

static aglm_status bind_step(cpu_exec *x, const value_ref *refs, size_t idx)
{
    step *s = &x->steps[idx];
    const aglm_node *n = aglm_graph_node(x->graph, idx);
    const char *name = aglm_node_name(n), *op = aglm_node_op(n);
    int dtype_ok;
    s->node = n;
    s->kernel = node_kernel(n, &dtype_ok);
    s->n_in = aglm_node_num_inputs(n);
    s->n_out = aglm_node_num_outputs(n);
    const cpu_kernel *k = s->kernel;
    if (s->n_in < (size_t)k->min_inputs || s->n_in > (size_t)k->max_inputs)
        return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): %zu inputs; %s takes %d to %d", name,
                          op, s->n_in, op, k->min_inputs, k->max_inputs);
    if (s->n_out < 1 || s->n_out > (size_t)k->max_outputs)
        return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): %zu outputs; %s gives 1 to %d", name,
                          op, s->n_out, op, k->max_outputs);
    s->in = calloc(s->n_in ? s->n_in : 1, sizeof *s->in);
    s->out = calloc(s->n_out, sizeof *s->out);
    if (!s->in || !s->out)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    for (size_t i = 0; i < s->n_in; i++) {
        const aglm_value *v = aglm_node_input(n, i);
        s->in[i] = v ? exec_find_slot(refs, x->n_slots, v) : -1;
        if (!v && i < (size_t)k->min_inputs)
            return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): required input %zu is absent",
                              name, op, i);
        if (v && s->in[i] < 0)
            return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): input '%s' is not a value of "
                              "this graph or an enclosing one", name, op, aglm_value_name(v));
        if (v && x->slots[s->in[i]].kind == SLOT_NODE && x->slots[s->in[i]].produced_by < 0)
            return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): input '%s' is not produced by "
                              "any earlier node", name, op, aglm_value_name(v));
    }
    aglm_status st = exec_compile_subs(x, s, refs, x->n_slots);
    if (st != AGLM_OK)
        return st;
    for (size_t i = 0; i < s->n_out; i++) {
        const aglm_value *v = aglm_node_output(n, i);
        s->out[i] = v ? exec_find_slot(refs, x->n_slots, v) : -1;
        if (s->out[i] >= 0) {
            slot *sl = &x->slots[s->out[i]];
            if (sl->kind != SLOT_NODE)
                return aglm_error(AGLM_ERR_INVALID, "node '%s' (%s): output '%s' is a graph "
                                  "input or constant", name, op, aglm_value_name(v));
            sl->produced_by = (int)idx;
        }
    }
    if ((st = prepare_step(x, s)) != AGLM_OK)
        return st;
    if (s->n_in > x->max_in)
        x->max_in = s->n_in;
    if (s->n_out > x->max_out)
        x->max_out = s->n_out;
    return AGLM_OK;
}

/* Each intermediate is freed by the step after which nothing reads it (a subgraph's read of an
 * outer value counts as a read by the step holding the subgraph); graph outputs stay. The last
 * readers stay in x->slot_last for the memory planner. */
static aglm_status plan_frees(cpu_exec *x)
{
    int *last = malloc((x->n_slots ? x->n_slots : 1) * sizeof *last);
    if (!last)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    for (size_t i = 0; i < x->n_slots; i++)
        last[i] = x->slots[i].produced_by;
    for (size_t si = 0; si < x->n_steps; si++) {
        const step *s = &x->steps[si];
        for (size_t i = 0; i < s->n_in; i++)
            if (s->in[i] >= 0)
                last[s->in[i]] = (int)si;
        for (size_t j = 0; j < s->n_subs; j++)
            for (size_t c = 0; c < s->subs[j].x->n_captures; c++)
                last[s->subs[j].cap_slot[c]] = (int)si;
    }
    for (size_t i = 0; i < x->n_outputs; i++)
        last[x->out_slot[i]] = -1;
    for (size_t i = 0; i < x->n_slots; i++) {
        if (x->slots[i].kind != SLOT_NODE || last[i] < 0)
            continue;
        step *s = &x->steps[last[i]];
        int32_t *grown = realloc(s->free, (s->n_free + 1) * sizeof *grown);
        if (!grown) {
            free(last);
            return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
        }
        s->free = grown;
        s->free[s->n_free++] = (int32_t)i;
    }
    x->slot_last = last;
    return AGLM_OK;
}

static aglm_status bind_outputs(cpu_exec *x, const value_ref *refs)
{
    x->n_outputs = aglm_graph_num_outputs(x->graph);
    x->out_slot = calloc(x->n_outputs ? x->n_outputs : 1, sizeof *x->out_slot);
    x->out_move = calloc(x->n_outputs ? x->n_outputs : 1, 1);
    if (!x->out_slot || !x->out_move)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    for (size_t i = 0; i < x->n_outputs; i++) {
        const aglm_value *v = aglm_graph_output(x->graph, i);
        int32_t s = exec_find_slot(refs, x->n_slots, v);
        if (s < 0 || (x->slots[s].kind == SLOT_NODE && x->slots[s].produced_by < 0))
            return aglm_error(AGLM_ERR_INVALID, "backend cpu: graph output '%s' is not produced "
                              "by any node", v ? aglm_value_name(v) : "?");
        x->out_slot[i] = s;
    }
    /* The last output naming a slot takes its tensor; earlier ones copy it. */
    for (size_t i = 0; i < x->n_outputs; i++) {
        int later = 0;
        for (size_t j = i + 1; j < x->n_outputs; j++)
            later |= x->out_slot[j] == x->out_slot[i];
        x->out_move[i] = x->slots[x->out_slot[i]].kind == SLOT_NODE && !later;
    }
    return AGLM_OK;
}

aglm_status exec_build(cpu_exec *x)
{
    value_ref *refs = NULL;
    aglm_status st = build_slots(x, &refs);
    if (st != AGLM_OK)
        return st;
    x->n_steps = aglm_graph_num_nodes(x->graph);
    x->steps = calloc(x->n_steps ? x->n_steps : 1, sizeof *x->steps);
    if (!x->steps)
        st = aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    for (size_t i = 0; i < x->n_steps && st == AGLM_OK; i++)
        st = bind_step(x, refs, i);
    if (st == AGLM_OK)
        st = bind_outputs(x, refs);
    if (st == AGLM_OK)
        st = plan_frees(x);
    if (st == AGLM_OK && !x->is_sub)
        st = exec_memory_new(x, &x->mem);
    free(refs);
    return st;
}

aglm_status cpu_exec_compile(const aglm_graph *g, const aglm_options *opts, cpu_pool *pool,
                             cpu_exec **out)
{
    *out = NULL;
    int threads;
    aglm_status st = parse_threads(opts, &threads);
    if (st != AGLM_OK)
        return st;
    cpu_exec *x = calloc(1, sizeof *x);
    if (!x)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    x->graph = aglm_graph_clone(g);
    if (!x->graph) {
        st = aglm_error_wrap(AGLM_ERR_NOMEM, "backend cpu");
        goto fail;
    }
    if ((st = aglm_infer_shapes(x->graph)) != AGLM_OK ||
        (st = aglm_graph_toposort(x->graph)) != AGLM_OK) {
        aglm_error_wrap(st, "backend cpu");
        goto fail;
    }
    if ((st = check_supported(x->graph)) != AGLM_OK)
        goto fail;
    x->opset = aglm_graph_opset(x->graph, "");
    if (x->opset <= 0)
        x->opset = aglm_graph_opset(x->graph, "ai.onnx");
    if (x->opset <= 0)
        x->opset = CPU_DEFAULT_OPSET;
    x->pool = pool;
    if (threads > 0 && threads != cpu_pool_threads(pool)) {
        if ((st = cpu_pool_new(threads, &x->own_pool)) != AGLM_OK) {
            aglm_error_wrap(st, "backend cpu");
            goto fail;
        }
        x->pool = x->own_pool;
    }
    if ((st = exec_build(x)) != AGLM_OK || (st = exec_profile_attach(x, opts)) != AGLM_OK)
        goto fail;
    *out = x;
    return AGLM_OK;
fail:
    cpu_exec_free(x);
    return st;
}

int cpu_exec_threads(const cpu_exec *x)
{
    return cpu_pool_threads(x->pool);
}

void exec_free_parts(cpu_exec *x)
{
    for (size_t i = 0; x->steps && i < x->n_steps; i++) {
        exec_free_subs(&x->steps[i]);
        if (x->steps[i].prepared)
            x->steps[i].prep->release(x->steps[i].prepared);
        free(x->steps[i].in);
        free(x->steps[i].out);
        free(x->steps[i].free);
    }
    free(x->steps);
    free(x->slots);
    free(x->out_slot);
    free(x->out_move);
    free(x->captures);
    free(x->slot_last);
    exec_memory_free(x->mem);
}

void cpu_exec_free(cpu_exec *x)
{
    if (!x)
        return;
    exec_profile_detach(x);
    exec_free_parts(x);
    cpu_pool_free(x->own_pool);
    aglm_graph_free(x->graph);
    free(x);
}

/* ---- run ------------------------------------------------------------------------------- */

/* A descriptor reading t's data in place: freeing it frees nothing. */
static aglm_tensor borrow(const aglm_tensor *t)
{
    aglm_tensor b = *t;
    b.flags &= ~AGLM_TENSOR_OWNS_DATA;
    return b;
}

/* A kernel's output must agree with what inference declared for the value. Inside a subgraph
 * only the dtype is held to it: a loop-carried value may change shape from one iteration to
 * the next, while inference saw the first. */
static aglm_status check_output(const cpu_exec *x, const step *s, size_t i, const aglm_tensor *t)
{
    const aglm_value *v = aglm_node_output(s->node, i);
    if (t->dtype == AGLM_UNDEFINED)
        return aglm_error(AGLM_ERR_INTERNAL, "kernel gave no tensor for output %zu", i);
    if (!v)
        return AGLM_OK;
    aglm_dtype dt = aglm_value_dtype(v);
    int rank = aglm_value_rank(v);
    int ok = dt == AGLM_UNDEFINED || dt == t->dtype;
    if (ok && rank >= 0 && !x->is_sub) {
        ok = rank == t->rank;
        for (int d = 0; ok && d < rank; d++) {
            aglm_dim dim = aglm_value_dim(v, d);
            ok = dim.value < 0 || dim.value == t->dims[d];
        }
    }
    if (ok)
        return AGLM_OK;
    char want[160], got[96];
    aglm_value_type_str(v, want, sizeof want);
    aglm_shape_str(t->rank, t->dims, got, sizeof got);
    return aglm_error(AGLM_ERR_INTERNAL, "output '%s' came out %s%s, but inference says %s",
                      aglm_value_name(v), aglm_dtype_name(t->dtype), got, want);
}

static aglm_status check_devices(const cpu_exec *x, size_t n, const aglm_tensor *inputs)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = aglm_value_name(aglm_graph_input(x->graph, i));
        if (inputs[i].device != AGLM_DEVICE_CPU)
            return aglm_error(AGLM_ERR_INVALID, "input '%s': tensor is in device memory; backend "
                              "cpu takes host tensors", name);
        if (!inputs[i].data && aglm_tensor_numel(&inputs[i]) > 0)
            return aglm_error(AGLM_ERR_INVALID, "input '%s': tensor has no data", name);
    }
    return AGLM_OK;
}

/* Runs step si. With a memory plan (lease), each output comes in pointing at its planned
 * region, and a kernel that allocates it through aglm_tensor_alloc writes there. */
static aglm_status run_step(const cpu_exec *x, size_t si, aglm_tensor *slots,
                            const aglm_tensor **ins, aglm_tensor *outs, exec_lease *lease)
{
    const step *s = &x->steps[si];
    for (size_t i = 0; i < s->n_in; i++)
        ins[i] = s->in[i] < 0 ? NULL : &slots[s->in[i]];
    memset(outs, 0, s->n_out * sizeof *outs);
    if (lease)
        exec_memory_prefill(x->mem, lease, si, slots, outs);
    struct cpu_scope scope = {x, s, slots};
    cpu_kctx k = {s->node, x->opset, x->pool, s->n_subs ? &scope : NULL, s->prepared};
    aglm_status st = s->kernel->run(&k, s->n_in, ins, s->n_out, outs);
    /* An output the kernel never allocated still holds the lent region: it gave no tensor. */
    for (size_t i = 0; i < s->n_out; i++)
        if (outs[i].flags & AGLM_TENSOR_RESERVED)
            memset(&outs[i], 0, sizeof outs[i]);
    for (size_t i = 0; st == AGLM_OK && i < s->n_out; i++)
        st = check_output(x, s, i, &outs[i]);
    if (st != AGLM_OK) {
        for (size_t i = 0; i < s->n_out; i++)
            aglm_tensor_free(&outs[i]);
        return aglm_error_wrap(st, "node '%s' (%s)", aglm_node_name(s->node),
                               aglm_node_op(s->node));
    }
    for (size_t i = 0; i < s->n_out; i++) {
        if (s->out[i] >= 0)
            slots[s->out[i]] = outs[i];
        else
            aglm_tensor_free(&outs[i]);
    }
    if (lease)
        exec_memory_record(x->mem, lease, si, slots);
    for (size_t i = 0; i < s->n_free; i++)
        aglm_tensor_free(&slots[s->free[i]]);
    return AGLM_OK;
}

aglm_status exec_run_graph(const cpu_exec *x, size_t n_in, const aglm_tensor *inputs,
                           const aglm_tensor *const *captures, size_t n_out, aglm_tensor *outputs)
{
    aglm_status st = AGLM_OK;
    aglm_tensor *slots = calloc(x->n_slots + x->max_out + 1, sizeof *slots);
    const aglm_tensor **ins = calloc(x->max_in + 1, sizeof *ins);
    if (!slots || !ins) {
        free(slots);
        free(ins);
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    }
    aglm_tensor *outs = slots + x->n_slots;
    for (size_t i = 0; i < x->n_slots; i++) {
        if (x->slots[i].kind == SLOT_INPUT && x->slots[i].input < n_in)
            slots[i] = borrow(&inputs[x->slots[i].input]);
        else if (x->slots[i].kind == SLOT_CONST)
            slots[i] = borrow(x->slots[i].constant);
        else if (x->slots[i].kind == SLOT_OUTER)
            slots[i] = borrow(captures[x->slots[i].input]);
    }
    /* Planned memory (top level only): the arena must outlive every slot pointing into it, so
     * it goes back after the slots are freed below. */
    exec_lease lease_buf, *lease = NULL;
    if (x->mem && (st = exec_memory_take(x->mem, n_in, inputs, &lease_buf)) == AGLM_OK)
        lease = &lease_buf;
    for (size_t i = 0; i < x->n_steps && st == AGLM_OK; i++)
        st = run_step(x, i, slots, ins, outs, lease);
    for (size_t i = 0; i < n_out && st == AGLM_OK; i++) {
        aglm_tensor *t = &slots[x->out_slot[i]];
        if (x->out_move[i]) {
            outputs[i] = *t;
            memset(t, 0, sizeof *t);
        } else if ((st = aglm_tensor_copy(&outputs[i], t)) != AGLM_OK) {
            aglm_error_wrap(st, "backend cpu: output '%s'",
                            aglm_value_name(aglm_graph_output(x->graph, i)));
        }
    }
    for (size_t i = 0; i < x->n_slots; i++)
        aglm_tensor_free(&slots[i]);
    if (lease)
        exec_memory_give(x->mem, lease, st == AGLM_OK, n_in, inputs);
    if (st != AGLM_OK)
        for (size_t i = 0; i < n_out; i++)
            aglm_tensor_free(&outputs[i]);
    free(slots);
    free(ins);
    return st;
}

aglm_status cpu_exec_run(const cpu_exec *x, size_t n_in, const aglm_tensor *inputs, size_t n_out,
                         aglm_tensor *outputs)
{
    for (size_t i = 0; i < n_out; i++)
        memset(&outputs[i], 0, sizeof outputs[i]);
    if (n_out != x->n_outputs)
        return aglm_error(AGLM_ERR_INVALID, "backend cpu: the graph has %zu outputs, %zu were "
                          "asked for", x->n_outputs, n_out);
    aglm_status st = aglm_graph_check_inputs(x->graph, n_in, inputs);
    if (st == AGLM_OK)
        st = check_devices(x, n_in, inputs);
    if (st != AGLM_OK)
        return st;
    return exec_run_graph(x, n_in, inputs, NULL, n_out, outputs);
}
