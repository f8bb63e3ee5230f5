/* ConvTranspose, DeformConv, CausalConvWithState, GridSample, AffineGrid, RoiAlign,
 * NonMaxSuppression and MaxUnpool on the backend under test, against the ONNX operator docs'
 * examples and values worked out by hand (noted where they are). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

static void set_str(aglm_node *n, const char *name, const char *v)
{
    assert_int_equal(aglm_node_set_string(n, name, v, strlen(v)), AGLM_OK);
}

static void free_all(aglm_tensor *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aglm_tensor_free(&t[i]);
}

static void test_conv_transpose(void **state)
{
    backend_fx *f = *state;
    /* 1-D: each input scatters a window of ones: [0, 1, 2] -> [0, 1, 3, 3, 2] per channel */
    int64_t dx[3] = {1, 1, 3}, dw[3] = {1, 2, 3}, o1[3] = {1, 2, 5};
    aglm_tensor t[3];
    t[0] = tensor_f32(3, dx, (const float[]){0, 1, 2});
    t[1] = tensor_f32(3, dw, (const float[]){1, 1, 1, 1, 1, 1});
    const aglm_tensor *ins[2] = {&t[0], &t[1]};
    aglm_graph *g = op_graph("ConvTranspose", 17, 2, ins, NULL, 1, NULL);
    run_op(f, g, 2, ins, NULL, 1, &t[2]);
    assert_values(&t[2], 3, o1, (const double[]){0, 1, 3, 3, 2, 0, 1, 3, 3, 2});
    free_all(t, 3);

    /* the docs' dilations example */
    int64_t d2[4] = {1, 1, 3, 3}, w2[4] = {1, 1, 2, 2}, o2[4] = {1, 1, 5, 5};
    t[0] = tensor_f32(4, d2, (const float[]){3, 8, 1, 9, 5, 7, 3, 2, 6});
    t[1] = tensor_f32(4, w2, (const float[]){7, 2, 1, 9});
    aglm_node *n;
    g = op_graph("ConvTranspose", 17, 2, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "dilations", (const int64_t[]){2, 2}, 2), AGLM_OK);
    run_op(f, g, 2, ins, NULL, 1, &t[2]);
    assert_values(&t[2], 4, o2, (const double[]){21, 56, 13, 16, 2,  63, 35, 67, 10, 14, 24, 22, 76,
                                                 76, 21, 9,  5,  88, 45, 63, 3,  2,  33, 18, 54});
    aglm_tensor_free(&t[2]);

    /* output_shape larger than the natural size pads at the end; bias adds per channel */
    int64_t ob[4] = {1, 1, 6, 5}, db[1] = {1};
    t[2] = tensor_f32(1, db, (const float[]){100});
    const aglm_tensor *ins3[3] = {&t[0], &t[1], &t[2]};
    g = op_graph("ConvTranspose", 17, 3, ins3, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "dilations", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "output_shape", (const int64_t[]){6, 5}, 2), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 3, ins3, NULL, 1, &y);
    assert_int_equal(y.rank, 4);
    assert_memory_equal(y.dims, ob, sizeof ob);
    const float *yd = y.data;
    assert_float_equal(yd[0], 121, 1e-4);
    assert_float_equal(yd[5 * 5 + 4], 100, 1e-4); /* the added row holds only the bias */
    aglm_tensor_free(&y);
    free_all(t, 3);
}

static void test_deform_conv(void **state)
{
    backend_fx *f = *state;
    /* 3x3 input 0..8, 2x2 weights of ones: zero offsets give a plain convolution, then tap 0
     * of output (0, 0) moves down half a pixel (between 0 and 3: +1.5) */
    int64_t dx[4] = {1, 1, 3, 3}, dw[4] = {1, 1, 2, 2}, doff[4] = {1, 8, 2, 2}, o[4] = {1, 1, 2, 2};
    aglm_tensor t[4];
    t[0] = tensor_f32(4, dx, (const float[]){0, 1, 2, 3, 4, 5, 6, 7, 8});
    t[1] = tensor_f32(4, dw, (const float[]){1, 1, 1, 1});
    t[2] = tensor_f32(4, doff, NULL);
    const aglm_tensor *ins[3] = {&t[0], &t[1], &t[2]};
    aglm_graph *g = op_graph("DeformConv", 19, 3, ins, NULL, 1, NULL);
    run_op(f, g, 3, ins, NULL, 1, &t[3]);
    assert_values(&t[3], 4, o, (const double[]){8, 12, 20, 24});
    aglm_tensor_free(&t[3]);
    ((float *)t[2].data)[0] = 0.5f;
    g = op_graph("DeformConv", 19, 3, ins, NULL, 1, NULL);
    run_op(f, g, 3, ins, NULL, 1, &t[3]);
    assert_values(&t[3], 4, o, (const double[]){9.5, 12, 20, 24});
    free_all(t, 4);
}

