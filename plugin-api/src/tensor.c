/* The tensor descriptor: allocation, copies, shapes and slow element access. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aglm/tensor.h"
#include "aglm/memplan.h"

#define ALIGNMENT 64

int64_t aglm_tensor_numel(const aglm_tensor *t)
{
    if (!t || t->rank < 0 || t->rank > AGLM_MAX_RANK)
        return -1;
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0 || __builtin_mul_overflow(n, t->dims[i], &n))
            return -1; /* not a valid shape: no count to report */
    }
    return n;
}

size_t aglm_tensor_nbytes(const aglm_tensor *t)
{
    int64_t n = aglm_tensor_numel(t);
    size_t bytes;
    if (n < 0 || __builtin_mul_overflow((uint64_t)n, aglm_dtype_size(t->dtype), &bytes))
        return 0;
    return bytes;
}

/* Fills *t: in `reserved` (capacity bytes; zeroed unless keep) when non-NULL and the tensor
 * fits, else in fresh owned zeroed memory. */
static aglm_status alloc_into(aglm_tensor *t, void *reserved, size_t capacity, int keep,
                              aglm_dtype dt, int rank, const int64_t *dims)
{
    char shape[256];
    int64_t dims_copy[AGLM_MAX_RANK];
    /* dims may point into *t, which is cleared below. */
    if (rank > 0 && rank <= AGLM_MAX_RANK && dims) {
        memcpy(dims_copy, dims, (size_t)rank * sizeof *dims);
        dims = dims_copy;
    }
    memset(t, 0, sizeof *t);
    size_t esize = aglm_dtype_size(dt);
    if (esize == 0)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "cannot allocate a tensor of dtype %s (%d)",
                          aglm_dtype_name(dt), (int)dt);
    if (rank < 0 || rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_INVALID, "tensor rank %d is outside 0..%d", rank, AGLM_MAX_RANK);
    if (rank > 0 && !dims)
        return aglm_error(AGLM_ERR_INVALID, "tensor of rank %d has no dims", rank);
    aglm_shape_str(rank, dims, shape, sizeof shape);
    uint64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return aglm_error(AGLM_ERR_INVALID, "tensor shape %s has negative dim %lld at axis %d",
                              shape, (long long)dims[i], i);
    }
    size_t bytes;
    for (int i = 0; i < rank; i++)
        if (__builtin_mul_overflow(numel, (uint64_t)dims[i], &numel))
            goto too_large;
    if (numel > INT64_MAX || __builtin_mul_overflow(numel, esize, &bytes) ||
        bytes > (size_t)PTRDIFF_MAX - ALIGNMENT)
        goto too_large;

    if (reserved && bytes <= capacity) {
        if (!keep)
            memset(reserved, 0, bytes);
        t->dtype = dt;
        t->rank = rank;
        for (int i = 0; i < rank; i++)
            t->dims[i] = dims[i];
        t->data = reserved;
        t->device = AGLM_DEVICE_CPU;
        return AGLM_OK;
    }

    /* aligned_alloc wants a multiple of the alignment; never 0, so an empty tensor still has a
     * distinct, non-NULL data pointer. */
    size_t rounded = bytes == 0 ? ALIGNMENT : (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    void *data = aligned_alloc(ALIGNMENT, rounded);
    if (!data)
        return aglm_error(AGLM_ERR_NOMEM,
                          "out of memory allocating %zu bytes for a %s tensor of shape %s", rounded,
                          aglm_dtype_name(dt), shape);
    memset(data, 0, rounded);
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->data = data;
    t->device = AGLM_DEVICE_CPU;
    t->flags = AGLM_TENSOR_OWNS_DATA;
    return AGLM_OK;

too_large:
    return aglm_error(AGLM_ERR_INVALID, "a %s tensor of shape %s is too large to allocate",
                      aglm_dtype_name(dt), shape);
}

aglm_status aglm_tensor_alloc(aglm_tensor *t, aglm_dtype dt, int rank, const int64_t *dims)
{
    /* *t is output only: callers hand in uninitialised descriptors. So the flag bits ABI 1.0
     * used to lend a buffer (2 and 4) are not read; a 1.0 plugin that sets them gets fresh
     * memory, which gives the same results. */
    if (!t)
        return aglm_error(AGLM_ERR_INVALID, "aglm_tensor_alloc: tensor is NULL");
    return alloc_into(t, NULL, 0, 0, dt, rank, dims);
}

