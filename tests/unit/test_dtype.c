/* Dtype sizes and names, and the f16/bf16 conversions, checked exhaustively. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <string.h>

#include "aglm/aglm.h"

static const struct {
    aglm_dtype dt;
    size_t size;
    const char *name, *onnx;
} all[] = {
    {AGLM_F32, 4, "f32", "float"},      {AGLM_F16, 2, "f16", "float16"},
    {AGLM_BF16, 2, "bf16", "bfloat16"}, {AGLM_F64, 8, "f64", "double"},
    {AGLM_I8, 1, "i8", "int8"},         {AGLM_U8, 1, "u8", "uint8"},
    {AGLM_I16, 2, "i16", "int16"},      {AGLM_U16, 2, "u16", "uint16"},
    {AGLM_I32, 4, "i32", "int32"},      {AGLM_U32, 4, "u32", "uint32"},
    {AGLM_I64, 8, "i64", "int64"},      {AGLM_U64, 8, "u64", "uint64"},
    {AGLM_BOOL, 1, "bool", "bool"},
};
#define N_ALL (sizeof all / sizeof all[0])

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_sizes_and_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ALL; i++) {
        assert_int_equal(aglm_dtype_size(all[i].dt), all[i].size);
        assert_string_equal(aglm_dtype_name(all[i].dt), all[i].name);
        assert_int_equal(aglm_dtype_from_name(all[i].name), all[i].dt);
        assert_int_equal(aglm_dtype_from_name(all[i].onnx), all[i].dt);
    }
    assert_int_equal(aglm_dtype_from_name("FLOAT"), AGLM_F32); /* ONNX's enum spelling */
    assert_int_equal(aglm_dtype_from_name("BFLOAT16"), AGLM_BF16);
    assert_int_equal(aglm_dtype_from_name("I64"), AGLM_I64);
    assert_int_equal(aglm_dtype_from_name("float32"), AGLM_F32); /* NumPy's */
    assert_int_equal(aglm_dtype_from_name("float64"), AGLM_F64);
    assert_int_equal(aglm_dtype_from_name("string"), AGLM_UNDEFINED); /* not storable */
    assert_int_equal(aglm_dtype_from_name("f128"), AGLM_UNDEFINED);
    assert_int_equal(aglm_dtype_from_name(""), AGLM_UNDEFINED);
    assert_int_equal(aglm_dtype_from_name(NULL), AGLM_UNDEFINED);
    assert_int_equal(aglm_dtype_size(AGLM_UNDEFINED), 0);
    assert_int_equal(aglm_dtype_size(AGLM_STRING), 0);
    assert_int_equal(aglm_dtype_size((aglm_dtype)77), 0);
    assert_string_equal(aglm_dtype_name((aglm_dtype)77), "?");
}

static void test_classes(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ALL; i++) {
        const char *n = all[i].name;
        int is_float = n[0] == 'f' || strcmp(n, "bf16") == 0;
        int is_int = n[0] == 'i' || n[0] == 'u';
        assert_int_equal(aglm_dtype_is_float(all[i].dt), is_float);
        assert_int_equal(aglm_dtype_is_int(all[i].dt), is_int);
    }
    assert_false(aglm_dtype_is_float(AGLM_UNDEFINED));
    assert_false(aglm_dtype_is_int(AGLM_STRING));
}

/* The value a half encodes, computed from the IEEE 754 definition independently of libaglm. */
static double f16_reference(unsigned h)
{
    int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
    double v;
    if (exp == 31)
        v = mant ? NAN : INFINITY;
    else if (exp == 0)
        v = ldexp(mant, -24);
    else
        v = ldexp(1024 + mant, exp - 25);
    return sign ? -v : v;
}

static void test_f16_every_pattern(void **state)
{
    (void)state;
    for (unsigned h = 0; h < 65536; h++) {
        float f = aglm_f16_to_f32((unsigned short)h);
        double ref = f16_reference(h);
        unsigned short back = aglm_f32_to_f16(f);
        if (isnan(ref)) {
            assert_true(isnan(f));
            assert_true((back & 0x7C00) == 0x7C00 && (back & 0x3FF) != 0);
            assert_int_equal(back, h); /* payload and sign survive too */
        } else {
            if ((double)f != ref || !signbit(f) != !signbit(ref))
                fail_msg("f16 0x%04x: got %.9g, want %.9g", h, (double)f, ref);
            assert_int_equal(back, h);
        }
    }
}

/* Between every two neighbouring finite halves: the midpoint goes to the even one, anything past
 * it to the nearer one. Together with the exact round trip this pins round-to-nearest-even. */