static void test_causal_conv(void **state)
{
    backend_fx *f = *state;
    /* [1, 2, 3, 4] after one step of state through weights [1, 10]: out[t] = p[t] + 10 p[t+1] */
    int64_t dx[3] = {1, 1, 4}, dw[3] = {1, 1, 2}, ds[3] = {1, 1, 1};
    aglm_tensor t[4], y[2];
    t[0] = tensor_f32(3, dx, (const float[]){1, 2, 3, 4});
    t[1] = tensor_f32(3, dw, (const float[]){1, 10});
    t[2] = tensor_f32(3, ds, (const float[]){5});
    const aglm_tensor *ins[4] = {&t[0], &t[1], NULL, NULL};
    aglm_graph *g = op_graph("CausalConvWithState", 27, 2, ins, NULL, 2, NULL);
    run_op(f, g, 2, ins, NULL, 2, y);
    assert_values(&y[0], 3, dx, (const double[]){10, 21, 32, 43});
    assert_values(&y[1], 3, ds, (const double[]){4});
    free_all(y, 2);
    ins[3] = &t[2];
    aglm_node *n;
    g = op_graph("CausalConvWithState", 27, 4, ins, NULL, 2, &n);
    set_str(n, "activation", "silu");
    run_op(f, g, 4, ins, NULL, 2, y);
    double v0 = 15 / (1 + exp(-15.0));
    assert_values(
        &y[0], 3, dx,
        (const double[]){v0, 21 / (1 + exp(-21.0)), 32 / (1 + exp(-32.0)), 43 / (1 + exp(-43.0))});
    free_all(y, 2);
    free_all(t, 3);
}

static void test_grid_sample(void **state)
{
    backend_fx *f = *state;
    int64_t dx[4] = {1, 1, 3, 2}, dg[4] = {1, 2, 4, 2}, o[4] = {1, 1, 2, 4};
    aglm_tensor t[2], y;
    t[0] = tensor_f32(4, dx, (const float[]){0, 1, 2, 3, 4, 5});
    t[1] = tensor_f32(4, dg,
                      (const float[]){-1, -1, -0.5f, -0.5f, -0.2f, -0.2f, 0, 0, 0, 0, -0.2f, -0.2f,
                                      0.5f, 0.5f, 1, 1});
    const aglm_tensor *ins[2] = {&t[0], &t[1]};
    /* the docs' bilinear, nearest and border examples */
    aglm_graph *g = op_graph("GridSample", 20, 2, ins, NULL, 1, NULL);
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){0, 0.5, 1.7, 2.5, 2.5, 1.7, 4.5, 1.25});
    aglm_tensor_free(&y);
    aglm_node *n;
    g = op_graph("GridSample", 20, 2, ins, NULL, 1, &n);
    set_str(n, "mode", "nearest");
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){0, 0, 2, 2, 2, 2, 5, 0});
    aglm_tensor_free(&y);
    float *gd = t[1].data;
    const float far[16] = {-10, -10, -5,    -5,    -0.2f, -0.2f, 10, 10,
                           10,  10,  -0.2f, -0.2f, 5,     5,     10, 10};
    memcpy(gd, far, sizeof far);
    g = op_graph("GridSample", 20, 2, ins, NULL, 1, &n);
    set_str(n, "padding_mode", "border");
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){0, 0, 1.7, 5, 5, 1.7, 5, 5});
    aglm_tensor_free(&y);
    /* NaN and infinite coordinates read as outside: zeros */
    gd[0] = NAN;
    gd[3] = INFINITY;
    gd[4] = -INFINITY;
    g = op_graph("GridSample", 20, 2, ins, NULL, 1, NULL);
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_float_equal(((float *)y.data)[0], 0, 0);
    assert_float_equal(((float *)y.data)[1], 0, 0);
    assert_float_equal(((float *)y.data)[2], 0, 0);
    assert_float_equal(((float *)y.data)[5], 1.7f, 1e-5);
    aglm_tensor_free(&y);
    free_all(t, 2);
}

