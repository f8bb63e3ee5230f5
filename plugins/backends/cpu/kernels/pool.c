/* MaxPool (with the optional Indices output), AveragePool, LpPool, GlobalAveragePool,
 * GlobalMaxPool, each over 1 to 3 spatial dims, one (image, channel) plane per parallel task.
 *
 * The loops run on f32. f16 and bf16 (and u8, i8 for MaxPool, whose values f32 holds exactly)
 * are converted in and rounded back out. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "ew_simd.h"

typedef struct pool_job {
    const aglm_window *w;
    const float *x;
    float *y;
    int64_t *indices;      /* MaxPool's second output, or NULL */
    int storage_order;     /* 1: indices count the spatial dims column-major */
    int count_include_pad; /* AveragePool */
    int64_t lp;            /* LpPool's p; 0 for AveragePool */
} pool_job;

/* Flat index of (id, ih, iw) inside its plane, as MaxPool's Indices reports it. */
static int64_t spatial_index(const aglm_window *w, int64_t id, int64_t ih, int64_t iw, int order)
{
    if (!order)
        return (id * w->in[1] + ih) * w->in[2] + iw;
    return id + ih * w->in[0] + iw * w->in[0] * w->in[1];
}

/* The 2-D, undilated case of max_planes (no Indices) and avg_planes (not LpPool): each output's
 * window clipped to the input once, up front, instead of testing every tap. Taps are visited in
 * the same order as the general loops, so results are identical to theirs. */
static int plain_2d(const pool_job *j)
{
    const aglm_window *w = j->w;
    return w->nd <= 2 && w->k[0] == 1 && w->in[0] == 1 && w->out[0] == 1 && w->d[1] == 1 &&
           w->d[2] == 1 && !j->indices && j->lp == 0;
}

static void pool_2d_plane(const pool_job *j, int max, const float *x, float *y)
{
    const aglm_window *w = j->w;
    int64_t H = w->in[1], W = w->in[2], KH = w->k[1], KW = w->k[2];
    for (int64_t oh = 0; oh < w->out[1]; oh++) {
        int64_t h0 = oh * w->s[1] - w->pb[1];
        int64_t hlo = h0 < 0 ? 0 : h0, hhi = h0 + KH < H ? h0 + KH : H;
        for (int64_t ow = 0; ow < w->out[2]; ow++) {
            int64_t w0 = ow * w->s[2] - w->pb[2];
            int64_t wlo = w0 < 0 ? 0 : w0, whi = w0 + KW < W ? w0 + KW : W;
            float *out = y + oh * w->out[2] + ow;
            if (max) {
                /* a window entirely in padding yields the lowest float, as max_planes does */
                if (hlo >= hhi || wlo >= whi) {
                    *out = -FLT_MAX;
                    continue;
                }
                /* branch-free max (a maxss per tap) with a NaN flag on the side; a window
                 * holding a NaN is redone with max_planes' rule, which returns the first */
                float best = x[hlo * W + wlo];
                int nan = isnan(best);
                for (int64_t ih = hlo; ih < hhi; ih++)
                    for (int64_t iw = wlo; iw < whi; iw++) {
                        float v = x[ih * W + iw];
                        best = v > best ? v : best;
                        nan |= isnan(v);
                    }
                if (nan) {
                    best = x[hlo * W + wlo];
                    for (int64_t ih = hlo; ih < hhi; ih++)
                        for (int64_t iw = wlo; iw < whi; iw++) {
                            float v = x[ih * W + iw];
                            if (v > best || (isnan(v) && !isnan(best)))
                                best = v;
                        }
                }
                *out = best;
                continue;
            }
            float sum = 0.0f;
            for (int64_t ih = hlo; ih < hhi; ih++)
                for (int64_t iw = wlo; iw < whi; iw++)
                    sum += x[ih * W + iw];
            int64_t hc = hhi - hlo, wc = whi - wlo;
            if (j->count_include_pad) {
                /* taps inside the explicit padding count too, the ceil_mode overhang not */
                int64_t a = h0 < -w->pb[1] ? -w->pb[1] : h0;
                int64_t bnd = h0 + KH < H + w->pe[1] ? h0 + KH : H + w->pe[1];
                hc = bnd - a;
                a = w0 < -w->pb[2] ? -w->pb[2] : w0;
                bnd = w0 + KW < W + w->pe[2] ? w0 + KW : W + w->pe[2];
                wc = bnd - a;
            }
            int64_t count = (hc > 0 ? hc : 0) * (wc > 0 ? wc : 0);
            *out = count > 0 ? sum / (float)count : NAN;
        }
    }
}

