/* Data-movement and generator ops of the backend under test against the ONNX documentation's
 * examples: Slice, Split, Expand, Tile, Pad, CenterCropPad, Size, ConstantOfShape, Range, EyeLike,
 * OneHot, Trilu, CumSum, CumProd, DepthToSpace, SpaceToDepth, ReverseSequence, Col2Im, Einsum. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "op_case.h"

static aglm_tensor ramp(aglm_dtype dt, int rank, const int64_t *dims, double first)
{
    aglm_tensor t = tensor_of(dt, rank, dims, NULL);
    for (int64_t i = 0; i < aglm_tensor_numel(&t); i++)
        aglm_tensor_set_f64(&t, i, first + (double)i);
    return t;
}

static void test_slice(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(2, 4), V(1, 2, 3, 4, 5, 6, 7, 8));
    aglm_tensor st = T(AGLM_I64, 1, D(2), V(1, 0)), en = T(AGLM_I64, 1, D(2), V(2, 3));
    aglm_tensor ax = T(AGLM_I64, 1, D(2), V(0, 1)), sp = T(AGLM_I64, 1, D(2), V(1, 2));
    const aglm_tensor *ins[5] = {&x, &st, &en, &ax, &sp};
    const int consts[5] = {0, 1, 1, 1, 1};
    aglm_tensor y;
    op_ok(f, "Slice", 13, 5, ins, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(1, 2), V(5, 7));
    /* ends past the end clamp; starts and ends from graph inputs (sizes known at run time) */
    aglm_tensor_free(&st);
    aglm_tensor_free(&en);
    st = T(AGLM_I64, 1, D(2), V(0, 1));
    en = T(AGLM_I64, 1, D(2), V(-1, 1000));
    op_ok(f, "Slice", 13, 3, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(1, 3), V(2, 3, 4));
    /* negative steps walk backwards; a far negative end clamps to before the first element */
    aglm_tensor_free(&st);
    aglm_tensor_free(&en);
    aglm_tensor_free(&ax);
    aglm_tensor_free(&sp);
    st = T(AGLM_I64, 1, D(1), V(-1));
    en = T(AGLM_I64, 1, D(1), V(-1000));
    ax = T(AGLM_I64, 1, D(1), V(-1));
    sp = T(AGLM_I32, 1, D(1), V(-3));
    op_ok(f, "Slice", 13, 5, ins, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(2, 2), V(4, 1, 8, 5));
    aglm_tensor_free(&sp);
    sp = T(AGLM_I64, 1, D(1), V(0));
    assert_int_not_equal(op_run(f, "Slice", 13, 5, ins, consts, (op_attr[]){A_END}, 1, &y),
                         AGLM_OK);
    expect_error("step");
    /* opset 9: attributes */
    op_ok(f, "Slice", 9, 1, ins, NULL,
          (op_attr[]){A_INTS("starts", 1), A_INTS("ends", 3), A_INTS("axes", 1), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(2, 2), V(2, 3, 6, 7));
    aglm_tensor_free(&x);
    aglm_tensor_free(&st);
    aglm_tensor_free(&en);
    aglm_tensor_free(&ax);
    aglm_tensor_free(&sp);
}

