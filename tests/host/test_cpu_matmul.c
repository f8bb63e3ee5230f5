/* MatMul, Gemm and Softmax of the backend under test against straightforward references. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

/* C[b] = A[b] x B[b] over NumPy-broadcast batch dims, 1-D operands promoted and squeezed. */
static aglm_tensor matmul_ref(const aglm_tensor *a, const aglm_tensor *b)
{
    int64_t m = a->rank == 1 ? 1 : a->dims[a->rank - 2], k = a->dims[a->rank - 1];
    int64_t n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
    int r = ra > rb ? ra : rb;
    int64_t batch[AGLM_MAX_RANK], dims[AGLM_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int64_t da = i - (r - ra) >= 0 ? a->dims[i - (r - ra)] : 1;
        int64_t db = i - (r - rb) >= 0 ? b->dims[i - (r - rb)] : 1;
        batch[i] = da > db ? da : db;
        dims[i] = batch[i];
    }
    int rank = r;
    if (a->rank > 1)
        dims[rank++] = m;
    if (b->rank > 1)
        dims[rank++] = n;
    aglm_tensor c = tensor_f32(rank, dims, NULL);
    int64_t count = 1;
    for (int i = 0; i < r; i++)
        count *= batch[i];
    for (int64_t bi = 0; bi < count; bi++) {
        /* batch index -> offsets in A and B, with size-1 dims repeating */
        int64_t rem = bi, oa = 0, ob = 0, sa = m * k, sb = k * n;
        for (int i = r - 1; i >= 0; i--) {
            int64_t idx = rem % batch[i];
            rem /= batch[i];
            int ia = i - (r - ra), ib = i - (r - rb);
            if (ia >= 0) {
                oa += (a->dims[ia] == 1 ? 0 : idx) * sa;
                sa *= a->dims[ia];
            }
            if (ib >= 0) {
                ob += (b->dims[ib] == 1 ? 0 : idx) * sb;
                sb *= b->dims[ib];
            }
        }
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++)
                    s += (double)((float *)a->data)[oa + i * k + p] *
                         ((float *)b->data)[ob + p * n + j];
                ((float *)c.data)[bi * m * n + i * n + j] = (float)s;
            }
    }
    return c;
}

