/* Element-wise unary ops: Relu, LeakyRelu, Sigmoid, Tanh, Exp, Sqrt, Neg, Abs, Erf, Clip. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "kernels.h"

/* Parameters some ops take (LeakyRelu's alpha, Clip's bounds), read once per run. */
typedef struct unary_params {
    double alpha;
    double lo, hi;
    int64_t ilo, ihi;
} unary_params;

typedef void (*unary_loop)(int64_t n, const void *in, void *out, const unary_params *p);

typedef struct unary_job {
    unary_loop loop;
    size_t esize;
    const char *in;
    char *out;
    const unary_params *p;
} unary_job;

static void unary_range(void *ctx, size_t begin, size_t end, int worker)
{
    const unary_job *j = ctx;
    j->loop((int64_t)(end - begin), j->in + begin * j->esize, j->out + begin * j->esize, j->p);
}

#define UNARY_LOOP(NAME, T, EXPR)                                                              \
    static void NAME(int64_t n, const void *vin, void *vout, const unary_params *p)           \
    {                                                                                          \
        const T *restrict in = vin;                                                            \
        T *restrict out = vout;                                                                \
        (void)p;                                                                               \
        for (int64_t i = 0; i < n; i++) {                                                      \
            T x = in[i];                                                                       \
            out[i] = EXPR;                                                                     \
        }                                                                                      \
    }

