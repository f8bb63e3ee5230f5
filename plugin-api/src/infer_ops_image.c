/* Image and detection rules: Resize, Upsample, GridSample, AffineGrid, RoiAlign, MaxRoiPool,
 * MaxUnpool, NonMaxSuppression, DeformConv. Sizes that come from input values are known when
 * those inputs are constants; otherwise only the rank is. */
#include <math.h>
#include <string.h>
#include "infer_internal.h"

/* The constant tensor behind input i (an initialiser or a Constant node's value), or NULL. */
static const aglm_tensor *const_input(const infer_ctx *c, size_t i)
{
    aglm_value *v = infer_in_value(c, i);
    if (!v)
        return NULL;
    const aglm_tensor *t = aglm_value_const(v);
    if (t)
        return t;
    aglm_node *p = aglm_value_producer(v);
    if (!p || aglm_node_domain(p)[0] != '\0' || strcmp(aglm_node_op(p), "Constant") != 0)
        return NULL;
    const aglm_attr *a = aglm_node_attr(p, "value");
    return a && aglm_attr_kind(a) == AGLM_ATTR_TENSOR ? aglm_attr_tensor(a) : NULL;
}

/* Up to cap float values of a constant input; *count -1 when they are not known. */
static void const_floats(const infer_ctx *c, size_t i, double *vals, int cap, int *count)
{
    const aglm_tensor *t = const_input(c, i);
    *count = -1;
    if (!t || !aglm_dtype_is_float(t->dtype) || t->rank > 1 || aglm_tensor_numel(t) > cap)
        return;
    *count = (int)aglm_tensor_numel(t);
    for (int k = 0; k < *count; k++)
        vals[k] = aglm_tensor_get_f64(t, k);
}

/* ---- Resize, Upsample ------------------------------------------------------------------------ */

static aglm_status resize_axes(const infer_ctx *c, const infer_type *x, int *axes, int *n)
{
    int64_t vals[AGLM_MAX_RANK];
    size_t count;
    int present;
    aglm_status st = infer_attr_ints(c, "axes", vals, AGLM_MAX_RANK, &count, &present);
    if (st != AGLM_OK)
        return st;
    if (!present) {
        for (int i = 0; i < x->rank; i++)
            axes[i] = i;
        *n = x->rank;
        return AGLM_OK;
    }
    for (size_t i = 0; i < count; i++)
        if ((st = infer_axis(c, vals[i], x->rank, 0, x, "axes value", &axes[i])) != AGLM_OK)
            return st;
    *n = (int)count;
    return AGLM_OK;
}

/* Output dims from constant scales: floor(scale * size). */
static aglm_status dims_from_scales(const infer_ctx *c, const infer_type *x, const double *s,
                                    int count, const int *axes, int naxes, infer_type *y)
{
    if (count != naxes)
        return infer_err(c, AGLM_ERR_SHAPE, "scales has %d values, expected %d", count, naxes);
    for (int i = 0; i < naxes; i++) {
        aglm_dim d = x->dims[axes[i]];
        if (!(s[i] > 0))
            return infer_err(c, AGLM_ERR_INVALID, "scale %g for axis %d is not positive", s[i],
                             axes[i]);
        y->dims[axes[i]] = infer_dim_unknown();
        if (s[i] == 1.0)
            y->dims[axes[i]] = d;
        else if (infer_dim_is_static(d) && s[i] * (double)d.value < 1e15)
            y->dims[axes[i]] = infer_dim_static((int64_t)floor(s[i] * (double)d.value));
    }
    return AGLM_OK;
}

