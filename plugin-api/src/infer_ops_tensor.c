/* Tensor-manipulation rules: Reshape, Flatten, Transpose, Concat, Squeeze, Unsqueeze, Expand,
 * Split, Tile, Pad, CenterCropPad, DepthToSpace, SpaceToDepth, Col2Im, and the ops whose output
 * has their input's type (Trilu, CumSum, CumProd, ReverseSequence). Where a rule needs a tensor's
 * values (a shape, axes, repeats...), they must be known before run time (infer_const_ints);
 * otherwise the rule says what it still can, usually the rank. */
#include <stdlib.h>
#include "infer_internal.h"

/* Solves the -1 of a Reshape: the input's element count over the other output dims. Output dims
 * copied from the input (0 entries) cancel their input dim, so [N,3,4] -> [0,-1] gives [N,12]. */
static aglm_status reshape_infer_minus_one(infer_ctx *c, const infer_type *x, infer_type *y,
                                           int idx, const unsigned char *copied,
                                           const int64_t *shape, size_t n)
{
    unsigned char used[AGLM_MAX_RANK] = {0};
    int64_t den = 1;
    for (int j = 0; j < y->rank; j++) {
        if (j == idx)
            continue;
        if (copied[j]) {
            used[j] = 1;
        } else {
            if (y->dims[j].value != 0 && den > INT64_MAX / y->dims[j].value)
                return AGLM_OK;
            den *= y->dims[j].value;
        }
    }
    char sx[128], ss[160];
    if (den == 0)
        return infer_err(c, AGLM_ERR_INVALID,
                         "cannot infer the -1 in shape %s of %s: the other dims multiply to 0",
                         infer_ints_str(shape, n, ss, sizeof ss), infer_type_str(x, sx, sizeof sx));
    aglm_dim rest[AGLM_MAX_RANK];
    int n_rest = 0;
    for (int j = 0; j < x->rank; j++)
        if (!used[j])
            rest[n_rest++] = x->dims[j];
    /* the remaining input dims: static, or one symbol when the static part equals den */
    int64_t num = 1;
    const char *sym = NULL;
    int n_sym = 0;
    for (int j = 0; j < n_rest; j++) {
        if (infer_dim_is_static(rest[j])) {
            if (rest[j].value != 0 && num > INT64_MAX / rest[j].value)
                return AGLM_OK;
            num *= rest[j].value;
        } else if (rest[j].sym && n_sym == 0) {
            sym = rest[j].sym;
            n_sym = 1;
        } else {
            return AGLM_OK; /* stays unknown */
        }
    }
    if (n_sym == 0) {
        if (num % den != 0)
            return infer_err(c, AGLM_ERR_SHAPE,
                             "cannot reshape %s to %s: %lld elements are not a multiple of %lld",
                             infer_type_str(x, sx, sizeof sx),
                             infer_ints_str(shape, n, ss, sizeof ss), (long long)num,
                             (long long)den);
        y->dims[idx] = infer_dim_static(num / den);
    } else if (num == den) {
        y->dims[idx].sym = sym;
    }
    return AGLM_OK;
}

/* Reshape: the shape is input 1 from opset 5 (attribute before); 0 copies the input dim (unless
 * allowzero, opset 14), -1 is inferred. */
