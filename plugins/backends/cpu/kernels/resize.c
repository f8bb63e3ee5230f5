/* Resize (opsets 10 to 19+) and Upsample (7 to 9).
 *
 * Each axis gets a table of taps: for every output position, the input positions it reads and
 * their weights (nearest: one position). Linear and cubic then run separably, one axis at a
 * time from the innermost out, in double, which is exactly how ONNX's reference nests its 1-D
 * interpolations (so tf_crop_and_resize's extrapolation value enters the outer axes' sums as it
 * does there); integer results truncate toward zero as the reference's cast does. Nearest is a
 * gather and copies elements of any dtype unchanged.
 *
 * The arithmetic of the source coordinate follows the reference to the last rounding: with
 * `scales` the output width it uses is scale * in rounded to float, with `sizes` it is
 * out / in * in in double; nearest rounding at exact halves depends on it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

enum { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC };
enum { CT_HALF_PIXEL, CT_HALF_PIXEL_SYM, CT_PYTORCH, CT_ALIGN, CT_ASYM, CT_TF_HALF_NN, CT_TF_CROP };
enum { NEAR_ROUND_FLOOR, NEAR_ROUND_CEIL, NEAR_FLOOR, NEAR_CEIL };
enum { KEEP_STRETCH, KEEP_NOT_LARGER, KEEP_NOT_SMALLER };

typedef struct rs_params {
    int mode, ctm, nearest, keep;
    double cubic_a, extrapolation;
    int exclude_outside, antialias;
    int rank;
    int64_t in[AGLM_MAX_RANK], out[AGLM_MAX_RANK];
    double scale[AGLM_MAX_RANK]; /* divides output coordinates */
    double width[AGLM_MAX_RANK]; /* the (fractional) output width the coordinates assume */
    double roi_lo[AGLM_MAX_RANK], roi_hi[AGLM_MAX_RANK];
} rs_params;

/* Taps of one axis: output position o reads input idx[o * n + t] with weight w[o * n + t]
 * (indices already clamped to the input), or the extrapolation value where outside[o]. */
typedef struct axis_taps {
    int n;
    int64_t *idx;
    double *w;
    unsigned char *outside;
} axis_taps;

/* ---- attributes ---------------------------------------------------------------------------- */

static aglm_status pick(const char *attr, const char *v, const char *const *names, int count,
                        int *out)
{
    for (int i = 0; i < count; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return AGLM_OK;
        }
    return aglm_error(AGLM_ERR_INVALID, "attribute %s = '%s' is not a known value", attr, v);
}

