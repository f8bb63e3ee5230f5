/* Element-wise math: Relu, Neg, Abs, Sign, Exp, Log, Sqrt, Reciprocal, Erf, Tanh, the
 * trigonometric and hyperbolic functions and their inverses, Floor, Ceil, Round, IsNaN, IsInf and
 * Clip. Float ops run in the type's own precision (f16 and bf16 in f32, through <tgmath.h>);
 * integer ops wrap as two's complement (Neg and Abs of the minimum stay the minimum). */
#include <float.h>
#include <stdint.h>
#include <tgmath.h>

#include "dispatch.h"
#include "ew_simd.h"

/* NaN passes through Relu and Clip, as NumPy's maximum/clip do: comparisons with NaN are false. */
#define u_relu_expr(C, x, p) ((x) < 0 ? (C)0 : (x))
#define u_neg_expr(C, x, p) (-(x))
#define u_negw_expr(C, x, p) ((C)(0 - (uint64_t)(x)))
#define u_abs_expr(C, x, p) (fabs(x))
#define u_absw_expr(C, x, p) ((x) < 0 ? (C)(0 - (uint64_t)(x)) : (x))
#define u_absu_expr(C, x, p) (x)
#define u_sign_expr(C, x, p) ((x) > 0 ? (C)1 : (x) < 0 ? (C)-1 : (x))
#define u_signu_expr(C, x, p) ((C)((x) > 0))
#define u_exp_expr(C, x, p) (exp(x))
#define u_log_expr(C, x, p) (log(x))
#define u_sqrt_expr(C, x, p) (sqrt(x))
#define u_recip_expr(C, x, p) ((C)1 / (x))
#define u_erf_expr(C, x, p) (erf(x))
#define u_tanh_expr(C, x, p) (tanh(x))
#define u_sin_expr(C, x, p) (sin(x))
#define u_cos_expr(C, x, p) (cos(x))
#define u_tan_expr(C, x, p) (tan(x))
#define u_asin_expr(C, x, p) (asin(x))
#define u_acos_expr(C, x, p) (acos(x))
#define u_atan_expr(C, x, p) (atan(x))
#define u_sinh_expr(C, x, p) (sinh(x))
#define u_cosh_expr(C, x, p) (cosh(x))
#define u_asinh_expr(C, x, p) (asinh(x))
#define u_acosh_expr(C, x, p) (acosh(x))
#define u_atanh_expr(C, x, p) (atanh(x))
#define u_floor_expr(C, x, p) (floor(x))
#define u_ceil_expr(C, x, p) (ceil(x))
/* rint rounds halves to even in the default rounding mode, as ONNX Round asks. */
#define u_round_expr(C, x, p) (rint(x))
#define u_isnan_expr(C, x, p) (isnan(x))
/* flag_a: detect_negative, flag_b: detect_positive. */
#define u_isinf_expr(C, x, p) (isinf(x) && ((x) > 0 ? (p)->flag_b : (p)->flag_a))

CPU_LIST_FLOAT(CPU_DEF_UNARY, u_relu)
CPU_LIST_SINT(CPU_DEF_UNARY, u_relu)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_neg)
CPU_LIST_SINT(CPU_DEF_UNARY, u_negw)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_abs)
CPU_LIST_SINT(CPU_DEF_UNARY, u_absw)
CPU_LIST_UINT(CPU_DEF_UNARY, u_absu)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_sign)
CPU_LIST_SINT(CPU_DEF_UNARY, u_sign)
CPU_LIST_UINT(CPU_DEF_UNARY, u_signu)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_exp)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_log)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_sqrt)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_recip)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_erf)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_tanh)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_sin)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_cos)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_tan)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_asin)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_acos)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_atan)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_sinh)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_cosh)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_asinh)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_acosh)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_atanh)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_floor)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_ceil)
CPU_LIST_FLOAT(CPU_DEF_UNARY, u_round)
CPU_LIST_FLOAT(CPU_DEF_UNARY_PRED, u_isnan)
CPU_LIST_FLOAT(CPU_DEF_UNARY_PRED, u_isinf)

/* Clip reads its bounds (elements of the input's dtype) once per run; an absent bound does not
 * clamp. min is applied before max, so min > max gives max everywhere, as ONNX specifies. */
