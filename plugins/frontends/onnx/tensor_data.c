/* TensorProto -> aglm_tensor: dtype mapping, size checks, and the three places values live
 * (raw_data, the typed repeated fields, external files), plus sparse tensors made dense. Every
 * size is checked against what the input actually holds before anything is allocated. */
#include "onnx_frontend.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *const dtype_names[] = {
    "undefined",      "float",    "uint8",        "int8",           "uint16",
    "int16",          "int32",    "int64",        "string",         "bool",
    "float16",        "double",   "uint32",       "uint64",         "complex64",
    "complex128",     "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
    "float8e5m2fnuz", "uint4",    "int4",         "float4e2m1",     "float8e8m0",
    "uint2",          "int2"};

const char *ox_dtype_name(int64_t dt)
{
    if (dt < 0 || dt >= (int64_t)(sizeof dtype_names / sizeof *dtype_names))
        return NULL;
    return dtype_names[dt];
}

aglm_status ox_map_dtype(int64_t dt, const char *what, aglm_dtype *out)
{
    /* aglm numbers its dtypes as ONNX does, so a supported one maps to itself */
    switch (dt) {
    case AGLM_F32:
    case AGLM_U8:
    case AGLM_I8:
    case AGLM_U16:
    case AGLM_I16:
    case AGLM_I32:
    case AGLM_I64:
    case AGLM_BOOL:
    case AGLM_F16:
    case AGLM_F64:
    case AGLM_U32:
    case AGLM_U64:
    case AGLM_BF16: *out = (aglm_dtype)dt; return AGLM_OK;
    default: break;
    }
    *out = AGLM_UNDEFINED;
    const char *name = ox_dtype_name(dt);
    if (dt == 0)
        return aglm_error(AGLM_ERR_PARSE, "%s: data type is undefined (0)", what);
    if (!name)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: dtype %lld is not a known ONNX data type",
                          what, (long long)dt);
    return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: dtype %s not supported", what, name);
}

void ox_from_le(void *data, size_t n, size_t es)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    unsigned char *p = data;
    for (size_t i = 0; i < n; i++, p += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
#else
    (void)data;
    (void)n;
    (void)es;
#endif
}

/* Rank, dims and element count of a tensor whose dims come from the wire. */
static aglm_status check_dims(const int64_t *dims, size_t n_dims, const char *what, int64_t *numel)
{
    if (n_dims > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: rank %zu, more than the %d aglm supports",
                          what, n_dims, AGLM_MAX_RANK);
    int64_t n = 1;
    for (size_t i = 0; i < n_dims; i++) {
        if (dims[i] < 0)
            return aglm_error(AGLM_ERR_PARSE, "%s: dim %zu is negative (%lld)", what, i,
                              (long long)dims[i]);
        if (dims[i] && n > INT64_MAX / dims[i])
            return aglm_error(AGLM_ERR_PARSE, "%s: dims overflow a 64-bit element count", what);
        n *= dims[i];
    }
    *numel = n;
    return AGLM_OK;
}

/* Which typed field holds values of dt: 4 float, 5 int32, 7 int64, 10 double, 11 uint64. */
static int typed_field(aglm_dtype dt)
{
    switch (dt) {
    case AGLM_F32: return 4;
    case AGLM_I64: return 7;
    case AGLM_F64: return 10;
    case AGLM_U32:
    case AGLM_U64: return 11;
    default: return 5;
    }
}

static const char *field_name(int num)
{
    switch (num) {
    case 4: return "float_data";
    case 5: return "int32_data";
    case 6: return "string_data";
    case 7: return "int64_data";
    case 10: return "double_data";
    case 11: return "uint64_data";
    default: return "raw_data";
    }
}

/* The range an int32_data entry may take for dt (f16 and bf16 carry their 16 bits). */
static void int32_range(aglm_dtype dt, int64_t *lo, int64_t *hi)
{
    switch (dt) {
    case AGLM_U8:
        *lo = 0;
        *hi = UINT8_MAX;
        break;
    case AGLM_I8:
        *lo = INT8_MIN;
        *hi = INT8_MAX;
        break;
    case AGLM_U16:
    case AGLM_F16:
    case AGLM_BF16:
        *lo = 0;
        *hi = UINT16_MAX;
        break;
    case AGLM_I16:
        *lo = INT16_MIN;
        *hi = INT16_MAX;
        break;
    case AGLM_BOOL:
        *lo = 0;
        *hi = 1;
        break;
    default:
        *lo = INT32_MIN;
        *hi = INT32_MAX;
        break;
    }
}

