/* Signal ops: DFT (opset 17 with axis as an attribute, opset 20 with axis as an input), STFT,
 * HannWindow, HammingWindow, BlackmanWindow and MelWeightMatrix, on f16, bf16, f32 and f64.
 *
 * Complex values travel as a trailing dim of 2 (real, imaginary); a trailing dim of 1 is a real
 * signal. Transforms are direct sums in double over a table of twiddle factors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define SIG_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))
#define SIG_INTS (CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64))

/* The one integer of a scalar (or one-element) i32/i64 input. */
static aglm_status int_scalar(const aglm_tensor *t, const char *what, int64_t *v)
{
    int64_t vals[1];
    size_t count;
    aglm_status st = cpu_read_ints(t, what, vals, 1, &count);
    if (st != AGLM_OK)
        return st;
    if (count != 1)
        return aglm_error(AGLM_ERR_SHAPE, "%s must hold one value, it has none", what);
    *v = vals[0];
    return AGLM_OK;
}

/* The output dtype attribute of the window and mel ops: a float dtype, f32 by default. */
static aglm_status out_dtype(const cpu_kctx *k, aglm_dtype *dt)
{
    int64_t v = aglm_node_get_int(k->node, "output_datatype", AGLM_F32);
    *dt = (aglm_dtype)v;
    if (v != AGLM_F32 && v != AGLM_F64 && v != AGLM_F16 && v != AGLM_BF16)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "attribute output_datatype = %lld; f16, bf16, "
                          "f32 and f64 are supported",
                          (long long)v);
    return AGLM_OK;
}

/* ---- the transform ----------------------------------------------------------------------------
 */

/* out[k] = sum over t < n_in of in[t] * e^(sign 2 pi i k t / n), for k < n_out; in and out are
 * interleaved complex. tw holds e^(-2 pi i j / n) for j < n. */
static void dft_line(const double *in, int64_t n_in, double *out, int64_t n_out, int64_t n,
                     const double *tw, int inverse)
{
    for (int64_t k = 0; k < n_out; k++) {
        double re = 0, im = 0;
        int64_t j = 0; /* k * t mod n, kept incrementally */
        for (int64_t t = 0; t < n_in; t++) {
            double c = tw[2 * j], s = inverse ? -tw[2 * j + 1] : tw[2 * j + 1];
            re += in[2 * t] * c - in[2 * t + 1] * s;
            im += in[2 * t] * s + in[2 * t + 1] * c;
            j += k;
            if (j >= n)
                j %= n;
        }
        out[2 * k] = re;
        out[2 * k + 1] = im;
    }
}

static double *twiddles(int64_t n)
{
    double *tw = malloc((size_t)(2 * n + 2) * sizeof *tw);
    if (!tw) {
        aglm_error(AGLM_ERR_NOMEM, "out of memory for a transform of length %lld", (long long)n);
        return NULL;
    }
    for (int64_t j = 0; j < n; j++) {
        double a = -2.0 * M_PI * (double)j / (double)n;
        tw[2 * j] = cos(a);
        tw[2 * j + 1] = sin(a);
    }
    return tw;
}

typedef struct dft_spec {
    int64_t n;    /* transform length */
    int inverse;  /* scale by 1/n, positive exponent */
    int onesided; /* forward: keep n/2 + 1 bins; inverse: input is those bins, output real */
} dft_spec;

/* Transforms x along `axis` into y. x's last dim is 1 or 2; y's last dim is 2, or 1 for an
 * inverse onesided transform. */