#define DEF_CLIP(OP, SFX, S, C, LD, ST, DT)                                                        \
    static void OP##_##SFX(int64_t n, const void *const *in, const int64_t *s, void *out,          \
                           const cpu_ew_params *p)                                                 \
    {                                                                                              \
        const S *a = in[0]; /* no restrict: out may be in[0] */                                    \
        S *o = out;                                                                                \
        (void)s;                                                                                   \
        const int has_lo = p->lo != NULL, has_hi = p->hi != NULL;                                  \
        const C lo = has_lo ? LD(*(const S *)p->lo) : (C)0;                                        \
        const C hi = has_hi ? LD(*(const S *)p->hi) : (C)0;                                        \
        for (int64_t i = 0; i < n; i++) {                                                          \
            C x = LD(a[i]);                                                                        \
            if (has_lo && x < lo)                                                                  \
                x = lo;                                                                            \
            if (has_hi && x > hi)                                                                  \
                x = hi;                                                                            \
            o[i] = ST(x);                                                                          \
        }                                                                                          \
    }

CPU_LIST_NUMERIC(DEF_CLIP, u_clip)

/* f32 rows of ew_simd.h's AVX2 path when it is active, else the loops above. */
#define FAST_F32(OP, EW)                                                                           \
    static void OP##_f32_fast(int64_t n, const void *const *in, const int64_t *s, void *out,       \
                              const cpu_ew_params *p)                                              \
    {                                                                                              \
        if (!cpu_ew_unary_f32(EW, n, in[0], out, 0.0f, 0.0f))                                      \
            OP##_f32(n, in, s, out, p);                                                            \
    }
FAST_F32(u_relu, CPU_EW_RELU)
FAST_F32(u_exp, CPU_EW_EXP)

#define TABLE(NAME, ...) static const cpu_row_fn NAME[CPU_NDT] = {__VA_ARGS__};
TABLE(relu_loops, [AGLM_F32] = u_relu_f32_fast,
      CPU_LIST_FLOAT_NOT_F32(CPU_LOOP_ENTRY, u_relu) CPU_LIST_SINT(CPU_LOOP_ENTRY, u_relu))
TABLE(neg_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_neg) CPU_LIST_SINT(CPU_LOOP_ENTRY, u_negw))
TABLE(abs_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_abs) CPU_LIST_SINT(CPU_LOOP_ENTRY, u_absw)
                     CPU_LIST_UINT(CPU_LOOP_ENTRY, u_absu))
TABLE(sign_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_sign) CPU_LIST_SINT(CPU_LOOP_ENTRY, u_sign)
                      CPU_LIST_UINT(CPU_LOOP_ENTRY, u_signu))
TABLE(exp_loops, [AGLM_F32] = u_exp_f32_fast, CPU_LIST_FLOAT_NOT_F32(CPU_LOOP_ENTRY, u_exp))
TABLE(log_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_log))
TABLE(sqrt_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_sqrt))
TABLE(recip_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_recip))
TABLE(erf_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_erf))
TABLE(tanh_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_tanh))
TABLE(sin_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_sin))
TABLE(cos_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_cos))
TABLE(tan_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_tan))
TABLE(asin_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_asin))
TABLE(acos_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_acos))
TABLE(atan_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_atan))
TABLE(sinh_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_sinh))
TABLE(cosh_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_cosh))
TABLE(asinh_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_asinh))
TABLE(acosh_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_acosh))
TABLE(atanh_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_atanh))
TABLE(floor_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_floor))
TABLE(ceil_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_ceil))
TABLE(round_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_round))
TABLE(isnan_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_isnan))
TABLE(isinf_loops, CPU_LIST_FLOAT(CPU_LOOP_ENTRY, u_isinf))
TABLE(clip_loops, CPU_LIST_NUMERIC(CPU_LOOP_ENTRY, u_clip))

/* GRAIN: CPU_EW_GRAIN for a few cycles an element, CPU_EW_GRAIN_COSTLY for a libm call. */
#define UNARY_KERNEL(NAME, LOOPS, OUT_DT, GRAIN)                                                   \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,          \
                            size_t n_out, aglm_tensor *out)                                        \
    {                                                                                              \
        (void)n_in;                                                                                \
        (void)n_out;                                                                               \
        return cpu_ew_unary_grain(k, LOOPS, in[0], OUT_DT, &out[0], NULL, GRAIN);                  \
    }
#define CHEAP CPU_EW_GRAIN
#define COSTLY CPU_EW_GRAIN_COSTLY