static aglm_status read_attrs(const cpu_kctx *k, int legacy, rs_params *p)
{
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const ctms[] = {
        "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    static const char *const nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                          "ceil"};
    static const char *const keep[] = {"stretch", "not_larger", "not_smaller"};
    const aglm_node *n = k->node;
    const char *mode = aglm_node_get_string(n, "mode", "nearest");
    /* Upsample-1 spelled linear "bilinear". */
    if (strcmp(mode, "bilinear") == 0 || strcmp(mode, "trilinear") == 0)
        mode = "linear";
    aglm_status st = pick("mode", mode, modes, 3, &p->mode);
    if (st != AGLM_OK)
        return st;
    if (legacy) {
        /* Upsample and Resize-10: asymmetric coordinates, nearest takes the floor (so an integer
         * scale repeats each element). */
        if (p->mode == MODE_CUBIC)
            return aglm_error(AGLM_ERR_INVALID, "mode 'cubic' needs Resize from opset 11");
        p->ctm = CT_ASYM;
        p->nearest = NEAR_FLOOR;
        p->cubic_a = -0.75;
        return AGLM_OK;
    }
    if ((st = pick("coordinate_transformation_mode",
                   aglm_node_get_string(n, "coordinate_transformation_mode", "half_pixel"), ctms, 7,
                   &p->ctm)) != AGLM_OK ||
        (st = pick("nearest_mode", aglm_node_get_string(n, "nearest_mode", "round_prefer_floor"),
                   nearest, 4, &p->nearest)) != AGLM_OK ||
        (st = pick("keep_aspect_ratio_policy",
                   aglm_node_get_string(n, "keep_aspect_ratio_policy", "stretch"), keep, 3,
                   &p->keep)) != AGLM_OK)
        return st;
    p->cubic_a = aglm_node_get_float(n, "cubic_coeff_a", -0.75f);
    p->extrapolation = aglm_node_get_float(n, "extrapolation_value", 0.0f);
    p->exclude_outside = aglm_node_get_int(n, "exclude_outside", 0) != 0;
    p->antialias = aglm_node_get_int(n, "antialias", 0) != 0;
    return AGLM_OK;
}

/* ---- output sizes ---------------------------------------------------------------------------- */

/* The axes the scales, sizes and roi inputs speak of: the attribute (opset 18), else all. */
static aglm_status read_axes(const cpu_kctx *k, int rank, int *axes, int *count)
{
    size_t n = 0;
    const int64_t *a = aglm_node_get_ints(k->node, "axes", &n);
    if (!a) {
        for (int i = 0; i < rank; i++)
            axes[i] = i;
        *count = rank;
        return AGLM_OK;
    }
    if (n > (size_t)rank)
        return aglm_error(AGLM_ERR_INVALID, "attribute axes has %zu values for an input of rank %d",
                          n, rank);
    for (size_t i = 0; i < n; i++) {
        aglm_status st = cpu_norm_axis(a[i], rank, 0, "axes value", &axes[i]);
        if (st != AGLM_OK)
            return st;
        for (size_t j = 0; j < i; j++)
            if (axes[j] == axes[i])
                return aglm_error(AGLM_ERR_INVALID, "attribute axes names axis %d twice", axes[i]);
    }
    *count = (int)n;
    return AGLM_OK;
}

static aglm_status read_floats(const aglm_tensor *t, const char *what, double *v, int64_t want)
{
    if (!aglm_dtype_is_float(t->dtype))
        return aglm_error(AGLM_ERR_TYPE, "%s must be a float tensor, got %s", what,
                          aglm_dtype_name(t->dtype));
    if (t->rank > 1 || aglm_tensor_numel(t) != want)
        return aglm_error(AGLM_ERR_SHAPE, "%s has %lld values, expected %lld", what,
                          (long long)aglm_tensor_numel(t), (long long)want);
    for (int64_t i = 0; i < want; i++)
        v[i] = cpu_get_f(t->data, t->dtype, i);
    return AGLM_OK;
}

/* Sizes past this are refused before they reach int64 arithmetic. */
#define MAX_DIM ((double)((int64_t)1 << 40))

static aglm_status from_scales(rs_params *p, const double *scales, const int *axes, int naxes)
{
    for (int i = 0; i < naxes; i++) {
        int a = axes[i];
        double s = scales[i];
        if (!(s > 0) || !(s * (double)p->in[a] < MAX_DIM))
            return aglm_error(AGLM_ERR_INVALID,
                              "scale %g for axis %d (size %lld) must be positive "
                              "and give a representable size",
                              s, a, (long long)p->in[a]);
        p->scale[a] = s;
        p->out[a] = (int64_t)floor(s * (double)p->in[a]);
        /* the reference multiplies a float32 scale by the size in float32 */
        p->width[a] = (float)(s * (double)p->in[a]);
    }
    return AGLM_OK;
}

static aglm_status from_sizes(rs_params *p, const int64_t *sizes, const int *axes, int naxes)
{
    for (int i = 0; i < naxes; i++) {
        if (sizes[i] < 0 || (double)sizes[i] >= MAX_DIM)
            return aglm_error(AGLM_ERR_INVALID, "sizes value %lld for axis %d is out of range",
                              (long long)sizes[i], axes[i]);
        if (p->in[axes[i]] == 0)
            return aglm_error(AGLM_ERR_SHAPE, "axis %d has size 0 and cannot be resized to %lld",
                              axes[i], (long long)sizes[i]);
    }
    if (p->keep == KEEP_STRETCH) {
        for (int i = 0; i < naxes; i++) {
            int a = axes[i];
            p->out[a] = sizes[i];
            p->scale[a] = (double)sizes[i] / (double)p->in[a];
            p->width[a] = p->scale[a] * (double)p->in[a];
        }
        return AGLM_OK;
    }
    /* keep_aspect_ratio_policy: one scale for all the axes, the smallest (not_larger) or largest
     * (not_smaller), sizes rounded half up */
    double s = 0;
    for (int i = 0; i < naxes; i++) {
        double r = (double)sizes[i] / (double)p->in[axes[i]];
        if (i == 0 || (p->keep == KEEP_NOT_LARGER ? r < s : r > s))
            s = r;
    }
    for (int i = 0; i < naxes; i++) {
        int a = axes[i];
        p->scale[a] = s;
        p->out[a] = (int64_t)(s * (double)p->in[a] + 0.5);
        p->width[a] = s * (double)p->in[a];
    }
    return AGLM_OK;
}

/* Fills the sizes, scales and roi from the node's inputs. */
static aglm_status read_geometry(const cpu_kctx *k, int legacy, size_t n_in,
                                 const aglm_tensor *const *in, rs_params *p)
{
    const aglm_tensor *x = in[0];
    p->rank = x->rank;
    for (int a = 0; a < p->rank; a++) {
        p->in[a] = p->out[a] = x->dims[a];
        p->scale[a] = 1.0;
        p->width[a] = (double)x->dims[a];
        p->roi_lo[a] = 0.0;
        p->roi_hi[a] = 1.0;
    }
    int axes[AGLM_MAX_RANK], naxes = 0;
    aglm_status st = read_axes(k, p->rank, axes, &naxes);
    if (st != AGLM_OK)
        return st;
    double scales[AGLM_MAX_RANK];
    if (legacy) {
        size_t count = 0;
        const float *attr = aglm_node_get_floats(k->node, "scales", &count);
        if (attr) {
            if (count != (size_t)p->rank)
                return aglm_error(AGLM_ERR_INVALID,
                                  "attribute scales has %zu values for an "
                                  "input of rank %d",
                                  count, p->rank);
            for (int i = 0; i < p->rank; i++)
                scales[i] = attr[i];
        } else if (n_in < 2 || !in[1]) {
            return aglm_error(AGLM_ERR_INVALID, "input scales is missing");
        } else if ((st = read_floats(in[1], "input scales", scales, p->rank)) != AGLM_OK) {
            return st;
        }
        return from_scales(p, scales, axes, naxes);
    }
    const aglm_tensor *roi = n_in > 1 ? in[1] : NULL, *sc = n_in > 2 ? in[2] : NULL;
    const aglm_tensor *sz = n_in > 3 ? in[3] : NULL;
    /* an empty tensor stands for an absent input (opset 11 had no optional inputs) */
    if (sc && aglm_tensor_numel(sc) == 0)
        sc = NULL;
    if (sz && aglm_tensor_numel(sz) == 0)
        sz = NULL;
    if (roi && aglm_tensor_numel(roi) == 0)
        roi = NULL;
    if ((sc != NULL) == (sz != NULL))
        return aglm_error(AGLM_ERR_INVALID,
                          "exactly one of the inputs scales and sizes must be "
                          "given, %s",
                          sc ? "both are" : "neither is");
    if (sc) {
        if ((st = read_floats(sc, "input scales", scales, naxes)) != AGLM_OK ||
            (st = from_scales(p, scales, axes, naxes)) != AGLM_OK)
            return st;
    } else {
        int64_t sizes[AGLM_MAX_RANK];
        size_t count;
        if ((st = cpu_read_ints(sz, "input sizes", sizes, AGLM_MAX_RANK, &count)) != AGLM_OK)
            return st;
        if (count != (size_t)naxes)
            return aglm_error(AGLM_ERR_SHAPE, "input sizes has %zu values, expected %d", count,
                              naxes);
        if ((st = from_sizes(p, sizes, axes, naxes)) != AGLM_OK)
            return st;
    }
    if (p->ctm == CT_TF_CROP) {
        double r[2 * AGLM_MAX_RANK];
        if (!roi)
            return aglm_error(AGLM_ERR_INVALID, "coordinate_transformation_mode "
                                                "tf_crop_and_resize needs the input roi");
        if ((st = read_floats(roi, "input roi", r, 2 * naxes)) != AGLM_OK)
            return st;
        for (int i = 0; i < naxes; i++) {
            p->roi_lo[axes[i]] = r[i];
            p->roi_hi[axes[i]] = r[naxes + i];
        }
    }
    return AGLM_OK;
}

/* ---- taps ---------------------------------------------------------------------------------- */

/* Where output position x of axis a samples the input; *outside when tf_crop_and_resize puts it
 * beyond the input. */
static double source(const rs_params *p, int a, int64_t x, int *outside)
{
    double in = (double)p->in[a], s = p->scale[a], w = p->width[a], xd = (double)x;
    *outside = 0;
    switch (p->ctm) {
    case CT_ALIGN: return w == 1 ? 0.0 : xd * (in - 1) / (w - 1);
    case CT_ASYM: return xd / s;
    case CT_TF_HALF_NN: return (xd + 0.5) / s;
    case CT_PYTORCH: return w == 1 ? -0.5 : (xd + 0.5) / s - 0.5;
    case CT_HALF_PIXEL_SYM: {
        double adjust = (double)p->out[a] / w;
        return in / 2 * (1 - adjust) + (xd + 0.5) / s - 0.5;
    }
    case CT_TF_CROP: {
        double lo = p->roi_lo[a], hi = p->roi_hi[a], v;
        v = w == 1 ? (hi - lo) * (in - 1) / 2 : xd * (hi - lo) * (in - 1) / (w - 1);
        v += lo * (in - 1);
        *outside = v < 0 || v > in - 1;
        return v;
    }
    default: return (xd + 0.5) / s - 0.5;
    }
}

static double cubic(double x, double a)
{
    x = fabs(x);
    if (x <= 1)
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2)
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0.0;
}