aglm_status aglm_tensor_alloc_in(aglm_tensor *t, const aglm_region *r, aglm_dtype dt, int rank,
                                 const int64_t *dims)
{
    if (!t)
        return aglm_error(AGLM_ERR_INVALID, "aglm_tensor_alloc_in: tensor is NULL");
    if (!r || !r->data)
        return alloc_into(t, NULL, 0, 0, dt, rank, dims);
    return alloc_into(t, r->data, (size_t)r->bytes, r->no_zero, dt, rank, dims);
}

void aglm_tensor_wrap(aglm_tensor *t, aglm_dtype dt, int rank, const int64_t *dims, void *data)
{
    if (!t)
        return;
    memset(t, 0, sizeof *t);
    /* An impossible rank leaves the descriptor empty, which every consumer rejects clearly,
     * instead of copying past dims[AGLM_MAX_RANK]. */
    if (rank < 0 || rank > AGLM_MAX_RANK || (rank > 0 && !dims))
        return;
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->data = data;
    t->device = AGLM_DEVICE_CPU;
}

static const char *device_name(aglm_device d)
{
    switch (d) {
    case AGLM_DEVICE_CPU: return "cpu";
    case AGLM_DEVICE_CUDA: return "cuda";
    case AGLM_DEVICE_HIP: return "hip";
    }
    return "unknown device";
}

aglm_status aglm_tensor_copy(aglm_tensor *dst, const aglm_tensor *src)
{
    if (!dst || !src)
        return aglm_error(AGLM_ERR_INVALID, "aglm_tensor_copy: %s is NULL",
                          dst ? "source" : "destination");
    aglm_status st = AGLM_ERR_INVALID;
    aglm_tensor tmp;
    if (src->device != AGLM_DEVICE_CPU) {
        st = aglm_error(AGLM_ERR_UNSUPPORTED,
                        "aglm_tensor_copy: source tensor is on %s; only cpu tensors can be copied",
                        device_name(src->device));
        goto fail;
    }
    st = aglm_tensor_alloc(&tmp, src->dtype, src->rank, src->dims);
    if (st != AGLM_OK) {
        st = aglm_error_wrap(st, "aglm_tensor_copy");
        goto fail;
    }
    size_t bytes = aglm_tensor_nbytes(&tmp);
    if (bytes > 0 && !src->data) {
        aglm_tensor_free(&tmp);
        st = aglm_error(AGLM_ERR_INVALID, "aglm_tensor_copy: source tensor has no data");
        goto fail;
    }
    if (bytes > 0)
        memcpy(tmp.data, src->data, bytes);
    /* Copying a tensor onto itself replaces its storage: release the old owned buffer. */
    if (dst == src && (src->flags & AGLM_TENSOR_OWNS_DATA) && src->device == AGLM_DEVICE_CPU)
        free(src->data);
    *dst = tmp;
    return AGLM_OK;

fail:
    /* Same contract as aglm_tensor_alloc: an empty destination, unless it is the source. */
    if (dst != src)
        memset(dst, 0, sizeof *dst);
    return st;
}

void aglm_tensor_free(aglm_tensor *t)
{
    if (!t)
        return;
    if ((t->flags & AGLM_TENSOR_OWNS_DATA) && t->device == AGLM_DEVICE_CPU)
        free(t->data);
    memset(t, 0, sizeof *t);
}

char *aglm_shape_str(int rank, const int64_t *dims, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    size_t len = 0;
    buf[0] = '\0';
    /* Appends while it fits; snprintf truncates and terminates the last piece. */
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (len < n) {                                                                             \
            int k_ = snprintf(buf + len, n - len, __VA_ARGS__);                                    \
            len = k_ < 0 ? n : len + (size_t)k_;                                                   \
        }                                                                                          \
    } while (0)
    APPEND("[");
    if (rank > AGLM_MAX_RANK || rank < 0 || (rank > 0 && !dims))
        APPEND("rank %d", rank);
    else
        for (int i = 0; i < rank; i++)
            APPEND("%s%lld", i ? "," : "", (long long)dims[i]);
    APPEND("]");
#undef APPEND
    return buf;
}

