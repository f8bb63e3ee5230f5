/* Quantisation: QuantizeLinear and DequantizeLinear (per tensor, per axis, and blocked from
 * opset 21; u8, i8, u16, i16 and, for dequantisation, i32 data), DynamicQuantizeLinear, and the
 * integer products MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv.
 *
 * Rounding is to nearest, ties to even, as ONNX specifies; quantised results saturate to the
 * target type. Integer products accumulate exactly in 64 bits and wrap to i32 (ONNX allows
 * accumulation to overflow only in 32 bits). Requantisation multiplies the i32 sum by
 * a_scale * b_scale / y_scale computed in the scales' own precision, as the reference does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define Q_INTS (CPU_DT(AGLM_U8) | CPU_DT(AGLM_I8) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_I16))
#define Q_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))

static int64_t qget(const aglm_tensor *t, int64_t i)
{
    return cpu_get_i(t->data, t->dtype, i);
}

static void qrange(aglm_dtype dt, double *lo, double *hi)
{
    switch (dt) {
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
    default:
        *lo = INT32_MIN;
        *hi = INT32_MAX;
        break;
    }
}

/* Rounds half to even and saturates v into dt's range, then stores it as element i. */
static void qput(aglm_tensor *t, int64_t i, double v, double lo, double hi)
{
    v = nearbyint(v);
    v = v < lo ? lo : v > hi ? hi : v;
    cpu_set_i(t->data, t->dtype, i, (int64_t)v);
}

/* ---- QuantizeLinear / DequantizeLinear ------------------------------------------------- */

/* Which scale (and zero point) element serves each element of x. */
typedef struct qmap {
    int mode; /* 0: per tensor, 1: per axis, 2: blocked */
    int64_t n, inner, bs, nb;
} qmap;

static aglm_status qmap_init(qmap *m, const cpu_kctx *k, const aglm_tensor *x,
                             const aglm_tensor *scale, const aglm_tensor *zp)
{
    char sx[64], ss[64];
    memset(m, 0, sizeof *m);
    if (zp && !aglm_tensor_same_shape(zp, scale))
        return aglm_error(AGLM_ERR_SHAPE, "zero point %s and scale %s differ in shape",
                          cpu_shape(zp, sx, sizeof sx), cpu_shape(scale, ss, sizeof ss));
    int64_t bs = k->opset >= 21 ? aglm_node_get_int(k->node, "block_size", 0) : 0;
    if (aglm_tensor_numel(scale) == 1 && scale->rank <= 1 && bs == 0)
        return AGLM_OK;
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", 1), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    m->n = x->dims[axis];
    m->inner = cpu_dims_prod(x->dims, axis + 1, x->rank);
    if (bs <= 0) {
        if (scale->rank != 1 || scale->dims[0] != m->n)
            return aglm_error(AGLM_ERR_SHAPE,
                              "scale %s fits neither one value nor one per "
                              "element of axis %d of input %s",
                              cpu_shape(scale, ss, sizeof ss), axis, cpu_shape(x, sx, sizeof sx));
        m->mode = 1;
        return AGLM_OK;
    }
    m->mode = 2;
    m->bs = bs;
    m->nb = (m->n + bs - 1) / bs;
    int ok = scale->rank == x->rank;
    for (int i = 0; ok && i < x->rank; i++)
        ok = scale->dims[i] == (i == axis ? m->nb : x->dims[i]);
    if (!ok)
        return aglm_error(AGLM_ERR_SHAPE,
                          "scale %s does not block input %s along axis %d in "
                          "blocks of %lld",
                          cpu_shape(scale, ss, sizeof ss), cpu_shape(x, sx, sizeof sx), axis,
                          (long long)bs);
    return AGLM_OK;
}

static int64_t qmap_at(const qmap *m, int64_t e)
{
    if (m->mode == 0)
        return 0;
    int64_t i = e % m->inner, a = (e / m->inner) % m->n;
    if (m->mode == 1)
        return a;
    int64_t o = e / (m->inner * m->n);
    return (o * m->nb + a / m->bs) * m->inner + i;
}

