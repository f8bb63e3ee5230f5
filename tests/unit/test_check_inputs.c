/* Run-time inputs against declared graph inputs (aglm_graph_check_inputs), and specialising a
 * graph to one input shape (aglm_graph_specialize). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

static aglm_graph *g;

static int setup(void **state)
{
    (void)state;
    g = aglm_graph_new("net");
    if (!g)
        return -1;
    return aglm_graph_set_opset(g, "", 17) == AGLM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    aglm_graph_free(g);
    g = NULL;
    return 0;
}

/* A value of type "2,N,?" ("*": unknown shape). */
static aglm_value *val(const char *name, aglm_dtype dt, const char *shape)
{
    aglm_dim dims[AGLM_MAX_RANK];
    int rank = 0;
    char buf[128];
    if (strcmp(shape, "*") == 0) {
        aglm_value *v = aglm_graph_new_value(g, name, dt, -1, NULL);
        assert_non_null(v);
        return v;
    }
    snprintf(buf, sizeof buf, "%s", shape);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        aglm_dim d = {AGLM_DIM_DYNAMIC, NULL};
        if (tok[0] >= '0' && tok[0] <= '9')
            d.value = strtoll(tok, NULL, 10);
        else if (strcmp(tok, "?") != 0)
            d.sym = tok;
        dims[rank++] = d;
    }
    aglm_value *v = aglm_graph_new_value(g, name, dt, rank, dims);
    assert_non_null(v);
    return v;
}

static aglm_value *input(const char *name, aglm_dtype dt, const char *shape)
{
    aglm_value *v = val(name, dt, shape);
    assert_int_equal(aglm_graph_add_input(g, v), AGLM_OK);
    return v;
}

/* A shape-only tensor descriptor (check_inputs never reads data). */
static aglm_tensor tensor(aglm_dtype dt, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    aglm_tensor t;
    int64_t dims[4] = {d0, d1, d2, d3};
    aglm_tensor_wrap(&t, dt, rank, dims, NULL);
    return t;
}

static const char *ty(const aglm_value *v)
{
    static char buf[8][128];
    static int k;
    k = (k + 1) % 8;
    return aglm_value_type_str(v, buf[k], sizeof buf[k]);
}

static void expect(aglm_status got, aglm_status want, const char *message)
{
    assert_int_equal(got, want);
    if (!strstr(aglm_last_error(), message))
        fail_msg("'%s' not in '%s'", message, aglm_last_error());
}

static void test_matching_inputs_pass(void **state)
{
    (void)state;
    input("x", AGLM_F32, "1,3,N,N");
    input("y", AGLM_I64, "N,?");
    input("z", AGLM_U8, "*");
    aglm_tensor in[3] = {tensor(AGLM_F32, 4, 1, 3, 4, 4), tensor(AGLM_I64, 2, 4, 9, 0, 0),
                         tensor(AGLM_U8, 3, 2, 2, 2, 0)};
    assert_int_equal(aglm_graph_check_inputs(g, 3, in), AGLM_OK);
    /* zero-size dims are sizes like any other */
    in[1] = tensor(AGLM_I64, 2, 4, 0, 0, 0);
    assert_int_equal(aglm_graph_check_inputs(g, 3, in), AGLM_OK);
}

static void test_count_mismatch(void **state)
{
    (void)state;
    input("x", AGLM_F32, "2");
    input("y", AGLM_F32, "2");
    aglm_tensor in[1] = {tensor(AGLM_F32, 1, 2, 0, 0, 0)};
    expect(aglm_graph_check_inputs(g, 1, in), AGLM_ERR_INVALID,
           "graph 'net' expects 2 inputs, got 1");
    expect(aglm_graph_check_inputs(g, 2, NULL), AGLM_ERR_INVALID, "inputs is NULL");
    expect(aglm_graph_check_inputs(NULL, 0, NULL), AGLM_ERR_INVALID, "graph is NULL");
}

static void test_dtype_mismatch(void **state)
{
    (void)state;
    input("x", AGLM_F32, "1,3,N,N");
    aglm_tensor t = tensor(AGLM_I64, 4, 1, 3, 4, 4);
    assert_int_equal(aglm_graph_check_inputs(g, 1, &t), AGLM_ERR_TYPE);
    assert_string_equal(aglm_last_error(), "input 'x': expected f32[1,3,N,N], got i64[1,3,4,4]");
}

static void test_rank_and_static_dim_mismatch(void **state)
{
    (void)state;
    input("x", AGLM_F32, "1,3,N,N");
    aglm_tensor t = tensor(AGLM_F32, 3, 1, 3, 4, 0);
    assert_int_equal(aglm_graph_check_inputs(g, 1, &t), AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(), "input 'x': expected f32[1,3,N,N], got f32[1,3,4]");
    t = tensor(AGLM_F32, 4, 1, 1, 4, 4);
    assert_int_equal(aglm_graph_check_inputs(g, 1, &t), AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(), "input 'x': expected f32[1,3,N,N], got f32[1,1,4,4]");
}

static void test_symbol_binding(void **state)
{
    (void)state;
    input("x", AGLM_F32, "1,3,N,N");
    aglm_tensor t = tensor(AGLM_F32, 4, 1, 3, 4, 5);
    expect(aglm_graph_check_inputs(g, 1, &t), AGLM_ERR_SHAPE,
           "input 'x': expected f32[1,3,N,N], got f32[1,3,4,5]");
    input("y", AGLM_F32, "N,3");
    aglm_tensor in[2] = {tensor(AGLM_F32, 4, 1, 3, 2, 2), tensor(AGLM_F32, 2, 3, 3, 0, 0)};
    assert_int_equal(aglm_graph_check_inputs(g, 2, in), AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(), "input 'y': dim 0 is N=2 in input 'x' but 3 here");
    in[1] = tensor(AGLM_F32, 2, 2, 3, 0, 0);
    assert_int_equal(aglm_graph_check_inputs(g, 2, in), AGLM_OK);
}