/* Taps per output position: 1 (nearest), 2 (linear), 4 (cubic), wider when antialiasing
 * stretches the filter over a downscaled axis. */
static int tap_count(const rs_params *p, int a, int64_t *first)
{
    if (p->mode == MODE_NEAREST) {
        *first = 0;
        return 1;
    }
    double s = p->scale[a] < 1.0 ? p->scale[a] : 1.0;
    if (!p->antialias)
        s = 1.0;
    /* the filter reaches 1 (linear) or 2 (cubic) input pixels, stretched by 1/s */
    double reach = p->mode == MODE_LINEAR ? 1.0 : 2.0;
    *first = (int64_t)floor(-reach / s) + 1;
    return (int)(2 - 2 * *first);
}

static aglm_status build_taps(const rs_params *p, int a, axis_taps *t)
{
    int64_t first, out = p->out[a], in = p->in[a];
    int n = tap_count(p, a, &first);
    if (n > 1 << 20)
        return aglm_error(AGLM_ERR_INVALID, "scale %g of axis %d needs a filter of %d taps",
                          p->scale[a], a, n);
    t->n = n;
    t->idx = malloc((size_t)(out * n + 1) * sizeof *t->idx);
    t->w = malloc((size_t)(out * n + 1) * sizeof *t->w);
    t->outside = calloc((size_t)out + 1, 1);
    if (!t->idx || !t->w || !t->outside)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for the taps of axis %d", a);
    double s = p->antialias && p->scale[a] < 1.0 ? p->scale[a] : 1.0;
    for (int64_t o = 0; o < out; o++) {
        int outside;
        double x = source(p, a, o, &outside);
        /* a roi of NaN or far beyond the input reads the edge (or the extrapolation value):
         * clamping keeps every tap on the same side, and the integer conversions defined */
        if (isnan(x)) {
            outside = p->ctm == CT_TF_CROP;
            x = 0;
        }
        x = fmax(-(double)n - 2, fmin((double)in + n + 2, x));
        int64_t *idx = t->idx + o * n;
        double *w = t->w + o * n;
        t->outside[o] = (unsigned char)outside;
        /* base is the input position left of x, ratio in (0, 1]: an integer x counts as the
         * right end of the interval before it, as the reference takes it */
        double fl = floor(x);
        double ratio = x == fl ? 1.0 : x - fl;
        int64_t base = (int64_t)(x == fl ? fl - 1 : fl);
        if (p->mode == MODE_NEAREST) {
            int up;
            if (ratio == 1.0)
                up = 1;
            else if (p->nearest == NEAR_ROUND_FLOOR)
                up = ratio > 0.5;
            else if (p->nearest == NEAR_ROUND_CEIL)
                up = ratio >= 0.5;
            else
                up = p->nearest == NEAR_CEIL;
            int64_t i = base + up;
            idx[0] = outside ? -1 : i < 0 ? 0 : i >= in ? in - 1 : i;
            w[0] = 1.0;
            continue;
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            int64_t off = first + j;
            if (p->mode == MODE_LINEAR && !p->antialias)
                w[j] = j == 0 ? 1 - ratio : ratio;
            else if (p->mode == MODE_LINEAR)
                w[j] = fmax(0.0, fmin(1.0, 1 - fabs(((double)off - ratio) * s)));
            else
                w[j] = cubic(s * ((double)off - ratio), p->cubic_a);
            int64_t i = base + off;
            if (p->exclude_outside && (i < 0 || i >= in))
                w[j] = 0;
            sum += w[j];
            idx[j] = i < 0 ? 0 : i >= in ? in - 1 : i;
        }
        /* antialiased filters and exclude_outside renormalise to a sum of one */
        if ((p->antialias || p->exclude_outside) && sum != 0)
            for (int j = 0; j < n; j++)
                w[j] /= sum;
    }
    return AGLM_OK;
}