/* Stable for large |x|: exp only ever sees a non-positive argument, so it cannot overflow. */
static inline float sigmoid_f32(float x)
{
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static inline double sigmoid_f64(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* NaN passes through Relu and Clip, as NumPy's maximum/clip do: comparisons with NaN are false. */
UNARY_LOOP(relu_f32, float, x < 0.0f ? 0.0f : x)
UNARY_LOOP(relu_f64, double, x < 0.0 ? 0.0 : x)
UNARY_LOOP(relu_i32, int32_t, x < 0 ? 0 : x)
UNARY_LOOP(relu_i64, int64_t, x < 0 ? 0 : x)
UNARY_LOOP(leaky_f32, float, x < 0.0f ? (float)p->alpha * x : x)
UNARY_LOOP(leaky_f64, double, x < 0.0 ? p->alpha * x : x)
UNARY_LOOP(sigmoid_f32_loop, float, sigmoid_f32(x))
UNARY_LOOP(sigmoid_f64_loop, double, sigmoid_f64(x))
UNARY_LOOP(tanh_f32, float, tanhf(x))
UNARY_LOOP(tanh_f64, double, tanh(x))
UNARY_LOOP(exp_f32, float, expf(x))
UNARY_LOOP(exp_f64, double, exp(x))
UNARY_LOOP(sqrt_f32, float, sqrtf(x))
UNARY_LOOP(sqrt_f64, double, sqrt(x))
UNARY_LOOP(erf_f32, float, erff(x))
UNARY_LOOP(erf_f64, double, erf(x))
UNARY_LOOP(neg_f32, float, -x)
UNARY_LOOP(neg_f64, double, -x)
/* Integer negation and abs wrap (INT_MIN stays INT_MIN), as two's complement hardware does. */
UNARY_LOOP(neg_i32, int32_t, (int32_t)(0u - (uint32_t)x))
UNARY_LOOP(neg_i64, int64_t, (int64_t)(UINT64_C(0) - (uint64_t)x))
UNARY_LOOP(abs_f32, float, fabsf(x))
UNARY_LOOP(abs_f64, double, fabs(x))
UNARY_LOOP(abs_i32, int32_t, x < 0 ? (int32_t)(0u - (uint32_t)x) : x)
UNARY_LOOP(abs_i64, int64_t, x < 0 ? (int64_t)(UINT64_C(0) - (uint64_t)x) : x)
UNARY_LOOP(clip_f32, float, x < (float)p->lo ? (float)p->lo : (x > (float)p->hi ? (float)p->hi : x))
UNARY_LOOP(clip_f64, double, x < p->lo ? p->lo : (x > p->hi ? p->hi : x))
UNARY_LOOP(clip_i32, int32_t, x < p->ilo ? (int32_t)p->ilo : (x > p->ihi ? (int32_t)p->ihi : x))
UNARY_LOOP(clip_i64, int64_t, x < p->ilo ? p->ilo : (x > p->ihi ? p->ihi : x))

/* Loops per dtype: f32, f64, i32, i64 (NULL where the op does not take it). */
typedef struct unary_op {
    unary_loop f32, f64, i32, i64;
} unary_op;

static aglm_status run_unary(const cpu_kctx *k, const unary_op *op, const aglm_tensor *x,
                             aglm_tensor *y, const unary_params *p)
{
    unary_loop loop = NULL;
    uint32_t mask = 0;
    mask |= op->f32 ? CPU_DT(AGLM_F32) : 0;
    mask |= op->f64 ? CPU_DT(AGLM_F64) : 0;
    mask |= op->i32 ? CPU_DT(AGLM_I32) : 0;
    mask |= op->i64 ? CPU_DT(AGLM_I64) : 0;
    aglm_status st = cpu_check_dtype(k, x, "input X", mask);
    if (st != AGLM_OK)
        return st;
    switch (x->dtype) {
    case AGLM_F32: loop = op->f32; break;
    case AGLM_F64: loop = op->f64; break;
    case AGLM_I32: loop = op->i32; break;
    default: loop = op->i64; break;
    }
    st = aglm_tensor_alloc(y, x->dtype, x->rank, x->dims);
    if (st != AGLM_OK)
        return st;
    unary_job job = {loop, aglm_dtype_size(x->dtype), x->data, y->data, p};
    cpu_parallel_for(k->pool, (size_t)aglm_tensor_numel(x), 1u << 13, unary_range, &job);
    return AGLM_OK;
}

#define UNARY_KERNEL(NAME, F32, F64, I32, I64)                                                 \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,     \
                            size_t n_out, aglm_tensor *out)                                    \
    {                                                                                          \
        static const unary_op op = {F32, F64, I32, I64};                                       \
        unary_params p = {0};                                                                  \
        return run_unary(k, &op, in[0], &out[0], &p);                                          \
    }

UNARY_KERNEL(k_relu, relu_f32, relu_f64, relu_i32, relu_i64)
UNARY_KERNEL(k_sigmoid, sigmoid_f32_loop, sigmoid_f64_loop, NULL, NULL)
UNARY_KERNEL(k_tanh, tanh_f32, tanh_f64, NULL, NULL)
UNARY_KERNEL(k_exp, exp_f32, exp_f64, NULL, NULL)
UNARY_KERNEL(k_sqrt, sqrt_f32, sqrt_f64, NULL, NULL)
UNARY_KERNEL(k_erf, erf_f32, erf_f64, NULL, NULL)
UNARY_KERNEL(k_neg, neg_f32, neg_f64, neg_i32, neg_i64)
UNARY_KERNEL(k_abs, abs_f32, abs_f64, abs_i32, abs_i64)

static aglm_status k_leaky_relu(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    static const unary_op op = {leaky_f32, leaky_f64, NULL, NULL};
    unary_params p = {.alpha = aglm_node_get_float(k->node, "alpha", 0.01f)};
    return run_unary(k, &op, in[0], &out[0], &p);
}

/* A Clip bound given as an input (opset 11+): a one-element tensor of the input's dtype. */
static aglm_status clip_bound(const aglm_tensor *b, const aglm_tensor *x, const char *what,
                              double *f, int64_t *i)
{
    aglm_status st = cpu_check_same_dtype(b, what, x, "input X");
    if (st != AGLM_OK)
        return st;
    if (aglm_tensor_numel(b) != 1) {
        char s[64];
        return aglm_error(AGLM_ERR_SHAPE, "%s must be a scalar, got shape %s", what,
                          cpu_shape(b, s, sizeof s));
    }
    switch (b->dtype) {
    case AGLM_F32: *f = *(const float *)b->data; break;
    case AGLM_F64: *f = *(const double *)b->data; break;
    case AGLM_I32: *i = *(const int32_t *)b->data; break;
    default: *i = *(const int64_t *)b->data; break;
    }
    return AGLM_OK;
}

static aglm_status k_clip(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    static const unary_op op = {clip_f32, clip_f64, clip_i32, clip_i64};
    const aglm_tensor *x = in[0];
    unary_params p = {.lo = -INFINITY, .hi = INFINITY, .ilo = INT64_MIN, .ihi = INT64_MAX};
    if (k->opset < 11) {
        p.lo = aglm_node_get_float(k->node, "min", -FLT_MAX);
        p.hi = aglm_node_get_float(k->node, "max", FLT_MAX);
    } else {
        aglm_status st = AGLM_OK;
        if (n_in > 1 && in[1])
            st = clip_bound(in[1], x, "input min", &p.lo, &p.ilo);
        if (st == AGLM_OK && n_in > 2 && in[2])
            st = clip_bound(in[2], x, "input max", &p.hi, &p.ihi);
        if (st != AGLM_OK)
            return st;
    }
    return run_unary(k, &op, x, &out[0], &p);
}

const cpu_kernel cpu_unary_kernels[] = {
    {"Relu", 1, 1, 1, CPU_NUMERIC, k_relu},
    {"LeakyRelu", 1, 1, 1, CPU_FLOATS, k_leaky_relu},
    {"Sigmoid", 1, 1, 1, CPU_FLOATS, k_sigmoid},
    {"Tanh", 1, 1, 1, CPU_FLOATS, k_tanh},
    {"Exp", 1, 1, 1, CPU_FLOATS, k_exp},
    {"Sqrt", 1, 1, 1, CPU_FLOATS, k_sqrt},
    {"Erf", 1, 1, 1, CPU_FLOATS, k_erf},
    {"Neg", 1, 1, 1, CPU_NUMERIC, k_neg},
    {"Abs", 1, 1, 1, CPU_NUMERIC, k_abs},
    {"Clip", 1, 3, 1, CPU_NUMERIC, k_clip},
    {NULL, 0, 0, 0, 0, NULL},
};
