/* The Reduce* family on the backend under test: the ONNX documentation's examples, every float op
 * against a naive reference over random data, axes by attribute and by input, keepdims,
 * noop_with_empty_axes, empty sets, integer and bool dtypes, and bad axes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

static const double ex_data[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const int64_t ex_dims[3] = {3, 2, 2};

/* Runs `op` on x with axes as an attribute (opset < 18, or < 13 for ReduceSum) or as a
 * constant input; axes NULL leaves them out. keepdims < 0 leaves the attribute unset. */
static aglm_status reduce_run(backend_fx *f, const char *op, int64_t opset, const aglm_tensor *x,
                              const int64_t *axes, size_t n_axes, int keepdims, int noop,
                              aglm_tensor *y)
{
    int by_input = opset >= (strcmp(op, "ReduceSum") == 0 ? 13 : 18);
    aglm_tensor ax;
    int64_t ad = (int64_t)n_axes;
    const aglm_tensor *ins[2] = {x, NULL};
    int is_const[2] = {0, 1};
    if (axes && by_input) {
        ax = tensor_of(AGLM_I64, 1, &ad, NULL);
        for (size_t i = 0; i < n_axes; i++)
            ((int64_t *)ax.data)[i] = axes[i];
        ins[1] = &ax;
    }
    aglm_node *n;
    aglm_graph *g = op_graph(op, opset, ins[1] ? 2 : 1, ins, is_const, 1, &n);
    if (axes && !by_input)
        assert_int_equal(aglm_node_set_ints(n, "axes", axes, n_axes), AGLM_OK);
    if (keepdims >= 0)
        assert_int_equal(aglm_node_set_int(n, "keepdims", keepdims), AGLM_OK);
    if (noop)
        assert_int_equal(aglm_node_set_int(n, "noop_with_empty_axes", 1), AGLM_OK);
    aglm_status st = compile_run(f, g, NULL, ins[1] ? 2 : 1, ins, is_const, 1, y);
    aglm_graph_free(g);
    if (ins[1])
        aglm_tensor_free(&ax);
    return st;
}

static void reduce_ok(backend_fx *f, const char *op, int64_t opset, const aglm_tensor *x,
                      const int64_t *axes, size_t n_axes, int keepdims, aglm_tensor *y)
{
    if (reduce_run(f, op, opset, x, axes, n_axes, keepdims, 0, y) != AGLM_OK)
        fail_msg("%s: %s", op, aglm_last_error());
}