static void free_taps(axis_taps *t)
{
    free(t->idx);
    free(t->w);
    free(t->outside);
}

/* An axis whose output is its input: same size and every output position reads exactly its own
 * input position with weight one. */
static int identity_axis(const rs_params *p, int a, const axis_taps *t)
{
    if (p->out[a] != p->in[a])
        return 0;
    for (int64_t o = 0; o < p->out[a]; o++) {
        if (t->outside[o])
            return 0;
        for (int j = 0; j < t->n; j++) {
            double w = t->w[o * t->n + j];
            if (w != 0 && (w != 1 || t->idx[o * t->n + j] != o))
                return 0;
        }
    }
    return 1;
}

/* ---- interpolation -------------------------------------------------------------------------- */

typedef struct pass_job {
    const double *src;
    double *dst;
    int64_t in, out, inner;
    const axis_taps *t;
    double extrapolation;
} pass_job;

/* Rows [b, e) of the output of one axis pass; a row is one (outer, o) pair of `inner` values. */
static void pass_rows(void *ctx, size_t b, size_t e, int worker)
{
    (void)worker;
    const pass_job *j = ctx;
    int n = j->t->n;
    for (size_t r = b; r < e; r++) {
        int64_t outer = (int64_t)r / j->out, o = (int64_t)r % j->out;
        const double *s = j->src + outer * j->in * j->inner;
        double *d = j->dst + (int64_t)r * j->inner;
        if (j->t->outside[o]) {
            for (int64_t i = 0; i < j->inner; i++)
                d[i] = j->extrapolation;
            continue;
        }
        for (int64_t i = 0; i < j->inner; i++)
            d[i] = 0.0;
        for (int k = 0; k < n; k++) {
            double w = j->t->w[o * n + k];
            const double *sr = s + j->t->idx[o * n + k] * j->inner;
            for (int64_t i = 0; i < j->inner; i++)
                d[i] += w * sr[i];
        }
    }
}