static void check_matmul(backend_fx *f, int ra, const int64_t *da, int rb, const int64_t *db,
                         uint32_t seed)
{
    aglm_tensor a = tensor_random(ra, da, seed), b = tensor_random(rb, db, seed + 7);
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_graph *g = op_graph("MatMul", 17, 2, ins, NULL, 1, NULL);
    aglm_tensor y;
    run_op(f, g, 2, ins, NULL, 1, &y);
    aglm_tensor want = matmul_ref(&a, &b);
    assert_close(&y, &want, 1e-4, 1e-4);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

static void test_matmul_2d(void **state)
{
    backend_fx *f = *state;
    check_matmul(f, 2, (int64_t[]){3, 4}, 2, (int64_t[]){4, 5}, 1);
    check_matmul(f, 2, (int64_t[]){37, 53}, 2, (int64_t[]){53, 29}, 2);
    /* several blocks in every direction (K > 256 too), on several threads */
    check_matmul(f, 2, (int64_t[]){130, 300}, 2, (int64_t[]){300, 270}, 3);
    check_matmul(f, 2, (int64_t[]){1, 600}, 2, (int64_t[]){600, 1000}, 4);
}

static void test_matmul_batched_and_1d(void **state)
{
    backend_fx *f = *state;
    check_matmul(f, 4, (int64_t[]){2, 1, 5, 7}, 3, (int64_t[]){3, 7, 4}, 5);
    check_matmul(f, 3, (int64_t[]){16, 6, 9}, 3, (int64_t[]){16, 9, 10}, 6); /* many batches */
    check_matmul(f, 3, (int64_t[]){4, 6, 9}, 2, (int64_t[]){9, 3}, 7);
    check_matmul(f, 1, (int64_t[]){7}, 2, (int64_t[]){7, 4}, 8);
    check_matmul(f, 2, (int64_t[]){3, 7}, 1, (int64_t[]){7}, 9);
    check_matmul(f, 3, (int64_t[]){2, 5, 7}, 1, (int64_t[]){7}, 10);
    check_matmul(f, 1, (int64_t[]){7}, 3, (int64_t[]){2, 7, 4}, 11);

    /* two vectors: a scalar dot product */
    int64_t d[1] = {3};
    aglm_tensor a = tensor_f32(1, d, (const float[]){1, 2, 3}),
                b = tensor_f32(1, d, (const float[]){4, -5, 6});
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_tensor y;
    run_op(f, op_graph("MatMul", 17, 2, ins, NULL, 1, NULL), 2, ins, NULL, 1, &y);
    assert_values(&y, 0, NULL, (const double[]){12});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

static void test_matmul_mismatch(void **state)
{
    backend_fx *f = *state;
    int64_t da[2] = {2, 3}, db[2] = {4, 2};
    aglm_tensor a = tensor_random(2, da, 1), b = tensor_random(2, db, 2);
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_graph *g = op_graph("MatMul", 17, 2, ins, NULL, 1, NULL);
    aglm_tensor y;
    assert_int_equal(compile_run(f, g, NULL, 2, ins, NULL, 1, &y), AGLM_ERR_SHAPE);
    if (!strstr(aglm_last_error(), "node 'node' (MatMul)") || !strstr(aglm_last_error(), "[2,3]"))
        fail_msg("unexpected message: %s", aglm_last_error());
    aglm_graph_free(g);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

/* Y = alpha * op(A) op(B) + beta * C, with C broadcast to [M, N]. */
static aglm_tensor gemm_ref(const aglm_tensor *a, const aglm_tensor *b, const aglm_tensor *c,
                            int ta, int tb, double alpha, double beta)
{
    int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
    int64_t n = tb ? b->dims[0] : b->dims[1];
    int64_t dims[2] = {m, n};
    aglm_tensor y = tensor_f32(2, dims, NULL);
    const float *A = a->data, *B = b->data;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++)
                s +=
                    (double)(ta ? A[p * m + i] : A[i * k + p]) * (tb ? B[j * k + p] : B[p * n + j]);
            double cv = 0;
            if (c) {
                int64_t ci = c->rank == 2 && c->dims[0] != 1 ? i : 0;
                int64_t cj = c->rank >= 1 && c->dims[c->rank - 1] != 1 ? j : 0;
                int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
                cv = ((float *)c->data)[ci * cn + cj];
            }
            ((float *)y.data)[i * n + j] = (float)(alpha * s + beta * cv);
        }
    return y;
}

static void test_gemm(void **state)
{
    backend_fx *f = *state;
    const int64_t m = 9, k = 13, n = 11;
    int64_t cshapes[4][2] = {{n, 0}, {m, 1}, {m, n}, {0, 0}};
    int crank[4] = {1, 2, 2, 0};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int ci = 0; ci < 5; ci++) {
                int64_t da[2] = {ta ? k : m, ta ? m : k}, db[2] = {tb ? n : k, tb ? k : n};
                aglm_tensor a = tensor_random(2, da, 40 + ci), b = tensor_random(2, db, 50 + ci);
                aglm_tensor c = ci < 4 ? tensor_random(crank[ci], cshapes[ci], 60 + ci)
                                       : tensor_f32(0, NULL, NULL);
                const aglm_tensor *ins[3] = {&a, &b, ci < 4 ? &c : NULL};
                aglm_node *node;
                aglm_graph *g = op_graph("Gemm", 13, ci < 4 ? 3 : 2, ins, NULL, 1, &node);
                assert_int_equal(aglm_node_set_int(node, "transA", ta), AGLM_OK);
                assert_int_equal(aglm_node_set_int(node, "transB", tb), AGLM_OK);
                assert_int_equal(aglm_node_set_float(node, "alpha", 0.5f), AGLM_OK);
                assert_int_equal(aglm_node_set_float(node, "beta", -2.0f), AGLM_OK);
                aglm_tensor y;
                run_op(f, g, ci < 4 ? 3 : 2, ins, NULL, 1, &y);
                aglm_tensor want = gemm_ref(&a, &b, ci < 4 ? &c : NULL, ta, tb, 0.5, -2.0);
                assert_close(&y, &want, 1e-4, 1e-4);
                aglm_tensor_free(&y);
                aglm_tensor_free(&want);
                aglm_tensor_free(&a);
                aglm_tensor_free(&b);
                aglm_tensor_free(&c);
            }
}

