/* Sliding-window geometry (aglm/window.h): one place for the output-size arithmetic that shape
 * inference and the backends' Conv, ConvTranspose and pool kernels must agree on. */
#include <string.h>
#include "aglm/window.h"

AGLM_API aglm_status aglm_auto_pad_of(const aglm_node *node, aglm_auto_pad *out)
{
    static const char *const names[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    const char *s = aglm_node_get_string(node, "auto_pad", "NOTSET");
    *out = AGLM_AUTO_PAD_NOTSET;
    if (s[0] == '\0')
        return AGLM_OK;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (aglm_auto_pad)i;
            return AGLM_OK;
        }
    return aglm_error(AGLM_ERR_INVALID,
                      "attribute auto_pad '%s' is not NOTSET, SAME_UPPER, "
                      "SAME_LOWER or VALID",
                      s);
}

static int is_same(aglm_auto_pad pad)
{
    return pad == AGLM_AUTO_PAD_SAME_UPPER || pad == AGLM_AUTO_PAD_SAME_LOWER;
}

static aglm_status need_range(const char *what, int64_t v, int64_t min, int64_t max)
{
    if (v >= min && v <= max)
        return AGLM_OK;
    return aglm_error(AGLM_ERR_INVALID, "%s %lld is out of range [%lld, %lld]", what, (long long)v,
                      (long long)min, (long long)max);
}

/* The checks both axis functions need before any arithmetic. */
static aglm_status check_axis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                              int pads_read, int64_t pad_begin, int64_t pad_end)
{
    aglm_status st;
    if ((st = need_range("input size", in, 0, AGLM_WINDOW_MAX_SIZE)) != AGLM_OK ||
        (st = need_range("kernel size", kernel, 1, AGLM_WINDOW_MAX_ATTR)) != AGLM_OK ||
        (st = need_range("stride", stride, 1, AGLM_WINDOW_MAX_ATTR)) != AGLM_OK ||
        (st = need_range("dilation", dilation, 1, AGLM_WINDOW_MAX_ATTR)) != AGLM_OK)
        return st;
    if (pads_read && ((st = need_range("pad", pad_begin, 0, AGLM_WINDOW_MAX_ATTR)) != AGLM_OK ||
                      (st = need_range("pad", pad_end, 0, AGLM_WINDOW_MAX_ATTR)) != AGLM_OK))
        return st;
    return AGLM_OK;
}

AGLM_API aglm_status aglm_window_axis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                                      aglm_auto_pad pad, int ceil_mode, int64_t *pad_begin,
                                      int64_t *pad_end, int64_t *out)
{
    aglm_status st =
        check_axis(in, kernel, stride, dilation, pad == AGLM_AUTO_PAD_NOTSET, *pad_begin, *pad_end);
    if (st != AGLM_OK)
        return st;
    int64_t span = (kernel - 1) * dilation + 1; /* extent of one dilated window */
    if (is_same(pad)) {
        /* The padding that output ceil(in / stride) needs, the odd unit at the end (UPPER) or
         * the beginning (LOWER). */
        int64_t o = (in + stride - 1) / stride;
        int64_t total = (o - 1) * stride + span - in;
        if (total < 0)
            total = 0;
        *pad_begin = pad == AGLM_AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
        *pad_end = total - *pad_begin;
        *out = o;
        return AGLM_OK;
    }
    if (pad == AGLM_AUTO_PAD_VALID)
        *pad_begin = *pad_end = 0;
    int64_t padded = in + *pad_begin + *pad_end;
    if (padded < span)
        return aglm_error(AGLM_ERR_SHAPE,
                          "window of %lld (kernel %lld, dilation %lld) is larger "
                          "than the padded size %lld",
                          (long long)span, (long long)kernel, (long long)dilation,
                          (long long)padded);
    int64_t o = (padded - span) / stride + 1;
    if (ceil_mode && pad != AGLM_AUTO_PAD_VALID) {
        o = (padded - span + stride - 1) / stride + 1;
        /* the last window must start inside the input or its begin padding */
        if ((o - 1) * stride >= in + *pad_begin)
            o--;
    }
    *out = o;
    return AGLM_OK;
}