static void test_bad_tensor_descriptor(void **state)
{
    (void)state;
    input("x", AGLM_F32, "*");
    aglm_tensor t = tensor(AGLM_F32, 2, 3, -4, 0, 0);
    expect(aglm_graph_check_inputs(g, 1, &t), AGLM_ERR_INVALID, "input 'x': dim 1");
    t.rank = AGLM_MAX_RANK + 1;
    expect(aglm_graph_check_inputs(g, 1, &t), AGLM_ERR_INVALID, "input 'x': rank 9");
}

static aglm_value *init_f32(const char *name, int rank, const int64_t *dims)
{
    aglm_tensor t;
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, rank, dims), AGLM_OK);
    aglm_value *v = aglm_graph_add_initializer(g, name, &t);
    aglm_tensor_free(&t);
    assert_non_null(v);
    return v;
}

static aglm_value *add_node(const char *op, const char *name, size_t n_in, aglm_value *const *in,
                            const char *out)
{
    aglm_value *y = aglm_graph_new_value(g, out, AGLM_UNDEFINED, -1, NULL);
    assert_non_null(y);
    assert_non_null(aglm_graph_add_node(g, op, "", name, n_in, in, 1, &y));
    return y;
}

static void test_specialize_three_nodes(void **state)
{
    (void)state;
    /* y = Relu(x @ W + b) over a symbolic batch */
    aglm_value *x = input("x", AGLM_F32, "N,3");
    int64_t wd[] = {3, 4}, bd[] = {4};
    aglm_value *mm_in[2] = {x, init_f32("W", 2, wd)};
    aglm_value *h = add_node("MatMul", "mm", 2, mm_in, "h");
    aglm_value *add_in[2] = {h, init_f32("b", 1, bd)};
    aglm_value *s = add_node("Add", "add", 2, add_in, "s");
    aglm_value *y = add_node("Relu", "relu", 1, &s, "y");
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_string_equal(ty(y), "f32[N,4]");

    aglm_tensor t = tensor(AGLM_F32, 2, 2, 3, 0, 0);
    assert_int_equal(aglm_graph_specialize(g, 1, &t), AGLM_OK);
    assert_string_equal(ty(x), "f32[2,3]");
    assert_string_equal(ty(h), "f32[2,4]");
    assert_string_equal(ty(s), "f32[2,4]");
    assert_string_equal(ty(y), "f32[2,4]");
    assert_true(aglm_value_is_static(y));
    /* the specialised graph now wants exactly that shape */
    aglm_tensor other = tensor(AGLM_F32, 2, 5, 3, 0, 0);
    expect(aglm_graph_check_inputs(g, 1, &other), AGLM_ERR_SHAPE,
           "input 'x': expected f32[2,3], got f32[5,3]");
}

static void test_specialize_binds_declared_symbols(void **state)
{
    (void)state;
    /* a declared output keeps a symbol the rule cannot derive; specialising binds it anyway */
    aglm_value *x = input("x", AGLM_F32, "N,6");
    aglm_value *shape = input("shape", AGLM_I64, "2");
    aglm_value *in[2] = {x, shape};
    aglm_value *y = val("y", AGLM_F32, "N,?");
    assert_non_null(aglm_graph_add_node(g, "Reshape", "", "r", 2, in, 1, &y));
    aglm_tensor t[2] = {tensor(AGLM_F32, 2, 4, 6, 0, 0), tensor(AGLM_I64, 1, 2, 0, 0, 0)};
    assert_int_equal(aglm_graph_specialize(g, 2, t), AGLM_OK);
    assert_string_equal(ty(y), "f32[4,?]");
}

static void test_specialize_failure_changes_nothing(void **state)
{
    (void)state;
    /* N and M broadcast symbolically, but 2 and 3 do not */
    aglm_value *a = input("a", AGLM_F32, "N");
    aglm_value *b = input("b", AGLM_F32, "M");
    aglm_value *in[2] = {a, b};
    aglm_value *s = add_node("Add", "add1", 2, in, "s");
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_string_equal(ty(s), "f32[?]");
    aglm_tensor t[2] = {tensor(AGLM_F32, 1, 2, 0, 0, 0), tensor(AGLM_F32, 1, 3, 0, 0, 0)};
    expect(aglm_graph_specialize(g, 2, t), AGLM_ERR_SHAPE,
           "node 'add1' (Add): cannot broadcast f32[2] with f32[3]");
    assert_string_equal(ty(a), "f32[N]");
    assert_string_equal(ty(b), "f32[M]");
    assert_string_equal(ty(s), "f32[?]");
    /* a failed check changes nothing either */
    aglm_tensor bad[2] = {tensor(AGLM_I32, 1, 2, 0, 0, 0), tensor(AGLM_F32, 1, 3, 0, 0, 0)};
    expect(aglm_graph_specialize(g, 2, bad), AGLM_ERR_TYPE, "input 'a'");
    assert_string_equal(ty(a), "f32[N]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_matching_inputs_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtype_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rank_and_static_dim_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symbol_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_tensor_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_specialize_three_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_specialize_binds_declared_symbols, setup, teardown),
        cmocka_unit_test_setup_teardown(test_specialize_failure_changes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