static void test_split(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_I32, 1, D(6), V(1, 2, 3, 4, 5, 6));
    aglm_tensor s = T(AGLM_I64, 1, D(2), V(2, 4));
    const aglm_tensor *ins[2] = {&x, &s};
    const int consts[2] = {0, 1};
    aglm_tensor y[4];
    op_ok(f, "Split", 13, 1, ins, NULL, (op_attr[]){A_END}, 3, y);
    expect(&y[0], AGLM_I32, 1, D(2), V(1, 2));
    expect(&y[1], AGLM_I32, 1, D(2), V(3, 4));
    expect(&y[2], AGLM_I32, 1, D(2), V(5, 6));
    op_ok(f, "Split", 13, 2, ins, consts, (op_attr[]){A_END}, 2, y);
    expect(&y[0], AGLM_I32, 1, D(2), V(1, 2));
    expect(&y[1], AGLM_I32, 1, D(4), V(3, 4, 5, 6));
    /* an empty split input counts as absent: equal parts */
    aglm_tensor_free(&s);
    s = T(AGLM_I64, 1, D(0), NULL);
    op_ok(f, "Split", 13, 2, ins, consts, (op_attr[]){A_END}, 2, y);
    expect(&y[0], AGLM_I32, 1, D(3), V(1, 2, 3));
    expect(&y[1], AGLM_I32, 1, D(3), V(4, 5, 6));
    op_ok(f, "Split", 11, 1, ins, NULL, (op_attr[]){A_INTS("split", 5, 1), A_END}, 2, y);
    expect(&y[0], AGLM_I32, 1, D(5), V(1, 2, 3, 4, 5));
    expect(&y[1], AGLM_I32, 1, D(1), V(6));
    aglm_tensor_free(&x);
    /* opset 18: the last part is smaller when the axis does not divide */
    x = T(AGLM_F32, 2, D(2, 7), V(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14));
    op_ok(f, "Split", 18, 1, ins, NULL,
          (op_attr[]){A_INT("axis", 1), A_INT("num_outputs", 4), A_END}, 4, y);
    expect(&y[0], AGLM_F32, 2, D(2, 2), V(1, 2, 8, 9));
    expect(&y[1], AGLM_F32, 2, D(2, 2), V(3, 4, 10, 11));
    expect(&y[2], AGLM_F32, 2, D(2, 2), V(5, 6, 12, 13));
    expect(&y[3], AGLM_F32, 2, D(2, 1), V(7, 14));
    assert_int_not_equal(
        op_run(f, "Split", 13, 1, ins, NULL, (op_attr[]){A_INT("axis", 1), A_END}, 4, y), AGLM_OK);
    expect_error("split");
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
}

static void test_expand_tile(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(3, 1), V(1, 2, 3));
    aglm_tensor s = T(AGLM_I64, 1, D(3), V(2, 1, 4));
    const aglm_tensor *ins[2] = {&x, &s};
    const int consts[2] = {0, 1};
    aglm_tensor y;
    op_ok(f, "Expand", 13, 2, ins, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 3, D(2, 3, 4),
           V(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    aglm_tensor_free(&s);
    /* a shorter shape keeps the input's larger dims */
    s = T(AGLM_I64, 1, D(1), V(2));
    op_ok(f, "Expand", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 2), V(1, 1, 2, 2, 3, 3));
    aglm_tensor_free(&s);
    s = T(AGLM_I64, 1, D(2), V(2, 2));
    assert_int_not_equal(op_run(f, "Expand", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y), AGLM_OK);
    expect_error("cannot expand [3,1]");
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);

    x = T(AGLM_BOOL, 2, D(2, 2), V(1, 0, 0, 1));
    s = T(AGLM_I64, 1, D(2), V(2, 2));
    op_ok(f, "Tile", 13, 2, ins, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_BOOL, 2, D(4, 4), V(1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1));
    aglm_tensor_free(&s);
    s = T(AGLM_I64, 1, D(2), V(1, 3));
    op_ok(f, "Tile", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_BOOL, 2, D(2, 6), V(1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1));
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
}

