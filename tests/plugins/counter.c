/* A backend whose results say which build of it ran: compile makes an executable, run fills
 * output 0 with an f32 scalar equal to VERSION. Built twice (counter_v1.so, counter_v2.so) for
 * the replace tests, and once with FAIL_INIT (counter_bad_init.so) as a replacement that fails. */
#include <stdio.h>
#include <stdlib.h>
#include "aglm/aglm.h"

#ifndef VERSION
#error "build with -DVERSION=N"
#endif
#define STR_(x) #x
#define STR(x) STR_(x)

/* The executable's layout belongs to the backend. */
struct aglm_exec {
    int version; /* of the build that compiled it */
};

static aglm_status counter_init(const aglm_host *host, void **state)
{
    (void)state;
#ifdef FAIL_INIT
    (void)host;
    return aglm_error(AGLM_ERR_IO, "counter: cannot open its device");
#else
    host->log(host, AGLM_LOG_DEBUG, "version %d initialised", VERSION);
    return AGLM_OK;
#endif
}

static aglm_status counter_query(void *state, aglm_backend_info *info)
{
    (void)state;
    info->device = AGLM_DEVICE_CPU;
    info->num_devices = 1;
    snprintf(info->device_name, sizeof info->device_name, "counter v%d", VERSION);
    info->memory_bytes = 0;
    return AGLM_OK;
}

static int counter_supports(void *state, const aglm_graph *g, const aglm_node *n)
{
    (void)state, (void)g, (void)n;
    return 1;
}

/* Ignores the graph: the result depends only on which build compiled and runs it. */
static aglm_status counter_compile(void *state, const aglm_graph *g, const aglm_options *opts,
                                   aglm_exec **out)
{
    (void)state, (void)g, (void)opts;
    aglm_exec *e = malloc(sizeof *e);
    if (!e)
        return aglm_error(AGLM_ERR_NOMEM, "counter: out of memory");
    e->version = VERSION;
    *out = e;
    return AGLM_OK;
}

static aglm_status counter_run(void *state, aglm_exec *exec, size_t n_in, const aglm_tensor *inputs,
                               size_t n_out, aglm_tensor *outputs)
{
    (void)state, (void)n_in, (void)inputs;
    if (exec->version != VERSION)
        return aglm_error(AGLM_ERR_STATE, "counter: executable of version %d run by version %d",
                          exec->version, VERSION);
    if (n_out < 1)
        return aglm_error(AGLM_ERR_INVALID, "counter: needs one output, got %zu", n_out);
    aglm_status st = aglm_tensor_alloc(&outputs[0], AGLM_F32, 0, NULL);
    if (st != AGLM_OK)
        return st;
    *(float *)outputs[0].data = (float)VERSION;
    return AGLM_OK;
}

static void counter_release(void *state, aglm_exec *exec)
{
    (void)state;
    free(exec);
}

static const aglm_backend_ops counter_ops = {
    .struct_size = sizeof(aglm_backend_ops),
    .query = counter_query,
    .supports = counter_supports,
    .compile = counter_compile,
    .run = counter_run,
    .release = counter_release,
};

AGLM_DEFINE_PLUGIN(.name = "counter", .version = STR(VERSION) ".0.0", .kind = AGLM_KIND_BACKEND,
                   .summary = "test backend whose output is its version", .init = counter_init,
                   .ops = &counter_ops)
