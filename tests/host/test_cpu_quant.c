/* Quantisation ops, losses and Dropout on the backend under test: the ONNX documentation's examples
 * and references computed here from the formulas. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

static void assert_ints(const aglm_tensor *t, aglm_dtype dt, int rank, const int64_t *dims,
                        const int64_t *vals)
{
    char s[64];
    assert_int_equal(t->dtype, dt);
    assert_int_equal(t->rank, rank);
    for (int i = 0; i < rank; i++)
        if (t->dims[i] != dims[i])
            fail_msg("shape %s", aglm_shape_str(t->rank, t->dims, s, sizeof s));
    for (int64_t i = 0; i < aglm_tensor_numel(t); i++)
        if ((int64_t)aglm_tensor_get_f64(t, i) != vals[i])
            fail_msg("element %lld: got %lld, expected %lld", (long long)i,
                     (long long)aglm_tensor_get_f64(t, i), (long long)vals[i]);
}

/* ---- QuantizeLinear / DequantizeLinear ------------------------------------------------- */

static void test_quantize(void **state)
{
    backend_fx *f = *state;
    const int64_t six = 6, one = 1;
    aglm_tensor x = tensor_of(AGLM_F32, 1, &six, (double[]){0, 2, 3, 1000, -254, -1000});
    aglm_tensor s = tensor_of(AGLM_F32, 0, NULL, (double[]){2});
    aglm_tensor z = tensor_of(AGLM_U8, 0, NULL, (double[]){128});
    const aglm_tensor *ins[3] = {&x, &s, &z};
    aglm_tensor y;
    run_op(f, op_graph("QuantizeLinear", 13, 3, ins, NULL, 1, NULL), 3, ins, NULL, 1, &y);
    /* 3 / 2 = 1.5 rounds to even 2 */
    assert_ints(&y, AGLM_U8, 1, &six, (int64_t[]){128, 129, 130, 255, 1, 0});
    aglm_tensor_free(&y);
    /* no zero point: u8 with 0 */
    run_op(f, op_graph("QuantizeLinear", 13, 2, ins, NULL, 1, NULL), 2, ins, NULL, 1, &y);
    assert_ints(&y, AGLM_U8, 1, &six, (int64_t[]){0, 1, 2, 255, 0, 0});
    aglm_tensor_free(&y);
    aglm_tensor_free(&z);

    /* per axis, into i8 */
    const int64_t d[3] = {1, 3, 2}, three = 3;
    aglm_tensor x3 = tensor_of(AGLM_F32, 3, d, (double[]){-10, 10, 7, 9, 1.25, -300});
    aglm_tensor s3 = tensor_of(AGLM_F32, 1, &three, (double[]){2, 4, 0.5});
    aglm_tensor z3 = tensor_of(AGLM_I8, 1, &three, (double[]){0, -1, 3});
    const aglm_tensor *ins3[3] = {&x3, &s3, &z3};
    run_op(f, op_graph("QuantizeLinear", 13, 3, ins3, NULL, 1, NULL), 3, ins3, NULL, 1, &y);
    /* 1.25 / 0.5 = 2.5 rounds to even 2 */
    assert_ints(&y, AGLM_I8, 3, d, (int64_t[]){-5, 5, 1, 1, 5, -128});
    aglm_tensor_free(&y);

    /* dequantising those per axis */
    aglm_tensor q = tensor_of(AGLM_I8, 3, d, (double[]){-5, 5, 1, 1, 6, -128});
    const aglm_tensor *dins[3] = {&q, &s3, &z3};
    run_op(f, op_graph("DequantizeLinear", 13, 3, dins, NULL, 1, NULL), 3, dins, NULL, 1, &y);
    assert_values(&y, 3, d, (double[]){-10, 10, 8, 8, 1.5, -65.5});
    aglm_tensor_free(&y);

    /* blocked (opset 21): blocks of 2 along axis 1 of [2,4] */
    const int64_t bd[2] = {2, 4}, sd[2] = {2, 2};
    aglm_tensor xb = tensor_of(AGLM_F32, 2, bd, (double[]){1, 2, 3, 4, 5, 6, 7, 8});
    aglm_tensor sb = tensor_of(AGLM_F32, 2, sd, (double[]){1, 2, 0.5, 4});
    aglm_tensor zb = tensor_of(AGLM_I16, 2, sd, (double[]){0, 100, -7, 0});
    const aglm_tensor *bins[3] = {&xb, &sb, &zb};
    aglm_node *n;
    aglm_graph *g = op_graph("QuantizeLinear", 21, 3, bins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "block_size", 2), AGLM_OK);
    run_op(f, g, 3, bins, NULL, 1, &y);
    assert_ints(&y, AGLM_I16, 2, bd, (int64_t[]){1, 2, 102, 102, 3, 5, 2, 2});
    aglm_tensor_free(&y);

    /* documentation example of DequantizeLinear */
    const int64_t four = 4;
    aglm_tensor xd = tensor_of(AGLM_U8, 1, &four, (double[]){0, 3, 128, 255});
    aglm_tensor zd = tensor_of(AGLM_U8, 1, &one, (double[]){128});
    aglm_tensor sd1 = tensor_of(AGLM_F32, 1, &one, (double[]){2});
    const aglm_tensor *dd[3] = {&xd, &sd1, &zd};
    run_op(f, op_graph("DequantizeLinear", 10, 3, dd, NULL, 1, NULL), 3, dd, NULL, 1, &y);
    assert_values(&y, 1, &four, (double[]){-256, -250, 0, 254});
    aglm_tensor_free(&y);

    /* a scale that fits neither per tensor nor the axis is named */
    aglm_tensor s2 = tensor_of(AGLM_F32, 1, (int64_t[]){2}, (double[]){1, 2});
    const aglm_tensor *bad[2] = {&x3, &s2};
    g = op_graph("QuantizeLinear", 13, 2, bad, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 2, bad, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "scale"));
    aglm_graph_free(g);

    aglm_tensor *all[] = {&x, &s, &x3, &s3, &z3, &q, &xb, &sb, &zb, &xd, &zd, &sd1, &s2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        aglm_tensor_free(all[i]);
}

