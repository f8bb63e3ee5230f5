/* Softmax and LogSoftmax. Before opset 13 the input is viewed as 2-D [prod(dims[:axis]),
 * prod(dims[axis:])] (default axis 1) and normalised per row; from opset 13 on it is normalised
 * along `axis` alone (default -1). Either way the work is a set of lines of n elements, `stride`
 * apart. */
#include <math.h>

#include "kernels.h"

typedef struct softmax_job {
    const float *x;
    float *y;
    int64_t n, inner; /* line length, and the stride between its elements */
    int log;
} softmax_job;

static void softmax_lines(void *ctx, size_t b, size_t e, int worker)
{
    const softmax_job *j = ctx;
    int64_t n = j->n, st = j->inner;
    for (size_t line = b; line < e; line++) {
        int64_t o = (int64_t)line / st, i = (int64_t)line % st;
        const float *x = j->x + o * n * st + i;
        float *y = j->y + o * n * st + i;
        /* Subtracting the max keeps exp() in range; the sum is kept in double. */
        float mx = -INFINITY;
        for (int64_t a = 0; a < n; a++)
            mx = x[a * st] > mx ? x[a * st] : mx;
        double sum = 0.0;
        for (int64_t a = 0; a < n; a++) {
            float ex = expf(x[a * st] - mx);
            if (!j->log)
                y[a * st] = ex;
            sum += ex;
        }
        if (j->log) {
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

static aglm_status run_softmax(const cpu_kctx *k, const aglm_tensor *x, aglm_tensor *y, int log)
{
    aglm_status st = cpu_check_dtype(k, x, "input", CPU_DT(AGLM_F32));
    if (st != AGLM_OK)
        return st;
    int legacy = k->opset > 0 && k->opset < 13;
    int axis;
    /* A scalar has nothing to normalise over but is valid: treat it as one element. */
    int rank = x->rank;
    st = cpu_norm_axis(aglm_node_get_int(k->node, "axis", legacy ? 1 : -1), rank > 0 ? rank : 1,
                       legacy ? 1 : 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    st = aglm_tensor_alloc(y, AGLM_F32, x->rank, x->dims);
    if (st != AGLM_OK || aglm_tensor_numel(x) == 0)
        return st;
    softmax_job job = {x->data, y->data, 1, 1, log};
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
    size_t grain = job.n >= 4096 ? 1 : (size_t)(4096 / job.n);
    cpu_parallel_for(k->pool, lines, grain, softmax_lines, &job);
    return AGLM_OK;
}

static aglm_status k_softmax(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    return run_softmax(k, in[0], &out[0], 0);
}

static aglm_status k_log_softmax(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                 size_t n_out, aglm_tensor *out)
{
    return run_softmax(k, in[0], &out[0], 1);
}

const cpu_kernel cpu_softmax_kernels[] = {
    {"Softmax", 1, 1, 1, CPU_DT(AGLM_F32), k_softmax},
    {"LogSoftmax", 1, 1, 1, CPU_DT(AGLM_F32), k_log_softmax},
    {NULL, 0, 0, 0, 0, NULL},
};
