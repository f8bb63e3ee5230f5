/* The executor (aglm/executor.h): compile = clone, infer, sort, schedule, plan; run = walk the
 * steps with the run's own slots, lending planned memory to each output, checking what each
 * step made against inference, freeing each intermediate after its last reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aglm/infer.h"
#include "rt_internal.h"

uint64_t rt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static aglm_status nomem(const aglm_executor *x)
{
    return aglm_error(AGLM_ERR_NOMEM, "backend %s: out of memory", x->desc.sched.name);
}

/* ---- compile ---------------------------------------------------------------------------- */

static aglm_status precompute(aglm_executor *x);
static void release(const aglm_executor *x, aglm_tensor *t);

aglm_status aglm_executor_new(const aglm_graph *g, const aglm_options *opts,
                              const aglm_executor_desc *d, aglm_executor **out)
{
    *out = NULL;
    if (!g || !d || !d->sched.name || !d->step)
        return aglm_error(AGLM_ERR_INVALID, "aglm_executor_new: graph, backend or step is NULL");
    aglm_executor *x = calloc(1, sizeof *x);
    if (!x)
        return aglm_error(AGLM_ERR_NOMEM, "backend %s: out of memory", d->sched.name);
    x->desc = *d;
    x->memory = d->memory ? d->memory : aglm_host_memory();
    x->t0_ns = rt_now_ns();
    aglm_status st = AGLM_OK;
    int plan = aglm_options_get_bool(opts, "plan", 1);
    if (plan < 0) {
        st = aglm_error(AGLM_ERR_INVALID, "backend %s: option plan = '%s': expected 1 or 0",
                        d->sched.name, aglm_options_get(opts, "plan"));
        goto fail;
    }
    if (!(x->graph = aglm_graph_clone(g))) {
        st = aglm_error_wrap(AGLM_ERR_NOMEM, "backend %s", d->sched.name);
        goto fail;
    }
    if ((st = aglm_infer_shapes(x->graph)) != AGLM_OK ||
        (st = aglm_graph_toposort(x->graph)) != AGLM_OK) {
        aglm_error_wrap(st, "backend %s", d->sched.name);
        goto fail;
    }
    if ((st = aglm_sched_new(x->graph, &x->desc.sched, &x->sched)) != AGLM_OK)
        goto fail;
    int pre = aglm_options_get_bool(opts, "precompute", 1);
    if (pre < 0) {
        st = aglm_error(AGLM_ERR_INVALID, "backend %s: option precompute = '%s': expected 1 or 0",
                        d->sched.name, aglm_options_get(opts, "precompute"));
        goto fail;
    }
    if (pre && (st = precompute(x)) != AGLM_OK)
        goto fail;
    if (plan && (st = aglm_memory_new(x->sched, x->memory, d->memory_state, &x->mem)) != AGLM_OK)
        goto fail;
    if ((st = rt_profile_new(x, opts)) != AGLM_OK)
        goto fail;
    *out = x;
    return AGLM_OK;
fail:
    rt_profile_free(x); /* no trace file of a compile that failed */
    aglm_executor_free(x);
    return st;
}

void aglm_executor_free(aglm_executor *x)
{
    if (!x)
        return;
    if (x->trace && rt_trace_write(x) != AGLM_OK)
        fprintf(stderr, "aglm: %s\n", aglm_last_error());
    rt_profile_free(x);
    aglm_memory_free(x->mem);
    for (size_t i = 0; x->pre && i < x->sched->n_slots; i++)
        release(x, &x->pre[i]);
    free(x->pre);
    aglm_sched_free(x->sched, &x->desc.sched);
    aglm_graph_free(x->graph);
    free(x);
}

const aglm_graph *aglm_executor_graph(const aglm_executor *x)
{
    return x ? x->graph : NULL;
}

const aglm_sched *aglm_executor_sched(const aglm_executor *x)
{
    return x ? x->sched : NULL;
}

/* ---- tensors ---------------------------------------------------------------------------- */