static void test_dynamic_quantize(void **state)
{
    backend_fx *f = *state;
    const int64_t six = 6;
    aglm_tensor x = tensor_of(AGLM_F32, 1, &six, (double[]){0, 2, -3, -2.5, 1.34, 0.5});
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor y[3];
    run_op(f, op_graph("DynamicQuantizeLinear", 11, 1, ins, NULL, 3, NULL), 1, ins, NULL, 3, y);
    assert_ints(&y[0], AGLM_U8, 1, &six, (int64_t[]){153, 255, 0, 26, 221, 179});
    assert_values(&y[1], 0, NULL, (double[]){5.0 / 255});
    assert_ints(&y[2], AGLM_U8, 0, NULL, (int64_t[]){153});
    for (int i = 0; i < 3; i++)
        aglm_tensor_free(&y[i]);
    aglm_tensor_free(&x);
}

/* ---- integer products ----------------------------------------------------------------------- */

static void test_matmul_integer(void **state)
{
    backend_fx *f = *state;
    const int64_t ad[2] = {4, 3}, bd[2] = {3, 2}, yd[2] = {4, 2};
    aglm_tensor a = tensor_of(AGLM_U8, 2, ad, (double[]){11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0});
    aglm_tensor b = tensor_of(AGLM_U8, 2, bd, (double[]){1, 4, 2, 5, 3, 6});
    aglm_tensor az = tensor_of(AGLM_U8, 0, NULL, (double[]){12});
    aglm_tensor bz = tensor_of(AGLM_U8, 0, NULL, (double[]){0});
    const aglm_tensor *ins[4] = {&a, &b, &az, &bz};
    aglm_tensor y;
    run_op(f, op_graph("MatMulInteger", 10, 4, ins, NULL, 1, NULL), 4, ins, NULL, 1, &y);
    assert_ints(&y, AGLM_I32, 2, yd, (int64_t[]){-38, -83, -44, -98, -50, -113, -56, -128});
    aglm_tensor_free(&y);

    /* QLinearMatMul, the documentation's 2-D example */
    const int64_t qa[2] = {2, 4}, qb[2] = {4, 3}, qy[2] = {2, 3}, one = 1;
    aglm_tensor A = tensor_of(AGLM_U8, 2, qa, (double[]){208, 236, 0, 238, 3, 214, 255, 29});
    aglm_tensor B = tensor_of(AGLM_U8, 2, qb,
                              (double[]){152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247});
    aglm_tensor as = tensor_of(AGLM_F32, 1, &one, (double[]){0.0066});
    aglm_tensor az2 = tensor_of(AGLM_U8, 1, &one, (double[]){113});
    aglm_tensor bs = tensor_of(AGLM_F32, 1, &one, (double[]){0.00705});
    aglm_tensor bz2 = tensor_of(AGLM_U8, 1, &one, (double[]){114});
    aglm_tensor ys = tensor_of(AGLM_F32, 1, &one, (double[]){0.0107});
    aglm_tensor yz = tensor_of(AGLM_U8, 1, &one, (double[]){118});
    const aglm_tensor *q[8] = {&A, &as, &az2, &B, &bs, &bz2, &ys, &yz};
    run_op(f, op_graph("QLinearMatMul", 10, 8, q, NULL, 1, NULL), 8, q, NULL, 1, &y);
    assert_ints(&y, AGLM_U8, 2, qy, (int64_t[]){168, 115, 255, 1, 66, 151});
    aglm_tensor_free(&y);

    /* inner dimensions that differ are named with both shapes */
    const aglm_tensor *bad[2] = {&a, &a};
    aglm_graph *g = op_graph("MatMulInteger", 10, 2, bad, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 2, bad, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "[4,3]"));
    aglm_graph_free(g);

    aglm_tensor *all[] = {&a, &b, &az, &bz, &A, &B, &as, &az2, &bs, &bz2, &ys, &yz};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        aglm_tensor_free(all[i]);
}

