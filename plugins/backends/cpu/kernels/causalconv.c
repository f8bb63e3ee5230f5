/* CausalConvWithState (opset 27): a depthwise 1-D convolution over [batch, channels, length]
 * that sees only the past. The input is prefixed with the carried state (past_state, or zeros)
 * of kernel - 1 steps; the output has the input's length, optionally plus bias and through SiLU;
 * present_state is the last kernel - 1 steps of the prefixed input, for the next call.
 * f16 and bf16 are computed in f32 and rounded back; f32 and f64 in double. */
#include <math.h>
#include <string.h>

#include "kernels.h"

#define CC_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))

static aglm_status k_causal_conv(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                 size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *w = in[1];
    const aglm_tensor *b = n_in > 2 ? in[2] : NULL, *past = n_in > 3 ? in[3] : NULL;
    char sx[64], sw[64], sp[64];
    aglm_status st = cpu_check_dtype(k, x, "input", CC_FLOATS);
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(x, "input", w, "weight");
    if (st == AGLM_OK && b)
        st = cpu_check_same_dtype(x, "input", b, "bias");
    if (st == AGLM_OK && past)
        st = cpu_check_same_dtype(x, "input", past, "past_state");
    if (st != AGLM_OK)
        return st;
    if (x->rank != 3 || w->rank != 3 || w->dims[0] != x->dims[1] || w->dims[1] != 1 ||
        w->dims[2] < 1)
        return aglm_error(AGLM_ERR_SHAPE, "input %s and weight %s must be [B, C, L] and [C, 1, K]",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(w, sw, sizeof sw));
    int64_t batch = x->dims[0], ch = x->dims[1], len = x->dims[2], kern = w->dims[2];
    int64_t hist = kern - 1;
    if (b && (b->rank != 1 || b->dims[0] != ch))
        return aglm_error(AGLM_ERR_SHAPE, "bias %s must be [%lld]", cpu_shape(b, sp, sizeof sp),
                          (long long)ch);
    if (past &&
        (past->rank != 3 || past->dims[0] != batch || past->dims[1] != ch || past->dims[2] != hist))
        return aglm_error(AGLM_ERR_SHAPE, "past_state %s must be [%lld, %lld, %lld]",
                          cpu_shape(past, sp, sizeof sp), (long long)batch, (long long)ch,
                          (long long)hist);
    const char *act = aglm_node_get_string(k->node, "activation", "none");
    int silu = strcmp(act, "silu") == 0 || strcmp(act, "swish") == 0;
    if (!silu && strcmp(act, "none") != 0 && act[0])
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute activation = '%s'; expected none, silu or "
                          "swish",
                          act);
    int low = x->dtype == AGLM_F16 || x->dtype == AGLM_BF16;
    int64_t sdims[3] = {batch, ch, hist};
    if ((st = cpu_alloc(k, &out[0], x->dtype, 3, x->dims)) != AGLM_OK)
        return st;
    if (n_out > 1 && (st = cpu_alloc(k, &out[1], x->dtype, 3, sdims)) != AGLM_OK)
        return st;
    const void *xd = x->data;
    aglm_dtype dt = x->dtype;
    for (int64_t n = 0; n < batch; n++)
        for (int64_t c = 0; c < ch; c++) {
            int64_t row = (n * ch + c) * len, prow = (n * ch + c) * hist;
            /* element t of the prefixed input: the state for t < hist, then the input */
#define PADDED(t)                                                                                  \
    ((t) < hist ? (past ? cpu_get_f(past->data, dt, prow + (t)) : 0.0)                             \
                : cpu_get_f(xd, dt, row + (t)-hist))
            for (int64_t t = 0; t < len; t++) {
                double acc = b ? cpu_get_f(b->data, dt, c) : 0.0;
                for (int64_t j = 0; j < kern; j++) {
                    double term = cpu_get_f(w->data, dt, c * kern + j) * PADDED(t + j);
                    acc = low ? (double)(float)(acc + term) : acc + term;
                }
                if (silu)
                    acc = acc / (1.0 + exp(-acc));
                cpu_set_f(out[0].data, dt, row + t, acc);
            }
            for (int64_t j = 0; n_out > 1 && j < hist; j++)
                cpu_set_f(out[1].data, dt, prow + j, PADDED(len + j));
#undef PADDED
        }
    return AGLM_OK;
}

const cpu_kernel cpu_causalconv_kernels[] = {
    {"CausalConvWithState", CC_FLOATS, k_causal_conv},
    {NULL, 0, NULL},
};