AGLM_API aglm_status aglm_window_transpose_axis(int64_t in, int64_t kernel, int64_t stride,
                                                int64_t dilation, int64_t output_padding,
                                                int64_t output_shape, aglm_auto_pad pad,
                                                int64_t *pad_begin, int64_t *pad_end, int64_t *out)
{
    int explicit = output_shape < 0 && pad == AGLM_AUTO_PAD_NOTSET;
    aglm_status st = check_axis(in, kernel, stride, dilation, explicit, *pad_begin, *pad_end);
    if (st == AGLM_OK)
        st = need_range("output_padding", output_padding, 0, AGLM_WINDOW_MAX_ATTR);
    if (st == AGLM_OK && in > AGLM_WINDOW_MAX_SIZE / stride)
        st = aglm_error(AGLM_ERR_INVALID, "input size %lld times stride %lld is out of range",
                        (long long)in, (long long)stride);
    if (st != AGLM_OK)
        return st;
    /* the size before any padding is cut off */
    int64_t full = stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1;
    int64_t o;
    if (output_shape >= 0 || is_same(pad)) {
        o = output_shape >= 0 ? output_shape : in * stride;
        int64_t total = full - o;
        /* the odd unit goes at the end for SAME_UPPER, at the beginning otherwise; an
         * output_shape larger than the full size makes total negative, and the floor division
         * (as ONNX writes it) then extends the end */
        int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
        *pad_begin = pad == AGLM_AUTO_PAD_SAME_UPPER ? half : total - half;
        *pad_end = total - *pad_begin;
    } else {
        if (pad == AGLM_AUTO_PAD_VALID)
            *pad_begin = *pad_end = 0;
        o = full - *pad_begin - *pad_end;
    }
    if (o < 0)
        return aglm_error(AGLM_ERR_SHAPE, "pads leave a negative output size %lld", (long long)o);
    *out = o;
    return AGLM_OK;
}

/* Reads an ints attribute of exactly `want` values, each in [min, AGLM_WINDOW_MAX_ATTR], into v;
 * leaves v alone when it is absent. */
static aglm_status read_ints(const aglm_node *node, const char *name, int want, int64_t min,
                             int64_t *v)
{
    size_t count = 0;
    const int64_t *a = aglm_node_get_ints(node, name, &count);
    if (!a)
        return AGLM_OK;
    if (count != (size_t)want)
        return aglm_error(AGLM_ERR_INVALID, "attribute %s has %zu values, expected %d", name, count,
                          want);
    for (int i = 0; i < want; i++) {
        if (a[i] < min || a[i] > AGLM_WINDOW_MAX_ATTR)
            return aglm_error(AGLM_ERR_INVALID, "attribute %s[%d] = %lld, expected %lld to %lld",
                              name, i, (long long)a[i], (long long)min,
                              (long long)AGLM_WINDOW_MAX_ATTR);
        v[i] = a[i];
    }
    return AGLM_OK;
}

/* The attributes Conv, ConvTranspose and the pools share, for nd spatial dims. */
typedef struct window_attrs {
    int64_t k[AGLM_WINDOW_DIMS], s[AGLM_WINDOW_DIMS], d[AGLM_WINDOW_DIMS];
    int64_t pads[2 * AGLM_WINDOW_DIMS];
    aglm_auto_pad pad;
} window_attrs;

static aglm_status read_attrs(const aglm_node *node, int nd, const int64_t *kernel, window_attrs *a)
{
    if (nd < 1 || nd > AGLM_WINDOW_DIMS)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%d spatial dims; 1 to %d are supported", nd,
                          AGLM_WINDOW_DIMS);
    for (int i = 0; i < AGLM_WINDOW_DIMS; i++) {
        a->k[i] = a->s[i] = a->d[i] = 1;
        a->pads[i] = a->pads[AGLM_WINDOW_DIMS + i] = 0;
    }
    size_t kcount = 0;
    const int64_t *kattr = aglm_node_get_ints(node, "kernel_shape", &kcount);
    if (!kernel && !kattr)
        return aglm_error(AGLM_ERR_INVALID, "attribute kernel_shape is required");
    aglm_status st = read_ints(node, "kernel_shape", nd, 1, a->k);
    for (int i = 0; st == AGLM_OK && kernel && i < nd; i++) {
        if (kattr && a->k[i] != kernel[i])
            return aglm_error(AGLM_ERR_SHAPE, "kernel_shape[%d] = %lld but the weight has %lld", i,
                              (long long)a->k[i], (long long)kernel[i]);
        a->k[i] = kernel[i];
    }
    if (st == AGLM_OK)
        st = read_ints(node, "strides", nd, 1, a->s);
    if (st == AGLM_OK)
        st = read_ints(node, "dilations", nd, 1, a->d);
    if (st == AGLM_OK)
        st = read_ints(node, "pads", 2 * nd, 0, a->pads);
    if (st == AGLM_OK)
        st = aglm_auto_pad_of(node, &a->pad);
    return st;
}

