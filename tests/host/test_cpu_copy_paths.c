/* Data-movement ops on the backend under test, on the shapes that take the cpu backend's block-copy
 * paths, against element-by-element references computed here: Transpose with unit dims and
 * permutations that keep runs together (merged into whole-run copies), Slice of one axis with every
 * other axis whole (contiguous runs, including a leading-axis slice that is a single run), and
 * Concat of one image's channels big enough to be copied in blocks over the pool's threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

static aglm_tensor ramp(aglm_dtype dt, int rank, const int64_t *dims)
{
    aglm_tensor t = tensor_of(dt, rank, dims, NULL);
    for (int64_t i = 0; i < aglm_tensor_numel(&t); i++)
        aglm_tensor_set_f64(&t, i, (double)(i % 1000));
    return t;
}

/* Flat index of x for output index i of a transpose by perm (y dims[k] = x dims[perm[k]]). */
static int64_t transposed_src(const aglm_tensor *x, const int64_t *perm, const int64_t *ydims,
                              int64_t i)
{
    int r = x->rank;
    int64_t idx[AGLM_MAX_RANK], xi[AGLM_MAX_RANK];
    for (int k = r - 1; k >= 0; k--) {
        idx[k] = i % ydims[k];
        i /= ydims[k];
    }
    for (int k = 0; k < r; k++)
        xi[perm[k]] = idx[k];
    int64_t off = 0;
    for (int k = 0; k < r; k++)
        off = off * x->dims[k] + xi[k];
    return off;
}

static void check_transpose(backend_fx *f, aglm_dtype dt, int r, const int64_t *dims,
                            const int64_t *perm)
{
    aglm_tensor x = ramp(dt, r, dims);
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("Transpose", 13, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "perm", perm, (size_t)r), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    int64_t yd[AGLM_MAX_RANK];
    for (int k = 0; k < r; k++) {
        yd[k] = dims[perm[k]];
        assert_int_equal(y.dims[k], yd[k]);
    }
    for (int64_t i = 0; i < aglm_tensor_numel(&y); i++)
        if (aglm_tensor_get_f64(&y, i) != aglm_tensor_get_f64(&x, transposed_src(&x, perm, yd, i)))
            fail_msg("transpose element %lld differs", (long long)i);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

static void test_transpose_runs(void **state)
{
    backend_fx *f = *state;
    /* attention's head split and merge, the q/k/v permutation, unit dims anywhere, identity */
    check_transpose(f, AGLM_F32, 4, (int64_t[]){1, 40, 8, 15}, (int64_t[]){0, 2, 1, 3});
    check_transpose(f, AGLM_F32, 5, (int64_t[]){1, 40, 3, 8, 15}, (int64_t[]){2, 0, 3, 1, 4});
    check_transpose(f, AGLM_F32, 4, (int64_t[]){1, 8, 40, 15}, (int64_t[]){0, 1, 3, 2});
    check_transpose(f, AGLM_I64, 4, (int64_t[]){2, 1, 3, 1}, (int64_t[]){3, 2, 1, 0});
    check_transpose(f, AGLM_U8, 3, (int64_t[]){4, 5, 6}, (int64_t[]){0, 1, 2});
    check_transpose(f, AGLM_F32, 3, (int64_t[]){1, 1, 1}, (int64_t[]){2, 0, 1});
    check_transpose(f, AGLM_F32, 3, (int64_t[]){1, 120, 40}, (int64_t[]){0, 2, 1});
    /* merged runs long enough to be split over threads */
    check_transpose(f, AGLM_F32, 4, (int64_t[]){3, 64, 2, 128}, (int64_t[]){2, 0, 1, 3});
}

/* Slice of axis `axis` to [start, end) (step 1), as starts/ends/axes initialisers. */
static void check_slice(backend_fx *f, int r, const int64_t *dims, int64_t axis, int64_t start,
                        int64_t end)
{
    aglm_tensor x = ramp(AGLM_F32, r, dims);
    int64_t one = 1;
    aglm_tensor st = tensor_of(AGLM_I64, 1, &one, (const double[]){(double)start});
    aglm_tensor en = tensor_of(AGLM_I64, 1, &one, (const double[]){(double)end});
    aglm_tensor ax = tensor_of(AGLM_I64, 1, &one, (const double[]){(double)axis});
    const aglm_tensor *ins[4] = {&x, &st, &en, &ax};
    const int consts[4] = {0, 1, 1, 1};
    aglm_tensor y;
    run_op(f, op_graph("Slice", 13, 4, ins, consts, 1, NULL), 4, ins, consts, 1, &y);
    int64_t yd[AGLM_MAX_RANK];
    memcpy(yd, dims, sizeof(int64_t) * (size_t)r);
    yd[axis] = end - start;
    for (int k = 0; k < r; k++)
        assert_int_equal(y.dims[k], yd[k]);
    for (int64_t i = 0; i < aglm_tensor_numel(&y); i++) {
        int64_t rem = i, off = 0, stride = 1;
        for (int k = r - 1; k >= 0; k--) {
            int64_t c = rem % yd[k] + (k == axis ? start : 0);
            rem /= yd[k];
            off += c * stride;
            stride *= dims[k];
        }
        if (aglm_tensor_get_f64(&y, i) != aglm_tensor_get_f64(&x, off))
            fail_msg("slice element %lld differs", (long long)i);
    }
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&st);
    aglm_tensor_free(&en);
    aglm_tensor_free(&ax);
}

static void test_slice_runs(void **state)
{
    backend_fx *f = *state;
    check_slice(f, 5, (int64_t[]){3, 1, 8, 40, 15}, 0, 1, 2);
    check_slice(f, 5, (int64_t[]){3, 1, 8, 40, 15}, 0, 2, 3);
    check_slice(f, 4, (int64_t[]){2, 6, 5, 7}, 1, 2, 5);
    check_slice(f, 4, (int64_t[]){2, 6, 5, 7}, 3, 1, 6);
    check_slice(f, 2, (int64_t[]){4, 9}, 1, 0, 9);
}

static void test_concat_blocks(void **state)
{
    backend_fx *f = *state;
    /* four FPN maps of one image: 1.2 MiB out, copied in 256 KiB blocks that straddle inputs */
    int64_t d0[4] = {1, 3, 160, 160}, d1[4] = {1, 5, 160, 160}, d2[4] = {1, 1, 160, 160},
            d3[4] = {1, 3, 160, 160};
    aglm_tensor a = ramp(AGLM_F32, 4, d0), b = ramp(AGLM_F32, 4, d1), c = ramp(AGLM_F32, 4, d2),
                d = ramp(AGLM_F32, 4, d3);
    aglm_tensor_set_f64(&b, 0, -7);
    aglm_tensor_set_f64(&d, 3 * 25600 - 1, -9);
    const aglm_tensor *ins[4] = {&a, &b, &c, &d};
    aglm_node *n;
    aglm_graph *g = op_graph("Concat", 13, 4, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 4, ins, NULL, 1, &y);
    assert_int_equal(y.dims[1], 12);
    int64_t at = 0;
    for (int t = 0; t < 4; t++)
        for (int64_t i = 0; i < aglm_tensor_numel(ins[t]); i++, at++)
            if (aglm_tensor_get_f64(&y, at) != aglm_tensor_get_f64(ins[t], i))
                fail_msg("concat element %lld (input %d, %lld) differs", (long long)at, t,
                         (long long)i);
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&c);
    aglm_tensor_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transpose_runs),
        cmocka_unit_test(test_slice_runs),
        cmocka_unit_test(test_concat_blocks),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
