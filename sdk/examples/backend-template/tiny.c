/* tiny: a backend plugin built on libaglm's runtime layer, the SDK's backend template.
 *
 * A backend says which nodes it runs (supports), finds a kernel for each step of the schedule
 * (bind) and runs one step when the executor asks (step). Everything else comes from the runtime
 * layer (aglm/executor.h): cloning and sorting the graph, the one error listing every node the
 * backend cannot run, checking inputs and outputs, the memory plan with in-place reuse, freeing
 * intermediates after their last reader, subgraphs, and profile=1 / trace=FILE.json. So this
 * file is only glue: the math is in kernels.c.
 *
 * Copy the folder, rename it (the name below, the target in CMakeLists.txt), and put your
 * kernels in the table of kernels.c. A backend on device memory points .memory of its ops table
 * and of the executor description at its own aglm_device_mem table (docs/backend-guide.md). */
#include <stdio.h>

#include <aglm/aglm.h>

#include "kernels.h"

/* ---- what the backend runs ---------------------------------------------------------------- */

/* 1 when n is an op of the kernel table on f32 tensors only. A node refused for its dtype gets a
 * reason ("on i8"), which the compile error shows after the op: "'n1' (Add on i8)". A node whose
 * op has no kernel gets none: the error already names the op. */
static int supports_node(const aglm_node *n, char *why, size_t why_len)
{
    if (!tiny_kernel_find(n))
        return 0;
    size_t n_in = aglm_node_num_inputs(n), n_all = n_in + aglm_node_num_outputs(n);
    for (size_t i = 0; i < n_all; i++) {
        const aglm_value *v = i < n_in ? aglm_node_input(n, i) : aglm_node_output(n, i - n_in);
        if (v && aglm_value_dtype(v) != AGLM_F32) {
            if (why && why_len)
                snprintf(why, why_len, "on %s", aglm_dtype_name(aglm_value_dtype(v)));
            return 0;
        }
    }
    return 1;
}

/* The scheduler's question, asked of every node (those of subgraphs too) before anything runs. */
static int sched_supports(void *ctx, const aglm_node *n, char *why, size_t why_len)
{
    (void)ctx;
    return supports_node(n, why, why_len);
}

/* Called once per step when the graph is compiled: keep what the step needs in step->user. Here
 * that is the kernel; a backend that prepares per-node state (packed weights, a device program)
 * builds it here from the node and its constant inputs, and frees it in an unbind callback. */
static aglm_status bind(void *ctx, aglm_sched *s, aglm_step *step)
{
    (void)ctx;
    (void)s;
    step->user = (void *)tiny_kernel_find(step->node);
    return AGLM_OK;
}

/* Called for every step of every run, from the thread running it: inputs in io->in, outputs to
 * fill in io->out, planned memory for them in io->out_mem. */
static aglm_status step(void *ctx, const aglm_step_io *io)
{
    (void)ctx;
    const tiny_kernel *k = io->step->user;
    return k->run(io);
}

/* ---- the backend operations table ------------------------------------------------------- */

/* The executable is the runtime layer's executor itself: tiny keeps nothing of its own per
 * compiled graph. */
static aglm_status tiny_compile(void *state, const aglm_graph *g, const aglm_options *opts,
                                aglm_exec **out)
{
    (void)state;
    if (!g || !out)
        return aglm_error(AGLM_ERR_INVALID, "backend tiny: compile: graph or out is NULL");
    aglm_executor_desc d = {
        .sched = {.name = "tiny", .supports = sched_supports, .bind = bind, .ctx = NULL},
        .step = step,
        .memory = NULL, /* host memory: aglm_host_memory() */
    };
    aglm_executor *x = NULL;
    aglm_status st = aglm_executor_new(g, opts, &d, &x);
    *out = (aglm_exec *)x;
    return st;
}

static aglm_status tiny_run(void *state, aglm_exec *exec, size_t n_in, const aglm_tensor *inputs,
                            size_t n_out, aglm_tensor *outputs)
{
    (void)state;
    return aglm_executor_run((aglm_executor *)exec, n_in, inputs, n_out, outputs);
}

static aglm_status tiny_profile(void *state, aglm_exec *exec, aglm_profile *out)
{
    (void)state;
    return aglm_executor_profile((aglm_executor *)exec, out);
}

static void tiny_release(void *state, aglm_exec *exec)
{
    (void)state;
    aglm_executor_free((aglm_executor *)exec);
}

static int tiny_supports(void *state, const aglm_graph *g, const aglm_node *n)
{
    (void)state;
    (void)g;
    return n && supports_node(n, NULL, 0);
}

static aglm_status tiny_query(void *state, aglm_backend_info *info)
{
    (void)state;
    if (!info)
        return aglm_error(AGLM_ERR_INVALID, "backend tiny: query: info is NULL");
    info->device = AGLM_DEVICE_CPU;
    info->num_devices = 1;
    snprintf(info->device_name, sizeof info->device_name, "host cpu (reference kernels, 1 thread)");
    info->memory_bytes = 0; /* unknown */
    return AGLM_OK;
}

static const aglm_backend_ops tiny_ops = {
    .struct_size = sizeof(aglm_backend_ops),
    .query = tiny_query,
    .supports = tiny_supports,
    .compile = tiny_compile,
    .run = tiny_run,
    .release = tiny_release,
    .profile = tiny_profile,
    .memory = NULL, /* host memory (ABI 1.1; NULL or absent: aglm_host_memory()) */
};

AGLM_DEFINE_PLUGIN(.name = "tiny", .version = "1.0.0", .kind = AGLM_KIND_BACKEND,
                   .summary = "template backend: Add, Mul, Relu and MatMul on f32",
                   .ops = &tiny_ops)
