/* RNN, GRU and LSTM on the backend under test against a plain reference written here from the ONNX
 * equations: directions, layouts, sequence_lens, initial states, peepholes, clip,
 * linear_before_reset, activation lists, and a case worked by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

typedef struct rnn_case {
    const char *op;
    int seq, batch, in, hidden, n_dir, reverse, layout;
    int with_bias, with_lens, with_h0, with_c0, with_p, lbr, input_forget;
    float clip;
    const int32_t *lens;
} rnn_case;

static double sigm(double x)
{
    return 1.0 / (1.0 + exp(-x));
}
static double clipv(const rnn_case *c, double v)
{
    return c->clip > 0 ? fmax(-c->clip, fmin(c->clip, v)) : v;
}

static double at(const aglm_tensor *t, int64_t i)
{
    return aglm_tensor_get_f64(t, i);
}

/* Y, Y_h, Y_c of one case, straight from the ONNX equations (default activations). */
static void reference(const rnn_case *c, const aglm_tensor *x, const aglm_tensor *w,
                      const aglm_tensor *r, const aglm_tensor *b, const aglm_tensor *h0,
                      const aglm_tensor *c0, const aglm_tensor *p, aglm_tensor *y, aglm_tensor *yh,
                      aglm_tensor *yc)
{
    int G = !strcmp(c->op, "RNN") ? 1 : !strcmp(c->op, "GRU") ? 3 : 4, H = c->hidden, I = c->in;
    for (int d = 0; d < c->n_dir; d++)
        for (int bt = 0; bt < c->batch; bt++) {
            double h[16] = {0}, cs[16] = {0};
            int sidx = c->layout ? bt * c->n_dir + d : d * c->batch + bt;
            for (int j = 0; j < H; j++) {
                h[j] = h0 ? at(h0, sidx * H + j) : 0;
                cs[j] = c0 ? at(c0, sidx * H + j) : 0;
            }
            int len = c->with_lens ? c->lens[bt] : c->seq;
            for (int step = 0; step < len; step++) {
                int t = (c->reverse || d == 1) ? len - 1 - step : step;
                double gx[64], gh[64];
                for (int g = 0; g < G * H; g++) {
                    gx[g] = b ? at(b, d * 2 * G * H + g) : 0;
                    gh[g] = b ? at(b, d * 2 * G * H + G * H + g) : 0;
                    for (int i = 0; i < I; i++)
                        gx[g] +=
                            at(x, (c->layout ? (bt * c->seq + t) : (t * c->batch + bt)) * I + i) *
                            at(w, (d * G * H + g) * I + i);
                    for (int i = 0; i < H; i++)
                        gh[g] += h[i] * at(r, (d * G * H + g) * H + i);
                }
                double nh[16];
                for (int j = 0; j < H; j++) {
                    if (G == 1) {
                        nh[j] = tanh(clipv(c, gx[j] + gh[j]));
                    } else if (G == 3) {
                        double z = sigm(clipv(c, gx[j] + gh[j])),
                               rg = sigm(clipv(c, gx[H + j] + gh[H + j]));
                        double pre;
                        if (c->lbr) {
                            pre = gx[2 * H + j] + rg * gh[2 * H + j];
                        } else {
                            pre =
                                gx[2 * H + j] + (b ? at(b, d * 2 * G * H + G * H + 2 * H + j) : 0);
                            for (int i = 0; i < H; i++) {
                                double rh = sigm(clipv(c, gx[H + i] + gh[H + i])) * h[i];
                                pre += rh * at(r, (d * G * H + 2 * H + j) * H + i);
                            }
                        }
                        nh[j] = (1 - z) * tanh(clipv(c, pre)) + z * h[j];
                    } else {
                        double pi = p ? at(p, d * 3 * H + j) : 0,
                               po = p ? at(p, d * 3 * H + H + j) : 0,
                               pf = p ? at(p, d * 3 * H + 2 * H + j) : 0;
                        double ig = sigm(clipv(c, gx[j] + gh[j] + pi * cs[j]));
                        double fg = sigm(clipv(c, gx[2 * H + j] + gh[2 * H + j] + pf * cs[j]));
                        if (c->input_forget)
                            fg = 1 - ig;
                        double cg = tanh(clipv(c, gx[3 * H + j] + gh[3 * H + j]));
                        cs[j] = fg * cs[j] + ig * cg;
                        double og = sigm(clipv(c, gx[H + j] + gh[H + j] + po * cs[j]));
                        nh[j] = og * tanh(cs[j]);
                    }
                }
                for (int j = 0; j < H; j++) {
                    h[j] = nh[j];
                    int64_t yi = c->layout ? ((int64_t)(bt * c->seq + t) * c->n_dir + d) * H + j
                                           : ((int64_t)(t * c->n_dir + d) * c->batch + bt) * H + j;
                    aglm_tensor_set_f64(y, yi, h[j]);
                }
            }
            for (int j = 0; j < H; j++) {
                aglm_tensor_set_f64(yh, sidx * H + j, h[j]);
                aglm_tensor_set_f64(yc, sidx * H + j, cs[j]);
            }
        }
}

