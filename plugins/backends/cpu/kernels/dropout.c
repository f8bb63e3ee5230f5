/* Dropout. In inference (no training_mode, or a ratio of 0) it is the identity, with a mask of
 * ones: bool from opset 10, the data's dtype before. Real dropping needs the reference's random
 * numbers, which no seed reproduces, so a training run with a positive ratio is refused. Before
 * opset 7 an `is_test` attribute chose the mode; like ONNX Runtime, we always run inference
 * there (it defaulted to training, which no deployed model means). */
#include <string.h>

#include "kernels.h"

static aglm_status k_dropout(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int training = 0;
    double ratio = aglm_node_get_float(k->node, "ratio", 0.5f);
    if (k->opset >= 12) {
        if (n_in > 1 && in[1]) {
            if (!aglm_dtype_is_float(in[1]->dtype) || aglm_tensor_numel(in[1]) != 1)
                return aglm_error(AGLM_ERR_TYPE, "input ratio must be one float value");
            ratio = aglm_tensor_get_f64(in[1], 0);
        }
        if (n_in > 2 && in[2]) {
            if (in[2]->dtype != AGLM_BOOL || aglm_tensor_numel(in[2]) != 1)
                return aglm_error(AGLM_ERR_TYPE, "input training_mode must be one bool value");
            training = ((const unsigned char *)in[2]->data)[0] != 0;
        }
    }
    if (training && ratio != 0.0)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "training_mode with ratio %g: random dropout is "
                          "not supported (only inference, or a ratio of 0)",
                          ratio);
    aglm_status st = aglm_tensor_copy(&out[0], x);
    if (st != AGLM_OK || n_out < 2)
        return st;
    aglm_dtype mdt = k->opset >= 10 ? AGLM_BOOL : x->dtype;
    if ((st = cpu_alloc(k, &out[1], mdt, x->rank, x->dims)) != AGLM_OK)
        return st;
    if (mdt == AGLM_BOOL) {
        memset(out[1].data, 1, aglm_tensor_nbytes(&out[1]));
    } else {
        for (int64_t i = 0; i < aglm_tensor_numel(&out[1]); i++)
            aglm_tensor_set_f64(&out[1], i, 1.0);
    }
    return AGLM_OK;
}

const cpu_kernel cpu_dropout_kernels[] = {
    {"Dropout", CPU_FLOATS | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16), k_dropout},
    {NULL, 0, NULL},
};