/* ---- bilinear fast path ------------------------------------------------------------------ */

/* f32 linear resize of the last two axes (any coordinate mode but tf_crop_and_resize, no
 * antialias), the others unchanged: each output row blends two source rows, each resized along
 * the width first, in double and in the order the separable passes above use (width, then
 * height, each summing its taps from 0), so the results are bit for bit theirs without the
 * tensor-sized double buffers. One task per plane; per-worker row buffers. */
typedef struct lin_job {
    const rs_params *p;
    const axis_taps *th, *tw;
    int h_ident, w_ident; /* an axis the general path would skip: its taps are the identity */
    const float *x;
    float *y;
    double *rows; /* 2 * out width doubles per worker */
} lin_job;

/* One source row resized along the width into r (or converted, for an identity width). */
static void lin_row(const lin_job *j, const float *src, double *r)
{
    int64_t ow = j->p->out[j->p->rank - 1];
    if (j->w_ident) {
        for (int64_t o = 0; o < ow; o++)
            r[o] = src[o];
        return;
    }
    const int64_t *idx = j->tw->idx;
    const double *w = j->tw->w;
    for (int64_t o = 0; o < ow; o++) {
        double d = 0.0;
        d += w[2 * o] * (double)src[idx[2 * o]];
        d += w[2 * o + 1] * (double)src[idx[2 * o + 1]];
        r[o] = d;
    }
}

/* Source row `src` resized, from the two-row cache (buf, tag: which source row each holds) or
 * computed into the slot not holding `keep` (the other row the output row needs). Upsampling
 * by 2 computes each source row once instead of twice. */
static const double *cached_row(const lin_job *j, const float *xp, int64_t src, int64_t keep,
                                double *const *buf, int64_t *tag)
{
    for (int s = 0; s < 2; s++)
        if (tag[s] == src)
            return buf[s];
    int s = tag[0] == keep ? 1 : 0;
    lin_row(j, xp + src * j->p->in[j->p->rank - 1], buf[s]);
    tag[s] = src;
    return buf[s];
}

