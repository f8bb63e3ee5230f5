/* The Reduce* family. Axes come from the `axes` attribute, or from input 1 from opset 13
 * (ReduceSum) or 18 (the others); no axes reduce everything unless noop_with_empty_axes makes
 * the node an identity. Floats accumulate in double; f16 and bf16 are widened to f32 first.
 * Integers and bool accumulate exactly in 64 bits and wrap back to their dtype.
 *
 * Over an empty set the result is the operation's identity, as the ONNX reference gives it:
 * 0 for sums and norms, 1 for products, -inf/+inf for max/min (the dtype's lowest/highest
 * integer), -inf for the log-sums, and NaN for a float mean. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ew_simd.h"
#include "kernels.h"

enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP, R_SUMSQ };

/* The input seen as kept dims (one per output element, row-major) and reduced dims, each with
 * its element stride in the input; adjacent dims that are contiguous are merged. */
typedef struct rplan {
    int nk, nr;
    int64_t kdims[AGLM_MAX_RANK], kstr[AGLM_MAX_RANK];
    int64_t rdims[AGLM_MAX_RANK], rstr[AGLM_MAX_RANK];
    int64_t n_out, n_red;
} rplan;

static void plan_push(int64_t *dims, int64_t *str, int *n, int64_t d, int64_t s)
{
    if (*n > 0 && str[*n - 1] == s * d) {
        dims[*n - 1] *= d;
        str[*n - 1] = s;
        return;
    }
    dims[*n] = d;
    str[*n] = s;
    (*n)++;
}

static void plan_init(rplan *p, const aglm_tensor *x, const unsigned char *reduced)
{
    int64_t str[AGLM_MAX_RANK], s = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        str[i] = s;
        s *= x->dims[i];
    }
    memset(p, 0, sizeof *p);
    p->n_out = p->n_red = 1;
    for (int i = 0; i < x->rank; i++) {
        if (reduced[i])
            p->n_red *= x->dims[i];
        else
            p->n_out *= x->dims[i];
        if (x->dims[i] == 1)
            continue;
        if (reduced[i])
            plan_push(p->rdims, p->rstr, &p->nr, x->dims[i], str[i]);
        else
            plan_push(p->kdims, p->kstr, &p->nk, x->dims[i], str[i]);
    }
    if (p->nr == 0) {
        p->nr = 1;
        p->rdims[0] = 1;
    }
}

static int64_t base_offset(const rplan *p, int64_t o)
{
    int64_t off = 0;
    for (int d = p->nk - 1; d >= 0; d--) {
        off += (o % p->kdims[d]) * p->kstr[d];
        o /= p->kdims[d];
    }
    return off;
}

/* ---- floating point ---------------------------------------------------------------------- */

/* Folds one line of n elements `st` apart into acc; m is the max for LogSumExp. NaN wins in
 * max and min, as numpy's maximum.reduce gives. */
#define FLOAT_LINE(NAME, T)                                                                        \
    static double NAME(int op, const T *x, int64_t n, int64_t st, double acc, double m)            \
    {                                                                                              \
        switch (op) {                                                                              \
        case R_SUM:                                                                                \
        case R_MEAN:                                                                               \
        case R_LOGSUM:                                                                             \
            for (int64_t i = 0; i < n; i++)                                                        \
                acc += x[i * st];                                                                  \
            break;                                                                                 \
        case R_L1:                                                                                 \
            for (int64_t i = 0; i < n; i++)                                                        \
                acc += fabs((double)x[i * st]);                                                    \
            break;                                                                                 \
        case R_L2:                                                                                 \
        case R_SUMSQ:                                                                              \
            for (int64_t i = 0; i < n; i++) {                                                      \
                double v = x[i * st];                                                              \
                acc += v * v;                                                                      \
            }                                                                                      \
            break;                                                                                 \
        case R_PROD:                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                acc *= x[i * st];                                                                  \
            break;                                                                                 \
        case R_MAX:                                                                                \
            for (int64_t i = 0; i < n; i++) {                                                      \
                double v = x[i * st];                                                              \
                acc = (v > acc || isnan(v)) && !isnan(acc) ? v : acc;                              \
            }                                                                                      \
            break;                                                                                 \
        case R_MIN:                                                                                \
            for (int64_t i = 0; i < n; i++) {                                                      \
                double v = x[i * st];                                                              \
                acc = (v < acc || isnan(v)) && !isnan(acc) ? v : acc;                              \
            }                                                                                      \
            break;                                                                                 \
        case R_LOGSUMEXP:                                                                          \
            for (int64_t i = 0; i < n; i++)                                                        \
                acc += exp(x[i * st] - m);                                                         \
            break;                                                                                 \
        }                                                                                          \
        return acc;                                                                                \
    }