/* Sets w to unit dims, then the op's nd dims at the end. */
static void window_reset(aglm_window *w, int nd)
{
    w->nd = nd;
    for (int i = 0; i < AGLM_WINDOW_DIMS; i++) {
        w->in[i] = w->k[i] = w->s[i] = w->d[i] = w->out[i] = 1;
        w->pb[i] = w->pe[i] = 0;
    }
}

/* Fills dim j of w from axis i of the attributes. */
static void window_set(aglm_window *w, int j, const window_attrs *a, int i, int64_t in)
{
    w->in[j] = in;
    w->k[j] = a->k[i];
    w->s[j] = a->s[i];
    w->d[j] = a->d[i];
}

AGLM_API aglm_status aglm_window_init(aglm_window *w, const aglm_node *node, int nd,
                                      const int64_t *in, const int64_t *kernel, int ceil_mode)
{
    window_attrs a;
    aglm_status st = read_attrs(node, nd, kernel, &a);
    if (st != AGLM_OK)
        return st;
    window_reset(w, nd);
    for (int i = 0; i < nd; i++) {
        int j = AGLM_WINDOW_DIMS - nd + i;
        window_set(w, j, &a, i, in[i]);
        w->pb[j] = a.pads[i];
        w->pe[j] = a.pads[nd + i];
        st = aglm_window_axis(in[i], a.k[i], a.s[i], a.d[i], a.pad, ceil_mode, &w->pb[j], &w->pe[j],
                              &w->out[j]);
        if (st != AGLM_OK)
            return aglm_error_wrap(st, "spatial dim %d", i);
    }
    return AGLM_OK;
}

AGLM_API aglm_status aglm_window_init_transpose(aglm_window *w, const aglm_node *node, int nd,
                                                const int64_t *in, const int64_t *kernel)
{
    window_attrs a;
    int64_t opad[AGLM_WINDOW_DIMS] = {0, 0, 0};
    aglm_status st = read_attrs(node, nd, kernel, &a);
    if (st == AGLM_OK)
        st = read_ints(node, "output_padding", nd, 0, opad);
    if (st != AGLM_OK)
        return st;
    size_t n_shape = 0;
    const int64_t *shape = aglm_node_get_ints(node, "output_shape", &n_shape);
    if (shape && n_shape != (size_t)nd && n_shape != (size_t)nd + 2)
        return aglm_error(AGLM_ERR_INVALID, "attribute output_shape has %zu values, expected %d",
                          n_shape, nd);
    window_reset(w, nd);
    for (int i = 0; i < nd; i++) {
        int j = AGLM_WINDOW_DIMS - nd + i;
        int64_t oshape = -1;
        if (shape && (oshape = shape[n_shape - (size_t)nd + (size_t)i]) < 0)
            return aglm_error(AGLM_ERR_INVALID, "attribute output_shape[%d] = %lld is negative", i,
                              (long long)oshape);
        window_set(w, j, &a, i, in[i]);
        w->pb[j] = a.pads[i];
        w->pe[j] = a.pads[nd + i];
        st = aglm_window_transpose_axis(in[i], a.k[i], a.s[i], a.d[i], opad[i], oshape, a.pad,
                                        &w->pb[j], &w->pe[j], &w->out[j]);
        if (st != AGLM_OK)
            return aglm_error_wrap(st, "spatial dim %d", i);
    }
    return AGLM_OK;
}

AGLM_API int64_t aglm_window_out_size(const aglm_window *w)
{
    return w->out[0] * w->out[1] * w->out[2];
}

AGLM_API int64_t aglm_window_in_size(const aglm_window *w)
{
    return w->in[0] * w->in[1] * w->in[2];
}

AGLM_API int64_t aglm_window_kernel_size(const aglm_window *w)
{
    return w->k[0] * w->k[1] * w->k[2];
}
