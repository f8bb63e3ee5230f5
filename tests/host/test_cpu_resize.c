/* Resize and Upsample on the backend under test, run through its ops table as the host runs them,
 * against the worked examples of the ONNX operator docs (the values of ONNX's Resize examples,
 * which its reference implementation computes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

static const float k4x4[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void set_str(aglm_node *n, const char *name, const char *v)
{
    assert_int_equal(aglm_node_set_string(n, name, v, strlen(v)), AGLM_OK);
}

/* Resize (opset 19) of X with either scales or sizes (the other NULL) and an optional roi. */
static aglm_graph *resize_graph(const aglm_tensor *x, const aglm_tensor *roi,
                                const aglm_tensor *scales, const aglm_tensor *sizes, aglm_node **n)
{
    const aglm_tensor *ins[4] = {x, roi, scales, sizes};
    return op_graph("Resize", 19, sizes ? 4 : 3, ins, NULL, 1, n);
}

static void run_resize(backend_fx *f, aglm_graph *g, const aglm_tensor *x, const aglm_tensor *roi,
                       const aglm_tensor *scales, const aglm_tensor *sizes, aglm_tensor *y)
{
    const aglm_tensor *ins[4] = {x, roi, scales, sizes};
    run_op(f, g, sizes ? 4 : 3, ins, NULL, 1, y);
}

