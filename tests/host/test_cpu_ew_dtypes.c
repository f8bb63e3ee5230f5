/* Element-wise ops of the backend under test over the dtypes the ONNX conformance cases use:
 * integer wrap-around and division, Mod in both modes, Pow with mixed types, the variadic ops, the
 * comparisons, logic and bit ops, Where, f16/bf16 through f32, against values worked out by hand
 * from the ONNX operator docs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

/* Runs a one-node graph of `op` (opset) on graph inputs ins; the node is handed to `attrs` (if
 * given) before compiling. Returns the status; *y is the output on success. */
static aglm_status run1(backend_fx *f, const char *op, int64_t opset, size_t n,
                        const aglm_tensor *const *ins, void (*attrs)(aglm_node *, const void *),
                        const void *arg, aglm_tensor *y)
{
    aglm_node *node;
    aglm_graph *g = op_graph(op, opset, n, ins, NULL, 1, &node);
    if (attrs)
        attrs(node, arg);
    aglm_status st = compile_run(f, g, NULL, n, ins, NULL, 1, y);
    aglm_graph_free(g);
    return st;
}

/* Like run1 but fails the test on error. */
static aglm_tensor must(backend_fx *f, const char *op, int64_t opset, size_t n,
                        const aglm_tensor *const *ins, void (*attrs)(aglm_node *, const void *),
                        const void *arg)
{
    aglm_tensor y;
    if (run1(f, op, opset, n, ins, attrs, arg, &y) != AGLM_OK)
        fail_msg("%s: %s", op, aglm_last_error());
    return y;
}

/* Asserts y has dtype dt, shape (rank, dims) and exactly these values. */
static void assert_exact(const aglm_tensor *y, aglm_dtype dt, int rank, const int64_t *dims,
                         const double *v)
{
    assert_int_equal(y->dtype, dt);
    assert_int_equal(y->rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(y->dims[i], dims[i]);
    for (int64_t i = 0; i < aglm_tensor_numel(y); i++)
        if (aglm_tensor_get_f64(y, i) != v[i])
            fail_msg("element %lld: got %.17g, expected %.17g", (long long)i,
                     aglm_tensor_get_f64(y, i), v[i]);
}

static void set_int_attr(aglm_node *n, const void *arg)
{
    const struct {
        const char *name;
        int64_t v;
    } *a = arg;
    assert_int_equal(aglm_node_set_int(n, a->name, a->v), AGLM_OK);
}

static void set_string_attr(aglm_node *n, const void *arg)
{
    const char *const *a = arg;
    assert_int_equal(aglm_node_set_string(n, a[0], a[1], strlen(a[1])), AGLM_OK);
}

/* Integer arithmetic wraps as two's complement on every width; division truncates toward zero
 * and INT_MIN / -1 wraps instead of trapping. */
static void test_integer_arithmetic(void **state)
{
    backend_fx *f = *state;
    int64_t d3[1] = {3};
    aglm_tensor a = tensor_of(AGLM_U8, 1, d3, (const double[]){250, 7, 0});
    aglm_tensor b = tensor_of(AGLM_U8, 1, d3, (const double[]){10, 9, 1});
    const aglm_tensor *ab[2] = {&a, &b};
    aglm_tensor y = must(f, "Add", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_U8, 1, d3, (const double[]){4, 16, 1});
    aglm_tensor_free(&y);
    y = must(f, "Sub", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_U8, 1, d3, (const double[]){240, 254, 255});
    aglm_tensor_free(&y);
    y = must(f, "Mul", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_U8, 1, d3, (const double[]){196, 63, 0});
    aglm_tensor_free(&y);
    y = must(f, "Div", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_U8, 1, d3, (const double[]){25, 0, 0});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);

    a = tensor_of(AGLM_I8, 1, d3, (const double[]){-128, -7, 100});
    b = tensor_of(AGLM_I8, 1, d3, (const double[]){-1, 2, 100});
    y = must(f, "Div", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_I8, 1, d3, (const double[]){-128, -3, 1});
    aglm_tensor_free(&y);
    y = must(f, "Add", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_I8, 1, d3, (const double[]){127, -5, -56});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);

    a = tensor_of(AGLM_I32, 1, d3, (const double[]){INT32_MIN, 5, -9});
    b = tensor_of(AGLM_I32, 1, d3, (const double[]){-1, -1, 4});
    y = must(f, "Div", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_I32, 1, d3, (const double[]){INT32_MIN, -5, -2});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);

    /* u64 keeps values above 2^63, broadcasting a scalar */
    uint64_t big[2] = {UINT64_MAX - 1, 1u};
    aglm_tensor_alloc(&a, AGLM_U64, 1, (int64_t[]){2});
    memcpy(a.data, big, sizeof big);
    b = tensor_of(AGLM_U64, 0, NULL, (const double[]){3});
    y = must(f, "Add", 14, 2, ab, NULL, NULL);
    assert_int_equal(((uint64_t *)y.data)[0], 1u);
    assert_int_equal(((uint64_t *)y.data)[1], 4u);
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

