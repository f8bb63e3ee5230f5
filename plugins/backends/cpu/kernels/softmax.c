/* Softmax, LogSoftmax and Hardmax. Before opset 13 the input is viewed as 2-D [prod(dims[:axis]),
 * prod(dims[axis:])] (default axis 1) and normalised per row; from opset 13 on it is normalised
 * along `axis` alone (default -1). Either way the work is a set of lines of n elements, `stride`
 * apart. f16, bf16 and f64 are computed in f32 and rounded back. */
#include <math.h>
#include <stdlib.h>

#include "ew_simd.h"
#include "kernels.h"

typedef struct softmax_job {
    const float *x;
    float *y;
    int64_t n, inner; /* line length, and the stride between its elements */
    int mode;
} softmax_job;

enum { SM_SOFTMAX, SM_LOG, SM_HARD };

/* Hardmax: 1 at the first maximum of the line, 0 elsewhere. */
static void hardmax_line(const float *x, float *y, int64_t n, int64_t st)
{
    int64_t best = 0;
    for (int64_t a = 0; a < n; a++) {
        y[a * st] = 0.0f;
        if (x[a * st] > x[best * st])
            best = a;
    }
    y[best * st] = 1.0f;
}

static void softmax_lines(void *ctx, size_t b, size_t e, int worker)
{
    const softmax_job *j = ctx;
    int64_t n = j->n, st = j->inner;
    for (size_t line = b; line < e; line++) {
        int64_t o = (int64_t)line / st, i = (int64_t)line % st;
        const float *x = j->x + o * n * st + i;
        float *y = j->y + o * n * st + i;
        if (j->mode == SM_HARD) {
            hardmax_line(x, y, n, st);
            continue;
        }
        if (j->mode == SM_SOFTMAX && st == 1 && cpu_ew_softmax_f32(x, y, n))
            continue;
        /* Subtracting the max keeps exp() in range; the sum is kept in double. */
        float mx = -INFINITY;
        for (int64_t a = 0; a < n; a++)
            mx = x[a * st] > mx ? x[a * st] : mx;
        double sum = 0.0;
        for (int64_t a = 0; a < n; a++) {
            float ex = expf(x[a * st] - mx);
            if (j->mode == SM_SOFTMAX)
                y[a * st] = ex;
            sum += ex;
        }
        if (j->mode == SM_LOG) {
            float lse = (float)log(sum);
            for (int64_t a = 0; a < n; a++)
                y[a * st] = x[a * st] - mx - lse;
        } else {
            float inv = (float)(1.0 / sum);
            for (int64_t a = 0; a < n; a++)
                y[a * st] *= inv;
        }
    }
}

static aglm_status run_softmax(const cpu_kctx *k, const aglm_tensor *x, aglm_tensor *y, int mode)
{
    int legacy = k->opset > 0 && k->opset < 13;
    int axis;
    /* A scalar has nothing to normalise over but is valid: treat it as one element. */
    int rank = x->rank;
    aglm_status st = cpu_norm_axis(aglm_node_get_int(k->node, "axis", legacy ? 1 : -1),
                                   rank > 0 ? rank : 1, legacy ? 1 : 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    st = cpu_alloc(k, y, x->dtype, x->rank, x->dims);
    if (st != AGLM_OK || aglm_tensor_numel(x) == 0)
        return st;
    float *xs = NULL, *ys = NULL;
    const float *xf = cpu_f32_view(x, &xs);
    if (!xf)
        return AGLM_ERR_NOMEM;
    float *yf = y->data;
    if (x->dtype != AGLM_F32 && !(yf = ys = malloc(sizeof *ys * (size_t)aglm_tensor_numel(x)))) {
        free(xs);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld results",
                          (long long)aglm_tensor_numel(x));
    }
    softmax_job job = {xf, yf, 1, 1, mode};
    int64_t outer;
    if (rank == 0) {
        outer = 1;
    } else if (legacy) {
        outer = cpu_dims_prod(x->dims, 0, axis);
        job.n = cpu_dims_prod(x->dims, axis, rank);
    } else {
        outer = cpu_dims_prod(x->dims, 0, axis);
        job.n = x->dims[axis];
        job.inner = cpu_dims_prod(x->dims, axis + 1, rank);
    }
    size_t lines = (size_t)(outer * job.inner);
    /* lines of 16K elements or more per task: below that, waking a worker costs more than the
     * (vectorised) exponentials it would take over */
    size_t grain = job.n >= 16384 ? 1 : (size_t)(16384 / job.n);
    cpu_parallel_for(k->pool, lines, grain, softmax_lines, &job);
    if (ys)
        cpu_f32_store(y, ys);
    free(xs);
    free(ys);
    return AGLM_OK;
}

static aglm_status k_softmax(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    return run_softmax(k, in[0], &out[0], SM_SOFTMAX);
}

static aglm_status k_log_softmax(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                 size_t n_out, aglm_tensor *out)
{
    return run_softmax(k, in[0], &out[0], SM_LOG);
}

static aglm_status k_hardmax(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    return run_softmax(k, in[0], &out[0], SM_HARD);
}

#define SM_TYPES (CPU_FLOATS | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))

const cpu_kernel cpu_softmax_kernels[] = {
    {"Softmax", SM_TYPES, k_softmax},
    {"LogSoftmax", SM_TYPES, k_log_softmax},
    {"Hardmax", SM_TYPES, k_hardmax},
    {NULL, 0, NULL},
};