static void test_nearest_upsample(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 2, 2}, ds[1] = {4}, o[4] = {1, 1, 4, 6};
    aglm_tensor x = tensor_f32(4, d, (const float[]){1, 2, 3, 4});
    aglm_tensor s = tensor_f32(1, ds, (const float[]){1, 1, 2, 3});
    aglm_node *n;
    aglm_graph *g = resize_graph(&x, NULL, &s, NULL, &n);
    set_str(n, "mode", "nearest");
    aglm_tensor y;
    run_resize(f, g, &x, NULL, &s, NULL, &y);
    assert_values(&y, 4, o, (const double[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                             3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
}

/* Nearest upsampling by integer factors and by sizes, as FPN necks use it (asymmetric, floor):
 * the fast path's plane loop, its row reuse, its two-fold repeat (odd widths too), its
 * contiguous rows and an outer-axis map, over element sizes 1, 4 and 8, against
 * y[i] = x[floor(i * in / out)] per axis. */
static void check_nearest_sizes(backend_fx *f, aglm_dtype dt, const int64_t *in_dims,
                                const int64_t *out_dims)
{
    aglm_tensor x = tensor_of(dt, 4, in_dims, NULL);
    for (int64_t i = 0; i < aglm_tensor_numel(&x); i++)
        aglm_tensor_set_f64(&x, i, (double)((i * 37) % 101) - (dt == AGLM_U8 ? 0 : 50));
    int64_t four = 4;
    aglm_tensor sz = tensor_of(AGLM_I64, 1, &four, NULL);
    for (int a = 0; a < 4; a++)
        aglm_tensor_set_f64(&sz, a, (double)out_dims[a]);
    aglm_node *n;
    aglm_graph *g = resize_graph(&x, NULL, NULL, &sz, &n);
    set_str(n, "mode", "nearest");
    set_str(n, "coordinate_transformation_mode", "asymmetric");
    set_str(n, "nearest_mode", "floor");
    aglm_tensor y;
    run_resize(f, g, &x, NULL, NULL, &sz, &y);
    aglm_tensor want = tensor_of(dt, 4, out_dims, NULL);
    for (int64_t i = 0; i < aglm_tensor_numel(&want); i++) {
        int64_t rem = i, src = 0, stride = 1;
        for (int a = 3; a >= 0; a--) {
            int64_t o = rem % out_dims[a];
            rem /= out_dims[a];
            src += o * in_dims[a] / out_dims[a] * stride;
            stride *= in_dims[a];
        }
        aglm_tensor_set_f64(&want, i, aglm_tensor_get_f64(&x, src));
    }
    assert_close(&y, &want, 0, 0);
    aglm_tensor_free(&want);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&sz);
}

static void test_nearest_integer_factors(void **state)
{
    backend_fx *f = *state;
    aglm_dtype dts[] = {AGLM_F32, AGLM_U8, AGLM_I64};
    for (size_t t = 0; t < 3; t++) {
        /* 2x both ways; 4x; a two-fold repeat onto an odd width (3 -> 5 maps o to o / 2) */
        check_nearest_sizes(f, dts[t], (int64_t[]){2, 3, 5, 7}, (int64_t[]){2, 3, 10, 14});
        check_nearest_sizes(f, dts[t], (int64_t[]){1, 2, 4, 3}, (int64_t[]){1, 2, 16, 12});
        check_nearest_sizes(f, dts[t], (int64_t[]){1, 2, 4, 3}, (int64_t[]){1, 2, 8, 5});
        /* rows only (each row a straight copy), a factor of 3, and the channels resized too */
        check_nearest_sizes(f, dts[t], (int64_t[]){1, 2, 3, 9}, (int64_t[]){1, 2, 9, 9});
        check_nearest_sizes(f, dts[t], (int64_t[]){1, 2, 3, 4}, (int64_t[]){1, 4, 6, 12});
        /* big enough to be split over the pool's threads */
        check_nearest_sizes(f, dts[t], (int64_t[]){1, 8, 40, 40}, (int64_t[]){1, 8, 80, 80});
    }
}

/* Linear resize of f32 (the bilinear fast path) equals, bit for bit once rounded to f32, the
 * same resize of the same values in f64 (the general separable path), for the common coordinate
 * modes, up and down, with an axis left unchanged, and big enough to run on several threads. */
static void check_linear_f32_vs_f64(backend_fx *f, const char *ctm, const int64_t *in_dims,
                                    const int64_t *out_dims)
{
    aglm_tensor x32 = tensor_random(4, in_dims, 5), x64 = tensor_of(AGLM_F64, 4, in_dims, NULL);
    for (int64_t i = 0; i < aglm_tensor_numel(&x32); i++)
        aglm_tensor_set_f64(&x64, i, ((const float *)x32.data)[i]);
    int64_t four = 4;
    aglm_tensor sz = tensor_of(AGLM_I64, 1, &four, NULL);
    for (int a = 0; a < 4; a++)
        aglm_tensor_set_f64(&sz, a, (double)out_dims[a]);
    aglm_tensor y[2];
    const aglm_tensor *xs[2] = {&x32, &x64};
    for (int t = 0; t < 2; t++) {
        aglm_node *n;
        aglm_graph *g = resize_graph(xs[t], NULL, NULL, &sz, &n);
        set_str(n, "mode", "linear");
        set_str(n, "coordinate_transformation_mode", ctm);
        run_resize(f, g, xs[t], NULL, NULL, &sz, &y[t]);
    }
    for (int64_t i = 0; i < aglm_tensor_numel(&y[0]); i++) {
        float got = ((const float *)y[0].data)[i], want = (float)((const double *)y[1].data)[i];
        if (memcmp(&got, &want, sizeof got) != 0)
            fail_msg("%s element %lld: f32 path %.9g, f64 path %.9g", ctm, (long long)i, got, want);
    }
    aglm_tensor_free(&y[0]);
    aglm_tensor_free(&y[1]);
    aglm_tensor_free(&x32);
    aglm_tensor_free(&x64);
    aglm_tensor_free(&sz);
}

static void test_linear_fast_path(void **state)
{
    backend_fx *f = *state;
    const char *ctms[] = {"half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"};
    for (int c = 0; c < 4; c++) {
        check_linear_f32_vs_f64(f, ctms[c], (int64_t[]){2, 3, 5, 7}, (int64_t[]){2, 3, 9, 4});
        check_linear_f32_vs_f64(f, ctms[c], (int64_t[]){1, 2, 4, 4}, (int64_t[]){1, 2, 4, 9});
        check_linear_f32_vs_f64(f, ctms[c], (int64_t[]){1, 2, 6, 5}, (int64_t[]){1, 2, 3, 5});
        check_linear_f32_vs_f64(f, ctms[c], (int64_t[]){1, 8, 40, 40}, (int64_t[]){1, 8, 80, 80});
    }
}

static void test_nearest_downsample_and_modes(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 2, 4}, ds[1] = {4}, o[4] = {1, 1, 1, 2};
    aglm_tensor x = tensor_f32(4, d, (const float[]){1, 2, 3, 4, 5, 6, 7, 8});
    aglm_tensor s = tensor_f32(1, ds, (const float[]){1, 1, 0.6f, 0.6f});
    aglm_node *n;
    aglm_graph *g = resize_graph(&x, NULL, &s, NULL, &n);
    set_str(n, "mode", "nearest");
    aglm_tensor y;
    run_resize(f, g, &x, NULL, &s, NULL, &y);
    assert_values(&y, 4, o, (const double[]){1, 3});
    aglm_tensor_free(&y);

    /* sizes 1x1x8x8 from 4x4, asymmetric with round_prefer_ceil: x / 2 rounds halves up */
    int64_t d4[4] = {1, 1, 4, 4}, o8[4] = {1, 1, 8, 8};
    aglm_tensor x4 = tensor_f32(4, d4, k4x4);
    aglm_tensor sz = tensor_of(AGLM_I64, 1, ds, (const double[]){1, 1, 8, 8});
    g = resize_graph(&x4, NULL, NULL, &sz, &n);
    set_str(n, "mode", "nearest");
    set_str(n, "coordinate_transformation_mode", "asymmetric");
    set_str(n, "nearest_mode", "round_prefer_ceil");
    run_resize(f, g, &x4, NULL, NULL, &sz, &y);
    /* row 0 reads input row 0 (0 / 2 = 0), row 1 reads row 1 (0.5 rounds up) */
    double want[64];
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++) {
            int ir = (r + 1) / 2 > 3 ? 3 : (r + 1) / 2, ic = (c + 1) / 2 > 3 ? 3 : (c + 1) / 2;
            want[r * 8 + c] = k4x4[ir * 4 + ic];
        }
    assert_values(&y, 4, o8, want);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&x4);
    aglm_tensor_free(&s);
    aglm_tensor_free(&sz);
}

