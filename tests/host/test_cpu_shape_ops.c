/* Data-movement ops of the backend under test: Reshape, Transpose, Concat, Flatten, Squeeze,
 * Unsqueeze, Identity, Shape, Size, Constant. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

static aglm_tensor ramp(aglm_dtype dt, int rank, const int64_t *dims)
{
    aglm_tensor t = tensor_of(dt, rank, dims, NULL);
    for (int64_t i = 0; i < aglm_tensor_numel(&t); i++)
        aglm_tensor_set_f64(&t, i, (double)i);
    return t;
}

static aglm_status reshape(backend_fx *f, const aglm_tensor *x, size_t n, const int64_t *shape,
                           int allowzero, aglm_tensor *y)
{
    int64_t d[1] = {(int64_t)n};
    aglm_tensor s = tensor_of(AGLM_I64, 1, d, NULL);
    memcpy(s.data, shape, n * sizeof *shape);
    const aglm_tensor *ins[2] = {x, &s};
    const int is_const[2] = {0, 1};
    aglm_node *node;
    aglm_graph *g = op_graph("Reshape", 14, 2, ins, is_const, 1, &node);
    if (allowzero)
        assert_int_equal(aglm_node_set_int(node, "allowzero", 1), AGLM_OK);
    aglm_status st = compile_run(f, g, NULL, 2, ins, is_const, 1, y);
    aglm_graph_free(g);
    aglm_tensor_free(&s);
    return st;
}

static void test_reshape(void **state)
{
    backend_fx *f = *state;
    int64_t d[3] = {2, 3, 4};
    aglm_tensor x = ramp(AGLM_F32, 3, d), y;
    /* 0 copies the input dim, -1 takes what is left */
    assert_int_equal(reshape(f, &x, 3, (const int64_t[]){0, -1, 2}, 0, &y), AGLM_OK);
    assert_int_equal(y.rank, 3);
    assert_int_equal(y.dims[0], 2);
    assert_int_equal(y.dims[1], 6);
    assert_int_equal(y.dims[2], 2);
    for (int i = 0; i < 24; i++)
        assert_float_equal(((float *)y.data)[i], i, 0);
    aglm_tensor_free(&y);
    assert_int_equal(reshape(f, &x, 1, (const int64_t[]){-1}, 0, &y), AGLM_OK);
    assert_int_equal(y.rank, 1);
    assert_int_equal(y.dims[0], 24);
    aglm_tensor_free(&y);
    /* a wrong element count is an error naming both shapes */
    assert_int_not_equal(reshape(f, &x, 2, (const int64_t[]){5, 5}, 0, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "[2,3,4]"));
    assert_non_null(strstr(aglm_last_error(), "'node'"));
    assert_int_not_equal(reshape(f, &x, 2, (const int64_t[]){-1, -1}, 0, &y), AGLM_OK);
    aglm_tensor_free(&x);

    /* allowzero: a 0 is a real zero-size dim */
    int64_t dz[2] = {0, 3};
    x = ramp(AGLM_F32, 2, dz);
    assert_int_equal(reshape(f, &x, 3, (const int64_t[]){3, 0, 5}, 1, &y), AGLM_OK);
    assert_int_equal(y.rank, 3);
    assert_int_equal(y.dims[1], 0);
    aglm_tensor_free(&y);
    assert_int_not_equal(reshape(f, &x, 2, (const int64_t[]){0, -1}, 1, &y), AGLM_OK);
    aglm_tensor_free(&x);
}

