/* Attention, RotaryEmbedding and LinearAttention on the backend under test: cases
 * worked by hand, and Attention's variants (grouped heads, 3-D inputs, causal with a past, masks,
 * qk_matmul_output) against a direct reference written here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

/* ---- Attention by hand ------------------------------------------------------------------- */

/* One query [1, 0] over keys [1, 0] and [0, 1] with values 10 and 20: scores 1/sqrt(2) and 0. */
static void test_attention_by_hand(void **state)
{
    backend_fx *f = *state;
    aglm_tensor q = tensor_of(AGLM_F32, 4, (int64_t[]){1, 1, 1, 2}, (const double[]){1, 0});
    aglm_tensor k = tensor_of(AGLM_F32, 4, (int64_t[]){1, 1, 2, 2}, (const double[]){1, 0, 0, 1});
    aglm_tensor v = tensor_of(AGLM_F32, 4, (int64_t[]){1, 1, 2, 1}, (const double[]){10, 20});
    const aglm_tensor *ins[3] = {&q, &k, &v};
    aglm_tensor y;
    run_op(f, op_graph("Attention", 23, 3, ins, NULL, 1, NULL), 3, ins, NULL, 1, &y);
    double e = exp(1 / sqrt(2.0)), p0 = e / (e + 1);
    assert_values(&y, 4, (int64_t[]){1, 1, 1, 1}, (const double[]){10 * p0 + 20 * (1 - p0)});
    aglm_tensor_free(&y);

    /* a bool mask hiding key 0 leaves value 20; hiding both keys gives a zero row, not NaN */
    aglm_tensor m = tensor_of(AGLM_BOOL, 2, (int64_t[]){1, 2}, (const double[]){0, 1});
    const aglm_tensor *ins4[4] = {&q, &k, &v, &m};
    run_op(f, op_graph("Attention", 23, 4, ins4, NULL, 1, NULL), 4, ins4, NULL, 1, &y);
    assert_values(&y, 4, (int64_t[]){1, 1, 1, 1}, (const double[]){20});
    aglm_tensor_free(&y);
    aglm_tensor_set_f64(&m, 1, 0);
    run_op(f, op_graph("Attention", 23, 4, ins4, NULL, 1, NULL), 4, ins4, NULL, 1, &y);
    assert_values(&y, 4, (int64_t[]){1, 1, 1, 1}, (const double[]){0});
    aglm_tensor_free(&y);
    aglm_tensor_free(&m);
    aglm_tensor_free(&q);
    aglm_tensor_free(&k);
    aglm_tensor_free(&v);
}

/* ---- Attention against a reference ------------------------------------------------------- */

typedef struct att_case {
    int b, qh, kvh, sq, skv, past, dk, dv;
    int causal, mask, three_d, mode;
    float softcap, scale; /* scale 0: default */
} att_case;

