/* MatMul and Gemm of the backend under test on every dtype besides f32: f64, f16 and bf16 (computed
 * in f32, rounded once), and i32, i64, u32, u64 (exact, wrapping on overflow). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

static const aglm_dtype float_dts[] = {AGLM_F64, AGLM_F16, AGLM_BF16};
static const aglm_dtype int_dts[] = {AGLM_I32, AGLM_I64, AGLM_U32, AGLM_U64};

static int is_unsigned(aglm_dtype dt)
{
    return dt == AGLM_U32 || dt == AGLM_U64;
}

/* Pseudo-random values from a fixed seed: in [-1, 1) for floats, small whole numbers (never
 * negative for unsigned dtypes) for integers, so the references below are exact in double. */
static aglm_tensor tensor_rand(aglm_dtype dt, int rank, const int64_t *dims, uint32_t seed)
{
    aglm_tensor t = tensor_of(dt, rank, dims, NULL);
    uint32_t s = seed * 2654435761u + 7u;
    for (int64_t i = 0; i < aglm_tensor_numel(&t); i++) {
        s = s * 1664525u + 1013904223u;
        double v = aglm_dtype_is_float(dt) ? (double)(s >> 8) / (double)(1u << 23) - 1.0
                   : is_unsigned(dt)       ? (double)(s >> 26)
                                           : (double)(s >> 26) - 31.0;
        aglm_tensor_set_f64(&t, i, v);
    }
    return t;
}

/* A tensor of dt holding the raw bytes of `data` (integers past double's 53 bits stay exact). */
static aglm_tensor tensor_raw(aglm_dtype dt, int rank, const int64_t *dims, const void *data)
{
    aglm_tensor t = tensor_of(dt, rank, dims, NULL);
    memcpy(t.data, data, aglm_tensor_nbytes(&t));
    return t;
}

/* Tolerances fit to the dtype: the kernel and the double reference differ by the final rounding. */
static void assert_matches(const aglm_tensor *got, const aglm_tensor *want)
{
    if (got->dtype == AGLM_BF16)
        assert_close(got, want, 1e-2, 1.6e-2);
    else if (got->dtype == AGLM_F16)
        assert_close(got, want, 1e-3, 2e-3);
    else
        assert_close(got, want, 1e-12, 1e-12); /* f64 and the (exact) integers */
}

/* NumPy matmul of a and b in double, as a tensor of a's dtype. */
static aglm_tensor matmul_ref(const aglm_tensor *a, const aglm_tensor *b)
{
    int64_t m = a->rank == 1 ? 1 : a->dims[a->rank - 2], k = a->dims[a->rank - 1];
    int64_t n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
    int r = ra > rb ? ra : rb, rank = 0;
    int64_t batch[AGLM_MAX_RANK], dims[AGLM_MAX_RANK], count = 1;
    for (int i = 0; i < r; i++) {
        int64_t da = i - (r - ra) >= 0 ? a->dims[i - (r - ra)] : 1;
        int64_t db = i - (r - rb) >= 0 ? b->dims[i - (r - rb)] : 1;
        batch[i] = dims[rank++] = da > db ? da : db;
        count *= batch[i];
    }
    if (a->rank > 1)
        dims[rank++] = m;
    if (b->rank > 1)
        dims[rank++] = n;
    aglm_tensor c = tensor_of(a->dtype, rank, dims, NULL);
    for (int64_t bi = 0; bi < count; bi++) {
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
                    s += aglm_tensor_get_f64(a, oa + i * k + p) *
                         aglm_tensor_get_f64(b, ob + p * n + j);
                aglm_tensor_set_f64(&c, bi * m * n + i * n + j, s);
            }
    }
    return c;
}

