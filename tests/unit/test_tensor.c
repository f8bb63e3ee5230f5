/* The tensor descriptor: allocation, copy, free, shapes and element access. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "aglm/aglm.h"

static void expect_msg(const char *needle)
{
    if (!strstr(aglm_last_error(), needle))
        fail_msg("message \"%s\" does not contain \"%s\"", aglm_last_error(), needle);
}

static void test_alloc_is_zeroed_aligned_and_owned(void **state)
{
    (void)state;
    aglm_tensor t;
    const int64_t dims[] = {2, 3, 5};
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 3, dims), AGLM_OK);
    assert_int_equal(t.dtype, AGLM_F32);
    assert_int_equal(t.rank, 3);
    assert_int_equal(t.dims[0], 2);
    assert_int_equal(t.dims[2], 5);
    assert_int_equal(t.device, AGLM_DEVICE_CPU);
    assert_int_equal(t.flags & AGLM_TENSOR_OWNS_DATA, AGLM_TENSOR_OWNS_DATA);
    assert_int_equal((uintptr_t)t.data % 64, 0);
    assert_int_equal(aglm_tensor_numel(&t), 30);
    assert_int_equal(aglm_tensor_nbytes(&t), 120);
    const unsigned char *p = t.data;
    for (int i = 0; i < 120; i++)
        assert_int_equal(p[i], 0);
    aglm_tensor_free(&t);
    assert_null(t.data);
    assert_int_equal(t.rank, 0);
    aglm_tensor_free(&t); /* a second free is harmless */
}

/* A lent region (what an executor's memory plan gives a kernel) is used when the request fits,
 * zeroed unless no_zero, and comes out borrowed; a request too big gets owned memory. */
static void test_alloc_in_region(void **state)
{
    (void)state;
    unsigned char buf[256];
    memset(buf, 0xab, sizeof buf);
    const int64_t cap = 64, dims[] = {4, 4};
    aglm_region r = {buf, 256, 0};
    aglm_tensor t;
    assert_int_equal(aglm_tensor_alloc_in(&t, &r, AGLM_I32, 2, dims), AGLM_OK);
    assert_ptr_equal(t.data, buf);
    assert_int_equal(t.dtype, AGLM_I32);
    assert_int_equal(t.rank, 2);
    assert_int_equal(t.dims[1], 4);
    assert_int_equal(t.flags, 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(buf[64], 0xab); /* only the requested bytes are zeroed */
    aglm_tensor_free(&t);            /* borrowed: buf is not freed (ASan would catch it) */
    assert_int_equal(buf[0], 0);

    /* no_zero hands the bytes over as they are (an in-place element-wise kernel reads them). */
    memset(buf, 0xcd, sizeof buf);
    r.no_zero = 1;
    assert_int_equal(aglm_tensor_alloc_in(&t, &r, AGLM_F32, 1, &cap), AGLM_OK);
    assert_ptr_equal(t.data, buf);
    assert_int_equal(buf[0], 0xcd);
    assert_int_equal(t.flags, 0);
    r.no_zero = 0;

    /* dims may point into the descriptor itself. */
    aglm_tensor_wrap(&t, AGLM_F32, 2, dims, NULL);
    assert_int_equal(aglm_tensor_alloc_in(&t, &r, AGLM_U8, t.rank, t.dims), AGLM_OK);
    assert_ptr_equal(t.data, buf);
    assert_int_equal(t.dims[0], 4);
    assert_int_equal(t.dims[1], 4);

    /* Too big for the region: fresh owned memory, the buffer untouched. */
    memset(buf, 0xee, sizeof buf);
    const int64_t big = 65;
    assert_int_equal(aglm_tensor_alloc_in(&t, &r, AGLM_F32, 1, &big), AGLM_OK);
    assert_true(t.data != buf);
    assert_int_equal(t.flags & AGLM_TENSOR_OWNS_DATA, AGLM_TENSOR_OWNS_DATA);
    assert_int_equal(buf[0], 0xee);
    aglm_tensor_free(&t);

    /* No region (NULL, or one lending nothing): owned memory as aglm_tensor_alloc gives. */
    aglm_region none = {NULL, 0, 0};
    assert_int_equal(aglm_tensor_alloc_in(&t, &none, AGLM_F32, 1, &cap), AGLM_OK);
    assert_int_equal(t.flags & AGLM_TENSOR_OWNS_DATA, AGLM_TENSOR_OWNS_DATA);
    aglm_tensor_free(&t);
    assert_int_equal(aglm_tensor_alloc_in(&t, NULL, AGLM_F32, 1, &cap), AGLM_OK);
    aglm_tensor_free(&t);

    /* A preset buffer on the descriptor is ignored by aglm_tensor_alloc. */
    aglm_tensor_wrap(&t, AGLM_F32, 1, &cap, buf);
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 1, &cap), AGLM_OK);
    assert_true(t.data != buf);
    assert_int_equal(t.flags & AGLM_TENSOR_OWNS_DATA, AGLM_TENSOR_OWNS_DATA);
    aglm_tensor_free(&t);

    /* A bad request fails as before and leaves the tensor empty. */
    assert_int_equal(aglm_tensor_alloc_in(&t, &r, AGLM_F32, -1, dims), AGLM_ERR_INVALID);
    assert_null(t.data);
}

