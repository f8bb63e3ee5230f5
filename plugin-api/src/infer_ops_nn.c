/* Neural-network rules: convolution, pooling and normalisation. Static spatial output sizes
 * come from aglm/window.h, the arithmetic the backends' kernels use too (SAME padding, PyTorch's
 * ceil_mode rule that a window starting in the right padding is dropped); a symbolic size is
 * kept where the window provably keeps it, else unknown. */
#include <stdio.h>
#include <string.h>
#include "aglm/window.h"
#include "infer_internal.h"

/* Kernel window attributes for `n` spatial axes (more than aglm_window's 3: inference takes
 * any rank). */
typedef struct window {
    int n;
    aglm_auto_pad auto_pad;
    int ceil_mode;
    int64_t kernel[AGLM_MAX_RANK];
    int64_t strides[AGLM_MAX_RANK];
    int64_t dilations[AGLM_MAX_RANK];
    int64_t pads[2 * AGLM_MAX_RANK];
} window;

/* Window attributes beyond this are rejected, as aglm_window_axis does. */
#define WINDOW_MAX AGLM_WINDOW_MAX_ATTR
/* Spatial sizes beyond this give an unknown output size instead of overflowing. */
#define SIZE_MAX_SAFE AGLM_WINDOW_MAX_SIZE

/* Reads an ints attribute of exactly `want` values, each in [min, WINDOW_MAX], or fills `def`
 * when absent. */
static aglm_status read_ints(const infer_ctx *c, const char *name, int want, int64_t min,
                             int64_t def, int64_t *vals, int *present)
{
    size_t count;
    int got;
    aglm_status st = infer_attr_ints(c, name, vals, 2 * AGLM_MAX_RANK, &count, &got);
    if (st != AGLM_OK)
        return st;
    if (present)
        *present = got;
    if (!got) {
        for (int i = 0; i < want; i++)
            vals[i] = def;
        return AGLM_OK;
    }
    if ((int)count != want)
        return infer_err(c, AGLM_ERR_INVALID, "attribute '%s' has %zu values, expects %d", name,
                         count, want);
    for (int i = 0; i < want; i++)
        if (vals[i] < min || vals[i] > WINDOW_MAX)
            return infer_err(c, AGLM_ERR_INVALID,
                             "attribute '%s' has value %lld, expects %lld to %lld", name,
                             (long long)vals[i], (long long)min, (long long)WINDOW_MAX);
    return AGLM_OK;
}

/* Reads strides, dilations, pads, auto_pad and ceil_mode; the kernel is filled by the caller. */
static aglm_status read_window(const infer_ctx *c, int spatial, window *w)
{
    aglm_status st;
    w->n = spatial;
    w->ceil_mode = aglm_node_get_int(c->node, "ceil_mode", 0) != 0;
    if ((st = aglm_auto_pad_of(c->node, &w->auto_pad)) != AGLM_OK)
        return aglm_error_wrap(st, "node '%s' (%s)", c->name, c->op);
    if ((st = read_ints(c, "strides", spatial, 1, 1, w->strides, NULL)) != AGLM_OK ||
        (st = read_ints(c, "dilations", spatial, 1, 1, w->dilations, NULL)) != AGLM_OK ||
        (st = read_ints(c, "pads", 2 * spatial, 0, 0, w->pads, NULL)) != AGLM_OK)
        return st;
    return AGLM_OK;
}

static aglm_status kernel_attr(const infer_ctx *c, window *w, int *present)
{
    return read_ints(c, "kernel_shape", w->n, 1, 1, w->kernel, present);
}

/* aglm_window_axis's failure st, named after the node, spatial axis i and the input type x. */
static aglm_status axis_err(const infer_ctx *c, aglm_status st, int i, const infer_type *x)
{
    char msg[256], sx[128];
    snprintf(msg, sizeof msg, "%s", aglm_last_error());
    return infer_err(c, st, "%s of spatial axis %d of %s", msg, i,
                     infer_type_str(x, sx, sizeof sx));
}

