/* The AVX2 paths of ew_simd.h: 8 floats a step with a scalar tail that computes exactly what
 * the vector lanes do. Compiled with per-function target attributes (like gemm_avx2.c), so the
 * plugin stays baseline x86-64 and only runs these after simd.h picked AVX2. */
#include <math.h>

#include "ew_simd.h"
#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

static int avx2_on(void)
{
    return cpu_simd_active() == CPU_SIMD_AVX2;
}

/* ---- binary ----------------------------------------------------------------------------- */

/* One loop per (op, steps) pair, so the hot loop carries no branch. The scalar tail uses the
 * same single IEEE operation as the lanes, so results match the portable loops exactly. */
#define BIN_LOOPS(NAME, VOP, SOP)                                                                  \
    AVX2 static void NAME(int64_t n, const float *a, int64_t sa, const float *b, int64_t sb,       \
                          float *o)                                                                \
    {                                                                                              \
        int64_t i = 0;                                                                             \
        if (sa && sb) {                                                                            \
            for (; i + 8 <= n; i += 8)                                                             \
                _mm256_storeu_ps(o + i, VOP(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));      \
            for (; i < n; i++)                                                                     \
                o[i] = a[i] SOP b[i];                                                              \
        } else if (sa) {                                                                           \
            const float y = b[0];                                                                  \
            const __m256 vy = _mm256_set1_ps(y);                                                   \
            for (; i + 8 <= n; i += 8)                                                             \
                _mm256_storeu_ps(o + i, VOP(_mm256_loadu_ps(a + i), vy));                          \
            for (; i < n; i++)                                                                     \
                o[i] = a[i] SOP y;                                                                 \
        } else if (sb) {                                                                           \
            const float x = a[0];                                                                  \
            const __m256 vx = _mm256_set1_ps(x);                                                   \
            for (; i + 8 <= n; i += 8)                                                             \
                _mm256_storeu_ps(o + i, VOP(vx, _mm256_loadu_ps(b + i)));                          \
            for (; i < n; i++)                                                                     \
                o[i] = x SOP b[i];                                                                 \
        } else {                                                                                   \
            const float v = a[0] SOP b[0];                                                         \
            for (; i < n; i++)                                                                     \
                o[i] = v;                                                                          \
        }                                                                                          \
    }

BIN_LOOPS(bin_add, _mm256_add_ps, +)
BIN_LOOPS(bin_sub, _mm256_sub_ps, -)
BIN_LOOPS(bin_mul, _mm256_mul_ps, *)
BIN_LOOPS(bin_div, _mm256_div_ps, /)

/* y[i] *= v, in place. */
AVX2 static void un_scale(int64_t n, float *y, float v)
{
    bin_mul(n, y, 1, &v, 0, y);
}

int cpu_ew_binary_f32(cpu_ew_binop op, int64_t n, const float *a, int64_t sa, const float *b,
                      int64_t sb, float *o)
{
    if (!avx2_on())
        return 0;
    switch (op) {
    case CPU_EW_ADD: bin_add(n, a, sa, b, sb, o); return 1;
    case CPU_EW_SUB: bin_sub(n, a, sa, b, sb, o); return 1;
    case CPU_EW_MUL: bin_mul(n, a, sa, b, sb, o); return 1;
    case CPU_EW_DIV: bin_div(n, a, sa, b, sb, o); return 1;
    }
    return 0;
}

/* ---- exp -------------------------------------------------------------------------------- */

/* exp(x) = 2^k * e^r with k = round(x / ln 2), r = x - k ln 2 in [-ln2/2, ln2/2] (ln 2 split in
 * two so r is exact), e^r by Cephes' degree-6 polynomial (about 1 ulp). 2^k is applied as two
 * factors 2^(k/2) and 2^(k - k/2), each a normal float, so results that overflow become inf and
 * those in the subnormal range round once more instead of flushing. x is clamped to [-104, 89]
 * first (exp is 0 and inf beyond), and NaN is put back at the end. */