static void test_conv_integer(void **state)
{
    backend_fx *f = *state;
    const int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2};
    aglm_tensor x = tensor_of(AGLM_U8, 4, xd, (double[]){2, 3, 4, 5, 6, 7, 8, 9, 10});
    aglm_tensor w = tensor_of(AGLM_U8, 4, wd, (double[]){1, 1, 1, 1});
    aglm_tensor xz = tensor_of(AGLM_U8, 0, NULL, (double[]){1});
    const aglm_tensor *ins[3] = {&x, &w, &xz};
    aglm_tensor y;
    run_op(f, op_graph("ConvInteger", 10, 3, ins, NULL, 1, NULL), 3, ins, NULL, 1, &y);
    assert_ints(&y, AGLM_I32, 4, (int64_t[]){1, 1, 2, 2}, (int64_t[]){12, 16, 24, 28});
    aglm_tensor_free(&y);
    aglm_node *n;
    aglm_graph *g = op_graph("ConvInteger", 10, 3, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "pads", (int64_t[]){1, 1, 1, 1}, 4), AGLM_OK);
    run_op(f, g, 3, ins, NULL, 1, &y);
    assert_ints(&y, AGLM_I32, 4, (int64_t[]){1, 1, 4, 4},
                (int64_t[]){1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9});
    aglm_tensor_free(&y);

    /* QLinearConv, two output channels with their own weight scales and a bias */
    const int64_t w2d[4] = {2, 1, 2, 2}, two = 2;
    aglm_tensor w2 = tensor_of(AGLM_U8, 4, w2d, (double[]){1, 1, 1, 1, 2, 0, 0, 2});
    aglm_tensor xs = tensor_of(AGLM_F32, 0, NULL, (double[]){1});
    aglm_tensor ws = tensor_of(AGLM_F32, 1, &two, (double[]){1, 0.5});
    aglm_tensor wz = tensor_of(AGLM_U8, 1, &two, (double[]){0, 0});
    aglm_tensor ys = tensor_of(AGLM_F32, 0, NULL, (double[]){2});
    aglm_tensor yz = tensor_of(AGLM_U8, 0, NULL, (double[]){10});
    aglm_tensor bias = tensor_of(AGLM_I32, 1, &two, (double[]){1, -3});
    const aglm_tensor *q[9] = {&x, &xs, &xz, &w2, &ws, &wz, &ys, &yz, &bias};
    run_op(f, op_graph("QLinearConv", 10, 9, q, NULL, 1, NULL), 9, q, NULL, 1, &y);
    /* channel 0 sums windows of x - 1: 12 16 24 28; channel 1 is 2 * (top-left + bottom-right) */
    int64_t want[8];
    const int64_t acc0[4] = {12, 16, 24, 28};
    const int64_t acc1[4] = {2 * (1 + 5), 2 * (2 + 6), 2 * (4 + 8), 2 * (5 + 9)};
    for (int i = 0; i < 4; i++) {
        want[i] = (int64_t)nearbyint((double)(acc0[i] + 1) * 1 * 1 / 2) + 10;
        want[4 + i] = (int64_t)nearbyint((double)(acc1[i] - 3) * 1 * 0.5 / 2) + 10;
    }
    assert_ints(&y, AGLM_U8, 4, (int64_t[]){1, 2, 2, 2}, want);
    aglm_tensor_free(&y);

    aglm_tensor *all[] = {&x, &w, &xz, &w2, &xs, &ws, &wz, &ys, &yz, &bias};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        aglm_tensor_free(all[i]);
}