/* Mod: fmod = 0 takes the divisor's sign (integers), fmod = 1 the dividend's; values from the
 * ONNX Mod docs (mixed_sign cases). */
static void test_mod(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {6};
    const double xv[6] = {-4, 7, 5, 4, -7, 8}, yv[6] = {2, -3, 8, -2, 3, 5};
    aglm_dtype ints[] = {AGLM_I8, AGLM_I16, AGLM_I32, AGLM_I64};
    for (size_t t = 0; t < 4; t++) {
        aglm_tensor x = tensor_of(ints[t], 1, d, xv), y = tensor_of(ints[t], 1, d, yv);
        const aglm_tensor *ins[2] = {&x, &y};
        aglm_tensor z = must(f, "Mod", 13, 2, ins, NULL, NULL);
        assert_exact(&z, ints[t], 1, d, (const double[]){0, -2, 5, 0, 2, 3});
        aglm_tensor_free(&z);
        struct {
            const char *name;
            int64_t v;
        } fm = {"fmod", 1};
        z = must(f, "Mod", 13, 2, ins, set_int_attr, &fm);
        assert_exact(&z, ints[t], 1, d, (const double[]){0, 1, 5, 0, -1, 3});
        aglm_tensor_free(&z);
        aglm_tensor_free(&x);
        aglm_tensor_free(&y);
    }
    const double xf[6] = {-4.3, 7.2, 5.0, 4.3, -7.2, 8.0}, yf[6] = {2.1, -3.4, 8.0, -2.1, 3.4, 5.0};
    aglm_dtype floats[] = {AGLM_F32, AGLM_F64, AGLM_F16};
    for (size_t t = 0; t < 3; t++) {
        aglm_tensor x = tensor_of(floats[t], 1, d, xf), y = tensor_of(floats[t], 1, d, yf);
        const aglm_tensor *ins[2] = {&x, &y};
        struct {
            const char *name;
            int64_t v;
        } fm = {"fmod", 1};
        aglm_tensor z = must(f, "Mod", 13, 2, ins, set_int_attr, &fm);
        aglm_tensor want = tensor_of(floats[t], 1, d, (const double[]){-0.1, 0.4, 5, 0.1, -0.4, 3});
        assert_close(&z, &want, 2e-3, 2e-3);
        aglm_tensor_free(&want);
        aglm_tensor_free(&z);
        aglm_tensor_free(&x);
        aglm_tensor_free(&y);
    }
    /* a zero integer divisor is refused with a message */
    aglm_tensor x = tensor_of(AGLM_U16, 1, (int64_t[]){2}, (const double[]){5, 6});
    aglm_tensor y = tensor_of(AGLM_U16, 1, (int64_t[]){2}, (const double[]){3, 0});
    const aglm_tensor *ins[2] = {&x, &y};
    aglm_tensor z;
    assert_int_equal(run1(f, "Mod", 13, 2, ins, NULL, NULL, &z), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "division by zero"));
    aglm_tensor_free(&x);
    aglm_tensor_free(&y);
}

