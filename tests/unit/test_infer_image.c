/* Shape inference of the image, detection and signal rules (infer_ops_image.c,
 * infer_ops_signal.c, and DeformConv, MaxUnpool, RoiAlign, CausalConvWithState in
 * infer_ops_nn.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "aglm/aglm.h"

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

/* A constant of dtype dt holding vals (as doubles), 1-D of n, or a scalar when n is 0. */
static aglm_value *cst(aglm_graph *g, const char *name, aglm_dtype dt, int64_t n,
                       const double *vals)
{
    aglm_tensor t;
    assert_int_equal(aglm_tensor_alloc(&t, dt, n ? 1 : 0, &n), AGLM_OK);
    for (int64_t i = 0; i < (n ? n : 1); i++)
        aglm_tensor_set_f64(&t, i, vals[i]);
    aglm_value *v = aglm_graph_add_initializer(g, name, &t);
    aglm_tensor_free(&t);
    assert_non_null(v);
    return v;
}

/* Infers a one-node graph of op over ins and checks each output's type text. */
static void check(const char *op, int64_t opset, size_t n_in, aglm_value **ins, aglm_graph *g,
                  void (*attrs)(aglm_node *), size_t n_out, const char *const *want)
{
    assert_int_equal(aglm_graph_set_opset(g, "", opset), AGLM_OK);
    aglm_value *outs[4];
    for (size_t i = 0; i < n_out; i++) {
        char name[32];
        snprintf(name, sizeof name, "y%zu", i);
        outs[i] = aglm_graph_new_value(g, name, AGLM_UNDEFINED, -1, NULL);
        assert_non_null(outs[i]);
    }
    aglm_node *n = aglm_graph_add_node(g, op, NULL, "n", n_in, ins, n_out, outs);
    assert_non_null(n);
    if (attrs)
        attrs(n);
    if (aglm_infer_shapes(g) != AGLM_OK)
        fail_msg("%s: %s", op, aglm_last_error());
    for (size_t i = 0; i < n_out; i++) {
        char buf[128];
        aglm_value_type_str(outs[i], buf, sizeof buf);
        if (strcmp(buf, want[i]) != 0)
            fail_msg("%s output %zu: type %s, expected %s", op, i, buf, want[i]);
    }
    aglm_graph_free(g);
}

static void keep_not_larger(aglm_node *n)
{
    assert_int_equal(aglm_node_set_string(n, "keep_aspect_ratio_policy", "not_larger", 10),
                     AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "axes", (const int64_t[]){2, 3}, 2), AGLM_OK);
}

static void test_resize(void **state)
{
    (void)state;
    /* constant scales: floor(scale * size) */
    aglm_graph *g = aglm_graph_new("t");
    aglm_value *ins[4] = {in(g, "x", AGLM_F32, 4, (int64_t[]){1, 3, 5, 7}), NULL,
                          cst(g, "s", AGLM_F32, 4, (const double[]){1, 1, 2, 0.5}), NULL};
    check("Resize", 13, 3, ins, g, NULL, 1, (const char *[]){"f32[1,3,10,3]"});
    /* constant sizes on axes 2, 3 keeping the aspect ratio: 2x2 -> 7x7 for 7x8 */
    g = aglm_graph_new("t");
    ins[0] = in(g, "x", AGLM_F32, 4, (int64_t[]){1, 1, 2, 2});
    ins[1] = ins[2] = NULL;
    ins[3] = cst(g, "sz", AGLM_I64, 2, (const double[]){7, 8});
    check("Resize", 19, 4, ins, g, keep_not_larger, 1, (const char *[]){"f32[1,1,7,7]"});
    /* scales from a graph input: rank known, resized dims not */
    g = aglm_graph_new("t");
    ins[0] = in(g, "x", AGLM_U8, 4, (int64_t[]){1, 3, 5, 7});
    ins[2] = in(g, "s", AGLM_F32, 1, (int64_t[]){4});
    check("Resize", 19, 3, ins, g, NULL, 1, (const char *[]){"u8[?,?,?,?]"});
}

static void test_grid_ops(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("t");
    aglm_value *ins[2] = {in(g, "x", AGLM_F32, 4, (int64_t[]){2, 3, 8, 9}),
                          in(g, "grid", AGLM_F32, 4, (int64_t[]){2, 5, 6, 2})};
    check("GridSample", 20, 2, ins, g, NULL, 1, (const char *[]){"f32[2,3,5,6]"});
    g = aglm_graph_new("t");
    ins[0] = in(g, "theta", AGLM_F32, 3, (int64_t[]){2, 3, 4});
    ins[1] = cst(g, "size", AGLM_I64, 5, (const double[]){2, 1, 4, 5, 6});
    check("AffineGrid", 20, 2, ins, g, NULL, 1, (const char *[]){"f32[2,4,5,6,3]"});
}

static void test_detection(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("t");
    aglm_value *ins[3] = {in(g, "b", AGLM_F32, 3, (int64_t[]){1, 6, 4}),
                          in(g, "s", AGLM_F32, 3, (int64_t[]){1, 2, 6}), NULL};
    check("NonMaxSuppression", 11, 2, ins, g, NULL, 1, (const char *[]){"i64[?,3]"});
    g = aglm_graph_new("t");
    ins[0] = in(g, "x", AGLM_F32, 4, (int64_t[]){1, 8, 10, 10});
    ins[1] = in(g, "rois", AGLM_F32, 2, (int64_t[]){5, 4});
    ins[2] = in(g, "bi", AGLM_I64, 1, (int64_t[]){5});
    check("RoiAlign", 16, 3, ins, g, NULL, 1, (const char *[]){"f32[5,8,1,1]"});
}

