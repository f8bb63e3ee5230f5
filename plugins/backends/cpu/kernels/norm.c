/* Normalisations: BatchNormalization (inference, and training_mode from opset 14),
 * InstanceNormalization, LayerNormalization (with its Mean and InvStdDev outputs),
 * RMSNormalization, GroupNormalization (scale per group as opset 18 has it, or per channel as
 * from opset 21), LpNormalization, MeanVarianceNormalization and LRN.
 *
 * Every float dtype is computed in f32 (f16, bf16 and f64 are converted on the way in and
 * rounded back on the way out) with statistics accumulated in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ew_simd.h"
#include "kernels.h"

#define NORM_TYPES (CPU_FLOATS | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))
#define MAX_VIEWS 6

/* The f32 views of a kernel's inputs and its f32 results, freed together. */
typedef struct views {
    const float *in[MAX_VIEWS];
    float *scratch[MAX_VIEWS];
    float *res[3]; /* f32 result buffers for outputs whose dtype is not f32 */
    float *tmp;    /* kernel scratch */
} views;

static void views_free(views *v)
{
    for (int i = 0; i < MAX_VIEWS; i++)
        free(v->scratch[i]);
    for (int i = 0; i < 3; i++)
        free(v->res[i]);
    free(v->tmp);
    memset(v, 0, sizeof *v);
}

/* f32 views of inputs 0..n-1 (absent ones stay NULL); each must be a float tensor. */
static aglm_status views_in(const cpu_kctx *k, views *v, size_t n_in, const aglm_tensor *const *in,
                            size_t n, const char *const *names)
{
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < n && i < n_in; i++) {
        if (!in[i])
            continue;
        aglm_status st = cpu_check_dtype(k, in[i], names[i], NORM_TYPES);
        if (st != AGLM_OK || !(v->in[i] = cpu_f32_view(in[i], &v->scratch[i]))) {
            views_free(v);
            return st != AGLM_OK ? st : AGLM_ERR_NOMEM;
        }
    }
    return AGLM_OK;
}

/* Allocates output o as (dt, rank, dims) and returns where the kernel writes its f32 values. */
static float *views_out(const cpu_kctx *k, views *v, int o, aglm_tensor *out, aglm_dtype dt,
                        int rank, const int64_t *dims)
{
    if (cpu_alloc(k, out, dt, rank, dims) != AGLM_OK)
        return NULL;
    if (dt == AGLM_F32)
        return out->data;
    int64_t n = aglm_tensor_numel(out);
    v->res[o] = malloc(n > 0 ? (size_t)n * sizeof(float) : 1);
    if (!v->res[o])
        aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld results", (long long)n);
    return v->res[o];
}

/* Rounds the f32 results into the outputs that are not f32, frees everything, returns OK. */
static aglm_status views_done(views *v, size_t n_out, aglm_tensor *out)
{
    for (size_t o = 0; o < n_out && o < 3; o++)
        if (v->res[o])
            cpu_f32_store(&out[o], v->res[o]);
    views_free(v);
    return AGLM_OK;
}

static aglm_status fail(views *v, aglm_status st)
{
    views_free(v);
    return st;
}

/* An error unless t is 1-D of length n; `what` names it. */
static aglm_status need_len(const aglm_tensor *t, int64_t n, const char *what, const char *of)
{
    if (t && (t->rank != 1 || t->dims[0] != n)) {
        char s[64];
        return aglm_error(AGLM_ERR_SHAPE, "%s has shape %s, expects [%lld] (%s)", what,
                          cpu_shape(t, s, sizeof s), (long long)n, of);
    }
    return AGLM_OK;
}

/* Expands t (which must broadcast to dims[from..rank) without growing) into n = prod of those
 * dims values in buf, so a per-element parameter is a plain array. */