int aglm_tensor_same_shape(const aglm_tensor *a, const aglm_tensor *b)
{
    if (!a || !b || a->rank != b->rank || a->rank < 0 || a->rank > AGLM_MAX_RANK)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

static int readable(const aglm_tensor *t, int64_t i)
{
    if (!t || !t->data || t->device != AGLM_DEVICE_CPU || i < 0)
        return 0;
    return i < aglm_tensor_numel(t);
}

double aglm_tensor_get_f64(const aglm_tensor *t, int64_t i)
{
    if (!readable(t, i))
        return NAN;
    const unsigned char *p = t->data;
    switch (t->dtype) {
#define GET(DT, T)                                                                                 \
    case DT: {                                                                                     \
        T v;                                                                                       \
        memcpy(&v, p + (size_t)i * sizeof v, sizeof v);                                            \
        return (double)v;                                                                          \
    }
        GET(AGLM_F32, float)
        GET(AGLM_F64, double)
        GET(AGLM_I8, int8_t)
        GET(AGLM_U8, uint8_t)
        GET(AGLM_I16, int16_t)
        GET(AGLM_U16, uint16_t)
        GET(AGLM_I32, int32_t)
        GET(AGLM_U32, uint32_t)
        GET(AGLM_I64, int64_t)
        GET(AGLM_U64, uint64_t)
#undef GET
    case AGLM_BOOL: return p[i] ? 1.0 : 0.0;
    case AGLM_F16:
    case AGLM_BF16: {
        uint16_t h;
        memcpy(&h, p + (size_t)i * 2, 2);
        return t->dtype == AGLM_F16 ? aglm_f16_to_f32(h) : aglm_bf16_to_f32(h);
    }
    default: return NAN;
    }
}

/* Converts to an integer type the way a C cast does (toward zero), but saturating at the type's
 * range and mapping NaN to 0: an out-of-range cast is undefined behaviour in C. `hi_excl` is the
 * type's maximum + 1, exact as a double. */
static double clamp_trunc(double v, double lo, double hi_excl, int *at_max)
{
    *at_max = 0;
    if (isnan(v))
        return 0;
    if (v >= hi_excl) {
        *at_max = 1;
        return 0;
    }
    if (v < lo)
        return lo;
    return trunc(v);
}

void aglm_tensor_set_f64(aglm_tensor *t, int64_t i, double v)
{
    if (!readable(t, i))
        return;
    unsigned char *p = t->data;
    int at_max;
    switch (t->dtype) {
#define SET_INT(DT, T, LO, HI_EXCL, MAX)                                                           \
    case DT: {                                                                                     \
        double c = clamp_trunc(v, LO, HI_EXCL, &at_max);                                           \
        T x = at_max ? (T)(MAX) : (T)c;                                                            \
        memcpy(p + (size_t)i * sizeof x, &x, sizeof x);                                            \
        return;                                                                                    \
    }
        SET_INT(AGLM_I8, int8_t, -128.0, 128.0, INT8_MAX)
        SET_INT(AGLM_U8, uint8_t, 0.0, 256.0, UINT8_MAX)
        SET_INT(AGLM_I16, int16_t, -32768.0, 32768.0, INT16_MAX)
        SET_INT(AGLM_U16, uint16_t, 0.0, 65536.0, UINT16_MAX)
        SET_INT(AGLM_I32, int32_t, -2147483648.0, 2147483648.0, INT32_MAX)
        SET_INT(AGLM_U32, uint32_t, 0.0, 4294967296.0, UINT32_MAX)
        SET_INT(AGLM_I64, int64_t, -9223372036854775808.0, 9223372036854775808.0, INT64_MAX)
        SET_INT(AGLM_U64, uint64_t, 0.0, 18446744073709551616.0, UINT64_MAX)
#undef SET_INT
    case AGLM_F32: {
        float x = (float)v; /* out-of-range doubles become ±inf, as in IEEE */
        memcpy(p + (size_t)i * sizeof x, &x, sizeof x);
        return;
    }
    case AGLM_F64: memcpy(p + (size_t)i * sizeof v, &v, sizeof v); return;
    case AGLM_F16:
    case AGLM_BF16: {
        uint16_t h = t->dtype == AGLM_F16 ? aglm_f32_to_f16((float)v) : aglm_f32_to_bf16((float)v);
        memcpy(p + (size_t)i * 2, &h, 2);
        return;
    }
    case AGLM_BOOL:
        p[i] = v != 0; /* NaN is true, as in NumPy */
        return;
    default: return;
    }
}