/* Output dims from constant sizes, with keep_aspect_ratio_policy (opset 18). */
static aglm_status dims_from_sizes(const infer_ctx *c, const infer_type *x, const int64_t *sz,
                                   size_t count, const int *axes, int naxes, infer_type *y)
{
    if (count != (size_t)naxes)
        return infer_err(c, AGLM_ERR_SHAPE, "sizes has %zu values, expected %d", count, naxes);
    const char *keep = aglm_node_get_string(c->node, "keep_aspect_ratio_policy", "stretch");
    int stretch = strcmp(keep, "stretch") == 0, larger = strcmp(keep, "not_larger") == 0;
    if (!stretch && !larger && strcmp(keep, "not_smaller") != 0)
        return infer_err(c, AGLM_ERR_INVALID,
                         "keep_aspect_ratio_policy '%s' is not stretch, not_larger or "
                         "not_smaller",
                         keep);
    for (int i = 0; i < naxes; i++)
        if (sz[i] < 0)
            return infer_err(c, AGLM_ERR_INVALID, "sizes value %lld is negative", (long long)sz[i]);
    if (stretch) {
        for (int i = 0; i < naxes; i++)
            y->dims[axes[i]] = infer_dim_static(sz[i]);
        return AGLM_OK;
    }
    double s = 0;
    for (int i = 0; i < naxes; i++) {
        aglm_dim d = x->dims[axes[i]];
        if (!infer_dim_is_static(d) || d.value == 0) {
            for (int k = 0; k < naxes; k++)
                y->dims[axes[k]] = infer_dim_unknown();
            return AGLM_OK;
        }
        double r = (double)sz[i] / (double)d.value;
        if (i == 0 || (larger ? r < s : r > s))
            s = r;
    }
    for (int i = 0; i < naxes; i++)
        y->dims[axes[i]] = infer_dim_static((int64_t)(s * (double)x->dims[axes[i]].value + 0.5));
    return AGLM_OK;
}

/* Resize: X's type with resized dims; Upsample and Resize-10 take scales only. */
static aglm_status resize(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank < 0) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    y = *x;
    int legacy = strcmp(c->op, "Upsample") == 0 || c->opset < 11;
    int axes[AGLM_MAX_RANK], naxes = x->rank;
    aglm_status st = AGLM_OK;
    for (int i = 0; i < x->rank; i++)
        axes[i] = i;
    if (!legacy && (st = resize_axes(c, x, axes, &naxes)) != AGLM_OK)
        return st;
    double s[AGLM_MAX_RANK];
    int n_s = -1;
    if (legacy) {
        size_t count = 0;
        const float *attr = aglm_node_get_floats(c->node, "scales", &count);
        if (attr && count <= AGLM_MAX_RANK) {
            n_s = (int)count;
            for (size_t i = 0; i < count; i++)
                s[i] = attr[i];
        } else {
            const_floats(c, 1, s, AGLM_MAX_RANK, &n_s);
        }
    } else {
        const_floats(c, 2, s, AGLM_MAX_RANK, &n_s);
        if (n_s == 0)
            n_s = -1;
    }
    int64_t sz[AGLM_MAX_RANK];
    size_t n_sz = 0;
    int sz_known = 0;
    if (!legacy && infer_has_in(c, 3)) {
        if ((st = infer_const_ints(c, 3, sz, AGLM_MAX_RANK, &n_sz, &sz_known)) != AGLM_OK)
            return st;
        if (sz_known && n_sz == 0)
            sz_known = 0;
    }
    if (n_s >= 0)
        st = dims_from_scales(c, x, s, n_s, axes, naxes, &y);
    else if (sz_known)
        st = dims_from_sizes(c, x, sz, n_sz, axes, naxes, &y);
    else
        for (int i = 0; i < naxes; i++)
            y.dims[axes[i]] = infer_dim_unknown();
    if (st != AGLM_OK)
        return st;
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* ---- GridSample, AffineGrid ------------------------------------------------------------------ */