static aglm_tensor transpose(backend_fx *f, const aglm_tensor *x, const int64_t *perm)
{
    const aglm_tensor *ins[1] = {x};
    aglm_node *n;
    aglm_graph *g = op_graph("Transpose", 13, 1, ins, NULL, 1, &n);
    if (perm)
        assert_int_equal(aglm_node_set_ints(n, "perm", perm, (size_t)x->rank), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    return y;
}

static void test_transpose(void **state)
{
    backend_fx *f = *state;
    int64_t d[3] = {2, 3, 4};
    aglm_tensor x = ramp(AGLM_F32, 3, d);
    int64_t perms[3][3] = {{1, 0, 2}, {2, 0, 1}, {2, 1, 0}};
    for (int p = 0; p < 4; p++) {
        const int64_t *perm = p < 3 ? perms[p] : NULL; /* no perm: reverse */
        aglm_tensor y = transpose(f, &x, perm);
        int64_t pr[3] = {2, 1, 0};
        if (perm)
            memcpy(pr, perm, sizeof pr);
        for (int i = 0; i < 3; i++)
            assert_int_equal(y.dims[i], d[pr[i]]);
        /* y[i0,i1,i2] = x[j] with j[pr[k]] = ik */
        for (int64_t a = 0; a < y.dims[0]; a++)
            for (int64_t b = 0; b < y.dims[1]; b++)
                for (int64_t c = 0; c < y.dims[2]; c++) {
                    int64_t j[3];
                    j[pr[0]] = a;
                    j[pr[1]] = b;
                    j[pr[2]] = c;
                    float want = (float)((j[0] * 3 + j[1]) * 4 + j[2]);
                    assert_float_equal(((float *)y.data)[(a * y.dims[1] + b) * y.dims[2] + c], want,
                                       0);
                }
        aglm_tensor_free(&y);
    }
    aglm_tensor_free(&x);

    /* any dtype: i64 and u8 */
    int64_t d2[2] = {2, 3};
    x = ramp(AGLM_I64, 2, d2);
    aglm_tensor y = transpose(f, &x, NULL);
    assert_values(&y, 2, (int64_t[]){3, 2}, (const double[]){0, 3, 1, 4, 2, 5});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    x = ramp(AGLM_U8, 2, d2);
    y = transpose(f, &x, NULL);
    assert_values(&y, 2, (int64_t[]){3, 2}, (const double[]){0, 3, 1, 4, 2, 5});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

static void test_concat(void **state)
{
    backend_fx *f = *state;
    aglm_tensor a = ramp(AGLM_F32, 2, (int64_t[]){2, 2});
    aglm_tensor b = ramp(AGLM_F32, 2, (int64_t[]){2, 3});
    aglm_tensor c = ramp(AGLM_F32, 2, (int64_t[]){2, 1});
    const aglm_tensor *ins[3] = {&a, &b, &c};
    for (int neg = 0; neg < 2; neg++) {
        aglm_node *n;
        aglm_graph *g = op_graph("Concat", 13, 3, ins, NULL, 1, &n);
        assert_int_equal(aglm_node_set_int(n, "axis", neg ? -1 : 1), AGLM_OK);
        aglm_tensor y;
        run_op(f, g, 3, ins, NULL, 1, &y);
        assert_values(&y, 2, (int64_t[]){2, 6},
                      (const double[]){0, 1, 0, 1, 2, 0, 2, 3, 3, 4, 5, 1});
        aglm_tensor_free(&y);
    }
    /* axis 0 */
    aglm_tensor d = ramp(AGLM_F32, 2, (int64_t[]){1, 3});
    const aglm_tensor *ins0[2] = {&b, &d};
    aglm_node *n;
    aglm_graph *g = op_graph("Concat", 13, 2, ins0, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 0), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 2, ins0, NULL, 1, &y);
    assert_values(&y, 2, (int64_t[]){3, 3}, (const double[]){0, 1, 2, 3, 4, 5, 0, 1, 2});
    aglm_tensor_free(&y);
    /* mismatched dims outside the axis */
    g = op_graph("Concat", 13, 2, ins0, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 2, ins0, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "'node'"));
    aglm_graph_free(g);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&c);
    aglm_tensor_free(&d);
}