static void test_pad(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(3, 2), V(1, 1.2, 2.3, 3.4, 4.5, 5.7));
    aglm_tensor p = T(AGLM_I64, 1, D(4), V(0, 2, 0, 0));
    aglm_tensor cv = T(AGLM_F32, 0, NULL, V(1.5));
    aglm_tensor ax = T(AGLM_I64, 1, D(1), V(-1));
    const aglm_tensor *ins[4] = {&x, &p, &cv, &ax};
    const int consts[4] = {0, 1, 1, 1};
    aglm_tensor y;
    op_ok(f, "Pad", 13, 2, ins, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 4), V(0, 0, 1, 1.2, 0, 0, 2.3, 3.4, 0, 0, 4.5, 5.7));
    op_ok(f, "Pad", 13, 3, ins, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 4), V(1.5, 1.5, 1, 1.2, 1.5, 1.5, 2.3, 3.4, 1.5, 1.5, 4.5, 5.7));
    op_ok(f, "Pad", 13, 2, ins, consts, (op_attr[]){A_STR("mode", "reflect"), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 4), V(1, 1.2, 1, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7));
    op_ok(f, "Pad", 13, 2, ins, consts, (op_attr[]){A_STR("mode", "edge"), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 4), V(1, 1, 1, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7));
    aglm_tensor_free(&p);
    p = T(AGLM_I64, 1, D(4), V(1, 1, 0, 1));
    op_ok(f, "Pad", 19, 2, ins, consts, (op_attr[]){A_STR("mode", "wrap"), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(4, 4),
           V(5.7, 4.5, 5.7, 4.5, 1.2, 1, 1.2, 1, 3.4, 2.3, 3.4, 2.3, 5.7, 4.5, 5.7, 4.5));
    assert_int_not_equal(
        op_run(f, "Pad", 13, 2, ins, consts, (op_attr[]){A_STR("mode", "wrap"), A_END}, 1, &y),
        AGLM_OK);
    expect_error("mode 'wrap'");
    /* negative pads crop; opset 18 axes name the padded axes */
    aglm_tensor_free(&p);
    p = T(AGLM_I64, 1, D(2), V(-1, 1));
    op_ok(f, "Pad", 18, 4, ins, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 2), V(1.2, 1.5, 3.4, 1.5, 5.7, 1.5));
    aglm_tensor_free(&p);
    p = T(AGLM_I64, 1, D(3), V(1, 1, 1));
    assert_int_not_equal(op_run(f, "Pad", 13, 2, ins, NULL, (op_attr[]){A_END}, 1, &y), AGLM_OK);
    expect_error("pads has 3 values");
    /* opset 2: attributes */
    op_ok(f, "Pad", 2, 1, ins, NULL,
          (op_attr[]){A_INTS("pads", 1, 0, 0, 0), A_FLOAT("value", 9), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(4, 2), V(9, 9, 1, 1.2, 2.3, 3.4, 4.5, 5.7));
    aglm_tensor_free(&x);
    aglm_tensor_free(&p);
    aglm_tensor_free(&cv);
    aglm_tensor_free(&ax);

    x = ramp(AGLM_I32, 2, D(3, 4), 1);
    aglm_tensor s = T(AGLM_I64, 1, D(2), V(2, 5));
    const aglm_tensor *cc[2] = {&x, &s};
    op_ok(f, "CenterCropPad", 18, 2, cc, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(2, 5), V(1, 2, 3, 4, 0, 5, 6, 7, 8, 0));
    aglm_tensor_free(&s);
    s = T(AGLM_I64, 1, D(1), V(2));
    op_ok(f, "CenterCropPad", 18, 2, cc, consts, (op_attr[]){A_INTS("axes", -1), A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(3, 2), V(2, 3, 6, 7, 10, 11));
    aglm_tensor_free(&x);
    aglm_tensor_free(&s);
}

static void test_generators(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_I64, 1, D(2), V(2, 3));
    const aglm_tensor *ins[3] = {&x};
    const int consts[3] = {1, 1, 1};
    aglm_tensor y;
    op_ok(f, "ConstantOfShape", 9, 1, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(2, 3), V(0, 0, 0, 0, 0, 0));
    op_ok(f, "Size", 13, 1, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I64, 0, NULL, V(2));
    {
        aglm_node *node;
        aglm_graph *g = op_graph("ConstantOfShape", 9, 1, ins, consts, 1, &node);
        aglm_tensor v = T(AGLM_I32, 1, D(1), V(7));
        assert_int_equal(aglm_node_set_tensor(node, "value", &v), AGLM_OK);
        aglm_tensor_free(&v);
        run_op(f, g, 1, ins, consts, 1, &y);
        expect(&y, AGLM_I32, 2, D(2, 3), V(7, 7, 7, 7, 7, 7));
    }
    aglm_tensor_free(&x);

    aglm_tensor a = T(AGLM_I32, 0, NULL, V(3)), b = T(AGLM_I32, 0, NULL, V(9)),
                d = T(AGLM_I32, 0, NULL, V(3));
    const aglm_tensor *r[3] = {&a, &b, &d};
    op_ok(f, "Range", 11, 3, r, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I32, 1, D(2), V(3, 6));
    op_ok(f, "Range", 11, 3, r, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I32, 1, D(2), V(3, 6));
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&d);
    a = T(AGLM_F32, 0, NULL, V(10));
    b = T(AGLM_F32, 0, NULL, V(4));
    d = T(AGLM_F32, 0, NULL, V(-3));
    op_ok(f, "Range", 11, 3, r, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 1, D(2), V(10, 7));
    aglm_tensor_free(&d);
    d = T(AGLM_F32, 0, NULL, V(3));
    op_ok(f, "Range", 11, 3, r, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 1, D(0), NULL);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&d);

    x = T(AGLM_F32, 2, D(3, 4), NULL);
    op_ok(f, "EyeLike", 9, 1, ins, NULL,
          (op_attr[]){A_INT("k", 1), A_INT("dtype", AGLM_I32), A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(3, 4), V(0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1));
    op_ok(f, "EyeLike", 9, 1, ins, NULL, (op_attr[]){A_INT("k", -2), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(3, 4), V(0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0));
    aglm_tensor_free(&x);

    aglm_tensor idx = T(AGLM_I64, 1, D(3), V(0, -1, 5)), depth = T(AGLM_F32, 0, NULL, V(3));
    aglm_tensor vals = T(AGLM_I32, 1, D(2), V(2, 8));
    const aglm_tensor *oh[3] = {&idx, &depth, &vals};
    op_ok(f, "OneHot", 11, 3, oh, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(3, 3), V(8, 2, 2, 2, 2, 8, 2, 2, 2));
    op_ok(f, "OneHot", 11, 3, oh, NULL, (op_attr[]){A_INT("axis", 0), A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(3, 3), V(8, 2, 2, 2, 2, 2, 2, 8, 2));
    aglm_tensor_free(&idx);
    aglm_tensor_free(&depth);
    aglm_tensor_free(&vals);
}

static void test_trilu_cumulative(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = ramp(AGLM_I64, 3, D(1, 3, 3), 1), k = T(AGLM_I64, 0, NULL, V(1));
    const aglm_tensor *ins[2] = {&x, &k};
    aglm_tensor y;
    op_ok(f, "Trilu", 14, 2, ins, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I64, 3, D(1, 3, 3), V(0, 2, 3, 0, 0, 6, 0, 0, 0));
    aglm_tensor_free(&k);
    k = T(AGLM_I64, 0, NULL, V(-1));
    op_ok(f, "Trilu", 14, 2, ins, NULL, (op_attr[]){A_INT("upper", 0), A_END}, 1, &y);
    expect(&y, AGLM_I64, 3, D(1, 3, 3), V(0, 0, 0, 4, 0, 0, 7, 8, 0));
    op_ok(f, "Trilu", 14, 1, ins, NULL, (op_attr[]){A_INT("upper", 0), A_END}, 1, &y);
    expect(&y, AGLM_I64, 3, D(1, 3, 3), V(1, 0, 0, 4, 5, 0, 7, 8, 9));
    aglm_tensor_free(&x);
    aglm_tensor_free(&k);

    x = T(AGLM_F64, 1, D(5), V(1, 2, 3, 4, 5));
    aglm_tensor axis = T(AGLM_I32, 0, NULL, V(0));
    const aglm_tensor *c[2] = {&x, &axis};
    op_ok(f, "CumSum", 14, 2, c, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F64, 1, D(5), V(1, 3, 6, 10, 15));
    op_ok(f, "CumSum", 14, 2, c, NULL, (op_attr[]){A_INT("exclusive", 1), A_END}, 1, &y);
    expect(&y, AGLM_F64, 1, D(5), V(0, 1, 3, 6, 10));
    op_ok(f, "CumSum", 14, 2, c, NULL, (op_attr[]){A_INT("reverse", 1), A_END}, 1, &y);
    expect(&y, AGLM_F64, 1, D(5), V(15, 14, 12, 9, 5));
    op_ok(f, "CumProd", 21, 2, c, NULL,
          (op_attr[]){A_INT("reverse", 1), A_INT("exclusive", 1), A_END}, 1, &y);
    expect(&y, AGLM_F64, 1, D(5), V(120, 60, 20, 5, 1));
    aglm_tensor_free(&x);
    x = ramp(AGLM_I32, 2, D(2, 3), 1);
    aglm_tensor_free(&axis);
    axis = T(AGLM_I64, 1, D(1), V(-1));
    op_ok(f, "CumSum", 14, 2, c, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(2, 3), V(1, 3, 6, 4, 9, 15));
    op_ok(f, "CumProd", 21, 2, c, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_I32, 2, D(2, 3), V(1, 2, 6, 4, 20, 120));
    aglm_tensor_free(&x);
    aglm_tensor_free(&axis);
}

static void test_layout(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = ramp(AGLM_F32, 4, D(1, 8, 2, 3), 0);
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor y;
    op_ok(f, "DepthToSpace", 13, 1, ins, NULL, (op_attr[]){A_INT("blocksize", 2), A_END}, 1, &y);
    static const double dcr[] = {0,  12, 1,  13, 2,  14, 24, 36, 25, 37, 26, 38, 3,  15, 4,  16,
                                 5,  17, 27, 39, 28, 40, 29, 41, 6,  18, 7,  19, 8,  20, 30, 42,
                                 31, 43, 32, 44, 9,  21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47};
    aglm_tensor want = T(AGLM_F32, 4, D(1, 2, 4, 6), dcr);
    assert_close(&y, &want, 0, 0);
    /* SpaceToDepth undoes DCR */
    const aglm_tensor *back[1] = {&y};
    aglm_tensor z;
    op_ok(f, "SpaceToDepth", 13, 1, back, NULL, (op_attr[]){A_INT("blocksize", 2), A_END}, 1, &z);
    assert_close(&z, &x, 0, 0);
    aglm_tensor_free(&z);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    op_ok(f, "DepthToSpace", 13, 1, ins, NULL,
          (op_attr[]){A_INT("blocksize", 2), A_STR("mode", "CRD"), A_END}, 1, &y);
    static const double crd[] = {0,  6,  1,  7,  2,  8,  12, 18, 13, 19, 14, 20, 3,  9,  4,  10,
                                 5,  11, 15, 21, 16, 22, 17, 23, 24, 30, 25, 31, 26, 32, 36, 42,
                                 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47};
    expect(&y, AGLM_F32, 4, D(1, 2, 4, 6), crd);
    assert_int_not_equal(op_run(f, "DepthToSpace", 13, 1, ins, NULL,
                                (op_attr[]){A_INT("blocksize", 3), A_END}, 1, &y),
                         AGLM_OK);
    expect_error("blocksize");
    aglm_tensor_free(&x);

    x = T(AGLM_F32, 2, D(4, 4), V(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    aglm_tensor lens = T(AGLM_I64, 1, D(4), V(4, 3, 2, 1));
    const aglm_tensor *rs[2] = {&x, &lens};
    op_ok(f, "ReverseSequence", 10, 2, rs, NULL,
          (op_attr[]){A_INT("time_axis", 0), A_INT("batch_axis", 1), A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(4, 4), V(3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15));
    aglm_tensor_free(&x);
    aglm_tensor_free(&lens);

    /* Col2Im: five 1x5 blocks stacked down a 5x5 image */
    x = tensor_of(AGLM_F32, 3, D(1, 5, 5), NULL);
    for (int kb = 0; kb < 5; kb++)
        for (int l = 0; l < 5; l++)
            ((float *)x.data)[kb * 5 + l] = (float)(5 * l + kb + 1);
    aglm_tensor img = T(AGLM_I64, 1, D(2), V(5, 5)), blk = T(AGLM_I64, 1, D(2), V(1, 5));
    const aglm_tensor *ci[3] = {&x, &img, &blk};
    const int consts[3] = {0, 1, 1};
    op_ok(f, "Col2Im", 18, 3, ci, consts, (op_attr[]){A_END}, 1, &y);
    want = ramp(AGLM_F32, 4, D(1, 1, 5, 5), 1);
    assert_close(&y, &want, 0, 0);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    aglm_tensor_free(&x);
    aglm_tensor_free(&img);
    aglm_tensor_free(&blk);
    /* overlapping 2x2 blocks of ones over a 3x3 image count how many blocks cover each pixel */
    x = tensor_of(AGLM_F32, 3, D(1, 4, 4), V(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    img = T(AGLM_I64, 1, D(2), V(3, 3));
    blk = T(AGLM_I64, 1, D(2), V(2, 2));
    op_ok(f, "Col2Im", 18, 3, ci, consts, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 4, D(1, 1, 3, 3), V(1, 2, 1, 2, 4, 2, 1, 2, 1));
    aglm_tensor_free(&x);
    aglm_tensor_free(&img);
    aglm_tensor_free(&blk);
}

static aglm_status einsum(backend_fx *f, const char *eq, size_t n, const aglm_tensor *const *ins,
                          aglm_tensor *y)
{
    return op_run(f, "Einsum", 12, n, ins, NULL, (op_attr[]){A_STR("equation", eq), A_END}, 1, y);
}

static void test_einsum(void **state)
{
    backend_fx *f = *state;
    aglm_tensor a = T(AGLM_F32, 2, D(2, 3), V(1, 2, 3, 4, 5, 6));
    aglm_tensor b = T(AGLM_F32, 2, D(3, 2), V(1, 0, 0, 1, 1, 1));
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_tensor y;
    assert_int_equal(einsum(f, "ij,jk->ik", 2, ins, &y), AGLM_OK);
    expect(&y, AGLM_F32, 2, D(2, 2), V(4, 5, 10, 11));
    /* implicit output: the labels seen once, in alphabetical order */
    assert_int_equal(einsum(f, "ij, jk", 2, ins, &y), AGLM_OK);
    expect(&y, AGLM_F32, 2, D(2, 2), V(4, 5, 10, 11));
    assert_int_equal(einsum(f, "ij->ji", 1, ins, &y), AGLM_OK);
    expect(&y, AGLM_F32, 2, D(3, 2), V(1, 4, 2, 5, 3, 6));
    assert_int_equal(einsum(f, "ba", 1, ins, &y), AGLM_OK);
    expect(&y, AGLM_F32, 2, D(3, 2), V(1, 4, 2, 5, 3, 6));
    assert_int_equal(einsum(f, "ij->", 1, ins, &y), AGLM_OK);
    expect(&y, AGLM_F32, 0, NULL, V(21));
    assert_int_equal(einsum(f, "ij->i", 1, ins, &y), AGLM_OK);
    expect(&y, AGLM_F32, 1, D(2), V(6, 15));
    assert_int_equal(einsum(f, "ij,jk->", 2, ins, &y), AGLM_OK);
    expect(&y, AGLM_F32, 0, NULL, V(30));
    assert_int_not_equal(einsum(f, "ij,ij->ij", 2, ins, &y), AGLM_OK);
    expect_error("label sizes differ");
    assert_int_not_equal(einsum(f, "ijk->i", 1, ins, &y), AGLM_OK);
    expect_error("3 labels");
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);

    /* diagonals, batch diagonals through "...", inner and outer products, integers */
    a = ramp(AGLM_I64, 3, D(2, 3, 3), 0);
    assert_int_equal(einsum(f, "...ii->...i", 1, ins, &y), AGLM_OK);
    expect(&y, AGLM_I64, 2, D(2, 3), V(0, 4, 8, 9, 13, 17));
    assert_int_equal(einsum(f, "bii", 1, ins, &y), AGLM_OK);
    expect(&y, AGLM_I64, 1, D(2), V(12, 39));
    aglm_tensor_free(&a);
    a = T(AGLM_F64, 1, D(3), V(1, 2, 3));
    b = T(AGLM_F64, 1, D(3), V(4, 5, 6));
    assert_int_equal(einsum(f, "i,i", 2, ins, &y), AGLM_OK);
    expect(&y, AGLM_F64, 0, NULL, V(32));
    assert_int_equal(einsum(f, "i,j->ij", 2, ins, &y), AGLM_OK);
    expect(&y, AGLM_F64, 2, D(3, 3), V(4, 5, 6, 8, 10, 12, 12, 15, 18));
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    /* batch matmul with a broadcast batch */
    a = ramp(AGLM_F32, 3, D(2, 2, 2), 0);
    b = T(AGLM_F32, 3, D(1, 2, 1), V(1, 1));
    assert_int_equal(einsum(f, "...ij,...jk->...ik", 2, ins, &y), AGLM_OK);
    expect(&y, AGLM_F32, 3, D(2, 2, 1), V(1, 5, 9, 13));
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
}

/* Empty tensors go through every op without touching memory they do not have. */
static void test_empty(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = T(AGLM_F32, 2, D(0, 3), NULL), y;
    aglm_tensor p = T(AGLM_I64, 1, D(4), V(1, 0, 0, 1)), r = T(AGLM_I64, 1, D(2), V(3, 0));
    aglm_tensor a = T(AGLM_I64, 0, NULL, V(0));
    op_ok(f, "Pad", 13, 2, (const aglm_tensor *[]){&x, &p}, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(1, 4), V(0, 0, 0, 0));
    assert_int_not_equal(op_run(f, "Pad", 13, 2, (const aglm_tensor *[]){&x, &p}, NULL,
                                (op_attr[]){A_STR("mode", "edge"), A_END}, 1, &y),
                         AGLM_OK);
    expect_error("empty axis 0");
    op_ok(f, "Tile", 13, 2, (const aglm_tensor *[]){&x, &r}, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(0, 0), NULL);
    op_ok(f, "CumSum", 14, 2, (const aglm_tensor *[]){&x, &a}, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(0, 3), NULL);
    op_ok(f, "Trilu", 14, 1, (const aglm_tensor *[]){&x}, NULL, (op_attr[]){A_END}, 1, &y);
    expect(&y, AGLM_F32, 2, D(0, 3), NULL);
    op_ok(f, "Einsum", 12, 1, (const aglm_tensor *[]){&x}, NULL,
          (op_attr[]){A_STR("equation", "ij->j"), A_END}, 1, &y);
    expect(&y, AGLM_F32, 1, D(3), V(0, 0, 0));
    aglm_tensor s0 = T(AGLM_I64, 1, D(1), V(1)), s1 = T(AGLM_I64, 1, D(1), V(1));
    op_ok(f, "Slice", 13, 3, (const aglm_tensor *[]){&x, &s0, &s1}, NULL, (op_attr[]){A_END}, 1,
          &y);
    expect(&y, AGLM_F32, 2, D(0, 3), NULL);
    aglm_tensor_free(&x);
    aglm_tensor_free(&p);
    aglm_tensor_free(&r);
    aglm_tensor_free(&a);
    aglm_tensor_free(&s0);
    aglm_tensor_free(&s1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice),       cmocka_unit_test(test_split),
        cmocka_unit_test(test_expand_tile), cmocka_unit_test(test_pad),
        cmocka_unit_test(test_generators),  cmocka_unit_test(test_trilu_cumulative),
        cmocka_unit_test(test_layout),      cmocka_unit_test(test_einsum),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