static aglm_status dft_run(const aglm_tensor *x, int axis, const dft_spec *s, aglm_tensor *y)
{
    int r = x->rank;
    int64_t len = x->dims[axis], n = s->n;
    int64_t outer = cpu_dims_prod(x->dims, 0, axis),
            inner = cpu_dims_prod(x->dims, axis + 1, r - 1);
    int64_t cx = x->dims[r - 1];
    int64_t n_out = s->onesided && !s->inverse ? n / 2 + 1 : n;
    int real_out = s->onesided && s->inverse;
    int64_t dims[AGLM_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = n_out;
    dims[r - 1] = real_out ? 1 : 2;
    aglm_status st = aglm_tensor_alloc(y, x->dtype, r, dims);
    if (st != AGLM_OK || aglm_tensor_numel(y) == 0)
        return st;
    double *tw = twiddles(n);
    double *in = malloc((size_t)(2 * n + 2) * sizeof *in),
           *out = malloc((size_t)(2 * n + 2) * sizeof *out);
    if (!tw || !in || !out) {
        free(tw);
        free(in);
        free(out);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for a transform of length %lld",
                          (long long)n);
    }
    int64_t cy = dims[r - 1];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            memset(in, 0, (size_t)(2 * n) * sizeof *in);
            if (real_out) {
                /* the first n/2 + 1 bins given; the rest mirror them as complex conjugates */
                int64_t half = n / 2 + 1;
                for (int64_t t = 0; t < half && t < len; t++) {
                    int64_t at = ((o * len + t) * inner + i) * cx;
                    in[2 * t] = cpu_get_f(x->data, x->dtype, at);
                    in[2 * t + 1] = cx == 2 ? cpu_get_f(x->data, x->dtype, at + 1) : 0.0;
                }
                for (int64_t t = half; t < n; t++) {
                    in[2 * t] = in[2 * (n - t)];
                    in[2 * t + 1] = -in[2 * (n - t) + 1];
                }
            } else {
                for (int64_t t = 0; t < n && t < len; t++) {
                    int64_t at = ((o * len + t) * inner + i) * cx;
                    in[2 * t] = cpu_get_f(x->data, x->dtype, at);
                    in[2 * t + 1] = cx == 2 ? cpu_get_f(x->data, x->dtype, at + 1) : 0.0;
                }
            }
            dft_line(in, n, out, n_out, n, tw, s->inverse);
            for (int64_t k = 0; k < n_out; k++) {
                int64_t at = ((o * n_out + k) * inner + i) * cy;
                double scale = s->inverse ? 1.0 / (double)n : 1.0;
                cpu_set_f(y->data, y->dtype, at, out[2 * k] * scale);
                if (!real_out)
                    cpu_set_f(y->data, y->dtype, at + 1, out[2 * k + 1] * scale);
            }
        }
    free(tw);
    free(in);
    free(out);
    return AGLM_OK;
}

static aglm_status k_dft(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *x = in[0];
    char sx[64];
    aglm_status st = cpu_check_dtype(k, x, "input", SIG_FLOATS);
    if (st != AGLM_OK)
        return st;
    if (x->rank < 2 || (x->dims[x->rank - 1] != 1 && x->dims[x->rank - 1] != 2))
        return aglm_error(AGLM_ERR_SHAPE, "input %s must end in a dim of 1 (real) or 2 (complex)",
                          cpu_shape(x, sx, sizeof sx));
    int64_t axis = k->opset >= 20 ? -2 : aglm_node_get_int(k->node, "axis", 1);
    if (k->opset >= 20 && n_in > 2 && in[2] &&
        (st = int_scalar(in[2], "input axis", &axis)) != AGLM_OK)
        return st;
    int r = x->rank;
    if (axis < -r || axis > r - 2 || axis == -1)
        return aglm_error(AGLM_ERR_INVALID,
                          "axis %lld is out of range for input %s (the last dim "
                          "holds the complex parts)",
                          (long long)axis, cpu_shape(x, sx, sizeof sx));
    int ax = (int)(axis < 0 ? axis + r : axis);
    dft_spec s = {0, aglm_node_get_int(k->node, "inverse", 0) != 0,
                  aglm_node_get_int(k->node, "onesided", 0) != 0};
    s.n = s.onesided && s.inverse ? 2 * (x->dims[ax] - 1) : x->dims[ax];
    if (n_in > 1 && in[1] && (st = int_scalar(in[1], "input dft_length", &s.n)) != AGLM_OK)
        return st;
    if (s.n < 1 || s.n > ((int64_t)1 << 30))
        return aglm_error(AGLM_ERR_INVALID, "dft_length %lld is out of range", (long long)s.n);
    if (s.onesided && !s.inverse && x->dims[r - 1] == 2)
        return aglm_error(AGLM_ERR_INVALID, "onesided needs a real input, got complex %s",
                          cpu_shape(x, sx, sizeof sx));
    return dft_run(x, ax, &s, &out[0]);
}

/* STFT: frames of frame_length every frame_step samples, each weighted by the window and
 * transformed; output [batch, frames, bins, 2]. */