static void max_planes(void *ctx, size_t b, size_t e, int worker)
{
    const pool_job *j = ctx;
    const aglm_window *w = j->w;
    int64_t in_size = aglm_window_in_size(w), out_size = aglm_window_out_size(w);
    if (plain_2d(j)) {
        for (size_t plane = b; plane < e; plane++)
            pool_2d_plane(j, 1, j->x + (int64_t)plane * in_size, j->y + (int64_t)plane * out_size);
        return;
    }
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
static int64_t taps_in(const aglm_window *w, int axis, int64_t o, int64_t lo, int64_t hi)
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
    const aglm_window *w = j->w;
    int64_t in_size = aglm_window_in_size(w), out_size = aglm_window_out_size(w);
    if (plain_2d(j)) {
        for (size_t plane = b; plane < e; plane++)
            pool_2d_plane(j, 0, j->x + (int64_t)plane * in_size, j->y + (int64_t)plane * out_size);
        return;
    }
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
                                if (iw < 0 || iw >= w->in[2])
                                    continue;
                                float v = x[(id * w->in[1] + ih) * w->in[2] + iw];
                                /* LpPool: padding adds zero to the sum of |x|^p */
                                sum += j->lp == 0   ? v
                                       : j->lp == 2 ? v * v
                                       : j->lp == 1 ? fabsf(v)
                                                    : (float)pow(fabs((double)v), (double)j->lp);
                            }
                        }
                    }
                    if (j->lp) {
                        y[o] = j->lp == 1   ? sum
                               : j->lp == 2 ? sqrtf(sum)
                                            : (float)pow((double)sum, 1.0 / (double)j->lp);
                        continue;
                    }
                    /* The divisor counts real elements, or with count_include_pad also the
                     * explicit padding, but never the overhang ceil_mode adds past it (as
                     * PyTorch and ONNX Runtime do). */
                    int64_t count = 1;
                    int64_t pos[3] = {od, oh, ow};
                    for (int a = 0; a < AGLM_WINDOW_DIMS; a++) {
                        int64_t lo = j->count_include_pad ? -w->pb[a] : 0;
                        int64_t hi = j->count_include_pad ? w->in[a] + w->pe[a] : w->in[a];
                        count *= taps_in(w, a, pos[a], lo, hi);
                    }
                    y[o] = count > 0 ? sum / (float)count : NAN;
                }
    }
}

#define POOL_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))
#define MAXPOOL_DTYPES (POOL_FLOATS | CPU_DT(AGLM_U8) | CPU_DT(AGLM_I8))

/* x's elements as f32: its own data, or a converted copy in *scratch (freed by the caller). */
static aglm_status f32_input(const aglm_tensor *x, const float **data, float **scratch)
{
    *scratch = NULL;
    *data = NULL;
    if (x->dtype != AGLM_U8 && x->dtype != AGLM_I8) {
        *data = cpu_f32_view(x, scratch);
        return *data ? AGLM_OK : AGLM_ERR_NOMEM;
    }
    int64_t n = aglm_tensor_numel(x);
    float *buf = malloc((size_t)(n + 1) * sizeof *buf);
    if (!buf)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory converting %lld elements to f32",
                          (long long)n);
    for (int64_t i = 0; i < n; i++)
        buf[i] = x->dtype == AGLM_U8 ? ((const uint8_t *)x->data)[i] : ((const int8_t *)x->data)[i];
    *scratch = buf;
    *data = buf;
    return AGLM_OK;
}

