/* Losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (which is LogSoftmax over the
 * class axis 1 followed by the same gather, weighting and reduction).
 *
 * For every position j of the target, loss[j] = -w[t] * input[n, t, d...] with t = target[j]
 * and w[t] its class weight (1 without weights); a target equal to ignore_index contributes 0
 * and weighs 0. "mean" divides the sum by the sum of the weights actually used, as the ONNX
 * reference does. Computed in f32 with double sums; other float dtypes are converted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define LOSS_TYPES (CPU_FLOATS | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))

enum { RED_NONE, RED_SUM, RED_MEAN };

static aglm_status read_reduction(const cpu_kctx *k, int *out)
{
    const char *r = aglm_node_get_string(k->node, "reduction", "mean");
    if (strcmp(r, "none") == 0)
        *out = RED_NONE;
    else if (strcmp(r, "sum") == 0)
        *out = RED_SUM;
    else if (strcmp(r, "mean") == 0)
        *out = RED_MEAN;
    else
        return aglm_error(AGLM_ERR_INVALID, "attribute reduction '%s' is not none, sum or mean", r);
    return AGLM_OK;
}

/* Input [N,C,d...] against target [N,d...]. */
static aglm_status check_shapes(const aglm_tensor *x, const aglm_tensor *t, const aglm_tensor *w,
                                const char *xname, const char *tname)
{
    char sx[64], st[64];
    int ok = x->rank >= 2 && t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
    for (int i = 1; ok && i < t->rank; i++)
        ok = t->dims[i] == x->dims[i + 1];
    if (!ok)
        return aglm_error(AGLM_ERR_SHAPE,
                          "%s %s and %s %s do not match as [N,C,d...] and "
                          "[N,d...]",
                          xname, cpu_shape(x, sx, sizeof sx), tname, cpu_shape(t, st, sizeof st));
    if (t->dtype != AGLM_I32 && t->dtype != AGLM_I64)
        return aglm_error(AGLM_ERR_TYPE, "%s has dtype %s; expects i32 or i64", tname,
                          aglm_dtype_name(t->dtype));
    if (w && (w->rank != 1 || w->dims[0] != x->dims[1]))
        return aglm_error(AGLM_ERR_SHAPE, "weights have shape %s; expects [%lld] (one per class)",
                          cpu_shape(w, sx, sizeof sx), (long long)x->dims[1]);
    return AGLM_OK;
}

/* The loss of log-probabilities lp (shaped like x) into out[0]. */
static aglm_status nll(const cpu_kctx *k, const aglm_tensor *x, const float *lp,
                       const aglm_tensor *target, const float *w, aglm_tensor *out)
{
    int red = RED_MEAN;
    aglm_status st = read_reduction(k, &red);
    if (st != AGLM_OK)
        return st;
    int has_ii = aglm_node_attr(k->node, "ignore_index") != NULL;
    int64_t ii = aglm_node_get_int(k->node, "ignore_index", 0);
    int64_t nb = x->dims[0], ncls = x->dims[1], inner = cpu_dims_prod(x->dims, 2, x->rank);
    int64_t total = nb * inner;
    float *loss = malloc(sizeof *loss * (size_t)(total + 1));
    if (!loss)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld losses", (long long)total);
    double sum = 0, wsum = 0;
    for (int64_t j = 0; j < total; j++) {
        int64_t t = target->dtype == AGLM_I64 ? ((const int64_t *)target->data)[j]
                                              : ((const int32_t *)target->data)[j];
        if (has_ii && t == ii) {
            loss[j] = 0;
            continue;
        }
        if (t < 0 || t >= ncls) {
            free(loss);
            return aglm_error(AGLM_ERR_INVALID,
                              "target %lld at position %lld is not a class in "
                              "[0, %lld) nor ignore_index",
                              (long long)t, (long long)j, (long long)ncls);
        }
        int64_t n = j / inner, d = j % inner;
        double wt = w ? w[t] : 1.0;
        loss[j] = (float)(-lp[(n * ncls + t) * inner + d] * wt);
        sum += loss[j];
        wsum += wt;
    }
    if (red == RED_NONE) {
        int64_t dims[AGLM_MAX_RANK];
        dims[0] = nb;
        for (int i = 2; i < x->rank; i++)
            dims[i - 1] = x->dims[i];
        st = cpu_alloc(k, out, x->dtype, x->rank - 1, dims);
        if (st == AGLM_OK)
            cpu_f32_store(out, loss);
    } else {
        float r = (float)(red == RED_SUM ? sum : sum / wsum);
        st = cpu_alloc(k, out, x->dtype, 0, NULL);
        if (st == AGLM_OK)
            cpu_f32_store(out, &r);
    }
    free(loss);
    return st;
}