/* Output size of spatial axis i for input dim `in`; AGLM_ERR_SHAPE when the window does not fit. */
static aglm_status window_out(const infer_ctx *c, const window *w, int i, aglm_dim in,
                              aglm_dim *out, const infer_type *x)
{
    int64_t pb = 0, pe = 0, o;
    if (w->auto_pad == AGLM_AUTO_PAD_NOTSET) {
        pb = w->pads[i];
        pe = w->pads[i + w->n];
    }
    if (in.value > SIZE_MAX_SAFE) {
        *out = infer_dim_unknown();
        return AGLM_OK;
    }
    if (!infer_dim_is_static(in)) {
        /* stride 1 with total padding k - 1 (as SAME gives) keeps the size, symbol included */
        int same =
            w->auto_pad == AGLM_AUTO_PAD_SAME_UPPER || w->auto_pad == AGLM_AUTO_PAD_SAME_LOWER;
        int64_t k = (w->kernel[i] - 1) * w->dilations[i] + 1;
        *out = w->strides[i] == 1 && (same || pb + pe == k - 1) ? in : infer_dim_unknown();
        return AGLM_OK;
    }
    aglm_status st = aglm_window_axis(in.value, w->kernel[i], w->strides[i], w->dilations[i],
                                      w->auto_pad, w->ceil_mode, &pb, &pe, &o);
    if (st != AGLM_OK)
        return axis_err(c, st, i, x);
    *out = infer_dim_static(o);
    return AGLM_OK;
}

static aglm_status need_spatial(const infer_ctx *c, const infer_type *x, int min_rank)
{
    if (x->rank < 0 || x->rank >= min_rank)
        return AGLM_OK;
    char s[128];
    return infer_err(c, AGLM_ERR_SHAPE, "expects an input of rank >= %d (N, C, spatial...), got %s",
                     min_rank, infer_type_str(x, s, sizeof s));
}

static aglm_status check_bias(const infer_ctx *c, size_t i, aglm_dim channels, const infer_type *w)
{
    const infer_type *b = &c->in[i];
    if (!infer_has_in(c, i) || b->rank < 0)
        return AGLM_OK;
    if (b->rank != 1 || infer_dim_conflict(b->dims[0], channels)) {
        char sb[128], sw[128];
        return infer_err(c, AGLM_ERR_SHAPE, "bias %s does not match weight %s",
                         infer_type_str(b, sb, sizeof sb), infer_type_str(w, sw, sizeof sw));
    }
    return AGLM_OK;
}

/* Shared checks of Conv and ConvTranspose: ranks, group, window; fills the kernel from the
 * attribute or from W's spatial dims (*kernel_known 0 when those are not static). */
static aglm_status conv_common(infer_ctx *c, window *w, int64_t *group, int *kernel_known)
{
    const infer_type *x = &c->in[0], *wt = &c->in[1];
    aglm_status st;
    if ((st = infer_same_dtype(c, 0, 1)) != AGLM_OK ||
        (st = infer_same_dtype(c, 0, 2)) != AGLM_OK || (st = need_spatial(c, x, 3)) != AGLM_OK)
        return st;
    if (x->rank >= 0 && wt->rank >= 0 && x->rank != wt->rank) {
        char sx[128], sw[128];
        return infer_err(c, AGLM_ERR_SHAPE, "weight %s does not match the rank of input %s",
                         infer_type_str(wt, sw, sizeof sw), infer_type_str(x, sx, sizeof sx));
    }
    *group = aglm_node_get_int(c->node, "group", 1);
    if (*group < 1)
        return infer_err(c, AGLM_ERR_INVALID, "group %lld must be >= 1", (long long)*group);
    int rank = x->rank >= 0 ? x->rank : wt->rank;
    *kernel_known = 0;
    if (rank < 3)
        return AGLM_OK; /* only a weight of too small a rank, with X unknown: nothing to say */
    if ((st = read_window(c, rank - 2, w)) != AGLM_OK)
        return st;
    int present;
    if ((st = kernel_attr(c, w, &present)) != AGLM_OK)
        return st;
    *kernel_known = present;
    if (!present && wt->rank >= 0) {
        *kernel_known = 1;
        for (int i = 0; i < w->n; i++) {
            if (!infer_dim_is_static(wt->dims[2 + i]))
                *kernel_known = 0;
            else
                w->kernel[i] = wt->dims[2 + i].value;
        }
    }
    return AGLM_OK;
}