static aglm_status expand_trailing(const aglm_tensor *t, const float *src, const aglm_tensor *x,
                                   int from, float *buf, const char *what)
{
    int span = x->rank - from;
    int extra = t->rank - span;
    int ok = 1;
    for (int i = 0; i < t->rank && ok; i++) {
        int xi = from + i - extra;
        ok = xi < from ? t->dims[i] == 1 : (t->dims[i] == 1 || t->dims[i] == x->dims[xi]);
    }
    if (!ok) {
        char st[64], sx[64];
        return aglm_error(AGLM_ERR_SHAPE, "%s %s does not broadcast to the normalised dims of X %s",
                          what, cpu_shape(t, st, sizeof st), cpu_shape(x, sx, sizeof sx));
    }
    int64_t n = cpu_dims_prod(x->dims, from, x->rank);
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, off = 0, stride = 1;
        for (int d = x->rank - 1; d >= from; d--) {
            int64_t idx = rem % x->dims[d];
            rem /= x->dims[d];
            int ti = d - from + extra;
            if (ti >= 0) {
                off += (t->dims[ti] == 1 ? 0 : idx) * stride;
                stride *= t->dims[ti];
            }
        }
        buf[i] = src[off];
    }
    return AGLM_OK;
}

/* ---- BatchNormalization ----------------------------------------------------------------- */

static const char *const bn_names[] = {"input X", "input scale", "input B", "input mean",
                                       "input var"};

typedef struct bn_job {
    const float *x, *scale, *bias, *mean, *var;
    float *y, *run_mean, *run_var;
    int64_t batch, ch, plane;
    float eps, mom;
    int training;
} bn_job;

/* Channels [b, e): each is independent, statistics included. */
static void bn_channels(void *ctx, size_t b, size_t e, int worker)
{
    const bn_job *j = ctx;
    const float *xs = j->x;
    int64_t batch = j->batch, ch = j->ch, plane = j->plane;
    for (int64_t c = (int64_t)b; c < (int64_t)e; c++) {
        double m = j->mean[c], s2 = j->var[c];
        if (j->training) {
            /* the batch's own mean and (population) variance normalise it */
            double sum = 0, sq = 0, cnt = (double)(batch * plane);
            for (int64_t n = 0; n < batch; n++)
                for (int64_t i = 0; i < plane; i++)
                    sum += xs[(n * ch + c) * plane + i];
            m = cnt > 0 ? sum / cnt : 0;
            for (int64_t n = 0; n < batch; n++)
                for (int64_t i = 0; i < plane; i++) {
                    double d = xs[(n * ch + c) * plane + i] - m;
                    sq += d * d;
                }
            s2 = cnt > 0 ? sq / cnt : 0;
            if (j->run_mean)
                j->run_mean[c] = (float)(j->mean[c] * j->mom + m * (1 - j->mom));
            if (j->run_var)
                j->run_var[c] = (float)(j->var[c] * j->mom + s2 * (1 - j->mom));
        }
        float a = (float)(j->scale[c] / sqrt(s2 + j->eps)), off = (float)(j->bias[c] - m * a);
        for (int64_t n = 0; n < batch; n++) {
            const float *xp = xs + (n * ch + c) * plane;
            float *yp = j->y + (n * ch + c) * plane;
            for (int64_t i = 0; i < plane; i++)
                yp[i] = xp[i] * a + off;
        }
    }
}

static aglm_status k_batch_norm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    if (x->rank < 2) {
        char s[64];
        return aglm_error(AGLM_ERR_SHAPE, "input X has shape %s; expects [N,C,...]",
                          cpu_shape(x, s, sizeof s));
    }
    int training = k->opset >= 14 && aglm_node_get_int(k->node, "training_mode", 0) != 0;
    /* the op schema allows opset 9's saved_mean and saved_var; training (opset 14) has neither */
    if (n_out > 3)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "%zu outputs: saved_mean and saved_var (before "
                          "opset 14) are not supported",
                          n_out);
    if (!training && n_out > 1)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "%zu outputs without training_mode (opset %lld): "
                          "only inference with one output, or training_mode from opset 14, is "
                          "supported",
                          n_out, (long long)k->opset);
    int64_t ch = x->dims[1], batch = x->dims[0], plane = cpu_dims_prod(x->dims, 2, x->rank);
    aglm_status st;
    for (int i = 1; i < 5; i++)
        if ((st = need_len(in[i], ch, bn_names[i], "the channels of X")) != AGLM_OK)
            return st;
    views v;
    if ((st = views_in(k, &v, n_in, in, 5, bn_names)) != AGLM_OK)
        return st;
    float eps = aglm_node_get_float(k->node, "epsilon", 1e-5f);
    float mom = aglm_node_get_float(k->node, "momentum", 0.9f);
    float *y = views_out(k, &v, 0, &out[0], x->dtype, x->rank, x->dims);
    float *rm = NULL, *rv = NULL;
    if (y && n_out > 1)
        rm = views_out(k, &v, 1, &out[1], in[3]->dtype, 1, &ch);
    if (y && n_out > 2)
        rv = views_out(k, &v, 2, &out[2], in[4]->dtype, 1, &ch);
    if (!y || (n_out > 1 && !rm) || (n_out > 2 && !rv))
        return fail(&v, AGLM_ERR_NOMEM);
    bn_job j = {v.in[0], v.in[1], v.in[2], v.in[3], v.in[4], y,   rm,
                rv,      batch,   ch,      plane,   eps,     mom, training};
    /* 16K elements a task at least: less is quicker done than a worker is woken */
    int64_t per = plane * batch > 0 ? plane * batch : 1;
    cpu_parallel_for(k->pool, (size_t)ch, per >= 16384 ? 1 : (size_t)(16384 / per), bn_channels,
                     &j);
    return views_done(&v, n_out, out);
}