static void test_linear(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 2, 2}, ds[1] = {4}, o[4] = {1, 1, 4, 4};
    aglm_tensor x = tensor_f32(4, d, (const float[]){1, 2, 3, 4});
    aglm_tensor s = tensor_f32(1, ds, (const float[]){1, 1, 2, 2});
    aglm_node *n;
    aglm_graph *g = resize_graph(&x, NULL, &s, NULL, &n);
    set_str(n, "mode", "linear");
    aglm_tensor y;
    run_resize(f, g, &x, NULL, &s, NULL, &y);
    assert_values(&y, 4, o,
                  (const double[]){1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3,
                                   3.25, 3.75, 4});
    aglm_tensor_free(&y);

    /* downsampling 2x4 by 0.6: half_pixel centres fall between pixels */
    int64_t d2[4] = {1, 1, 2, 4}, o2[4] = {1, 1, 1, 2};
    aglm_tensor x2 = tensor_f32(4, d2, (const float[]){1, 2, 3, 4, 5, 6, 7, 8});
    aglm_tensor s2 = tensor_f32(1, ds, (const float[]){1, 1, 0.6f, 0.6f});
    g = resize_graph(&x2, NULL, &s2, NULL, &n);
    set_str(n, "mode", "linear");
    run_resize(f, g, &x2, NULL, &s2, NULL, &y);
    assert_values(&y, 4, o2, (const double[]){2.66666651, 4.33333302});
    aglm_tensor_free(&y);

    /* the same with antialias on a 4x4: the filter widens to the downscale */
    int64_t d4[4] = {1, 1, 4, 4}, o4[4] = {1, 1, 2, 2};
    aglm_tensor x4 = tensor_f32(4, d4, k4x4);
    g = resize_graph(&x4, NULL, &s2, NULL, &n);
    set_str(n, "mode", "linear");
    assert_int_equal(aglm_node_set_int(n, "antialias", 1), AGLM_OK);
    run_resize(f, g, &x4, NULL, &s2, NULL, &y);
    assert_values(&y, 4, o4, (const double[]){2.875, 4.5, 9.375, 11});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
    aglm_tensor_free(&x2);
    aglm_tensor_free(&s2);
    aglm_tensor_free(&x4);
}