static aglm_tensor rnd(int rank, const int64_t *dims, uint32_t seed)
{
    return tensor_random(rank, dims, seed);
}

static void check_case(backend_fx *f, const rnn_case *c)
{
    int G = !strcmp(c->op, "RNN") ? 1 : !strcmp(c->op, "GRU") ? 3 : 4, H = c->hidden, nd = c->n_dir;
    int64_t xd[3] = {c->seq, c->batch, c->in}, sd[3] = {nd, c->batch, H};
    if (c->layout) {
        xd[0] = c->batch, xd[1] = c->seq;
        sd[0] = c->batch, sd[1] = nd;
    }
    aglm_tensor x = rnd(3, xd, 1), w = rnd(3, (int64_t[]){nd, G * H, c->in}, 2),
                r = rnd(3, (int64_t[]){nd, G * H, H}, 3), b = rnd(2, (int64_t[]){nd, 2 * G * H}, 4),
                h0 = rnd(3, sd, 5), c0 = rnd(3, sd, 6), p = rnd(2, (int64_t[]){nd, 3 * H}, 7), lens;
    memset(&lens, 0, sizeof lens);
    if (c->with_lens) {
        lens = tensor_of(AGLM_I32, 1, (int64_t[]){c->batch}, NULL);
        memcpy(lens.data, c->lens, (size_t)c->batch * sizeof(int32_t));
    }
    const aglm_tensor *ins[8] = {&x,
                                 &w,
                                 &r,
                                 c->with_bias ? &b : NULL,
                                 c->with_lens ? &lens : NULL,
                                 c->with_h0 ? &h0 : NULL,
                                 c->with_c0 ? &c0 : NULL,
                                 c->with_p ? &p : NULL};
    size_t n_in = G == 4 ? 8 : 6, n_out = G == 4 ? 3 : 2;
    aglm_node *node;
    aglm_graph *g = op_graph(c->op, 14, n_in, ins, NULL, n_out, &node);
    assert_int_equal(aglm_node_set_int(node, "hidden_size", H), AGLM_OK);
    const char *dir = nd == 2 ? "bidirectional" : c->reverse ? "reverse" : "forward";
    assert_int_equal(aglm_node_set_string(node, "direction", dir, strlen(dir)), AGLM_OK);
    if (c->layout)
        assert_int_equal(aglm_node_set_int(node, "layout", 1), AGLM_OK);
    if (c->clip > 0)
        assert_int_equal(aglm_node_set_float(node, "clip", c->clip), AGLM_OK);
    if (c->lbr)
        assert_int_equal(aglm_node_set_int(node, "linear_before_reset", 1), AGLM_OK);
    if (c->input_forget)
        assert_int_equal(aglm_node_set_int(node, "input_forget", 1), AGLM_OK);
    aglm_tensor out[3];
    run_op(f, g, n_in, ins, NULL, n_out, out);

    int64_t yd[4] = {c->seq, nd, c->batch, H};
    if (c->layout)
        yd[0] = c->batch, yd[1] = c->seq, yd[2] = nd;
    aglm_tensor y = tensor_of(AGLM_F32, 4, yd, NULL), yh = tensor_of(AGLM_F32, 3, sd, NULL),
                yc = tensor_of(AGLM_F32, 3, sd, NULL);
    reference(c, &x, &w, &r, c->with_bias ? &b : NULL, c->with_h0 ? &h0 : NULL,
              c->with_c0 ? &c0 : NULL, c->with_p ? &p : NULL, &y, &yh, &yc);
    assert_close(&out[0], &y, 1e-5, 1e-4);
    assert_close(&out[1], &yh, 1e-5, 1e-4);
    if (G == 4)
        assert_close(&out[2], &yc, 1e-5, 1e-4);
    for (size_t i = 0; i < n_out; i++)
        aglm_tensor_free(&out[i]);
    aglm_tensor *all[] = {&x, &w, &r, &b, &h0, &c0, &p, &lens, &y, &yh, &yc};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        aglm_tensor_free(all[i]);
}

