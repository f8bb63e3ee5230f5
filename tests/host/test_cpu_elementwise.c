/* Element-wise ops of the backend under test: broadcasting arithmetic over dtypes, the unary math
 * and activation ops, Clip, Cast, CastLike and BitCast, against references computed here or worked
 * out by hand from the ONNX docs. (test_cpu_ew_dtypes.c covers the integer and bool ops.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

/* Element of `t` that NumPy broadcasting pairs with flat output index i of shape (rank, dims). */
static double bcast_get(const aglm_tensor *t, int rank, const int64_t *dims, int64_t i)
{
    int64_t off = 0, stride = 1;
    for (int d = rank - 1; d >= 0; d--) {
        int64_t idx = i % dims[d];
        i /= dims[d];
        int td = d - (rank - t->rank);
        if (td >= 0) {
            off += (t->dims[td] == 1 ? 0 : idx) * stride;
            stride *= t->dims[td];
        }
    }
    return aglm_tensor_get_f64(t, off);
}

static double apply(const char *op, double a, double b, aglm_dtype dt)
{
    if (!strcmp(op, "Add"))
        return a + b;
    if (!strcmp(op, "Sub"))
        return a - b;
    if (!strcmp(op, "Mul"))
        return a * b;
    if (aglm_dtype_is_int(dt))
        return trunc(a / b);
    return a / b;
}

static void check_binary(backend_fx *f, const char *op, aglm_dtype dt, int ra, const int64_t *da,
                         int rb, const int64_t *db, int rank, const int64_t *dout)
{
    aglm_tensor a = tensor_of(dt, ra, da, NULL), b = tensor_of(dt, rb, db, NULL);
    for (int64_t i = 0; i < aglm_tensor_numel(&a); i++)
        aglm_tensor_set_f64(&a, i,
                            (double)((i * 7) % 23) - 11.0 + (aglm_dtype_is_float(dt) ? 0.25 : 0));
    for (int64_t i = 0; i < aglm_tensor_numel(&b); i++) {
        double v = (double)((i * 5) % 13) - 6.0;
        aglm_tensor_set_f64(&b, i, v == 0 ? 3 : v); /* no zero divisors */
    }
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_tensor y;
    run_op(f, op_graph(op, 14, 2, ins, NULL, 1, NULL), 2, ins, NULL, 1, &y);
    aglm_tensor want = tensor_of(dt, rank, dout, NULL);
    for (int64_t i = 0; i < aglm_tensor_numel(&want); i++)
        aglm_tensor_set_f64(
            &want, i, apply(op, bcast_get(&a, rank, dout, i), bcast_get(&b, rank, dout, i), dt));
    assert_close(&y, &want, 1e-6, 1e-6);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

static void test_binary_broadcasting(void **state)
{
    backend_fx *f = *state;
    const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    aglm_dtype dts[] = {AGLM_F32, AGLM_F64, AGLM_I32, AGLM_I64};
    for (size_t o = 0; o < 4; o++)
        for (size_t t = 0; t < 4; t++) {
            /* same shape, scalar on either side, trailing and middle broadcast, both ways */
            check_binary(f, ops[o], dts[t], 2, (int64_t[]){3, 4}, 2, (int64_t[]){3, 4}, 2,
                         (int64_t[]){3, 4});
            check_binary(f, ops[o], dts[t], 3, (int64_t[]){2, 3, 4}, 0, NULL, 3,
                         (int64_t[]){2, 3, 4});
            check_binary(f, ops[o], dts[t], 0, NULL, 2, (int64_t[]){2, 5}, 2, (int64_t[]){2, 5});
            check_binary(f, ops[o], dts[t], 3, (int64_t[]){2, 3, 4}, 1, (int64_t[]){4}, 3,
                         (int64_t[]){2, 3, 4});
            check_binary(f, ops[o], dts[t], 3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){3, 1}, 3,
                         (int64_t[]){2, 3, 4});
            check_binary(f, ops[o], dts[t], 4, (int64_t[]){2, 1, 3, 1}, 3, (int64_t[]){4, 1, 5}, 4,
                         (int64_t[]){2, 4, 3, 5});
        }
    /* big enough to be split over threads, with a broadcast row */
    check_binary(f, "Add", AGLM_F32, 2, (int64_t[]){300, 257}, 1, (int64_t[]){257}, 2,
                 (int64_t[]){300, 257});
    check_binary(f, "Mul", AGLM_F32, 3, (int64_t[]){64, 33, 40}, 3, (int64_t[]){64, 1, 40}, 3,
                 (int64_t[]){64, 33, 40});
    /* f32 rows of every op around the 8-lane width: per-channel scale [N,C,1,1] and bias [C,1,1]
     * against [N,C,H,W] both ways round, odd planes, a scalar on each side, and same shape */
    for (size_t o = 0; o < 4; o++) {
        check_binary(f, ops[o], AGLM_F32, 4, (int64_t[]){2, 3, 5, 7}, 4, (int64_t[]){2, 3, 1, 1}, 4,
                     (int64_t[]){2, 3, 5, 7});
        check_binary(f, ops[o], AGLM_F32, 3, (int64_t[]){5, 1, 1}, 4, (int64_t[]){1, 5, 3, 3}, 4,
                     (int64_t[]){1, 5, 3, 3});
        check_binary(f, ops[o], AGLM_F32, 4, (int64_t[]){1, 4, 17, 9}, 0, NULL, 4,
                     (int64_t[]){1, 4, 17, 9});
        check_binary(f, ops[o], AGLM_F32, 0, NULL, 1, (int64_t[]){15}, 1, (int64_t[]){15});
        check_binary(f, ops[o], AGLM_F32, 2, (int64_t[]){7, 33}, 2, (int64_t[]){7, 33}, 2,
                     (int64_t[]){7, 33});
        check_binary(f, ops[o], AGLM_F32, 4, (int64_t[]){1, 96, 40, 40}, 4,
                     (int64_t[]){1, 96, 1, 1}, 4, (int64_t[]){1, 96, 40, 40});
    }
}

