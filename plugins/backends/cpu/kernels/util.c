/* Helpers kernels share (kernels.h): dtype and axis checks, shape strings, integer inputs,
 * f32 views of other float dtypes, per-element access for slow paths, mapped copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static void dtype_list(uint32_t mask, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int dt = 0; dt < 32 && used < n; dt++) {
        if (!(mask & CPU_DT(dt)))
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "",
                         aglm_dtype_name((aglm_dtype)dt));
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

aglm_status cpu_check_dtype(const cpu_kctx *k, const aglm_tensor *t, const char *what,
                            uint32_t mask)
{
    if (mask == CPU_ANY || (t->dtype < 32 && (mask & CPU_DT(t->dtype))))
        return AGLM_OK;
    char list[160];
    dtype_list(mask, list, sizeof list);
    return aglm_error(AGLM_ERR_UNSUPPORTED, "%s has dtype %s; %s takes %s", what,
                      aglm_dtype_name(t->dtype), aglm_node_op(k->node), list);
}

aglm_status cpu_check_same_dtype(const aglm_tensor *a, const char *what_a, const aglm_tensor *b,
                                 const char *what_b)
{
    if (a->dtype == b->dtype)
        return AGLM_OK;
    return aglm_error(AGLM_ERR_TYPE, "%s is %s but %s is %s", what_a, aglm_dtype_name(a->dtype),
                      what_b, aglm_dtype_name(b->dtype));
}

aglm_status cpu_norm_axis(int64_t axis, int rank, int extra, const char *what, int *out)
{
    int64_t hi = (int64_t)rank + extra;
    if (axis < -(int64_t)rank || axis >= hi)
        return aglm_error(AGLM_ERR_INVALID, "%s %lld is out of range [%lld, %lld] for rank %d",
                          what, (long long)axis, (long long)-rank, (long long)hi - 1, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return AGLM_OK;
}

int64_t cpu_dims_prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

const char *cpu_shape(const aglm_tensor *t, char *buf, size_t n)
{
    return aglm_shape_str(t->rank, t->dims, buf, n);
}

aglm_status cpu_read_ints(const aglm_tensor *t, const char *what, int64_t *vals, size_t max,
                          size_t *count)
{
    if (t->dtype != AGLM_I64 && t->dtype != AGLM_I32)
        return aglm_error(AGLM_ERR_TYPE, "%s must be i64, got %s", what, aglm_dtype_name(t->dtype));
    if (t->rank > 1)
        return aglm_error(AGLM_ERR_SHAPE, "%s must be 1-D, got rank %d", what, (int)t->rank);
    int64_t n = aglm_tensor_numel(t);
    if ((size_t)n > max)
        return aglm_error(AGLM_ERR_SHAPE, "%s has %lld elements, at most %zu allowed", what,
                          (long long)n, max);
    for (int64_t i = 0; i < n; i++)
        vals[i] =
            t->dtype == AGLM_I64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
    *count = (size_t)n;
    return AGLM_OK;
}

/* v as an int64, saturated and NaN -> 0: a plain cast is undefined outside int64's range. */
static int64_t sat_i64(double v)
{
    if (v != v)
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

double cpu_get_f(const void *data, aglm_dtype dt, int64_t i)
{
    switch (dt) {
    case AGLM_F32: return ((const float *)data)[i];
    case AGLM_F64: return ((const double *)data)[i];
    case AGLM_F16: return aglm_f16_to_f32(((const uint16_t *)data)[i]);
    case AGLM_BF16: return aglm_bf16_to_f32(((const uint16_t *)data)[i]);
    case AGLM_U64: return (double)((const uint64_t *)data)[i];
    default: return (double)cpu_get_i(data, dt, i);
    }
}

void cpu_set_f(void *data, aglm_dtype dt, int64_t i, double v)
{
    switch (dt) {
    case AGLM_F32: ((float *)data)[i] = (float)v; break;
    case AGLM_F64: ((double *)data)[i] = v; break;
    case AGLM_F16: ((uint16_t *)data)[i] = aglm_f32_to_f16((float)v); break;
    case AGLM_BF16: ((uint16_t *)data)[i] = aglm_f32_to_bf16((float)v); break;
    case AGLM_BOOL: ((uint8_t *)data)[i] = v != 0; break;
    default: cpu_set_i(data, dt, i, sat_i64(v)); break;
    }
}

int64_t cpu_get_i(const void *data, aglm_dtype dt, int64_t i)
{
    switch (dt) {
    case AGLM_I8: return ((const int8_t *)data)[i];
    case AGLM_U8:
    case AGLM_BOOL: return ((const uint8_t *)data)[i];
    case AGLM_I16: return ((const int16_t *)data)[i];
    case AGLM_U16: return ((const uint16_t *)data)[i];
    case AGLM_I32: return ((const int32_t *)data)[i];
    case AGLM_U32: return ((const uint32_t *)data)[i];
    case AGLM_I64:
    case AGLM_U64: return ((const int64_t *)data)[i];
    default: return aglm_dtype_is_float(dt) ? sat_i64(cpu_get_f(data, dt, i)) : 0;
    }
}

void cpu_set_i(void *data, aglm_dtype dt, int64_t i, int64_t v)
{
    switch (dt) {
    case AGLM_I8: ((int8_t *)data)[i] = (int8_t)v; break;
    case AGLM_U8: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case AGLM_BOOL: ((uint8_t *)data)[i] = v != 0; break;
    case AGLM_I16: ((int16_t *)data)[i] = (int16_t)v; break;
    case AGLM_U16: ((uint16_t *)data)[i] = (uint16_t)v; break;
    case AGLM_I32: ((int32_t *)data)[i] = (int32_t)v; break;
    case AGLM_U32: ((uint32_t *)data)[i] = (uint32_t)v; break;
    case AGLM_I64:
    case AGLM_U64: ((int64_t *)data)[i] = v; break;
    default:
        if (aglm_dtype_is_float(dt))
            cpu_set_f(data, dt, i, (double)v);
        break;
    }
}

aglm_status cpu_norm_index(int64_t v, int64_t dim, const char *what, int64_t *out)
{
    if (v < -dim || v >= dim)
        return aglm_error(AGLM_ERR_INVALID, "%s %lld is out of range [%lld, %lld]", what,
                          (long long)v, (long long)-dim, (long long)dim - 1);
    *out = v < 0 ? v + dim : v;
    return AGLM_OK;
}

const float *cpu_f32_view(const aglm_tensor *t, float **scratch)
{
    *scratch = NULL;
    if (t->dtype == AGLM_F32)
        return t->data;
    if (t->dtype != AGLM_F16 && t->dtype != AGLM_BF16 && t->dtype != AGLM_F64) {
        aglm_error(AGLM_ERR_TYPE, "expected a float tensor, got %s", aglm_dtype_name(t->dtype));
        return NULL;
    }
    int64_t n = aglm_tensor_numel(t);
    float *buf = malloc(n > 0 ? (size_t)n * sizeof *buf : 1);
    if (!buf) {
        aglm_error(AGLM_ERR_NOMEM, "out of memory converting %lld elements to f32", (long long)n);
        return NULL;
    }
    const unsigned short *h = t->data;
    for (int64_t i = 0; i < n; i++)
        buf[i] = t->dtype == AGLM_F64   ? (float)((const double *)t->data)[i]
                 : t->dtype == AGLM_F16 ? aglm_f16_to_f32(h[i])
                                        : aglm_bf16_to_f32(h[i]);
    *scratch = buf;
    return buf;
}

void cpu_f32_store(aglm_tensor *out, const float *src)
{
    int64_t n = aglm_tensor_numel(out);
    unsigned short *h = out->data;
    for (int64_t i = 0; i < n; i++) {
        switch (out->dtype) {
        case AGLM_F32: ((float *)out->data)[i] = src[i]; break;
        case AGLM_F64: ((double *)out->data)[i] = src[i]; break;
        case AGLM_F16: h[i] = aglm_f32_to_f16(src[i]); break;
        case AGLM_BF16: h[i] = aglm_f32_to_bf16(src[i]); break;
        default: return;
        }
    }
}

typedef struct mapped_job {
    const aglm_tensor *x;
    aglm_tensor *y;
    const int64_t *const *maps;
    const void *fill;
    size_t es;
    int contiguous; /* the last map is a run of consecutive indices */
} mapped_job;

#define MAPPED_ROW(T)                                                                              \
    for (int64_t i = 0; i < inner; i++)                                                            \
        if (last[i] >= 0)                                                                          \
    ((T *)dst)[i] = ((const T *)src)[last[i]]

/* Rows [b, e) of y, a row being its innermost dim. */
static void mapped_rows(void *ctx, size_t b, size_t e, int worker)
{
    (void)worker;
    const mapped_job *j = ctx;
    int r = j->y->rank;
    int64_t inner = j->y->dims[r - 1];
    const int64_t *last = j->maps[r - 1];
    size_t es = j->es;
    for (size_t row = b; row < e; row++) {
        int64_t rem = (int64_t)row, off = 0, stride = j->x->dims[r - 1];
        int padded = 0;
        for (int d = r - 2; d >= 0; d--) {
            int64_t src = j->maps[d][rem % j->y->dims[d]];
            rem /= j->y->dims[d];
            if (src < 0)
                padded = 1;
            off += src * stride;
            stride *= j->x->dims[d];
        }
        char *dst = (char *)j->y->data + row * (size_t)inner * es;
        if (padded) {
            for (int64_t i = 0; j->fill && i < inner; i++)
                memcpy(dst + (size_t)i * es, j->fill, es);
            continue;
        }
        const char *src = (const char *)j->x->data + (size_t)off * es;
        if (j->contiguous) {
            memcpy(dst, src + (size_t)last[0] * es, (size_t)inner * es);
            continue;
        }
        if (j->fill) {
            for (int64_t i = 0; i < inner; i++)
                memcpy(dst + (size_t)i * es, last[i] >= 0 ? src + (size_t)last[i] * es : j->fill,
                       es);
            continue;
        }
        switch (es) { /* the usual element sizes as typed loads, the rest by memcpy */
        case 1: MAPPED_ROW(uint8_t); break;
        case 2: MAPPED_ROW(uint16_t); break;
        case 4: MAPPED_ROW(uint32_t); break;
        case 8: MAPPED_ROW(uint64_t); break;
        default:
            for (int64_t i = 0; i < inner; i++)
                if (last[i] >= 0)
                    memcpy(dst + (size_t)i * es, src + (size_t)last[i] * es, es);
        }
    }
}

void cpu_copy_mapped(cpu_pool *pool, const aglm_tensor *x, aglm_tensor *y,
                     const int64_t *const *maps, const void *fill)
{
    int64_t n = aglm_tensor_numel(y);
    if (n == 0)
        return;
    size_t es = aglm_dtype_size(y->dtype);
    if (y->rank == 0) {
        memcpy(y->data, x->data, es);
        return;
    }
    int r = y->rank;
    int64_t inner = y->dims[r - 1];
    mapped_job job = {x, y, maps, fill, es, 1};
    for (int64_t i = 0; i < inner && job.contiguous; i++)
        job.contiguous = maps[r - 1][i] >= 0 && maps[r - 1][i] == maps[r - 1][0] + i;
    size_t rows = (size_t)(n / inner);
    size_t grain = inner >= 4096 ? 1 : (size_t)(4096 / inner);
    cpu_parallel_for(pool, rows, grain, mapped_rows, &job);
}