/* An f32 result buffer for y: y's own data when it is f32, else scratch for f32_output. */
static float *f32_result(aglm_tensor *y, float **scratch)
{
    *scratch = NULL;
    if (y->dtype == AGLM_F32)
        return y->data;
    int64_t n = aglm_tensor_numel(y);
    *scratch = malloc((size_t)(n + 1) * sizeof **scratch);
    if (!*scratch)
        aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld f32 results", (long long)n);
    return *scratch;
}

/* Rounds the f32 results in scratch into y's dtype (a no-op when y is f32), frees scratch. */
static void f32_output(aglm_tensor *y, float *scratch)
{
    if (!scratch)
        return;
    int64_t n = aglm_tensor_numel(y);
    /* integer results are input values, except the lowest float of an all-padding window,
     * which becomes the type's lowest value */
    if (y->dtype == AGLM_U8)
        for (int64_t i = 0; i < n; i++)
            ((uint8_t *)y->data)[i] = scratch[i] < 0 ? 0 : (uint8_t)scratch[i];
    else if (y->dtype == AGLM_I8)
        for (int64_t i = 0; i < n; i++)
            ((int8_t *)y->data)[i] = scratch[i] < -128 ? -128 : (int8_t)scratch[i];
    else
        cpu_f32_store(y, scratch);
    free(scratch);
}

static aglm_status pool_common(const cpu_kctx *k, const aglm_tensor *x, int ceil_mode,
                               uint32_t dtypes, aglm_window *w, aglm_tensor *y)
{
    char sx[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", dtypes);
    if (st != AGLM_OK)
        return st;
    if (x->rank < 3)
        return aglm_error(AGLM_ERR_SHAPE,
                          "X %s must be [N, C, spatial...] with at least one "
                          "spatial dim",
                          cpu_shape(x, sx, sizeof sx));
    int nd = x->rank - 2;
    st = aglm_window_init(w, k->node, nd, x->dims + 2, NULL, ceil_mode);
    if (st != AGLM_OK)
        return st;
    int64_t dims[AGLM_MAX_RANK] = {x->dims[0], x->dims[1]};
    for (int i = 0; i < nd; i++)
        dims[2 + i] = w->out[AGLM_WINDOW_DIMS - nd + i];
    return cpu_alloc(k, y, x->dtype, x->rank, dims);
}

/* Planes per task: 32K window taps at least (a few tens of microseconds), below which waking a
 * worker costs more than it takes over (a squeeze's 2x2 pool of [1,200,2,96] is one task). */
static size_t plane_grain(const aglm_window *w)
{
    int64_t work = aglm_window_out_size(w) * aglm_window_kernel_size(w);
    int64_t grain = (int64_t)CPU_EW_GRAIN / 2;
    return work >= grain ? 1 : (size_t)(grain / (work > 0 ? work : 1));
}

/* Runs fn over every (image, channel) plane of job, converting dtypes around it. */
static aglm_status run_planes(const cpu_kctx *k, const aglm_tensor *x, aglm_tensor *y,
                              pool_job *job, cpu_range_fn fn)
{
    float *xs, *ys;
    const float *xd;
    aglm_status st = f32_input(x, &xd, &xs);
    if (st != AGLM_OK)
        return st;
    float *yd = f32_result(y, &ys);
    if (!yd) {
        free(xs);
        return AGLM_ERR_NOMEM;
    }
    job->x = xd;
    job->y = yd;
    size_t planes = (size_t)(x->dims[0] * x->dims[1]);
    cpu_parallel_for(k->pool, planes, plane_grain(job->w), fn, job);
    f32_output(y, ys);
    free(xs);
    return AGLM_OK;
}

static aglm_status k_maxpool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    aglm_window w;
    int ceil_mode = aglm_node_get_int(k->node, "ceil_mode", 0) != 0;
    aglm_status st = pool_common(k, in[0], ceil_mode, MAXPOOL_DTYPES, &w, &out[0]);
    if (st != AGLM_OK)
        return st;
    pool_job job = {&w, NULL, NULL, NULL, aglm_node_get_int(k->node, "storage_order", 0) != 0,
                    0,  0};
    if (n_out > 1) {
        st = cpu_alloc(k, &out[1], AGLM_I64, out[0].rank, out[0].dims);
        if (st != AGLM_OK)
            return st;
        job.indices = out[1].data;
    }
    return run_planes(k, in[0], &out[0], &job, max_planes);
}