static void check_matmul(backend_fx *f, aglm_dtype dt, int ra, const int64_t *da, int rb,
                         const int64_t *db, uint32_t seed)
{
    aglm_tensor a = tensor_rand(dt, ra, da, seed), b = tensor_rand(dt, rb, db, seed + 1);
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_tensor y;
    run_op(f, op_graph("MatMul", 13, 2, ins, NULL, 1, NULL), 2, ins, NULL, 1, &y);
    aglm_tensor want = matmul_ref(&a, &b);
    assert_matches(&y, &want);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

/* Every dtype: plain 2-D, broadcast batches (enough of them to be split over the pool), 1-D on
 * either side, and a multiply big enough for the f32 path to use several threads. */
static void test_matmul_each_dtype(void **state)
{
    backend_fx *f = *state;
    const aglm_dtype dts[] = {AGLM_F64, AGLM_F16, AGLM_BF16, AGLM_I32,
                              AGLM_I64, AGLM_U32, AGLM_U64};
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        aglm_dtype dt = dts[d];
        check_matmul(f, dt, 2, (const int64_t[]){3, 4}, 2, (const int64_t[]){4, 5}, 1);
        check_matmul(f, dt, 4, (const int64_t[]){2, 1, 3, 4}, 3, (const int64_t[]){3, 4, 2}, 2);
        check_matmul(f, dt, 1, (const int64_t[]){4}, 3, (const int64_t[]){2, 4, 3}, 3);
        check_matmul(f, dt, 3, (const int64_t[]){2, 3, 4}, 1, (const int64_t[]){4}, 4);
        check_matmul(f, dt, 1, (const int64_t[]){6}, 1, (const int64_t[]){6}, 5);
        check_matmul(f, dt, 2, (const int64_t[]){70, 40}, 2, (const int64_t[]){40, 90}, 6);
    }
}

/* Integer results wrap exactly as the element type does, with no detour through double. */
static void test_matmul_integer_wraps(void **state)
{
    backend_fx *f = *state;
    int64_t d2[1] = {2}, d1[2] = {1, 1};
    struct {
        aglm_dtype dt;
        int rank;
        const int64_t *dims;
        uint64_t a[2], b[2], want; /* the low bytes hold narrower types (little-endian) */
    } cases[] = {
        {AGLM_I32, 1, d2, {65536, 1}, {65536, 5}, 5},       /* 2^32 + 5 wraps */
        {AGLM_U32, 2, d1, {0xFFFFFFFFu}, {2}, 0xFFFFFFFEu}, /* 2^33 - 2 wraps */
        {AGLM_I64, 1, d2, {3037000499u, 1}, {3037000499u, 0}, 9223372030926249001u}, /* > 2^53 */
        {AGLM_U64, 1, d2, {1ull << 63, 1ull << 63}, {1, 1}, 0}, /* 2^64 wraps */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t es = aglm_dtype_size(cases[c].dt);
        unsigned char ab[16], bb[16];
        for (int i = 0; i < 2; i++) {
            memcpy(ab + i * es, &cases[c].a[i], es);
            memcpy(bb + i * es, &cases[c].b[i], es);
        }
        aglm_tensor a = tensor_raw(cases[c].dt, cases[c].rank, cases[c].dims, ab);
        aglm_tensor b = tensor_raw(cases[c].dt, cases[c].rank, cases[c].dims, bb);
        const aglm_tensor *ins[2] = {&a, &b};
        aglm_tensor y;
        run_op(f, op_graph("MatMul", 13, 2, ins, NULL, 1, NULL), 2, ins, NULL, 1, &y);
        assert_int_equal(y.dtype, cases[c].dt);
        assert_int_equal(aglm_tensor_numel(&y), 1);
        uint64_t got = 0;
        memcpy(&got, y.data, es);
        if (got != cases[c].want)
            fail_msg("%s: got %llu, expected %llu", aglm_dtype_name(cases[c].dt),
                     (unsigned long long)got, (unsigned long long)cases[c].want);
        aglm_tensor_free(&y);
        aglm_tensor_free(&a);
        aglm_tensor_free(&b);
    }
}

/* alpha * op(A) op(B) + beta * C in double, C broadcast to [M, N], as a tensor of A's dtype. */
static aglm_tensor gemm_ref(const aglm_tensor *a, const aglm_tensor *b, const aglm_tensor *c,
                            int ta, int tb, double alpha, double beta)
{
    int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
    int64_t n = tb ? b->dims[0] : b->dims[1];
    aglm_tensor y = tensor_of(a->dtype, 2, (const int64_t[]){m, n}, NULL);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0, cv = 0;
            for (int64_t p = 0; p < k; p++)
                s += aglm_tensor_get_f64(a, ta ? p * m + i : i * k + p) *
                     aglm_tensor_get_f64(b, tb ? j * k + p : p * n + j);
            if (c) {
                int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
                int64_t ci = c->rank == 2 && c->dims[0] != 1 ? i : 0, cj = cn != 1 ? j : 0;
                cv = aglm_tensor_get_f64(c, ci * cn + cj);
            }
            aglm_tensor_set_f64(&y, i * n + j, alpha * s + beta * cv);
        }
    return y;
}

