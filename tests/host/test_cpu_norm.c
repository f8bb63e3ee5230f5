/* Softmax family and normalisations on the backend under test, against the ONNX documentation's
 * examples and against references computed here from the formulas. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

/* ---- softmax family ------------------------------------------------------------------------ */

static void test_softmax_examples(void **state)
{
    backend_fx *f = *state;
    const int64_t d[2] = {1, 3};
    aglm_tensor x = tensor_of(AGLM_F32, 2, d, (double[]){-1, 0, 1}), y;
    const aglm_tensor *ins[1] = {&x};
    run_op(f, op_graph("Softmax", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 2, d, (double[]){0.09003057, 0.24472847, 0.66524096});
    aglm_tensor_free(&y);
    run_op(f, op_graph("LogSoftmax", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 2, d, (double[]){-2.40760596, -1.40760596, -0.40760596});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    const int64_t h[2] = {4, 4};
    x = tensor_of(AGLM_F32, 2, h, (double[]){3, 0, 1, 2, 2, 5, 1, 0, 0, 1, 3, 2, 0, 1, 2, 3});
    run_op(f, op_graph("Hardmax", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 2, h, (double[]){1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    /* ties go to the first maximum */
    x = tensor_of(AGLM_F32, 2, (int64_t[]){1, 4}, (double[]){1, 1, 1, 1});
    run_op(f, op_graph("Hardmax", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 2, (int64_t[]){1, 4}, (double[]){1, 0, 0, 0});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* Before opset 13 the input is flattened to 2-D at `axis`; f16 and f64 keep their dtype. */
static void test_softmax_opsets_and_dtypes(void **state)
{
    backend_fx *f = *state;
    const int64_t d[3] = {2, 3, 4};
    aglm_tensor xr = tensor_random(3, d, 3);
    aglm_dtype dts[3] = {AGLM_F32, AGLM_F16, AGLM_F64};
    for (int t = 0; t < 3; t++) {
        aglm_tensor x = tensor_of(dts[t], 3, d, NULL), y;
        for (int64_t i = 0; i < 24; i++)
            aglm_tensor_set_f64(&x, i, ((float *)xr.data)[i] * 3);
        const aglm_tensor *ins[1] = {&x};
        aglm_node *n;
        aglm_graph *g = op_graph("Softmax", 11, 1, ins, NULL, 1, &n);
        assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
        run_op(f, g, 1, ins, NULL, 1, &y);
        aglm_tensor want = tensor_of(dts[t], 3, d, NULL);
        for (int b = 0; b < 2; b++) {
            double s = 0;
            for (int i = 0; i < 12; i++)
                s += exp(aglm_tensor_get_f64(&x, b * 12 + i));
            for (int i = 0; i < 12; i++)
                aglm_tensor_set_f64(&want, b * 12 + i,
                                    exp(aglm_tensor_get_f64(&x, b * 12 + i)) / s);
        }
        assert_close(&y, &want, 1e-6, dts[t] == AGLM_F16 ? 2e-3 : 1e-5);
        aglm_tensor_free(&y);
        /* opset 13, axis 1 alone */
        g = op_graph("LogSoftmax", 13, 1, ins, NULL, 1, &n);
        assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
        run_op(f, g, 1, ins, NULL, 1, &y);
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < 4; k++) {
                double s = 0;
                for (int c = 0; c < 3; c++)
                    s += exp(aglm_tensor_get_f64(&x, (b * 3 + c) * 4 + k));
                for (int c = 0; c < 3; c++)
                    aglm_tensor_set_f64(&want, (b * 3 + c) * 4 + k,
                                        aglm_tensor_get_f64(&x, (b * 3 + c) * 4 + k) - log(s));
            }
        assert_close(&y, &want, 1e-5, dts[t] == AGLM_F16 ? 2e-3 : 1e-5);
        aglm_tensor_free(&y);
        aglm_tensor_free(&want);
        aglm_tensor_free(&x);
    }
    aglm_tensor_free(&xr);
}

/* ---- batch and instance norm ---------------------------------------------------------------- */

static void test_batch_norm(void **state)
{
    backend_fx *f = *state;
    const int64_t d[4] = {1, 2, 1, 3}, c = 2;
    aglm_tensor x = tensor_of(AGLM_F32, 4, d, (double[]){-1, 0, 1, 2, 3, 4});
    aglm_tensor s = tensor_of(AGLM_F32, 1, &c, (double[]){1.0, 1.5});
    aglm_tensor b = tensor_of(AGLM_F32, 1, &c, (double[]){0, 1});
    aglm_tensor m = tensor_of(AGLM_F32, 1, &c, (double[]){0, 3});
    aglm_tensor v = tensor_of(AGLM_F32, 1, &c, (double[]){1, 1.5});
    const aglm_tensor *ins[5] = {&x, &s, &b, &m, &v};
    aglm_tensor y[3];
    run_op(f, op_graph("BatchNormalization", 15, 5, ins, NULL, 1, NULL), 5, ins, NULL, 1, y);
    double k0 = 1 / sqrt(1 + 1e-5), k1 = 1.5 / sqrt(1.5 + 1e-5);
    assert_values(&y[0], 4, d, (double[]){-k0, 0, k0, 1 - k1, 1, 1 + k1});
    aglm_tensor_free(&y[0]);

    /* training mode: the batch's statistics, and running ones updated with momentum */
    aglm_node *n;
    aglm_graph *g = op_graph("BatchNormalization", 15, 5, ins, NULL, 3, &n);
    assert_int_equal(aglm_node_set_int(n, "training_mode", 1), AGLM_OK);
    assert_int_equal(aglm_node_set_float(n, "momentum", 0.5f), AGLM_OK);
    run_op(f, g, 5, ins, NULL, 3, y);
    double bv = 2.0 / 3.0, kb0 = 1 / sqrt(bv + 1e-5), kb1 = 1.5 / sqrt(bv + 1e-5);
    assert_values(&y[0], 4, d, (double[]){-kb0, 0, kb0, 1 - kb1, 1, 1 + kb1});
    assert_values(&y[1], 1, &c, (double[]){0 * 0.5 + 0 * 0.5, 3 * 0.5 + 3 * 0.5});
    assert_values(&y[2], 1, &c, (double[]){1 * 0.5 + bv * 0.5, 1.5 * 0.5 + bv * 0.5});
    for (int i = 0; i < 3; i++)
        aglm_tensor_free(&y[i]);

    /* a statistics tensor of the wrong length is named */
    aglm_tensor bad = tensor_of(AGLM_F32, 1, (int64_t[]){3}, NULL);
    ins[4] = &bad;
    g = op_graph("BatchNormalization", 15, 5, ins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 5, ins, NULL, 1, y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "var"));
    aglm_graph_free(g);
    aglm_tensor_free(&bad);
    aglm_tensor *all[5] = {&x, &s, &b, &m, &v};
    for (int i = 0; i < 5; i++)
        aglm_tensor_free(all[i]);
}

/* Mean and population variance over planes of `len` values at x + p*len. */
static void plane_moments(const aglm_tensor *x, int64_t start, int64_t len, int64_t step, double *m,
                          double *var)
{
    double s = 0, q = 0;
    for (int64_t i = 0; i < len; i++)
        s += aglm_tensor_get_f64(x, start + i * step);
    *m = s / (double)len;
    for (int64_t i = 0; i < len; i++) {
        double dd = aglm_tensor_get_f64(x, start + i * step) - *m;
        q += dd * dd;
    }
    *var = q / (double)len;
}

static void test_instance_and_group_norm(void **state)
{
    backend_fx *f = *state;
    const int64_t d[3] = {2, 4, 3}, c = 4;
    aglm_tensor x = tensor_random(3, d, 11), y;
    aglm_tensor s = tensor_of(AGLM_F32, 1, &c, (double[]){1, 1.5, -2, 0.5});
    aglm_tensor b = tensor_of(AGLM_F32, 1, &c, (double[]){0, 1, 0.25, -1});
    const aglm_tensor *ins[3] = {&x, &s, &b};
    aglm_node *n;
    aglm_graph *g = op_graph("InstanceNormalization", 6, 3, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_float(n, "epsilon", 1e-2f), AGLM_OK);
    run_op(f, g, 3, ins, NULL, 1, &y);
    aglm_tensor want = tensor_of(AGLM_F32, 3, d, NULL);
    for (int64_t p = 0; p < 8; p++) {
        double m, var;
        plane_moments(&x, p * 3, 3, 1, &m, &var);
        for (int64_t i = 0; i < 3; i++)
            aglm_tensor_set_f64(&want, p * 3 + i,
                                (aglm_tensor_get_f64(&x, p * 3 + i) - m) / sqrt(var + 1e-2) *
                                        aglm_tensor_get_f64(&s, p % 4) +
                                    aglm_tensor_get_f64(&b, p % 4));
    }
    assert_close(&y, &want, 1e-5, 1e-5);
    aglm_tensor_free(&y);

    /* GroupNormalization, 2 groups of 2 channels; opset 21 scales per channel */
    g = op_graph("GroupNormalization", 21, 3, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "num_groups", 2), AGLM_OK);
    run_op(f, g, 3, ins, NULL, 1, &y);
    for (int64_t bt = 0; bt < 2; bt++)
        for (int64_t gr = 0; gr < 2; gr++) {
            double m, var;
            int64_t start = (bt * 4 + gr * 2) * 3;
            plane_moments(&x, start, 6, 1, &m, &var);
            for (int64_t i = 0; i < 6; i++) {
                int64_t ch = gr * 2 + i / 3;
                aglm_tensor_set_f64(&want, start + i,
                                    (aglm_tensor_get_f64(&x, start + i) - m) / sqrt(var + 1e-5) *
                                            aglm_tensor_get_f64(&s, ch) +
                                        aglm_tensor_get_f64(&b, ch));
            }
        }
    assert_close(&y, &want, 1e-5, 1e-5);
    aglm_tensor_free(&y);

    /* num_groups that does not divide the channels is refused by name */
    g = op_graph("GroupNormalization", 21, 3, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "num_groups", 3), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "num_groups"));
    aglm_graph_free(g);

    /* opset 18: one scale and bias per group */
    const int64_t two = 2;
    aglm_tensor sg = tensor_of(AGLM_F32, 1, &two, (double[]){2, -1});
    aglm_tensor bg = tensor_of(AGLM_F32, 1, &two, (double[]){0.5, 0});
    const aglm_tensor *ins18[3] = {&x, &sg, &bg};
    g = op_graph("GroupNormalization", 18, 3, ins18, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "num_groups", 2), AGLM_OK);
    run_op(f, g, 3, ins18, NULL, 1, &y);
    for (int64_t bt = 0; bt < 2; bt++)
        for (int64_t gr = 0; gr < 2; gr++) {
            double m, var;
            int64_t start = (bt * 4 + gr * 2) * 3;
            plane_moments(&x, start, 6, 1, &m, &var);
            for (int64_t i = 0; i < 6; i++)
                aglm_tensor_set_f64(&want, start + i,
                                    (aglm_tensor_get_f64(&x, start + i) - m) / sqrt(var + 1e-5) *
                                            aglm_tensor_get_f64(&sg, gr) +
                                        aglm_tensor_get_f64(&bg, gr));
        }
    assert_close(&y, &want, 1e-5, 1e-5);
    aglm_tensor_free(&y);
    aglm_tensor_free(&sg);
    aglm_tensor_free(&bg);
    aglm_tensor_free(&want);
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
    aglm_tensor_free(&b);
}

/* ---- layer and RMS norm ------------------------------------------------------------------- */

static void test_layer_norm(void **state)
{
    backend_fx *f = *state;
    const int64_t d[3] = {2, 3, 4}, sd[2] = {3, 4};
    aglm_tensor x = tensor_random(3, d, 5), s = tensor_random(2, sd, 6),
                b = tensor_random(2, sd, 8);
    const aglm_tensor *ins[3] = {&x, &s, &b};
    aglm_node *n;
    aglm_graph *g = op_graph("LayerNormalization", 17, 3, ins, NULL, 3, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    aglm_tensor y[3];
    run_op(f, g, 3, ins, NULL, 3, y);
    aglm_tensor want = tensor_of(AGLM_F32, 3, d, NULL);
    const int64_t md[3] = {2, 1, 1};
    aglm_tensor wm = tensor_of(AGLM_F32, 3, md, NULL), wi = tensor_of(AGLM_F32, 3, md, NULL);
    for (int64_t r = 0; r < 2; r++) {
        double m, var;
        plane_moments(&x, r * 12, 12, 1, &m, &var);
        aglm_tensor_set_f64(&wm, r, m);
        aglm_tensor_set_f64(&wi, r, 1 / sqrt(var + 1e-5));
        for (int64_t i = 0; i < 12; i++)
            aglm_tensor_set_f64(&want, r * 12 + i,
                                (aglm_tensor_get_f64(&x, r * 12 + i) - m) / sqrt(var + 1e-5) *
                                        aglm_tensor_get_f64(&s, i) +
                                    aglm_tensor_get_f64(&b, i));
    }
    assert_close(&y[0], &want, 1e-5, 1e-4);
    assert_close(&y[1], &wm, 1e-6, 1e-5);
    assert_close(&y[2], &wi, 1e-6, 1e-5);
    for (int i = 0; i < 3; i++)
        aglm_tensor_free(&y[i]);

    /* RMSNormalization over the last axis, scale [4] broadcast */
    const int64_t four = 4;
    aglm_tensor s4 = tensor_of(AGLM_F32, 1, &four, (double[]){1, 2, 0.5, -1});
    const aglm_tensor *rins[2] = {&x, &s4};
    run_op(f, op_graph("RMSNormalization", 23, 2, rins, NULL, 1, NULL), 2, rins, NULL, 1, y);
    for (int64_t r = 0; r < 6; r++) {
        double q = 0;
        for (int64_t i = 0; i < 4; i++)
            q += pow(aglm_tensor_get_f64(&x, r * 4 + i), 2);
        double inv = 1 / sqrt(q / 4 + 1e-5);
        for (int64_t i = 0; i < 4; i++)
            aglm_tensor_set_f64(&want, r * 4 + i,
                                aglm_tensor_get_f64(&x, r * 4 + i) * inv *
                                    aglm_tensor_get_f64(&s4, i));
    }
    assert_close(&y[0], &want, 1e-5, 1e-4);
    aglm_tensor_free(&y[0]);

    /* a scale that does not fit the normalised dims is named */
    const int64_t three = 3;
    aglm_tensor s3 = tensor_of(AGLM_F32, 1, &three, (double[]){1, 2, 3});
    const aglm_tensor *bad[3] = {&x, &s3, NULL};
    g = op_graph("LayerNormalization", 17, 2, bad, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 2, bad, NULL, 1, y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "scale"));
    aglm_graph_free(g);

    aglm_tensor *all[] = {&x, &s, &b, &want, &wm, &wi, &s4, &s3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        aglm_tensor_free(all[i]);
}

/* Softmax and LayerNormalization over long last-axis lines (the vectorised exp, sum, max and
 * squared deviations, with their tails), against double references; a softmax line holding a
 * NaN is all NaN, and its neighbours are unaffected. */
static void test_long_lines(void **state)
{
    backend_fx *f = *state;
    const int64_t lens[] = {9, 120, 1001};
    for (size_t l = 0; l < 3; l++) {
        int64_t n = lens[l], d[2] = {4, n}, sd[1] = {n};
        aglm_tensor x = tensor_random(2, d, (uint32_t)l + 11);
        float *xv = x.data;
        for (int64_t i = 0; i < 4 * n; i++)
            xv[i] *= 12.0f; /* exp over a range of e^24 */
        xv[n + n / 3] = NAN;
        const aglm_tensor *ins[1] = {&x};
        aglm_tensor y;
        run_op(f, op_graph("Softmax", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
        aglm_tensor want = tensor_of(AGLM_F32, 2, d, NULL);
        for (int64_t r = 0; r < 4; r++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t i = 0; i < n; i++)
                mx = fmax(mx, xv[r * n + i]);
            for (int64_t i = 0; i < n; i++)
                sum += exp((double)(xv[r * n + i] - (float)mx));
            for (int64_t i = 0; i < n; i++)
                aglm_tensor_set_f64(&want, r * n + i,
                                    r == 1 ? NAN : exp((double)(xv[r * n + i] - (float)mx)) / sum);
        }
        assert_close(&y, &want, 1e-7, 1e-5);
        aglm_tensor_free(&y);

        xv[n + n / 3] = 0.25f;
        aglm_tensor sc = tensor_random(1, sd, 3), b = tensor_random(1, sd, 4);
        const aglm_tensor *lins[3] = {&x, &sc, &b};
        run_op(f, op_graph("LayerNormalization", 17, 3, lins, NULL, 1, NULL), 3, lins, NULL, 1, &y);
        for (int64_t r = 0; r < 4; r++) {
            double m = 0, q = 0;
            for (int64_t i = 0; i < n; i++)
                m += xv[r * n + i];
            m /= (double)n;
            for (int64_t i = 0; i < n; i++)
                q += (xv[r * n + i] - m) * (xv[r * n + i] - m);
            double inv = 1 / sqrt(q / (double)n + 1e-5);
            for (int64_t i = 0; i < n; i++)
                aglm_tensor_set_f64(&want, r * n + i,
                                    (xv[r * n + i] - m) * inv * ((float *)sc.data)[i] +
                                        ((float *)b.data)[i]);
        }
        assert_close(&y, &want, 1e-5, 1e-4);
        aglm_tensor_free(&y);
        aglm_tensor_free(&want);
        aglm_tensor_free(&sc);
        aglm_tensor_free(&b);
        aglm_tensor_free(&x);
    }
}

/* ---- Lp, mean-variance, LRN ---------------------------------------------------------------- */

static void test_lp_mvn_lrn(void **state)
{
    backend_fx *f = *state;
    const int64_t d[2] = {2, 2};
    aglm_tensor x = tensor_of(AGLM_F32, 2, d, (double[]){3, 4, 6, -8}), y;
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    run_op(f, op_graph("LpNormalization", 1, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &y);
    assert_values(&y, 2, d, (double[]){0.6, 0.8, 0.6, -0.8});
    aglm_tensor_free(&y);
    aglm_graph *g = op_graph("LpNormalization", 1, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "p", 1), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "axis", 0), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 2, d, (double[]){3.0 / 9, 4.0 / 12, 6.0 / 9, -8.0 / 12});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    /* MeanVarianceNormalization over the default axes [0,2,3] */
    const int64_t d4[4] = {2, 3, 2, 2};
    x = tensor_random(4, d4, 21);
    run_op(f, op_graph("MeanVarianceNormalization", 13, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1,
           &y);
    aglm_tensor want = tensor_of(AGLM_F32, 4, d4, NULL);
    for (int64_t c = 0; c < 3; c++) {
        double s = 0, q = 0;
        for (int64_t bt = 0; bt < 2; bt++)
            for (int64_t i = 0; i < 4; i++) {
                double v = aglm_tensor_get_f64(&x, (bt * 3 + c) * 4 + i);
                s += v;
                q += v * v;
            }
        double m = s / 8, sd = sqrt(q / 8 - m * m);
        for (int64_t bt = 0; bt < 2; bt++)
            for (int64_t i = 0; i < 4; i++) {
                int64_t e = (bt * 3 + c) * 4 + i;
                aglm_tensor_set_f64(&want, e, (aglm_tensor_get_f64(&x, e) - m) / (sd + 1e-9));
            }
    }
    assert_close(&y, &want, 1e-5, 1e-4);
    aglm_tensor_free(&y);

    /* LRN with size 3 over the 3 channels */
    g = op_graph("LRN", 13, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "size", 3), AGLM_OK);
    assert_int_equal(aglm_node_set_float(n, "alpha", 0.5f), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    for (int64_t bt = 0; bt < 2; bt++)
        for (int64_t c = 0; c < 3; c++)
            for (int64_t i = 0; i < 4; i++) {
                double sq = 0;
                for (int64_t cc = c - 1; cc <= c + 1; cc++)
                    if (cc >= 0 && cc < 3)
                        sq += pow(aglm_tensor_get_f64(&x, (bt * 3 + cc) * 4 + i), 2);
                int64_t e = (bt * 3 + c) * 4 + i;
                aglm_tensor_set_f64(&want, e,
                                    aglm_tensor_get_f64(&x, e) / pow(1.0 + 0.5 / 3 * sq, 0.75));
            }
    assert_close(&y, &want, 1e-6, 1e-5);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    aglm_tensor_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_examples), cmocka_unit_test(test_softmax_opsets_and_dtypes),
        cmocka_unit_test(test_batch_norm),       cmocka_unit_test(test_instance_and_group_norm),
        cmocka_unit_test(test_layer_norm),       cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_lp_mvn_lrn),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
