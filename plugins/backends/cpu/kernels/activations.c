/* Activation functions: Sigmoid, LeakyRelu, Elu, Selu, Celu, ThresholdedRelu, HardSigmoid,
 * HardSwish, Softplus, Softsign, Mish, Gelu (exact and tanh), Shrink, Swish, on every float
 * dtype (f16 and bf16 compute in f32). Attributes arrive through cpu_ew_params and are rounded
 * to the compute type, as the ONNX reference's CastLike of each attribute does. */
#include <stdint.h>
#include <string.h>
#include <tgmath.h>

#include "dispatch.h"
#include "ew_simd.h"

/* exp only ever sees a non-positive argument, so neither branch overflows. */
static inline float sigmoid_f(float x)
{
    if (x >= 0)
        return 1 / (1 + exp(-x));
    float e = exp(x);
    return e / (1 + e);
}

static inline double sigmoid_d(double x)
{
    if (x >= 0)
        return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

/* log(1 + e^x) without overflow for large x. */
static inline float softplus_f(float x)
{
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

static inline double softplus_d(double x)
{
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

#define SIGMOID(x) _Generic((x), float : sigmoid_f, default : sigmoid_d)(x)
#define SOFTPLUS(x) _Generic((x), float : softplus_f, default : softplus_d)(x)
#define ALPHA(C, p) ((C)(p)->alpha)
#define BETA(C, p) ((C)(p)->beta)
#define GAMMA(C, p) ((C)(p)->gamma)

#define a_sigmoid_expr(C, x, p) SIGMOID(x)
#define a_leaky_expr(C, x, p) ((x) < 0 ? ALPHA(C, p) * (x) : (x))
#define a_elu_expr(C, x, p) ((x) < 0 ? ALPHA(C, p) * expm1(x) : (x))
#define a_selu_expr(C, x, p)                                                                       \
    ((x) <= 0 ? GAMMA(C, p) * (ALPHA(C, p) * exp(x) - ALPHA(C, p)) : GAMMA(C, p) * (x))
#define a_celu_expr(C, x, p)                                                                       \
    (((x) > 0 ? (x) : (C)0) + ((x) < 0 ? ALPHA(C, p) * expm1((x) / ALPHA(C, p)) : (C)0))
#define a_thresh_expr(C, x, p) ((x) > ALPHA(C, p) ? (x) : (C)0)
/* The clamp keeps NaN (both comparisons are false), as numpy.clip does. */
#define CLAMP01(C, v) ((v) < 0 ? (C)0 : (v) > 1 ? (C)1 : (v))
#define a_hsig_expr(C, x, p) CLAMP01(C, ALPHA(C, p) * (x) + BETA(C, p))
#define a_hswish_expr(C, x, p) ((x)*CLAMP01(C, (x) / (C)6 + (C)0.5))
#define a_softplus_expr(C, x, p) SOFTPLUS(x)
#define a_softsign_expr(C, x, p) ((x) / ((C)1 + fabs(x)))
#define a_mish_expr(C, x, p) ((x)*tanh(SOFTPLUS(x)))
#define a_gelu_expr(C, x, p) ((C)0.5 * (x) * ((C)1 + erf((x) * (C)0.70710678118654752440)))
#define a_gelut_expr(C, x, p)                                                                      \
    ((C)0.5 * (x) *                                                                                \
     ((C)1 + tanh((C)0.79788456080286535588 * ((x) + (C)0.044715 * (x) * (x) * (x)))))
/* alpha: lambd, beta: bias. */
#define a_shrink_expr(C, x, p)                                                                     \
    ((x) < -ALPHA(C, p) ? (x) + BETA(C, p) : (x) > ALPHA(C, p) ? (x)-BETA(C, p) : (C)0)
#define a_swish_expr(C, x, p) ((x)*SIGMOID(ALPHA(C, p) * (x)))

CPU_LIST_FLOAT(CPU_DEF_UNARY, a_sigmoid)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_leaky)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_elu)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_selu)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_celu)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_thresh)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_hsig)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_hswish)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_softplus)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_softsign)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_mish)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_gelu)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_gelut)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_shrink)
CPU_LIST_FLOAT(CPU_DEF_UNARY, a_swish)

/* f32 rows of ew_simd.h's AVX2 path when it is active, else the loops above. */
#define FAST_F32(OP, EW)                                                                           \
    static void OP##_f32_fast(int64_t n, const void *const *in, const int64_t *s, void *out,       \
                              const cpu_ew_params *p)                                              \
    {                                                                                              \
        if (!cpu_ew_unary_f32(EW, n, in[0], out, (float)p->alpha, (float)p->beta))                 \
            OP##_f32(n, in, s, out, p);                                                            \
    }
FAST_F32(a_sigmoid, CPU_EW_SIGMOID)
FAST_F32(a_hsig, CPU_EW_HSIGMOID)
FAST_F32(a_hswish, CPU_EW_HSWISH)

#define TABLE(NAME, OP)                                                                            \
    static const cpu_row_fn NAME[CPU_NDT] = {CPU_LIST_FLOAT(CPU_LOOP_ENTRY, OP)};
#define TABLE_FAST(NAME, OP)                                                                       \
    static const cpu_row_fn NAME[CPU_NDT] = {[AGLM_F32] = OP##_f32_fast,                           \
                                             CPU_LIST_FLOAT_NOT_F32(CPU_LOOP_ENTRY, OP)};
