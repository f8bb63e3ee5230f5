/* Cast and CastLike between every numeric dtype and bool, and BitCast. Integer to integer wraps
 * (two's complement, as C and NumPy do); float to integer truncates toward zero and saturates at
 * the type's range, with NaN giving 0 (ONNX leaves out-of-range casts undefined; saturating keeps
 * them defined); any value to bool is "not zero". */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#define CAST_TYPES                                                                                 \
    (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16) |                  \
     CPU_DT(AGLM_I8) | CPU_DT(AGLM_U8) | CPU_DT(AGLM_I16) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_I32) |  \
     CPU_DT(AGLM_U32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U64) | CPU_DT(AGLM_BOOL))

static double load_float(const void *p, aglm_dtype dt, int64_t i)
{
    switch (dt) {
    case AGLM_F16: return aglm_f16_to_f32(((const uint16_t *)p)[i]);
    case AGLM_BF16: return aglm_bf16_to_f32(((const uint16_t *)p)[i]);
    case AGLM_F32: return ((const float *)p)[i];
    default: return ((const double *)p)[i];
    }
}

/* The integer's two's complement bits, sign-extended for signed types. */
static uint64_t load_int(const void *p, aglm_dtype dt, int64_t i)
{
    switch (dt) {
    case AGLM_I8: return (uint64_t)(int64_t)((const int8_t *)p)[i];
    case AGLM_U8:
    case AGLM_BOOL: return ((const uint8_t *)p)[i];
    case AGLM_I16: return (uint64_t)(int64_t)((const int16_t *)p)[i];
    case AGLM_U16: return ((const uint16_t *)p)[i];
    case AGLM_I32: return (uint64_t)(int64_t)((const int32_t *)p)[i];
    case AGLM_U32: return ((const uint32_t *)p)[i];
    default: return ((const uint64_t *)p)[i];
    }
}

/* v rounded to f32 with round-to-odd: a second rounding of the result to a type of at most 22
 * significant bits (f16, bf16) then gives what rounding v directly would (no double rounding). */
static float to_f32_odd(double v)
{
    float f = (float)v;
    if ((double)f == v || isnan(v))
        return f;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if (fabs((double)f) > fabs(v))
        bits--; /* (float)v rounded away from zero: step back toward it */
    bits |= 1;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void store_float(void *p, aglm_dtype dt, int64_t i, double v)
{
    switch (dt) {
    case AGLM_F16: ((uint16_t *)p)[i] = aglm_f32_to_f16(to_f32_odd(v)); break;
    case AGLM_BF16: ((uint16_t *)p)[i] = aglm_f32_to_bf16(to_f32_odd(v)); break;
    case AGLM_F32: ((float *)p)[i] = (float)v; break;
    default: ((double *)p)[i] = v; break;
    }
}

/* Stores the low bytes of `bits` (integer dtypes wrap). */
static void store_int(void *p, aglm_dtype dt, int64_t i, uint64_t bits)
{
    switch (aglm_dtype_size(dt)) {
    case 1: ((uint8_t *)p)[i] = (uint8_t)bits; break;
    case 2: ((uint16_t *)p)[i] = (uint16_t)bits; break;
    case 4: ((uint32_t *)p)[i] = (uint32_t)bits; break;
    default: ((uint64_t *)p)[i] = bits; break;
    }
}

/* A float converted to an integer dtype: truncated, saturated, NaN -> 0. */
static uint64_t float_to_int(double v, aglm_dtype dt)
{
    if (isnan(v))
        return 0;
    if (dt == AGLM_U64) {
        if (v <= 0.0)
            return 0;
        return v >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)v;
    }
    double lo, hi;
    switch (dt) {
    case AGLM_I8:
        lo = INT8_MIN;
        hi = INT8_MAX;
        break;
    case AGLM_U8:
        lo = 0;
        hi = UINT8_MAX;
        break;
    case AGLM_I16:
        lo = INT16_MIN;
        hi = INT16_MAX;
        break;
    case AGLM_U16:
        lo = 0;
        hi = UINT16_MAX;
        break;
    case AGLM_I32:
        lo = INT32_MIN;
        hi = INT32_MAX;
        break;
    case AGLM_U32:
        lo = 0;
        hi = UINT32_MAX;
        break;
    default:
        lo = -9223372036854775808.0;
        hi = 9223372036854775807.0;
        break;
    }
    if (v <= lo)
        return (uint64_t)(int64_t)lo;
    if (v >= hi)
        return dt == AGLM_I64 ? (uint64_t)INT64_MAX : (uint64_t)(int64_t)hi;
    return (uint64_t)(int64_t)v;
}