/* Pow: the exponent may have another dtype; the result has the base's (pow_types cases). */
static void test_pow_types(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {3};
    aglm_tensor xf = tensor_of(AGLM_F32, 1, d, (const double[]){1, 2, 3});
    aglm_tensor xi = tensor_of(AGLM_I32, 1, d, (const double[]){1, 2, 3});
    aglm_tensor yi = tensor_of(AGLM_I64, 1, d, (const double[]){4, 5, 6});
    aglm_tensor yu = tensor_of(AGLM_U32, 1, d, (const double[]){4, 5, 6});
    aglm_tensor yf = tensor_of(AGLM_F32, 1, d, (const double[]){4, 5, 6});
    const aglm_tensor *fi[2] = {&xf, &yi}, *fu[2] = {&xf, &yu}, *iff[2] = {&xi, &yf},
                      *ii[2] = {&xi, &xi};
    aglm_tensor z = must(f, "Pow", 15, 2, fi, NULL, NULL);
    assert_exact(&z, AGLM_F32, 1, d, (const double[]){1, 32, 729});
    aglm_tensor_free(&z);
    z = must(f, "Pow", 15, 2, fu, NULL, NULL);
    assert_exact(&z, AGLM_F32, 1, d, (const double[]){1, 32, 729});
    aglm_tensor_free(&z);
    z = must(f, "Pow", 15, 2, iff, NULL, NULL);
    assert_exact(&z, AGLM_I32, 1, d, (const double[]){1, 32, 729});
    aglm_tensor_free(&z);
    z = must(f, "Pow", 15, 2, ii, NULL, NULL);
    assert_exact(&z, AGLM_I32, 1, d, (const double[]){1, 4, 27});
    aglm_tensor_free(&z);
    /* broadcast a scalar exponent; fractional powers */
    aglm_tensor half = tensor_of(AGLM_F32, 0, NULL, (const double[]){0.5});
    const aglm_tensor *fh[2] = {&yf, &half};
    z = must(f, "Pow", 15, 2, fh, NULL, NULL);
    aglm_tensor want = tensor_of(AGLM_F32, 1, d, (const double[]){2, sqrt(5), sqrt(6)});
    assert_close(&z, &want, 1e-6, 1e-6);
    aglm_tensor_free(&want);
    aglm_tensor_free(&z);
    aglm_tensor_free(&half);
    aglm_tensor_free(&xf);
    aglm_tensor_free(&xi);
    aglm_tensor_free(&yi);
    aglm_tensor_free(&yu);
    aglm_tensor_free(&yf);
}

