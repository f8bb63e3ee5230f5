/* The vectorised f32 rows of the cpu backend (kernels/ew_simd.h), compiled into this test with
 * simd.c: with the portable path selected they decline (so the plain C kernels run), and with
 * AVX2 (where this CPU has it) they match scalar references on lengths around the 8-lane width,
 * every step pattern, in place (out == in), and on NaN, infinities, signed zeros and the
 * overflow and subnormal ends of exp. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "ew_simd.h"
#include "simd.h"

static const int64_t lengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1001};
enum { NLEN = sizeof lengths / sizeof lengths[0], MAXN = 1001 };

static uint32_t rng = 7;

static float rand_f(void)
{
    rng = rng * 1664525u + 1013904223u;
    return ((float)(rng >> 8) / (float)(1u << 23) - 1.0f) * 8.0f;
}

static int have_avx2(void)
{
    return cpu_simd_available(CPU_SIMD_AVX2);
}

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static float scalar_bin(cpu_ew_binop op, float x, float y)
{
    switch (op) {
    case CPU_EW_ADD: return x + y;
    case CPU_EW_SUB: return x - y;
    case CPU_EW_MUL: return x * y;
    default: return x / y;
    }
}

static void test_portable_declines(void **state)
{
    (void)state;
    cpu_simd_select(CPU_SIMD_PORTABLE);
    float a[9] = {1}, b[9] = {2}, o[9] = {0};
    double s = -1;
    float m = -1;
    assert_int_equal(cpu_ew_binary_f32(CPU_EW_ADD, 9, a, 1, b, 1, o), 0);
    assert_int_equal(cpu_ew_unary_f32(CPU_EW_SIGMOID, 9, a, o, 0, 0), 0);
    assert_int_equal(cpu_ew_sum_f32(a, 9, &s), 0);
    assert_int_equal(cpu_ew_max_f32(a, 9, &m), 0);
    assert_int_equal(cpu_ew_sqdev_f32(a, 9, 0.5, &s), 0);
    assert_int_equal(cpu_ew_softmax_f32(a, o, 9), 0);
    /* declining leaves the output alone, for the caller's loop to fill */
    assert_true(o[0] == 0 && s == -1 && m == -1);
}

/* Every op, length and step pattern, out of place and in place on either operand. */
static void test_binary(void **state)
{
    (void)state;
    if (!have_avx2())
        skip();
    cpu_simd_select(CPU_SIMD_AVX2);
    static float a[MAXN], b[MAXN], o[MAXN], want[MAXN];
    for (int op = CPU_EW_ADD; op <= CPU_EW_DIV; op++)
        for (int l = 0; l < NLEN; l++)
            for (int pat = 0; pat < 4; pat++)
                for (int alias = 0; alias < 3; alias++) {
                    int64_t n = lengths[l], sa = pat & 1, sb = (pat >> 1) & 1;
                    /* in place needs the aliased operand to step with the output */
                    if ((alias == 1 && !sa) || (alias == 2 && !sb))
                        continue;
                    for (int64_t i = 0; i < MAXN; i++) {
                        a[i] = rand_f();
                        b[i] = rand_f();
                    }
                    a[0] = n > 3 ? NAN : a[0];
                    for (int64_t i = 0; i < n; i++)
                        want[i] = scalar_bin((cpu_ew_binop)op, a[i * sa], b[i * sb]);
                    float *out = alias == 1 ? a : alias == 2 ? b : o;
                    assert_int_equal(cpu_ew_binary_f32((cpu_ew_binop)op, n, a, sa, b, sb, out), 1);
                    for (int64_t i = 0; i < n; i++)
                        if (!same_bits(out[i], want[i]) && !(isnan(out[i]) && isnan(want[i])))
                            fail_msg(
                                "op %d n %lld steps %lld,%lld alias %d: [%lld] = %.9g, want %.9g",
                                op, (long long)n, (long long)sa, (long long)sb, alias, (long long)i,
                                out[i], want[i]);
                }
}