static void test_binary_errors(void **state)
{
    backend_fx *f = *state;
    /* shapes that do not broadcast */
    aglm_tensor a = tensor_random(2, (int64_t[]){2, 3}, 1), b = tensor_random(1, (int64_t[]){4}, 2);
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_graph *g = op_graph("Add", 14, 2, ins, NULL, 1, NULL);
    aglm_tensor y;
    assert_int_equal(compile_run(f, g, NULL, 2, ins, NULL, 1, &y), AGLM_ERR_SHAPE);
    if (!strstr(aglm_last_error(), "'node'") || !strstr(aglm_last_error(), "[2,3]") ||
        !strstr(aglm_last_error(), "[4]"))
        fail_msg("unexpected message: %s", aglm_last_error());
    aglm_graph_free(g);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);

    /* integer division by zero is refused, not a crash */
    aglm_tensor n = tensor_of(AGLM_I32, 1, (int64_t[]){3}, (const double[]){7, -7, 8});
    aglm_tensor d = tensor_of(AGLM_I32, 1, (int64_t[]){3}, (const double[]){2, 2, 0});
    ins[0] = &n;
    ins[1] = &d;
    g = op_graph("Div", 14, 2, ins, NULL, 1, NULL);
    assert_int_equal(compile_run(f, g, NULL, 2, ins, NULL, 1, &y), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "division by zero"));
    aglm_graph_free(g);
    /* and integer division truncates toward zero */
    aglm_tensor_set_f64(&d, 2, -3);
    run_op(f, op_graph("Div", 14, 2, ins, NULL, 1, NULL), 2, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){3, -3, -2});
    aglm_tensor_free(&y);
    aglm_tensor_free(&n);
    aglm_tensor_free(&d);
}