/* The examples of the ONNX operator docs, axes [1] on [3,2,2], in both opset forms. */
static void test_doc_examples(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 3, ex_dims, ex_data), y;
    const int64_t axes[1] = {1};
    int64_t opsets[2] = {11, 18};
    for (int o = 0; o < 2; o++) {
        reduce_ok(f, "ReduceSum", opsets[o], &x, axes, 1, 1, &y);
        assert_values(&y, 3, (int64_t[]){3, 1, 2}, (double[]){4, 6, 12, 14, 20, 22});
        aglm_tensor_free(&y);
        reduce_ok(f, "ReduceMean", opsets[o], &x, axes, 1, 0, &y);
        assert_values(&y, 2, (int64_t[]){3, 2}, (double[]){2, 3, 6, 7, 10, 11});
        aglm_tensor_free(&y);
        reduce_ok(f, "ReduceProd", opsets[o], &x, axes, 1, 1, &y);
        assert_values(&y, 3, (int64_t[]){3, 1, 2}, (double[]){3, 8, 35, 48, 99, 120});
        aglm_tensor_free(&y);
        reduce_ok(f, "ReduceMax", opsets[o], &x, axes, 1, 0, &y);
        assert_values(&y, 2, (int64_t[]){3, 2}, (double[]){3, 4, 7, 8, 11, 12});
        aglm_tensor_free(&y);
        reduce_ok(f, "ReduceMin", opsets[o], &x, (int64_t[]){-1}, 1, 1, &y);
        assert_values(&y, 3, (int64_t[]){3, 2, 1}, (double[]){1, 3, 5, 7, 9, 11});
        aglm_tensor_free(&y);
        reduce_ok(f, "ReduceSumSquare", opsets[o], &x, axes, 1, 1, &y);
        assert_values(&y, 3, (int64_t[]){3, 1, 2}, (double[]){10, 20, 74, 100, 202, 244});
        aglm_tensor_free(&y);
        reduce_ok(f, "ReduceL1", opsets[o], &x, (int64_t[]){2}, 1, 1, &y);
        assert_values(&y, 3, (int64_t[]){3, 2, 1}, (double[]){3, 7, 11, 15, 19, 23});
        aglm_tensor_free(&y);
        reduce_ok(f, "ReduceL2", opsets[o], &x, (int64_t[]){2}, 1, 0, &y);
        assert_values(&y, 2, (int64_t[]){3, 2},
                      (double[]){sqrt(5), sqrt(25), sqrt(61), sqrt(113), sqrt(181), sqrt(265)});
        aglm_tensor_free(&y);
    }
    /* no axes: everything, kept as [1,1,1] by default */
    reduce_ok(f, "ReduceSum", 13, &x, NULL, 0, -1, &y);
    assert_values(&y, 3, (int64_t[]){1, 1, 1}, (double[]){78});
    aglm_tensor_free(&y);
    reduce_ok(f, "ReduceMax", 18, &x, NULL, 0, 0, &y);
    assert_values(&y, 0, NULL, (double[]){12});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

static double naive(const char *op, const double *v, int n)
{
    double acc = 0, mx = -INFINITY, mn = INFINITY, prod = 1;
    for (int i = 0; i < n; i++) {
        mx = fmax(mx, v[i]);
        mn = fmin(mn, v[i]);
        prod *= v[i];
    }
    for (int i = 0; i < n; i++) {
        if (!strcmp(op, "ReduceL1"))
            acc += fabs(v[i]);
        else if (!strcmp(op, "ReduceL2") || !strcmp(op, "ReduceSumSquare"))
            acc += v[i] * v[i];
        else if (!strcmp(op, "ReduceLogSumExp"))
            acc += exp(v[i]);
        else
            acc += v[i];
    }
    if (!strcmp(op, "ReduceMax"))
        return mx;
    if (!strcmp(op, "ReduceMin"))
        return mn;
    if (!strcmp(op, "ReduceProd"))
        return prod;
    if (!strcmp(op, "ReduceMean"))
        return acc / n;
    if (!strcmp(op, "ReduceL2"))
        return sqrt(acc);
    if (!strcmp(op, "ReduceLogSum") || !strcmp(op, "ReduceLogSumExp"))
        return log(acc);
    return acc;
}

/* Every float op over axes {0, 2} of a random [3,4,5], against the naive fold; in f32 and
 * in f16 (which rounds its result). */