TABLE_FAST(sigmoid_loops, a_sigmoid)
TABLE(leaky_loops, a_leaky)
TABLE(elu_loops, a_elu)
TABLE(selu_loops, a_selu)
TABLE(celu_loops, a_celu)
TABLE(thresh_loops, a_thresh)
TABLE_FAST(hsig_loops, a_hsig)
TABLE_FAST(hswish_loops, a_hswish)
TABLE(softplus_loops, a_softplus)
TABLE(softsign_loops, a_softsign)
TABLE(mish_loops, a_mish)
TABLE(gelu_loops, a_gelu)
TABLE(gelut_loops, a_gelut)
TABLE(shrink_loops, a_shrink)
TABLE(swish_loops, a_swish)

/* A kernel reading up to three float attributes, with their ONNX defaults ("" for none).
 * Those calling exp, log1p or tanh get the pool from a few thousand elements on, the rest
 * (compares and multiplies) from CPU_EW_GRAIN. */
#define ACT_KERNEL(NAME, LOOPS, A, A_DEF, B, B_DEF, G, G_DEF)                                      \
    ACT_KERNEL_GRAIN(NAME, LOOPS, A, A_DEF, B, B_DEF, G, G_DEF, CPU_EW_GRAIN_COSTLY)
#define ACT_KERNEL_GRAIN(NAME, LOOPS, A, A_DEF, B, B_DEF, G, G_DEF, GRAIN)                         \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,          \
                            size_t n_out, aglm_tensor *out)                                        \
    {                                                                                              \
        (void)n_in;                                                                                \
        (void)n_out;                                                                               \
        cpu_ew_params p = {0};                                                                     \
        p.alpha = aglm_node_get_float(k->node, A, A_DEF);                                          \
        p.beta = aglm_node_get_float(k->node, B, B_DEF);                                           \
        p.gamma = aglm_node_get_float(k->node, G, G_DEF);                                          \
        return cpu_ew_unary_grain(k, LOOPS, in[0], AGLM_UNDEFINED, &out[0], &p, GRAIN);            \
    }

#define NONE ""
ACT_KERNEL(k_sigmoid, sigmoid_loops, NONE, 0, NONE, 0, NONE, 0)
ACT_KERNEL_GRAIN(k_leaky_relu, leaky_loops, "alpha", 0.01f, NONE, 0, NONE, 0, CPU_EW_GRAIN)
ACT_KERNEL(k_elu, elu_loops, "alpha", 1.0f, NONE, 0, NONE, 0)
ACT_KERNEL(k_selu, selu_loops, "alpha", 1.67326319217681884765625f, NONE, 0, "gamma",
           1.05070102214813232421875f)
ACT_KERNEL(k_celu, celu_loops, "alpha", 1.0f, NONE, 0, NONE, 0)
ACT_KERNEL_GRAIN(k_thresholded_relu, thresh_loops, "alpha", 1.0f, NONE, 0, NONE, 0, CPU_EW_GRAIN)
ACT_KERNEL_GRAIN(k_hard_sigmoid, hsig_loops, "alpha", 0.2f, "beta", 0.5f, NONE, 0, CPU_EW_GRAIN)
ACT_KERNEL_GRAIN(k_hard_swish, hswish_loops, NONE, 0, NONE, 0, NONE, 0, CPU_EW_GRAIN)
ACT_KERNEL(k_softplus, softplus_loops, NONE, 0, NONE, 0, NONE, 0)
ACT_KERNEL_GRAIN(k_softsign, softsign_loops, NONE, 0, NONE, 0, NONE, 0, CPU_EW_GRAIN)
ACT_KERNEL(k_mish, mish_loops, NONE, 0, NONE, 0, NONE, 0)
ACT_KERNEL_GRAIN(k_shrink, shrink_loops, "lambd", 0.5f, "bias", 0.0f, NONE, 0, CPU_EW_GRAIN)
ACT_KERNEL(k_swish, swish_loops, "alpha", 1.0f, NONE, 0, NONE, 0)

static aglm_status k_gelu(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const char *approx = aglm_node_get_string(k->node, "approximate", "none");
    if (strcmp(approx, "none") != 0 && strcmp(approx, "tanh") != 0)
        return aglm_error(AGLM_ERR_INVALID, "attribute approximate is '%s'; expected none or tanh",
                          approx);
    return cpu_ew_unary_grain(k, approx[0] == 't' ? gelut_loops : gelu_loops, in[0], AGLM_UNDEFINED,
                              &out[0], NULL, CPU_EW_GRAIN_COSTLY);
}

const cpu_kernel cpu_activation_kernels[] = {
    {"Sigmoid", CPU_M_FLOAT, k_sigmoid},
    {"LeakyRelu", CPU_M_FLOAT, k_leaky_relu},
    {"Elu", CPU_M_FLOAT, k_elu},
    {"Selu", CPU_M_FLOAT, k_selu},
    {"Celu", CPU_M_FLOAT, k_celu},
    {"ThresholdedRelu", CPU_M_FLOAT, k_thresholded_relu},
    {"HardSigmoid", CPU_M_FLOAT, k_hard_sigmoid},
    {"HardSwish", CPU_M_FLOAT, k_hard_swish},
    {"Softplus", CPU_M_FLOAT, k_softplus},
    {"Softsign", CPU_M_FLOAT, k_softsign},
    {"Mish", CPU_M_FLOAT, k_mish},
    {"Gelu", CPU_M_FLOAT, k_gelu},
    {"Shrink", CPU_M_FLOAT, k_shrink},
    {"Swish", CPU_M_FLOAT, k_swish},
    {NULL, 0, NULL},
};