static void test_cubic(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 4, 4}, ds[1] = {4}, o[4] = {1, 1, 3, 3};
    aglm_tensor x = tensor_f32(4, d, k4x4);
    aglm_tensor s = tensor_f32(1, ds, (const float[]){1, 1, 0.8f, 0.8f});
    aglm_node *n;
    aglm_graph *g = resize_graph(&x, NULL, &s, NULL, &n);
    set_str(n, "mode", "cubic");
    aglm_tensor y;
    run_resize(f, g, &x, NULL, &s, NULL, &y);
    assert_values(&y, 4, o,
                  (const double[]){1.47119141, 2.78125, 4.08251953, 6.71142578, 8.02148438,
                                   9.32275391, 11.9165039, 13.2265625, 14.527832});
    aglm_tensor_free(&y);

    /* align_corners upsampling keeps the corners exactly */
    int64_t o8[4] = {1, 1, 8, 8};
    aglm_tensor s2 = tensor_f32(1, ds, (const float[]){1, 1, 2, 2});
    g = resize_graph(&x, NULL, &s2, NULL, &n);
    set_str(n, "mode", "cubic");
    set_str(n, "coordinate_transformation_mode", "align_corners");
    run_resize(f, g, &x, NULL, &s2, NULL, &y);
    assert_int_equal(y.rank, 4);
    assert_memory_equal(y.dims, o8, sizeof o8);
    const float *yd = y.data;
    assert_float_equal(yd[0], 1.0f, 1e-5);
    assert_float_equal(yd[7], 4.0f, 1e-5);
    assert_float_equal(yd[56], 13.0f, 1e-5);
    assert_float_equal(yd[63], 16.0f, 1e-5);
    assert_float_equal(yd[1], 1.34110785f, 1e-5);
    assert_float_equal(yd[9], 2.70553946f, 1e-5);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
    aglm_tensor_free(&s2);
}

static void test_tf_crop_and_resize(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 4, 4}, dr[1] = {8}, ds[1] = {4}, o[4] = {1, 1, 3, 3};
    aglm_tensor x = tensor_f32(4, d, k4x4);
    aglm_tensor roi = tensor_f32(1, dr, (const float[]){0, 0, 0.4f, 0.6f, 1, 1, 0.6f, 0.8f});
    aglm_tensor sz = tensor_of(AGLM_I64, 1, ds, (const double[]){1, 1, 3, 3});
    aglm_node *n;
    aglm_graph *g = resize_graph(&x, &roi, NULL, &sz, &n);
    set_str(n, "mode", "linear");
    set_str(n, "coordinate_transformation_mode", "tf_crop_and_resize");
    aglm_tensor y;
    run_resize(f, g, &x, &roi, NULL, &sz, &y);
    assert_values(&y, 4, o, (const double[]){7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10, 10.3, 10.6});
    aglm_tensor_free(&y);

    /* a crop reaching past the input gives the extrapolation value there */
    aglm_tensor roi2 = tensor_f32(1, dr, (const float[]){0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f});
    g = resize_graph(&x, &roi2, NULL, &sz, &n);
    set_str(n, "mode", "linear");
    set_str(n, "coordinate_transformation_mode", "tf_crop_and_resize");
    assert_int_equal(aglm_node_set_float(n, "extrapolation_value", 10.0f), AGLM_OK);
    run_resize(f, g, &x, &roi2, NULL, &sz, &y);
    assert_values(&y, 4, o, (const double[]){7.6, 10, 10, 12.4, 10, 10, 10, 10, 10});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&roi);
    aglm_tensor_free(&roi2);
    aglm_tensor_free(&sz);
}