/* 4-D reference: Y [b, qh, sq, dv], present K/V, and the qk output of `mode`. */
static void att_reference(const att_case *c, const aglm_tensor *q, const aglm_tensor *k,
                          const aglm_tensor *v, const aglm_tensor *mask, const aglm_tensor *pk,
                          const aglm_tensor *pv, aglm_tensor *y, aglm_tensor *qk)
{
    int T = c->past + c->skv, reps = c->qh / c->kvh;
    double scale = c->scale > 0 ? c->scale : 1 / sqrt((double)c->dk);
    for (int b = 0; b < c->b; b++)
        for (int h = 0; h < c->qh; h++)
            for (int i = 0; i < c->sq; i++) {
                double s[64], p[64], mx = -INFINITY;
                int kh = h / reps;
                for (int j = 0; j < T; j++) {
                    double dot = 0;
                    for (int d = 0; d < c->dk; d++) {
                        double kv =
                            j < c->past
                                ? aglm_tensor_get_f64(pk,
                                                      ((b * c->kvh + kh) * c->past + j) * c->dk + d)
                                : aglm_tensor_get_f64(
                                      k, ((b * c->kvh + kh) * c->skv + j - c->past) * c->dk + d);
                        dot +=
                            aglm_tensor_get_f64(q, ((b * c->qh + h) * c->sq + i) * c->dk + d) * kv;
                    }
                    s[j] = dot * scale;
                    if (c->softcap > 0)
                        s[j] = c->softcap * tanh(s[j] / c->softcap);
                    if (c->mode <= 1 && qk)
                        aglm_tensor_set_f64(qk, ((b * c->qh + h) * c->sq + i) * T + j, s[j]);
                    if (mask)
                        s[j] += aglm_tensor_get_f64(mask, i * T + j);
                    if (c->causal && j > i + c->past)
                        s[j] = -INFINITY;
                    if (c->mode == 2 && qk)
                        aglm_tensor_set_f64(qk, ((b * c->qh + h) * c->sq + i) * T + j, s[j]);
                    mx = fmax(mx, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < T; j++)
                    sum += p[j] = exp(s[j] - mx);
                for (int j = 0; j < T; j++) {
                    p[j] /= sum;
                    if (c->mode == 3 && qk)
                        aglm_tensor_set_f64(qk, ((b * c->qh + h) * c->sq + i) * T + j, p[j]);
                }
                for (int d = 0; d < c->dv; d++) {
                    double acc = 0;
                    for (int j = 0; j < T; j++) {
                        double vv =
                            j < c->past
                                ? aglm_tensor_get_f64(pv,
                                                      ((b * c->kvh + kh) * c->past + j) * c->dv + d)
                                : aglm_tensor_get_f64(
                                      v, ((b * c->kvh + kh) * c->skv + j - c->past) * c->dv + d);
                        acc += p[j] * vv;
                    }
                    aglm_tensor_set_f64(y, ((b * c->qh + h) * c->sq + i) * c->dv + d, acc);
                }
            }
}

/* [b, heads, s, d] -> [b, s, heads*d] */
static aglm_tensor to_3d(const aglm_tensor *t)
{
    int64_t b = t->dims[0], h = t->dims[1], s = t->dims[2], d = t->dims[3];
    aglm_tensor o = tensor_of(t->dtype, 3, (int64_t[]){b, s, h * d}, NULL);
    for (int64_t i0 = 0; i0 < b; i0++)
        for (int64_t i1 = 0; i1 < h; i1++)
            for (int64_t i2 = 0; i2 < s; i2++)
                for (int64_t i3 = 0; i3 < d; i3++)
                    aglm_tensor_set_f64(&o, ((i0 * s + i2) * h + i1) * d + i3,
                                        aglm_tensor_get_f64(t, ((i0 * h + i1) * s + i2) * d + i3));
    return o;
}

static void check_attention(backend_fx *f, const att_case *c)
{
    int T = c->past + c->skv;
    aglm_tensor q = tensor_random(4, (int64_t[]){c->b, c->qh, c->sq, c->dk}, 11);
    aglm_tensor k = tensor_random(4, (int64_t[]){c->b, c->kvh, c->skv, c->dk}, 12);
    aglm_tensor v = tensor_random(4, (int64_t[]){c->b, c->kvh, c->skv, c->dv}, 13);
    aglm_tensor m = tensor_random(2, (int64_t[]){c->sq, T}, 14);
    aglm_tensor pk = tensor_random(4, (int64_t[]){c->b, c->kvh, c->past, c->dk}, 15);
    aglm_tensor pv = tensor_random(4, (int64_t[]){c->b, c->kvh, c->past, c->dv}, 16);
    aglm_tensor q3, k3, v3;
    if (c->three_d) {
        q3 = to_3d(&q);
        k3 = to_3d(&k);
        v3 = to_3d(&v);
    }
    const aglm_tensor *ins[6] = {c->three_d ? &q3 : &q, c->three_d ? &k3 : &k,
                                 c->three_d ? &v3 : &v, c->mask ? &m : NULL,
                                 c->past ? &pk : NULL,  c->past ? &pv : NULL};
    size_t n_in = c->past ? 6 : c->mask ? 4 : 3;
    aglm_node *node;
    aglm_graph *g = op_graph("Attention", 23, n_in, ins, NULL, 4, &node);
    if (c->causal)
        assert_int_equal(aglm_node_set_int(node, "is_causal", 1), AGLM_OK);
    if (c->three_d) {
        assert_int_equal(aglm_node_set_int(node, "q_num_heads", c->qh), AGLM_OK);
        assert_int_equal(aglm_node_set_int(node, "kv_num_heads", c->kvh), AGLM_OK);
    }
    if (c->mode)
        assert_int_equal(aglm_node_set_int(node, "qk_matmul_output_mode", c->mode), AGLM_OK);
    if (c->softcap > 0)
        assert_int_equal(aglm_node_set_float(node, "softcap", c->softcap), AGLM_OK);
    if (c->scale > 0)
        assert_int_equal(aglm_node_set_float(node, "scale", c->scale), AGLM_OK);
    aglm_tensor out[4];
    run_op(f, g, n_in, ins, NULL, 4, out);

    aglm_tensor y = tensor_of(AGLM_F32, 4, (int64_t[]){c->b, c->qh, c->sq, c->dv}, NULL);
    aglm_tensor qk = tensor_of(AGLM_F32, 4, (int64_t[]){c->b, c->qh, c->sq, T}, NULL);
    att_reference(c, &q, &k, &v, c->mask ? &m : NULL, &pk, &pv, &y, &qk);
    if (c->three_d) {
        aglm_tensor y3 = to_3d(&y);
        assert_close(&out[0], &y3, 1e-5, 1e-4);
        aglm_tensor_free(&y3);
    } else {
        assert_close(&out[0], &y, 1e-5, 1e-4);
    }
    assert_int_equal(out[1].dims[2], T);
    assert_close(&out[3], &qk, 1e-5, 1e-4);
    /* present_key ends with the new keys */
    assert_float_equal(aglm_tensor_get_f64(&out[1], aglm_tensor_numel(&out[1]) - 1),
                       aglm_tensor_get_f64(&k, aglm_tensor_numel(&k) - 1), 0);
    for (int i = 0; i < 4; i++)
        aglm_tensor_free(&out[i]);
    aglm_tensor *all[] = {&q, &k, &v, &m, &pk, &pv, &y, &qk};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        aglm_tensor_free(all[i]);
    if (c->three_d) {
        aglm_tensor_free(&q3);
        aglm_tensor_free(&k3);
        aglm_tensor_free(&v3);
    }
}

static void test_attention_variants(void **state)
{
    backend_fx *f = *state;
    att_case cases[] = {
        /* b qh kvh sq skv past dk dv causal mask 3d mode softcap scale */
        {2, 3, 3, 4, 6, 0, 8, 8, 0, 0, 0, 0, 0, 0},
        {2, 6, 2, 4, 6, 0, 8, 5, 0, 1, 0, 2, 0, 0}, /* grouped heads, float mask, biased scores */
        {2, 4, 2, 3, 3, 5, 8, 8, 1, 0, 0, 3, 0, 0}, /* causal after a past, probabilities out */
        {1, 4, 4, 5, 5, 0, 6, 4, 1, 0, 1, 1, 1.5f, 0}, /* 3-D inputs, softcap */
        {1, 2, 1, 2, 3, 2, 4, 4, 0, 1, 1, 0, 0, 0.3f}, /* 3-D, past, mask, explicit scale */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_attention(f, &cases[i]);
}

static void test_attention_bad_heads(void **state)
{
    backend_fx *f = *state;
    aglm_tensor q = tensor_random(4, (int64_t[]){1, 3, 2, 4}, 1),
                k = tensor_random(4, (int64_t[]){1, 2, 2, 4}, 2),
                v = tensor_random(4, (int64_t[]){1, 2, 2, 4}, 3);
    const aglm_tensor *ins[3] = {&q, &k, &v};
    aglm_tensor y;
    aglm_graph *g = op_graph("Attention", 23, 3, ins, NULL, 1, NULL);
    assert_int_not_equal(compile_run(f, g, NULL, 3, ins, NULL, 1, &y), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "3 query heads cannot share 2"));
    aglm_graph_free(g);
    aglm_tensor_free(&q);
    aglm_tensor_free(&k);
    aglm_tensor_free(&v);
}

/* ---- RotaryEmbedding --------------------------------------------------------------------- */

/* Head size 4, rotating the first 2 dims of each head by 90 degrees (cos 0, sin 1) at position 1
 * and not at all at position 0; the last 2 dims pass through. */
static void test_rotary_by_hand(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x =
        tensor_of(AGLM_F32, 4, (int64_t[]){1, 1, 2, 4}, (const double[]){1, 2, 3, 4, 5, 6, 7, 8});
    aglm_tensor cosc = tensor_of(AGLM_F32, 2, (int64_t[]){2, 1}, (const double[]){1, 0});
    aglm_tensor sinc = tensor_of(AGLM_F32, 2, (int64_t[]){2, 1}, (const double[]){0, 1});
    aglm_tensor pos = tensor_of(AGLM_I64, 2, (int64_t[]){1, 2}, (const double[]){0, 1});
    const aglm_tensor *ins[4] = {&x, &cosc, &sinc, &pos};
    aglm_node *node;
    aglm_graph *g = op_graph("RotaryEmbedding", 23, 4, ins, NULL, 1, &node);
    assert_int_equal(aglm_node_set_int(node, "rotary_embedding_dim", 2), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 4, ins, NULL, 1, &y);
    /* position 1: (x1, x2) = (5, 6) -> (cos*5 - sin*6, sin*5 + cos*6) = (-6, 5) */
    assert_values(&y, 4, (int64_t[]){1, 1, 2, 4}, (const double[]){1, 2, 3, 4, -6, 5, 7, 8});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&cosc);
    aglm_tensor_free(&sinc);
    aglm_tensor_free(&pos);
}