/* ---- mean and variance over lines ------------------------------------------------------- */

/* Mean and population variance of n values. */
static void moments(const float *x, int64_t n, double *mean, double *var)
{
    double s = 0, q = 0;
    /* both passes vectorised (ew_simd.h) when the AVX2 path is active */
    if (!cpu_ew_sum_f32(x, n, &s))
        for (int64_t i = 0; i < n; i++)
            s += x[i];
    double m = n > 0 ? s / (double)n : 0;
    if (!cpu_ew_sqdev_f32(x, n, m, &q))
        for (int64_t i = 0; i < n; i++) {
            double d = x[i] - m;
            q += d * d;
        }
    *mean = m;
    *var = n > 0 ? q / (double)n : 0;
}

/* ---- InstanceNormalization -------------------------------------------------------------- */

typedef struct in_job {
    const float *x, *scale, *bias;
    float *y;
    int64_t ch, plane;
    float eps;
} in_job;

/* Planes (image, channel) [b, e), each normalised over its own values. */
static void in_planes(void *ctx, size_t b, size_t e, int worker)
{
    const in_job *j = ctx;
    for (int64_t p = (int64_t)b; p < (int64_t)e; p++) {
        int64_t c = p % j->ch;
        const float *xp = j->x + p * j->plane;
        float *yp = j->y + p * j->plane;
        double m, var;
        moments(xp, j->plane, &m, &var);
        float a = (float)(j->scale[c] / sqrt(var + j->eps)), off = (float)(j->bias[c] - m * a);
        for (int64_t i = 0; i < j->plane; i++)
            yp[i] = xp[i] * a + off;
    }
}

static aglm_status k_instance_norm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                   size_t n_out, aglm_tensor *out)
{
    static const char *const names[] = {"input X", "input scale", "input B"};
    const aglm_tensor *x = in[0];
    if (x->rank < 3) {
        char s[64];
        return aglm_error(AGLM_ERR_SHAPE, "input X has shape %s; expects [N,C,D1,...]",
                          cpu_shape(x, s, sizeof s));
    }
    int64_t ch = x->dims[1], planes = x->dims[0] * ch, plane = cpu_dims_prod(x->dims, 2, x->rank);
    aglm_status st;
    if ((st = need_len(in[1], ch, names[1], "the channels of X")) != AGLM_OK ||
        (st = need_len(in[2], ch, names[2], "the channels of X")) != AGLM_OK)
        return st;
    views v;
    if ((st = views_in(k, &v, n_in, in, 3, names)) != AGLM_OK)
        return st;
    float *y = views_out(k, &v, 0, &out[0], x->dtype, x->rank, x->dims);
    if (!y)
        return fail(&v, AGLM_ERR_NOMEM);
    in_job j = {
        v.in[0], v.in[1], v.in[2], y, ch, plane, aglm_node_get_float(k->node, "epsilon", 1e-5f)};
    cpu_parallel_for(k->pool, (size_t)planes,
                     plane >= 16384 ? 1 : (size_t)(16384 / (plane ? plane : 1)), in_planes, &j);
    return views_done(&v, n_out, out);
}

/* ---- LayerNormalization and RMSNormalization ------------------------------------------- */

typedef struct ln_job {
    const float *x, *scale, *bias; /* scale and bias expanded to one row */
    float *y, *mean, *inv;
    int64_t n;
    float eps;
    int rms;
} ln_job;