static void lin_planes(void *ctx, size_t b, size_t e, int worker)
{
    const lin_job *j = ctx;
    const rs_params *p = j->p;
    int r = p->rank;
    int64_t ih = p->in[r - 2], iw = p->in[r - 1], oh = p->out[r - 2], ow = p->out[r - 1];
    double *r0 = j->rows + (size_t)worker * 2 * (size_t)ow, *r1 = r0 + ow;
    for (size_t plane = b; plane < e; plane++) {
        const float *xp = j->x + (int64_t)plane * ih * iw;
        float *yp = j->y + (int64_t)plane * oh * ow;
        double *buf[2] = {r0, r1};
        int64_t tag[2] = {-1, -1};
        for (int64_t o = 0; o < oh; o++) {
            float *dst = yp + o * ow;
            if (j->h_ident) {
                lin_row(j, xp + o * iw, r0);
                for (int64_t i = 0; i < ow; i++)
                    dst[i] = (float)r0[i];
                continue;
            }
            const int64_t *idx = j->th->idx + 2 * o;
            const double *w = j->th->w + 2 * o;
            const double *ra = cached_row(j, xp, idx[0], idx[1], buf, tag);
            const double *rb = cached_row(j, xp, idx[1], idx[0], buf, tag);
            for (int64_t i = 0; i < ow; i++) {
                double d = 0.0;
                d += w[0] * ra[i];
                d += w[1] * rb[i];
                dst[i] = (float)d;
            }
        }
    }
}

static int identity_axis(const rs_params *p, int a, const axis_taps *t);

/* 1 when the fast path ran this resize (*st then says how), 0 to leave it to interpolate. */
static int linear_fast(const cpu_kctx *k, const rs_params *p, const axis_taps *taps,
                       const aglm_tensor *x, aglm_tensor *y, aglm_status *st)
{
    int r = p->rank;
    if (x->dtype != AGLM_F32 || p->mode != MODE_LINEAR || p->antialias || r < 2 ||
        p->ctm == CT_TF_CROP || taps[r - 1].n != 2 || taps[r - 2].n != 2)
        return 0;
    for (int a = 0; a < r - 2; a++)
        if (!identity_axis(p, a, &taps[a]))
            return 0;
    int threads = cpu_pool_threads(k->pool);
    int64_t ow = p->out[r - 1];
    lin_job job = {p,
                   &taps[r - 2],
                   &taps[r - 1],
                   identity_axis(p, r - 2, &taps[r - 2]),
                   identity_axis(p, r - 1, &taps[r - 1]),
                   x->data,
                   y->data,
                   NULL};
    job.rows = malloc((size_t)threads * 2 * (size_t)ow * sizeof *job.rows + 1);
    if (!job.rows) {
        *st = aglm_error(AGLM_ERR_NOMEM, "out of memory for resize rows of %lld values",
                         (long long)ow);
        return 1;
    }
    int64_t planes = cpu_dims_prod(p->out, 0, r - 2);
    int64_t plane_elems = p->out[r - 2] * ow;
    size_t pe = plane_elems ? (size_t)plane_elems : 1;
    size_t grain = pe >= CPU_EW_GRAIN / 4 ? 1 : CPU_EW_GRAIN / 4 / pe;
    cpu_parallel_for(k->pool, (size_t)planes, grain, lin_planes, &job);
    free(job.rows);
    *st = AGLM_OK;
    return 1;
}