/* A constant B (an initialiser: packed once at compile time) multiplies like any other, and
 * bit for bit as the same B fed as an input: MatMul with a 2-D B shared by batches, Gemm with
 * transB 0/1 and C; K over one 256-deep block and N off every panel width. */
static void test_const_b(void **state)
{
    backend_fx *f = *state;
    for (int tb = -1; tb < 2; tb++) {
        /* tb -1: MatMul [3,40,300] x [300,75]; else Gemm [29,300] x op(B) [300,75] + C [75] */
        int64_t da[3] = {3, 40, 300}, db[2] = {tb == 1 ? 75 : 300, tb == 1 ? 300 : 75},
                dc[1] = {75};
        int ra = tb < 0 ? 3 : 2;
        if (tb >= 0)
            da[1] = 29;
        aglm_tensor a = tensor_random(ra, da + (3 - ra), 80 + tb),
                    b = tensor_random(2, db, 90 + tb);
        aglm_tensor c = tensor_random(1, dc, 95);
        const aglm_tensor *ins[3] = {&a, &b, tb >= 0 ? &c : NULL};
        size_t n_in = tb >= 0 ? 3 : 2;
        aglm_tensor y[2];
        for (int cb = 0; cb < 2; cb++) {
            aglm_node *node;
            const int is_const[3] = {0, cb, 0};
            aglm_graph *g = op_graph(tb < 0 ? "MatMul" : "Gemm", 17, n_in, ins, is_const, 1, &node);
            if (tb >= 0)
                assert_int_equal(aglm_node_set_int(node, "transB", tb), AGLM_OK);
            run_op(f, g, n_in, ins, is_const, 1, &y[cb]);
        }
        aglm_tensor want = tb < 0 ? matmul_ref(&a, &b) : gemm_ref(&a, &b, &c, 0, tb, 1.0, 1.0);
        assert_close(&y[1], &want, 1e-4, 1e-4);
        assert_int_equal(aglm_tensor_numel(&y[0]), aglm_tensor_numel(&y[1]));
        assert_memory_equal(y[0].data, y[1].data, (size_t)aglm_tensor_numel(&y[1]) * sizeof(float));
        aglm_tensor_free(&y[0]);
        aglm_tensor_free(&y[1]);
        aglm_tensor_free(&want);
        aglm_tensor_free(&a);
        aglm_tensor_free(&b);
        aglm_tensor_free(&c);
    }
}

/* Defaults: alpha = beta = 1, no transposes; a small case by hand. */
static void test_gemm_by_hand(void **state)
{
    backend_fx *f = *state;
    int64_t da[2] = {2, 3}, db[2] = {3, 2}, dc[1] = {2}, dy[2] = {2, 2};
    aglm_tensor a = tensor_f32(2, da, (const float[]){1, 2, 3, 4, 5, 6});
    aglm_tensor b = tensor_f32(2, db, (const float[]){1, 0, 0, 1, 1, 1});
    aglm_tensor c = tensor_f32(1, dc, (const float[]){10, 100});
    const aglm_tensor *ins[3] = {&a, &b, &c};
    const int is_const[3] = {0, 1, 1};
    aglm_tensor y;
    run_op(f, op_graph("Gemm", 13, 3, ins, is_const, 1, NULL), 3, ins, is_const, 1, &y);
    assert_values(&y, 2, dy, (const double[]){14, 105, 20, 111});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&c);
}