static void ln_rows(void *ctx, size_t b, size_t e, int worker)
{
    const ln_job *j = ctx;
    for (size_t r = b; r < e; r++) {
        const float *x = j->x + (int64_t)r * j->n;
        float *y = j->y + (int64_t)r * j->n;
        double m = 0, var;
        if (j->rms) {
            double q = 0;
            for (int64_t i = 0; i < j->n; i++)
                q += (double)x[i] * x[i];
            var = j->n > 0 ? q / (double)j->n : 0;
        } else {
            moments(x, j->n, &m, &var);
        }
        double inv = 1.0 / sqrt(var + j->eps);
        for (int64_t i = 0; i < j->n; i++) {
            float v = (float)((x[i] - m) * inv) * j->scale[i];
            y[i] = j->bias ? v + j->bias[i] : v;
        }
        if (j->mean)
            j->mean[r] = (float)m;
        if (j->inv)
            j->inv[r] = (float)inv;
    }
}

static aglm_status run_layer_norm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                  size_t n_out, aglm_tensor *out, int rms)
{
    static const char *const names[] = {"input X", "input scale", "input B"};
    const aglm_tensor *x = in[0];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", -1), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    int64_t stash = aglm_node_get_int(k->node, "stash_type", AGLM_F32);
    if (n_out > 1 && stash != AGLM_F32 && stash != AGLM_F64 && stash != AGLM_F16 &&
        stash != AGLM_BF16)
        return aglm_error(AGLM_ERR_INVALID, "attribute stash_type %lld is not a float type",
                          (long long)stash);
    views v;
    if ((st = views_in(k, &v, n_in, in, rms ? 2 : 3, names)) != AGLM_OK)
        return st;
    int64_t n = cpu_dims_prod(x->dims, axis, x->rank), rows = cpu_dims_prod(x->dims, 0, axis);
    v.tmp = malloc(sizeof(float) * (size_t)(2 * n + 1));
    if (!v.tmp)
        return fail(&v,
                    aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld parameters", (long long)n));
    ln_job j = {v.in[0], v.tmp, NULL, NULL,
                NULL,    NULL,  n,    aglm_node_get_float(k->node, "epsilon", 1e-5f),
                rms};
    if ((st = expand_trailing(in[1], v.in[1], x, axis, v.tmp, names[1])) != AGLM_OK)
        return fail(&v, st);
    if (!rms && n_in > 2 && in[2]) {
        j.bias = v.tmp + n;
        if ((st = expand_trailing(in[2], v.in[2], x, axis, v.tmp + n, names[2])) != AGLM_OK)
            return fail(&v, st);
    }
    int64_t sdims[AGLM_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        sdims[i] = i < axis ? x->dims[i] : 1;
    j.y = views_out(k, &v, 0, &out[0], x->dtype, x->rank, x->dims);
    if (j.y && n_out > 1)
        j.mean = views_out(k, &v, 1, &out[1], (aglm_dtype)stash, x->rank, sdims);
    if (j.y && n_out > 2)
        j.inv = views_out(k, &v, 2, &out[2], (aglm_dtype)stash, x->rank, sdims);
    if (!j.y || (n_out > 1 && !j.mean) || (n_out > 2 && !j.inv))
        return fail(&v, AGLM_ERR_NOMEM);
    size_t grain = n >= 16384 ? 1 : (size_t)(16384 / (n ? n : 1));
    cpu_parallel_for(k->pool, (size_t)rows, grain, ln_rows, &j);
    return views_done(&v, n_out, out);
}

static aglm_status k_layer_norm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    return run_layer_norm(k, n_in, in, n_out, out, 0);
}

static aglm_status k_rms_norm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    return run_layer_norm(k, n_in, in, n_out, out, 1);
}

/* ---- GroupNormalization ------------------------------------------------------------------ */