static void test_random_axes(void **state)
{
    backend_fx *f = *state;
    static const char *const ops[] = {
        "ReduceSum", "ReduceMean", "ReduceMax",    "ReduceMin",       "ReduceProd",
        "ReduceL1",  "ReduceL2",   "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
    const int64_t dims[3] = {3, 4, 5}, axes[2] = {0, -1};
    aglm_tensor xr = tensor_random(3, dims, 7);
    for (int64_t i = 0; i < 60; i++) /* positive, so LogSum is defined */
        ((float *)xr.data)[i] = ((float *)xr.data)[i] + 1.5f;
    aglm_dtype dts[2] = {AGLM_F32, AGLM_F16};
    for (int t = 0; t < 2; t++) {
        aglm_tensor x = tensor_of(dts[t], 3, dims, NULL);
        for (int64_t i = 0; i < 60; i++)
            aglm_tensor_set_f64(&x, i, ((float *)xr.data)[i]);
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            aglm_tensor y, want = tensor_of(AGLM_F64, 3, (int64_t[]){1, 4, 1}, NULL);
            reduce_ok(f, ops[o], 18, &x, axes, 2, 1, &y);
            for (int j = 0; j < 4; j++) {
                double v[15];
                for (int a = 0; a < 3; a++)
                    for (int c = 0; c < 5; c++)
                        v[a * 5 + c] = aglm_tensor_get_f64(&x, (a * 4 + j) * 5 + c);
                aglm_tensor_set_f64(&want, j, naive(ops[o], v, 15));
            }
            assert_int_equal(y.dtype, dts[t]);
            aglm_tensor w2 = tensor_of(dts[t], 3, want.dims, NULL);
            for (int j = 0; j < 4; j++)
                aglm_tensor_set_f64(&w2, j, aglm_tensor_get_f64(&want, j));
            assert_close(&y, &w2, 1e-5, dts[t] == AGLM_F16 ? 2e-3 : 1e-5);
            aglm_tensor_free(&w2);
            aglm_tensor_free(&want);
            aglm_tensor_free(&y);
        }
        aglm_tensor_free(&x);
    }
    aglm_tensor_free(&xr);
}

/* Sum, Mean and Max over the last axis of [6, n] for line lengths around the vector widths
 * (the contiguous lines the vectorised sum and max take); a NaN in one line makes only that
 * line's max NaN. */
static void test_last_axis_lines(void **state)
{
    backend_fx *f = *state;
    static const char *const ops[] = {"ReduceSum", "ReduceMean", "ReduceMax"};
    const int64_t lens[] = {1, 7, 16, 17, 37, 120, 1001}, axis = -1;
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        int64_t n = lens[l], dims[2] = {6, n};
        aglm_tensor x = tensor_random(2, dims, (uint32_t)l + 3);
        float *xv = x.data;
        xv[2 * n + n / 2] = NAN;
        for (size_t o = 0; o < 3; o++) {
            aglm_tensor y;
            reduce_ok(f, ops[o], 18, &x, &axis, 1, 0, &y);
            aglm_tensor want = tensor_f32(1, (int64_t[]){6}, NULL);
            for (int r = 0; r < 6; r++) {
                double v[1001];
                for (int64_t i = 0; i < n; i++)
                    v[i] = xv[r * n + i];
                ((float *)want.data)[r] =
                    (float)(o == 2 && r == 2 ? NAN : naive(ops[o], v, (int)n));
            }
            assert_close(&y, &want, 1e-5, 1e-5);
            aglm_tensor_free(&y);
            aglm_tensor_free(&want);
        }
        aglm_tensor_free(&x);
    }
}

