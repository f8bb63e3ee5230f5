#include <stdio.h>

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
        vals[i] = t->dtype == AGLM_I64 ? ((const int64_t *)t->data)[i]
                                       : ((const int32_t *)t->data)[i];
    *count = (size_t)n;
    return AGLM_OK;
}