static aglm_status reshape(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t shape[AGLM_MAX_RANK];
    size_t n = 0;
    int known = 0;
    aglm_status st;
    if (c->opset < 5) {
        if ((st = infer_attr_ints(c, "shape", shape, AGLM_MAX_RANK, &n, &known)) != AGLM_OK)
            return st;
        if (!known)
            return infer_err(c, AGLM_ERR_INVALID, "attribute 'shape' is missing");
    } else {
        if (!infer_has_in(c, 1))
            return infer_err(c, AGLM_ERR_INVALID, "input 1 (shape) is missing");
        if ((st = infer_need_int64(c, 1, "shape")) != AGLM_OK ||
            (st = infer_const_ints(c, 1, shape, AGLM_MAX_RANK, &n, &known)) != AGLM_OK)
            return st;
        if (!known)
            return infer_rank_from_length(c, 1, x->dtype);
    }
    int allowzero = c->opset >= 14 && aglm_node_get_int(c->node, "allowzero", 0) != 0;
    char ss[160], sx[128];
    int idx = -1, has_zero = 0;
    unsigned char copied[AGLM_MAX_RANK] = {0};
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    y.rank = (int)n;
    for (size_t j = 0; j < n; j++) {
        int64_t v = shape[j];
        y.dims[j] = infer_dim_unknown();
        if (v < -1)
            return infer_err(c, AGLM_ERR_INVALID, "shape %s has invalid dim %lld",
                             infer_ints_str(shape, n, ss, sizeof ss), (long long)v);
        if (v == -1) {
            if (idx >= 0)
                return infer_err(c, AGLM_ERR_INVALID, "shape %s has more than one -1",
                                 infer_ints_str(shape, n, ss, sizeof ss));
            idx = (int)j;
        } else if (v == 0 && !allowzero) {
            if (x->rank >= 0 && (int)j >= x->rank)
                return infer_err(
                    c, AGLM_ERR_SHAPE, "shape %s copies dim %zu, which %s does not have",
                    infer_ints_str(shape, n, ss, sizeof ss), j, infer_type_str(x, sx, sizeof sx));
            if (x->rank >= 0)
                y.dims[j] = x->dims[j];
            copied[j] = 1;
        } else {
            has_zero |= v == 0;
            y.dims[j] = infer_dim_static(v);
        }
    }
    if (allowzero && has_zero && idx >= 0)
        return infer_err(c, AGLM_ERR_INVALID, "shape %s has both 0 and -1 with allowzero set",
                         infer_ints_str(shape, n, ss, sizeof ss));
    if (x->rank >= 0) {
        if (idx >= 0) {
            if ((st = reshape_infer_minus_one(c, x, &y, idx, copied, shape, n)) != AGLM_OK)
                return st;
        } else {
            aglm_dim a = infer_dims_product(x->dims, x->rank),
                     b = infer_dims_product(y.dims, y.rank);
            if (infer_dim_conflict(a, b))
                return infer_err(c, AGLM_ERR_SHAPE,
                                 "cannot reshape %s (%lld elements) to %s (%lld elements)",
                                 infer_type_str(x, sx, sizeof sx), (long long)a.value,
                                 infer_ints_str(shape, n, ss, sizeof ss), (long long)b.value);
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Flatten: [d0*..*d(axis-1), d(axis)*..*d(r-1)]; negative axis from opset 11. */
static aglm_status flatten(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    y.rank = 2;
    y.dims[0] = y.dims[1] = infer_dim_unknown();
    if (x->rank >= 0) {
        int64_t axis = aglm_node_get_int(c->node, "axis", 1);
        int a;
        aglm_status st;
        if (axis < 0 && c->opset < 11)
            return infer_err(c, AGLM_ERR_INVALID, "axis %lld must not be negative before opset 11",
                             (long long)axis);
        if ((st = infer_axis(c, axis, x->rank, 1, x, "axis", &a)) != AGLM_OK)
            return st;
        y.dims[0] = infer_dims_product(x->dims, a);
        y.dims[1] = infer_dims_product(x->dims + a, x->rank - a);
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Transpose: perm (default: reversed dims) must be a permutation of the axes. */
static aglm_status transpose(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t perm[AGLM_MAX_RANK];
    size_t n;
    int present;
    aglm_status st = infer_attr_ints(c, "perm", perm, AGLM_MAX_RANK, &n, &present);
    if (st != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank < 0 && !present) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    int rank = x->rank >= 0 ? x->rank : (int)n;
    char sp[160], sx[128];
    if (!present) {
        n = (size_t)rank;
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
    } else if ((int)n != rank) {
        return infer_err(c, AGLM_ERR_INVALID, "perm %s does not match the rank of %s",
                         infer_ints_str(perm, n, sp, sizeof sp), infer_type_str(x, sx, sizeof sx));
    }
    unsigned char seen[AGLM_MAX_RANK] = {0};
    y.rank = rank;
    for (int i = 0; i < rank; i++) {
        if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
            return infer_err(c, AGLM_ERR_INVALID, "perm %s is not a permutation of %d axes",
                             infer_ints_str(perm, n, sp, sizeof sp), rank);
        seen[perm[i]] = 1;
        y.dims[i] = x->rank >= 0 ? x->dims[perm[i]] : infer_dim_unknown();
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Concat: equal ranks and types; dims other than axis must agree; axis dims add up. */
static aglm_status concat(infer_ctx *c)
{
    aglm_status st;
    size_t ref = c->n_in, first = c->n_in;
    for (size_t i = 0; i < c->n_in; i++) {
        if (!infer_has_in(c, i))
            continue;
        if (first == c->n_in)
            first = i;
        else if ((st = infer_same_dtype(c, first, i)) != AGLM_OK)
            return st;
        if (c->in[i].rank >= 0 && ref == c->n_in)
            ref = i;
    }
    /* Concat-1 defaults axis to 1; from opset 4 it is required */
    if (!aglm_node_attr(c->node, "axis") && c->opset >= 4)
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'axis' is missing");
    infer_type y;
    infer_type_unknown(&y, first < c->n_in ? c->in[first].dtype : AGLM_UNDEFINED);
    if (ref == c->n_in) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    const infer_type *r = &c->in[ref];
    int axis;
    if ((st = infer_axis(c, aglm_node_get_int(c->node, "axis", 1), r->rank, 0, r, "axis", &axis)) !=
        AGLM_OK)
        return st;
    y.rank = r->rank;
    for (int d = 0; d < y.rank; d++)
        y.dims[d] = r->dims[d];
    int64_t sum = 0;
    int sum_known = 1;
    for (size_t i = 0; i < c->n_in; i++) {
        const infer_type *t = &c->in[i];
        if (!infer_has_in(c, i))
            continue;
        if (t->rank < 0) {
            sum_known = 0;
            continue;
        }
        char sa[128], sb[128];
        if (t->rank != r->rank)
            return infer_err(c, AGLM_ERR_SHAPE, "cannot concatenate %s with %s: ranks differ",
                             infer_type_str(r, sa, sizeof sa), infer_type_str(t, sb, sizeof sb));
        for (int d = 0; d < y.rank; d++) {
            if (d == axis)
                continue;
            if (infer_dim_conflict(y.dims[d], t->dims[d]))
                return infer_err(
                    c, AGLM_ERR_SHAPE, "cannot concatenate %s with %s on axis %d: dim %d differs",
                    infer_type_str(r, sa, sizeof sa), infer_type_str(t, sb, sizeof sb), axis, d);
            y.dims[d] = infer_dim_merge(y.dims[d], t->dims[d]);
        }
        if (infer_dim_is_static(t->dims[axis]) && sum <= INT64_MAX - t->dims[axis].value)
            sum += t->dims[axis].value;
        else
            sum_known = 0;
    }
    y.dims[axis] = sum_known ? infer_dim_static(sum) : infer_dim_unknown();
    if (!sum_known && c->n_in == 1)
        y.dims[axis] = r->dims[axis];
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Axes of Squeeze/Unsqueeze/Reduce-style ops: attribute before `input_opset`, input 1 from it.
 * *known 0 when the input is not a constant; *present 0 when no axes are given at all. */
static aglm_status read_axes(infer_ctx *c, int64_t input_opset, int64_t *axes, size_t *n,
                             int *known, int *present)
{
    *known = 1;
    if (c->opset < input_opset) {
        return infer_attr_ints(c, "axes", axes, AGLM_MAX_RANK, n, present);
    }
    *present = infer_has_in(c, 1);
    *n = 0;
    if (!*present)
        return AGLM_OK;
    aglm_status st = infer_need_int64(c, 1, "axes");
    if (st == AGLM_OK)
        st = infer_const_ints(c, 1, axes, AGLM_MAX_RANK, n, known);
    return st;
}

/* Squeeze: removes the given axes (each must be 1) or, with none given, every static 1. */
static aglm_status squeeze(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t axes[AGLM_MAX_RANK];
    size_t n;
    int known, present;
    aglm_status st = read_axes(c, 13, axes, &n, &known, &present);
    if (st != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank < 0 || !known) {
        if (x->rank >= 0 && infer_has_in(c, 1) && c->in[1].rank == 1 &&
            infer_dim_is_static(c->in[1].dims[0]) && c->in[1].dims[0].value <= x->rank) {
            y.rank = x->rank - (int)c->in[1].dims[0].value;
            for (int i = 0; i < y.rank; i++)
                y.dims[i] = infer_dim_unknown();
        }
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    unsigned char drop[AGLM_MAX_RANK] = {0};
    if (present && n > 0) {
        for (size_t i = 0; i < n; i++) {
            int a;
            if ((st = infer_axis(c, axes[i], x->rank, 0, x, "axis", &a)) != AGLM_OK)
                return st;
            if (infer_dim_is_static(x->dims[a]) && x->dims[a].value != 1) {
                char sx[128];
                return infer_err(c, AGLM_ERR_SHAPE,
                                 "cannot squeeze axis %d of %s: its size is not 1", a,
                                 infer_type_str(x, sx, sizeof sx));
            }
            drop[a] = 1;
        }
    } else {
        /* as ONNX does, a dim not known to be 1 is kept */
        for (int i = 0; i < x->rank; i++)
            drop[i] = x->dims[i].value == 1;
    }
    y.rank = 0;
    for (int i = 0; i < x->rank; i++)
        if (!drop[i])
            y.dims[y.rank++] = x->dims[i];
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Unsqueeze: inserts 1s at the given axes of the output. */
static aglm_status unsqueeze(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t axes[AGLM_MAX_RANK];
    size_t n;
    int known, present;
    aglm_status st = read_axes(c, 13, axes, &n, &known, &present);
    if (st != AGLM_OK)
        return st;
    if (!present)
        return infer_err(c, AGLM_ERR_INVALID,
                         c->opset < 13 ? "attribute 'axes' is missing"
                                       : "input 1 (axes) is missing");
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank < 0 || !known) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    int rank = x->rank + (int)n;
    if (rank > AGLM_MAX_RANK)
        return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank %d is more than %d", rank,
                         AGLM_MAX_RANK);
    unsigned char ins[AGLM_MAX_RANK] = {0};
    char sa[160];
    for (size_t i = 0; i < n; i++) {
        int a;
        if ((st = infer_axis(c, axes[i], rank, 0, x, "axis", &a)) != AGLM_OK)
            return st;
        if (ins[a])
            return infer_err(c, AGLM_ERR_INVALID, "axes %s name axis %d twice",
                             infer_ints_str(axes, n, sa, sizeof sa), a);
        ins[a] = 1;
    }
    y.rank = rank;
    for (int i = 0, k = 0; i < rank; i++)
        y.dims[i] = ins[i] ? infer_dim_static(1) : x->dims[k++];
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Expand: broadcasts the input with the shape input (both ways). */
static aglm_status expand(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t shp[AGLM_MAX_RANK];
    size_t n;
    int known;
    aglm_status st;
    if ((st = infer_need_int64(c, 1, "shape")) != AGLM_OK ||
        (st = infer_const_ints(c, 1, shp, AGLM_MAX_RANK, &n, &known)) != AGLM_OK)
        return st;
    if (!known) {
        infer_type y;
        infer_type_unknown(&y, x->dtype);
        const infer_type *s = &c->in[1];
        if (x->rank >= 0 && s->rank == 1 && infer_dim_is_static(s->dims[0]) &&
            s->dims[0].value <= AGLM_MAX_RANK) {
            y.rank = x->rank > (int)s->dims[0].value ? x->rank : (int)s->dims[0].value;
            for (int i = 0; i < y.rank; i++)
                y.dims[i] = infer_dim_unknown();
        }
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (shp[i] < 0) {
            char ss[160];
            return infer_err(c, AGLM_ERR_INVALID, "shape %s has a negative dim",
                             infer_ints_str(shp, n, ss, sizeof ss));
        }
    infer_type s, y;
    infer_type_static(&s, x->dtype, (int)n, shp);
    if ((st = infer_broadcast(c, x, &s, &y)) != AGLM_OK)
        return st;
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Split: sizes from attribute 'split' (before 13) or input 1; otherwise equal parts (the last one
 * smaller from opset 18 when the axis does not divide). */
static aglm_status split(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    aglm_status st = AGLM_OK;
    if (x->rank < 0) {
        for (size_t i = 0; i < c->n_out; i++)
            infer_set_out(c, i, &y);
        return AGLM_OK;
    }
    int axis;
    if ((st = infer_axis(c, aglm_node_get_int(c->node, "axis", 0), x->rank, 0, x, "axis", &axis)) !=
        AGLM_OK)
        return st;
    int64_t *sizes = calloc(c->n_out + 1, sizeof *sizes);
    if (!sizes)
        return infer_err(c, AGLM_ERR_NOMEM, "out of memory");
    size_t n = 0;
    int known = 1, present;
    if (c->opset < 13) {
        st = infer_attr_ints(c, "split", sizes, c->n_out, &n, &present);
    } else {
        present = infer_has_in(c, 1);
        if (present && (st = infer_need_int64(c, 1, "split")) == AGLM_OK)
            st = infer_const_ints(c, 1, sizes, c->n_out, &n, &known);
        if (present && known && n == 0)
            present = 0; /* an empty split input counts as absent */
        else if (present && !known && c->in[1].rank == 1 && c->in[1].dims[0].value == 0)
            present = 0;
    }
    aglm_dim d = x->dims[axis];
    char sx[128];
    if (st == AGLM_OK && present && known) {
        int64_t sum = 0;
        if (n != c->n_out)
            st = infer_err(c, AGLM_ERR_INVALID, "split has %zu sizes for %zu outputs", n, c->n_out);
        for (size_t i = 0; st == AGLM_OK && i < n; i++) {
            if (sizes[i] < 0 || sum > INT64_MAX - sizes[i])
                st = infer_err(c, AGLM_ERR_INVALID, "split size %lld is invalid",
                               (long long)sizes[i]);
            else
                sum += sizes[i];
        }
        if (st == AGLM_OK && infer_dim_is_static(d) && sum != d.value)
            st = infer_err(c, AGLM_ERR_SHAPE,
                           "split sizes add up to %lld but axis %d of %s has %lld", (long long)sum,
                           axis, infer_type_str(x, sx, sizeof sx), (long long)d.value);
    } else if (st == AGLM_OK && !present) {
        int64_t parts = (int64_t)c->n_out;
        if (c->opset >= 18 && aglm_node_attr(c->node, "num_outputs") &&
            aglm_node_get_int(c->node, "num_outputs", 0) != parts)
            st = infer_err(c, AGLM_ERR_INVALID, "num_outputs is %lld but the node has %zu outputs",
                           (long long)aglm_node_get_int(c->node, "num_outputs", 0), c->n_out);
        else if (infer_dim_is_static(d)) {
            int64_t each = (d.value + parts - 1) / parts;
            if (d.value % parts != 0 && (c->opset < 18 || each * (parts - 1) >= d.value))
                st = infer_err(c, AGLM_ERR_SHAPE, "cannot split axis %d of %s into %lld parts",
                               axis, infer_type_str(x, sx, sizeof sx), (long long)parts);
            for (int64_t i = 0; i < parts; i++)
                sizes[i] = i < parts - 1 ? each : d.value - each * (parts - 1);
            n = c->n_out;
            known = 1;
        } else {
            known = 0;
        }
    } else {
        known = 0;
    }
    for (size_t i = 0; st == AGLM_OK && i < c->n_out; i++) {
        y = *x;
        y.dims[axis] = known ? infer_dim_static(sizes[i]) : infer_dim_unknown();
        infer_set_out(c, i, &y);
    }
    free(sizes);
    return st;
}

/* Tile: each dim times its repeat; a repeat of 1 keeps a symbolic dim. */
static aglm_status tile(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t rep[AGLM_MAX_RANK];
    size_t n;
    int known;
    aglm_status st;
    if ((st = infer_need_int64(c, 1, "repeats")) != AGLM_OK ||
        (st = infer_const_ints(c, 1, rep, AGLM_MAX_RANK, &n, &known)) != AGLM_OK)
        return st;
    infer_type y = *x;
    if (x->rank >= 0 && known && (int)n != x->rank) {
        char sx[128], sr[160];
        return infer_err(c, AGLM_ERR_SHAPE, "repeats %s do not match the rank of %s",
                         infer_ints_str(rep, n, sr, sizeof sr), infer_type_str(x, sx, sizeof sx));
    }
    for (int i = 0; i < y.rank; i++) {
        if (!known) {
            y.dims[i] = infer_dim_unknown();
        } else if (rep[i] < 0) {
            return infer_err(c, AGLM_ERR_INVALID, "repeat %lld of axis %d is negative",
                             (long long)rep[i], i);
        } else if (infer_dim_is_static(x->dims[i])) {
            y.dims[i] = rep[i] == 0 || x->dims[i].value <= INT64_MAX / rep[i]
                            ? infer_dim_static(x->dims[i].value * rep[i])
                            : infer_dim_unknown();
        } else if (rep[i] != 1) {
            y.dims[i] = rep[i] == 0 ? infer_dim_static(0) : infer_dim_unknown();
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Pad: pads [begin..., end...] per axis (attribute before opset 11, input 1 from it; input 3
 * names the axes from opset 18). */
static aglm_status pad(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t pads[2 * AGLM_MAX_RANK], axes[AGLM_MAX_RANK];
    size_t n = 0, na = 0;
    int known = 1, present = 0, kaxes = 1;
    aglm_status st;
    if (c->opset < 11) {
        st = infer_attr_ints(c, "pads", pads, 2 * AGLM_MAX_RANK, &n, &present);
    } else {
        present = infer_has_in(c, 1);
        st = infer_need_int64(c, 1, "pads");
        if (st == AGLM_OK && present)
            st = infer_const_ints(c, 1, pads, 2 * AGLM_MAX_RANK, &n, &known);
        if (st == AGLM_OK && infer_has_in(c, 3))
            st = infer_const_ints(c, 3, axes, AGLM_MAX_RANK, &na, &kaxes);
    }
    if (st != AGLM_OK)
        return st;
    if (!present)
        return infer_err(c, AGLM_ERR_INVALID, "pads are missing");
    infer_type y = *x;
    if (x->rank < 0) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    if (!known || !kaxes) {
        for (int i = 0; i < y.rank; i++)
            y.dims[i] = infer_dim_unknown();
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    if (!infer_has_in(c, 3)) {
        na = (size_t)x->rank;
        for (size_t i = 0; i < na; i++)
            axes[i] = (int64_t)i;
    }
    char sx[128], sp[200];
    if (n != 2 * na)
        return infer_err(c, AGLM_ERR_INVALID, "pads %s need %zu values for %s",
                         infer_ints_str(pads, n, sp, sizeof sp), 2 * na,
                         infer_type_str(x, sx, sizeof sx));
    for (size_t i = 0; i < na; i++) {
        int a;
        if ((st = infer_axis(c, axes[i], x->rank, 0, x, "axis", &a)) != AGLM_OK)
            return st;
        if (pads[i] < -INT32_MAX || pads[i] > INT32_MAX || pads[i + na] < -INT32_MAX ||
            pads[i + na] > INT32_MAX)
            return infer_err(c, AGLM_ERR_INVALID, "pads %s are out of range",
                             infer_ints_str(pads, n, sp, sizeof sp));
        int64_t add = pads[i] + pads[i + na];
        if (add == 0)
            continue;
        if (!infer_dim_is_static(x->dims[a]) || x->dims[a].value > INT64_MAX - INT32_MAX) {
            y.dims[a] = infer_dim_unknown();
            continue;
        }
        if (x->dims[a].value + add < 0)
            return infer_err(c, AGLM_ERR_SHAPE, "pads %s leave a negative size on axis %d of %s",
                             infer_ints_str(pads, n, sp, sizeof sp), a,
                             infer_type_str(x, sx, sizeof sx));
        y.dims[a] = infer_dim_static(x->dims[a].value + add);
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Trilu, CumSum, CumProd, ReverseSequence: the output has input 0's type. */
static aglm_status like_input(infer_ctx *c)
{
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* DepthToSpace [N, C/b^2, H*b, W*b] and SpaceToDepth [N, C*b^2, H/b, W/b]. */
static aglm_status depth_space(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int to_space = c->op[0] == 'D';
    int64_t b = aglm_node_get_int(c->node, "blocksize", 0);
    char sx[128];
    if (!aglm_node_attr(c->node, "blocksize") || b < 1 || b > (1 << 20))
        return infer_err(c, AGLM_ERR_INVALID,
                         "attribute 'blocksize' is missing or out of range [1, %d]", 1 << 20);
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    if (x->rank >= 0) {
        if (x->rank != 4)
            return infer_err(c, AGLM_ERR_SHAPE, "expects a 4-D input, got %s",
                             infer_type_str(x, sx, sizeof sx));
        y = *x;
        int64_t grow[4] = {1, to_space ? 1 : b * b, to_space ? b : 1, to_space ? b : 1};
        int64_t shrink[4] = {1, to_space ? b * b : 1, to_space ? 1 : b, to_space ? 1 : b};
        for (int d = 1; d < 4; d++) {
            if (!infer_dim_is_static(x->dims[d])) {
                y.dims[d] = infer_dim_unknown();
                continue;
            }
            if (x->dims[d].value % shrink[d] != 0)
                return infer_err(
                    c, AGLM_ERR_SHAPE, "dim %d of %s is not a multiple of %lld (blocksize %lld)", d,
                    infer_type_str(x, sx, sizeof sx), (long long)shrink[d], (long long)b);
            y.dims[d] = infer_dim_static(x->dims[d].value / shrink[d] * grow[d]);
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* CenterCropPad: the given axes (attribute axes, default all) take the sizes of input 1. */
static aglm_status center_crop_pad(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t shp[AGLM_MAX_RANK], axes[AGLM_MAX_RANK];
    size_t n = 0, na = 0;
    int known = 0, present = 0;
    aglm_status st;
    if ((st = infer_need_int64(c, 1, "shape")) != AGLM_OK ||
        (st = infer_const_ints(c, 1, shp, AGLM_MAX_RANK, &n, &known)) != AGLM_OK ||
        (st = infer_attr_ints(c, "axes", axes, AGLM_MAX_RANK, &na, &present)) != AGLM_OK)
        return st;
    infer_type y = *x;
    if (x->rank < 0) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    if (!present) {
        na = (size_t)x->rank;
        for (size_t i = 0; i < na; i++)
            axes[i] = (int64_t)i;
    }
    if (known && n != na)
        return infer_err(c, AGLM_ERR_INVALID, "shape has %zu values for %zu axes", n, na);
    for (size_t i = 0; i < na; i++) {
        int a;
        if ((st = infer_axis(c, axes[i], x->rank, 0, x, "axis", &a)) != AGLM_OK)
            return st;
        y.dims[a] = known && shp[i] >= 0 ? infer_dim_static(shp[i]) : infer_dim_unknown();
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* Col2Im: [N, C / prod(block_shape), image_shape...]. */
static aglm_status col2im(infer_ctx *c)
{
    const infer_type *x = &c->in[0];
    int64_t img[AGLM_MAX_RANK], blk[AGLM_MAX_RANK];
    size_t ni = 0, nb = 0;
    int ki = 0, kb = 0;
    aglm_status st;
    if ((st = infer_need_int64(c, 1, "image_shape")) != AGLM_OK ||
        (st = infer_need_int64(c, 2, "block_shape")) != AGLM_OK ||
        (st = infer_const_ints(c, 1, img, AGLM_MAX_RANK, &ni, &ki)) != AGLM_OK ||
        (st = infer_const_ints(c, 2, blk, AGLM_MAX_RANK, &nb, &kb)) != AGLM_OK)
        return st;
    infer_type y;
    infer_type_unknown(&y, x->dtype);
    const infer_type *is = &c->in[1];
    int spatial = ki                                                  ? (int)ni
                  : is->rank == 1 && infer_dim_is_static(is->dims[0]) ? (int)is->dims[0].value
                                                                      : -1;
    if (spatial >= 0) {
        if (spatial + 2 > AGLM_MAX_RANK)
            return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank %d is more than %d", spatial + 2,
                             AGLM_MAX_RANK);
        y.rank = spatial + 2;
        for (int d = 0; d < y.rank; d++)
            y.dims[d] = d >= 2 && ki ? infer_dim_static(img[d - 2]) : infer_dim_unknown();
        if (x->rank == 3) {
            y.dims[0] = x->dims[0];
            if (kb && infer_dim_is_static(x->dims[1])) {
                int64_t p = 1;
                for (size_t i = 0; i < nb; i++)
                    p *= blk[i] > 0 ? blk[i] : 1;
                if (x->dims[1].value % p == 0)
                    y.dims[1] = infer_dim_static(x->dims[1].value / p);
            }
        }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

const infer_rule infer_rules_tensor[] = {
    {"Trilu", like_input},
    {"CumSum", like_input},
    {"CumProd", like_input},
    {"ReverseSequence", like_input},
    {"DepthToSpace", depth_space},
    {"SpaceToDepth", depth_space},
    {"CenterCropPad", center_crop_pad},
    {"Col2Im", col2im},
    {"Reshape", reshape},
    {"Flatten", flatten},
    {"Transpose", transpose},
    {"Concat", concat},
    {"Squeeze", squeeze},
    {"Unsqueeze", unsqueeze},
    {"Expand", expand},
    {"Split", split},
    {"Tile", tile},
    {"Pad", pad},
    {NULL, NULL},
};