/* A descriptor reading t's data in place: freeing it frees nothing. */
static aglm_tensor borrow(const aglm_tensor *t)
{
    aglm_tensor b = *t;
    b.flags &= ~AGLM_TENSOR_OWNS_DATA;
    return b;
}

/* Frees a slot's tensor wherever its memory lives. */
static void release(const aglm_executor *x, aglm_tensor *t)
{
    if (t->device != AGLM_DEVICE_CPU && (t->flags & AGLM_TENSOR_OWNS_DATA)) {
        x->memory->free(x->desc.memory_state, t->data);
        memset(t, 0, sizeof *t);
        return;
    }
    aglm_tensor_free(t);
}

/* A copy of src in the same memory, which dst then owns. */
static aglm_status copy_tensor(const aglm_executor *x, aglm_tensor *dst, const aglm_tensor *src)
{
    if (src->device == AGLM_DEVICE_CPU)
        return aglm_tensor_copy(dst, src);
    size_t bytes = aglm_tensor_nbytes(src);
    void *data = NULL, *host = malloc(bytes ? bytes : 1);
    aglm_status st =
        host ? x->memory->alloc(x->desc.memory_state, bytes ? bytes : 1, &data) : nomem(x);
    if (st == AGLM_OK)
        st = x->memory->to_host(x->desc.memory_state, host, src->data, bytes);
    if (st == AGLM_OK)
        st = x->memory->to_device(x->desc.memory_state, data, host, bytes);
    free(host);
    if (st != AGLM_OK) {
        x->memory->free(x->desc.memory_state, data);
        return st;
    }
    *dst = *src;
    dst->data = data;
    dst->flags = AGLM_TENSOR_OWNS_DATA;
    return AGLM_OK;
}

/* ---- run -------------------------------------------------------------------------------- */

/* A step's output must agree with what inference declared for the value. Inside a subgraph
 * only the dtype is held to it: a loop-carried value may change shape from one iteration to
 * the next, while inference saw the first. */