/* Max, Min, Sum, Mean take any number of inputs, all broadcast together (max_example etc.). */
static void test_variadic(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {3};
    aglm_tensor a = tensor_f32(1, d, (const float[]){3, 2, 1});
    aglm_tensor b = tensor_f32(1, d, (const float[]){1, 4, 4});
    aglm_tensor c = tensor_f32(1, d, (const float[]){2, 5, 3});
    const aglm_tensor *abc[3] = {&a, &b, &c};
    aglm_tensor y = must(f, "Max", 13, 3, abc, NULL, NULL);
    assert_exact(&y, AGLM_F32, 1, d, (const double[]){3, 5, 4});
    aglm_tensor_free(&y);
    y = must(f, "Min", 13, 3, abc, NULL, NULL);
    assert_exact(&y, AGLM_F32, 1, d, (const double[]){1, 2, 1});
    aglm_tensor_free(&y);
    y = must(f, "Sum", 13, 3, abc, NULL, NULL);
    assert_exact(&y, AGLM_F32, 1, d, (const double[]){6, 11, 8});
    aglm_tensor_free(&y);
    y = must(f, "Mean", 13, 3, abc, NULL, NULL);
    assert_exact(&y, AGLM_F32, 1, d, (const double[]){2, 11.0f / 3.0f, 8.0f / 3.0f});
    aglm_tensor_free(&y);
    y = must(f, "Sum", 13, 1, abc, NULL, NULL);
    assert_exact(&y, AGLM_F32, 1, d, (const double[]){3, 2, 1});
    aglm_tensor_free(&y);

    /* shapes [2,1], [3] and a scalar broadcast to [2,3]; NaN wins in Max as in numpy */
    aglm_tensor col = tensor_f32(2, (int64_t[]){2, 1}, (const float[]){10, NAN});
    aglm_tensor s = tensor_f32(0, NULL, (const float[]){4});
    const aglm_tensor *mix[3] = {&col, &a, &s};
    y = must(f, "Max", 13, 3, mix, NULL, NULL);
    assert_int_equal(y.rank, 2);
    assert_int_equal(y.dims[0], 2);
    assert_int_equal(y.dims[1], 3);
    const float *p = y.data;
    assert_float_equal(p[0], 10, 0);
    assert_float_equal(p[2], 10, 0);
    for (int i = 3; i < 6; i++)
        assert_true(isnan(p[i]));
    aglm_tensor_free(&y);
    y = must(f, "Sum", 13, 3, mix, NULL, NULL);
    assert_float_equal(((float *)y.data)[1], 16, 0);
    aglm_tensor_free(&y);

    /* integer Max/Min on u32 and i16 */
    aglm_tensor u = tensor_of(AGLM_U32, 1, d, (const double[]){4000000000.0, 1, 7});
    aglm_tensor v = tensor_of(AGLM_U32, 1, d, (const double[]){3, 2, 7});
    const aglm_tensor *uv[2] = {&u, &v};
    y = must(f, "Max", 13, 2, uv, NULL, NULL);
    assert_exact(&y, AGLM_U32, 1, d, (const double[]){4000000000.0, 2, 7});
    aglm_tensor_free(&y);
    y = must(f, "Min", 13, 2, uv, NULL, NULL);
    assert_exact(&y, AGLM_U32, 1, d, (const double[]){3, 1, 7});
    aglm_tensor_free(&y);
    aglm_tensor_free(&u);
    aglm_tensor_free(&v);
    aglm_tensor_free(&col);
    aglm_tensor_free(&s);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&c);
}