/* h1 = tanh(1) and h2 = tanh(2 + h1) for X = [1, 2], W = R = 1, no bias. */
static void test_rnn_by_hand(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 3, (int64_t[]){2, 1, 1}, (const double[]){1, 2});
    aglm_tensor w = tensor_of(AGLM_F32, 3, (int64_t[]){1, 1, 1}, (const double[]){1});
    aglm_tensor r = tensor_of(AGLM_F32, 3, (int64_t[]){1, 1, 1}, (const double[]){1});
    const aglm_tensor *ins[3] = {&x, &w, &r};
    aglm_tensor out[2];
    run_op(f, op_graph("RNN", 14, 3, ins, NULL, 2, NULL), 3, ins, NULL, 2, out);
    double h1 = tanh(1.0), h2 = tanh(2.0 + h1);
    assert_values(&out[0], 4, (int64_t[]){2, 1, 1, 1}, (const double[]){h1, h2});
    assert_values(&out[1], 3, (int64_t[]){1, 1, 1}, (const double[]){h2});
    for (int i = 0; i < 2; i++)
        aglm_tensor_free(&out[i]);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
    aglm_tensor_free(&r);
}

static const int32_t lens3[3] = {4, 2, 0};

static void test_rnn_variants(void **state)
{
    backend_fx *f = *state;
    rnn_case cases[] = {
        {"RNN", 4, 3, 5, 6, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, NULL},
        {"RNN", 4, 3, 5, 6, 2, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, lens3},
        {"RNN", 3, 2, 2, 3, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0.5f, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(f, &cases[i]);
}

static void test_gru_variants(void **state)
{
    backend_fx *f = *state;
    rnn_case cases[] = {
        {"GRU", 4, 3, 5, 6, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, NULL},
        {"GRU", 4, 3, 5, 6, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, NULL},
        {"GRU", 4, 3, 5, 6, 2, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, lens3},
        {"GRU", 4, 3, 5, 6, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0.3f, lens3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(f, &cases[i]);
}

static void test_lstm_variants(void **state)
{
    backend_fx *f = *state;
    rnn_case cases[] = {
        {"LSTM", 4, 3, 5, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL},
        {"LSTM", 4, 3, 5, 6, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, NULL},
        {"LSTM", 4, 3, 5, 6, 2, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, lens3},
        {"LSTM", 3, 2, 4, 3, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0.4f, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(f, &cases[i]);
}

/* Relu as the RNN activation: negative pre-activations give exactly 0. */
static void test_rnn_activation_list(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 3, (int64_t[]){2, 1, 1}, (const double[]){-1, 3});
    aglm_tensor w = tensor_of(AGLM_F32, 3, (int64_t[]){1, 1, 1}, (const double[]){2});
    aglm_tensor r = tensor_of(AGLM_F32, 3, (int64_t[]){1, 1, 1}, (const double[]){1});
    const aglm_tensor *ins[3] = {&x, &w, &r};
    aglm_node *node;
    aglm_graph *g = op_graph("RNN", 14, 3, ins, NULL, 1, &node);
    const char *acts[1] = {"Relu"};
    assert_int_equal(aglm_node_set_strings(node, "activations", acts, 1), AGLM_OK);
    aglm_tensor out[1];
    run_op(f, g, 3, ins, NULL, 1, out);
    assert_values(&out[0], 4, (int64_t[]){2, 1, 1, 1}, (const double[]){0, 6});
    aglm_tensor_free(&out[0]);

    /* an unknown activation is refused by name */
    g = op_graph("RNN", 14, 3, ins, NULL, 1, &node);
    acts[0] = "Wobble";
    assert_int_equal(aglm_node_set_strings(node, "activations", acts, 1), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, out), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "Wobble"));
    aglm_graph_free(g);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
    aglm_tensor_free(&r);
}

static void test_bad_weight_shape(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 3, (int64_t[]){2, 1, 3}, NULL);
    aglm_tensor w = tensor_of(AGLM_F32, 3, (int64_t[]){1, 8, 2}, NULL); /* input size 2, X has 3 */
    aglm_tensor r = tensor_of(AGLM_F32, 3, (int64_t[]){1, 8, 2}, NULL);
    const aglm_tensor *ins[3] = {&x, &w, &r};
    aglm_tensor out[1];
    aglm_graph *g = op_graph("LSTM", 14, 3, ins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, out), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "W"));
    assert_non_null(strstr(aglm_last_error(), "[1,8,2]"));
    aglm_graph_free(g);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
    aglm_tensor_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rnn_by_hand),         cmocka_unit_test(test_rnn_variants),
        cmocka_unit_test(test_gru_variants),        cmocka_unit_test(test_lstm_variants),
        cmocka_unit_test(test_rnn_activation_list), cmocka_unit_test(test_bad_weight_shape),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