static aglm_status cast_to(const cpu_kctx *k, const aglm_tensor *x, aglm_dtype to, aglm_tensor *out)
{
    aglm_status st = cpu_check_dtype(k, x, "input", CAST_TYPES);
    if (st != AGLM_OK)
        return st;
    if ((unsigned)to >= 32 || !(CAST_TYPES & CPU_DT(to)))
        return aglm_error(AGLM_ERR_UNSUPPORTED, "cast to dtype %d (%s) is not supported", (int)to,
                          aglm_dtype_name(to));
    st = cpu_alloc(k, &out[0], to, x->rank, x->dims);
    if (st != AGLM_OK)
        return st;
    int64_t n = aglm_tensor_numel(x);
    int from_float = aglm_dtype_is_float(x->dtype), to_float = aglm_dtype_is_float(to);
    void *y = out[0].data;
    for (int64_t i = 0; i < n; i++) {
        if (from_float) {
            double v = load_float(x->data, x->dtype, i);
            if (to_float)
                store_float(y, to, i, v);
            else if (to == AGLM_BOOL)
                ((uint8_t *)y)[i] = v != 0.0;
            else
                store_int(y, to, i, float_to_int(v, to));
        } else {
            uint64_t bits = load_int(x->data, x->dtype, i);
            if (to_float)
                store_float(y, to, i, x->dtype == AGLM_U64 ? (double)bits : (double)(int64_t)bits);
            else if (to == AGLM_BOOL)
                ((uint8_t *)y)[i] = bits != 0;
            else
                store_int(y, to, i, bits);
        }
    }
    return AGLM_OK;
}

static aglm_status k_cast(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    if (!aglm_node_attr(k->node, "to"))
        return aglm_error(AGLM_ERR_INVALID, "attribute to is missing");
    return cast_to(k, in[0], (aglm_dtype)aglm_node_get_int(k->node, "to", 0), out);
}

/* CastLike: to input 1's dtype (its values are not read). */
static aglm_status k_cast_like(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    return cast_to(k, in[0], in[1]->dtype, out);
}

/* BitCast (opset 26): the same bytes read as another dtype of the same width. */
static aglm_status k_bit_cast(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const aglm_tensor *x = in[0];
    if (!aglm_node_attr(k->node, "to"))
        return aglm_error(AGLM_ERR_INVALID, "attribute to is missing");
    int64_t to = aglm_node_get_int(k->node, "to", 0);
    if (to < 0 || to >= 32 || !(CAST_TYPES & CPU_DT(to)))
        return aglm_error(AGLM_ERR_UNSUPPORTED, "bitcast to dtype %lld is not supported",
                          (long long)to);
    if (aglm_dtype_size((aglm_dtype)to) != aglm_dtype_size(x->dtype))
        return aglm_error(AGLM_ERR_TYPE, "bitcast from %s to %s changes the element width",
                          aglm_dtype_name(x->dtype), aglm_dtype_name((aglm_dtype)to));
    aglm_status st = cpu_alloc(k, &out[0], (aglm_dtype)to, x->rank, x->dims);
    if (st != AGLM_OK)
        return st;
    if (aglm_tensor_nbytes(x))
        memcpy(out[0].data, x->data, aglm_tensor_nbytes(x));
    if (to == AGLM_BOOL) {
        /* a bool is 0 or 1: any other byte reads as true */
        uint8_t *b = out[0].data;
        for (int64_t i = 0; i < aglm_tensor_numel(x); i++)
            b[i] = b[i] != 0;
    }
    return AGLM_OK;
}

const cpu_kernel cpu_cast_kernels[] = {
    {"Cast", CAST_TYPES, k_cast},
    {"CastLike", CAST_TYPES, k_cast_like},
    {"BitCast", CAST_TYPES, k_bit_cast},
    {NULL, 0, NULL},
};
