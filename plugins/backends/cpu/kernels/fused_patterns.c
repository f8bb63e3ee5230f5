/* aglm.LayerNorm and aglm.Gelu (docs/extension-ops.md): ONNX's LayerNormalization and Gelu under
 * the aglm domain, which the fuse pass creates from their written-out patterns in graphs whose
 * opset predates them. They run on the backend's ONNX kernels (norm.c, activations.c), found
 * through the kernel table; LayerNorm's optional scale defaults to ones. */
#include <stdlib.h>

#include "kernels.h"

static aglm_status run_onnx(const char *op, const cpu_kctx *k, size_t n_in,
                            const aglm_tensor *const *in, size_t n_out, aglm_tensor *out)
{
    const cpu_kernel *base = cpu_kernel_find(op, "");
    if (!base)
        return aglm_error(AGLM_ERR_INTERNAL, "no %s kernel to build on", op);
    return base->run(k, n_in, in, n_out, out);
}

static aglm_status k_layer_norm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    if (n_in > 1 && in[1])
        return run_onnx("LayerNormalization", k, n_in, in, n_out, out);
    /* no scale: ones over the normalised dims (LayerNormalization requires one) */
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", -1), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    aglm_tensor ones = {0};
    if ((st = cpu_alloc(k, &ones, x->dtype, x->rank - axis, x->dims + axis)) != AGLM_OK)
        return st;
    for (int64_t i = 0; i < aglm_tensor_numel(&ones); i++)
        cpu_set_f(ones.data, ones.dtype, i, 1.0);
    const aglm_tensor *args[3] = {x, &ones, n_in > 2 ? in[2] : NULL};
    st = run_onnx("LayerNormalization", k, 3, args, n_out, out);
    aglm_tensor_free(&ones);
    return st;
}

static aglm_status k_gelu(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    return run_onnx("Gelu", k, n_in, in, n_out, out);
}

const cpu_kernel cpu_aglm_pattern_kernels[] = {
    {AGLM_OP_LAYER_NORM, CPU_FLOATS, k_layer_norm},
    {AGLM_OP_GELU, CPU_FLOATS, k_gelu},
    {NULL, 0, NULL},
};
