/* Ops that order or rank values along an axis: TopK, ArgMax, ArgMin, Unique. Values compare in
 * their own dtype (integers exactly, u64 unsigned; NaN sorts above every number); ties always go
 * to the lower index, as ONNX asks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define NUMERIC                                                                                    \
    (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16) |                  \
     CPU_DT(AGLM_I8) | CPU_DT(AGLM_U8) | CPU_DT(AGLM_I16) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_I32) |  \
     CPU_DT(AGLM_U32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U64))

/* A key whose unsigned order is the order of element i: integers exactly (signed ones with the
 * sign bit flipped), floats through their IEEE bits, -0 equal to +0 and every NaN above +inf. */
static uint64_t order_key(aglm_dtype dt, const void *data, int64_t i)
{
    if (aglm_dtype_is_float(dt)) {
        double d = cpu_get_f(data, dt, i);
        if (d != d)
            return UINT64_MAX;
        if (d == 0)
            d = 0.0;
        uint64_t b;
        memcpy(&b, &d, sizeof b);
        return b >> 63 ? ~b : b | (UINT64_C(1) << 63);
    }
    uint64_t v = (uint64_t)cpu_get_i(data, dt, i);
    return dt == AGLM_U64 ? v : v ^ (UINT64_C(1) << 63);
}

/* -1, 0 or 1 as element a of data is below, equal to or above element b. */
static int cmp_elem(aglm_dtype dt, const void *data, int64_t a, int64_t b)
{
    uint64_t x = order_key(dt, data, a), y = order_key(dt, data, b);
    return (x > y) - (x < y);
}

/* One candidate of TopK: its key and its index along the axis. */
typedef struct cand {
    uint64_t key;
    int64_t idx;
} cand;

/* 1 when a ranks before b: the larger (or smaller) key, then the lower index. */
static int ranks_before(const cand *a, const cand *b, int largest)
{
    if (a->key != b->key)
        return largest ? a->key > b->key : a->key < b->key;
    return a->idx < b->idx;
}

static int cmp_largest(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    return ranks_before(a, b, 1) ? -1 : ranks_before(b, a, 1);
}

static int cmp_smallest(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    return ranks_before(a, b, 0) ? -1 : ranks_before(b, a, 0);
}

/* Restores the heap below slot i; the root is the candidate that ranks last. */
static void sift_down(cand *h, int64_t n, int64_t i, int largest)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && ranks_before(&h[w], &h[l], largest))
            w = l;
        if (r < n && ranks_before(&h[w], &h[r], largest))
            w = r;
        if (w == i)
            return;
        cand t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* The k best of n candidates in order, in h[0..k): a heap of the best k so far, O(n log k). */
static void select_top(cand *h, int64_t n, int64_t k, int largest)
{
    if (k == 0)
        return;
    for (int64_t i = k / 2; i-- > 0;)
        sift_down(h, k, i, largest);
    for (int64_t j = k; j < n; j++)
        if (ranks_before(&h[j], &h[0], largest)) {
            h[0] = h[j];
            sift_down(h, k, 0, largest);
        }
    qsort(h, (size_t)k, sizeof *h, largest ? cmp_largest : cmp_smallest);
}

static aglm_status k_topk(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", -1), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    int64_t kv;
    if (k->opset < 10) {
        if (!aglm_node_attr(k->node, "k"))
            return aglm_error(AGLM_ERR_INVALID, "attribute k is required");
        kv = aglm_node_get_int(k->node, "k", 0);
    } else {
        size_t n;
        if (n_in < 2 || !in[1])
            return aglm_error(AGLM_ERR_INVALID, "input K is required");
        if ((st = cpu_read_ints(in[1], "input K", &kv, 1, &n)) != AGLM_OK)
            return st;
        if (n != 1)
            return aglm_error(AGLM_ERR_SHAPE, "input K must hold one value");
    }
    int64_t dim = x->dims[axis];
    if (kv < 0 || kv > dim) {
        char sx[64];
        return aglm_error(AGLM_ERR_INVALID, "k = %lld is out of range for axis %d of %s",
                          (long long)kv, axis, cpu_shape(x, sx, sizeof sx));
    }
    int64_t dims[AGLM_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = kv;
    if ((st = cpu_alloc(k, &out[0], x->dtype, x->rank, dims)) != AGLM_OK)
        return st;
    if (n_out > 1 && (st = cpu_alloc(k, &out[1], AGLM_I64, x->rank, dims)) != AGLM_OK)
        return st;
    cand *h = malloc((size_t)(dim ? dim : 1) * sizeof *h);
    if (!h)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for TopK");
    int largest = aglm_node_get_int(k->node, "largest", 1) != 0;
    int64_t outer = cpu_dims_prod(x->dims, 0, axis);
    int64_t inner = cpu_dims_prod(x->dims, axis + 1, x->rank);
    size_t es = aglm_dtype_size(x->dtype);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * dim * inner + i;
            for (int64_t j = 0; j < dim; j++) {
                h[j].key = order_key(x->dtype, x->data, base + j * inner);
                h[j].idx = j;
            }
            select_top(h, dim, kv, largest);
            for (int64_t j = 0; j < kv; j++) {
                int64_t dst = (o * kv + j) * inner + i;
                memcpy((char *)out[0].data + (size_t)dst * es,
                       (const char *)x->data + (size_t)(base + h[j].idx * inner) * es, es);
                if (n_out > 1)
                    ((int64_t *)out[1].data)[dst] = h[j].idx;
            }
        }
    }
    free(h);
    return AGLM_OK;
}