/* Comparisons give bool; integer comparisons are exact even where doubles would not be. */
static void test_compare(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {4};
    aglm_tensor a, b;
    aglm_tensor_alloc(&a, AGLM_I64, 1, d);
    aglm_tensor_alloc(&b, AGLM_I64, 1, d);
    const int64_t av[4] = {INT64_MAX, -5, 3, 0}, bv[4] = {INT64_MAX - 1, -5, 4, 0};
    memcpy(a.data, av, sizeof av);
    memcpy(b.data, bv, sizeof bv);
    const aglm_tensor *ab[2] = {&a, &b};
    struct {
        const char *op;
        double want[4];
    } cases[] = {
        {"Equal", {0, 1, 0, 1}},       {"Less", {0, 0, 1, 0}},           {"Greater", {1, 0, 0, 0}},
        {"LessOrEqual", {0, 1, 1, 1}}, {"GreaterOrEqual", {1, 1, 0, 1}},
    };
    for (size_t i = 0; i < 5; i++) {
        aglm_tensor y = must(f, cases[i].op, 16, 2, ab, NULL, NULL);
        assert_exact(&y, AGLM_BOOL, 1, d, cases[i].want);
        aglm_tensor_free(&y);
    }
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    /* f16 against a broadcast row */
    a = tensor_of(AGLM_F16, 2, (int64_t[]){2, 2}, (const double[]){1, 2, 3, 4});
    b = tensor_of(AGLM_F16, 1, (int64_t[]){2}, (const double[]){2, 2});
    aglm_tensor y = must(f, "Greater", 13, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_BOOL, 2, (int64_t[]){2, 2}, (const double[]){0, 0, 1, 1});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    /* mixed dtypes are refused, naming both */
    a = tensor_of(AGLM_F32, 1, d, NULL);
    b = tensor_of(AGLM_I32, 1, d, NULL);
    assert_int_not_equal(run1(f, "Less", 13, 2, ab, NULL, NULL, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "i32"));
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

/* And, Or, Xor, Not on bool with broadcasting; Bitwise* on integers; BitShift (docs example). */
static void test_logic_and_bits(void **state)
{
    backend_fx *f = *state;
    aglm_tensor a = tensor_of(AGLM_BOOL, 2, (int64_t[]){2, 2}, (const double[]){0, 0, 1, 1});
    aglm_tensor b = tensor_of(AGLM_BOOL, 1, (int64_t[]){2}, (const double[]){0, 1});
    const aglm_tensor *ab[2] = {&a, &b};
    int64_t d22[2] = {2, 2};
    aglm_tensor y = must(f, "And", 7, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_BOOL, 2, d22, (const double[]){0, 0, 0, 1});
    aglm_tensor_free(&y);
    y = must(f, "Or", 7, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_BOOL, 2, d22, (const double[]){0, 1, 1, 1});
    aglm_tensor_free(&y);
    y = must(f, "Xor", 7, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_BOOL, 2, d22, (const double[]){0, 1, 1, 0});
    aglm_tensor_free(&y);
    y = must(f, "Not", 1, 1, ab, NULL, NULL);
    assert_exact(&y, AGLM_BOOL, 2, d22, (const double[]){1, 1, 0, 0});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);

    int64_t d3[1] = {3};
    a = tensor_of(AGLM_U8, 1, d3, (const double[]){16, 4, 1});
    b = tensor_of(AGLM_U8, 1, d3, (const double[]){1, 2, 3});
    const char *right[2] = {"direction", "RIGHT"}, *left[2] = {"direction", "LEFT"},
               *bad[2] = {"direction", "UP"};
    y = must(f, "BitShift", 11, 2, ab, set_string_attr, right);
    assert_exact(&y, AGLM_U8, 1, d3, (const double[]){8, 1, 0});
    aglm_tensor_free(&y);
    y = must(f, "BitShift", 11, 2, ab, set_string_attr, left);
    assert_exact(&y, AGLM_U8, 1, d3, (const double[]){32, 16, 8});
    aglm_tensor_free(&y);
    assert_int_equal(run1(f, "BitShift", 11, 2, ab, set_string_attr, bad, &y), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "'UP'"));
    y = must(f, "BitwiseXor", 18, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_U8, 1, d3, (const double[]){17, 6, 2});
    aglm_tensor_free(&y);
    y = must(f, "BitwiseNot", 18, 1, ab, NULL, NULL);
    assert_exact(&y, AGLM_U8, 1, d3, (const double[]){239, 251, 254});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);

    a = tensor_of(AGLM_I16, 1, d3, (const double[]){-1, 12, 5});
    b = tensor_of(AGLM_I16, 1, d3, (const double[]){255, 10, -6});
    y = must(f, "BitwiseAnd", 18, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_I16, 1, d3, (const double[]){255, 8, 0});
    aglm_tensor_free(&y);
    y = must(f, "BitwiseOr", 18, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_I16, 1, d3, (const double[]){-1, 14, -1});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