FLOAT_LINE(line_f32, float)
FLOAT_LINE(line_f64, double)

/* line_f32 through ew_simd.h's vectorised sum and max for contiguous lines (ReduceMean over
 * the last axis, as layer norms spell it), when the AVX2 path is active and, for max, the line
 * holds no NaN; line_f32 itself otherwise. */
static double line_f32_fast(int op, const float *x, int64_t n, int64_t st, double acc, double m)
{
    if (st == 1 && (op == R_SUM || op == R_MEAN || op == R_LOGSUM)) {
        double s;
        if (cpu_ew_sum_f32(x, n, &s))
            return acc + s;
    } else if (st == 1 && op == R_MAX && n > 0 && !isnan(acc)) {
        float v;
        if (cpu_ew_max_f32(x, n, &v))
            return (double)v > acc ? (double)v : acc;
    }
    return line_f32(op, x, n, st, acc, m);
}

typedef struct rjob {
    const rplan *p;
    int op;
    const void *x; /* float, double or int64_t elements */
    int is_f64;
    double *yf;    /* float results */
    int64_t *yi;   /* integer results */
    aglm_dtype dt; /* the input's dtype (for integer identities) */
} rjob;

static double fold_f(const rjob *j, int64_t base, int op, double acc, double m)
{
    const rplan *p = j->p;
    int nr = p->nr;
    int64_t idx[AGLM_MAX_RANK] = {0};
    int64_t n = p->rdims[nr - 1], st = p->rstr[nr - 1];
    if (p->n_red == 0)
        return acc;
    for (;;) {
        int64_t off = base;
        for (int d = 0; d < nr - 1; d++)
            off += idx[d] * p->rstr[d];
        if (j->is_f64)
            acc = line_f64(op, (const double *)j->x + off, n, st, acc, m);
        else
            acc = line_f32_fast(op, (const float *)j->x + off, n, st, acc, m);
        int d = nr - 2;
        while (d >= 0 && ++idx[d] == p->rdims[d])
            idx[d--] = 0;
        if (d < 0)
            return acc;
    }
}

static void range_f(void *ctx, size_t b, size_t e, int worker)
{
    const rjob *j = ctx;
    double nred = (double)j->p->n_red;
    for (size_t o = b; o < e; o++) {
        int64_t base = base_offset(j->p, (int64_t)o);
        double r;
        switch (j->op) {
        case R_MAX: r = fold_f(j, base, R_MAX, -INFINITY, 0); break;
        case R_MIN: r = fold_f(j, base, R_MIN, INFINITY, 0); break;
        case R_PROD: r = fold_f(j, base, R_PROD, 1, 0); break;
        case R_MEAN: r = fold_f(j, base, R_SUM, 0, 0) / nred; break;
        case R_L2: r = sqrt(fold_f(j, base, R_L2, 0, 0)); break;
        case R_LOGSUM: r = log(fold_f(j, base, R_SUM, 0, 0)); break;
        case R_LOGSUMEXP: {
            double m = fold_f(j, base, R_MAX, -INFINITY, 0);
            /* all -inf (or none) gives -inf; an inf or NaN max is the answer itself */
            r = isinf(m) || isnan(m) ? m : m + log(fold_f(j, base, R_LOGSUMEXP, 0, m));
            break;
        }
        default: r = fold_f(j, base, j->op, 0, 0); break;
        }
        j->yf[o] = r;
    }
}

/* ---- integers and bool -------------------------------------------------------------------- */

static void int_range_of(aglm_dtype dt, int64_t *lo, int64_t *hi)
{
    switch (dt) {
    case AGLM_BOOL:
        *lo = 0;
        *hi = 1;
        break;
    case AGLM_U8:
        *lo = 0;
        *hi = UINT8_MAX;
        break;
    case AGLM_I8:
        *lo = INT8_MIN;
        *hi = INT8_MAX;
        break;
    case AGLM_U16:
        *lo = 0;
        *hi = UINT16_MAX;
        break;
    case AGLM_I16:
        *lo = INT16_MIN;
        *hi = INT16_MAX;
        break;
    case AGLM_U32:
        *lo = 0;
        *hi = UINT32_MAX;
        break;
    case AGLM_I32:
        *lo = INT32_MIN;
        *hi = INT32_MAX;
        break;
    default:
        *lo = INT64_MIN;
        *hi = INT64_MAX;
        break;
    }
}