static void unpool_attrs(aglm_node *n)
{
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", (const int64_t[]){2, 2}, 2), AGLM_OK);
}

static void deform_attrs(aglm_node *n)
{
    assert_int_equal(aglm_node_set_ints(n, "pads", (const int64_t[]){1, 1, 1, 1}, 4), AGLM_OK);
}

static void test_nn_extras(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("t");
    aglm_value *ins[5] = {in(g, "x", AGLM_F32, 4, (int64_t[]){1, 2, 3, 4}),
                          in(g, "i", AGLM_I64, 4, (int64_t[]){1, 2, 3, 4})};
    check("MaxUnpool", 11, 2, ins, g, unpool_attrs, 1, (const char *[]){"f32[1,2,6,8]"});
    g = aglm_graph_new("t");
    ins[0] = in(g, "x", AGLM_F32, 4, (int64_t[]){1, 4, 5, 5});
    ins[1] = in(g, "w", AGLM_F32, 4, (int64_t[]){6, 4, 3, 3});
    ins[2] = in(g, "off", AGLM_F32, 4, (int64_t[]){1, 18, 5, 5});
    ins[3] = in(g, "b", AGLM_F32, 1, (int64_t[]){6});
    check("DeformConv", 19, 4, ins, g, deform_attrs, 1, (const char *[]){"f32[1,6,5,5]"});
    g = aglm_graph_new("t");
    ins[0] = in(g, "x", AGLM_F16, 3, (int64_t[]){2, 4, 8});
    ins[1] = in(g, "w", AGLM_F16, 3, (int64_t[]){4, 1, 3});
    check("CausalConvWithState", 27, 2, ins, g, NULL, 2,
          (const char *[]){"f16[2,4,8]", "f16[2,4,2]"});
}

static void onesided(aglm_node *n)
{
    assert_int_equal(aglm_node_set_int(n, "onesided", 1), AGLM_OK);
}

static void test_signal(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("t");
    aglm_value *ins[5] = {in(g, "x", AGLM_F32, 4, (int64_t[]){1, 10, 10, 1})};
    check("DFT", 17, 1, ins, g, onesided, 1, (const char *[]){"f32[1,6,10,2]"});
    g = aglm_graph_new("t");
    ins[0] = in(g, "x", AGLM_F32, 4, (int64_t[]){1, 10, 10, 1});
    ins[1] = NULL;
    ins[2] = cst(g, "axis", AGLM_I64, 0, (const double[]){2});
    check("DFT", 20, 3, ins, g, NULL, 1, (const char *[]){"f32[1,10,10,2]"});
    g = aglm_graph_new("t");
    ins[0] = in(g, "sig", AGLM_F32, 3, (int64_t[]){1, 128, 1});
    ins[1] = cst(g, "step", AGLM_I64, 0, (const double[]){8});
    ins[2] = NULL;
    ins[3] = cst(g, "len", AGLM_I64, 0, (const double[]){16});
    check("STFT", 17, 4, ins, g, NULL, 1, (const char *[]){"f32[1,15,9,2]"});
    g = aglm_graph_new("t");
    ins[0] = cst(g, "n", AGLM_I32, 0, (const double[]){10});
    check("HannWindow", 17, 1, ins, g, NULL, 1, (const char *[]){"f32[10]"});
    g = aglm_graph_new("t");
    ins[0] = cst(g, "bins", AGLM_I32, 0, (const double[]){8});
    ins[1] = cst(g, "len", AGLM_I32, 0, (const double[]){16});
    ins[2] = cst(g, "rate", AGLM_I32, 0, (const double[]){8192});
    ins[3] = cst(g, "lo", AGLM_F32, 0, (const double[]){0});
    ins[4] = cst(g, "hi", AGLM_F32, 0, (const double[]){4096});
    check("MelWeightMatrix", 17, 5, ins, g, NULL, 1, (const char *[]){"f32[9,8]"});
}

/* A DFT axis naming the complex dim is refused with the node named. */
static void test_bad_dft_axis(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("t");
    assert_int_equal(aglm_graph_set_opset(g, "", 17), AGLM_OK);
    aglm_value *x = in(g, "x", AGLM_F32, 3, (int64_t[]){1, 4, 2});
    aglm_value *y = aglm_graph_new_value(g, "y", AGLM_UNDEFINED, -1, NULL);
    aglm_node *n = aglm_graph_add_node(g, "DFT", NULL, "dft", 1, &x, 1, &y);
    assert_non_null(n);
    assert_int_equal(aglm_node_set_int(n, "axis", 2), AGLM_OK);
    assert_int_not_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "dft"));
    assert_non_null(strstr(aglm_last_error(), "axis 2"));
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize),    cmocka_unit_test(test_grid_ops),
        cmocka_unit_test(test_detection), cmocka_unit_test(test_nn_extras),
        cmocka_unit_test(test_signal),    cmocka_unit_test(test_bad_dft_axis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