/* The descriptor aglm_tensor_alloc fills is output only: whatever it held before (garbage, or the
 * flag bits 2 and 4 with which ABI 1.0 lent a buffer) is not read, and the tensor gets fresh
 * owned memory. */
static void test_alloc_ignores_what_the_descriptor_held(void **state)
{
    (void)state;
    unsigned char buf[256];
    memset(buf, 0xcd, sizeof buf);
    const int64_t cap = 64;
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_U8, 1, (const int64_t[]){256}, buf);
    t.flags = 2u | 4u;
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 1, &cap), AGLM_OK);
    assert_true(t.data != buf);
    assert_int_equal(t.flags, AGLM_TENSOR_OWNS_DATA);
    assert_int_equal(((float *)t.data)[0], 0);
    aglm_tensor_free(&t);
    memset(&t, 0xa5, sizeof t); /* garbage, as an uninitialised local */
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 1, &cap), AGLM_OK);
    assert_int_equal(t.flags, AGLM_TENSOR_OWNS_DATA);
    aglm_tensor_free(&t);
    assert_int_equal(buf[0], 0xcd);
}

static void test_alloc_scalar_and_empty(void **state)
{
    (void)state;
    aglm_tensor s, e;
    assert_int_equal(aglm_tensor_alloc(&s, AGLM_F64, 0, NULL), AGLM_OK);
    assert_int_equal(aglm_tensor_numel(&s), 1);
    assert_int_equal(aglm_tensor_nbytes(&s), 8);
    const int64_t dims[] = {4, 0, 3};
    assert_int_equal(aglm_tensor_alloc(&e, AGLM_I64, 3, dims), AGLM_OK);
    assert_int_equal(aglm_tensor_numel(&e), 0);
    assert_int_equal(aglm_tensor_nbytes(&e), 0);
    assert_non_null(e.data);
    aglm_tensor_free(&s);
    aglm_tensor_free(&e);
}

static void test_alloc_rejects_bad_input(void **state)
{
    (void)state;
    aglm_tensor t;
    const int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    memset(&t, 0xAB, sizeof t);
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 9, dims), AGLM_ERR_INVALID);
    expect_msg("rank 9");
    assert_null(t.data); /* left empty */
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, -1, dims), AGLM_ERR_INVALID);
    expect_msg("rank -1");
    const int64_t neg[] = {2, -3};
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 2, neg), AGLM_ERR_INVALID);
    expect_msg("[2,-3]");
    expect_msg("negative dim -3");
    const int64_t huge[] = {INT64_MAX, 2};
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_U8, 2, huge), AGLM_ERR_INVALID);
    expect_msg("too large");
    /* The element count fits in int64 but the byte count does not. */
    const int64_t big[] = {(int64_t)1 << 62};
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 1, big), AGLM_ERR_INVALID);
    expect_msg("too large");
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_STRING, 1, dims), AGLM_ERR_UNSUPPORTED);
    expect_msg("dtype");
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 2, NULL), AGLM_ERR_INVALID);
    assert_null(t.data);
    assert_int_equal(aglm_tensor_alloc(NULL, AGLM_F32, 0, NULL), AGLM_ERR_INVALID);
}