static aglm_status arg_extreme(const cpu_kctx *k, const aglm_tensor *x, int want_max,
                               aglm_tensor *out)
{
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", 0), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    int keep = aglm_node_get_int(k->node, "keepdims", 1) != 0;
    int last = k->opset >= 12 && aglm_node_get_int(k->node, "select_last_index", 0) != 0;
    int64_t dim = x->dims[axis];
    if (dim == 0) {
        char sx[64];
        return aglm_error(AGLM_ERR_SHAPE, "axis %d of %s is empty", axis,
                          cpu_shape(x, sx, sizeof sx));
    }
    int64_t dims[AGLM_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < x->rank; d++)
        if (d != axis || keep)
            dims[rank++] = d == axis ? 1 : x->dims[d];
    if ((st = cpu_alloc(k, out, AGLM_I64, rank, dims)) != AGLM_OK)
        return st;
    int64_t outer = cpu_dims_prod(x->dims, 0, axis);
    int64_t inner = cpu_dims_prod(x->dims, axis + 1, x->rank);
    int64_t *y = out->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * dim * inner + i, best = 0;
            uint64_t bk = order_key(x->dtype, x->data, base);
            for (int64_t j = 1; j < dim; j++) {
                uint64_t v = order_key(x->dtype, x->data, base + j * inner);
                int better = want_max ? v > bk : v < bk;
                if (better || (v == bk && last)) {
                    best = j;
                    bk = v;
                }
            }
            y[o * inner + i] = best;
        }
    return AGLM_OK;
}

static aglm_status k_argmax(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    return arg_extreme(k, in[0], 1, &out[0]);
}

static aglm_status k_argmin(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    return arg_extreme(k, in[0], 0, &out[0]);
}

/* Unique works on units: slices along the axis (elements when there is none). Unit u holds the
 * elements (o * dim + u) * inner + i for every o < outer, i < inner, compared in that order. */
typedef struct units {
    aglm_dtype dt;
    const void *data;
    int64_t outer, dim, inner;
} units;

static int cmp_units(const units *s, int64_t a, int64_t b)
{
    for (int64_t o = 0; o < s->outer; o++)
        for (int64_t i = 0; i < s->inner; i++) {
            int c = cmp_elem(s->dt, s->data, (o * s->dim + a) * s->inner + i,
                             (o * s->dim + b) * s->inner + i);
            if (c)
                return c;
        }
    return 0;
}

static int cmp_unit_order(const void *pa, const void *pb, void *ctx)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    int c = cmp_units(ctx, a, b);
    return c ? c : (a > b) - (a < b);
}

static int cmp_first(const void *pa, const void *pb, void *ctx)
{
    const int64_t *first = ctx;
    int64_t a = first[*(const int64_t *)pa], b = first[*(const int64_t *)pb];
    return (a > b) - (a < b);
}

/* Fills the four outputs from the groups: group g (in output order) starts at first[g] and
 * appears count[g] times; group_of[u] is unit u's group. */