static void test_axes_and_keep_aspect_ratio(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 2, 2}, ds[1] = {2}, o[4] = {1, 1, 7, 7};
    aglm_tensor x = tensor_f32(4, d, (const float[]){1, 2, 3, 4});
    aglm_tensor sz = tensor_of(AGLM_I64, 1, ds, (const double[]){7, 8});
    aglm_node *n;
    aglm_graph *g = resize_graph(&x, NULL, NULL, &sz, &n);
    set_str(n, "mode", "nearest");
    set_str(n, "keep_aspect_ratio_policy", "not_larger");
    assert_int_equal(aglm_node_set_ints(n, "axes", (const int64_t[]){2, 3}, 2), AGLM_OK);
    aglm_tensor y;
    run_resize(f, g, &x, NULL, NULL, &sz, &y);
    double want[49];
    for (int r = 0; r < 7; r++)
        for (int c = 0; c < 7; c++)
            want[r * 7 + c] = (r < 4 ? 1 : 3) + (c < 4 ? 0 : 1);
    assert_values(&y, 4, o, want);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&sz);
}

static void test_half_precision_and_integers(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 2, 2}, ds[1] = {4}, o[4] = {1, 1, 4, 4};
    aglm_tensor x = tensor_of(AGLM_F16, 4, d, (const double[]){1, 2, 3, 4});
    aglm_tensor s = tensor_f32(1, ds, (const float[]){1, 1, 2, 2});
    aglm_node *n;
    aglm_graph *g = resize_graph(&x, NULL, &s, NULL, &n);
    set_str(n, "mode", "linear");
    aglm_tensor y;
    run_resize(f, g, &x, NULL, &s, NULL, &y);
    assert_int_equal(y.dtype, AGLM_F16);
    assert_values(&y, 4, o,
                  (const double[]){1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3,
                                   3.25, 3.75, 4});
    aglm_tensor_free(&y);

    /* nearest copies integers exactly, here values no float holds */
    aglm_tensor xi = tensor_of(AGLM_I64, 4, d, NULL);
    int64_t *xd = xi.data;
    for (int i = 0; i < 4; i++)
        xd[i] = ((int64_t)1 << 60) + i;
    g = resize_graph(&xi, NULL, &s, NULL, &n);
    set_str(n, "mode", "nearest");
    run_resize(f, g, &xi, NULL, &s, NULL, &y);
    assert_int_equal(y.dtype, AGLM_I64);
    const int64_t *yd = y.data;
    assert_true(yd[0] == ((int64_t)1 << 60) && yd[15] == ((int64_t)1 << 60) + 3);
    aglm_tensor_free(&y);

    /* linear on u8 truncates the interpolated values, as ONNX's reference casts them */
    aglm_tensor xu = tensor_of(AGLM_U8, 4, d, (const double[]){0, 10, 20, 30});
    g = resize_graph(&xu, NULL, &s, NULL, &n);
    set_str(n, "mode", "linear");
    run_resize(f, g, &xu, NULL, &s, NULL, &y);
    assert_int_equal(y.dtype, AGLM_U8);
    assert_values(&y, 4, o,
                  (const double[]){0, 2, 7, 10, 5, 7, 12, 15, 15, 17, 22, 25, 20, 22, 27, 30});
    aglm_tensor_free(&y);
    aglm_tensor_free(&xu);
    aglm_tensor_free(&x);
    aglm_tensor_free(&xi);
    aglm_tensor_free(&s);
}

