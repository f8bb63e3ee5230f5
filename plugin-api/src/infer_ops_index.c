/* Indexing rules: Gather, GatherElements, GatherND, Scatter*, TensorScatter, Slice, Compress,
 * NonZero, TopK, Unique. Slice and TopK need their value inputs before run time (infer_const_ints)
 * to give sizes; otherwise they keep the rank. NonZero, Unique and Compress sizes depend on the
 * data, so those dims stay unknown. */
#include "infer_internal.h"

/* Gather: data[:axis] + indices.shape + data[axis+1:]. */
static aglm_status gather(infer_ctx *c)
{
    const infer_type *x = &c->in[0], *idx = &c->in[1];
    aglm_status st = infer_need_index_type(c, 1, "indices");
    if (st != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank >= 0) {
        int axis;
        if ((st = infer_axis(c, aglm_node_get_int(c->node, "axis", 0), x->rank, 0, x, "axis",
                             &axis)) != AGLM_OK)
            return st;
        if (idx->rank >= 0) {
            int rank = x->rank - 1 + idx->rank;
            if (rank > AGLM_MAX_RANK)
                return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank %d is more than %d", rank,
                                 AGLM_MAX_RANK);
            y.rank = 0;
            for (int i = 0; i < axis; i++)
                y.dims[y.rank++] = x->dims[i];
            for (int i = 0; i < idx->rank; i++)
                y.dims[y.rank++] = idx->dims[i];
            for (int i = axis + 1; i < x->rank; i++)
                y.dims[y.rank++] = x->dims[i];
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* GatherElements: the shape of indices, the type of data, equal ranks. */
static aglm_status gather_elements(infer_ctx *c)
{
    const infer_type *x = &c->in[0], *idx = &c->in[1];
    aglm_status st = infer_need_index_type(c, 1, "indices");
    if (st != AGLM_OK)
        return st;
    if (x->rank >= 0 && idx->rank >= 0 && x->rank != idx->rank) {
        char sx[128], si[128];
        return infer_err(c, AGLM_ERR_SHAPE, "indices %s do not match the rank of data %s",
                         infer_type_str(idx, si, sizeof si), infer_type_str(x, sx, sizeof sx));
    }
    if (x->rank >= 0) {
        int axis;
        if ((st = infer_axis(c, aglm_node_get_int(c->node, "axis", 0), x->rank, 0, x, "axis",
                             &axis)) != AGLM_OK)
            return st;
    }
    infer_type y = *idx;
    y.dtype = x->dtype;
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Elements of one sliced axis of static size d, clamped as the ONNX spec says. */
static int64_t slice_len(int64_t d, int64_t start, int64_t end, int64_t step)
{
    if (start < 0)
        start += d;
    if (end < 0)
        end += d;
    if (step > 0) {
        start = clamp64(start, 0, d);
        end = clamp64(end, 0, d);
        return end > start ? (end - start - 1) / step + 1 : 0;
    }
    if (step < -INT64_MAX)
        step = -INT64_MAX; /* so that -step exists; no axis is that long anyway */
    start = clamp64(start, 0, d - 1);
    end = clamp64(end, -1, d - 1);
    return start > end ? (start - end - 1) / -step + 1 : 0;
}

/* Reads one of Slice's int lists: attribute before opset 10, input `idx` from it. */
static aglm_status slice_list(infer_ctx *c, const char *attr, size_t idx, int64_t *v, size_t *n,
                              int *known, int *present)
{
    if (c->opset < 10) {
        *known = 1;
        return infer_attr_ints(c, attr, v, AGLM_MAX_RANK, n, present);
    }
    *present = infer_has_in(c, idx);
    *n = 0;
    *known = 1;
    if (!*present)
        return AGLM_OK;
    aglm_status st = infer_need_index_type(c, idx, attr);
    if (st == AGLM_OK)
        st = infer_const_ints(c, idx, v, AGLM_MAX_RANK, n, known);
    return st;
}

/* Slice: starts, ends, axes, steps (attributes before opset 10, inputs from 10). */
static aglm_status slice(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t starts[AGLM_MAX_RANK], ends[AGLM_MAX_RANK], axes[AGLM_MAX_RANK], steps[AGLM_MAX_RANK];
    size_t ns, ne, na, np;
    int ks, ke, ka, kp, ps, pe, pa, pp;
    aglm_status st;
    if ((st = slice_list(c, "starts", 1, starts, &ns, &ks, &ps)) != AGLM_OK ||
        (st = slice_list(c, "ends", 2, ends, &ne, &ke, &pe)) != AGLM_OK ||
        (st = slice_list(c, "axes", 3, axes, &na, &ka, &pa)) != AGLM_OK)
        return st;
    if (c->opset >= 10) {
        if ((st = slice_list(c, "steps", 4, steps, &np, &kp, &pp)) != AGLM_OK)
            return st;
    } else {
        np = 0;
        kp = 1;
        pp = 0;
    }
    if (!ps || !pe)
        return infer_err(c, AGLM_ERR_INVALID,
                         c->opset < 10 ? "attributes 'starts' and 'ends' are required"
                                       : "inputs starts and ends are required");
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank < 0) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    y = *x;
    if (!ka) {
        for (int i = 0; i < y.rank; i++)
            y.dims[i] = infer_dim_unknown();
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    if (ks && ke && ns != ne)
        return infer_err(c, AGLM_ERR_INVALID, "starts has %zu values but ends has %zu", ns, ne);
    int n_known = ks || ke;
    size_t n = ks ? ns : ne;
    if (!pa) {
        if (!n_known) {
            /* neither the axes nor their count is known */
            for (int i = 0; i < y.rank; i++)
                y.dims[i] = infer_dim_unknown();
            infer_set_out(c, 0, &y);
            return AGLM_OK;
        }
        na = n;
        for (size_t i = 0; i < na; i++)
            axes[i] = (int64_t)i;
    } else if (n_known && na != n) {
        return infer_err(c, AGLM_ERR_INVALID, "axes has %zu values but starts has %zu", na, n);
    }
    if (pp && kp && np != na)
        return infer_err(c, AGLM_ERR_INVALID, "steps has %zu values but axes has %zu", np, na);
    int values_known = ks && ke && (!pp || kp);
    unsigned char seen[AGLM_MAX_RANK] = {0};
    for (size_t i = 0; i < na; i++) {
        int a;
        if ((st = infer_axis(c, axes[i], x->rank, 0, x, "axis", &a)) != AGLM_OK)
            return st;
        if (seen[a])
            return infer_err(c, AGLM_ERR_INVALID, "axis %d is sliced twice", a);
        seen[a] = 1;
        int64_t step = pp && kp ? steps[i] : 1;
        if (step == 0)
            return infer_err(c, AGLM_ERR_INVALID, "step of axis %d is 0", a);
        if (!values_known)
            y.dims[a] = infer_dim_unknown();
        else if (infer_dim_is_static(x->dims[a]))
            y.dims[a] = infer_dim_static(slice_len(x->dims[a].value, starts[i], ends[i], step));
        else if (!(step == 1 && starts[i] == 0 && ends[i] >= INT32_MAX))
            y.dims[a] = infer_dim_unknown(); /* only a full forward slice keeps a symbolic size */
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* GatherND: indices.shape[:-1] + data.shape[batch_dims + k:], k = indices.shape[-1]. */
static aglm_status gather_nd(infer_ctx *c)
{
    const infer_type *x = &c->in[0], *idx = &c->in[1];
    aglm_status st = infer_need_index_type(c, 1, "indices");
    if (st != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    int64_t b = aglm_node_get_int(c->node, "batch_dims", 0);
    if (x->rank >= 0 && idx->rank >= 1 && infer_dim_is_static(idx->dims[idx->rank - 1])) {
        int64_t k = idx->dims[idx->rank - 1].value;
        char sx[128], si[128];
        if (b < 0 || b >= idx->rank || k > x->rank - b)
            return infer_err(
                c, AGLM_ERR_SHAPE, "indices %s do not fit data %s with batch_dims %lld",
                infer_type_str(idx, si, sizeof si), infer_type_str(x, sx, sizeof sx), (long long)b);
        int rank = idx->rank - 1 + x->rank - (int)(b + k);
        if (rank > AGLM_MAX_RANK)
            return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank %d is more than %d", rank,
                             AGLM_MAX_RANK);
        y.rank = 0;
        for (int i = 0; i < idx->rank - 1; i++)
            y.dims[y.rank++] = i < b ? infer_dim_merge(idx->dims[i], x->dims[i]) : idx->dims[i];
        for (int i = (int)(b + k); i < x->rank; i++)
            y.dims[y.rank++] = x->dims[i];
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* TensorScatter: the type of past_cache; update must share its dtype. */
static aglm_status tensor_scatter(infer_ctx *c)
{
    aglm_status st = infer_same_dtype(c, 0, 1);
    if (st == AGLM_OK)
        st = infer_need_index_type(c, 2, "write_indices");
    if (st != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* ScatterElements, Scatter, ScatterND: the type of data; updates must share its dtype. */
static aglm_status scatter(infer_ctx *c)
{
    aglm_status st = infer_need_index_type(c, 1, "indices");
    if (st == AGLM_OK)
        st = infer_same_dtype(c, 0, 2);
    if (st != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* Compress: 1-D without an axis, else the rank of data; the selected count is known only when
 * the condition is a constant. */
static aglm_status compress(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    aglm_dim kept = infer_dim_unknown();
    aglm_value *cv = infer_in_value(c, 1);
    const aglm_tensor *ct = cv ? aglm_value_const(cv) : NULL;
    if (ct && ct->rank == 1 && ct->device == AGLM_DEVICE_CPU && (ct->data || ct->dims[0] == 0) &&
        aglm_dtype_size(ct->dtype) == 1) {
        int64_t n = 0;
        for (int64_t i = 0; i < ct->dims[0]; i++)
            n += ((const unsigned char *)ct->data)[i] != 0;
        kept = infer_dim_static(n);
    }
    if (!aglm_node_attr(c->node, "axis")) {
        y.rank = 1;
        y.dims[0] = kept;
    } else if (x->rank >= 0) {
        int axis;
        aglm_status st =
            infer_axis(c, aglm_node_get_int(c->node, "axis", 0), x->rank, 0, x, "axis", &axis);
        if (st != AGLM_OK)
            return st;
        y = *x;
        y.dims[axis] = kept;
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* NonZero: int64 [rank, count]; the count depends on the data. */
static aglm_status nonzero(infer_ctx *c)
{
    infer_type y;
    infer_type_unknown(&y, AGLM_I64);
    y.rank = 2;
    y.dims[0] = c->in[0].rank >= 0 ? infer_dim_static(c->in[0].rank) : infer_dim_unknown();
    y.dims[1] = infer_dim_unknown();
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* TopK: values and int64 indices, shaped like X with k along the axis (attribute k before opset
 * 10, input K from it). */
static aglm_status topk(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    int64_t k = -1;
    aglm_status st;
    if (c->opset < 10) {
        if (!aglm_node_attr(c->node, "k"))
            return infer_err(c, AGLM_ERR_INVALID, "attribute 'k' is missing");
        k = aglm_node_get_int(c->node, "k", 0);
    } else {
        int64_t v[1];
        size_t n = 0;
        int known = 0;
        if (!infer_has_in(c, 1))
            return infer_err(c, AGLM_ERR_INVALID, "input 1 (K) is missing");
        if ((st = infer_need_int64(c, 1, "K")) != AGLM_OK ||
            (st = infer_const_ints(c, 1, v, 1, &n, &known)) != AGLM_OK)
            return st;
        if (known && n == 1)
            k = v[0];
    }
    if (x->rank >= 0) {
        int axis;
        if ((st = infer_axis(c, aglm_node_get_int(c->node, "axis", -1), x->rank, 0, x, "axis",
                             &axis)) != AGLM_OK)
            return st;
        y = *x;
        if (k >= 0 && infer_dim_is_static(x->dims[axis]) && k > x->dims[axis].value) {
            char sx[128];
            return infer_err(c, AGLM_ERR_INVALID, "k = %lld is more than axis %d of %s holds",
                             (long long)k, axis, infer_type_str(x, sx, sizeof sx));
        }
        y.dims[axis] = k >= 0 ? infer_dim_static(k) : infer_dim_unknown();
    }
    infer_set_out(c, 0, &y);
    y.dtype = AGLM_I64;
    infer_set_out(c, 1, &y);
    return AGLM_OK;
}

/* Unique: Y (1-D, or data's rank with the axis unknown), indices and counts [unique count],
 * inverse_indices [elements, or the axis length]. */
static aglm_status unique(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    infer_type y, v;
    infer_type_unknown(&y, x->dtype);
    infer_type_unknown(&v, AGLM_I64);
    v.rank = 1;
    v.dims[0] = infer_dim_unknown();
    infer_type inv = v;
    if (!aglm_node_attr(c->node, "axis")) {
        y.rank = 1;
        y.dims[0] = infer_dim_unknown();
        if (x->rank >= 0)
            inv.dims[0] = infer_dims_product(x->dims, x->rank);
    } else if (x->rank >= 0) {
        int axis;
        aglm_status st =
            infer_axis(c, aglm_node_get_int(c->node, "axis", 0), x->rank, 0, x, "axis", &axis);
        if (st != AGLM_OK)
            return st;
        y = *x;
        y.dims[axis] = infer_dim_unknown();
        inv.dims[0] = x->dims[axis];
    }
    infer_set_out(c, 0, &y);
    infer_set_out(c, 1, &v);
    infer_set_out(c, 2, &inv);
    infer_set_out(c, 3, &v);
    return AGLM_OK;
}

const infer_rule infer_rules_index[] = {
    {"GatherND", gather_nd},
    {"ScatterElements", scatter},
    {"Scatter", scatter},
    {"ScatterND", scatter},
    {"TensorScatter", tensor_scatter},
    {"Compress", compress},
    {"NonZero", nonzero},
    {"TopK", topk},
    {"Unique", unique},
    {"Gather", gather},
    {"GatherElements", gather_elements},
    {"Slice", slice},
    {NULL, NULL},
};