/* ---- losses ------------------------------------------------------------------------------- */

/* The reference NLL of log-probabilities lp [N,C,D] with targets t [N,D]. */
static double nll_ref(const aglm_tensor *lp, const int64_t *t, const double *w, int64_t ii,
                      const char *red, double *each)
{
    int64_t nb = lp->dims[0], nc = lp->dims[1], nd = lp->rank > 2 ? lp->dims[2] : 1;
    double sum = 0, wsum = 0;
    for (int64_t n = 0; n < nb; n++)
        for (int64_t d = 0; d < nd; d++) {
            int64_t c = t[n * nd + d];
            double l = 0, wt = 0;
            if (c != ii) {
                wt = w ? w[c] : 1;
                l = -aglm_tensor_get_f64(lp, (n * nc + c) * nd + d) * wt;
            }
            each[n * nd + d] = l;
            sum += l;
            wsum += wt;
        }
    return strcmp(red, "sum") == 0 ? sum : sum / wsum;
}

static void test_losses(void **state)
{
    backend_fx *f = *state;
    const int64_t xd[3] = {3, 5, 2}, td[2] = {3, 2}, five = 5;
    aglm_tensor x = tensor_random(3, xd, 17);
    aglm_tensor t = tensor_of(AGLM_I64, 2, td, (double[]){0, 4, 2, -1, 3, 3});
    const double wv[5] = {0.5, 1, 2, 0.25, 1.5};
    aglm_tensor w = tensor_of(AGLM_F32, 1, &five, wv);
    const aglm_tensor *ins[3] = {&x, &t, &w};
    static const char *const reds[3] = {"none", "sum", "mean"};
    /* log-probabilities of x over the class axis, for SoftmaxCrossEntropyLoss */
    aglm_tensor lp = tensor_of(AGLM_F32, 3, xd, NULL);
    for (int64_t n = 0; n < 3; n++)
        for (int64_t d = 0; d < 2; d++) {
            double s = 0;
            for (int64_t c = 0; c < 5; c++)
                s += exp(aglm_tensor_get_f64(&x, (n * 5 + c) * 2 + d));
            for (int64_t c = 0; c < 5; c++)
                aglm_tensor_set_f64(&lp, (n * 5 + c) * 2 + d,
                                    aglm_tensor_get_f64(&x, (n * 5 + c) * 2 + d) - log(s));
        }
    for (int sce = 0; sce < 2; sce++)
        for (int r = 0; r < 3; r++) {
            aglm_node *n;
            aglm_graph *g = op_graph(sce ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss",
                                     13, 3, ins, NULL, sce ? 2 : 1, &n);
            assert_int_equal(aglm_node_set_string(n, "reduction", reds[r], strlen(reds[r])),
                             AGLM_OK);
            assert_int_equal(aglm_node_set_int(n, "ignore_index", -1), AGLM_OK);
            aglm_tensor y[2];
            run_op(f, g, 3, ins, NULL, sce ? 2 : 1, y);
            double each[6];
            double total = nll_ref(sce ? &lp : &x, t.data, wv, -1, reds[r], each);
            if (r == 0) {
                aglm_tensor want = tensor_of(AGLM_F32, 2, td, each);
                assert_close(&y[0], &want, 1e-6, 1e-5);
                aglm_tensor_free(&want);
            } else {
                assert_values(&y[0], 0, NULL, &total);
            }
            aglm_tensor_free(&y[0]);
            if (sce) {
                assert_close(&y[1], &lp, 1e-6, 1e-5);
                aglm_tensor_free(&y[1]);
            }
        }

    /* a target outside the classes (and not ignore_index) is refused by name */
    aglm_tensor bad = tensor_of(AGLM_I64, 2, td, (double[]){0, 7, 2, 1, 3, 3});
    const aglm_tensor *bins[2] = {&x, &bad};
    aglm_tensor y;
    aglm_graph *g = op_graph("NegativeLogLikelihoodLoss", 13, 2, bins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 2, bins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "target 7"));
    aglm_graph_free(g);

    aglm_tensor *all[] = {&x, &t, &w, &lp, &bad};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        aglm_tensor_free(all[i]);
}