static double ref_unary(const char *op, double x)
{
    if (!strcmp(op, "Relu"))
        return x > 0 ? x : 0;
    if (!strcmp(op, "Sigmoid"))
        return 1.0 / (1.0 + exp(-x));
    if (!strcmp(op, "Tanh"))
        return tanh(x);
    if (!strcmp(op, "Exp"))
        return exp(x);
    if (!strcmp(op, "Sqrt"))
        return sqrt(x);
    if (!strcmp(op, "Neg"))
        return -x;
    if (!strcmp(op, "Abs"))
        return fabs(x);
    if (!strcmp(op, "Erf"))
        return erf(x);
    if (!strcmp(op, "LeakyRelu"))
        return x >= 0 ? x : 0.01 * x;
    return NAN;
}

static void test_unary_ops(void **state)
{
    backend_fx *f = *state;
    const char *ops[] = {"Relu", "Sigmoid", "Tanh", "Exp",      "Sqrt",
                         "Neg",  "Abs",     "Erf",  "LeakyRelu"};
    /* 15 values (less than two 8-lane vectors) and 3 x 37 (whole vectors and a tail), over
     * [-50, 50] for the larger: exp's and sigmoid's ranges well past 1 */
    for (int big = 0; big < 2; big++) {
        int64_t d[2] = {3, big ? 37 : 5}, count = d[0] * d[1];
        float v[111];
        for (int i = 0; i < count; i++)
            v[i] = big ? (float)(i - 55) * 0.9f : (float)(i - 7) * 0.37f;
        aglm_tensor x = tensor_f32(2, d, v);
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            const aglm_tensor *ins[1] = {&x};
            aglm_tensor y;
            run_op(f, op_graph(ops[o], 14, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
            aglm_tensor want = tensor_f32(2, d, NULL);
            for (int i = 0; i < count; i++)
                ((float *)want.data)[i] = (float)ref_unary(ops[o], v[i]);
            assert_close(&y, &want, 1e-6, 1e-5);
            aglm_tensor_free(&y);
            aglm_tensor_free(&want);
        }
        aglm_tensor_free(&x);
    }

    /* LeakyRelu's alpha, and Relu/Neg/Abs on integers */
    aglm_tensor x = tensor_f32(1, (int64_t[]){3}, (const float[]){-2, 0, 3});
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("LeakyRelu", 14, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_float(n, "alpha", 0.5f), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){-1, 0, 3});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    x = tensor_of(AGLM_I64, 1, (int64_t[]){3}, (const double[]){-2, 0, 3});
    run_op(f, op_graph("Relu", 14, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){0, 0, 3});
    aglm_tensor_free(&y);
    run_op(f, op_graph("Abs", 14, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){2, 0, 3});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* Sigmoid stays finite and exact at the extremes, where 1 / (1 + exp(-x)) computed naively in
 * f32 overflows exp for x < -88. */
static void test_sigmoid_extremes(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_f32(1, (int64_t[]){6}, (const float[]){-1000, -100, -20, 0, 20, 1000});
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor y;
    run_op(f, op_graph("Sigmoid", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    const float *p = y.data;
    for (int i = 0; i < 6; i++)
        assert_false(isnan(p[i]) || isinf(p[i]));
    assert_float_equal(p[0], 0.0, 1e-30);
    assert_float_equal(p[1], 3.720076e-44, 1e-44);
    assert_float_equal(p[2], 2.0611537e-09, 1e-15);
    assert_float_equal(p[3], 0.5, 0);
    assert_float_equal(p[4], 1.0, 1e-7);
    assert_float_equal(p[5], 1.0, 0);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* Runs `op` (opset) on one f32 input x with float attributes names[i] = vals[i]. */
static aglm_tensor act(backend_fx *f, const char *op, int64_t opset, const aglm_tensor *x,
                       size_t n_attrs, const char *const *names, const float *vals)
{
    const aglm_tensor *ins[1] = {x};
    aglm_node *n;
    aglm_graph *g = op_graph(op, opset, 1, ins, NULL, 1, &n);
    for (size_t i = 0; i < n_attrs; i++)
        assert_int_equal(aglm_node_set_float(n, names[i], vals[i]), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    return y;
}

/* The activation functions, against the ONNX docs' examples worked out by hand. */
static void test_activations(void **state)
{
    backend_fx *f = *state;
    int64_t d3[1] = {3};
    aglm_tensor x = tensor_f32(1, d3, (const float[]){-1, 0, 1});
    struct {
        const char *op;
        size_t n;
        const char *names[2];
        float vals[2];
        double want[3];
    } cases[] = {
        {"Elu", 1, {"alpha"}, {2}, {-1.2642411176571153, 0, 1}},
        {"Elu", 0, {NULL}, {0}, {-0.6321205588285577, 0, 1}},
        {"Selu", 2, {"alpha", "gamma"}, {2, 3}, {-3.7927234, 0, 3}},
        {"Selu", 0, {NULL}, {0}, {-1.1113307378125628, 0, 1.0507009873554805}},
        {"Celu", 1, {"alpha"}, {2}, {-0.7869386805747332, 0, 1}},
        {"HardSigmoid", 2, {"alpha", "beta"}, {0.5f, 0.6f}, {0.1, 0.6, 1}},
        {"HardSigmoid", 0, {NULL}, {0}, {0.3, 0.5, 0.7}},
        {"HardSwish", 0, {NULL}, {0}, {-1.0 / 3, 0, 2.0 / 3}},
        {"Softplus", 0, {NULL}, {0}, {0.31326168751822286, 0.6931471805599453, 1.3132616875182228}},
        {"Softsign", 0, {NULL}, {0}, {-0.5, 0, 0.5}},
        {"ThresholdedRelu", 1, {"alpha"}, {0.5f}, {0, 0, 1}},
        {"ThresholdedRelu", 0, {NULL}, {0}, {0, 0, 0}},
        {"Mish", 0, {NULL}, {0}, {-0.30340146137410895, 0, 0.8650983882673103}},
        {"Gelu", 0, {NULL}, {0}, {-0.15865525393145707, 0, 0.8413447460685429}},
        {"Shrink", 2, {"lambd", "bias"}, {0.5f, 0.25f}, {-0.75, 0, 0.75}},
        {"Shrink", 1, {"lambd"}, {1.5f}, {0, 0, 0}},
        {"Swish", 1, {"alpha"}, {2}, {-0.11920292202211755, 0, 0.8807970779778823}},
        {"Sign", 0, {NULL}, {0}, {-1, 0, 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        aglm_tensor y = act(f, cases[i].op, 22, &x, cases[i].n, cases[i].names, cases[i].vals);
        aglm_tensor want = tensor_of(AGLM_F32, 1, d3, cases[i].want);
        assert_close(&y, &want, 1e-6, 1e-5);
        aglm_tensor_free(&want);
        aglm_tensor_free(&y);
    }
    /* Gelu's tanh approximation, which differs from the exact form in the 4th digit */
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("Gelu", 20, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_string(n, "approximate", "tanh", 4), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 1, d3, (const double[]){-0.15880800939172324, 0, 0.8411919906082768});
    aglm_tensor_free(&y);
    g = op_graph("Gelu", 20, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_string(n, "approximate", "erf", 3), AGLM_OK);
    assert_int_equal(compile_run(f, g, NULL, 1, ins, NULL, 1, &y), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "'erf'"));
    aglm_graph_free(g);
    aglm_tensor_free(&x);

    /* f16 and bf16 inputs compute in f32 and round back */
    x = tensor_of(AGLM_BF16, 1, d3, (const double[]){-1, 0, 1});
    y = act(f, "Celu", 22, &x, 1, (const char *[]){"alpha"}, (const float[]){2});
    aglm_tensor want = tensor_of(AGLM_BF16, 1, d3, (const double[]){-0.7869386805747332, 0, 1});
    assert_close(&y, &want, 0, 0);
    aglm_tensor_free(&want);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* Math functions on every float dtype; Round halves to even (the ONNX Round example). */
static void test_math(void **state)
{
    backend_fx *f = *state;
    int64_t d15[1] = {15};
    const double rv[15] = {0.1, 0.5,  0.9,  1.2,  1.5,  1.8,  2.3, 2.5,
                           2.7, -1.1, -1.5, -1.9, -2.2, -2.5, -2.8};
    aglm_dtype dts[] = {AGLM_F32, AGLM_F64, AGLM_F16, AGLM_BF16};
    for (size_t t = 0; t < 4; t++) {
        aglm_tensor x = tensor_of(dts[t], 1, d15, rv);
        const aglm_tensor *ins[1] = {&x};
        aglm_tensor y;
        run_op(f, op_graph("Round", 22, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
        aglm_tensor want = tensor_of(
            dts[t], 1, d15, (const double[]){0, 0, 1, 1, 2, 2, 2, 2, 3, -1, -2, -2, -2, -2, -3});
        assert_close(&y, &want, 0, 0);
        aglm_tensor_free(&want);
        aglm_tensor_free(&y);
        aglm_tensor_free(&x);
    }
    const char *ops[] = {"Log",  "Sin",   "Cos",   "Tan",   "Asin", "Acos", "Atan", "Sinh",
                         "Cosh", "Asinh", "Atanh", "Floor", "Ceil", "Exp",  "Sqrt", "Reciprocal"};
    double (*ref[])(double) = {log,  sin,   cos,   tan,   asin, acos, atan, sinh,
                               cosh, asinh, atanh, floor, ceil, exp,  sqrt, NULL};
    int64_t d4[1] = {4};
    const double v[4] = {0.125, 0.25, 0.5, 0.875};
    for (size_t t = 0; t < 4; t++)
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            aglm_tensor x = tensor_of(dts[t], 1, d4, v), y;
            const aglm_tensor *ins[1] = {&x};
            run_op(f, op_graph(ops[o], 22, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
            aglm_tensor want = tensor_of(AGLM_F64, 1, d4, NULL);
            for (int i = 0; i < 4; i++)
                aglm_tensor_set_f64(&want, i, ref[o] ? ref[o](v[i]) : 1 / v[i]);
            aglm_tensor wt = tensor_of(dts[t], 1, d4, NULL);
            for (int i = 0; i < 4; i++)
                aglm_tensor_set_f64(&wt, i, aglm_tensor_get_f64(&want, i));
            double tol = dts[t] == AGLM_BF16 ? 8e-3 : dts[t] == AGLM_F16 ? 1e-3 : 1e-6;
            assert_close(&y, &wt, tol, tol);
            aglm_tensor_free(&wt);
            aglm_tensor_free(&want);
            aglm_tensor_free(&y);
            aglm_tensor_free(&x);
        }
    aglm_tensor x = tensor_f32(1, (int64_t[]){2}, (const float[]){1, 2});
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor y;
    run_op(f, op_graph("Acosh", 22, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){2}, (const double[]){0, 1.3169578969248166});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* IsNaN and IsInf give bool; IsInf's detect_negative/positive pick the sign. */
static void test_predicates(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {5};
    aglm_tensor x = tensor_of(AGLM_F16, 1, d, (const double[]){-1.5, NAN, INFINITY, -INFINITY, 0});
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor y;
    run_op(f, op_graph("IsNaN", 20, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_int_equal(y.dtype, AGLM_BOOL);
    assert_values(&y, 1, d, (const double[]){0, 1, 0, 0, 0});
    aglm_tensor_free(&y);
    run_op(f, op_graph("IsInf", 20, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 1, d, (const double[]){0, 0, 1, 1, 0});
    aglm_tensor_free(&y);
    aglm_node *n;
    aglm_graph *g = op_graph("IsInf", 20, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "detect_positive", 0), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 1, d, (const double[]){0, 0, 0, 1, 0});
    aglm_tensor_free(&y);
    g = op_graph("IsInf", 20, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "detect_negative", 0), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 1, d, (const double[]){0, 0, 1, 0, 0});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    /* Sign and Abs on integers, Neg wrapping at the minimum */
    x = tensor_of(AGLM_I8, 1, (int64_t[]){3}, (const double[]){-128, 0, 5});
    run_op(f, op_graph("Sign", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){-1, 0, 1});
    aglm_tensor_free(&y);
    run_op(f, op_graph("Neg", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){-128, 0, -5});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* Clip takes bounds as attributes before opset 11 and as optional inputs from 11 on. */
static void test_clip(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {5};
    aglm_tensor x = tensor_f32(1, d, (const float[]){-3, -1, 0, 2, 5});
    const aglm_tensor *ins1[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("Clip", 6, 1, ins1, NULL, 1, &n);
    assert_int_equal(aglm_node_set_float(n, "min", -1.5f), AGLM_OK);
    assert_int_equal(aglm_node_set_float(n, "max", 1.0f), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins1, NULL, 1, &y);
    assert_values(&y, 1, d, (const double[]){-1.5, -1, 0, 1, 1});
    aglm_tensor_free(&y);

    aglm_tensor lo = tensor_f32(0, NULL, (const float[]){-2}),
                hi = tensor_f32(0, NULL, (const float[]){3});
    const aglm_tensor *both[3] = {&x, &lo, &hi}, *max_only[3] = {&x, NULL, &hi};
    const int is_const[3] = {0, 1, 1};
    run_op(f, op_graph("Clip", 13, 3, both, is_const, 1, NULL), 3, both, is_const, 1, &y);
    assert_values(&y, 1, d, (const double[]){-2, -1, 0, 2, 3});
    aglm_tensor_free(&y);
    run_op(f, op_graph("Clip", 13, 3, max_only, NULL, 1, NULL), 3, max_only, NULL, 1, &y);
    assert_values(&y, 1, d, (const double[]){-3, -1, 0, 2, 3});
    aglm_tensor_free(&y);
    run_op(f, op_graph("Clip", 13, 1, ins1, NULL, 1, NULL), 1, ins1, NULL, 1, &y);
    assert_values(&y, 1, d, (const double[]){-3, -1, 0, 2, 5});
    aglm_tensor_free(&y);
    /* min > max gives max everywhere */
    const aglm_tensor *swapped[3] = {&x, &hi, &lo};
    run_op(f, op_graph("Clip", 13, 3, swapped, is_const, 1, NULL), 3, swapped, is_const, 1, &y);
    assert_values(&y, 1, d, (const double[]){-2, -2, -2, -2, -2});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&lo);
    aglm_tensor_free(&hi);

    /* integer dtypes, min only (clip_default_int8_min) and u64 beyond 2^63 */
    x = tensor_of(AGLM_I8, 1, d, (const double[]){-128, -1, 0, 2, 127});
    lo = tensor_of(AGLM_I8, 0, NULL, (const double[]){-1});
    const aglm_tensor *min_only[2] = {&x, &lo};
    run_op(f, op_graph("Clip", 13, 2, min_only, NULL, 1, NULL), 2, min_only, NULL, 1, &y);
    assert_int_equal(y.dtype, AGLM_I8);
    assert_values(&y, 1, d, (const double[]){-1, -1, 0, 2, 127});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&lo);
    uint64_t xv[2] = {UINT64_MAX, 5}, hv = UINT64_MAX - 10;
    aglm_tensor_alloc(&x, AGLM_U64, 1, (int64_t[]){2});
    memcpy(x.data, xv, sizeof xv);
    aglm_tensor_alloc(&hi, AGLM_U64, 0, NULL);
    memcpy(hi.data, &hv, sizeof hv);
    const aglm_tensor *hi_only[3] = {&x, NULL, &hi};
    run_op(f, op_graph("Clip", 13, 3, hi_only, NULL, 1, NULL), 3, hi_only, NULL, 1, &y);
    assert_true(((uint64_t *)y.data)[0] == UINT64_MAX - 10);
    assert_true(((uint64_t *)y.data)[1] == 5);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&hi);
}

static aglm_tensor cast(backend_fx *f, const aglm_tensor *x, aglm_dtype to)
{
    const aglm_tensor *ins[1] = {x};
    aglm_node *n;
    aglm_graph *g = op_graph("Cast", 19, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "to", to), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_int_equal(y.dtype, to);
    return y;
}

static void test_cast(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {6};
    aglm_tensor x = tensor_f32(1, d, (const float[]){-2.7f, -0.5f, 0, 1.5f, 3e9f, NAN});
    aglm_tensor y = cast(f, &x, AGLM_I32);
    assert_values(&y, 1, d, (const double[]){-2, 0, 0, 1, 2147483647, 0}); /* truncate, saturate */
    aglm_tensor_free(&y);
    y = cast(f, &x, AGLM_BOOL);
    assert_values(&y, 1, d, (const double[]){1, 1, 0, 1, 1, 1});
    aglm_tensor_free(&y);
    y = cast(f, &x, AGLM_F16);
    aglm_tensor back = cast(f, &y, AGLM_F64);
    assert_float_equal(aglm_tensor_get_f64(&back, 0), -2.69921875, 1e-9); /* nearest f16 */
    assert_float_equal(aglm_tensor_get_f64(&back, 3), 1.5, 0);
    assert_true(isinf(aglm_tensor_get_f64(&back, 4)));
    aglm_tensor_free(&back);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    aglm_tensor big =
        tensor_of(AGLM_I64, 1, (int64_t[]){3}, (const double[]){4294967297.0, -1, 300});
    y = cast(f, &big, AGLM_I32); /* wraps like C */
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){1, -1, 300});
    aglm_tensor_free(&y);
    y = cast(f, &big, AGLM_U8);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){1, 255, 44});
    aglm_tensor_free(&y);
    y = cast(f, &big, AGLM_F32);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){4294967297.0, -1, 300});
    aglm_tensor_free(&y);
    aglm_tensor_free(&big);

    /* f64 to f16 rounds once: 1 + 2^-11 + 2^-40 is just above the halfway point between two
     * f16 values, so it rounds up, where going through f32 (which drops the 2^-40) would tie to
     * even and round down */
    aglm_tensor dbl =
        tensor_of(AGLM_F64, 1, (int64_t[]){1}, (const double[]){1 + ldexp(1, -11) + ldexp(1, -40)});
    y = cast(f, &dbl, AGLM_F16);
    assert_float_equal(aglm_tensor_get_f64(&y, 0), 1 + ldexp(1, -10), 0);
    aglm_tensor_free(&y);
    aglm_tensor_free(&dbl);

    /* a dtype the backend does not store (string) is refused with its number */
    aglm_tensor one = tensor_f32(1, (int64_t[]){1}, (const float[]){1});
    const aglm_tensor *ins[2] = {&one, NULL};
    aglm_node *n;
    aglm_graph *g = op_graph("Cast", 19, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "to", AGLM_STRING), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 1, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "8"));
    aglm_graph_free(g);

    /* CastLike takes the second input's dtype */
    aglm_tensor like = tensor_of(AGLM_BF16, 0, NULL, (const double[]){0});
    ins[1] = &like;
    run_op(f, op_graph("CastLike", 19, 2, ins, NULL, 1, NULL), 2, ins, NULL, 1, &y);
    assert_int_equal(y.dtype, AGLM_BF16);
    assert_values(&y, 1, (int64_t[]){1}, (const double[]){1});
    aglm_tensor_free(&y);
    aglm_tensor_free(&like);

    /* BitCast keeps the bits: 1.0f is 0x3f800000; a width change is refused */
    g = op_graph("BitCast", 26, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "to", AGLM_I32), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_int_equal(y.dtype, AGLM_I32);
    assert_int_equal(((int32_t *)y.data)[0], 0x3f800000);
    aglm_tensor_free(&y);
    g = op_graph("BitCast", 26, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "to", AGLM_I64), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 1, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "i64"));
    aglm_graph_free(g);
    aglm_tensor_free(&one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_broadcasting),
        cmocka_unit_test(test_binary_errors),
        cmocka_unit_test(test_unary_ops),
        cmocka_unit_test(test_sigmoid_extremes),
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_math),
        cmocka_unit_test(test_predicates),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_cast),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