static aglm_status k_group_norm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    static const char *const names[] = {"input X", "input scale", "input bias"};
    const aglm_tensor *x = in[0];
    if (x->rank < 2) {
        char s[64];
        return aglm_error(AGLM_ERR_SHAPE, "input X has shape %s; expects [N,C,...]",
                          cpu_shape(x, s, sizeof s));
    }
    int64_t groups = aglm_node_get_int(k->node, "num_groups", 0);
    int64_t ch = x->dims[1], batch = x->dims[0], plane = cpu_dims_prod(x->dims, 2, x->rank);
    if (groups <= 0 || ch % groups != 0)
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute num_groups %lld does not divide the %lld "
                          "channels of X",
                          (long long)groups, (long long)ch);
    /* opset 18 has one scale and bias per group, opset 21 one per channel; the length tells
     * which, since models exported for either may declare the other opset */
    int64_t per = in[1]->rank == 1 && in[1]->dims[0] == ch ? ch : groups;
    aglm_status st;
    if ((st = need_len(in[1], per, names[1], per == ch ? "one per channel" : "one per group")) !=
            AGLM_OK ||
        (st = need_len(in[2], per, names[2], per == ch ? "one per channel" : "one per group")) !=
            AGLM_OK)
        return st;
    views v;
    if ((st = views_in(k, &v, n_in, in, 3, names)) != AGLM_OK)
        return st;
    float *y = views_out(k, &v, 0, &out[0], x->dtype, x->rank, x->dims);
    if (!y)
        return fail(&v, AGLM_ERR_NOMEM);
    float eps = aglm_node_get_float(k->node, "epsilon", 1e-5f);
    int64_t cg = ch / groups, span = cg * plane;
    for (int64_t n = 0; n < batch; n++)
        for (int64_t g = 0; g < groups; g++) {
            const float *xp = v.in[0] + (n * ch + g * cg) * plane;
            float *yp = y + (n * ch + g * cg) * plane;
            double m, var;
            moments(xp, span, &m, &var);
            double inv = 1.0 / sqrt(var + eps);
            for (int64_t c = 0; c < cg; c++) {
                int64_t pi = per == ch ? g * cg + c : g;
                float s = v.in[1][pi], b = v.in[2][pi];
                for (int64_t i = 0; i < plane; i++)
                    yp[c * plane + i] = (float)((xp[c * plane + i] - m) * inv) * s + b;
            }
        }
    return views_done(&v, n_out, out);
}

/* ---- LpNormalization ------------------------------------------------------------------- */

static aglm_status k_lp_norm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    static const char *const names[] = {"input"};
    const aglm_tensor *x = in[0];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", -1), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    int64_t p = aglm_node_get_int(k->node, "p", 2);
    if (p != 1 && p != 2)
        return aglm_error(AGLM_ERR_INVALID, "attribute p is %lld; LpNormalization takes 1 or 2",
                          (long long)p);
    views v;
    if ((st = views_in(k, &v, n_in, in, 1, names)) != AGLM_OK)
        return st;
    float *y = views_out(k, &v, 0, &out[0], x->dtype, x->rank, x->dims);
    if (!y)
        return fail(&v, AGLM_ERR_NOMEM);
    int64_t outer = cpu_dims_prod(x->dims, 0, axis), n = x->dims[axis];
    int64_t inner = cpu_dims_prod(x->dims, axis + 1, x->rank);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xp = v.in[0] + o * n * inner + i;
            float *yp = y + o * n * inner + i;
            double s = 0;
            for (int64_t a = 0; a < n; a++)
                s += p == 1 ? fabs((double)xp[a * inner]) : (double)xp[a * inner] * xp[a * inner];
            /* an all-zero line stays zero instead of becoming 0/0 */
            double norm = s == 0 ? 1 : p == 1 ? s : sqrt(s);
            for (int64_t a = 0; a < n; a++)
                yp[a * inner] = (float)(xp[a * inner] / norm);
        }
    return views_done(&v, n_out, out);
}

/* ---- MeanVarianceNormalization ---------------------------------------------------------- */

/* (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9) over `axes` (default [0,2,3]), as the op's
 * function body computes it. */