static void test_affine_grid(void **state)
{
    backend_fx *f = *state;
    /* identity theta: the grid is the normalised pixel centres (or corners with
     * align_corners), x first; W = 3 gives x of -2/3, 0, 2/3, H = 2 gives y of -1/2, 1/2 */
    int64_t dt[3] = {1, 2, 3}, ds[1] = {4}, o[4] = {1, 2, 3, 2};
    aglm_tensor t[2], y;
    t[0] = tensor_f32(3, dt, (const float[]){1, 0, 0, 0, 1, 0});
    t[1] = tensor_of(AGLM_I64, 1, ds, (const double[]){1, 1, 2, 3});
    const aglm_tensor *ins[2] = {&t[0], &t[1]};
    aglm_graph *g = op_graph("AffineGrid", 20, 2, ins, NULL, 1, NULL);
    run_op(f, g, 2, ins, NULL, 1, &y);
    double a = 2.0 / 3.0;
    assert_values(&y, 4, o, (const double[]){-a, -0.5, 0, -0.5, a, -0.5, -a, 0.5, 0, 0.5, a, 0.5});
    aglm_tensor_free(&y);
    /* align_corners with a translation by (1, 2) */
    float *th = t[0].data;
    th[2] = 1;
    th[5] = 2;
    aglm_node *n;
    g = op_graph("AffineGrid", 20, 2, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "align_corners", 1), AGLM_OK);
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){0, 1, 1, 1, 2, 1, 0, 3, 1, 3, 2, 3});
    aglm_tensor_free(&y);
    free_all(t, 2);
}

static void test_roi_align(void **state)
{
    backend_fx *f = *state;
    /* X = 4y + x is linear, so every bilinear sample inside the map returns it exactly and a
     * bin's average is its value at the bin centre. roi (1, 1)-(3, 3): half_pixel shifts it to
     * 0.5..2.5, centres at 1 and 2; output_half_pixel keeps 1..3, centres at 1.5 and 2.5 */
    int64_t dx[4] = {1, 1, 4, 4}, dr[2] = {1, 4}, db[1] = {1}, o[4] = {1, 1, 2, 2};
    aglm_tensor t[3], y;
    t[0] = tensor_f32(4, dx, NULL);
    for (int i = 0; i < 16; i++)
        ((float *)t[0].data)[i] = (float)i;
    t[1] = tensor_f32(2, dr, (const float[]){1, 1, 3, 3});
    t[2] = tensor_of(AGLM_I64, 1, db, (const double[]){0});
    const aglm_tensor *ins[3] = {&t[0], &t[1], &t[2]};
    aglm_node *n;
    aglm_graph *g = op_graph("RoiAlign", 16, 3, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "output_height", 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "output_width", 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "sampling_ratio", 2), AGLM_OK);
    run_op(f, g, 3, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){5, 6, 9, 10});
    aglm_tensor_free(&y);
    g = op_graph("RoiAlign", 16, 3, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "output_height", 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "output_width", 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "sampling_ratio", 2), AGLM_OK);
    set_str(n, "coordinate_transformation_mode", "output_half_pixel");
    run_op(f, g, 3, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){7.5, 8.5, 11.5, 12.5});
    aglm_tensor_free(&y);
    /* a NaN coordinate is refused, naming the roi */
    ((float *)t[1].data)[2] = NAN;
    g = op_graph("RoiAlign", 16, 3, ins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "roi 0"));
    aglm_graph_free(g);
    ((float *)t[1].data)[2] = 3;
    /* a batch index past the input names the roi */
    ((int64_t *)t[2].data)[0] = 3;
    g = op_graph("RoiAlign", 16, 3, ins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "batch index 3"));
    aglm_graph_free(g);
    free_all(t, 3);
}

/* MaxRoiPool: rois are scaled by spatial_scale and rounded to pixels; on a 4x4 ramp, (0, 0)-(3, 3)
 * in 2x2 bins of 2x2 pixels takes each bin's bottom-right value, (0, 0)-(1, 1) one pixel a bin. */
static void test_max_roi_pool(void **state)
{
    backend_fx *f = *state;
    int64_t dx[4] = {1, 1, 4, 4}, dr[2] = {2, 5}, o[4] = {2, 1, 2, 2};
    aglm_tensor t[2], y;
    t[0] = tensor_f32(4, dx, NULL);
    for (int i = 0; i < 16; i++)
        ((float *)t[0].data)[i] = (float)i;
    t[1] = tensor_f32(2, dr, (const float[]){0, 0, 0, 6, 6, 0, 0, 0, 2, 2});
    const aglm_tensor *ins[2] = {&t[0], &t[1]};
    aglm_node *n;
    aglm_graph *g = op_graph("MaxRoiPool", 1, 2, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "pooled_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_float(n, "spatial_scale", 0.5f), AGLM_OK);
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){5, 7, 13, 15, 0, 1, 4, 5});
    aglm_tensor_free(&y);
    free_all(t, 2);
}

