/* The cpu executable (exec.h): the kernel table bound to the runtime layer's steps. Binding
 * finds each node's kernel and runs its prepare on the node's constant inputs (packed weights,
 * say); a step builds the kernel's context, with the planned memory the executor lends. */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

/* The opset assumed when a graph imports none: the newest the kernels know. */
#define CPU_DEFAULT_OPSET 21

struct cpu_exec {
    aglm_executor *x;
    cpu_pool *pool;     /* the pool the kernels use: borrowed, or own_pool */
    cpu_pool *own_pool; /* option threads=N */
};

/* What binding keeps per step. */
typedef struct cpu_step {
    const cpu_kernel *kernel;
    const cpu_prep *prep; /* its prepare/release, or NULL */
    void *prepared;       /* what prep->prepare built, or NULL */
    int64_t opset;        /* the ai.onnx opset of the node's graph (or the nearest enclosing) */
} cpu_step;

/* ---- support ---------------------------------------------------------------------------- */

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

int cpu_exec_supports(const aglm_node *n, char *why, size_t why_len)
{
    int dtype_ok;
    const cpu_kernel *k = node_kernel(n, &dtype_ok);
    if (k && !dtype_ok && why && why_len)
        snprintf(why, why_len, "on %s", aglm_dtype_name(aglm_value_dtype(aglm_node_input(n, 0))));
    return k && dtype_ok;
}

static int supports_cb(void *ctx, const aglm_node *n, char *why, size_t why_len)
{
    (void)ctx;
    return cpu_exec_supports(n, why, why_len);
}

/* ---- binding ---------------------------------------------------------------------------- */

/* The ai.onnx opset of schedule s's graph, else of the nearest enclosing graph importing one. */
static int64_t sched_opset(const aglm_sched *s)
{
    for (; s; s = s->parent) {
        int64_t v = aglm_graph_opset(s->graph, "");
        if (v <= 0)
            v = aglm_graph_opset(s->graph, "ai.onnx");
        if (v > 0)
            return v;
    }
    return CPU_DEFAULT_OPSET;
}

static aglm_status bind(void *ctx, aglm_sched *s, aglm_step *step)
{
    cpu_exec *x = ctx;
    int dtype_ok;
    cpu_step *cs = calloc(1, sizeof *cs);
    if (!cs)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    step->user = cs;
    cs->kernel = node_kernel(step->node, &dtype_ok);
    cs->opset = sched_opset(s);
    cs->prep = cpu_kernel_prep(cs->kernel);
    if (!cs->prep)
        return AGLM_OK;
    /* The kernel's prepare sees the node's constant inputs. */
    const aglm_tensor *consts[16] = {NULL};
    size_t n = step->n_in < 16 ? step->n_in : 16;
    for (size_t i = 0; i < n; i++)
        if (step->in[i] >= 0 && s->slots[step->in[i]].kind == AGLM_SLOT_CONST)
            consts[i] = s->slots[step->in[i]].constant;
    cpu_kctx k = {step->node, cs->opset, x->pool, NULL, NULL, NULL, 0, NULL};
    return cs->prep->prepare(&k, n, consts, &cs->prepared);
}

static void unbind(void *ctx, aglm_step *step)
{
    (void)ctx;
    cpu_step *cs = step->user;
    if (cs->prepared)
        cs->prep->release(cs->prepared);
    free(cs);
    step->user = NULL;
}

/* ---- running ---------------------------------------------------------------------------- */

static aglm_status run_step(void *ctx, const aglm_step_io *io)
{
    cpu_exec *x = ctx;
    const cpu_step *cs = io->step->user;
    cpu_kctx k = {io->step->node, cs->opset, x->pool,         io,
                  cs->prepared,   io->out,   io->step->n_out, io->out_mem};
    return cs->kernel->run(&k, io->step->n_in, io->in, io->step->n_out, io->out);
}

/* ---- the executable --------------------------------------------------------------------- */

static aglm_status parse_threads(const aglm_options *opts, int *threads)
{
    const char *s = aglm_options_get(opts, "threads");
    *threads = 0;
    return s ? cpu_parse_threads(s, "backend cpu: option threads", threads) : AGLM_OK;
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
    x->pool = pool;
    if (threads > 0 && threads != cpu_pool_threads(pool)) {
        if ((st = cpu_pool_new(threads, &x->own_pool)) != AGLM_OK) {
            aglm_error_wrap(st, "backend cpu");
            goto fail;
        }
        x->pool = x->own_pool;
    }
    aglm_executor_desc d = {
        .sched = {.name = "cpu", .supports = supports_cb, .bind = bind, .unbind = unbind, .ctx = x},
        .step = run_step,
        .memory = aglm_host_memory(),
    };
    if ((st = aglm_executor_new(g, opts, &d, &x->x)) != AGLM_OK)
        goto fail;
    *out = x;
    return AGLM_OK;
fail:
    cpu_exec_free(x);
    return st;
}

aglm_status cpu_exec_run(cpu_exec *x, size_t n_in, const aglm_tensor *inputs, size_t n_out,
                         aglm_tensor *outputs)
{
    return aglm_executor_run(x->x, n_in, inputs, n_out, outputs);
}

aglm_status cpu_exec_profile(cpu_exec *x, aglm_profile *out)
{
    return aglm_executor_profile(x->x, out);
}

void cpu_exec_free(cpu_exec *x)
{
    if (!x)
        return;
    aglm_executor_free(x->x);
    cpu_pool_free(x->own_pool);
    free(x);
}