static void test_wrap_borrows(void **state)
{
    (void)state;
    float buf[6] = {1, 2, 3, 4, 5, 6};
    const int64_t dims[] = {2, 3};
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 2, dims, buf);
    assert_ptr_equal(t.data, buf);
    assert_int_equal(t.flags & AGLM_TENSOR_OWNS_DATA, 0);
    assert_true(aglm_tensor_get_f64(&t, 5) == 6.0);
    aglm_tensor_free(&t); /* must not free the stack buffer (ASan would report it) */
    assert_null(t.data);
    assert_true(buf[5] == 6.0f);
    aglm_tensor_wrap(&t, AGLM_F32, 12, dims, buf);
    assert_null(t.data);
    assert_int_equal(t.rank, 0);
}

static void test_numel_of_invalid_shapes(void **state)
{
    (void)state;
    aglm_tensor t;
    const int64_t neg[] = {2, -1};
    aglm_tensor_wrap(&t, AGLM_F32, 2, neg, NULL);
    assert_int_equal(aglm_tensor_numel(&t), -1);
    assert_int_equal(aglm_tensor_nbytes(&t), 0);
    const int64_t over[] = {INT64_MAX, 3};
    aglm_tensor_wrap(&t, AGLM_F32, 2, over, NULL);
    assert_int_equal(aglm_tensor_numel(&t), -1);
}

static void test_copy_is_deep(void **state)
{
    (void)state;
    int32_t buf[4] = {1, -2, 3, -4};
    const int64_t dims[] = {4};
    aglm_tensor src, dst;
    aglm_tensor_wrap(&src, AGLM_I32, 1, dims, buf);
    assert_int_equal(aglm_tensor_copy(&dst, &src), AGLM_OK);
    assert_ptr_not_equal(dst.data, buf);
    assert_int_equal(dst.flags & AGLM_TENSOR_OWNS_DATA, AGLM_TENSOR_OWNS_DATA);
    assert_true(aglm_tensor_same_shape(&dst, &src));
    buf[1] = 100;
    assert_true(aglm_tensor_get_f64(&dst, 1) == -2.0);
    assert_true(aglm_tensor_get_f64(&dst, 3) == -4.0);

    /* Copying onto itself gives fresh storage with the same values (ASan checks no leak). */
    void *old = dst.data;
    assert_int_equal(aglm_tensor_copy(&dst, &dst), AGLM_OK);
    assert_ptr_not_equal(dst.data, old);
    assert_true(aglm_tensor_get_f64(&dst, 3) == -4.0);
    aglm_tensor_free(&dst);
}

static void test_copy_refuses_device_tensors(void **state)
{
    (void)state;
    aglm_tensor src, dst;
    const int64_t dims[] = {4};
    aglm_tensor_wrap(&src, AGLM_F32, 1, dims, (void *)0x1000);
    src.device = AGLM_DEVICE_CUDA;
    assert_int_equal(aglm_tensor_copy(&dst, &src), AGLM_ERR_UNSUPPORTED);
    expect_msg("cuda");
    assert_null(dst.data);
    aglm_tensor_wrap(&src, AGLM_F32, 1, dims, NULL);
    assert_int_equal(aglm_tensor_copy(&dst, &src), AGLM_ERR_INVALID);
    expect_msg("no data");
}

static void test_shape_str(void **state)
{
    (void)state;
    char buf[64];
    const int64_t d[] = {1, 3, 224, 224};
    assert_string_equal(aglm_shape_str(4, d, buf, sizeof buf), "[1,3,224,224]");
    assert_string_equal(aglm_shape_str(0, NULL, buf, sizeof buf), "[]");
    assert_string_equal(aglm_shape_str(1, d + 2, buf, sizeof buf), "[224]");
    /* Truncated output stays terminated within n bytes. */
    memset(buf, 'x', sizeof buf);
    assert_string_equal(aglm_shape_str(4, d, buf, 6), "[1,3,");
    assert_int_equal(buf[6], 'x');
    assert_string_equal(aglm_shape_str(4, d, buf, 1), "");
}

