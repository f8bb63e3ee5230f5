/* Indexing ops of the backend under test against the ONNX documentation's examples: Gather,
 * GatherElements, GatherND, ScatterElements, Scatter, ScatterND, TensorScatter, Compress,
 * NonZero, TopK, ArgMax, ArgMin, Unique. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "op_case.h"

static void test_gather(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(3, 2), V(1, 1.2, 2.3, 3.4, 4.5, 5.7));
    aglm_tensor idx = T(AGLM_I64, 2, D(2, 2), V(0, 1, 1, 2));
    const aglm_tensor *ins[2] = {&x, &idx};
    aglm_tensor y;
    op_ok(f, "Gather", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 3, D(2, 2, 2), V(1, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7));
    aglm_tensor_free(&x);
    aglm_tensor_free(&idx);

    /* axis 1, a negative index and i32 indices on i64 data */
    x = T(AGLM_I64, 2, D(3, 3), V(1, 2, 3, 4, 5, 6, 7, 8, 9));
    idx = T(AGLM_I32, 2, D(1, 2), V(0, -1));
    op_ok(f, "Gather", 13, 2, ins, NULL, (op_attr[]){A_INT("axis", 1), A_END}, 1, &y);
    expect(&y, AGLM_I64, 3, D(3, 1, 2), V(1, 3, 4, 6, 7, 9));
    /* an index out of range is an error naming it */
    aglm_tensor_free(&idx);
    idx = T(AGLM_I64, 1, D(1), V(3));
    assert_int_not_equal(op_run(f, "Gather", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y), AGLM_OK);
    expect_error("index 3 is out of range");
    expect_error("'node'");
    aglm_tensor_free(&x);
    aglm_tensor_free(&idx);
}

static void test_gather_elements_nd(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(3, 3), V(1, 2, 3, 4, 5, 6, 7, 8, 9));
    aglm_tensor idx = T(AGLM_I64, 2, D(2, 3), V(1, 2, 0, 2, 0, -3));
    const aglm_tensor *ins[2] = {&x, &idx};
    aglm_tensor y;
    op_ok(f, "GatherElements", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(2, 3), V(4, 8, 3, 7, 2, 3));
    aglm_tensor_free(&idx);
    idx = T(AGLM_I32, 2, D(3, 2), V(0, 0, 1, 0, 2, 2));
    op_ok(f, "GatherElements", 13, 2, ins, NULL, (op_attr[]){A_INT("axis", 1), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 2), V(1, 1, 5, 4, 9, 9));
    aglm_tensor_free(&x);
    aglm_tensor_free(&idx);

    x = T(AGLM_I32, 3, D(2, 2, 2), V(0, 1, 2, 3, 4, 5, 6, 7));
    idx = T(AGLM_I64, 2, D(2, 2), V(0, 1, 1, 0));
    op_ok(f, "GatherND", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(2, 2), V(2, 3, 4, 5));
    aglm_tensor_free(&idx);
    /* batch_dims 1: each batch indexes its own slice */
    idx = T(AGLM_I64, 2, D(2, 1), V(1, 0));
    op_ok(f, "GatherND", 13, 2, ins, NULL, (op_attr[]){A_INT("batch_dims", 1), A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(2, 2), V(2, 3, 4, 5));
    aglm_tensor_free(&idx);
    idx = T(AGLM_I64, 2, D(1, 3), V(1, 1, 1));
    op_ok(f, "GatherND", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I32, 1, D(1), V(7));
    aglm_tensor_free(&x);
    aglm_tensor_free(&idx);
}