static aglm_status k_mvn(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    static const char *const names[] = {"input"};
    const aglm_tensor *x = in[0];
    size_t n_axes = 0;
    const int64_t *axes = aglm_node_get_ints(k->node, "axes", &n_axes);
    static const int64_t def_axes[] = {0, 2, 3};
    if (!axes) {
        axes = def_axes;
        n_axes = 3;
    }
    unsigned char red[AGLM_MAX_RANK] = {0};
    aglm_status st;
    for (size_t i = 0; i < n_axes; i++) {
        int a;
        if ((st = cpu_norm_axis(axes[i], x->rank, 0, "attribute axes", &a)) != AGLM_OK)
            return st;
        red[a] = 1;
    }
    views v;
    if ((st = views_in(k, &v, n_in, in, 1, names)) != AGLM_OK)
        return st;
    float *y = views_out(k, &v, 0, &out[0], x->dtype, x->rank, x->dims);
    int64_t total = aglm_tensor_numel(x), groups = 1;
    for (int i = 0; i < x->rank; i++)
        groups *= red[i] ? 1 : x->dims[i];
    /* group index of every element, then sums per group */
    double *acc = calloc((size_t)(2 * groups + 1), sizeof *acc);
    int64_t *gi = malloc(sizeof *gi * (size_t)(total + 1));
    if (!y || !acc || !gi) {
        free(acc);
        free(gi);
        return fail(
            &v, aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld elements", (long long)total));
    }
    for (int64_t e = 0; e < total; e++) {
        int64_t rem = e, g = 0, mul = 1;
        for (int d = x->rank - 1; d >= 0; d--) {
            int64_t idx = rem % x->dims[d];
            rem /= x->dims[d];
            if (!red[d]) {
                g += idx * mul;
                mul *= x->dims[d];
            }
        }
        gi[e] = g;
        acc[2 * g] += v.in[0][e];
        acc[2 * g + 1] += (double)v.in[0][e] * v.in[0][e];
    }
    double cnt = groups > 0 ? (double)total / (double)groups : 1;
    for (int64_t e = 0; e < total; e++) {
        double m = acc[2 * gi[e]] / cnt, var = acc[2 * gi[e] + 1] / cnt - m * m;
        y[e] = (float)((v.in[0][e] - m) / (sqrt(var > 0 ? var : 0) + 1e-9));
    }
    free(acc);
    free(gi);
    return views_done(&v, n_out, out);
}

/* ---- LRN ----------------------------------------------------------------------------------- */

static aglm_status k_lrn(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    static const char *const names[] = {"input X"};
    const aglm_tensor *x = in[0];
    int64_t size = aglm_node_get_int(k->node, "size", 0);
    if (size <= 0)
        return aglm_error(AGLM_ERR_INVALID, "attribute size is %lld; it must be positive",
                          (long long)size);
    if (x->rank < 2) {
        char s[64];
        return aglm_error(AGLM_ERR_SHAPE, "input X has shape %s; expects [N,C,...]",
                          cpu_shape(x, s, sizeof s));
    }
    float alpha = aglm_node_get_float(k->node, "alpha", 1e-4f);
    float beta = aglm_node_get_float(k->node, "beta", 0.75f);
    float bias = aglm_node_get_float(k->node, "bias", 1.0f);
    views v;
    aglm_status st = views_in(k, &v, n_in, in, 1, names);
    if (st != AGLM_OK)
        return st;
    float *y = views_out(k, &v, 0, &out[0], x->dtype, x->rank, x->dims);
    if (!y)
        return fail(&v, AGLM_ERR_NOMEM);
    int64_t ch = x->dims[1], plane = cpu_dims_prod(x->dims, 2, x->rank);
    int64_t lo = (size - 1) / 2, hi = size - 1 - lo; /* floor and ceil of (size - 1) / 2 */
    for (int64_t n = 0; n < x->dims[0]; n++)
        for (int64_t c = 0; c < ch; c++)
            for (int64_t i = 0; i < plane; i++) {
                double sq = 0;
                for (int64_t cc = c - lo; cc <= c + hi; cc++) {
                    if (cc < 0 || cc >= ch)
                        continue;
                    double val = v.in[0][(n * ch + cc) * plane + i];
                    sq += val * val;
                }
                int64_t e = (n * ch + c) * plane + i;
                y[e] = (float)(v.in[0][e] / pow(bias + alpha / (double)size * sq, beta));
            }
    return views_done(&v, n_out, out);
}

const cpu_kernel cpu_norm_kernels[] = {
    {"BatchNormalization", NORM_TYPES, k_batch_norm},
    {"InstanceNormalization", NORM_TYPES, k_instance_norm},
    {"LayerNormalization", NORM_TYPES, k_layer_norm},
    {"RMSNormalization", NORM_TYPES, k_rms_norm},
    {"GroupNormalization", NORM_TYPES, k_group_norm},
    {"LpNormalization", NORM_TYPES, k_lp_norm},
    {"MeanVarianceNormalization", NORM_TYPES, k_mvn},
    {"LRN", NORM_TYPES, k_lrn},
    {NULL, 0, NULL},
};