static aglm_status k_stft(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *x = in[0], *win = n_in > 2 ? in[2] : NULL;
    char sx[64], sw[64];
    aglm_status st = cpu_check_dtype(k, x, "input signal", SIG_FLOATS);
    if (st != AGLM_OK)
        return st;
    if (x->rank != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
        return aglm_error(AGLM_ERR_SHAPE, "signal %s must be [batch, length, 1 or 2]",
                          cpu_shape(x, sx, sizeof sx));
    int64_t step = 0, flen = -1;
    if ((st = int_scalar(in[1], "input frame_step", &step)) != AGLM_OK)
        return st;
    if (n_in > 3 && in[3] && (st = int_scalar(in[3], "input frame_length", &flen)) != AGLM_OK)
        return st;
    if (win && (win->rank != 1 || (flen >= 0 && win->dims[0] != flen)))
        return aglm_error(AGLM_ERR_SHAPE, "window %s must be 1-D of frame_length %lld",
                          cpu_shape(win, sw, sizeof sw), (long long)flen);
    if (flen < 0)
        flen = win ? win->dims[0] : x->dims[1];
    if (step < 1 || flen < 1 || flen > x->dims[1])
        return aglm_error(AGLM_ERR_INVALID,
                          "frame_step %lld and frame_length %lld do not fit a "
                          "signal of %lld samples",
                          (long long)step, (long long)flen, (long long)x->dims[1]);
    int onesided = aglm_node_get_int(k->node, "onesided", 1) != 0;
    int64_t batch = x->dims[0], cx = x->dims[2], frames = 1 + (x->dims[1] - flen) / step;
    int64_t bins = onesided ? flen / 2 + 1 : flen;
    int64_t dims[4] = {batch, frames, bins, 2};
    if ((st = cpu_alloc(k, &out[0], x->dtype, 4, dims)) != AGLM_OK)
        return st;
    double *tw = twiddles(flen);
    double *fin = malloc((size_t)(2 * flen + 2) * sizeof *fin);
    double *fout = malloc((size_t)(2 * flen + 2) * sizeof *fout);
    if (!tw || !fin || !fout) {
        free(tw);
        free(fin);
        free(fout);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for frames of %lld", (long long)flen);
    }
    for (int64_t b = 0; b < batch; b++)
        for (int64_t f = 0; f < frames; f++) {
            for (int64_t t = 0; t < flen; t++) {
                int64_t at = (b * x->dims[1] + f * step + t) * cx;
                double w = win ? cpu_get_f(win->data, win->dtype, t) : 1.0;
                fin[2 * t] = cpu_get_f(x->data, x->dtype, at) * w;
                fin[2 * t + 1] = cx == 2 ? cpu_get_f(x->data, x->dtype, at + 1) * w : 0.0;
            }
            dft_line(fin, flen, fout, bins, flen, tw, 0);
            for (int64_t q = 0; q < 2 * bins; q++)
                cpu_set_f(out[0].data, out[0].dtype, ((b * frames + f) * bins) * 2 + q, fout[q]);
        }
    free(tw);
    free(fin);
    free(fout);
    return AGLM_OK;
}

/* ---- windows ----------------------------------------------------------------------------------
 */

/* Generalised cosine window: a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size when
 * periodic, size - 1 when symmetric. */
static aglm_status cosine_window(const cpu_kctx *k, const aglm_tensor *size_in, double a0,
                                 double a1, double a2, aglm_tensor *y)
{
    aglm_dtype dt;
    int64_t size = 0;
    aglm_status st = out_dtype(k, &dt);
    if (st == AGLM_OK)
        st = int_scalar(size_in, "input size", &size);
    if (st != AGLM_OK)
        return st;
    if (size < 0 || size > ((int64_t)1 << 32))
        return aglm_error(AGLM_ERR_INVALID, "window size %lld is out of range", (long long)size);
    int periodic = aglm_node_get_int(k->node, "periodic", 1) != 0;
    if ((st = cpu_alloc(k, y, dt, 1, &size)) != AGLM_OK)
        return st;
    double n1 = (double)(periodic ? size : size - 1);
    for (int64_t i = 0; i < size; i++) {
        double a = 2.0 * M_PI * (double)i / n1;
        cpu_set_f(y->data, dt, i, a0 - a1 * cos(a) + a2 * cos(2.0 * a));
    }
    return AGLM_OK;
}

static aglm_status k_hann(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    return cosine_window(k, in[0], 0.5, 0.5, 0.0, &out[0]);
}

static aglm_status k_hamming(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    return cosine_window(k, in[0], 25.0 / 46.0, 21.0 / 46.0, 0.0, &out[0]);
}

static aglm_status k_blackman(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    return cosine_window(k, in[0], 0.42, 0.5, 0.08, &out[0]);
}

/* MelWeightMatrix: [dft_length / 2 + 1, num_mel_bins] triangular filters spaced evenly on the
 * mel scale between the edge frequencies, as ONNX's reference lays them out. */
static aglm_status k_mel(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    aglm_dtype dt;
    int64_t bins = 0, dft_len = 0, rate = 0;
    aglm_status st = out_dtype(k, &dt);
    if (st == AGLM_OK)
        st = int_scalar(in[0], "input num_mel_bins", &bins);
    if (st == AGLM_OK)
        st = int_scalar(in[1], "input dft_length", &dft_len);
    if (st == AGLM_OK)
        st = int_scalar(in[2], "input sample_rate", &rate);
    if (st != AGLM_OK)
        return st;
    for (int i = 3; i < 5; i++)
        if (!aglm_dtype_is_float(in[i]->dtype) || aglm_tensor_numel(in[i]) != 1)
            return aglm_error(AGLM_ERR_INVALID, "input %s must be one float",
                              i == 3 ? "lower_edge_hertz" : "upper_edge_hertz");
    if (bins < 1 || bins > 1 << 20 || dft_len < 1 || dft_len > 1 << 24 || rate < 1)
        return aglm_error(AGLM_ERR_INVALID,
                          "num_mel_bins %lld, dft_length %lld and sample_rate "
                          "%lld must be positive and reasonable",
                          (long long)bins, (long long)dft_len, (long long)rate);
    /* the reference computes the edges in float32 and the bins in double */
    float lo = (float)cpu_get_f(in[3]->data, in[3]->dtype, 0);
    float hi = (float)cpu_get_f(in[4]->data, in[4]->dtype, 0);
    float lo_mel = 2595.0f * log10f(1.0f + lo / 700.0f),
          hi_mel = 2595.0f * log10f(1.0f + hi / 700.0f);
    float step = (hi_mel - lo_mel) / (float)(bins + 2);
    int64_t spec_bins = dft_len / 2 + 1, dims[2] = {spec_bins, bins};
    int64_t *edge = malloc((size_t)(bins + 2) * sizeof *edge);
    if (!edge)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld mel bins", (long long)bins);
    for (int64_t i = 0; i < bins + 2; i++) {
        double mel = (double)i * (double)step + (double)lo_mel;
        double hz = 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
        double e = floor((double)(dft_len + 1) * hz / (double)rate);
        /* NaN or far-off edges (from bad edge frequencies) fall outside every bin */
        edge[i] = isnan(e) ? -1 : (int64_t)fmax(-1.0, fmin((double)spec_bins + 1, e));
    }
    if ((st = cpu_alloc(k, &out[0], dt, 2, dims)) != AGLM_OK) {
        free(edge);
        return st;
    }
    for (int64_t i = 0; i < bins; i++) {
        int64_t l = edge[i], c = edge[i + 1], h = edge[i + 2];
        if (c == l) {
            if (c >= 0 && c < spec_bins)
                cpu_set_f(out[0].data, dt, c * bins + i, 1.0);
        } else {
            for (int64_t j = l; j <= c; j++)
                if (j >= 0 && j < spec_bins)
                    cpu_set_f(out[0].data, dt, j * bins + i, (double)(j - l) / (double)(c - l));
        }
        for (int64_t j = c; j < h; j++)
            if (j >= 0 && j < spec_bins)
                cpu_set_f(out[0].data, dt, j * bins + i, (double)(h - j) / (double)(h - c));
    }
    free(edge);
    return AGLM_OK;
}

const cpu_kernel cpu_signal_kernels[] = {
    {"DFT", SIG_FLOATS, k_dft},
    {"STFT", SIG_FLOATS, k_stft},
    {"HannWindow", SIG_INTS, k_hann},
    {"HammingWindow", SIG_INTS, k_hamming},
    {"BlackmanWindow", SIG_INTS, k_blackman},
    {"MelWeightMatrix", SIG_INTS, k_mel},
    {NULL, 0, NULL},
};