AVX2 static inline __m256 exp8(__m256 x)
{
    const __m256 hi = _mm256_set1_ps(89.0f), lo = _mm256_set1_ps(-104.0f);
    __m256 xc = _mm256_max_ps(lo, _mm256_min_ps(hi, x));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
    __m256i ki = _mm256_cvtps_epi32(k);
    __m256i k1 = _mm256_srai_epi32(ki, 1), k2 = _mm256_sub_epi32(ki, k1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
    y = _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* ---- unary ------------------------------------------------------------------------------ */

AVX2 static inline __m256 clamp01(__m256 v)
{
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    /* comparisons with NaN are false, so NaN passes as the portable ternaries pass it */
    v = _mm256_blendv_ps(v, zero, _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    return _mm256_blendv_ps(v, one, _mm256_cmp_ps(v, one, _CMP_GT_OQ));
}

AVX2 static inline __m256 unary8(cpu_ew_unop op, __m256 x, __m256 va, __m256 vb)
{
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    switch (op) {
    case CPU_EW_RELU: return _mm256_andnot_ps(_mm256_cmp_ps(x, zero, _CMP_LT_OQ), x);
    case CPU_EW_SIGMOID: {
        /* e = exp(-|x|) never overflows; 1 / (1 + e) for x >= 0, e / (1 + e) below */
        __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
        __m256 e = exp8(_mm256_sub_ps(zero, ax));
        __m256 d = _mm256_add_ps(one, e);
        __m256 neg = _mm256_cmp_ps(x, zero, _CMP_LT_OQ);
        __m256 y = _mm256_div_ps(_mm256_blendv_ps(one, e, neg), d);
        return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    }
    case CPU_EW_HSIGMOID: return clamp01(_mm256_add_ps(_mm256_mul_ps(va, x), vb));
    case CPU_EW_HSWISH:
        return _mm256_mul_ps(x, clamp01(_mm256_add_ps(_mm256_div_ps(x, _mm256_set1_ps(6.0f)),
                                                      _mm256_set1_ps(0.5f))));
    case CPU_EW_EXP: return exp8(x);
    }
    return x;
}

/* One specialised copy per op (op is a constant after inlining). The tail goes through the
 * same lanes on a padded copy, so it matches the vector body exactly. */
#define UNARY_LOOP(NAME, OP)                                                                       \
    AVX2 static void NAME(int64_t n, const float *x, float *y, float alpha, float beta)            \
    {                                                                                              \
        const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);                        \
        int64_t i = 0;                                                                             \
        for (; i + 8 <= n; i += 8)                                                                 \
            _mm256_storeu_ps(y + i, unary8(OP, _mm256_loadu_ps(x + i), va, vb));                   \
        if (i < n) {                                                                               \
            float buf[8] = {0};                                                                    \
            for (int64_t j = i; j < n; j++)                                                        \
                buf[j - i] = x[j];                                                                 \
            _mm256_storeu_ps(buf, unary8(OP, _mm256_loadu_ps(buf), va, vb));                       \
            for (int64_t j = i; j < n; j++)                                                        \
                y[j] = buf[j - i];                                                                 \
        }                                                                                          \
    }

UNARY_LOOP(un_relu, CPU_EW_RELU)
UNARY_LOOP(un_sigmoid, CPU_EW_SIGMOID)
UNARY_LOOP(un_hsigmoid, CPU_EW_HSIGMOID)
UNARY_LOOP(un_hswish, CPU_EW_HSWISH)
UNARY_LOOP(un_exp, CPU_EW_EXP)

int cpu_ew_unary_f32(cpu_ew_unop op, int64_t n, const float *x, float *y, float alpha, float beta)
{
    if (!avx2_on())
        return 0;
    switch (op) {
    case CPU_EW_RELU: un_relu(n, x, y, alpha, beta); return 1;
    case CPU_EW_SIGMOID: un_sigmoid(n, x, y, alpha, beta); return 1;
    case CPU_EW_HSIGMOID: un_hsigmoid(n, x, y, alpha, beta); return 1;
    case CPU_EW_HSWISH: un_hswish(n, x, y, alpha, beta); return 1;
    case CPU_EW_EXP: un_exp(n, x, y, alpha, beta); return 1;
    }
    return 0;
}

/* ---- reductions ------------------------------------------------------------------------- */

/* Four double accumulators of four lanes: 16 floats a step, each widened exactly. */
AVX2 static double sum_avx2(const float *x, int64_t n)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm_loadu_ps(x + i)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)));
        s2 = _mm256_add_pd(s2, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 8)));
        s3 = _mm256_add_pd(s3, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 12)));
    }
    __m256d s = _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3));
    double lanes[4];
    _mm256_storeu_pd(lanes, s);
    double t = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < n; i++)
        t += x[i];
    return t;
}