static aglm_status fill_typed(const ox_tensor *tp, int field, const char *what, aglm_tensor *t,
                              int64_t numel)
{
    size_t n = (size_t)numel;
    switch (field) {
    case 4: memcpy(t->data, tp->float_data, n * sizeof(float)); return AGLM_OK;
    case 10: memcpy(t->data, tp->double_data, n * sizeof(double)); return AGLM_OK;
    case 7: memcpy(t->data, tp->int64_data, n * sizeof(int64_t)); return AGLM_OK;
    case 11:
        for (size_t i = 0; i < n; i++) {
            uint64_t v = (uint64_t)tp->uint64_data[i];
            if (t->dtype == AGLM_U32) {
                if (v > UINT32_MAX)
                    return aglm_error(AGLM_ERR_PARSE,
                                      "%s: uint64_data value %llu at index %zu does not fit uint32",
                                      what, (unsigned long long)v, i);
                ((uint32_t *)t->data)[i] = (uint32_t)v;
            } else {
                ((uint64_t *)t->data)[i] = v;
            }
        }
        return AGLM_OK;
    default: break;
    }
    int64_t lo, hi;
    int32_range(t->dtype, &lo, &hi);
    for (size_t i = 0; i < n; i++) {
        int64_t v = tp->int32_data[i];
        if (v < lo || v > hi)
            return aglm_error(AGLM_ERR_PARSE,
                              "%s: int32_data value %lld at index %zu does not fit %s", what,
                              (long long)v, i, ox_dtype_name(t->dtype));
        switch (t->dtype) {
        case AGLM_U8:
        case AGLM_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
        case AGLM_I8: ((int8_t *)t->data)[i] = (int8_t)v; break;
        case AGLM_U16:
        case AGLM_F16:
        case AGLM_BF16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
        case AGLM_I16: ((int16_t *)t->data)[i] = (int16_t)v; break;
        default: ((int32_t *)t->data)[i] = (int32_t)v; break;
        }
    }
    return AGLM_OK;
}

static size_t typed_count(const ox_tensor *tp, int field)
{
    switch (field) {
    case 4: return tp->n_float;
    case 5: return tp->n_int32;
    case 6: return tp->n_string;
    case 7: return tp->n_int64;
    case 10: return tp->n_double;
    default: return tp->n_uint64;
    }
}

aglm_status ox_tensor_to_aglm(const ox_env *env, const ox_tensor *tp, const char *what,
                              aglm_tensor *out)
{
    memset(out, 0, sizeof *out);
    aglm_dtype dt;
    aglm_status st;
    int64_t numel;
    if (!tp->has_dtype)
        return aglm_error(AGLM_ERR_PARSE, "%s: data_type is missing", what);
    if ((st = ox_map_dtype(tp->dtype, what, &dt)) != AGLM_OK)
        return st;
    if (tp->has_segment)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "%s: segmented tensors (TensorProto.segment) are not supported", what);
    if ((st = check_dims(tp->dims, tp->n_dims, what, &numel)) != AGLM_OK)
        return st;
    int rank = (int)tp->n_dims;
    char shape[200];
    aglm_shape_str(rank, tp->dims, shape, sizeof shape);
    size_t es = aglm_dtype_size(dt);
    if ((uint64_t)numel > SIZE_MAX / es)
        return aglm_error(AGLM_ERR_PARSE, "%s: dims %s of %s overflow the address space", what,
                          shape, ox_dtype_name(dt));
    size_t nbytes = (size_t)numel * es;

    /* exactly one place may hold the values */
    const char *sources[8];
    size_t n_sources = 0;
    static const int typed[] = {4, 5, 6, 7, 10, 11};
    int field = 0;
    if (tp->has_raw)
        sources[n_sources++] = "raw_data";
    if (tp->data_location == 1)
        sources[n_sources++] = "external data";
    for (size_t i = 0; i < sizeof typed / sizeof *typed; i++)
        if (typed_count(tp, typed[i])) {
            sources[n_sources++] = field_name(typed[i]);
            field = typed[i];
        }
    if (tp->data_location != 0 && tp->data_location != 1)
        return aglm_error(AGLM_ERR_PARSE,
                          "%s: data_location %lld is neither DEFAULT (0) nor EXTERNAL (1)", what,
                          (long long)tp->data_location);
    if (n_sources > 1)
        return aglm_error(AGLM_ERR_PARSE, "%s: values are given twice, in %s and in %s", what,
                          sources[0], sources[1]);
    if (tp->data_location == 1)
        return ox_read_external(env, tp, what, dt, rank, tp->dims, nbytes, out);
    if (tp->has_raw) {
        if (tp->raw.n != nbytes)
            return aglm_error(AGLM_ERR_PARSE, "%s: raw_data holds %zu bytes, but %s %s needs %zu",
                              what, tp->raw.n, ox_dtype_name(dt), shape, nbytes);
    } else if (field) {
        if (field != typed_field(dt))
            return aglm_error(AGLM_ERR_PARSE, "%s: %s cannot hold %s values (they go in %s)", what,
                              field_name(field), ox_dtype_name(dt), field_name(typed_field(dt)));
        size_t have = typed_count(tp, field);
        if (have != (uint64_t)numel)
            return aglm_error(AGLM_ERR_PARSE, "%s: %s holds %zu values, but %s %s needs %lld", what,
                              field_name(field), have, ox_dtype_name(dt), shape, (long long)numel);
    } else if (numel > 0) {
        return aglm_error(AGLM_ERR_PARSE, "%s: no values (%s %s needs %lld)", what,
                          ox_dtype_name(dt), shape, (long long)numel);
    }
    if ((st = aglm_tensor_alloc(out, dt, rank, tp->dims)) != AGLM_OK)
        return aglm_error_wrap(st, "%s", what);
    if (tp->has_raw) {
        if (nbytes)
            memcpy(out->data, tp->raw.p, nbytes);
        ox_from_le(out->data, (size_t)numel, es);
    } else if (field && (st = fill_typed(tp, field, what, out, numel)) != AGLM_OK) {
        aglm_tensor_free(out);
        return st;
    }
    return AGLM_OK;
}