static aglm_status unique_outputs(const aglm_tensor *x, const units *s, int axis, int has_axis,
                                  int64_t n_groups, const int64_t *first, const int64_t *count,
                                  const int64_t *group_of, size_t n_out, aglm_tensor *out)
{
    int64_t dims[AGLM_MAX_RANK];
    int rank = 1;
    dims[0] = n_groups;
    if (has_axis) {
        rank = x->rank;
        memcpy(dims, x->dims, sizeof dims);
        dims[axis] = n_groups;
    }
    aglm_status st = aglm_tensor_alloc(&out[0], x->dtype, rank, dims);
    int64_t n1[3] = {n_groups, s->dim, n_groups};
    for (size_t o = 1; st == AGLM_OK && o < n_out && o < 4; o++)
        st = aglm_tensor_alloc(&out[o], AGLM_I64, 1, &n1[o - 1]);
    if (st != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype), inner = (size_t)s->inner * es;
    for (int64_t o = 0; o < s->outer && inner; o++)
        for (int64_t g = 0; g < n_groups; g++)
            memcpy((char *)out[0].data + (size_t)(o * n_groups + g) * inner,
                   (const char *)x->data + (size_t)(o * s->dim + first[g]) * inner, inner);
    if (n_out > 1)
        memcpy(out[1].data, first, (size_t)n_groups * sizeof *first);
    if (n_out > 2)
        memcpy(out[2].data, group_of, (size_t)s->dim * sizeof *group_of);
    if (n_out > 3)
        memcpy(out[3].data, count, (size_t)n_groups * sizeof *count);
    return AGLM_OK;
}

static aglm_status k_unique(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int has_axis = aglm_node_attr(k->node, "axis") != NULL, axis = 0;
    units s = {x->dtype, x->data, 1, aglm_tensor_numel(x), 1};
    if (has_axis) {
        aglm_status st = cpu_norm_axis(aglm_node_get_int(k->node, "axis", 0), x->rank, 0,
                                       "attribute axis", &axis);
        if (st != AGLM_OK)
            return st;
        s.outer = cpu_dims_prod(x->dims, 0, axis);
        s.dim = x->dims[axis];
        s.inner = cpu_dims_prod(x->dims, axis + 1, x->rank);
    }
    int64_t n = s.dim;
    size_t bytes = (size_t)(n ? n : 1) * sizeof(int64_t);
    int64_t *order = malloc(bytes), *first = malloc(bytes), *count = malloc(bytes);
    int64_t *group_of = malloc(bytes), *rank_of = malloc(bytes), *perm = malloc(bytes);
    aglm_status st = AGLM_OK;
    if (!order || !first || !count || !group_of || !rank_of || !perm) {
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory for Unique");
        goto done;
    }
    for (int64_t u = 0; u < n; u++)
        order[u] = u;
    qsort_r(order, (size_t)n, sizeof *order, cmp_unit_order, &s);
    /* groups in sorted order; each group's first unit is its lowest index */
    int64_t g = -1;
    for (int64_t j = 0; j < n; j++) {
        if (j == 0 || cmp_units(&s, order[j - 1], order[j]) != 0) {
            g++;
            first[g] = order[j];
            count[g] = 0;
        }
        count[g]++;
        group_of[order[j]] = g;
    }
    int64_t n_groups = g + 1;
    if (aglm_node_get_int(k->node, "sorted", 1) == 0) {
        /* renumber the groups by first occurrence */
        for (int64_t i = 0; i < n_groups; i++)
            perm[i] = i;
        qsort_r(perm, (size_t)n_groups, sizeof *perm, cmp_first, first);
        for (int64_t i = 0; i < n_groups; i++)
            rank_of[perm[i]] = i;
        for (int64_t i = 0; i < n_groups; i++) {
            order[i] = first[perm[i]];
            perm[i] = count[perm[i]];
        }
        memcpy(first, order, (size_t)n_groups * sizeof *first);
        memcpy(count, perm, (size_t)n_groups * sizeof *count);
        for (int64_t u = 0; u < n; u++)
            group_of[u] = rank_of[group_of[u]];
    }
    st = unique_outputs(x, &s, axis, has_axis, n_groups, first, count, group_of, n_out, out);
done:
    free(order);
    free(first);
    free(count);
    free(group_of);
    free(rank_of);
    free(perm);
    return st;
}

const cpu_kernel cpu_sort_kernels[] = {
    {"TopK", NUMERIC, k_topk},
    {"ArgMax", NUMERIC, k_argmax},
    {"ArgMin", NUMERIC, k_argmin},
    {"Unique", NUMERIC, k_unique},
    {NULL, 0, NULL},
};