static void test_f16_rounds_to_nearest_even(void **state)
{
    (void)state;
    for (unsigned h = 0; h < 0x7BFF; h++) {
        for (int s = 0; s < 2; s++) {
            unsigned lo = h | (s ? 0x8000u : 0), hi = (h + 1) | (s ? 0x8000u : 0);
            float mid = (float)((f16_reference(lo) + f16_reference(hi)) / 2); /* exact in f32 */
            unsigned even = (lo & 1) ? hi : lo;
            if (aglm_f32_to_f16(mid) != even)
                fail_msg("midpoint of 0x%04x and 0x%04x gave 0x%04x", lo, hi, aglm_f32_to_f16(mid));
            float away = s ? -INFINITY : INFINITY, toward = s ? INFINITY : -INFINITY;
            assert_int_equal(aglm_f32_to_f16(nextafterf(mid, away)), hi);
            assert_int_equal(aglm_f32_to_f16(nextafterf(mid, toward)), lo);
        }
    }
}

static void test_f16_edges(void **state)
{
    (void)state;
    assert_int_equal(aglm_f32_to_f16(1.0f), 0x3C00);
    assert_int_equal(aglm_f32_to_f16(-2.0f), 0xC000);
    assert_int_equal(aglm_f32_to_f16(-0.0f), 0x8000);
    assert_int_equal(aglm_f32_to_f16(65504.0f), 0x7BFF);
    assert_int_equal(aglm_f32_to_f16(nextafterf(65520.0f, 0)), 0x7BFF);
    assert_int_equal(aglm_f32_to_f16(65520.0f), 0x7C00); /* the tie past the max goes to inf */
    assert_int_equal(aglm_f32_to_f16(1e10f), 0x7C00);
    assert_int_equal(aglm_f32_to_f16(-INFINITY), 0xFC00);
    assert_int_equal(aglm_f32_to_f16(ldexpf(1, -24)), 0x0001); /* smallest subnormal */
    assert_int_equal(aglm_f32_to_f16(ldexpf(1, -25)), 0x0000); /* its half: tie to even (0) */
    assert_int_equal(aglm_f32_to_f16(ldexpf(3, -25)), 0x0002); /* 1.5 ulps: tie to even (2) */
    assert_int_equal(aglm_f32_to_f16(nextafterf(ldexpf(1, -25), 1)), 0x0001);
    assert_int_equal(aglm_f32_to_f16(ldexpf(1023, -24)), 0x03FF); /* largest subnormal */
    assert_int_equal(aglm_f32_to_f16(ldexpf(2047, -25)), 0x0400); /* rounds up into the normals */
    assert_int_equal(aglm_f32_to_f16(1e-30f), 0x0000);
    assert_int_equal(aglm_f32_to_f16(from_bits(0x00000001)), 0x0000); /* f32 subnormal */
    unsigned short qnan = aglm_f32_to_f16(NAN);
    assert_true((qnan & 0x7C00) == 0x7C00 && (qnan & 0x3FF) != 0);
    /* A float NaN whose payload is only in bits the half drops is still a NaN. */
    unsigned short low = aglm_f32_to_f16(from_bits(0x7F800001));
    assert_true((low & 0x7C00) == 0x7C00 && (low & 0x3FF) != 0);
    assert_true(aglm_f16_to_f32(0x3555) > 0.333f && aglm_f16_to_f32(0x3555) < 0.3334f);
}

static void test_bf16_every_pattern(void **state)
{
    (void)state;
    for (unsigned h = 0; h < 65536; h++) {
        float f = aglm_bf16_to_f32((unsigned short)h);
        assert_int_equal(bits(f), (uint32_t)h << 16); /* bf16 is the top half of an f32 */
        unsigned short back = aglm_f32_to_bf16(f);
        if (isnan(f)) {
            assert_true((back & 0x7F80) == 0x7F80 && (back & 0x7F) != 0);
        }
        assert_int_equal(back, h);
        if ((h & 0x7FFF) < 0x7F7F) { /* finite with a finite neighbour above */
            float lo = f, hi = aglm_bf16_to_f32((unsigned short)(h + 1));
            float mid = (float)(((double)lo + (double)hi) / 2);
            unsigned even = (h & 1) ? h + 1 : h;
            if (aglm_f32_to_bf16(mid) != even)
                fail_msg("bf16 midpoint after 0x%04x gave 0x%04x", h, aglm_f32_to_bf16(mid));
            float away = (h & 0x8000) ? -INFINITY : INFINITY;
            assert_int_equal(aglm_f32_to_bf16(nextafterf(mid, away)), h + 1);
            assert_int_equal(aglm_f32_to_bf16(nextafterf(mid, -away)), h);
        }
    }
    assert_int_equal(aglm_f32_to_bf16(1.0f), 0x3F80);
    assert_int_equal(aglm_f32_to_bf16(FLT_MAX), 0x7F80); /* rounds past the largest bf16 */
    unsigned short n = aglm_f32_to_bf16(from_bits(0x7F800001));
    assert_true((n & 0x7F80) == 0x7F80 && (n & 0x7F) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_names),   cmocka_unit_test(test_classes),
        cmocka_unit_test(test_f16_every_pattern), cmocka_unit_test(test_f16_rounds_to_nearest_even),
        cmocka_unit_test(test_f16_edges),         cmocka_unit_test(test_bf16_every_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