/* Dense bytes a sparse tensor may expand to: generous for real models, yet bounded by the input
 * so that a small hostile file cannot demand gigabytes. */
static size_t sparse_limit(const ox_env *env)
{
    size_t cap = (size_t)1 << 30, len = env ? env->input_len : 0;
    if (len > (cap - ((size_t)1 << 20)) / 64)
        return cap;
    return 64 * len + ((size_t)1 << 20);
}

aglm_status ox_sparse_to_aglm(const ox_env *env, const ox_sparse *sp, const char *what,
                              aglm_tensor *out)
{
    memset(out, 0, sizeof *out);
    char sub[300];
    int64_t numel;
    aglm_status st;
    if (!sp->has_values)
        return aglm_error(AGLM_ERR_PARSE, "%s: sparse tensor has no values", what);
    if ((st = check_dims(sp->dims, sp->n_dims, what, &numel)) != AGLM_OK)
        return st;
    aglm_tensor vals, idx = {0};
    snprintf(sub, sizeof sub, "%s: values", what);
    if ((st = ox_tensor_to_aglm(env, &sp->values, sub, &vals)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(vals.dtype);
    int64_t nnz = vals.rank == 1 ? vals.dims[0] : -1;
    int rank = (int)sp->n_dims;
    char shape[200];
    aglm_shape_str(rank, sp->dims, shape, sizeof shape);
    if (nnz < 0) {
        st = aglm_error(AGLM_ERR_PARSE, "%s: sparse values must be 1-D, not rank %d", what,
                        (int)vals.rank);
        goto done;
    }
    if ((uint64_t)numel > sparse_limit(env) / es) {
        st = aglm_error(AGLM_ERR_UNSUPPORTED,
                        "%s: sparse tensor %s of %s expands past %zu bytes, the most a %zu-byte "
                        "model may expand to",
                        what, shape, ox_dtype_name(vals.dtype), sparse_limit(env),
                        env ? env->input_len : 0);
        goto done;
    }
    if (nnz > 0 && !sp->has_indices) {
        st = aglm_error(AGLM_ERR_PARSE, "%s: sparse tensor has %lld values but no indices", what,
                        (long long)nnz);
        goto done;
    }
    if (sp->has_indices) {
        snprintf(sub, sizeof sub, "%s: indices", what);
        if ((st = ox_tensor_to_aglm(env, &sp->indices, sub, &idx)) != AGLM_OK)
            goto done;
        int linear = idx.rank == 1 && idx.dims[0] == nnz;
        int coords = idx.rank == 2 && idx.dims[0] == nnz && idx.dims[1] == rank;
        if (idx.dtype != AGLM_I64 || (!linear && !coords)) {
            char is[200];
            st = aglm_error(
                AGLM_ERR_PARSE,
                "%s: indices are %s%s; %lld values of a rank-%d tensor need int64[%lld] or "
                "int64[%lld,%d]",
                what, ox_dtype_name(idx.dtype), aglm_shape_str(idx.rank, idx.dims, is, sizeof is),
                (long long)nnz, rank, (long long)nnz, (long long)nnz, rank);
            goto done;
        }
    }
    if ((st = aglm_tensor_alloc(out, vals.dtype, rank, sp->dims)) != AGLM_OK) {
        st = aglm_error_wrap(st, "%s", what);
        goto done;
    }
    const int64_t *ix = idx.data;
    for (int64_t k = 0; k < nnz; k++) {
        int64_t at = 0;
        if (idx.rank == 1) {
            at = ix[k];
        } else {
            for (int d = 0; d < rank; d++) {
                int64_t c = ix[k * rank + d];
                if (c < 0 || c >= sp->dims[d]) {
                    at = -1;
                    break;
                }
                at = at * sp->dims[d] + c;
            }
        }
        if (at < 0 || at >= numel) {
            st = aglm_error(AGLM_ERR_PARSE, "%s: index %lld of the sparse tensor lies outside %s",
                            what, (long long)k, shape);
            aglm_tensor_free(out);
            goto done;
        }
        memcpy((unsigned char *)out->data + (size_t)at * es,
               (unsigned char *)vals.data + (size_t)k * es, es);
    }
done:
    aglm_tensor_free(&vals);
    aglm_tensor_free(&idx);
    return st;
}