static aglm_status k_quantize(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *scale = in[1], *zp = n_in > 2 ? in[2] : NULL;
    aglm_status st = cpu_check_dtype(k, scale, "input y_scale", Q_FLOATS);
    if (st != AGLM_OK)
        return st;
    aglm_dtype dt = AGLM_U8;
    int64_t od = aglm_node_get_int(k->node, "output_dtype", 0);
    if (zp)
        dt = zp->dtype;
    else if (od > 0)
        dt = (aglm_dtype)od;
    if (dt >= 32 || !(Q_INTS & CPU_DT(dt)))
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "quantising to %s is not supported (u8, i8, u16, "
                          "i16 are)",
                          aglm_dtype_name(dt));
    qmap m;
    if ((st = qmap_init(&m, k, x, scale, zp)) != AGLM_OK)
        return st;
    if ((st = cpu_alloc(k, &out[0], dt, x->rank, x->dims)) != AGLM_OK)
        return st;
    float *xs = NULL, *ss = NULL;
    const float *xf = NULL, *sf = cpu_f32_view(scale, &ss);
    int64_t n = aglm_tensor_numel(x);
    if (x->dtype == AGLM_I32) {
        if ((xs = malloc(sizeof *xs * (size_t)(n + 1))))
            for (int64_t i = 0; i < n; i++)
                xs[i] = (float)((const int32_t *)x->data)[i];
        xf = xs;
    } else if (sf) {
        xf = cpu_f32_view(x, &xs);
    }
    if (!xf || !sf) {
        free(xs);
        free(ss);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory quantising %lld elements", (long long)n);
    }
    double lo, hi;
    qrange(dt, &lo, &hi);
    for (int64_t e = 0; e < n; e++) {
        int64_t s = qmap_at(&m, e);
        /* the division is done in f32, as ONNX Runtime and the reference do */
        float q = nearbyintf(xf[e] / sf[s]);
        qput(&out[0], e, (double)q + (double)(zp ? qget(zp, s) : 0), lo, hi);
    }
    free(xs);
    free(ss);
    return AGLM_OK;
}

static aglm_status k_dequantize(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *scale = in[1], *zp = n_in > 2 ? in[2] : NULL;
    aglm_status st = cpu_check_dtype(k, scale, "input x_scale", Q_FLOATS);
    if (st == AGLM_OK && zp)
        st = cpu_check_same_dtype(x, "input x", zp, "input x_zero_point");
    if (st != AGLM_OK)
        return st;
    qmap m;
    if ((st = qmap_init(&m, k, x, scale, zp)) != AGLM_OK)
        return st;
    int64_t n = aglm_tensor_numel(x);
    float *ss = NULL, *y = malloc(sizeof *y * (size_t)(n + 1));
    const float *sf = cpu_f32_view(scale, &ss);
    if (!y || !sf) {
        free(y);
        free(ss);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory dequantising %lld elements", (long long)n);
    }
    for (int64_t e = 0; e < n; e++) {
        int64_t s = qmap_at(&m, e);
        y[e] = (float)(qget(x, e) - (zp ? qget(zp, s) : 0)) * sf[s];
    }
    st = cpu_alloc(k, &out[0], scale->dtype, x->rank, x->dims);
    if (st == AGLM_OK)
        cpu_f32_store(&out[0], y);
    free(y);
    free(ss);
    return st;
}

/* ---- DynamicQuantizeLinear ------------------------------------------------------------- */

/* u8 with scale (max(0, max x) - min(0, min x)) / 255 and the zero point that maps 0 exactly,
 * all in f32 as the op's function body computes them. */
static aglm_status k_dynamic_quantize(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                      size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t n = aglm_tensor_numel(x);
    const float *xf = x->data;
    float mn = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        mn = xf[i] < mn ? xf[i] : mn;
        mx = xf[i] > mx ? xf[i] : mx;
    }
    float scale = (mx - mn) / 255.0f;
    float zpf = scale > 0 ? nearbyintf(fminf(fmaxf(0.0f - mn / scale, 0.0f), 255.0f)) : 0.0f;
    aglm_status st = cpu_alloc(k, &out[0], AGLM_U8, x->rank, x->dims);
    if (st == AGLM_OK && n_out > 1)
        st = cpu_alloc(k, &out[1], AGLM_F32, 0, NULL);
    if (st == AGLM_OK && n_out > 2)
        st = cpu_alloc(k, &out[2], AGLM_U8, 0, NULL);
    if (st != AGLM_OK)
        return st;
    for (int64_t i = 0; i < n; i++) {
        /* an all-zero input has scale 0: every element is the zero point */
        float q = scale > 0 ? nearbyintf(xf[i] / scale) + zpf : zpf;
        qput(&out[0], i, q, 0, 255);
    }
    if (n_out > 1)
        *(float *)out[1].data = scale;
    if (n_out > 2)
        *(uint8_t *)out[2].data = (uint8_t)zpf;
    return AGLM_OK;
}