static int64_t fold_i(const rjob *j, int64_t base, int op, int64_t init)
{
    const rplan *p = j->p;
    const int64_t *x = j->x;
    int nr = p->nr;
    int64_t idx[AGLM_MAX_RANK] = {0};
    int64_t n = p->rdims[nr - 1], st = p->rstr[nr - 1];
    /* sums and products wrap: unsigned arithmetic is defined on overflow */
    uint64_t acc = (uint64_t)init;
    int64_t best = init;
    if (p->n_red == 0)
        return init;
    for (;;) {
        int64_t off = base;
        for (int d = 0; d < nr - 1; d++)
            off += idx[d] * p->rstr[d];
        const int64_t *l = x + off;
        for (int64_t i = 0; i < n; i++) {
            int64_t v = l[i * st];
            switch (op) {
            case R_SUM:
            case R_MEAN: acc += (uint64_t)v; break;
            case R_L1: acc += v < 0 ? 0 - (uint64_t)v : (uint64_t)v; break;
            case R_SUMSQ: acc += (uint64_t)v * (uint64_t)v; break;
            case R_PROD: acc *= (uint64_t)v; break;
            case R_MAX: best = v > best ? v : best; break;
            case R_MIN: best = v < best ? v : best; break;
            }
        }
        int d = nr - 2;
        while (d >= 0 && ++idx[d] == p->rdims[d])
            idx[d--] = 0;
        if (d < 0)
            break;
    }
    return op == R_MAX || op == R_MIN ? best : (int64_t)acc;
}

static void range_i(void *ctx, size_t b, size_t e, int worker)
{
    const rjob *j = ctx;
    int64_t lo, hi;
    int_range_of(j->dt, &lo, &hi);
    for (size_t o = b; o < e; o++) {
        int64_t base = base_offset(j->p, (int64_t)o);
        int64_t r;
        switch (j->op) {
        case R_MAX: r = fold_i(j, base, R_MAX, lo); break;
        case R_MIN: r = fold_i(j, base, R_MIN, hi); break;
        case R_PROD: r = fold_i(j, base, R_PROD, 1); break;
        case R_MEAN: {
            /* the mean of an integer tensor truncates toward zero; of nothing it is 0 */
            int64_t s = fold_i(j, base, R_SUM, 0);
            r = j->p->n_red ? s / j->p->n_red : 0;
            break;
        }
        default: r = fold_i(j, base, j->op, 0); break;
        }
        j->yi[o] = r;
    }
}