static aglm_status interpolate(const cpu_kctx *k, const rs_params *p, axis_taps *taps,
                               const aglm_tensor *x, aglm_tensor *y)
{
    aglm_status fast_st;
    if (linear_fast(k, p, taps, x, y, &fast_st))
        return fast_st;
    /* integers interpolate in double and truncate back, as ONNX's reference casts them */
    if (x->dtype == AGLM_BOOL)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "mode %s does not take bool input",
                          p->mode == MODE_LINEAR ? "linear" : "cubic");
    int64_t n = aglm_tensor_numel(x);
    double *cur = malloc((size_t)(n + 1) * sizeof *cur);
    if (!cur)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld doubles", (long long)n);
    for (int64_t i = 0; i < n; i++)
        cur[i] = cpu_get_f(x->data, x->dtype, i);
    int64_t dims[AGLM_MAX_RANK];
    memcpy(dims, p->in, sizeof dims);
    for (int a = p->rank - 1; a >= 0; a--) {
        if (identity_axis(p, a, &taps[a]))
            continue;
        int64_t outer = cpu_dims_prod(dims, 0, a), inner = cpu_dims_prod(dims, a + 1, p->rank);
        int64_t total = outer * p->out[a] * inner;
        double *next = malloc((size_t)(total + 1) * sizeof *next);
        if (!next) {
            free(cur);
            return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld doubles", (long long)total);
        }
        pass_job job = {cur, next, dims[a], p->out[a], inner, &taps[a], p->extrapolation};
        int64_t rows = outer * p->out[a];
        size_t grain = inner * taps[a].n >= 4096 ? 1 : (size_t)(4096 / (inner * taps[a].n));
        cpu_parallel_for(k->pool, (size_t)rows, grain, pass_rows, &job);
        free(cur);
        cur = next;
        dims[a] = p->out[a];
    }
    int64_t m = aglm_tensor_numel(y);
    for (int64_t i = 0; i < m; i++)
        cpu_set_f(y->data, y->dtype, i, cur[i]);
    free(cur);
    return AGLM_OK;
}

/* ---- nearest fast path ------------------------------------------------------------------------
 */

/* Nearest without tf_crop_and_resize's outside positions (every upsampling model: FPN necks use
 * asymmetric/floor with integer scales), for element sizes 1, 2, 4 and 8. One task per output
 * plane (the last two axes): an output row whose source row is the previous output row's is a
 * memcpy of that row, still in cache; other rows gather through the last axis's map, with a
 * straight two-fold repeat (the 2x upsample) and a contiguous copy as their own loops. */
typedef struct near_job {
    const rs_params *p;
    const axis_taps *taps;
    const char *x;
    char *y;
    size_t es;
    int repeat2;    /* the last axis maps o to o / 2 */
    int contiguous; /* the last axis maps o to map[0] + o */
} near_job;

#define NEAR_ROW(T)                                                                                \
    do {                                                                                           \
        const T *s_ = (const T *)src;                                                              \
        T *d_ = (T *)dst;                                                                          \
        if (j->repeat2) {                                                                          \
            int64_t h_ = ow / 2;                                                                   \
            for (int64_t i = 0; i < h_; i++) {                                                     \
                const T v_ = s_[i];                                                                \
                d_[2 * i] = v_;                                                                    \
                d_[2 * i + 1] = v_;                                                                \
            }                                                                                      \
            if (ow & 1)                                                                            \
                d_[ow - 1] = s_[h_];                                                               \
        } else {                                                                                   \
            for (int64_t i = 0; i < ow; i++)                                                       \
                d_[i] = s_[mw[i]];                                                                 \
        }                                                                                          \
    } while (0)

static void near_planes(void *ctx, size_t b, size_t e, int worker)
{
    (void)worker;
    const near_job *j = ctx;
    const rs_params *p = j->p;
    int r = p->rank;
    int64_t oh = p->out[r - 2], ow = p->out[r - 1], iw = p->in[r - 1];
    int64_t in_plane = p->in[r - 2] * iw;
    const int64_t *mh = j->taps[r - 2].idx, *mw = j->taps[r - 1].idx;
    size_t es = j->es, row_bytes = (size_t)ow * es;
    for (size_t plane = b; plane < e; plane++) {
        /* the source plane through the maps of the outer axes */
        int64_t rem = (int64_t)plane, src_plane = 0, stride = 1;
        for (int d = r - 3; d >= 0; d--) {
            src_plane += j->taps[d].idx[rem % p->out[d]] * stride;
            rem /= p->out[d];
            stride *= p->in[d];
        }
        const char *xp = j->x + (size_t)(src_plane * in_plane) * es;
        char *yp = j->y + (size_t)plane * (size_t)oh * row_bytes;
        for (int64_t o = 0; o < oh; o++) {
            char *dst = yp + (size_t)o * row_bytes;
            if (o > 0 && mh[o] == mh[o - 1]) {
                memcpy(dst, dst - row_bytes, row_bytes);
                continue;
            }
            const char *src = xp + (size_t)(mh[o] * iw) * es;
            if (j->contiguous) {
                memcpy(dst, src + (size_t)mw[0] * es, row_bytes);
                continue;
            }
            switch (es) {
            case 1: NEAR_ROW(uint8_t); break;
            case 2: NEAR_ROW(uint16_t); break;
            case 4: NEAR_ROW(uint32_t); break;
            default: NEAR_ROW(uint64_t); break;
            }
        }
    }
}
#undef NEAR_ROW