static double ref_unary(cpu_ew_unop op, float xf, float alpha, float beta)
{
    double x = xf;
    switch (op) {
    case CPU_EW_RELU: return x < 0 ? 0 : x;
    case CPU_EW_SIGMOID: return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
    case CPU_EW_HSIGMOID: {
        double v = (double)(alpha * xf + beta);
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }
    case CPU_EW_HSWISH: {
        double v = (double)(xf / 6.0f + 0.5f);
        return x * (v < 0 ? 0 : v > 1 ? 1 : v);
    }
    default: return exp(x);
    }
}

/* Within 2 float ulps of the double reference (an absolute 2 ulps of the smallest normal for
 * subnormal results); NaN where the reference is NaN. */
static void check_unary_value(cpu_ew_unop op, float x, float got, float alpha, float beta)
{
    double want = ref_unary(op, x, alpha, beta);
    if (isnan(want)) {
        if (!isnan(got))
            fail_msg("op %d x %.9g: got %.9g, want NaN", op, x, got);
        return;
    }
    /* past the largest float the result must be inf; within rounding of it, inf is fine */
    if (isinf(got) && got > 0 && want >= 3.4028230e38)
        return;
    if (want > 3.40282357e38) {
        if (!(isinf(got) && got > 0))
            fail_msg("op %d x %.9g: got %.9g, want inf", op, x, got);
        return;
    }
    double tol = fmax(fabs(want) * 2.4e-7, 2.4e-45);
    if (!(fabs((double)got - want) <= tol))
        fail_msg("op %d x %.9g: got %.9g, want %.9g", op, x, got, want);
}

static const float specials[] = {0.0f,    -0.0f,   1e-8f,    -1e-8f,    0.5f,   -0.5f,  3.0f,
                                 -3.0f,   6.0f,    -6.0f,    20.0f,     -20.0f, 88.5f,  88.72f,
                                 88.8f,   89.0f,   100.0f,   -87.0f,    -87.4f, -95.0f, -103.0f,
                                 -104.5f, -150.0f, INFINITY, -INFINITY, NAN,    1e30f,  -1e30f};
enum { NSPEC = sizeof specials / sizeof specials[0] };

static void test_unary(void **state)
{
    (void)state;
    if (!have_avx2())
        skip();
    cpu_simd_select(CPU_SIMD_AVX2);
    static float x[MAXN], y[MAXN];
    const float alpha = 0.2f, beta = 0.5f;
    for (int op = CPU_EW_RELU; op <= CPU_EW_EXP; op++) {
        for (int l = 0; l < NLEN; l++) {
            int64_t n = lengths[l];
            for (int64_t i = 0; i < n; i++)
                x[i] = i < NSPEC ? specials[(i + (int64_t)l) % NSPEC] : rand_f() * 4;
            for (int alias = 0; alias < 2; alias++) {
                float *out = alias ? x : y;
                float in[MAXN];
                memcpy(in, x, sizeof in);
                assert_int_equal(cpu_ew_unary_f32((cpu_ew_unop)op, n, x, out, alpha, beta), 1);
                for (int64_t i = 0; i < n; i++)
                    check_unary_value((cpu_ew_unop)op, in[i], out[i], alpha, beta);
                memcpy(x, in, sizeof in);
            }
        }
    }
    /* Relu keeps NaN and -0 as the portable x < 0 ? 0 : x does */
    float r[3] = {NAN, -0.0f, -2.0f}, ry[3];
    assert_int_equal(cpu_ew_unary_f32(CPU_EW_RELU, 3, r, ry, 0, 0), 1);
    assert_true(isnan(ry[0]) && ry[1] == 0 && signbit(ry[1]) && ry[2] == 0 && !signbit(ry[2]));
}