/* ---- Dropout ------------------------------------------------------------------------------- */

static void test_dropout(void **state)
{
    backend_fx *f = *state;
    const int64_t d[2] = {2, 3};
    aglm_tensor x = tensor_random(2, d, 2), y[2];
    const aglm_tensor *ins[3] = {&x, NULL, NULL};
    run_op(f, op_graph("Dropout", 13, 1, ins, NULL, 2, NULL), 1, ins, NULL, 2, y);
    assert_close(&y[0], &x, 0, 0);
    assert_ints(&y[1], AGLM_BOOL, 2, d, (int64_t[]){1, 1, 1, 1, 1, 1});
    aglm_tensor_free(&y[0]);
    aglm_tensor_free(&y[1]);

    /* before opset 10 the mask has the data's dtype */
    run_op(f, op_graph("Dropout", 7, 1, ins, NULL, 2, NULL), 1, ins, NULL, 2, y);
    assert_values(&y[1], 2, d, (double[]){1, 1, 1, 1, 1, 1});
    aglm_tensor_free(&y[0]);
    aglm_tensor_free(&y[1]);

    /* training with ratio 0 keeps everything; with a positive ratio it is refused */
    aglm_tensor ratio = tensor_of(AGLM_F32, 0, NULL, (double[]){0});
    aglm_tensor train = tensor_of(AGLM_BOOL, 0, NULL, (double[]){1});
    ins[1] = &ratio;
    ins[2] = &train;
    run_op(f, op_graph("Dropout", 13, 3, ins, NULL, 2, NULL), 3, ins, NULL, 2, y);
    assert_close(&y[0], &x, 0, 0);
    aglm_tensor_free(&y[0]);
    aglm_tensor_free(&y[1]);
    aglm_tensor_set_f64(&ratio, 0, 0.5);
    aglm_graph *g = op_graph("Dropout", 13, 3, ins, NULL, 1, NULL);
    assert_int_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, y), AGLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(aglm_last_error(), "training_mode"));
    aglm_graph_free(g);
    aglm_tensor_free(&ratio);
    aglm_tensor_free(&train);
    aglm_tensor_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize),       cmocka_unit_test(test_dynamic_quantize),
        cmocka_unit_test(test_matmul_integer), cmocka_unit_test(test_conv_integer),
        cmocka_unit_test(test_losses),         cmocka_unit_test(test_dropout),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