/* Softmax over lines: `outer` blocks of n elements spaced `inner` apart. */
static aglm_tensor softmax_ref(const aglm_tensor *x, int64_t outer, int64_t n, int64_t inner)
{
    aglm_tensor y = tensor_f32(x->rank, x->dims, NULL);
    const float *xd = x->data;
    float *yd = y.data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double mx = -INFINITY, s = 0;
            for (int64_t a = 0; a < n; a++)
                mx = fmax(mx, xd[(o * n + a) * inner + i]);
            for (int64_t a = 0; a < n; a++)
                s += exp(xd[(o * n + a) * inner + i] - mx);
            for (int64_t a = 0; a < n; a++)
                yd[(o * n + a) * inner + i] = (float)(exp(xd[(o * n + a) * inner + i] - mx) / s);
        }
    return y;
}

static aglm_tensor run_softmax(backend_fx *f, const aglm_tensor *x, int64_t opset, int has_axis,
                               int64_t axis)
{
    const aglm_tensor *ins[1] = {x};
    aglm_node *node;
    aglm_graph *g = op_graph("Softmax", opset, 1, ins, NULL, 1, &node);
    if (has_axis)
        assert_int_equal(aglm_node_set_int(node, "axis", axis), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    return y;
}

/* Opset 11 flattens to 2-D at axis; opset 13 normalises along axis alone. */
static void test_softmax_opsets(void **state)
{
    backend_fx *f = *state;
    int64_t d[3] = {2, 3, 4};
    aglm_tensor x = tensor_random(3, d, 70);
    struct {
        int64_t opset;
        int has_axis;
        int64_t axis, outer, n, inner;
    } cases[] = {
        {11, 1, 1, 2, 12, 1}, /* [2, 12] rows */
        {13, 1, 1, 2, 3, 4},  /* along dim 1 */
        {11, 0, 0, 2, 12, 1}, /* default axis 1 */
        {13, 0, 0, 6, 4, 1},  /* default axis -1 */
        {11, 1, -1, 6, 4, 1}, {13, 1, -3, 1, 2, 12},
        {11, 1, 0, 1, 24, 1}, /* everything in one row */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        aglm_tensor y = run_softmax(f, &x, cases[c].opset, cases[c].has_axis, cases[c].axis);
        aglm_tensor want = softmax_ref(&x, cases[c].outer, cases[c].n, cases[c].inner);
        assert_close(&y, &want, 1e-6, 1e-5);
        aglm_tensor_free(&y);
        aglm_tensor_free(&want);
    }
    /* opset 11 and 13 really differ for axis 1 of a rank-3 tensor */
    aglm_tensor y11 = run_softmax(f, &x, 11, 1, 1), y13 = run_softmax(f, &x, 13, 1, 1);
    assert_true(fabsf(((float *)y11.data)[0] - ((float *)y13.data)[0]) > 1e-3f);
    aglm_tensor_free(&y11);
    aglm_tensor_free(&y13);
    aglm_tensor_free(&x);
}

/* Large logits do not overflow: the example from the ONNX docs shifted by 1000. */
static void test_softmax_large_values(void **state)
{
    backend_fx *f = *state;
    int64_t d[2] = {2, 3};
    aglm_tensor x = tensor_f32(2, d, (const float[]){-1, 0, 1, 999, 1000, 1001});
    aglm_tensor y = run_softmax(f, &x, 13, 0, 0);
    assert_values(
        &y, 2, d,
        (const double[]){0.09003057, 0.24472847, 0.66524096, 0.09003057, 0.24472847, 0.66524096});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_2d),       cmocka_unit_test(test_matmul_batched_and_1d),
        cmocka_unit_test(test_matmul_mismatch), cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_gemm_by_hand),    cmocka_unit_test(test_const_b),
        cmocka_unit_test(test_softmax_opsets),  cmocka_unit_test(test_softmax_large_values),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