static void test_flatten_squeeze_unsqueeze_identity(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = ramp(AGLM_F32, 4, (int64_t[]){2, 3, 1, 4});
    const aglm_tensor *ins[1] = {&x};
    int64_t axes[4] = {0, 2, -1, 4};
    int64_t want[4][2] = {{1, 24}, {6, 4}, {6, 4}, {24, 1}};
    for (int i = 0; i < 4; i++) {
        aglm_node *n;
        aglm_graph *g = op_graph("Flatten", 13, 1, ins, NULL, 1, &n);
        assert_int_equal(aglm_node_set_int(n, "axis", axes[i]), AGLM_OK);
        aglm_tensor y;
        run_op(f, g, 1, ins, NULL, 1, &y);
        assert_int_equal(y.rank, 2);
        assert_int_equal(y.dims[0], want[i][0]);
        assert_int_equal(y.dims[1], want[i][1]);
        assert_float_equal(((float *)y.data)[23], 23, 0);
        aglm_tensor_free(&y);
    }
    /* Squeeze with no axes drops every 1; Unsqueeze (opset 13: axes as input) inserts them */
    aglm_tensor y;
    run_op(f, op_graph("Squeeze", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_int_equal(y.rank, 3);
    assert_int_equal(y.dims[2], 4);
    aglm_tensor_free(&y);
    aglm_tensor ax = tensor_of(AGLM_I64, 1, (int64_t[]){2}, (const double[]){0, -1});
    const aglm_tensor *uins[2] = {&x, &ax};
    const int is_const[2] = {0, 1};
    run_op(f, op_graph("Unsqueeze", 13, 2, uins, is_const, 1, NULL), 2, uins, is_const, 1, &y);
    assert_int_equal(y.rank, 6);
    int64_t ud[6] = {1, 2, 3, 1, 4, 1};
    for (int i = 0; i < 6; i++)
        assert_int_equal(y.dims[i], ud[i]);
    aglm_tensor_free(&y);
    run_op(f, op_graph("Identity", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_close(&y, &x, 0, 0);
    assert_ptr_not_equal(y.data, x.data);
    aglm_tensor_free(&y);
    aglm_tensor_free(&ax);
    aglm_tensor_free(&x);
}

static void test_shape_and_constant(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = ramp(AGLM_F32, 3, (int64_t[]){2, 5, 7});
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor y;
    run_op(f, op_graph("Shape", 15, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){3}, (const double[]){2, 5, 7});
    assert_int_equal(y.dtype, AGLM_I64);
    aglm_tensor_free(&y);
    aglm_node *n;
    aglm_graph *g = op_graph("Shape", 15, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "start", -2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "end", 10), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){2}, (const double[]){5, 7});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    /* Constant: a tensor attribute, and the scalar and list forms */
    aglm_tensor c = ramp(AGLM_I32, 2, (int64_t[]){2, 2});
    g = op_graph("Constant", 13, 0, NULL, NULL, 1, &n);
    assert_int_equal(aglm_node_set_tensor(n, "value", &c), AGLM_OK);
    run_op(f, g, 0, NULL, NULL, 1, &y);
    assert_close(&y, &c, 0, 0);
    aglm_tensor_free(&y);
    aglm_tensor_free(&c);
    g = op_graph("Constant", 13, 0, NULL, NULL, 1, &n);
    assert_int_equal(aglm_node_set_floats(n, "value_floats", (const float[]){1.5f, -2}, 2),
                     AGLM_OK);
    run_op(f, g, 0, NULL, NULL, 1, &y);
    assert_values(&y, 1, (int64_t[]){2}, (const double[]){1.5, -2});
    assert_int_equal(y.dtype, AGLM_F32);
    aglm_tensor_free(&y);
    g = op_graph("Constant", 13, 0, NULL, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "value_int", 42), AGLM_OK);
    run_op(f, g, 0, NULL, NULL, 1, &y);
    assert_values(&y, 0, NULL, (const double[]){42});
    assert_int_equal(y.dtype, AGLM_I64);
    aglm_tensor_free(&y);
}

/* The first opsets: Reshape-1 takes its shape as an attribute, Concat-1 defaults axis to 1;
 * Size counts the elements of any dtype. */
static void test_old_opsets_and_size(void **state)
{
    backend_fx *f = *state;
    int64_t d[2] = {2, 3};
    aglm_tensor x = ramp(AGLM_I8, 2, d), y;
    const aglm_tensor *ins[2] = {&x, &x};
    aglm_node *n;
    aglm_graph *g = op_graph("Reshape", 4, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "shape", (const int64_t[]){3, -1}, 2), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 2, (const int64_t[]){3, 2}, (const double[]){0, 1, 2, 3, 4, 5});
    aglm_tensor_free(&y);
    g = op_graph("Concat", 1, 2, ins, NULL, 1, NULL);
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 2, (const int64_t[]){2, 6},
                  (const double[]){0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
    aglm_tensor_free(&y);
    g = op_graph("Concat", 13, 2, ins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 2, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "axis"));
    aglm_graph_free(g);
    g = op_graph("Size", 13, 1, ins, NULL, 1, NULL);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_int_equal(y.dtype, AGLM_I64);
    assert_values(&y, 0, NULL, (const double[]){6});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_flatten_squeeze_unsqueeze_identity),
        cmocka_unit_test(test_shape_and_constant),
        cmocka_unit_test(test_old_opsets_and_size),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