static void test_nms(void **state)
{
    backend_fx *f = *state;
    /* the docs' suppress_by_IOU example: boxes 1 and 2 overlap box 0, 4 overlaps 3 */
    int64_t db[3] = {1, 6, 4}, ds[3] = {1, 1, 6}, d1[1] = {1};
    aglm_tensor t[5], y;
    t[0] = tensor_f32(3, db, (const float[]){0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                                             0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101});
    t[1] = tensor_f32(3, ds, (const float[]){0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f});
    t[2] = tensor_of(AGLM_I64, 1, d1, (const double[]){3});
    t[3] = tensor_f32(1, d1, (const float[]){0.5f});
    t[4] = tensor_f32(1, d1, (const float[]){0.0f});
    const aglm_tensor *ins[5] = {&t[0], &t[1], &t[2], &t[3], &t[4]};
    aglm_graph *g = op_graph("NonMaxSuppression", 11, 5, ins, NULL, 1, NULL);
    run_op(f, g, 5, ins, NULL, 1, &y);
    int64_t o3[2] = {3, 3};
    assert_int_equal(y.dtype, AGLM_I64);
    assert_values(&y, 2, o3, (const double[]){0, 0, 3, 0, 0, 0, 0, 0, 5});
    aglm_tensor_free(&y);
    /* a score threshold of 0.4 drops box 5; at most 2 per class */
    ((float *)t[4].data)[0] = 0.4f;
    ((int64_t *)t[2].data)[0] = 2;
    g = op_graph("NonMaxSuppression", 11, 5, ins, NULL, 1, NULL);
    run_op(f, g, 5, ins, NULL, 1, &y);
    int64_t o2[2] = {2, 3};
    assert_values(&y, 2, o2, (const double[]){0, 0, 3, 0, 0, 0});
    aglm_tensor_free(&y);
    /* the same boxes as centres and sizes */
    float *bd = t[0].data;
    for (int i = 0; i < 6; i++) {
        float y0 = bd[i * 4], x0 = bd[i * 4 + 1], y1 = bd[i * 4 + 2], x1 = bd[i * 4 + 3];
        bd[i * 4] = (x0 + x1) / 2;
        bd[i * 4 + 1] = (y0 + y1) / 2;
        bd[i * 4 + 2] = x1 - x0;
        bd[i * 4 + 3] = y1 - y0;
    }
    aglm_node *n;
    g = op_graph("NonMaxSuppression", 11, 5, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "center_point_box", 1), AGLM_OK);
    run_op(f, g, 5, ins, NULL, 1, &y);
    assert_values(&y, 2, o2, (const double[]){0, 0, 3, 0, 0, 0});
    aglm_tensor_free(&y);
    free_all(t, 5);
}

static void test_max_unpool(void **state)
{
    backend_fx *f = *state;
    int64_t dx[4] = {1, 1, 2, 2}, ds[1] = {4}, o4[4] = {1, 1, 4, 4}, o5[4] = {1, 1, 5, 5};
    aglm_tensor t[3], y;
    t[0] = tensor_f32(4, dx, (const float[]){1, 2, 3, 4});
    t[1] = tensor_of(AGLM_I64, 4, dx, (const double[]){5, 7, 13, 15});
    t[2] = tensor_of(AGLM_I64, 1, ds, (const double[]){1, 1, 5, 5});
    const aglm_tensor *ins[3] = {&t[0], &t[1], &t[2]};
    aglm_node *n;
    aglm_graph *g = op_graph("MaxUnpool", 11, 2, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", (const int64_t[]){2, 2}, 2), AGLM_OK);
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 4, o4, (const double[]){0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4});
    aglm_tensor_free(&y);
    /* a larger output_shape keeps each value at its coordinates */
    g = op_graph("MaxUnpool", 11, 3, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", (const int64_t[]){2, 2}, 2), AGLM_OK);
    run_op(f, g, 3, ins, NULL, 1, &y);
    double want[25] = {0};
    want[6] = 1;
    want[8] = 2;
    want[16] = 3;
    want[18] = 4;
    assert_values(&y, 4, o5, want);
    aglm_tensor_free(&y);
    /* an index outside the output is refused */
    ((int64_t *)t[1].data)[3] = 16;
    g = op_graph("MaxUnpool", 11, 2, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 2, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "index 16"));
    aglm_graph_free(g);
    free_all(t, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_transpose), cmocka_unit_test(test_deform_conv),
        cmocka_unit_test(test_causal_conv),    cmocka_unit_test(test_grid_sample),
        cmocka_unit_test(test_affine_grid),    cmocka_unit_test(test_roi_align),
        cmocka_unit_test(test_max_roi_pool),   cmocka_unit_test(test_nms),
        cmocka_unit_test(test_max_unpool),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