/* Where broadcasts all three operands and selects any dtype (where_example, where_long). */
static void test_where(void **state)
{
    backend_fx *f = *state;
    aglm_tensor c = tensor_of(AGLM_BOOL, 2, (int64_t[]){2, 2}, (const double[]){1, 0, 1, 1});
    aglm_tensor x = tensor_of(AGLM_I64, 2, (int64_t[]){2, 2}, (const double[]){1, 2, 3, 4});
    aglm_tensor y = tensor_of(AGLM_I64, 2, (int64_t[]){2, 2}, (const double[]){9, 8, 7, 6});
    const aglm_tensor *cxy[3] = {&c, &x, &y};
    aglm_tensor z = must(f, "Where", 16, 3, cxy, NULL, NULL);
    assert_exact(&z, AGLM_I64, 2, (int64_t[]){2, 2}, (const double[]){1, 8, 3, 4});
    aglm_tensor_free(&z);
    aglm_tensor_free(&c);
    aglm_tensor_free(&x);
    aglm_tensor_free(&y);

    /* condition [3,1], x a scalar, y [1,2], f16 */
    c = tensor_of(AGLM_BOOL, 2, (int64_t[]){3, 1}, (const double[]){1, 0, 1});
    x = tensor_of(AGLM_F16, 0, NULL, (const double[]){0.5});
    y = tensor_of(AGLM_F16, 2, (int64_t[]){1, 2}, (const double[]){-1, -2});
    z = must(f, "Where", 16, 3, cxy, NULL, NULL);
    assert_exact(&z, AGLM_F16, 2, (int64_t[]){3, 2}, (const double[]){0.5, 0.5, -1, -2, 0.5, 0.5});
    aglm_tensor_free(&z);
    aglm_tensor_free(&x);
    /* a condition that is not bool is refused */
    x = tensor_of(AGLM_F16, 0, NULL, (const double[]){0.5});
    cxy[0] = &y;
    assert_int_not_equal(run1(f, "Where", 16, 3, cxy, NULL, NULL, &z), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "Where"));
    aglm_tensor_free(&x);
    aglm_tensor_free(&y);
    aglm_tensor_free(&c);
}

/* f16 and bf16 compute in f32 and round back: 1 + 2^-11 is not an f16, so the sum rounds to 1
 * (to even); bf16 keeps 8 significant bits. */
static void test_half_types(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {2};
    aglm_tensor a = tensor_of(AGLM_F16, 1, d, (const double[]){1, 1000});
    aglm_tensor b = tensor_of(AGLM_F16, 1, d, (const double[]){1.0 / 2048, 0.25});
    const aglm_tensor *ab[2] = {&a, &b};
    aglm_tensor y = must(f, "Add", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_F16, 1, d,
                 (const double[]){1, 1000.0}); /* 1000.25 is not an f16 either */
    aglm_tensor_free(&y);
    y = must(f, "Mul", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_F16, 1, d, (const double[]){1.0 / 2048, 250});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    a = tensor_of(AGLM_BF16, 1, d, (const double[]){512, 3});
    b = tensor_of(AGLM_BF16, 1, d, (const double[]){1, 0.5});
    y = must(f, "Sub", 14, 2, ab, NULL, NULL);
    assert_exact(&y, AGLM_BF16, 1, d,
                 (const double[]){512, 2.5}); /* 511 needs 9 bits: ties to 512 */
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

/* A dtype an op has no loop for (though inference accepts it) is refused at compile time,
 * naming the node, op and dtype. */
static void test_dtype_refusals(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_I32, 1, (int64_t[]){2}, (const double[]){1, 2});
    aglm_tensor u = tensor_of(AGLM_U8, 1, (int64_t[]){2}, (const double[]){1, 2});
    const aglm_tensor *ins[2] = {&x, &x}, *uu[1] = {&u};
    aglm_tensor y;
    assert_int_equal(run1(f, "Mean", 13, 2, ins, NULL, NULL, &y), AGLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(aglm_last_error(), "'node' (Mean on i32)"));
    assert_int_equal(run1(f, "BitShift", 11, 2, ins, NULL, NULL, &y), AGLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(aglm_last_error(), "BitShift on i32"));
    assert_int_equal(run1(f, "Neg", 13, 1, uu, NULL, NULL, &y), AGLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(aglm_last_error(), "Neg on u8"));
    aglm_tensor_free(&x);
    aglm_tensor_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_arithmetic),
        cmocka_unit_test(test_mod),
        cmocka_unit_test(test_pow_types),
        cmocka_unit_test(test_variadic),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_logic_and_bits),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_half_types),
        cmocka_unit_test(test_dtype_refusals),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