/* Conv: X[N,C,D...] * W[M,C/group,k...] (+ B[M]) -> Y[N,M,D'...]; DeformConv has the same
 * output, its bias at input `bias` 3 after the offsets. */
static aglm_status conv_like(infer_ctx *c, size_t bias)
{
    const infer_type *x = &c->in[0], *wt = &c->in[1];
    window w;
    int64_t group;
    int kernel_known;
    aglm_status st = conv_common(c, &w, &group, &kernel_known);
    if (st != AGLM_OK)
        return st;
    aglm_dim m = wt->rank >= 1 ? wt->dims[0] : infer_dim_unknown();
    if (x->rank >= 2 && wt->rank >= 2 && infer_dim_is_static(x->dims[1]) &&
        infer_dim_is_static(wt->dims[1]) && x->dims[1].value != wt->dims[1].value * group) {
        char sx[128], sw[128];
        return infer_err(c, AGLM_ERR_SHAPE,
                         "input %s has %lld channels but weight %s expects %lld (group %lld)",
                         infer_type_str(x, sx, sizeof sx), (long long)x->dims[1].value,
                         infer_type_str(wt, sw, sizeof sw), (long long)(wt->dims[1].value * group),
                         (long long)group);
    }
    if (infer_dim_is_static(m) && m.value % group != 0) {
        char sw[128];
        return infer_err(c, AGLM_ERR_SHAPE,
                         "weight %s has %lld output channels, not a multiple of group %lld",
                         infer_type_str(wt, sw, sizeof sw), (long long)m.value, (long long)group);
    }
    if ((st = check_bias(c, bias, m, wt)) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank >= 0) {
        y.rank = x->rank;
        y.dims[0] = x->dims[0];
        y.dims[1] = m;
        for (int i = 0; i < w.n; i++) {
            y.dims[2 + i] = infer_dim_unknown();
            if (kernel_known &&
                (st = window_out(c, &w, i, x->dims[2 + i], &y.dims[2 + i], x)) != AGLM_OK)
                return st;
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

static aglm_status conv(infer_ctx *c)
{
    return conv_like(c, 2);
}

static aglm_status deform_conv(infer_ctx *c)
{
    return conv_like(c, 3);
}

/* ConvTranspose: X[N,C,D...], W[C,M/group,k...] -> Y[N,M,D'...], with
 * D' = stride*(D-1) + output_padding + (k-1)*dilation + 1 - pads, or output_shape when given. */
static aglm_status conv_transpose(infer_ctx *c)
{
    const infer_type *x = &c->in[0], *wt = &c->in[1];
    window w;
    int64_t group;
    int kernel_known;
    aglm_status st = conv_common(c, &w, &group, &kernel_known);
    if (st != AGLM_OK)
        return st;
    if (x->rank >= 2 && wt->rank >= 1 && infer_dim_conflict(x->dims[1], wt->dims[0])) {
        char sx[128], sw[128];
        return infer_err(c, AGLM_ERR_SHAPE, "input %s has %lld channels but weight %s expects %lld",
                         infer_type_str(x, sx, sizeof sx), (long long)x->dims[1].value,
                         infer_type_str(wt, sw, sizeof sw), (long long)wt->dims[0].value);
    }
    aglm_dim m = infer_dim_unknown();
    if (wt->rank >= 2 && infer_dim_is_static(wt->dims[1]))
        m = infer_dim_static(wt->dims[1].value * group);
    if ((st = check_bias(c, 2, m, wt)) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank < 0) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    y.rank = x->rank;
    y.dims[0] = x->dims[0];
    y.dims[1] = m;
    int64_t out_pad[AGLM_MAX_RANK], out_shape[2 * AGLM_MAX_RANK];
    size_t n_shape;
    int has_shape;
    if ((st = read_ints(c, "output_padding", w.n, 0, 0, out_pad, NULL)) != AGLM_OK ||
        (st = infer_attr_ints(c, "output_shape", out_shape, 2 * AGLM_MAX_RANK, &n_shape,
                              &has_shape)) != AGLM_OK)
        return st;
    if (has_shape && n_shape != (size_t)w.n && n_shape != (size_t)x->rank)
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'output_shape' has %zu values, expects %d",
                         n_shape, w.n);
    for (int i = 0; i < w.n; i++) {
        aglm_dim in = x->dims[2 + i];
        y.dims[2 + i] = infer_dim_unknown();
        if (has_shape) {
            y.dims[2 + i] = infer_dim_static(out_shape[n_shape - (size_t)w.n + (size_t)i]);
        } else if (infer_dim_is_static(in) && in.value <= SIZE_MAX_SAFE / w.strides[i] &&
                   kernel_known) {
            int64_t pb = w.pads[i], pe = w.pads[i + w.n], o;
            st = aglm_window_transpose_axis(in.value, w.kernel[i], w.strides[i], w.dilations[i],
                                            out_pad[i], -1, w.auto_pad, &pb, &pe, &o);
            if (st != AGLM_OK)
                return axis_err(c, st, i, x);
            y.dims[2 + i] = infer_dim_static(o);
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* MaxPool, AveragePool, LpPool: kernel_shape required; MaxPool's optional Indices are int64. */
static aglm_status pool(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    aglm_status st = need_spatial(c, x, 3);
    if (st != AGLM_OK)
        return st;
    if (!aglm_node_attr(c->node, "kernel_shape"))
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'kernel_shape' is missing");
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank >= 0) {
        window w;
        int present;
        if ((st = read_window(c, x->rank - 2, &w)) != AGLM_OK ||
            (st = kernel_attr(c, &w, &present)) != AGLM_OK)
            return st;
        y.rank = x->rank;
        y.dims[0] = x->dims[0];
        y.dims[1] = x->dims[1];
        for (int i = 0; i < w.n; i++)
            if ((st = window_out(c, &w, i, x->dims[2 + i], &y.dims[2 + i], x)) != AGLM_OK)
                return st;
    }
    infer_set_out(c, 0, &y);
    y.dtype = AGLM_I64;
    infer_set_out(c, 1, &y);
    return AGLM_OK;
}

/* MaxUnpool: output_shape's values when constant, else each spatial dim grows back to
 * (in - 1) * stride + kernel - pads. */
static aglm_status max_unpool(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    aglm_status st;
    if ((st = need_spatial(c, x, 3)) != AGLM_OK || (st = infer_need_int64(c, 1, "I")) != AGLM_OK ||
        (st = infer_need_int64(c, 2, "output_shape")) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank < 0) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    y.rank = x->rank;
    for (int i = 0; i < y.rank; i++)
        y.dims[i] = infer_dim_unknown();
    if (infer_has_in(c, 2)) {
        int64_t v[AGLM_MAX_RANK];
        size_t n = 0;
        int known = 0;
        if ((st = infer_const_ints(c, 2, v, AGLM_MAX_RANK, &n, &known)) != AGLM_OK)
            return st;
        if (known && n != (size_t)x->rank)
            return infer_err(c, AGLM_ERR_SHAPE, "output_shape has %zu values, expected %d", n,
                             x->rank);
        for (size_t i = 0; known && i < n; i++)
            y.dims[i] = infer_dim_static(v[i]);
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    window w;
    int present;
    if ((st = read_window(c, x->rank - 2, &w)) != AGLM_OK ||
        (st = kernel_attr(c, &w, &present)) != AGLM_OK)
        return st;
    if (!present)
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'kernel_shape' is missing");
    y.dims[0] = x->dims[0];
    y.dims[1] = x->dims[1];
    for (int i = 0; i < w.n; i++) {
        aglm_dim d = x->dims[2 + i];
        if (infer_dim_is_static(d) && d.value <= SIZE_MAX_SAFE / w.strides[i])
            y.dims[2 + i] = infer_dim_static((d.value - 1) * w.strides[i] + w.kernel[i] -
                                             w.pads[i] - w.pads[i + w.n]);
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* RoiAlign [num_rois, C, output_height, output_width], MaxRoiPool [num_rois, C, pooled_shape]. */
static aglm_status roi_pool(infer_ctx *c)
{
    const infer_type *x = &c->in[0], *r = &c->in[1];
    aglm_status st;
    int align = strcmp(c->op, "RoiAlign") == 0;
    if ((st = infer_need_float(c, 0)) != AGLM_OK || (st = infer_same_dtype(c, 0, 1)) != AGLM_OK ||
        (st = infer_need_rank(c, 0, 4, "X")) != AGLM_OK ||
        (st = infer_need_rank(c, 1, 2, "rois")) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    y.rank = 4;
    y.dims[0] = r->rank == 2 ? r->dims[0] : infer_dim_unknown();
    y.dims[1] = x->rank == 4 ? x->dims[1] : infer_dim_unknown();
    if (align) {
        y.dims[2] = infer_dim_static(aglm_node_get_int(c->node, "output_height", 1));
        y.dims[3] = infer_dim_static(aglm_node_get_int(c->node, "output_width", 1));
    } else {
        int64_t p[2];
        size_t n = 0;
        int present;
        if ((st = infer_attr_ints(c, "pooled_shape", p, 2, &n, &present)) != AGLM_OK)
            return st;
        if (!present || n != 2)
            return infer_err(c, AGLM_ERR_INVALID, "attribute 'pooled_shape' must have 2 values");
        y.dims[2] = infer_dim_static(p[0]);
        y.dims[3] = infer_dim_static(p[1]);
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* CausalConvWithState (opset 27): output like the input [B, C, L]; present_state [B, C, K-1]
 * for a weight [C, 1, K]. */
static aglm_status causal_conv(infer_ctx *c)
{
    const infer_type *x = &c->in[0], *w = &c->in[1];
    aglm_status st;
    if ((st = infer_need_float(c, 0)) != AGLM_OK || (st = infer_same_dtype(c, 0, 1)) != AGLM_OK ||
        (st = infer_same_dtype(c, 0, 2)) != AGLM_OK ||
        (st = infer_same_dtype(c, 0, 3)) != AGLM_OK ||
        (st = infer_need_rank(c, 0, 3, "input")) != AGLM_OK ||
        (st = infer_need_rank(c, 1, 3, "weight")) != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    infer_type s;
    infer_type_unknown(&s, x->dtype);
    s.rank = 3;
    s.dims[0] = x->rank == 3 ? x->dims[0] : infer_dim_unknown();
    s.dims[1] = x->rank == 3 ? x->dims[1] : infer_dim_unknown();
    s.dims[2] = w->rank == 3 && infer_dim_is_static(w->dims[2]) && w->dims[2].value >= 1
                    ? infer_dim_static(w->dims[2].value - 1)
                    : infer_dim_unknown();
    infer_set_out(c, 1, &s);
    return AGLM_OK;
}

/* GlobalAveragePool, GlobalMaxPool, GlobalLpPool: every spatial dim becomes 1. */
static aglm_status global_pool(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    aglm_status st = need_spatial(c, x, 2);
    if (st != AGLM_OK)
        return st;
    infer_type y = *x;
    for (int i = 2; i < y.rank; i++)
        y.dims[i] = infer_dim_static(1);
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Inputs first..last must be 1-D of the channel count of X. */
static aglm_status check_per_channel(const infer_ctx *c, size_t first, size_t last)
{
    const infer_type *x = &c->in[0];
    aglm_dim ch = x->rank >= 2 ? x->dims[1] : infer_dim_unknown();
    static const char *const names[] = {"X", "scale", "B", "mean", "var"};
    for (size_t i = first; i <= last; i++) {
        const infer_type *t = &c->in[i];
        if (!infer_has_in(c, i) || t->rank < 0)
            continue;
        if (t->rank != 1 || infer_dim_conflict(t->dims[0], ch)) {
            char sv[128], sx[128];
            return infer_err(c, AGLM_ERR_SHAPE, "%s %s does not match the channels of X %s",
                             i < 5 ? names[i] : "input", infer_type_str(t, sv, sizeof sv),
                             infer_type_str(x, sx, sizeof sx));
        }
    }
    return AGLM_OK;
}

static aglm_dim channels(const infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    aglm_dim ch = x->rank >= 2 ? x->dims[1] : infer_dim_unknown();
    for (size_t i = 1; i < c->n_in && !infer_dim_is_static(ch); i++)
        if (infer_has_in(c, i) && c->in[i].rank == 1)
            ch = infer_dim_merge(ch, c->in[i].dims[0]);
    return ch;
}

/* BatchNormalization: Y like X; the optional statistics outputs are [C]. Scale, B, mean and var
 * share X's type before opset 15; from 15 scale/B and mean/var may each have their own. */
static aglm_status batch_norm(infer_ctx *c)
{
    aglm_status st;
    if ((st = need_spatial(c, &c->in[0], 2)) != AGLM_OK)
        return st;
    if (c->opset < 15) {
        for (size_t i = 1; i < 5; i++)
            if ((st = infer_same_dtype(c, 0, i)) != AGLM_OK)
                return st;
    } else if ((st = infer_same_dtype(c, 1, 2)) != AGLM_OK ||
               (st = infer_same_dtype(c, 3, 4)) != AGLM_OK) {
        return st;
    }
    if ((st = check_per_channel(c, 1, 4)) != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    infer_type stat;
    infer_type_unknown(&stat, c->in[3].dtype != AGLM_UNDEFINED ? c->in[3].dtype : c->in[0].dtype);
    stat.rank = 1;
    stat.dims[0] = channels(c);
    for (size_t i = 1; i < c->n_out; i++)
        infer_set_out(c, i, &stat);
    return AGLM_OK;
}

/* InstanceNormalization: Y like X; scale and B per channel. */
static aglm_status instance_norm(infer_ctx *c)
{
    aglm_status st;
    if ((st = need_spatial(c, &c->in[0], 3)) != AGLM_OK ||
        (st = infer_same_dtype(c, 0, 1)) != AGLM_OK ||
        (st = infer_same_dtype(c, 0, 2)) != AGLM_OK || (st = check_per_channel(c, 1, 2)) != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* LayerNormalization (opset 17): normalises over axes [axis, rank); Mean and InvStdDev keep the
 * leading dims and have 1 elsewhere, in the stash_type dtype. */
static aglm_status layer_norm(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    aglm_status st;
    if ((st = infer_same_dtype(c, 0, 1)) != AGLM_OK || (st = infer_same_dtype(c, 0, 2)) != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    int64_t stash = aglm_node_get_int(c->node, "stash_type", AGLM_F32);
    infer_type stat;
    infer_type_unknown(&stat, (aglm_dtype)stash);
    if (x->rank >= 0) {
        int axis;
        if ((st = infer_axis(c, aglm_node_get_int(c->node, "axis", -1), x->rank, 0, x, "axis",
                             &axis)) != AGLM_OK)
            return st;
        stat.rank = x->rank;
        for (int i = 0; i < x->rank; i++)
            stat.dims[i] = i < axis ? x->dims[i] : infer_dim_static(1);
    }
    infer_set_out(c, 1, &stat);
    infer_set_out(c, 2, &stat);
    return AGLM_OK;
}

/* LRN: same type as X, which must have channels. */
static aglm_status lrn(infer_ctx *c)
{
    aglm_status st;
    if ((st = need_spatial(c, &c->in[0], 2)) != AGLM_OK || (st = infer_need_float(c, 0)) != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

const infer_rule infer_rules_nn[] = {
    {"Conv", conv},
    {"ConvTranspose", conv_transpose},
    {"DeformConv", deform_conv},
    {"CausalConvWithState", causal_conv},
    {"MaxUnpool", max_unpool},
    {"RoiAlign", roi_pool},
    {"MaxRoiPool", roi_pool},
    {"MaxPool", pool},
    {"AveragePool", pool},
    {"LpPool", pool},
    {"GlobalAveragePool", global_pool},
    {"GlobalMaxPool", global_pool},
    {"GlobalLpPool", global_pool},
    {"BatchNormalization", batch_norm},
    {"InstanceNormalization", instance_norm},
    {"LayerNormalization", layer_norm},
    {"LRN", lrn},
    {NULL, NULL},
};