/* 1 when the fast path runs this resize (and then it has). */
static int nearest_fast(const cpu_kctx *k, const rs_params *p, const axis_taps *taps,
                        const aglm_tensor *x, aglm_tensor *y)
{
    size_t es = aglm_dtype_size(x->dtype);
    int r = p->rank;
    if (r < 2 || (es != 1 && es != 2 && es != 4 && es != 8))
        return 0;
    for (int a = 0; a < r; a++)
        for (int64_t o = 0; o < p->out[a]; o++)
            if (taps[a].outside[o] || taps[a].idx[o] < 0)
                return 0;
    near_job job = {p, taps, x->data, y->data, es, 1, 1};
    const int64_t *mw = taps[r - 1].idx;
    for (int64_t o = 0; o < p->out[r - 1]; o++) {
        job.repeat2 = job.repeat2 && mw[o] == o / 2;
        job.contiguous = job.contiguous && mw[o] == mw[0] + o;
    }
    int64_t planes = cpu_dims_prod(p->out, 0, r - 2);
    int64_t plane_elems = p->out[r - 2] * p->out[r - 1];
    size_t pe = plane_elems ? (size_t)plane_elems : 1;
    size_t grain = pe >= CPU_EW_GRAIN ? 1 : CPU_EW_GRAIN / pe;
    cpu_parallel_for(k->pool, (size_t)planes, grain, near_planes, &job);
    return 1;
}

static aglm_status gather(const cpu_kctx *k, const rs_params *p, axis_taps *taps,
                          const aglm_tensor *x, aglm_tensor *y)
{
    if (nearest_fast(k, p, taps, x, y))
        return AGLM_OK;
    const int64_t *maps[AGLM_MAX_RANK];
    for (int a = 0; a < p->rank; a++)
        maps[a] = taps[a].idx;
    /* the extrapolation value in the element type, for tf_crop_and_resize */
    unsigned char fill[16] = {0};
    cpu_set_f(fill, x->dtype, 0, p->extrapolation);
    cpu_copy_mapped(k->pool, x, y, maps, fill);
    return AGLM_OK;
}

static aglm_status resize(const cpu_kctx *k, int legacy, size_t n_in, const aglm_tensor *const *in,
                          aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    rs_params p;
    memset(&p, 0, sizeof p);
    aglm_status st = read_attrs(k, legacy, &p);
    if (st == AGLM_OK)
        st = read_geometry(k, legacy, n_in, in, &p);
    if (st != AGLM_OK)
        return st;
    if (p.rank == 0)
        return aglm_tensor_copy(&out[0], x);
    if ((st = cpu_alloc(k, &out[0], x->dtype, p.rank, p.out)) != AGLM_OK ||
        aglm_tensor_numel(&out[0]) == 0)
        return st;
    if (aglm_tensor_numel(x) == 0)
        return aglm_error(AGLM_ERR_SHAPE, "cannot resize an empty input to a non-empty output");
    axis_taps taps[AGLM_MAX_RANK];
    memset(taps, 0, sizeof taps);
    for (int a = 0; a < p.rank && st == AGLM_OK; a++)
        st = build_taps(&p, a, &taps[a]);
    if (st == AGLM_OK)
        st = p.mode == MODE_NEAREST ? gather(k, &p, taps, x, &out[0])
                                    : interpolate(k, &p, taps, x, &out[0]);
    for (int a = 0; a < p.rank; a++)
        free_taps(&taps[a]);
    return st;
}

static aglm_status k_resize(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    return resize(k, k->opset < 11, n_in, in, out);
}

static aglm_status k_upsample(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    return resize(k, 1, n_in, in, out);
}

#define RESIZE_DTYPES                                                                              \
    (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16) |                  \
     CPU_DT(AGLM_I8) | CPU_DT(AGLM_U8) | CPU_DT(AGLM_I16) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_I32) |  \
     CPU_DT(AGLM_U32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U64) | CPU_DT(AGLM_BOOL))

const cpu_kernel cpu_resize_kernels[] = {
    {"Resize", RESIZE_DTYPES, k_resize},
    {"Upsample", RESIZE_DTYPES, k_upsample},
    {NULL, 0, NULL},
};