static aglm_status check_output(const aglm_sched *s, const aglm_step *step, size_t i,
                                const aglm_tensor *t)
{
    const aglm_value *v = aglm_node_output(step->node, i);
    if (t->dtype == AGLM_UNDEFINED)
        return aglm_error(AGLM_ERR_INTERNAL, "kernel gave no tensor for output %zu", i);
    if (!v)
        return AGLM_OK;
    aglm_dtype dt = aglm_value_dtype(v);
    int rank = aglm_value_rank(v);
    int ok = dt == AGLM_UNDEFINED || dt == t->dtype;
    if (ok && rank >= 0 && !s->parent) {
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

/* Runs step si of r's schedule; ins/outs/regions are scratch of the schedule's widest step. */
static aglm_status run_step(aglm_run *r, size_t si, const aglm_tensor **ins, aglm_tensor *outs,
                            aglm_region *regions, aglm_lease *lease)
{
    const aglm_sched *s = r->sched;
    const aglm_step *step = &s->steps[si];
    aglm_tensor *slots = r->slots;
    for (size_t i = 0; i < step->n_in; i++)
        ins[i] = step->in[i] < 0 ? NULL : &slots[step->in[i]];
    memset(outs, 0, step->n_out * sizeof *outs);
    if (lease)
        aglm_memory_lend(r->x->mem, lease, si, slots, regions);
    else
        memset(regions, 0, step->n_out * sizeof *regions);
    aglm_step_io io = {s, step, ins, outs, regions, r};
    uint64_t t0 = r->entry ? rt_now_ns() : 0;
    aglm_status st = r->x->desc.step(r->x->desc.sched.ctx, &io);
    if (r->entry)
        rt_profile_step(r, si, t0, rt_now_ns(), &io, st);
    for (size_t i = 0; st == AGLM_OK && i < step->n_out; i++)
        st = check_output(s, step, i, &outs[i]);
    if (st != AGLM_OK) {
        for (size_t i = 0; i < step->n_out; i++)
            release(r->x, &outs[i]);
        return aglm_error_wrap(st, "node '%s' (%s)", aglm_node_name(step->node),
                               aglm_node_op(step->node));
    }
    for (size_t i = 0; i < step->n_out; i++) {
        if (step->out[i] >= 0)
            slots[step->out[i]] = outs[i];
        else
            release(r->x, &outs[i]);
    }
    if (lease)
        aglm_memory_record(r->x->mem, lease, si, slots);
    for (size_t i = 0; i < step->n_free; i++)
        release(r->x, &slots[step->free[i]]);
    return AGLM_OK;
}

/* ---- precomputed steps ----------------------------------------------------------------- */

/* 1 when step si of top-level schedule s can run once at compile time: a known, deterministic
 * op holding no subgraph, every input a constant (initialiser or precomputed), no output a graph
 * output (the caller owns those, and each run must hand over its own). */
static int constant_step(const aglm_sched *s, size_t si)
{
    const aglm_step *st = &s->steps[si];
    if (!st->schema || (st->schema->flags & AGLM_OPF_NONDETERMINISTIC) || st->n_subs)
        return 0;
    for (size_t i = 0; i < st->n_in; i++)
        if (st->in[i] >= 0 && s->slots[st->in[i]].kind != AGLM_SLOT_CONST)
            return 0;
    for (size_t i = 0; i < st->n_out; i++)
        for (size_t o = 0; st->out[i] >= 0 && o < s->n_outputs; o++)
            if (s->out_slot[o] == st->out[i])
                return 0;
    return 1;
}

/* Runs the constant steps of the top-level schedule once, keeps their outputs in x->pre as
 * constants of the schedule, and binds again the steps that read them. */
static aglm_status precompute(aglm_executor *x)
{
    aglm_sched *s = x->sched;
    const aglm_tensor *ins[AGLM_OP_VARIADIC + 1];
    aglm_tensor outs[AGLM_OP_VARIADIC + 1];
    aglm_region none[AGLM_OP_VARIADIC + 1];
    memset(none, 0, sizeof none);
    int any = 0;
    for (size_t si = 0; si < s->n_steps; si++) {
        aglm_step *st = &s->steps[si];
        if (!constant_step(s, si) || st->n_in > AGLM_OP_VARIADIC || st->n_out > AGLM_OP_VARIADIC)
            continue;
        if (!x->pre && !(x->pre = calloc(s->n_slots ? s->n_slots : 1, sizeof *x->pre)))
            return nomem(x);
        for (size_t i = 0; i < st->n_in; i++)
            ins[i] = st->in[i] < 0 ? NULL : s->slots[st->in[i]].constant;
        memset(outs, 0, st->n_out * sizeof *outs);
        aglm_run r = {x, s, NULL, NULL, NULL, 0, 0, NULL};
        r.top = &r;
        aglm_step_io io = {s, st, ins, outs, none, &r};
        aglm_status rs = x->desc.step(x->desc.sched.ctx, &io);
        for (size_t i = 0; rs == AGLM_OK && i < st->n_out; i++)
            rs = check_output(s, st, i, &outs[i]);
        if (rs != AGLM_OK) {
            for (size_t i = 0; i < st->n_out; i++)
                release(x, &outs[i]);
            return aglm_error_wrap(rs,
                                   "backend %s: node '%s' (%s), run once as its inputs are "
                                   "constants",
                                   x->desc.sched.name, aglm_node_name(st->node),
                                   aglm_node_op(st->node));
        }
        for (size_t i = 0; i < st->n_out; i++) {
            if (st->out[i] < 0) {
                release(x, &outs[i]);
                continue;
            }
            aglm_slot *sl = &s->slots[st->out[i]];
            x->pre[st->out[i]] = outs[i];
            sl->kind = AGLM_SLOT_CONST;
            sl->constant = &x->pre[st->out[i]];
        }
        st->precomputed = 1;
        any = 1;
    }
    /* Steps reading a precomputed value bind again, so what bind prepares from constants (the
     * cpu backend's packed weights) covers it too. */
    const aglm_sched_backend *be = &x->desc.sched;
    for (size_t si = 0; any && be->bind && si < s->n_steps; si++) {
        aglm_step *st = &s->steps[si];
        int reads = 0;
        for (size_t i = 0; !st->precomputed && i < st->n_in; i++)
            reads |= st->in[i] >= 0 && x->pre && x->pre[st->in[i]].dtype != AGLM_UNDEFINED;
        if (!reads)
            continue;
        if (st->user && be->unbind)
            be->unbind(be->ctx, st);
        st->user = NULL;
        aglm_status rs = be->bind(be->ctx, s, st);
        if (rs != AGLM_OK)
            return aglm_error_wrap(rs, "node '%s' (%s)", aglm_node_name(st->node),
                                   aglm_node_op(st->node));
    }
    return AGLM_OK;
}

/* Runs r's schedule: inputs are borrowed, captures[i] feeds capture slot i. Outputs are tensors
 * the caller owns; on failure every output is left empty. */
static aglm_status run_sched(aglm_run *r, size_t n_in, const aglm_tensor *inputs,
                             const aglm_tensor *const *captures, size_t n_out, aglm_tensor *outputs)
{
    const aglm_sched *s = r->sched;
    aglm_executor *x = r->x;
    aglm_status st = AGLM_OK;
    size_t widest = s->max_out + 1;
    aglm_tensor *slots = calloc(s->n_slots + widest, sizeof *slots);
    const aglm_tensor **ins = calloc(s->max_in + 1, sizeof *ins);
    aglm_region *regions = calloc(widest, sizeof *regions);
    if (!slots || !ins || !regions) {
        free(slots);
        free(ins);
        free(regions);
        return nomem(x);
    }
    aglm_tensor *outs = slots + s->n_slots;
    r->slots = slots;
    for (size_t i = 0; i < s->n_slots; i++) {
        const aglm_slot *sl = &s->slots[i];
        if (sl->kind == AGLM_SLOT_INPUT && sl->index < n_in)
            slots[i] = borrow(&inputs[sl->index]);
        else if (sl->kind == AGLM_SLOT_CONST)
            slots[i] = borrow(sl->constant);
        else if (sl->kind == AGLM_SLOT_OUTER)
            slots[i] = borrow(captures[sl->index]);
    }
    /* Planned memory (top level only): the arena must outlive every slot pointing into it, so
     * it goes back after the slots are freed below. */
    aglm_lease lease_buf, *lease = NULL;
    if (!s->parent && x->mem &&
        (st = aglm_memory_take(x->mem, n_in, inputs, &lease_buf)) == AGLM_OK)
        lease = &lease_buf;
    for (size_t i = 0; i < s->n_steps && st == AGLM_OK; i++)
        if (!s->steps[i].precomputed)
            st = run_step(r, i, ins, outs, regions, lease);
    for (size_t i = 0; i < n_out && st == AGLM_OK; i++) {
        aglm_tensor *t = &slots[s->out_slot[i]];
        if (s->out_move[i]) {
            outputs[i] = *t;
            memset(t, 0, sizeof *t);
        } else if ((st = copy_tensor(x, &outputs[i], t)) != AGLM_OK) {
            aglm_error_wrap(st, "backend %s: output '%s'", x->desc.sched.name,
                            aglm_value_name(aglm_graph_output(s->graph, i)));
        }
    }
    for (size_t i = 0; i < s->n_slots; i++)
        release(x, &slots[i]);
    if (lease)
        aglm_memory_give(x->mem, lease, st == AGLM_OK, n_in, inputs);
    if (st != AGLM_OK)
        for (size_t i = 0; i < n_out; i++)
            release(x, &outputs[i]);
    free(slots);
    free(ins);
    free(regions);
    r->slots = NULL;
    return st;
}

static aglm_status check_devices(const aglm_executor *x, size_t n, const aglm_tensor *inputs)
{
    aglm_device want = x->memory->device;
    for (size_t i = 0; i < n; i++) {
        const char *name = aglm_value_name(aglm_graph_input(x->graph, i));
        if (inputs[i].device != want)
            return aglm_error(AGLM_ERR_INVALID,
                              "input '%s': tensor is in %s memory; backend %s "
                              "takes %s tensors",
                              name, inputs[i].device == AGLM_DEVICE_CPU ? "host" : "device",
                              x->desc.sched.name, want == AGLM_DEVICE_CPU ? "host" : "device");
        if (!inputs[i].data && aglm_tensor_numel(&inputs[i]) > 0)
            return aglm_error(AGLM_ERR_INVALID, "input '%s': tensor has no data", name);
    }
    return AGLM_OK;
}

aglm_status aglm_executor_run(aglm_executor *x, size_t n_in, const aglm_tensor *inputs,
                              size_t n_out, aglm_tensor *outputs)
{
    for (size_t i = 0; outputs && i < n_out; i++)
        memset(&outputs[i], 0, sizeof outputs[i]);
    if (!x || (n_in && !inputs) || (n_out && !outputs))
        return aglm_error(AGLM_ERR_INVALID, "aglm_executor_run: NULL executor or tensors");
    if (n_out != x->sched->n_outputs)
        return aglm_error(AGLM_ERR_INVALID,
                          "backend %s: the graph has %zu outputs, %zu were "
                          "asked for",
                          x->desc.sched.name, x->sched->n_outputs, n_out);
    aglm_status st = aglm_graph_check_inputs(x->graph, n_in, inputs);
    if (st == AGLM_OK)
        st = check_devices(x, n_in, inputs);
    if (st != AGLM_OK)
        return st;
    aglm_run r = {x, x->sched, rt_profile_entries(x, x->sched), NULL, NULL, 0, 0, NULL};
    r.top = &r;
    uint64_t t0 = x->prof ? rt_now_ns() : 0;
    st = run_sched(&r, n_in, inputs, NULL, n_out, outputs);
    if (x->prof)
        rt_profile_run_done(&r, t0, rt_now_ns());
    free(r.events);
    return st;
}

/* ---- subgraphs -------------------------------------------------------------------------- */

const aglm_graph *aglm_run_sub_graph(const aglm_step_io *io, const char *attr)
{
    const aglm_sched_sub *e = io ? aglm_step_sub(io->step, attr) : NULL;
    return e ? e->sched->graph : NULL;
}

aglm_status aglm_run_sub(const aglm_step_io *io, const char *attr, size_t n_in,
                         const aglm_tensor *in, size_t n_out, aglm_tensor *out)
{
    for (size_t i = 0; i < n_out; i++)
        memset(&out[i], 0, sizeof out[i]);
    const aglm_sched_sub *e = aglm_step_sub(io->step, attr);
    if (!e)
        return AGLM_ERR_INVALID;
    const aglm_sched *sub = e->sched;
    const aglm_graph *g = sub->graph;
    size_t want_in = aglm_graph_num_inputs(g);
    if (n_in != want_in || n_out != sub->n_outputs)
        return aglm_error(AGLM_ERR_INVALID,
                          "%s: takes %zu inputs and gives %zu outputs; the node "
                          "feeds %zu and takes %zu",
                          attr, want_in, sub->n_outputs, n_in, n_out);
    for (size_t i = 0; i < n_in; i++) {
        aglm_dtype dt = aglm_value_dtype(aglm_graph_input(g, i));
        if (dt != AGLM_UNDEFINED && dt != in[i].dtype)
            return aglm_error(AGLM_ERR_TYPE, "%s: input '%s' is declared %s but gets %s", attr,
                              aglm_value_name(aglm_graph_input(g, i)), aglm_dtype_name(dt),
                              aglm_dtype_name(in[i].dtype));
    }
    aglm_run *caller = io->run;
    const aglm_tensor *stack_caps[16] = {NULL};
    const aglm_tensor **caps = stack_caps;
    if (sub->n_captures > 16 && !(caps = malloc(sub->n_captures * sizeof *caps)))
        return nomem(caller->x);
    for (size_t c = 0; c < sub->n_captures; c++)
        caps[c] = &caller->slots[e->capture_slot[c]];
    aglm_run r = {caller->x, sub,        rt_profile_entries(caller->x, sub), NULL, NULL, 0,
                  0,         caller->top};
    aglm_status st = run_sched(&r, n_in, in, caps, n_out, out);
    if (caps != stack_caps)
        free(caps);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "%s", attr);
    return AGLM_OK;
}