static void check_gemm(backend_fx *f, aglm_dtype dt, double alpha, double beta)
{
    const int64_t m = 5, k = 7, n = 6;
    int64_t cshapes[4][2] = {{n, 0}, {m, 1}, {m, n}, {0, 0}};
    int crank[4] = {1, 2, 2, 0};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int ci = 0; ci < 5; ci++) {
                int64_t da[2] = {ta ? k : m, ta ? m : k}, db[2] = {tb ? n : k, tb ? k : n};
                aglm_tensor a = tensor_rand(dt, 2, da, 40 + ci),
                            b = tensor_rand(dt, 2, db, 50 + ci);
                aglm_tensor c =
                    tensor_rand(dt, ci < 4 ? crank[ci] : 0, cshapes[ci < 4 ? ci : 3], 60 + ci);
                const aglm_tensor *ins[3] = {&a, &b, ci < 4 ? &c : NULL};
                aglm_node *node;
                aglm_graph *g = op_graph("Gemm", 13, ci < 4 ? 3 : 2, ins, NULL, 1, &node);
                assert_int_equal(aglm_node_set_int(node, "transA", ta), AGLM_OK);
                assert_int_equal(aglm_node_set_int(node, "transB", tb), AGLM_OK);
                assert_int_equal(aglm_node_set_float(node, "alpha", (float)alpha), AGLM_OK);
                assert_int_equal(aglm_node_set_float(node, "beta", (float)beta), AGLM_OK);
                aglm_tensor y;
                run_op(f, g, ci < 4 ? 3 : 2, ins, NULL, 1, &y);
                aglm_tensor want = gemm_ref(&a, &b, ci < 4 ? &c : NULL, ta, tb, alpha, beta);
                assert_matches(&y, &want);
                aglm_tensor_free(&y);
                aglm_tensor_free(&want);
                aglm_tensor_free(&a);
                aglm_tensor_free(&b);
                aglm_tensor_free(&c);
            }
}

/* Every transpose, every shape of C (and none), alpha and beta away from their defaults. */
static void test_gemm_each_dtype(void **state)
{
    backend_fx *f = *state;
    for (size_t d = 0; d < sizeof float_dts / sizeof float_dts[0]; d++)
        check_gemm(f, float_dts[d], 0.5, -2.0);
    for (size_t d = 0; d < sizeof int_dts / sizeof int_dts[0]; d++)
        check_gemm(f, int_dts[d], 2.0, is_unsigned(int_dts[d]) ? 3.0 : -3.0);
}

/* A fractional alpha on integers scales in double and truncates toward zero (ONNX's reference
 * casts the float result back with astype). */
static void test_gemm_integer_fractional_alpha(void **state)
{
    backend_fx *f = *state;
    int64_t da[2] = {2, 1}, db[2] = {1, 1}, dy[2] = {2, 1};
    aglm_tensor a = tensor_raw(AGLM_I64, 2, da, (const int64_t[]){-7, 7});
    aglm_tensor b = tensor_raw(AGLM_I64, 2, db, (const int64_t[]){1});
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_node *node;
    aglm_graph *g = op_graph("Gemm", 13, 2, ins, NULL, 1, &node);
    assert_int_equal(aglm_node_set_float(node, "alpha", 0.5f), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 2, ins, NULL, 1, &y);
    assert_values(&y, 2, dy, (const double[]){-3, 3});
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

/* A dtype MatMul does not take is refused at compile time, naming the op and the dtype. */
static void test_matmul_refuses_i8(void **state)
{
    backend_fx *f = *state;
    int64_t d[2] = {2, 2};
    aglm_tensor a = tensor_of(AGLM_I8, 2, d, (const double[]){1, 2, 3, 4});
    const aglm_tensor *ins[2] = {&a, &a};
    aglm_graph *g = op_graph("MatMul", 13, 2, ins, NULL, 1, NULL);
    aglm_tensor y;
    assert_int_not_equal(compile_run(f, g, NULL, 2, ins, NULL, 1, &y), AGLM_OK);
    if (!strstr(aglm_last_error(), "MatMul on i8"))
        fail_msg("unexpected message: %s", aglm_last_error());
    aglm_graph_free(g);
    aglm_tensor_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_each_dtype),
        cmocka_unit_test(test_matmul_integer_wraps),
        cmocka_unit_test(test_gemm_each_dtype),
        cmocka_unit_test(test_gemm_integer_fractional_alpha),
        cmocka_unit_test(test_matmul_refuses_i8),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