/* Widens any integer or bool tensor to int64 values. */
static int64_t *ints_of(const aglm_tensor *t)
{
    int64_t n = aglm_tensor_numel(t);
    int64_t *v = malloc(n > 0 ? (size_t)n * sizeof *v : 1);
    if (!v) {
        aglm_error(AGLM_ERR_NOMEM, "out of memory widening %lld elements", (long long)n);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        v[i] = cpu_get_i(t->data, t->dtype, i);
    return v;
}

static void store_ints(aglm_tensor *y, const int64_t *v)
{
    int64_t n = aglm_tensor_numel(y);
    for (int64_t i = 0; i < n; i++)
        cpu_set_i(y->data, y->dtype, i, v[i]);
}

/* ---- the kernel ------------------------------------------------------------------------- */

/* Which axes to reduce; *noop when the node is an identity. */
static aglm_status read_axes(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             unsigned char *reduced, int *noop)
{
    const char *op = aglm_node_op(k->node);
    int from_input = k->opset >= (strcmp(op, "ReduceSum") == 0 ? 13 : 18);
    int64_t axes[2 * AGLM_MAX_RANK];
    size_t n_axes = 0;
    const aglm_tensor *x = in[0];
    aglm_status st;
    if (from_input) {
        if (n_in > 1 && in[1] &&
            (st = cpu_read_ints(in[1], "input axes", axes, 2 * AGLM_MAX_RANK, &n_axes)) != AGLM_OK)
            return st;
    } else {
        const int64_t *a = aglm_node_get_ints(k->node, "axes", &n_axes);
        if (n_axes > 2 * AGLM_MAX_RANK)
            return aglm_error(AGLM_ERR_INVALID, "attribute axes has %zu values for rank %d", n_axes,
                              x->rank);
        if (n_axes)
            memcpy(axes, a, n_axes * sizeof *axes);
    }
    memset(reduced, 0, AGLM_MAX_RANK);
    *noop = 0;
    if (n_axes == 0) {
        if (from_input && aglm_node_get_int(k->node, "noop_with_empty_axes", 0))
            *noop = 1;
        else
            memset(reduced, 1, (size_t)x->rank);
        return AGLM_OK;
    }
    for (size_t i = 0; i < n_axes; i++) {
        int a;
        if ((st = cpu_norm_axis(axes[i], x->rank, 0, "axis", &a)) != AGLM_OK)
            return st;
        reduced[a] = 1;
    }
    return AGLM_OK;
}

static aglm_status run_reduce(const cpu_kctx *k, int op, size_t n_in, const aglm_tensor *const *in,
                              aglm_tensor *y)
{
    const aglm_tensor *x = in[0];
    unsigned char reduced[AGLM_MAX_RANK];
    int noop;
    aglm_status st = read_axes(k, n_in, in, reduced, &noop);
    if (st != AGLM_OK)
        return st;
    if (noop)
        return aglm_tensor_copy(y, x);
    int keep = aglm_node_get_int(k->node, "keepdims", 1) != 0;
    int64_t dims[AGLM_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!reduced[i])
            dims[rank++] = x->dims[i];
        else if (keep)
            dims[rank++] = 1;
    }
    if ((st = cpu_alloc(k, y, x->dtype, rank, dims)) != AGLM_OK)
        return st;
    rplan p;
    plan_init(&p, x, reduced);
    if (p.n_out == 0)
        return AGLM_OK;
    rjob j = {&p, op, NULL, 0, NULL, NULL, x->dtype};
    /* 16K elements a task at least: less is quicker done than a worker is woken */
    size_t grain = p.n_red >= 16384 ? 1 : (size_t)(16384 / (p.n_red ? p.n_red : 1));
    void *scratch = NULL;
    if (aglm_dtype_is_float(x->dtype)) {
        float *conv = NULL;
        if (x->dtype == AGLM_F64) {
            j.x = x->data;
            j.is_f64 = 1;
        } else if (!(j.x = cpu_f32_view(x, &conv))) {
            return AGLM_ERR_NOMEM;
        }
        j.yf = malloc((size_t)p.n_out * sizeof *j.yf);
        if (!j.yf) {
            free(conv);
            return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld results", (long long)p.n_out);
        }
        cpu_parallel_for(k->pool, (size_t)p.n_out, grain, range_f, &j);
        free(conv);
        if (y->dtype == AGLM_F64) {
            memcpy(y->data, j.yf, (size_t)p.n_out * sizeof(double));
        } else {
            float *f = y->dtype == AGLM_F32 ? y->data : malloc((size_t)p.n_out * sizeof *f);
            if (!f) {
                free(j.yf);
                return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld results",
                                  (long long)p.n_out);
            }
            for (int64_t i = 0; i < p.n_out; i++)
                f[i] = (float)j.yf[i];
            if (f != y->data) {
                cpu_f32_store(y, f);
                free(f);
            }
        }
        free(j.yf);
        return AGLM_OK;
    }
    if (!(scratch = ints_of(x)))
        return AGLM_ERR_NOMEM;
    j.x = scratch;
    j.yi = malloc((size_t)p.n_out * sizeof *j.yi);
    if (!j.yi) {
        free(scratch);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld results", (long long)p.n_out);
    }
    cpu_parallel_for(k->pool, (size_t)p.n_out, grain, range_i, &j);
    store_ints(y, j.yi);
    free(j.yi);
    free(scratch);
    return AGLM_OK;
}

#define REDUCE_KERNEL(NAME, OP)                                                                    \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,          \
                            size_t n_out, aglm_tensor *out)                                        \
    {                                                                                              \
        return run_reduce(k, OP, n_in, in, &out[0]);                                               \
    }

REDUCE_KERNEL(k_sum, R_SUM)
REDUCE_KERNEL(k_mean, R_MEAN)
REDUCE_KERNEL(k_max, R_MAX)
REDUCE_KERNEL(k_min, R_MIN)
REDUCE_KERNEL(k_prod, R_PROD)
REDUCE_KERNEL(k_l1, R_L1)
REDUCE_KERNEL(k_l2, R_L2)
REDUCE_KERNEL(k_logsum, R_LOGSUM)
REDUCE_KERNEL(k_logsumexp, R_LOGSUMEXP)
REDUCE_KERNEL(k_sumsq, R_SUMSQ)

#define RF (CPU_FLOATS | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))
#define RI                                                                                         \
    (CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U32) | CPU_DT(AGLM_I8) | CPU_DT(AGLM_U8) |  \
     CPU_DT(AGLM_I16) | CPU_DT(AGLM_U16))

const cpu_kernel cpu_reduce_kernels[] = {
    {"ReduceSum", RF | RI, k_sum},
    {"ReduceMean", RF | RI, k_mean},
    {"ReduceMax", RF | RI | CPU_DT(AGLM_BOOL), k_max},
    {"ReduceMin", RF | RI | CPU_DT(AGLM_BOOL), k_min},
    {"ReduceProd", RF | RI, k_prod},
    {"ReduceL1", RF | RI, k_l1},
    {"ReduceL2", RF, k_l2},
    {"ReduceLogSum", RF, k_logsum},
    {"ReduceLogSumExp", RF, k_logsumexp},
    {"ReduceSumSquare", RF | RI, k_sumsq},
    {NULL, 0, NULL},
};