/* exp on a dense sweep of [-110, 95], through the overflow and the subnormal ends. */
static void test_exp_sweep(void **state)
{
    (void)state;
    if (!have_avx2())
        skip();
    cpu_simd_select(CPU_SIMD_AVX2);
    enum { N = 200000 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = -110.0f + 205.0f * (float)i / (float)N;
    assert_int_equal(cpu_ew_unary_f32(CPU_EW_EXP, N, x, y, 0, 0), 1);
    for (int i = 0; i < N; i++)
        check_unary_value(CPU_EW_EXP, x[i], y[i], 0, 0);
    float e[4] = {-200.0f, 89.0f, INFINITY, -INFINITY}, ey[4];
    assert_int_equal(cpu_ew_unary_f32(CPU_EW_EXP, 4, e, ey, 0, 0), 1);
    assert_true(ey[0] == 0 && isinf(ey[1]) && isinf(ey[2]) && ey[3] == 0);
}

static void test_reductions(void **state)
{
    (void)state;
    if (!have_avx2())
        skip();
    cpu_simd_select(CPU_SIMD_AVX2);
    static float x[MAXN];
    for (int l = 0; l < NLEN; l++) {
        int64_t n = lengths[l];
        double want = 0;
        float best = 0;
        for (int64_t i = 0; i < n; i++) {
            x[i] = rand_f() * 1000;
            want += x[i];
            best = i == 0 || x[i] > best ? x[i] : best;
        }
        double s;
        assert_int_equal(cpu_ew_sum_f32(x, n, &s), 1);
        assert_true(fabs(s - want) <= 1e-9 * (fabs(want) + 1));
        /* squared deviations from a mean, as a variance wants them */
        double mean = n ? want / (double)n : 0, q = 0, got_q;
        for (int64_t i = 0; i < n; i++)
            q += ((double)x[i] - mean) * ((double)x[i] - mean);
        assert_int_equal(cpu_ew_sqdev_f32(x, n, mean, &got_q), 1);
        assert_true(fabs(got_q - q) <= 1e-9 * (q + 1));
        if (n == 0)
            continue;
        float m;
        assert_int_equal(cpu_ew_max_f32(x, n, &m), 1);
        assert_true(m == best);
        /* a NaN anywhere (body or tail) hands the plane back to the scalar loop */
        x[n - 1] = NAN;
        assert_int_equal(cpu_ew_max_f32(x, n, &m), 0);
        x[n - 1] = 0;
        x[0] = NAN;
        assert_int_equal(cpu_ew_max_f32(x, n, &m), 0);
    }
}

/* Softmax lines against a double reference, in and out of place; NaN and infinite maxima are
 * declined for the portable loop. */
static void test_softmax(void **state)
{
    (void)state;
    if (!have_avx2())
        skip();
    cpu_simd_select(CPU_SIMD_AVX2);
    static float x[MAXN], y[MAXN], in[MAXN];
    for (int l = 1; l < NLEN; l++) {
        int64_t n = lengths[l];
        for (int alias = 0; alias < 2; alias++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t i = 0; i < n; i++) {
                in[i] = x[i] = rand_f() * 10;
                mx = x[i] > mx ? x[i] : mx;
            }
            /* x - max rounds to float in the kernel (as in the portable loop): so here too */
            for (int64_t i = 0; i < n; i++)
                sum += exp((double)(in[i] - (float)mx));
            float *out = alias ? x : y;
            assert_int_equal(cpu_ew_softmax_f32(x, out, n), 1);
            for (int64_t i = 0; i < n; i++) {
                double want = exp((double)(in[i] - (float)mx)) / sum;
                if (!(fabs(out[i] - want) <= 1e-6 * want + 1e-30))
                    fail_msg("n %lld alias %d: [%lld] = %.9g, want %.9g", (long long)n, alias,
                             (long long)i, out[i], want);
            }
        }
        x[n / 2] = NAN;
        assert_int_equal(cpu_ew_softmax_f32(x, y, n), 0);
        x[n / 2] = INFINITY;
        assert_int_equal(cpu_ew_softmax_f32(x, y, n), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_portable_declines),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_unary),
        cmocka_unit_test(test_exp_sweep),
        cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_softmax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