static void test_same_shape(void **state)
{
    (void)state;
    const int64_t a[] = {2, 3}, b[] = {2, 4};
    aglm_tensor x, y, z, s;
    aglm_tensor_wrap(&x, AGLM_F32, 2, a, NULL);
    aglm_tensor_wrap(&y, AGLM_I8, 2, a, NULL);
    aglm_tensor_wrap(&z, AGLM_F32, 2, b, NULL);
    aglm_tensor_wrap(&s, AGLM_F32, 1, a, NULL);
    assert_true(aglm_tensor_same_shape(&x, &y)); /* dtype is not part of the shape */
    assert_false(aglm_tensor_same_shape(&x, &z));
    assert_false(aglm_tensor_same_shape(&x, &s));
}

/* Raw storage read back with memcpy, so the test does not trust get_f64 for set_f64. */
#define DEFINE_RAW(T)                                                                              \
    static T raw_##T(const aglm_tensor *t, int i)                                                  \
    {                                                                                              \
        T v;                                                                                       \
        memcpy(&v, (const char *)t->data + (size_t)i * sizeof v, sizeof v);                        \
        return v;                                                                                  \
    }
DEFINE_RAW(int8_t)
DEFINE_RAW(uint8_t)
DEFINE_RAW(uint16_t)
DEFINE_RAW(uint32_t)
DEFINE_RAW(int64_t)
DEFINE_RAW(uint64_t)
#define RAW(T, t, i) raw_##T(&(t), (i))

static void test_set_and_get_every_dtype(void **state)
{
    (void)state;
    const int64_t dims[] = {8};
    const double vals[] = {0, 1, -1, 2.75, 100, -100, 1e20, -1e20};
    const aglm_dtype dts[] = {AGLM_F32, AGLM_F16, AGLM_BF16, AGLM_F64, AGLM_I8,  AGLM_U8,  AGLM_I16,
                              AGLM_U16, AGLM_I32, AGLM_U32,  AGLM_I64, AGLM_U64, AGLM_BOOL};
    for (size_t k = 0; k < sizeof dts / sizeof dts[0]; k++) {
        aglm_tensor t;
        assert_int_equal(aglm_tensor_alloc(&t, dts[k], 1, dims), AGLM_OK);
        for (int i = 0; i < 8; i++)
            aglm_tensor_set_f64(&t, i, vals[i]);
        /* Small integers are exact in every dtype that can hold them. */
        assert_true(aglm_tensor_get_f64(&t, 1) == 1.0);
        assert_true(aglm_tensor_get_f64(&t, 0) == 0.0);
        if (dts[k] != AGLM_BOOL && dts[k] != AGLM_U8 && dts[k] != AGLM_U16 && dts[k] != AGLM_U32 &&
            dts[k] != AGLM_U64)
            assert_true(aglm_tensor_get_f64(&t, 2) == -1.0);
        aglm_tensor_free(&t);
    }

    aglm_tensor t;
    /* Floats round to nearest; integers truncate toward zero and saturate. */
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F16, 1, dims), AGLM_OK);
    aglm_tensor_set_f64(&t, 0, 0.1);
    assert_int_equal(RAW(uint16_t, t, 0), 0x2E66);
    assert_true(aglm_tensor_get_f64(&t, 0) == 0.0999755859375);
    aglm_tensor_set_f64(&t, 1, 1e6);
    assert_true(isinf(aglm_tensor_get_f64(&t, 1)));
    aglm_tensor_free(&t);

    assert_int_equal(aglm_tensor_alloc(&t, AGLM_BF16, 1, dims), AGLM_OK);
    aglm_tensor_set_f64(&t, 0, 0.1);
    assert_int_equal(RAW(uint16_t, t, 0), 0x3DCD);
    assert_true(aglm_tensor_get_f64(&t, 0) == 0.10009765625);
    aglm_tensor_free(&t);

    assert_int_equal(aglm_tensor_alloc(&t, AGLM_I8, 1, dims), AGLM_OK);
    const double in8[] = {300, -300, 3.9, -3.9, NAN, 127, -128, 0.5};
    const int8_t out8[] = {127, -128, 3, -3, 0, 127, -128, 0};
    for (int i = 0; i < 8; i++) {
        aglm_tensor_set_f64(&t, i, in8[i]);
        assert_int_equal(RAW(int8_t, t, i), out8[i]);
        assert_true(aglm_tensor_get_f64(&t, i) == out8[i]);
    }
    aglm_tensor_free(&t);

    assert_int_equal(aglm_tensor_alloc(&t, AGLM_U8, 1, dims), AGLM_OK);
    aglm_tensor_set_f64(&t, 0, -5);
    aglm_tensor_set_f64(&t, 1, 255.9);
    aglm_tensor_set_f64(&t, 2, 256);
    assert_int_equal(RAW(uint8_t, t, 0), 0);
    assert_int_equal(RAW(uint8_t, t, 1), 255);
    assert_int_equal(RAW(uint8_t, t, 2), 255);
    aglm_tensor_free(&t);

    assert_int_equal(aglm_tensor_alloc(&t, AGLM_I64, 1, dims), AGLM_OK);
    aglm_tensor_set_f64(&t, 0, 1e30);
    aglm_tensor_set_f64(&t, 1, -1e30);
    aglm_tensor_set_f64(&t, 2, -123456789012.0);
    assert_true(RAW(int64_t, t, 0) == INT64_MAX);
    assert_true(RAW(int64_t, t, 1) == INT64_MIN);
    assert_true(RAW(int64_t, t, 2) == -123456789012);
    aglm_tensor_free(&t);

    assert_int_equal(aglm_tensor_alloc(&t, AGLM_U64, 1, dims), AGLM_OK);
    aglm_tensor_set_f64(&t, 0, 1e30);
    aglm_tensor_set_f64(&t, 1, 18446744073709549568.0); /* the largest double below 2^64 */
    assert_true(RAW(uint64_t, t, 0) == UINT64_MAX);
    assert_true(RAW(uint64_t, t, 1) == 18446744073709549568u);
    aglm_tensor_free(&t);

    assert_int_equal(aglm_tensor_alloc(&t, AGLM_U32, 1, dims), AGLM_OK);
    aglm_tensor_set_f64(&t, 0, 4294967295.0);
    aglm_tensor_set_f64(&t, 1, -0.5);
    assert_true(RAW(uint32_t, t, 0) == UINT32_MAX);
    assert_true(RAW(uint32_t, t, 1) == 0);
    aglm_tensor_free(&t);

    assert_int_equal(aglm_tensor_alloc(&t, AGLM_BOOL, 1, dims), AGLM_OK);
    aglm_tensor_set_f64(&t, 0, 0.5);
    aglm_tensor_set_f64(&t, 1, -2);
    aglm_tensor_set_f64(&t, 2, 0);
    assert_int_equal(RAW(uint8_t, t, 0), 1);
    assert_int_equal(RAW(uint8_t, t, 1), 1);
    assert_int_equal(RAW(uint8_t, t, 2), 0);
    ((uint8_t *)t.data)[3] = 7; /* any non-zero byte reads as true */
    assert_true(aglm_tensor_get_f64(&t, 3) == 1.0);
    aglm_tensor_free(&t);
}

