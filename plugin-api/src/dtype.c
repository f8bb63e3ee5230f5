/* Element types: sizes, names, and the half-precision conversions. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "aglm/dtype.h"

typedef struct dtype_info {
    aglm_dtype dt;
    size_t size;
    const char *name;      /* ours: IR text, YAML, messages */
    const char *onnx_name; /* TensorProto.DataType spelling, lower-case */
} dtype_info;

static const dtype_info infos[] = {
    {AGLM_F32, 4, "f32", "float"},      {AGLM_F16, 2, "f16", "float16"},
    {AGLM_BF16, 2, "bf16", "bfloat16"}, {AGLM_F64, 8, "f64", "double"},
    {AGLM_I8, 1, "i8", "int8"},         {AGLM_U8, 1, "u8", "uint8"},
    {AGLM_I16, 2, "i16", "int16"},      {AGLM_U16, 2, "u16", "uint16"},
    {AGLM_I32, 4, "i32", "int32"},      {AGLM_U32, 4, "u32", "uint32"},
    {AGLM_I64, 8, "i64", "int64"},      {AGLM_U64, 8, "u64", "uint64"},
    {AGLM_BOOL, 1, "bool", "bool"},
};

static const dtype_info *find(aglm_dtype dt)
{
    for (size_t i = 0; i < sizeof infos / sizeof infos[0]; i++)
        if (infos[i].dt == dt)
            return &infos[i];
    return NULL;
}

size_t aglm_dtype_size(aglm_dtype dt)
{
    const dtype_info *d = find(dt);
    return d ? d->size : 0;
}

const char *aglm_dtype_name(aglm_dtype dt)
{
    const dtype_info *d = find(dt);
    return d ? d->name : "?";
}

aglm_dtype aglm_dtype_from_name(const char *name)
{
    /* NumPy's spellings too, since users type them in scripts. */
    static const struct {
        const char *name;
        aglm_dtype dt;
    } aliases[] = {{"float32", AGLM_F32}, {"float64", AGLM_F64}};
    if (!name)
        return AGLM_UNDEFINED;
    /* Case-insensitive: ONNX's enum spells them FLOAT, INT64. */
    for (size_t i = 0; i < sizeof infos / sizeof infos[0]; i++)
        if (strcasecmp(name, infos[i].name) == 0 || strcasecmp(name, infos[i].onnx_name) == 0)
            return infos[i].dt;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(name, aliases[i].name) == 0)
            return aliases[i].dt;
    return AGLM_UNDEFINED;
}

int aglm_dtype_is_float(aglm_dtype dt)
{
    return dt == AGLM_F16 || dt == AGLM_BF16 || dt == AGLM_F32 || dt == AGLM_F64;
}

int aglm_dtype_is_int(aglm_dtype dt)
{
    switch (dt) {
    case AGLM_I8:
    case AGLM_U8:
    case AGLM_I16:
    case AGLM_U16:
    case AGLM_I32:
    case AGLM_U32:
    case AGLM_I64:
    case AGLM_U64: return 1;
    default: return 0;
    }
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float aglm_f16_to_f32(unsigned short h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    if (exp == 0x1F) /* inf, or NaN with its payload kept */
        return bits_f32(sign | 0x7F800000u | (mant << 13));
    if (exp != 0)
        return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0)
        return bits_f32(sign);
    /* Subnormal half: every one is a normal float; shift the leading 1 into the implicit bit. */
    uint32_t e = 113;
    while (!(mant & 0x400u)) {
        mant <<= 1;
        e--;
    }
    return bits_f32(sign | (e << 23) | ((mant & 0x3FFu) << 13));
}

/* Rounds m >> shift to nearest, ties to even. */
static uint32_t shift_rne(uint32_t m, unsigned shift)
{
    uint32_t r = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u)))
        r++;
    return r;
}

unsigned short aglm_f32_to_f16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) {
        /* Keep the top payload bits so a half NaN survives f16->f32->f16 unchanged; force a
         * mantissa bit when they are all zero, or the result would read as infinity. */
        uint32_t payload = (ax >> 13) & 0x3FFu;
        return (unsigned short)(sign | 0x7C00u | (payload ? payload : 0x200u));
    }
    if (ax >= 0x477FF000u) /* >= 65520: rounds past the largest half (65504) */
        return (unsigned short)(sign | 0x7C00u);
    if (ax >= 0x38800000u) /* >= 2^-14: a normal half; a mantissa carry bumps the exponent */
        return (unsigned short)(sign | shift_rne(ax - 0x38000000u, 13));
    if (ax <= 0x33000000u) /* <= 2^-25: half the smallest subnormal or less, ties to zero */
        return sign;
    uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
    unsigned e = ax >> 23;
    return (unsigned short)(sign | shift_rne(m, 126u - e));
}

float aglm_bf16_to_f32(unsigned short h)
{
    return bits_f32((uint32_t)h << 16);
}

unsigned short aglm_f32_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) {
        /* NaN: truncate the payload; force a mantissa bit if truncation left none. */
        uint16_t h = (uint16_t)(x >> 16);
        return (unsigned short)((h & 0x7Fu) ? h : (h | 0x40u));
    }
    x += 0x7FFFu + ((x >> 16) & 1u);
    return (unsigned short)(x >> 16);
}
