/* MaxPool (with the optional Indices output), AveragePool, GlobalAveragePool, GlobalMaxPool,
 * each over 1 to 3 spatial dims, one (image, channel) plane per parallel task. */
#include <float.h>
#include <math.h>

#include "window.h"

typedef struct pool_job {
    const cpu_window *w;
    const float *x;
    float *y;
    int64_t *indices;       /* MaxPool's second output, or NULL */
    int storage_order;      /* 1: indices count the spatial dims column-major */
    int count_include_pad;  /* AveragePool */
} pool_job;

/* Flat index of (id, ih, iw) inside its plane, as MaxPool's Indices reports it. */
static int64_t spatial_index(const cpu_window *w, int64_t id, int64_t ih, int64_t iw, int order)
{
    if (!order)
        return (id * w->in[1] + ih) * w->in[2] + iw;
    return id + ih * w->in[0] + iw * w->in[0] * w->in[1];
}

static void max_planes(void *ctx, size_t b, size_t e, int worker)
{
    const pool_job *j = ctx;
    const cpu_window *w = j->w;
    int64_t in_size = cpu_window_in_size(w), out_size = cpu_window_out_size(w);
    for (size_t plane = b; plane < e; plane++) {
        const float *x = j->x + (int64_t)plane * in_size;
        float *y = j->y + (int64_t)plane * out_size;
        int64_t *ind = j->indices ? j->indices + (int64_t)plane * out_size : NULL;
        int64_t o = 0;
        for (int64_t od = 0; od < w->out[0]; od++)
            for (int64_t oh = 0; oh < w->out[1]; oh++)
                for (int64_t ow = 0; ow < w->out[2]; ow++, o++) {
                    /* A window entirely in padding yields the lowest float and index -1. */
                    float best = -FLT_MAX;
                    int64_t at = -1;
                    for (int64_t kd = 0; kd < w->k[0]; kd++) {
                        int64_t id = od * w->s[0] - w->pb[0] + kd * w->d[0];
                        if (id < 0 || id >= w->in[0])
                            continue;
                        for (int64_t kh = 0; kh < w->k[1]; kh++) {
                            int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];
                            if (ih < 0 || ih >= w->in[1])
                                continue;
                            for (int64_t kw = 0; kw < w->k[2]; kw++) {
                                int64_t iw = ow * w->s[2] - w->pb[2] + kw * w->d[2];
                                if (iw < 0 || iw >= w->in[2])
                                    continue;
                                float v = x[(id * w->in[1] + ih) * w->in[2] + iw];
                                /* The first maximum wins; a NaN is taken if it comes first. */
                                if (at < 0 || v > best || (isnan(v) && !isnan(best))) {
                                    best = v;
                                    at = spatial_index(w, id, ih, iw, j->storage_order);
                                }
                            }
                        }
                    }
                    y[o] = best;
                    if (ind)
                        ind[o] = at < 0 ? -1 : (int64_t)plane * in_size + at;
                }
    }
}

/* Taps of a window along one axis that fall in [lo, hi). */
static int64_t taps_in(const cpu_window *w, int axis, int64_t o, int64_t lo, int64_t hi)
{
    int64_t n = 0;
    for (int64_t t = 0; t < w->k[axis]; t++) {
        int64_t i = o * w->s[axis] - w->pb[axis] + t * w->d[axis];
        n += i >= lo && i < hi;
    }
    return n;
}

static void avg_planes(void *ctx, size_t b, size_t e, int worker)
{
    const pool_job *j = ctx;
    const cpu_window *w = j->w;
    int64_t in_size = cpu_window_in_size(w), out_size = cpu_window_out_size(w);
    for (size_t plane = b; plane < e; plane++) {
        const float *x = j->x + (int64_t)plane * in_size;
        float *y = j->y + (int64_t)plane * out_size;
        int64_t o = 0;
        for (int64_t od = 0; od < w->out[0]; od++)
            for (int64_t oh = 0; oh < w->out[1]; oh++)
                for (int64_t ow = 0; ow < w->out[2]; ow++, o++) {
                    float sum = 0.0f;
                    for (int64_t kd = 0; kd < w->k[0]; kd++) {
                        int64_t id = od * w->s[0] - w->pb[0] + kd * w->d[0];
                        if (id < 0 || id >= w->in[0])
                            continue;
                        for (int64_t kh = 0; kh < w->k[1]; kh++) {
                            int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];
                            if (ih < 0 || ih >= w->in[1])
                                continue;
                            for (int64_t kw = 0; kw < w->k[2]; kw++) {
                                int64_t iw = ow * w->s[2] - w->pb[2] + kw * w->d[2];
                                if (iw >= 0 && iw < w->in[2])
                                    sum += x[(id * w->in[1] + ih) * w->in[2] + iw];
                            }
                        }
                    }
                    /* The divisor counts real elements, or with count_include_pad also the
                     * explicit padding, but never the overhang ceil_mode adds past it (as
                     * PyTorch and ONNX Runtime do). */
                    int64_t count = 1;
                    int64_t pos[3] = {od, oh, ow};
                    for (int a = 0; a < CPU_WINDOW_DIMS; a++) {
                        int64_t lo = j->count_include_pad ? -w->pb[a] : 0;
                        int64_t hi = j->count_include_pad ? w->in[a] + w->pe[a] : w->in[a];
                        count *= taps_in(w, a, pos[a], lo, hi);
                    }
                    y[o] = count > 0 ? sum / (float)count : NAN;
                }
    }
}