UNARY_KERNEL(k_relu, relu_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_neg, neg_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_abs, abs_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_sign, sign_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_exp, exp_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_log, log_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_sqrt, sqrt_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_recip, recip_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_erf, erf_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_tanh, tanh_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_sin, sin_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_cos, cos_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_tan, tan_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_asin, asin_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_acos, acos_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_atan, atan_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_sinh, sinh_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_cosh, cosh_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_asinh, asinh_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_acosh, acosh_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_atanh, atanh_loops, AGLM_UNDEFINED, COSTLY)
UNARY_KERNEL(k_floor, floor_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_ceil, ceil_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_round, round_loops, AGLM_UNDEFINED, CHEAP)
UNARY_KERNEL(k_isnan, isnan_loops, AGLM_BOOL, CHEAP)

static aglm_status k_isinf(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                           size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    cpu_ew_params p = {.flag_a = aglm_node_get_int(k->node, "detect_negative", 1) != 0,
                       .flag_b = aglm_node_get_int(k->node, "detect_positive", 1) != 0};
    return cpu_ew_unary(k, isinf_loops, in[0], AGLM_BOOL, &out[0], &p);
}

/* A Clip bound given as an input (opset 11+): one element of the input's dtype. */
static aglm_status clip_bound(const aglm_tensor *b, const aglm_tensor *x, const char *what)
{
    aglm_status st = cpu_check_same_dtype(b, what, x, "input X");
    if (st != AGLM_OK)
        return st;
    if (aglm_tensor_numel(b) != 1) {
        char s[64];
        return aglm_error(AGLM_ERR_SHAPE, "%s must be a scalar, got shape %s", what,
                          cpu_shape(b, s, sizeof s));
    }
    return AGLM_OK;
}

static aglm_status k_clip(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *x = in[0];
    cpu_ew_params p = {0};
    /* Before opset 11 the bounds are float attributes, converted here to the input's dtype. */
    union {
        float f;
        double d;
        uint16_t h;
    } lo_buf, hi_buf;
    if (k->opset < 11) {
        if (!aglm_dtype_is_float(x->dtype))
            return aglm_error(AGLM_ERR_UNSUPPORTED,
                              "input X has dtype %s; Clip before opset 11 "
                              "takes float types",
                              aglm_dtype_name(x->dtype));
        cpu_set_f(&lo_buf, x->dtype, 0, aglm_node_get_float(k->node, "min", -FLT_MAX));
        cpu_set_f(&hi_buf, x->dtype, 0, aglm_node_get_float(k->node, "max", FLT_MAX));
        p.lo = &lo_buf;
        p.hi = &hi_buf;
    } else {
        aglm_status st = AGLM_OK;
        if (n_in > 1 && in[1] && (st = clip_bound(in[1], x, "input min")) == AGLM_OK)
            p.lo = in[1]->data;
        if (st == AGLM_OK && n_in > 2 && in[2] &&
            (st = clip_bound(in[2], x, "input max")) == AGLM_OK)
            p.hi = in[2]->data;
        if (st != AGLM_OK)
            return st;
    }
    return cpu_ew_unary(k, clip_loops, x, AGLM_UNDEFINED, &out[0], &p);
}

#define F CPU_M_FLOAT
const cpu_kernel cpu_unary_kernels[] = {
    {"Relu", F | CPU_M_SINT, k_relu},
    {"Neg", F | CPU_M_SINT, k_neg},
    {"Abs", CPU_M_NUMERIC, k_abs},
    {"Sign", CPU_M_NUMERIC, k_sign},
    {"Exp", F, k_exp},
    {"Log", F, k_log},
    {"Sqrt", F, k_sqrt},
    {"Reciprocal", F, k_recip},
    {"Erf", F, k_erf},
    {"Tanh", F, k_tanh},
    {"Sin", F, k_sin},
    {"Cos", F, k_cos},
    {"Tan", F, k_tan},
    {"Asin", F, k_asin},
    {"Acos", F, k_acos},
    {"Atan", F, k_atan},
    {"Sinh", F, k_sinh},
    {"Cosh", F, k_cosh},
    {"Asinh", F, k_asinh},
    {"Acosh", F, k_acosh},
    {"Atanh", F, k_atanh},
    {"Floor", F, k_floor},
    {"Ceil", F, k_ceil},
    {"Round", F, k_round},
    {"IsNaN", F, k_isnan},
    {"IsInf", F, k_isinf},
    {"Clip", CPU_M_NUMERIC, k_clip},
    {NULL, 0, NULL},
};