static aglm_status k_avgpool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    aglm_window w;
    int ceil_mode = aglm_node_get_int(k->node, "ceil_mode", 0) != 0;
    aglm_status st = pool_common(k, in[0], ceil_mode, POOL_FLOATS, &w, &out[0]);
    if (st != AGLM_OK)
        return st;
    pool_job job = {
        &w, NULL, NULL, NULL, 0, aglm_node_get_int(k->node, "count_include_pad", 0) != 0, 0};
    return run_planes(k, in[0], &out[0], &job, avg_planes);
}

/* LpPool: (sum over the window of |x|^p)^(1/p); padding counts as zero. */
static aglm_status k_lppool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    aglm_window w;
    int64_t p = aglm_node_get_int(k->node, "p", 2);
    if (p < 1 || p > 1024)
        return aglm_error(AGLM_ERR_INVALID, "attribute p = %lld, expected 1 to 1024", (long long)p);
    int ceil_mode = aglm_node_get_int(k->node, "ceil_mode", 0) != 0;
    aglm_status st = pool_common(k, in[0], ceil_mode, POOL_FLOATS, &w, &out[0]);
    if (st != AGLM_OK)
        return st;
    pool_job job = {&w, NULL, NULL, NULL, 0, 0, p};
    return run_planes(k, in[0], &out[0], &job, avg_planes);
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
            if (j->size && cpu_ew_max_f32(x, j->size, &j->y[p]))
                continue;
            float best = j->size ? x[0] : -FLT_MAX;
            for (int64_t i = 1; i < j->size; i++)
                if (x[i] > best || (isnan(x[i]) && !isnan(best)))
                    best = x[i];
            j->y[p] = best;
        } else {
            /* Sum in double: a plane can hold many elements. */
            double s = 0.0;
            if (!cpu_ew_sum_f32(x, j->size, &s))
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
        return aglm_error(AGLM_ERR_SHAPE,
                          "X %s must be [N, C, spatial...] with at least one "
                          "spatial dim",
                          cpu_shape(x, sx, sizeof sx));
    int64_t dims[AGLM_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        dims[i] = i < 2 ? x->dims[i] : 1;
    st = cpu_alloc(k, y, AGLM_F32, x->rank, dims);
    if (st != AGLM_OK)
        return st;
    global_job job = {x->data, y->data, cpu_dims_prod(x->dims, 2, x->rank), max};
    size_t size = job.size ? (size_t)job.size : 1;
    size_t grain = size >= CPU_EW_GRAIN ? 1 : CPU_EW_GRAIN / size;
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

/* MaxUnpool: scatters X into zeros at the flat positions I gives (as MaxPool's Indices counts
 * them) in the shape that undoes the pooling window; output_shape, when given, may be larger,
 * and that shape then sits at its start (as ONNX's reference places it). */
static aglm_status k_maxunpool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *x = in[0], *ind = in[1], *shape = n_in > 2 ? in[2] : NULL;
    char sx[64], si[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", POOL_FLOATS | CPU_DT(AGLM_F64));
    if (st != AGLM_OK)
        return st;
    if (x->rank < 3 || ind->dtype != AGLM_I64 || !aglm_tensor_same_shape(x, ind))
        return aglm_error(AGLM_ERR_SHAPE,
                          "X %s and I %s must be [N, C, spatial...], I of i64 in "
                          "the shape of X",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(ind, si, sizeof si));
    int nd = x->rank - 2, r = x->rank;
    size_t kc = 0, sc = 0, pc = 0;
    const int64_t *ks = aglm_node_get_ints(k->node, "kernel_shape", &kc);
    const int64_t *ss = aglm_node_get_ints(k->node, "strides", &sc);
    const int64_t *ps = aglm_node_get_ints(k->node, "pads", &pc);
    if (!ks || kc != (size_t)nd || (ss && sc != (size_t)nd) || (ps && pc != 2 * (size_t)nd))
        return aglm_error(AGLM_ERR_INVALID,
                          "attributes kernel_shape, strides and pads must "
                          "have %d, %d and %d values",
                          nd, nd, 2 * nd);
    int64_t inferred[AGLM_MAX_RANK] = {x->dims[0], x->dims[1]}, dims[AGLM_MAX_RANK];
    for (int i = 0; i < nd; i++) {
        inferred[2 + i] =
            (x->dims[2 + i] - 1) * (ss ? ss[i] : 1) + ks[i] - (ps ? ps[i] + ps[nd + i] : 0);
        if (inferred[2 + i] < 0)
            return aglm_error(AGLM_ERR_SHAPE, "pads leave spatial dim %d negative", i);
    }
    memcpy(dims, inferred, sizeof dims);
    if (shape) {
        size_t count;
        if ((st = cpu_read_ints(shape, "input output_shape", dims, AGLM_MAX_RANK, &count)) !=
            AGLM_OK)
            return st;
        if (count != (size_t)r)
            return aglm_error(AGLM_ERR_SHAPE, "output_shape has %zu values for X %s", count,
                              cpu_shape(x, sx, sizeof sx));
        for (int i = 0; i < r; i++)
            if (dims[i] < inferred[i])
                return aglm_error(AGLM_ERR_SHAPE,
                                  "output_shape dim %d = %lld is smaller than the "
                                  "unpooled size %lld",
                                  i, (long long)dims[i], (long long)inferred[i]);
    }
    if ((st = cpu_alloc(k, &out[0], x->dtype, r, dims)) != AGLM_OK)
        return st;
    int64_t n = aglm_tensor_numel(x), limit = cpu_dims_prod(inferred, 0, r);
    size_t es = aglm_dtype_size(x->dtype);
    const int64_t *id = ind->data;
    for (int64_t i = 0; i < n; i++) {
        if (id[i] < 0 || id[i] >= limit)
            return aglm_error(AGLM_ERR_INVALID,
                              "index %lld at %lld is outside the unpooled "
                              "output of %lld elements",
                              (long long)id[i], (long long)i, (long long)limit);
        /* the index's coordinates in the unpooled shape, placed into the output's */
        int64_t rem = id[i], at = 0, stride = 1;
        for (int d = r - 1; d >= 0; d--) {
            at += (rem % inferred[d]) * stride;
            rem /= inferred[d];
            stride *= dims[d];
        }
        memcpy((char *)out[0].data + (size_t)at * es, (const char *)x->data + (size_t)i * es, es);
    }
    return AGLM_OK;
}

const cpu_kernel cpu_pool_kernels[] = {
    {"MaxPool", MAXPOOL_DTYPES, k_maxpool},
    {"AveragePool", POOL_FLOATS, k_avgpool},
    {"LpPool", POOL_FLOATS, k_lppool},
    {"MaxUnpool", POOL_FLOATS | CPU_DT(AGLM_F64), k_maxunpool},
    {"GlobalAveragePool", CPU_DT(AGLM_F32), k_global_avgpool},
    {"GlobalMaxPool", CPU_DT(AGLM_F32), k_global_maxpool},
    {NULL, 0, NULL},
};