/* ---- integer matrix products ------------------------------------------------------------ */

/* A batched product of int32 operands a [.., M, K] and b [.., K, N] (1-D operands promoted as
 * numpy.matmul does), its result in int32 of the broadcast shape. */
typedef struct imm {
    int ra, rb, rank; /* promoted ranks of a and b; rank of the result */
    int64_t da[AGLM_MAX_RANK], db[AGLM_MAX_RANK], dy[AGLM_MAX_RANK];
    int64_t m, k, n, batch;
    int ydrop; /* result rank after dropping promoted dims */
    int64_t ydims[AGLM_MAX_RANK];
} imm;

static aglm_status imm_init(imm *p, const aglm_tensor *a, const aglm_tensor *b)
{
    char sa[64], sb[64];
    if (a->rank < 1 || b->rank < 1)
        return aglm_error(AGLM_ERR_SHAPE, "cannot multiply %s and %s: a scalar operand",
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    p->ra = a->rank == 1 ? 2 : a->rank;
    p->rb = b->rank == 1 ? 2 : b->rank;
    if (a->rank == 1) {
        p->da[0] = 1;
        p->da[1] = a->dims[0];
    } else {
        memcpy(p->da, a->dims, sizeof(int64_t) * (size_t)a->rank);
    }
    if (b->rank == 1) {
        p->db[0] = b->dims[0];
        p->db[1] = 1;
    } else {
        memcpy(p->db, b->dims, sizeof(int64_t) * (size_t)b->rank);
    }
    p->m = p->da[p->ra - 2];
    p->k = p->da[p->ra - 1];
    p->n = p->db[p->rb - 1];
    if (p->db[p->rb - 2] != p->k)
        return aglm_error(AGLM_ERR_SHAPE, "inner dimensions differ: cannot multiply %s and %s",
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    int br;
    if (aglm_broadcast_shapes(p->ra - 2, p->da, p->rb - 2, p->db, &br, p->dy) != AGLM_OK)
        return aglm_error(AGLM_ERR_SHAPE, "batch dimensions of %s and %s do not broadcast",
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    p->batch = cpu_dims_prod(p->dy, 0, br);
    p->rank = br + 2;
    p->dy[br] = p->m;
    p->dy[br + 1] = p->n;
    p->ydrop = 0;
    for (int i = 0; i < br; i++)
        p->ydims[p->ydrop++] = p->dy[i];
    if (a->rank != 1)
        p->ydims[p->ydrop++] = p->m;
    if (b->rank != 1)
        p->ydims[p->ydrop++] = p->n;
    return AGLM_OK;
}

/* The matrix index of operand t (batch rank tr, dims td) that batch index bi maps to. */
static int64_t batch_of(const imm *p, int64_t bi, int tr, const int64_t *td)
{
    int yr = p->rank - 2;
    int64_t off = 0, stride = 1;
    for (int d = yr - 1; d >= 0; d--) {
        int64_t idx = bi % p->dy[d];
        bi /= p->dy[d];
        int ti = d - (yr - tr);
        if (ti >= 0) {
            off += (td[ti] == 1 ? 0 : idx) * stride;
            stride *= td[ti];
        }
    }
    return off;
}

/* y[batch, M, N] = a @ b, wrapping to int32. */
static void imm_run(const imm *p, const int32_t *a, const int32_t *b, int32_t *y)
{
    for (int64_t bi = 0; bi < p->batch; bi++) {
        const int32_t *ap = a + batch_of(p, bi, p->ra - 2, p->da) * p->m * p->k;
        const int32_t *bp = b + batch_of(p, bi, p->rb - 2, p->db) * p->k * p->n;
        int32_t *yp = y + bi * p->m * p->n;
        for (int64_t i = 0; i < p->m; i++)
            for (int64_t j = 0; j < p->n; j++) {
                int64_t acc = 0;
                for (int64_t q = 0; q < p->k; q++)
                    acc += (int64_t)ap[i * p->k + q] * bp[q * p->n + j];
                yp[i * p->n + j] = (int32_t)(uint32_t)acc;
            }
    }
}

/* t minus its zero point as int32: zp holds one value, one per row of a (a_zero_point; rows
 * counted over the whole tensor or within one matrix), or one per column of b. */
static aglm_status minus_zp(const aglm_tensor *t, const aglm_tensor *zp, int rows, const char *what,
                            int32_t **out)
{
    int64_t n = aglm_tensor_numel(t);
    int64_t nz = zp ? aglm_tensor_numel(zp) : 0;
    int64_t last = t->rank > 0 ? t->dims[t->rank - 1] : 1;
    int64_t within = t->rank >= 2 ? t->dims[t->rank - 2] : 1; /* rows of one matrix of b */
    char st[64], sz[64];
    if (zp && nz != 1 && !(rows && (nz == n / (last ? last : 1) || nz == within)) &&
        !(!rows && (nz == last || nz * within == n)))
        return aglm_error(AGLM_ERR_SHAPE, "%s %s fits neither one value nor one per %s of %s", what,
                          cpu_shape(zp, sz, sizeof sz), rows ? "row" : "column",
                          cpu_shape(t, st, sizeof st));
    if (zp && zp->dtype != t->dtype)
        return aglm_error(AGLM_ERR_TYPE, "%s is %s but its operand is %s", what,
                          aglm_dtype_name(zp->dtype), aglm_dtype_name(t->dtype));
    int32_t *v = malloc(sizeof *v * (size_t)(n + 1));
    if (!v)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld operands", (long long)n);
    for (int64_t e = 0; e < n; e++) {
        int64_t z = 0;
        if (nz == 1) {
            z = qget(zp, 0);
        } else if (nz > 1 && rows) {
            z = qget(zp, (e / last) % nz);
        } else if (nz > 1) {
            int64_t col = e % last, mat = e / (last * (within ? within : 1));
            z = qget(zp, nz == last ? col : mat * last + col);
        }
        v[e] = (int32_t)(qget(t, e) - z);
    }
    *out = v;
    return AGLM_OK;
}

static aglm_status check_q8(const cpu_kctx *k, const aglm_tensor *t, const char *what)
{
    return cpu_check_dtype(k, t, what, CPU_DT(AGLM_U8) | CPU_DT(AGLM_I8));
}

static aglm_status k_matmul_integer(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    imm p;
    aglm_status st = check_q8(k, in[1], "input B");
    if (st == AGLM_OK)
        st = imm_init(&p, in[0], in[1]);
    if (st != AGLM_OK)
        return st;
    int32_t *a = NULL, *b = NULL;
    if ((st = minus_zp(in[0], n_in > 2 ? in[2] : NULL, 1, "a_zero_point", &a)) == AGLM_OK &&
        (st = minus_zp(in[1], n_in > 3 ? in[3] : NULL, 0, "b_zero_point", &b)) == AGLM_OK &&
        (st = cpu_alloc(k, &out[0], AGLM_I32, p.ydrop, p.ydims)) == AGLM_OK)
        imm_run(&p, a, b, out[0].data);
    free(a);
    free(b);
    return st;
}

/* One requantisation multiplier a_scale * b_scale / y_scale, rounded after each step to the
 * scales' dtype (f16 and bf16 included), as numpy computes it on those arrays. */
static double requant(aglm_dtype dt, double as, double bs, double ys)
{
    float p = (float)as * (float)bs;
    if (dt == AGLM_F16)
        p = aglm_f16_to_f32(aglm_f32_to_f16(p));
    else if (dt == AGLM_BF16)
        p = aglm_bf16_to_f32(aglm_f32_to_bf16(p));
    float q = p / (float)ys;
    if (dt == AGLM_F16)
        q = aglm_f16_to_f32(aglm_f32_to_f16(q));
    else if (dt == AGLM_BF16)
        q = aglm_bf16_to_f32(aglm_f32_to_bf16(q));
    return q;
}

static aglm_status need_scale(const cpu_kctx *k, const aglm_tensor *s, const char *what)
{
    return cpu_check_dtype(k, s, what, Q_FLOATS);
}

static aglm_status k_qlinear_matmul(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *as = in[1], *bs = in[4], *ys = in[6], *yzp = in[7];
    imm p;
    aglm_status st;
    if ((st = check_q8(k, in[3], "input b")) != AGLM_OK ||
        (st = check_q8(k, yzp, "input y_zero_point")) != AGLM_OK ||
        (st = need_scale(k, as, "input a_scale")) != AGLM_OK ||
        (st = need_scale(k, bs, "input b_scale")) != AGLM_OK ||
        (st = need_scale(k, ys, "input y_scale")) != AGLM_OK ||
        (st = imm_init(&p, in[0], in[3])) != AGLM_OK)
        return st;
    int64_t nas = aglm_tensor_numel(as), nbs = aglm_tensor_numel(bs);
    if ((nas != 1 && nas != p.m) || (nbs != 1 && nbs != p.n) || aglm_tensor_numel(ys) != 1 ||
        aglm_tensor_numel(yzp) != 1)
        return aglm_error(AGLM_ERR_SHAPE,
                          "scales: a_scale has %lld values (1 or %lld rows), "
                          "b_scale %lld (1 or %lld columns), y_scale and y_zero_point must have 1",
                          (long long)nas, (long long)p.m, (long long)nbs, (long long)p.n);
    int32_t *a = NULL, *b = NULL, *acc = NULL;
    if ((st = minus_zp(in[0], in[2], 1, "a_zero_point", &a)) != AGLM_OK ||
        (st = minus_zp(in[3], in[5], 0, "b_zero_point", &b)) != AGLM_OK) {
        free(a);
        return st;
    }
    int64_t total = p.batch * p.m * p.n;
    if (!(acc = malloc(sizeof *acc * (size_t)(total + 1)))) {
        free(a);
        free(b);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld results", (long long)total);
    }
    imm_run(&p, a, b, acc);
    if ((st = cpu_alloc(k, &out[0], yzp->dtype, p.ydrop, p.ydims)) == AGLM_OK) {
        double lo, hi, y_s = aglm_tensor_get_f64(ys, 0), zp = (double)qget(yzp, 0);
        qrange(yzp->dtype, &lo, &hi);
        for (int64_t e = 0; e < total; e++) {
            int64_t i = (e / p.n) % p.m, j = e % p.n;
            double mul = requant(as->dtype, aglm_tensor_get_f64(as, nas == 1 ? 0 : i),
                                 aglm_tensor_get_f64(bs, nbs == 1 ? 0 : j), y_s);
            qput(&out[0], e, (double)acc[e] * mul + zp, lo, hi);
        }
    }
    free(a);
    free(b);
    free(acc);
    return st;
}

/* ---- integer convolutions ---------------------------------------------------------------- */

/* Direct convolution of int32 x [N,C,spatial] with w [M,C/group,kernel] into int32 y (wrapping),
 * for the geometry in `w`; padding reads as 0 (the zero point, once it is subtracted). */
static void conv_i32(const aglm_window *win, int64_t nb, int64_t c, int64_t m, int64_t group,
                     const int32_t *x, const int32_t *w, int32_t *y)
{
    int64_t cg = c / group, mg = m / group;
    int64_t in_sz = aglm_window_in_size(win), out_sz = aglm_window_out_size(win);
    int64_t ksz = aglm_window_kernel_size(win);
    for (int64_t n = 0; n < nb; n++)
        for (int64_t oc = 0; oc < m; oc++) {
            int64_t g = oc / mg;
            int32_t *yp = y + (n * m + oc) * out_sz;
            for (int64_t od = 0; od < win->out[0]; od++)
                for (int64_t oh = 0; oh < win->out[1]; oh++)
                    for (int64_t ow = 0; ow < win->out[2]; ow++) {
                        int64_t acc = 0;
                        for (int64_t ic = 0; ic < cg; ic++) {
                            const int32_t *xp = x + (n * c + g * cg + ic) * in_sz;
                            const int32_t *wp = w + (oc * cg + ic) * ksz;
                            for (int64_t kd = 0; kd < win->k[0]; kd++) {
                                int64_t id = od * win->s[0] - win->pb[0] + kd * win->d[0];
                                if (id < 0 || id >= win->in[0])
                                    continue;
                                for (int64_t kh = 0; kh < win->k[1]; kh++) {
                                    int64_t ih = oh * win->s[1] - win->pb[1] + kh * win->d[1];
                                    if (ih < 0 || ih >= win->in[1])
                                        continue;
                                    for (int64_t kw = 0; kw < win->k[2]; kw++) {
                                        int64_t iw = ow * win->s[2] - win->pb[2] + kw * win->d[2];
                                        if (iw < 0 || iw >= win->in[2])
                                            continue;
                                        acc +=
                                            (int64_t)xp[(id * win->in[1] + ih) * win->in[2] + iw] *
                                            wp[(kd * win->k[1] + kh) * win->k[2] + kw];
                                    }
                                }
                            }
                        }
                        yp[(od * win->out[1] + oh) * win->out[2] + ow] = (int32_t)(uint32_t)acc;
                    }
        }
}

/* Checks x [N,C,...] and w [M,C/group,...], resolves the window, and gives the output dims. */
static aglm_status conv_geometry(const cpu_kctx *k, const aglm_tensor *x, const aglm_tensor *w,
                                 aglm_window *win, int64_t *group, int64_t *ydims)
{
    char sx[64], sw[64];
    *group = aglm_node_get_int(k->node, "group", 1);
    if (x->rank < 3 || w->rank != x->rank || *group < 1 || x->dims[1] % *group != 0 ||
        w->dims[0] % *group != 0 || w->dims[1] != x->dims[1] / *group)
        return aglm_error(AGLM_ERR_SHAPE,
                          "input x %s and weight w %s do not match as [N,C,...] "
                          "and [M,C/group,...] with group %lld",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(w, sw, sizeof sw),
                          (long long)*group);
    int nd = x->rank - 2;
    aglm_status st = aglm_window_init(win, k->node, nd, x->dims + 2, w->dims + 2, 0);
    if (st != AGLM_OK)
        return st;
    ydims[0] = x->dims[0];
    ydims[1] = w->dims[0];
    for (int i = 0; i < nd; i++)
        ydims[2 + i] = win->out[AGLM_WINDOW_DIMS - nd + i];
    return AGLM_OK;
}

/* w minus its zero point: one value, or one per output channel. */
static aglm_status weight_minus_zp(const aglm_tensor *w, const aglm_tensor *zp, int32_t **out)
{
    int64_t n = aglm_tensor_numel(w), nz = zp ? aglm_tensor_numel(zp) : 0;
    int64_t per = w->dims[0] ? n / w->dims[0] : 0;
    if (zp && nz != 1 && nz != w->dims[0]) {
        char sz[64], sw[64];
        return aglm_error(AGLM_ERR_SHAPE,
                          "w_zero_point %s fits neither one value nor one per "
                          "output channel of w %s",
                          cpu_shape(zp, sz, sizeof sz), cpu_shape(w, sw, sizeof sw));
    }
    int32_t *v = malloc(sizeof *v * (size_t)(n + 1));
    if (!v)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld weights", (long long)n);
    for (int64_t e = 0; e < n; e++)
        v[e] = (int32_t)(qget(w, e) - (nz == 0 ? 0 : qget(zp, nz == 1 ? 0 : e / per)));
    *out = v;
    return AGLM_OK;
}

static aglm_status k_conv_integer(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                  size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *w = in[1];
    const aglm_tensor *xzp = n_in > 2 ? in[2] : NULL, *wzp = n_in > 3 ? in[3] : NULL;
    aglm_window win;
    int64_t group, ydims[AGLM_MAX_RANK];
    aglm_status st = check_q8(k, w, "input w");
    if (st == AGLM_OK)
        st = conv_geometry(k, x, w, &win, &group, ydims);
    if (st == AGLM_OK && xzp && aglm_tensor_numel(xzp) != 1)
        st = aglm_error(AGLM_ERR_SHAPE, "x_zero_point must hold one value, it has %lld",
                        (long long)aglm_tensor_numel(xzp));
    if (st != AGLM_OK)
        return st;
    int32_t *xi = NULL, *wi = NULL;
    if ((st = minus_zp(x, xzp, 1, "x_zero_point", &xi)) == AGLM_OK &&
        (st = weight_minus_zp(w, wzp, &wi)) == AGLM_OK &&
        (st = cpu_alloc(k, &out[0], AGLM_I32, x->rank, ydims)) == AGLM_OK)
        conv_i32(&win, x->dims[0], x->dims[1], w->dims[0], group, xi, wi, out[0].data);
    free(xi);
    free(wi);
    return st;
}

static aglm_status k_qlinear_conv(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                  size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *xs = in[1], *xzp = in[2], *w = in[3], *ws = in[4];
    const aglm_tensor *wzp = in[5], *ys = in[6], *yzp = in[7], *bias = n_in > 8 ? in[8] : NULL;
    aglm_window win;
    int64_t group, ydims[AGLM_MAX_RANK];
    aglm_status st;
    if ((st = check_q8(k, w, "input w")) != AGLM_OK ||
        (st = check_q8(k, yzp, "input y_zero_point")) != AGLM_OK ||
        (st = need_scale(k, xs, "input x_scale")) != AGLM_OK ||
        (st = need_scale(k, ws, "input w_scale")) != AGLM_OK ||
        (st = need_scale(k, ys, "input y_scale")) != AGLM_OK ||
        (st = conv_geometry(k, x, w, &win, &group, ydims)) != AGLM_OK)
        return st;
    int64_t m = w->dims[0], nws = aglm_tensor_numel(ws);
    if (aglm_tensor_numel(xs) != 1 || aglm_tensor_numel(xzp) != 1 || aglm_tensor_numel(ys) != 1 ||
        aglm_tensor_numel(yzp) != 1 || (nws != 1 && nws != m))
        return aglm_error(AGLM_ERR_SHAPE,
                          "x_scale, x_zero_point, y_scale and y_zero_point must "
                          "hold one value, w_scale 1 or %lld (one per output channel)",
                          (long long)m);
    if (bias && (bias->dtype != AGLM_I32 || aglm_tensor_numel(bias) != m)) {
        char sb[64];
        return aglm_error(AGLM_ERR_SHAPE, "bias B %s %s must be i32 with %lld values",
                          aglm_dtype_name(bias->dtype), cpu_shape(bias, sb, sizeof sb),
                          (long long)m);
    }
    int32_t *xi = NULL, *wi = NULL, *acc = NULL;
    int64_t total = cpu_dims_prod(ydims, 0, x->rank), plane = cpu_dims_prod(ydims, 2, x->rank);
    if ((st = minus_zp(x, xzp, 1, "x_zero_point", &xi)) != AGLM_OK ||
        (st = weight_minus_zp(w, wzp, &wi)) != AGLM_OK ||
        !(acc = malloc(sizeof *acc * (size_t)(total + 1)))) {
        free(xi);
        free(wi);
        return st != AGLM_OK
                   ? st
                   : aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld results", (long long)total);
    }
    conv_i32(&win, x->dims[0], x->dims[1], m, group, xi, wi, acc);
    if ((st = cpu_alloc(k, &out[0], yzp->dtype, x->rank, ydims)) == AGLM_OK) {
        double lo, hi, zp = (double)qget(yzp, 0), x_s = aglm_tensor_get_f64(xs, 0);
        double y_s = aglm_tensor_get_f64(ys, 0);
        qrange(yzp->dtype, &lo, &hi);
        for (int64_t e = 0; e < total; e++) {
            int64_t oc = (e / plane) % m;
            double mul = requant(xs->dtype, x_s, aglm_tensor_get_f64(ws, nws == 1 ? 0 : oc), y_s);
            int64_t v = (int64_t)acc[e] + (bias ? ((const int32_t *)bias->data)[oc] : 0);
            qput(&out[0], e, (double)(int32_t)(uint32_t)v * mul + zp, lo, hi);
        }
    }
    free(xi);
    free(wi);
    free(acc);
    return st;
}

const cpu_kernel cpu_quant_kernels[] = {
    {"QuantizeLinear", Q_FLOATS | CPU_DT(AGLM_I32), k_quantize},
    {"DequantizeLinear", Q_INTS | CPU_DT(AGLM_I32), k_dequantize},
    {"DynamicQuantizeLinear", CPU_DT(AGLM_F32), k_dynamic_quantize},
    {"MatMulInteger", CPU_DT(AGLM_U8) | CPU_DT(AGLM_I8), k_matmul_integer},
    {"ConvInteger", CPU_DT(AGLM_U8) | CPU_DT(AGLM_I8), k_conv_integer},
    {"QLinearMatMul", CPU_DT(AGLM_U8) | CPU_DT(AGLM_I8), k_qlinear_matmul},
    {"QLinearConv", CPU_DT(AGLM_U8) | CPU_DT(AGLM_I8), k_qlinear_conv},
    {NULL, 0, NULL},
};