static void test_upsample(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 2, 2}, ds[1] = {4}, o[4] = {1, 1, 4, 6};
    aglm_tensor x = tensor_f32(4, d, (const float[]){1, 2, 3, 4});
    aglm_tensor s = tensor_f32(1, ds, (const float[]){1, 1, 2, 3});
    const aglm_tensor *ins[2] = {&x, &s};
    aglm_node *n;
    aglm_graph *g = op_graph("Upsample", 9, 2, ins, NULL, 1, &n);
    set_str(n, "mode", "nearest");
    aglm_tensor y;
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                             3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
    aglm_tensor_free(&y);

    /* opset 7 takes the scales as an attribute; linear is asymmetric */
    int64_t o2[4] = {1, 1, 2, 4};
    g = op_graph("Upsample", 7, 1, ins, NULL, 1, &n);
    set_str(n, "mode", "linear");
    assert_int_equal(aglm_node_set_floats(n, "scales", (const float[]){1, 1, 1, 2}, 4), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 4, o2, (const double[]){1, 1.5, 2, 2, 3, 3.5, 4, 4});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
}

static void test_bad_inputs(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 2, 2}, ds[1] = {4};
    aglm_tensor x = tensor_f32(4, d, (const float[]){1, 2, 3, 4});
    aglm_tensor s = tensor_f32(1, ds, (const float[]){1, 1, 2, 2});
    aglm_tensor sz = tensor_of(AGLM_I64, 1, ds, (const double[]){1, 1, 4, 4});
    const aglm_tensor *ins[4] = {&x, NULL, &s, &sz};
    aglm_tensor y[1];

    /* both scales and sizes */
    aglm_graph *g = op_graph("Resize", 19, 4, ins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 4, ins, NULL, 1, y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "scales and sizes"));
    assert_non_null(strstr(aglm_last_error(), "Resize"));
    aglm_graph_free(g);

    /* an unknown mode names the attribute */
    aglm_node *n;
    g = op_graph("Resize", 19, 3, ins, NULL, 1, &n);
    set_str(n, "mode", "bilinear-ish");
    assert_int_not_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "mode"));
    assert_non_null(strstr(aglm_last_error(), "bilinear-ish"));
    aglm_graph_free(g);

    /* a negative scale */
    float *sd = s.data;
    sd[2] = -1;
    g = op_graph("Resize", 19, 3, ins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "scale"));
    aglm_graph_free(g);
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
    aglm_tensor_free(&sz);
}

/* Shape inference knows the output when scales or sizes are constants. */
static void test_inference(void **state)
{
    (void)state;
    int64_t d[4] = {1, 3, 5, 7}, ds[1] = {4};
    aglm_tensor x = tensor_f32(4, d, NULL);
    aglm_tensor s = tensor_f32(1, ds, (const float[]){1, 1, 2, 0.5f});
    const aglm_tensor *ins[3] = {&x, NULL, &s};
    const int is_const[3] = {0, 0, 1};
    aglm_graph *g = op_graph("Resize", 19, 3, ins, is_const, 1, NULL);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    aglm_value *y = aglm_graph_output(g, 0);
    assert_int_equal(aglm_value_rank(y), 4);
    assert_int_equal(aglm_value_dim(y, 2).value, 10);
    assert_int_equal(aglm_value_dim(y, 3).value, 3);
    aglm_graph_free(g);
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest_upsample),
        cmocka_unit_test(test_nearest_integer_factors),
        cmocka_unit_test(test_nearest_downsample_and_modes),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_linear_fast_path),
        cmocka_unit_test(test_cubic),
        cmocka_unit_test(test_tf_crop_and_resize),
        cmocka_unit_test(test_axes_and_keep_aspect_ratio),
        cmocka_unit_test(test_half_precision_and_integers),
        cmocka_unit_test(test_upsample),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_inference),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
