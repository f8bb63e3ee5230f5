/* DFT, STFT, the cosine windows and MelWeightMatrix on the backend under test, against
 * transforms and windows worked out by hand (noted where they are) and the ONNX docs'
 * MelWeightMatrix example. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

/* DFT of [1, 2, 3, 4]: X[k] = sum x[t] e^(-2 pi i k t / 4) = 10, -2+2i, -2, -2-2i. */
static const double spectrum[8] = {10, 0, -2, 2, -2, 0, -2, -2};

static void test_dft_forward(void **state)
{
    backend_fx *f = *state;
    int64_t dx[3] = {1, 4, 1}, o[3] = {1, 4, 2}, o1[3] = {1, 3, 2}, d0[1] = {0};
    aglm_tensor x = tensor_f32(3, dx, (const float[]){1, 2, 3, 4}), y;
    (void)d0;
    const aglm_tensor *ins[1] = {&x};
    /* opset 17: axis attribute, 1 by default */
    aglm_graph *g = op_graph("DFT", 17, 1, ins, NULL, 1, NULL);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 3, o, spectrum);
    aglm_tensor_free(&y);
    /* onesided keeps bins 0..n/2 */
    aglm_node *n;
    g = op_graph("DFT", 17, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "onesided", 1), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 3, o1, spectrum);
    aglm_tensor_free(&y);
    /* opset 20: axis as an input (-2 by default), dft_length pads with zeros: [1,2,3,4,0,0,0,0]
     * at k = 4 gives 1 - 2 + 3 - 4 = -2 */
    int64_t d1[1] = {1}, o8[3] = {1, 8, 2};
    aglm_tensor len = tensor_of(AGLM_I64, 0, d1, (const double[]){8});
    const aglm_tensor *ins2[2] = {&x, &len};
    g = op_graph("DFT", 20, 2, ins2, NULL, 1, NULL);
    run_op(f, g, 2, ins2, NULL, 1, &y);
    assert_int_equal(y.rank, 3);
    assert_memory_equal(y.dims, o8, sizeof o8);
    assert_float_equal(((float *)y.data)[0], 10, 1e-5);
    assert_float_equal(((float *)y.data)[8], -2, 1e-5);
    assert_float_equal(((float *)y.data)[9], 0, 1e-5);
    aglm_tensor_free(&y);
    aglm_tensor_free(&len);
    aglm_tensor_free(&x);
}

static void test_dft_inverse(void **state)
{
    backend_fx *f = *state;
    int64_t dx[3] = {1, 4, 2}, dh[3] = {1, 3, 2}, o[3] = {1, 4, 2}, or [3] = {1, 4, 1};
    aglm_tensor x = tensor_of(AGLM_F32, 3, dx, spectrum), y;
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("DFT", 17, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "inverse", 1), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 3, o, (const double[]){1, 0, 2, 0, 3, 0, 4, 0});
    aglm_tensor_free(&y);
    /* inverse of the onesided half: the real signal back, the rest mirrored */
    aglm_tensor half = tensor_of(AGLM_F32, 3, dh, spectrum);
    const aglm_tensor *ins2[1] = {&half};
    g = op_graph("DFT", 17, 1, ins2, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "inverse", 1), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "onesided", 1), AGLM_OK);
    run_op(f, g, 1, ins2, NULL, 1, &y);
    assert_values(&y, 3, or, (const double[]){1, 2, 3, 4});
    aglm_tensor_free(&y);
    aglm_tensor_free(&half);
    aglm_tensor_free(&x);
}

static void test_dft_bad_axis(void **state)
{
    backend_fx *f = *state;
    int64_t dx[3] = {1, 4, 1};
    aglm_tensor x = tensor_f32(3, dx, (const float[]){1, 2, 3, 4}), y;
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("DFT", 17, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 2), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 1, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "axis"));
    aglm_graph_free(g);
    aglm_tensor_free(&x);
}

