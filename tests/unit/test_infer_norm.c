/* Shape inference of the normalisation, loss and integer-product rules (infer_ops_norm.c and
 * QLinearMatMul in infer_ops_math.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "aglm/aglm.h"

/* A graph input of static shape. */
static aglm_value *in(aglm_graph *g, const char *name, aglm_dtype dt, int rank, const int64_t *dims)
{
    aglm_dim d[AGLM_MAX_RANK];
    for (int i = 0; i < rank; i++)
        d[i] = (aglm_dim){dims[i], NULL};
    aglm_value *v = aglm_graph_new_value(g, name, dt, rank, d);
    assert_non_null(v);
    assert_int_equal(aglm_graph_add_input(g, v), AGLM_OK);
    return v;
}

/* One node `op` of opset `opset` over ins; returns the graph, its node in *node and outputs in
 * outs (untyped until inference). */
static aglm_graph *one_node(const char *op, int64_t opset, size_t n_in, aglm_value **ins,
                            aglm_graph *g, size_t n_out, aglm_value **outs, aglm_node **node)
{
    assert_int_equal(aglm_graph_set_opset(g, "", opset), AGLM_OK);
    for (size_t i = 0; i < n_out; i++) {
        char name[32];
        snprintf(name, sizeof name, "y%zu", i);
        outs[i] = aglm_graph_new_value(g, name, AGLM_UNDEFINED, -1, NULL);
        assert_non_null(outs[i]);
    }
    *node = aglm_graph_add_node(g, op, NULL, "n", n_in, ins, n_out, outs);
    assert_non_null(*node);
    for (size_t i = 0; i < n_out; i++)
        assert_int_equal(aglm_graph_add_output(g, outs[i]), AGLM_OK);
    return g;
}

static void assert_type(const aglm_value *v, const char *want)
{
    char buf[128];
    aglm_value_type_str(v, buf, sizeof buf);
    if (strcmp(buf, want) != 0)
        fail_msg("type %s, expected %s", buf, want);
}

static void test_losses(void **state)
{
    const char *reds[3] = {"none", "mean", "sum"};
    const char *want[3] = {"f32[3,2]", "f32[]", "f32[]"};
    for (int r = 0; r < 3; r++) {
        aglm_graph *g = aglm_graph_new("t");
        aglm_value *ins[2] = {in(g, "x", AGLM_F32, 3, (int64_t[]){3, 5, 2}),
                              in(g, "t", AGLM_I64, 2, (int64_t[]){3, 2})};
        aglm_value *outs[2];
        aglm_node *n;
        one_node("SoftmaxCrossEntropyLoss", 13, 2, ins, g, 2, outs, &n);
        assert_int_equal(aglm_node_set_string(n, "reduction", reds[r], strlen(reds[r])), AGLM_OK);
        if (aglm_infer_shapes(g) != AGLM_OK)
            fail_msg("%s", aglm_last_error());
        assert_type(outs[0], want[r]);
        assert_type(outs[1], "f32[3,5,2]");
        aglm_graph_free(g);
    }
    /* a target that does not match the input is named with both types */
    aglm_graph *g = aglm_graph_new("t");
    aglm_value *ins[2] = {in(g, "x", AGLM_F32, 2, (int64_t[]){3, 5}),
                          in(g, "t", AGLM_I64, 1, (int64_t[]){4})};
    aglm_value *outs[1];
    aglm_node *n;
    one_node("NegativeLogLikelihoodLoss", 13, 2, ins, g, 1, outs, &n);
    assert_int_equal(aglm_infer_shapes(g), AGLM_ERR_SHAPE);
    assert_non_null(strstr(aglm_last_error(), "target i64[4]"));
    aglm_graph_free(g);
}

static void test_integer_ops(void **state)
{
    /* ConvInteger: Conv's geometry, i32 */
    aglm_graph *g = aglm_graph_new("t");
    aglm_value *ins[9] = {in(g, "x", AGLM_U8, 4, (int64_t[]){1, 2, 5, 5}),
                          in(g, "w", AGLM_I8, 4, (int64_t[]){4, 2, 3, 3})};
    aglm_value *outs[3];
    aglm_node *n;
    one_node("ConvInteger", 10, 2, ins, g, 1, outs, &n);
    assert_int_equal(aglm_node_set_ints(n, "pads", (int64_t[]){1, 1, 1, 1}, 4), AGLM_OK);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_type(outs[0], "i32[1,4,5,5]");
    aglm_graph_free(g);

    /* QLinearMatMul: batched matmul shape in y_zero_point's dtype */
    g = aglm_graph_new("t");
    ins[0] = in(g, "a", AGLM_I8, 3, (int64_t[]){2, 3, 4});
    ins[1] = in(g, "as", AGLM_F32, 0, NULL);
    ins[2] = in(g, "az", AGLM_I8, 0, NULL);
    ins[3] = in(g, "b", AGLM_I8, 2, (int64_t[]){4, 6});
    ins[4] = in(g, "bs", AGLM_F32, 0, NULL);
    ins[5] = in(g, "bz", AGLM_I8, 0, NULL);
    ins[6] = in(g, "ys", AGLM_F32, 0, NULL);
    ins[7] = in(g, "yz", AGLM_U8, 0, NULL);
    one_node("QLinearMatMul", 10, 8, ins, g, 1, outs, &n);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_type(outs[0], "u8[2,3,6]");
    aglm_graph_free(g);

    /* DynamicQuantizeLinear: u8 data, scalar scale and zero point */
    g = aglm_graph_new("t");
    ins[0] = in(g, "x", AGLM_F32, 2, (int64_t[]){3, 4});
    one_node("DynamicQuantizeLinear", 11, 1, ins, g, 3, outs, &n);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_type(outs[0], "u8[3,4]");
    assert_type(outs[1], "f32[]");
    assert_type(outs[2], "u8[]");
    aglm_graph_free(g);
}

static void test_group_norm(void **state)
{
    aglm_graph *g = aglm_graph_new("t");
    aglm_value *ins[3] = {in(g, "x", AGLM_F32, 3, (int64_t[]){2, 6, 4}),
                          in(g, "s", AGLM_F32, 1, (int64_t[]){6}),
                          in(g, "b", AGLM_F32, 1, (int64_t[]){6})};
    aglm_value *outs[1];
    aglm_node *n;
    one_node("GroupNormalization", 21, 3, ins, g, 1, outs, &n);
    assert_int_equal(aglm_node_set_int(n, "num_groups", 4), AGLM_OK);
    assert_int_equal(aglm_infer_shapes(g), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "num_groups 4"));
    assert_int_equal(aglm_node_set_int(n, "num_groups", 3), AGLM_OK);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_type(outs[0], "f32[2,6,4]");
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_losses),
        cmocka_unit_test(test_integer_ops),
        cmocka_unit_test(test_group_norm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