static void test_element_access_out_of_range(void **state)
{
    (void)state;
    float buf[4] = {1, 2, 3, 4};
    const int64_t dims[] = {2};
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 1, dims, buf);
    assert_true(isnan(aglm_tensor_get_f64(&t, 2)));
    assert_true(isnan(aglm_tensor_get_f64(&t, -1)));
    aglm_tensor_set_f64(&t, 2, 99);
    aglm_tensor_set_f64(&t, -1, 99);
    assert_true(buf[2] == 3.0f);
    t.device = AGLM_DEVICE_CUDA;
    assert_true(isnan(aglm_tensor_get_f64(&t, 0)));
    assert_true(isnan(aglm_tensor_get_f64(NULL, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_is_zeroed_aligned_and_owned),
        cmocka_unit_test(test_alloc_in_region),
        cmocka_unit_test(test_alloc_ignores_what_the_descriptor_held),
        cmocka_unit_test(test_alloc_scalar_and_empty),
        cmocka_unit_test(test_alloc_rejects_bad_input),
        cmocka_unit_test(test_wrap_borrows),
        cmocka_unit_test(test_numel_of_invalid_shapes),
        cmocka_unit_test(test_copy_is_deep),
        cmocka_unit_test(test_copy_refuses_device_tensors),
        cmocka_unit_test(test_shape_str),
        cmocka_unit_test(test_same_shape),
        cmocka_unit_test(test_set_and_get_every_dtype),
        cmocka_unit_test(test_element_access_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