/* GridSample: [N, C] of X, then the grid's output dims; X's dtype. */
static aglm_status grid_sample(infer_ctx *c)
{
    const infer_type *x = &c->in[0], *g = &c->in[1];
    aglm_status st;
    if ((st = infer_need_float(c, 1)) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    int rank = x->rank >= 0 ? x->rank : g->rank;
    if (x->rank >= 0 && g->rank >= 0 && x->rank != g->rank) {
        char sx[128], sg[128];
        return infer_err(c, AGLM_ERR_SHAPE, "grid %s does not have the rank of X %s",
                         infer_type_str(g, sg, sizeof sg), infer_type_str(x, sx, sizeof sx));
    }
    if (rank >= 0) {
        if (rank < 3) {
            char sx[128];
            return infer_err(c, AGLM_ERR_SHAPE, "expects X of rank >= 3, got %s",
                             infer_type_str(x, sx, sizeof sx));
        }
        y.rank = rank;
        y.dims[0] = x->rank >= 0 ? x->dims[0] : g->dims[0];
        y.dims[1] = x->rank >= 0 ? x->dims[1] : infer_dim_unknown();
        for (int i = 2; i < rank; i++)
            y.dims[i] = g->rank >= 0 ? g->dims[i - 1] : infer_dim_unknown();
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* AffineGrid: [N, H, W, 2] or [N, D, H, W, 3] from the values of size. */
static aglm_status affine_grid(infer_ctx *c)
{
    aglm_status st;
    if ((st = infer_need_float(c, 0)) != AGLM_OK ||
        (st = infer_need_int64(c, 1, "size")) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, c->in[0].dtype);
    int64_t sz[AGLM_MAX_RANK];
    size_t n = 0;
    int known = 0;
    if ((st = infer_const_ints(c, 1, sz, AGLM_MAX_RANK, &n, &known)) != AGLM_OK)
        return st;
    int len = known ? (int)n
              : c->in[1].rank == 1 && infer_dim_is_static(c->in[1].dims[0])
                  ? (int)c->in[1].dims[0].value
                  : -1;
    if (len >= 0 && len != 4 && len != 5)
        return infer_err(c, AGLM_ERR_SHAPE, "size has %d values, expected 4 or 5", len);
    if (len > 0) {
        y.rank = len;
        for (int i = 0; i < y.rank; i++)
            y.dims[i] = infer_dim_unknown();
        y.dims[len - 1] = infer_dim_static(len - 2);
        if (known) {
            y.dims[0] = infer_dim_static(sz[0]);
            for (int i = 2; i < len; i++)
                y.dims[i - 1] = infer_dim_static(sz[i]);
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* ---- NonMaxSuppression ------------------------------------------------------------------------
 */

/* NonMaxSuppression: [selected, 3] int64 triples (batch, class, box); boxes [B, N, 4]. */
static aglm_status nms(infer_ctx *c)
{
    aglm_status st;
    if ((st = infer_need_float(c, 0)) != AGLM_OK || (st = infer_same_dtype(c, 0, 1)) != AGLM_OK ||
        (st = infer_need_rank(c, 0, 3, "boxes")) != AGLM_OK ||
        (st = infer_need_rank(c, 1, 3, "scores")) != AGLM_OK ||
        (st = infer_need_int64(c, 2, "max_output_boxes_per_class")) != AGLM_OK)
        return st;
    const infer_type *b = &c->in[0];
    if (b->rank == 3 && infer_dim_conflict(b->dims[2], infer_dim_static(4))) {
        char sb[128];
        return infer_err(c, AGLM_ERR_SHAPE, "boxes %s must be [B, N, 4]",
                         infer_type_str(b, sb, sizeof sb));
    }
    infer_type y;
    infer_type_unknown(&y, AGLM_I64);
    y.rank = 2;
    y.dims[0] = infer_dim_unknown();
    y.dims[1] = infer_dim_static(3);
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

const infer_rule infer_rules_image[] = {
    {"Resize", resize},          {"Upsample", resize},       {"GridSample", grid_sample},
    {"AffineGrid", affine_grid}, {"NonMaxSuppression", nms}, {NULL, NULL},
};
