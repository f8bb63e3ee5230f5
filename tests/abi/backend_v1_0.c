/* A backend built against the ABI 1.0 headers (tests/abi/v1_0, a frozen copy of the headers
 * 1.0 shipped), as a third party's binary from before 1.1 would be: its ops table ends at
 * `profile`, it knows nothing of the runtime layer, and it lends its output a buffer the 1.0
 * way, by flag bits on the descriptor. test_abi_1_0.c loads it into a 1.1 host and runs it.
 *
 * It runs Relu on f32 (and refuses everything else). Its output descriptor first comes with a
 * buffer lent the 1.0 way, by the flags RESERVED (2) and NO_ZERO (4), which 1.1 no longer reads:
 * the tensor then gets fresh memory of its own, and the results are the same. */
#include <stdlib.h>
#include <string.h>

#include "aglm/aglm.h"

#if AGLM_ABI_MAJOR != 1 || AGLM_ABI_MINOR != 0
#error "this fixture must see the ABI 1.0 headers"
#endif

typedef struct abi10_exec {
    aglm_graph *graph;
} abi10_exec;

static aglm_status query(void *state, aglm_backend_info *info)
{
    (void)state;
    info->device = AGLM_DEVICE_CPU;
    info->num_devices = 1;
    strcpy(info->device_name, "abi 1.0 fixture");
    info->memory_bytes = 0;
    return AGLM_OK;
}

static int supports(void *state, const aglm_graph *g, const aglm_node *n)
{
    (void)state;
    (void)g;
    return strcmp(aglm_node_op(n), "Relu") == 0 && aglm_node_domain(n)[0] == '\0';
}

static aglm_status compile(void *state, const aglm_graph *g, const aglm_options *opts,
                           aglm_exec **out)
{
    (void)opts;
    for (size_t i = 0; i < aglm_graph_num_nodes(g); i++)
        if (!supports(state, g, aglm_graph_node(g, i)))
            return aglm_error(AGLM_ERR_UNSUPPORTED, "backend abi10 cannot run node '%s' (%s)",
                              aglm_node_name(aglm_graph_node(g, i)),
                              aglm_node_op(aglm_graph_node(g, i)));
    if (aglm_graph_num_nodes(g) != 1 || aglm_graph_num_inputs(g) != 1)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "backend abi10 runs one Relu node");
    abi10_exec *x = calloc(1, sizeof *x);
    if (!x || !(x->graph = aglm_graph_clone(g))) {
        free(x);
        return aglm_error(AGLM_ERR_NOMEM, "backend abi10: out of memory");
    }
    *out = (aglm_exec *)x;
    return AGLM_OK;
}

static aglm_status run(void *state, aglm_exec *exec, size_t n_in, const aglm_tensor *inputs,
                       size_t n_out, aglm_tensor *outputs)
{
    (void)state;
    (void)exec;
    if (n_in != 1 || n_out != 1 || inputs[0].dtype != AGLM_F32)
        return aglm_error(AGLM_ERR_INVALID, "backend abi10: one f32 input, one output");
    size_t bytes = aglm_tensor_nbytes(&inputs[0]);
    unsigned char *lent = malloc(bytes ? bytes : 1);
    if (!lent)
        return aglm_error(AGLM_ERR_NOMEM, "backend abi10: out of memory");
    memset(lent, 0x7f, bytes);
    aglm_tensor y;
    int64_t cap = (int64_t)bytes;
    aglm_tensor_wrap(&y, AGLM_U8, 1, &cap, lent);
    y.flags = AGLM_TENSOR_RESERVED | AGLM_TENSOR_NO_ZERO;
    aglm_status st = aglm_tensor_alloc(&y, AGLM_F32, inputs[0].rank, inputs[0].dims);
    if (st == AGLM_OK) {
        const float *x = inputs[0].data;
        float *v = y.data;
        for (int64_t i = 0; i < aglm_tensor_numel(&y); i++)
            v[i] = x[i] > 0 ? x[i] : 0;
        outputs[0] = y; /* fresh memory it owns: 1.1 does not lend by flags */
    }
    free(lent);
    return st;
}

static void release(void *state, aglm_exec *exec)
{
    (void)state;
    abi10_exec *x = (abi10_exec *)exec;
    if (x)
        aglm_graph_free(x->graph);
    free(x);
}

static aglm_status profile(void *state, aglm_exec *exec, aglm_profile *out)
{
    (void)state;
    (void)exec;
    (void)out;
    return aglm_error(AGLM_ERR_UNSUPPORTED, "backend abi10 does not profile");
}

static const aglm_backend_ops ops = {
    .struct_size = sizeof(aglm_backend_ops),
    .query = query,
    .supports = supports,
    .compile = compile,
    .run = run,
    .release = release,
    .profile = profile,
};

AGLM_DEFINE_PLUGIN(.name = "abi10", .version = "1.0.0", .kind = AGLM_KIND_BACKEND,
                   .summary = "a backend built against the ABI 1.0 headers", .ops = &ops)