/* ---- LinearAttention --------------------------------------------------------------------- */

/* The linear rule with one head of size 1: state s_t = s_{t-1} + k_t v_t, output q_t s_t. */
static void test_linear_attention_by_hand(void **state)
{
    backend_fx *f = *state;
    aglm_tensor q = tensor_of(AGLM_F32, 3, (int64_t[]){1, 3, 1}, (const double[]){1, 2, 3});
    aglm_tensor k = tensor_of(AGLM_F32, 3, (int64_t[]){1, 3, 1}, (const double[]){1, 1, 2});
    aglm_tensor v = tensor_of(AGLM_F32, 3, (int64_t[]){1, 3, 1}, (const double[]){4, 5, 6});
    aglm_tensor past = tensor_of(AGLM_F32, 4, (int64_t[]){1, 1, 1, 1}, (const double[]){10});
    const aglm_tensor *ins[4] = {&q, &k, &v, &past};
    aglm_node *node;
    aglm_graph *g = op_graph("LinearAttention", 23, 4, ins, NULL, 2, &node);
    assert_int_equal(aglm_node_set_int(node, "q_num_heads", 1), AGLM_OK);
    assert_int_equal(aglm_node_set_int(node, "kv_num_heads", 1), AGLM_OK);
    assert_int_equal(aglm_node_set_string(node, "update_rule", "linear", 6), AGLM_OK);
    assert_int_equal(aglm_node_set_float(node, "scale", 1.0f), AGLM_OK);
    aglm_tensor out[2];
    run_op(f, g, 4, ins, NULL, 2, out);
    /* states 14, 19, 31; outputs 1*14, 2*19, 3*31 */
    assert_values(&out[0], 3, (int64_t[]){1, 3, 1}, (const double[]){14, 38, 93});
    assert_values(&out[1], 4, (int64_t[]){1, 1, 1, 1}, (const double[]){31});
    for (int i = 0; i < 2; i++)
        aglm_tensor_free(&out[i]);

    /* the gated rules need a decay input, and the error says so */
    g = op_graph("LinearAttention", 23, 4, ins, NULL, 2, &node);
    assert_int_equal(aglm_node_set_int(node, "q_num_heads", 1), AGLM_OK);
    assert_int_equal(aglm_node_set_int(node, "kv_num_heads", 1), AGLM_OK);
    assert_int_not_equal(compile_run(f, g, NULL, 4, ins, NULL, 2, out), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "decay"));
    aglm_graph_free(g);
    aglm_tensor *all[] = {&q, &k, &v, &past};
    for (size_t i = 0; i < 4; i++)
        aglm_tensor_free(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_by_hand),        cmocka_unit_test(test_attention_variants),
        cmocka_unit_test(test_attention_bad_heads),      cmocka_unit_test(test_rotary_by_hand),
        cmocka_unit_test(test_linear_attention_by_hand),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