static void test_stft(void **state)
{
    backend_fx *f = *state;
    /* 0..7 in frames of 4 every 4: [0,1,2,3] -> 6, -2+2i, -2; [4,5,6,7] -> 22, -2+2i, -2 */
    int64_t dx[3] = {1, 8, 1}, d1[1] = {1}, o[4] = {1, 2, 3, 2};
    aglm_tensor x = tensor_f32(3, dx, (const float[]){0, 1, 2, 3, 4, 5, 6, 7});
    aglm_tensor step = tensor_of(AGLM_I64, 0, d1, (const double[]){4});
    aglm_tensor len = tensor_of(AGLM_I64, 0, d1, (const double[]){4}), y;
    const aglm_tensor *ins[4] = {&x, &step, NULL, &len};
    aglm_graph *g = op_graph("STFT", 17, 4, ins, NULL, 1, NULL);
    run_op(f, g, 4, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){6, 0, -2, 2, -2, 0, 22, 0, -2, 2, -2, 0});
    aglm_tensor_free(&y);
    /* a window of [0, 1, 0, 0] keeps sample 1 of each frame: a constant spectrum */
    int64_t dw[1] = {4};
    aglm_tensor win = tensor_f32(1, dw, (const float[]){0, 1, 0, 0});
    const aglm_tensor *ins2[3] = {&x, &step, &win};
    g = op_graph("STFT", 17, 3, ins2, NULL, 1, NULL);
    run_op(f, g, 3, ins2, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){1, 0, 0, -1, -1, 0, 5, 0, 0, -5, -5, 0});
    aglm_tensor_free(&y);
    aglm_tensor_free(&win);
    aglm_tensor_free(&x);
    aglm_tensor_free(&step);
    aglm_tensor_free(&len);
}

static void check_window(backend_fx *f, const char *op, int64_t size, int periodic,
                         const double *want)
{
    int64_t d1[1] = {1};
    aglm_tensor s = tensor_of(AGLM_I32, 0, d1, (const double[]){(double)size}), y;
    const aglm_tensor *ins[1] = {&s};
    aglm_node *n;
    aglm_graph *g = op_graph(op, 17, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "periodic", periodic), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_int_equal(y.dtype, AGLM_F32);
    aglm_tensor want_t = tensor_of(AGLM_F32, 1, &size, want);
    assert_close(&y, &want_t, 1e-6, 1e-5);
    aglm_tensor_free(&want_t);
    aglm_tensor_free(&y);
    aglm_tensor_free(&s);
}

static void test_windows(void **state)
{
    backend_fx *f = *state;
    /* cos(2 pi n / 4) = 1, 0, -1, 0 (periodic, size 4); cos(2 pi n / 4) over 0..4 (symmetric,
     * size 5) adds a last 1 */
    check_window(f, "HannWindow", 4, 1, (const double[]){0, 0.5, 1, 0.5});
    check_window(f, "HannWindow", 5, 0, (const double[]){0, 0.5, 1, 0.5, 0});
    check_window(f, "HammingWindow", 4, 1, (const double[]){4.0 / 46, 25.0 / 46, 1, 25.0 / 46});
    check_window(f, "BlackmanWindow", 4, 1, (const double[]){0, 0.34, 1, 0.34});
}

static void test_mel_weight_matrix(void **state)
{
    backend_fx *f = *state;
    /* the docs' example: 8 mel bins over a 16-point DFT at 8192 Hz, 0 to 4096 Hz */
    int64_t d1[1] = {1}, o[2] = {9, 8};
    aglm_tensor t[5], y;
    t[0] = tensor_of(AGLM_I32, 0, d1, (const double[]){8});
    t[1] = tensor_of(AGLM_I32, 0, d1, (const double[]){16});
    t[2] = tensor_of(AGLM_I32, 0, d1, (const double[]){8192});
    t[3] = tensor_f32(0, d1, (const float[]){0});
    t[4] = tensor_f32(0, d1, (const float[]){4096});
    const aglm_tensor *ins[5] = {&t[0], &t[1], &t[2], &t[3], &t[4]};
    aglm_graph *g = op_graph("MelWeightMatrix", 17, 5, ins, NULL, 1, NULL);
    run_op(f, g, 5, ins, NULL, 1, &y);
    double want[72] = {0};
    const int ones[][2] = {{0, 0}, {0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 5}, {4, 6}, {5, 7}};
    for (size_t i = 0; i < sizeof ones / sizeof ones[0]; i++)
        want[ones[i][0] * 8 + ones[i][1]] = 1;
    assert_values(&y, 2, o, want);
    aglm_tensor_free(&y);
    for (int i = 0; i < 5; i++)
        aglm_tensor_free(&t[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dft_forward),  cmocka_unit_test(test_dft_inverse),
        cmocka_unit_test(test_dft_bad_axis), cmocka_unit_test(test_stft),
        cmocka_unit_test(test_windows),      cmocka_unit_test(test_mel_weight_matrix),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