static aglm_status k_nll(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    const aglm_tensor *w = n_in > 2 ? in[2] : NULL;
    aglm_status st = check_shapes(in[0], in[1], w, "input", "target");
    if (st == AGLM_OK && w)
        st = cpu_check_same_dtype(in[0], "input", w, "weight");
    if (st != AGLM_OK)
        return st;
    float *xs = NULL, *ws = NULL;
    const float *xf = cpu_f32_view(in[0], &xs), *wf = NULL;
    if (!xf || (w && !(wf = cpu_f32_view(w, &ws)))) {
        free(xs);
        return AGLM_ERR_NOMEM;
    }
    st = nll(k, in[0], xf, in[1], wf, &out[0]);
    free(xs);
    free(ws);
    return st;
}

/* log_softmax over axis 1 of x [N,C,d...] into lp. */
static void log_softmax_classes(const float *x, float *lp, int64_t nb, int64_t ncls, int64_t inner)
{
    for (int64_t n = 0; n < nb; n++)
        for (int64_t d = 0; d < inner; d++) {
            const float *xp = x + n * ncls * inner + d;
            float *lq = lp + n * ncls * inner + d;
            float mx = -INFINITY;
            for (int64_t c = 0; c < ncls; c++)
                mx = xp[c * inner] > mx ? xp[c * inner] : mx;
            double s = 0;
            for (int64_t c = 0; c < ncls; c++)
                s += exp((double)xp[c * inner] - mx);
            double lse = log(s);
            for (int64_t c = 0; c < ncls; c++)
                lq[c * inner] = (float)(xp[c * inner] - mx - lse);
        }
}

static aglm_status k_sce(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *w = n_in > 2 ? in[2] : NULL;
    aglm_status st = check_shapes(x, in[1], w, "scores", "labels");
    if (st == AGLM_OK && w)
        st = cpu_check_same_dtype(x, "scores", w, "weights");
    if (st != AGLM_OK)
        return st;
    int64_t total = aglm_tensor_numel(x);
    float *xs = NULL, *ws = NULL;
    float *lp = malloc(sizeof *lp * (size_t)(total + 1));
    const float *xf = cpu_f32_view(x, &xs), *wf = NULL;
    if (!lp || !xf || (w && !(wf = cpu_f32_view(w, &ws)))) {
        free(lp);
        free(xs);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld scores", (long long)total);
    }
    log_softmax_classes(xf, lp, x->dims[0], x->dims[1], cpu_dims_prod(x->dims, 2, x->rank));
    st = nll(k, x, lp, in[1], wf, &out[0]);
    if (st == AGLM_OK && n_out > 1 &&
        (st = cpu_alloc(k, &out[1], x->dtype, x->rank, x->dims)) == AGLM_OK)
        cpu_f32_store(&out[1], lp);
    free(lp);
    free(xs);
    free(ws);
    return st;
}

const cpu_kernel cpu_loss_kernels[] = {
    {"NegativeLogLikelihoodLoss", LOSS_TYPES, k_nll},
    {"SoftmaxCrossEntropyLoss", LOSS_TYPES, k_sce},
    {NULL, 0, NULL},
};