/* Reducing an axis of length 0 gives each op's identity. */
static void test_empty_set(void **state)
{
    backend_fx *f = *state;
    const int64_t dims[3] = {2, 0, 4};
    aglm_tensor x = tensor_of(AGLM_F32, 3, dims, NULL);
    struct {
        const char *op;
        double v;
    } cases[] = {
        {"ReduceSum", 0},
        {"ReduceProd", 1},
        {"ReduceMax", -INFINITY},
        {"ReduceMin", INFINITY},
        {"ReduceL1", 0},
        {"ReduceL2", 0},
        {"ReduceLogSum", -INFINITY},
        {"ReduceLogSumExp", -INFINITY},
        {"ReduceSumSquare", 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        aglm_tensor y;
        reduce_ok(f, cases[c].op, 18, &x, (int64_t[]){1}, 1, 1, &y);
        assert_int_equal(y.rank, 3);
        assert_int_equal(y.dims[0] * 100 + y.dims[1] * 10 + y.dims[2], 214);
        for (int i = 0; i < 8; i++)
            if (aglm_tensor_get_f64(&y, i) != cases[c].v) /* exact, infinities included */
                fail_msg("%s element %d: got %g, expected %g", cases[c].op, i,
                         aglm_tensor_get_f64(&y, i), cases[c].v);
        aglm_tensor_free(&y);
    }
    aglm_tensor_free(&x);
}

/* Empty axes with noop_with_empty_axes give the input back; without it, everything. */
static void test_noop_with_empty_axes(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 3, ex_dims, ex_data), y;
    assert_int_equal(reduce_run(f, "ReduceSum", 13, &x, (int64_t[]){0}, 0, 1, 1, &y), AGLM_OK);
    assert_close(&y, &x, 0, 0);
    aglm_tensor_free(&y);
    assert_int_equal(reduce_run(f, "ReduceMean", 18, &x, (int64_t[]){0}, 0, 1, 0, &y), AGLM_OK);
    assert_values(&y, 3, (int64_t[]){1, 1, 1}, (double[]){6.5});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* Integers reduce exactly and wrap; bool max/min are any/all. */
static void test_integer_and_bool(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_I32, 3, ex_dims, ex_data), y;
    reduce_ok(f, "ReduceSum", 13, &x, (int64_t[]){0, 2}, 2, 0, &y);
    assert_int_equal(y.dtype, AGLM_I32);
    assert_values(&y, 1, (int64_t[]){2},
                  (double[]){1 + 2 + 5 + 6 + 9 + 10, 3 + 4 + 7 + 8 + 11 + 12});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    const int64_t d2[2] = {2, 2};
    x = tensor_of(AGLM_I64, 2, d2, (double[]){-3, 1000000, 7, 1000000});
    reduce_ok(f, "ReduceProd", 18, &x, (int64_t[]){0}, 1, 0, &y);
    assert_int_equal(y.dtype, AGLM_I64);
    assert_int_equal(((int64_t *)y.data)[0], -21);
    assert_int_equal(((int64_t *)y.data)[1], 1000000000000LL);
    aglm_tensor_free(&y);
    reduce_ok(f, "ReduceMean", 18, &x, (int64_t[]){1}, 1, 0, &y);
    assert_int_equal(((int64_t *)y.data)[0], 499998); /* (-3 + 1000000) / 2, truncated */
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    x = tensor_of(AGLM_BOOL, 2, d2, (double[]){1, 0, 1, 1});
    reduce_ok(f, "ReduceMax", 18, &x, (int64_t[]){1}, 1, 1, &y);
    assert_int_equal(y.dtype, AGLM_BOOL);
    assert_values(&y, 2, (int64_t[]){2, 1}, (double[]){1, 1});
    aglm_tensor_free(&y);
    reduce_ok(f, "ReduceMin", 18, &x, (int64_t[]){1}, 1, 1, &y);
    assert_values(&y, 2, (int64_t[]){2, 1}, (double[]){0, 1});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* Axes decided at run time (a graph input rather than a constant). */
static void test_runtime_axes(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 3, ex_dims, ex_data), y;
    int64_t one = 1;
    aglm_tensor ax = tensor_of(AGLM_I64, 1, &one, (double[]){-2});
    const aglm_tensor *ins[2] = {&x, &ax};
    aglm_node *n;
    aglm_graph *g = op_graph("ReduceMax", 18, 2, ins, NULL, 1, &n);
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 3, (int64_t[]){3, 1, 2}, (double[]){3, 4, 7, 8, 11, 12});
    aglm_tensor_free(&y);
    aglm_tensor_free(&ax);
    aglm_tensor_free(&x);
}

static void test_bad_axis(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 3, ex_dims, ex_data), y;
    assert_int_not_equal(reduce_run(f, "ReduceSum", 11, &x, (int64_t[]){3}, 1, 1, 0, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "axis"));
    assert_non_null(strstr(aglm_last_error(), "3"));
    aglm_tensor_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_examples),         cmocka_unit_test(test_random_axes),
        cmocka_unit_test(test_last_axis_lines),      cmocka_unit_test(test_empty_set),
        cmocka_unit_test(test_noop_with_empty_axes), cmocka_unit_test(test_integer_and_bool),
        cmocka_unit_test(test_runtime_axes),         cmocka_unit_test(test_bad_axis),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