int cpu_ew_sum_f32(const float *x, int64_t n, double *sum)
{
    if (!avx2_on())
        return 0;
    *sum = sum_avx2(x, n);
    return 1;
}

/* Two double accumulators of four lanes: x widened exactly, d = x - mean, d * d summed. */
AVX2 static double sqdev_avx2(const float *x, int64_t n, double mean)
{
    const __m256d vm = _mm256_set1_pd(mean);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), vm);
        __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), vm);
        s0 = _mm256_add_pd(s0, _mm256_mul_pd(d0, d0));
        s1 = _mm256_add_pd(s1, _mm256_mul_pd(d1, d1));
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
    double t = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < n; i++) {
        double d = (double)x[i] - mean;
        t += d * d;
    }
    return t;
}

int cpu_ew_sqdev_f32(const float *x, int64_t n, double mean, double *sum)
{
    if (!avx2_on())
        return 0;
    *sum = sqdev_avx2(x, n, mean);
    return 1;
}

/* max_ps on the lanes plus a sticky "saw a NaN" mask; with a NaN the scalar rescan finds the
 * first one, whose payload the portable loop would return. */
AVX2 static int max_avx2(const float *x, int64_t n, float *out)
{
    __m256 m0 = _mm256_set1_ps(x[0]), m1 = m0, nan = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        m0 = _mm256_max_ps(m0, a);
        m1 = _mm256_max_ps(m1, b);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
    }
    if (_mm256_movemask_ps(nan))
        return 0;
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_max_ps(m0, m1));
    float best = lanes[0];
    for (int l = 1; l < 8; l++)
        best = lanes[l] > best ? lanes[l] : best;
    for (; i < n; i++) {
        if (isnan(x[i]))
            return 0;
        best = x[i] > best ? x[i] : best;
    }
    *out = best;
    return 1;
}

int cpu_ew_max_f32(const float *x, int64_t n, float *max)
{
    if (!avx2_on() || n < 1)
        return 0;
    /* a NaN anywhere: the caller's scalar loop returns the first one */
    return max_avx2(x, n, max);
}

/* ---- softmax ------------------------------------------------------------------------------ */

/* Exponentials of x - max written to y and summed in double, 8 at a time; the tail through a
 * padded vector (its padding lanes hold -inf, whose exp adds 0). */
AVX2 static double exp_sum_avx2(const float *x, float *y, int64_t n, float mx)
{
    const __m256 vm = _mm256_set1_ps(mx);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(y + i, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    if (i < n) {
        float buf[8];
        for (int l = 0; l < 8; l++)
            buf[l] = i + l < n ? x[i + l] : -INFINITY;
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(buf), vm));
        _mm256_storeu_ps(buf, e);
        for (int64_t j = i; j < n; j++)
            y[j] = buf[j - i];
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

int cpu_ew_softmax_f32(const float *x, float *y, int64_t n)
{
    float mx;
    if (!avx2_on() || n < 1 || !max_avx2(x, n, &mx) || isinf(mx))
        return 0;
    double sum = exp_sum_avx2(x, y, n, mx);
    float inv = (float)(1.0 / sum);
    un_scale(n, y, inv);
    return 1;
}

#else

int cpu_ew_softmax_f32(const float *x, float *y, int64_t n)
{
    (void)x, (void)y, (void)n;
    return 0;
}

int cpu_ew_binary_f32(cpu_ew_binop op, int64_t n, const float *a, int64_t sa, const float *b,
                      int64_t sb, float *o)
{
    (void)op, (void)n, (void)a, (void)sa, (void)b, (void)sb, (void)o;
    return 0;
}

int cpu_ew_unary_f32(cpu_ew_unop op, int64_t n, const float *x, float *y, float alpha, float beta)
{
    (void)op, (void)n, (void)x, (void)y, (void)alpha, (void)beta;
    return 0;
}

int cpu_ew_sum_f32(const float *x, int64_t n, double *sum)
{
    (void)x, (void)n, (void)sum;
    return 0;
}

int cpu_ew_max_f32(const float *x, int64_t n, float *max)
{
    (void)x, (void)n, (void)max;
    return 0;
}

int cpu_ew_sqdev_f32(const float *x, int64_t n, double mean, double *sum)
{
    (void)x, (void)n, (void)mean, (void)sum;
    return 0;
}

#endif