static aglm_status pool_common(const cpu_kctx *k, const aglm_tensor *x, int ceil_mode,
                               cpu_window *w, aglm_tensor *y)
{
    char sx[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", CPU_DT(AGLM_F32));
    if (st != AGLM_OK)
        return st;
    if (x->rank < 3)
        return aglm_error(AGLM_ERR_SHAPE, "X %s must be [N, C, spatial...] with at least one "
                          "spatial dim", cpu_shape(x, sx, sizeof sx));
    int nd = x->rank - 2;
    st = cpu_window_init(w, k->node, nd, x->dims + 2, NULL, ceil_mode);
    if (st != AGLM_OK)
        return st;
    int64_t dims[AGLM_MAX_RANK] = {x->dims[0], x->dims[1]};
    for (int i = 0; i < nd; i++)
        dims[2 + i] = w->out[CPU_WINDOW_DIMS - nd + i];
    return aglm_tensor_alloc(y, AGLM_F32, x->rank, dims);
}

static size_t plane_grain(const cpu_window *w)
{
    int64_t work = cpu_window_out_size(w) * cpu_window_kernel_size(w);
    return work >= 16384 ? 1 : (size_t)(16384 / (work > 0 ? work : 1));
}

static aglm_status k_maxpool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    cpu_window w;
    int ceil_mode = aglm_node_get_int(k->node, "ceil_mode", 0) != 0;
    aglm_status st = pool_common(k, in[0], ceil_mode, &w, &out[0]);
    if (st != AGLM_OK)
        return st;
    pool_job job = {&w, in[0]->data, out[0].data, NULL,
                    aglm_node_get_int(k->node, "storage_order", 0) != 0, 0};
    if (n_out > 1) {
        st = aglm_tensor_alloc(&out[1], AGLM_I64, out[0].rank, out[0].dims);
        if (st != AGLM_OK)
            return st;
        job.indices = out[1].data;
    }
    size_t planes = (size_t)(in[0]->dims[0] * in[0]->dims[1]);
    cpu_parallel_for(k->pool, planes, plane_grain(&w), max_planes, &job);
    return AGLM_OK;
}

static aglm_status k_avgpool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    cpu_window w;
    int ceil_mode = aglm_node_get_int(k->node, "ceil_mode", 0) != 0;
    aglm_status st = pool_common(k, in[0], ceil_mode, &w, &out[0]);
    if (st != AGLM_OK)
        return st;
    pool_job job = {&w, in[0]->data, out[0].data, NULL, 0,
                    aglm_node_get_int(k->node, "count_include_pad", 0) != 0};
    size_t planes = (size_t)(in[0]->dims[0] * in[0]->dims[1]);
    cpu_parallel_for(k->pool, planes, plane_grain(&w), avg_planes, &job);
    return AGLM_OK;
}

typedef struct global_job {
    const float *x;
    float *y;
    int64_t size;
    int max;
} global_job;

static void global_planes(void *ctx, size_t b, size_t e, int worker)
{
    const global_job *j = ctx;
    for (size_t p = b; p < e; p++) {
        const float *x = j->x + (int64_t)p * j->size;
        if (j->max) {
            float best = j->size ? x[0] : -FLT_MAX;
            for (int64_t i = 1; i < j->size; i++)
                if (x[i] > best || (isnan(x[i]) && !isnan(best)))
                    best = x[i];
            j->y[p] = best;
        } else {
            /* Sum in double: a plane can hold many elements. */
            double s = 0.0;
            for (int64_t i = 0; i < j->size; i++)
                s += x[i];
            j->y[p] = j->size ? (float)(s / (double)j->size) : NAN;
        }
    }
}

static aglm_status global_pool(const cpu_kctx *k, const aglm_tensor *x, aglm_tensor *y, int max)
{
    char sx[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", CPU_DT(AGLM_F32));
    if (st != AGLM_OK)
        return st;
    if (x->rank < 3)
        return aglm_error(AGLM_ERR_SHAPE, "X %s must be [N, C, spatial...] with at least one "
                          "spatial dim", cpu_shape(x, sx, sizeof sx));
    int64_t dims[AGLM_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        dims[i] = i < 2 ? x->dims[i] : 1;
    st = aglm_tensor_alloc(y, AGLM_F32, x->rank, dims);
    if (st != AGLM_OK)
        return st;
    global_job job = {x->data, y->data, cpu_dims_prod(x->dims, 2, x->rank), max};
    size_t grain = job.size >= 16384 ? 1 : (size_t)(16384 / (job.size ? job.size : 1));
    cpu_parallel_for(k->pool, (size_t)(x->dims[0] * x->dims[1]), grain, global_planes, &job);
    return AGLM_OK;
}

static aglm_status k_global_avgpool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    return global_pool(k, in[0], &out[0], 0);
}

static aglm_status k_global_maxpool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    return global_pool(k, in[0], &out[0], 1);
}

const cpu_kernel cpu_pool_kernels[] = {
    {"MaxPool", 1, 1, 2, CPU_DT(AGLM_F32), k_maxpool},
    {"AveragePool", 1, 1, 1, CPU_DT(AGLM_F32), k_avgpool},
    {"GlobalAveragePool", 1, 1, 1, CPU_DT(AGLM_F32), k_global_avgpool},
    {"GlobalMaxPool", 1, 1, 1, CPU_DT(AGLM_F32), k_global_maxpool},
    {NULL, 0, 0, 0, 0, NULL},
};