static void test_scatter(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(3, 3), NULL);
    aglm_tensor idx = T(AGLM_I64, 2, D(2, 3), V(1, 0, 2, 0, 2, 1));
    aglm_tensor upd = T(AGLM_F32, 2, D(2, 3), V(1, 1.1, 1.2, 2, 2.1, 2.2));
    const aglm_tensor *ins[3] = {&x, &idx, &upd};
    aglm_tensor y;
    op_ok(f, "ScatterElements", 18, 3, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 3), V(2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2));
    /* the old name does the same */
    op_ok(f, "Scatter", 10, 3, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 3), V(2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2));
    aglm_tensor_free(&x);
    aglm_tensor_free(&idx);
    aglm_tensor_free(&upd);

    /* reductions over a repeated index */
    x = T(AGLM_F32, 2, D(1, 5), V(1, 2, 3, 4, 5));
    idx = T(AGLM_I64, 2, D(1, 2), V(1, -4));
    upd = T(AGLM_F32, 2, D(1, 2), V(1.1, 2.1));
    static const struct {
        const char *red;
        double v;
    } cases[] = {{"none", 2.1}, {"add", 5.2}, {"mul", 4.62}, {"max", 2.1}, {"min", 1.1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        op_ok(f, "ScatterElements", 18, 3, ins, NULL,
              (op_attr[]){A_INT("axis", 1), A_STR("reduction", cases[c].red), A_END}, 1, &y);
        expect(&y, AGLM_F32, 2, D(1, 5), V(1, cases[c].v, 3, 4, 5));
    }
    assert_int_not_equal(op_run(f, "ScatterElements", 18, 3, ins, NULL,
                                (op_attr[]){A_STR("reduction", "avg"), A_END}, 1, &y),
                         AGLM_OK);
    expect_error("reduction 'avg'");
    aglm_tensor_free(&x);
    aglm_tensor_free(&idx);
    aglm_tensor_free(&upd);

    x = T(AGLM_I64, 1, D(8), V(1, 2, 3, 4, 5, 6, 7, 8));
    idx = T(AGLM_I64, 2, D(4, 1), V(4, 3, 1, 7));
    upd = T(AGLM_I64, 1, D(4), V(9, 10, 11, 12));
    op_ok(f, "ScatterND", 16, 3, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I64, 1, D(8), V(1, 11, 3, 10, 9, 6, 7, 12));
    op_ok(f, "ScatterND", 16, 3, ins, NULL, (op_attr[]){A_STR("reduction", "add"), A_END}, 1, &y);
    expect(&y, AGLM_I64, 1, D(8), V(1, 13, 3, 14, 14, 6, 7, 20));
    aglm_tensor_free(&x);
    aglm_tensor_free(&idx);
    aglm_tensor_free(&upd);

    /* rows of a matrix, with max */
    x = T(AGLM_F32, 2, D(2, 2), V(1, 5, 3, 4));
    idx = T(AGLM_I64, 2, D(2, 1), V(0, 0));
    upd = T(AGLM_F32, 2, D(2, 2), V(2, 2, 0, 7));
    op_ok(f, "ScatterND", 18, 3, ins, NULL, (op_attr[]){A_STR("reduction", "max"), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(2, 2), V(2, 7, 3, 4));
    aglm_tensor_free(&upd);
    upd = T(AGLM_F32, 2, D(2, 3), NULL);
    assert_int_not_equal(op_run(f, "ScatterND", 18, 3, ins, NULL, (op_attr[]){A_END}, 1, &y),
                         AGLM_OK);
    expect_error("[2,3]");
    aglm_tensor_free(&x);
    aglm_tensor_free(&idx);
    aglm_tensor_free(&upd);
}

static void test_tensor_scatter(void **state)
{
    backend_fx *f = *state;
    aglm_tensor past = T(AGLM_F32, 3, D(2, 3, 1), V(0, 1, 2, 3, 4, 5));
    aglm_tensor upd = T(AGLM_F32, 3, D(2, 2, 1), V(10, 11, 12, 13));
    aglm_tensor wi = T(AGLM_I64, 1, D(2), V(0, 2));
    const aglm_tensor *ins[3] = {&past, &upd, &wi};
    aglm_tensor y;
    op_ok(f, "TensorScatter", 24, 3, ins, NULL, (op_attr[]){A_STR("mode", "circular"), A_END}, 1,
          &y);
    expect(&y, AGLM_F32, 3, D(2, 3, 1), V(10, 11, 2, 13, 4, 12));
    op_ok(f, "TensorScatter", 24, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 3, D(2, 3, 1), V(10, 11, 2, 12, 13, 5));
    assert_int_not_equal(op_run(f, "TensorScatter", 24, 3, ins, NULL, (op_attr[]){A_END}, 1, &y),
                         AGLM_OK);
    expect_error("write index 2 of batch 1");
    aglm_tensor_free(&past);
    aglm_tensor_free(&upd);
    aglm_tensor_free(&wi);
}

static void test_compress_nonzero(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(3, 2), V(1, 2, 3, 4, 5, 6));
    aglm_tensor c = T(AGLM_BOOL, 1, D(3), V(0, 1, 1));
    const aglm_tensor *ins[2] = {&x, &c};
    aglm_tensor y;
    op_ok(f, "Compress", 11, 2, ins, NULL, (op_attr[]){A_INT("axis", 0), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(2, 2), V(3, 4, 5, 6));
    aglm_tensor_free(&c);
    c = T(AGLM_BOOL, 1, D(2), V(0, 1));
    op_ok(f, "Compress", 11, 2, ins, NULL, (op_attr[]){A_INT("axis", -1), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 1), V(2, 4, 6));
    /* no axis: the flattened input, the condition shorter than it */
    aglm_tensor_free(&c);
    c = T(AGLM_BOOL, 1, D(5), V(0, 1, 0, 0, 1));
    op_ok(f, "Compress", 11, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 1, D(2), V(2, 5));
    aglm_tensor_free(&x);
    aglm_tensor_free(&c);

    x = T(AGLM_F32, 2, D(2, 2), V(1, 0, 1, 1));
    const aglm_tensor *one[1] = {&x};
    op_ok(f, "NonZero", 13, 1, one, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I64, 2, D(2, 3), V(0, 1, 1, 0, 0, 1));
    aglm_tensor_free(&x);
    x = T(AGLM_BOOL, 1, D(3), NULL);
    op_ok(f, "NonZero", 13, 1, one, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I64, 2, D(1, 0), NULL);
    aglm_tensor_free(&x);
}

static void test_topk(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(3, 4), V(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
    aglm_tensor k = T(AGLM_I64, 1, D(1), V(3));
    const aglm_tensor *ins[2] = {&x, &k};
    aglm_tensor y[2];
    op_ok(f, "TopK", 11, 2, ins, NULL, (op_attr[]){A_END}, 2, y);
    expect(&y[0], AGLM_F32, 2, D(3, 3), V(3, 2, 1, 7, 6, 5, 11, 10, 9));
    expect(&y[1], AGLM_I64, 2, D(3, 3), V(3, 2, 1, 3, 2, 1, 3, 2, 1));
    op_ok(f, "TopK", 11, 2, ins, NULL, (op_attr[]){A_INT("largest", 0), A_INT("axis", 0), A_END}, 2,
          y);
    expect(&y[0], AGLM_F32, 2, D(3, 4), V(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
    expect(&y[1], AGLM_I64, 2, D(3, 4), V(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2));
    aglm_tensor_free(&x);
    /* ties go to the lower index, largest or smallest; integers compare exactly */
    x = T(AGLM_I64, 1, D(5), V(1, 2, 2, 1, 0));
    aglm_tensor_free(&k);
    k = T(AGLM_I64, 1, D(1), V(2));
    op_ok(f, "TopK", 11, 2, ins, NULL, (op_attr[]){A_END}, 2, y);
    expect(&y[0], AGLM_I64, 1, D(2), V(2, 2));
    expect(&y[1], AGLM_I64, 1, D(2), V(1, 2));
    op_ok(f, "TopK", 11, 2, ins, NULL, (op_attr[]){A_INT("largest", 0), A_END}, 2, y);
    expect(&y[0], AGLM_I64, 1, D(2), V(0, 1));
    expect(&y[1], AGLM_I64, 1, D(2), V(4, 0));
    aglm_tensor_free(&k);
    k = T(AGLM_I64, 1, D(1), V(6));
    assert_int_not_equal(op_run(f, "TopK", 11, 2, ins, NULL, (op_attr[]){A_END}, 2, y), AGLM_OK);
    expect_error("k = 6");
    aglm_tensor_free(&x);
    aglm_tensor_free(&k);
    /* opset 1: k is an attribute */
    x = T(AGLM_F32, 1, D(3), V(1, 3, 2));
    op_ok(f, "TopK", 1, 1, ins, NULL, (op_attr[]){A_INT("k", 1), A_END}, 2, y);
    expect(&y[0], AGLM_F32, 1, D(1), V(3));
    expect(&y[1], AGLM_I64, 1, D(1), V(1));
    aglm_tensor_free(&x);
}

static void test_argmax_argmin(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(2, 2), V(2, 2, 3, 10));
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor y;
    op_ok(f, "ArgMax", 13, 1, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I64, 2, D(1, 2), V(1, 1));
    op_ok(f, "ArgMax", 13, 1, ins, NULL, (op_attr[]){A_INT("axis", 1), A_END}, 1, &y);
    expect(&y, AGLM_I64, 2, D(2, 1), V(0, 1));
    op_ok(f, "ArgMax", 13, 1, ins, NULL,
          (op_attr[]){A_INT("axis", -1), A_INT("select_last_index", 1), A_END}, 1, &y);
    expect(&y, AGLM_I64, 2, D(2, 1), V(1, 1));
    op_ok(f, "ArgMin", 13, 1, ins, NULL, (op_attr[]){A_INT("axis", 1), A_INT("keepdims", 0), A_END},
          1, &y);
    expect(&y, AGLM_I64, 1, D(2), V(0, 0));
    op_ok(f, "ArgMin", 13, 1, ins, NULL,
          (op_attr[]){A_INT("axis", 1), A_INT("keepdims", 0), A_INT("select_last_index", 1), A_END},
          1, &y);
    expect(&y, AGLM_I64, 1, D(2), V(1, 0));
    aglm_tensor_free(&x);
}

static void test_unique(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 1, D(6), V(2, 1, 1, 3, 4, 3));
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor y[4];
    op_ok(f, "Unique", 11, 1, ins, NULL, (op_attr[]){A_END}, 4, y);
    expect(&y[0], AGLM_F32, 1, D(4), V(1, 2, 3, 4));
    expect(&y[1], AGLM_I64, 1, D(4), V(1, 0, 3, 4));
    expect(&y[2], AGLM_I64, 1, D(6), V(1, 0, 0, 2, 3, 2));
    expect(&y[3], AGLM_I64, 1, D(4), V(2, 1, 2, 1));
    op_ok(f, "Unique", 11, 1, ins, NULL, (op_attr[]){A_INT("sorted", 0), A_END}, 4, y);
    expect(&y[0], AGLM_F32, 1, D(4), V(2, 1, 3, 4));
    expect(&y[1], AGLM_I64, 1, D(4), V(0, 1, 3, 4));
    expect(&y[2], AGLM_I64, 1, D(6), V(0, 1, 1, 2, 3, 2));
    expect(&y[3], AGLM_I64, 1, D(4), V(1, 2, 2, 1));
    aglm_tensor_free(&x);

    x = T(AGLM_I64, 2, D(3, 3), V(1, 0, 0, 1, 0, 0, 2, 3, 4));
    op_ok(f, "Unique", 11, 1, ins, NULL, (op_attr[]){A_INT("axis", 0), A_END}, 4, y);
    expect(&y[0], AGLM_I64, 2, D(2, 3), V(1, 0, 0, 2, 3, 4));
    expect(&y[1], AGLM_I64, 1, D(2), V(0, 2));
    expect(&y[2], AGLM_I64, 1, D(3), V(0, 0, 1));
    expect(&y[3], AGLM_I64, 1, D(2), V(2, 1));
    /* columns compare as wholes: [0,0,3] < [0,0,4] < [1,1,2] */
    op_ok(f, "Unique", 11, 1, ins, NULL, (op_attr[]){A_INT("axis", 1), A_END}, 1, y);
    expect(&y[0], AGLM_I64, 2, D(3, 3), V(0, 0, 1, 0, 0, 1, 3, 4, 2));
    aglm_tensor_free(&x);
}

/* Empty tensors go through every op without touching memory they do not have. */
static void test_empty(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(0, 3), NULL), e = T(AGLM_I64, 1, D(0), NULL);
    aglm_tensor k0 = T(AGLM_I64, 1, D(1), V(0));
    const aglm_tensor *ins[3] = {&x, &e, &x};
    aglm_tensor y[4];
    op_ok(f, "Unique", 11, 1, ins, NULL, (op_attr[]){A_END}, 4, y);
    expect(&y[0], AGLM_F32, 1, D(0), NULL);
    expect(&y[1], AGLM_I64, 1, D(0), NULL);
    expect(&y[2], AGLM_I64, 1, D(0), NULL);
    expect(&y[3], AGLM_I64, 1, D(0), NULL);
    op_ok(f, "Gather", 13, 2, ins, NULL, (op_attr[]){A_INT("axis", 1), A_END}, 1, y);
    expect(&y[0], AGLM_F32, 2, D(0, 0), NULL);
    op_ok(f, "NonZero", 13, 1, ins, NULL, (op_attr[]){A_END}, 1, y);
    expect(&y[0], AGLM_I64, 2, D(2, 0), NULL);
    aglm_tensor_free(&e);
    e = T(AGLM_I64, 2, D(0, 3), NULL);
    op_ok(f, "ScatterElements", 18, 3, (const aglm_tensor *[]){&x, &e, &x}, NULL,
          (op_attr[]){A_STR("reduction", "max"), A_END}, 1, y);
    expect(&y[0], AGLM_F32, 2, D(0, 3), NULL);
    aglm_tensor_free(&e);
    e = T(AGLM_I64, 2, D(0, 1), NULL);
    aglm_tensor u = T(AGLM_F32, 2, D(0, 3), NULL);
    op_ok(f, "ScatterND", 18, 3, (const aglm_tensor *[]){&x, &e, &u}, NULL,
          (op_attr[]){A_STR("reduction", "mul"), A_END}, 1, y);
    expect(&y[0], AGLM_F32, 2, D(0, 3), NULL);
    op_ok(f, "GatherND", 13, 2, (const aglm_tensor *[]){&x, &e}, NULL, (op_attr[]){A_END}, 1, y);
    expect(&y[0], AGLM_F32, 2, D(0, 3), NULL);
    aglm_tensor_free(&x);
    x = T(AGLM_F32, 2, D(2, 3), V(1, 2, 3, 4, 5, 6));
    op_ok(f, "TopK", 11, 2, (const aglm_tensor *[]){&x, &k0}, NULL, (op_attr[]){A_END}, 2, y);
    expect(&y[0], AGLM_F32, 2, D(2, 0), NULL);
    expect(&y[1], AGLM_I64, 2, D(2, 0), NULL);
    aglm_tensor c = T(AGLM_BOOL, 1, D(2), V(0, 0));
    op_ok(f, "Compress", 11, 2, (const aglm_tensor *[]){&x, &c}, NULL,
          (op_attr[]){A_INT("axis", 0), A_END}, 1, y);
    expect(&y[0], AGLM_F32, 2, D(0, 3), NULL);
    aglm_tensor_free(&x);
    x = T(AGLM_F32, 2, D(3, 0), NULL);
    assert_int_not_equal(
        op_run(f, "ArgMax", 13, 1, ins, NULL, (op_attr[]){A_INT("axis", 1), A_END}, 1, y), AGLM_OK);
    expect_error("empty");
    aglm_tensor_free(&x);
    aglm_tensor_free(&e);
    aglm_tensor_free(&u);
    aglm_tensor_free(&k0);
    aglm_tensor_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather),
        cmocka_unit_test(test_gather_elements_nd),
        cmocka_unit_test(test_scatter),
        cmocka_unit_test(test_tensor_scatter),
        cmocka_unit_test(test_compress_nonzero),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_argmax_argmin),
        cmocka_unit_test(test_unique),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
