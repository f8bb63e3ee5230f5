/* Dims, shapes and NumPy broadcasting, static (public) and symbolic (for the rules). */
#include <stdio.h>
#include <string.h>
#include "infer_internal.h"

static int sym_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

int infer_dim_same(aglm_dim a, aglm_dim b)
{
    if (infer_dim_is_static(a) || infer_dim_is_static(b))
        return a.value == b.value;
    return sym_eq(a.sym, b.sym);
}

int infer_dim_conflict(aglm_dim a, aglm_dim b)
{
    return infer_dim_is_static(a) && infer_dim_is_static(b) && a.value != b.value;
}

aglm_dim infer_dim_merge(aglm_dim a, aglm_dim b)
{
    if (infer_dim_is_static(a))
        return a;
    if (infer_dim_is_static(b))
        return b;
    return a.sym ? a : b;
}

aglm_dim infer_dims_product(const aglm_dim *d, int n)
{
    for (int i = 0; i < n; i++)
        if (d[i].value == 0)
            return infer_dim_static(0); /* zero times anything, even an unknown dim */
    int64_t prod = 1;
    const char *sym = NULL;
    int n_sym = 0;
    for (int i = 0; i < n; i++) {
        if (infer_dim_is_static(d[i])) {
            if (prod > INT64_MAX / d[i].value)
                return infer_dim_unknown();
            prod *= d[i].value;
        } else if (d[i].sym) {
            sym = d[i].sym;
            n_sym++;
        } else {
            return infer_dim_unknown();
        }
    }
    if (n_sym == 0)
        return infer_dim_static(prod);
    if (n_sym == 1 && prod == 1) {
        aglm_dim r = {AGLM_DIM_DYNAMIC, sym};
        return r;
    }
    return infer_dim_unknown();
}

void infer_type_unknown(infer_type *t, aglm_dtype dt)
{
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->rank = -1;
}

void infer_type_static(infer_type *t, aglm_dtype dt, int rank, const int64_t *dims)
{
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = infer_dim_static(dims[i]);
}

char *infer_type_str(const infer_type *t, char *buf, size_t n)
{
    size_t len = 0;
    if (n == 0)
        return buf;
    buf[0] = '\0';
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (len < n) {                                                                             \
            int w_ = snprintf(buf + len, n - len, __VA_ARGS__);                                    \
            len += w_ > 0 ? (size_t)w_ : 0;                                                        \
        }                                                                                          \
    } while (0)
    /* the IR text's spelling: "f32" alone when the shape is unknown */
    PUT("%s", aglm_dtype_name(t->dtype));
    if (t->rank >= 0) {
        PUT("[");
        for (int i = 0; i < t->rank; i++) {
            if (i)
                PUT(",");
            if (infer_dim_is_static(t->dims[i]))
                PUT("%lld", (long long)t->dims[i].value);
            else if (t->dims[i].sym)
                PUT("%s", t->dims[i].sym);
            else
                PUT("?");
        }
        PUT("]");
    }
#undef PUT
    return buf;
}

/* One output dim of a broadcast: 0 when the pair cannot broadcast. */
static int broadcast_dim(aglm_dim a, aglm_dim b, aglm_dim *out)
{
    if (infer_dim_is_static(a) && infer_dim_is_static(b)) {
        if (a.value == b.value || b.value == 1)
            *out = a;
        else if (a.value == 1)
            *out = b;
        else
            return 0;
        return 1;
    }
    if (a.value == 1) {
        *out = b;
    } else if (b.value == 1) {
        *out = a;
    } else if (infer_dim_is_static(a)) {
        /* the symbol must be 1 or equal to a: either way the result is a */
        *out = a;
    } else if (infer_dim_is_static(b)) {
        *out = b;
    } else if (sym_eq(a.sym, b.sym)) {
        *out = a;
    } else {
        /* N with M or with an unknown dim: either could be 1, so nothing is known */
        *out = infer_dim_unknown();
    }
    return 1;
}

aglm_status infer_broadcast(const infer_ctx *c, const infer_type *a, const infer_type *b,
                            infer_type *out)
{
    infer_type r;
    infer_type_unknown(&r, a->dtype);
    if (a->rank >= 0 && b->rank >= 0) {
        r.rank = a->rank > b->rank ? a->rank : b->rank;
        for (int i = 0; i < r.rank; i++) {
            int ia = a->rank - r.rank + i, ib = b->rank - r.rank + i;
            aglm_dim da = ia >= 0 ? a->dims[ia] : infer_dim_static(1);
            aglm_dim db = ib >= 0 ? b->dims[ib] : infer_dim_static(1);
            if (!broadcast_dim(da, db, &r.dims[i])) {
                char sa[128], sb[128];
                return infer_err(c, AGLM_ERR_SHAPE, "cannot broadcast %s with %s",
                                 infer_type_str(a, sa, sizeof sa),
                                 infer_type_str(b, sb, sizeof sb));
            }
        }
    }
    *out = r;
    return AGLM_OK;
}

AGLM_API aglm_status aglm_broadcast_shapes(int rank_a, const int64_t *a, int rank_b,
                                           const int64_t *b, int *out_rank, int64_t *out_dims)
{
    if (!out_rank || !out_dims)
        return aglm_error(AGLM_ERR_INVALID, "broadcast: output pointers must not be NULL");
    if (rank_a < 0 || rank_a > AGLM_MAX_RANK || rank_b < 0 || rank_b > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_INVALID, "broadcast: ranks %d and %d must be in [0, %d]", rank_a,
                          rank_b, AGLM_MAX_RANK);
    if ((rank_a > 0 && !a) || (rank_b > 0 && !b))
        return aglm_error(AGLM_ERR_INVALID, "broadcast: dims must not be NULL for a non-zero rank");
    for (int i = 0; i < rank_a; i++)
        if (a[i] < 0)
            return aglm_error(AGLM_ERR_INVALID,
                              "broadcast: dim %d of the first shape is negative (%lld)", i,
                              (long long)a[i]);
    for (int i = 0; i < rank_b; i++)
        if (b[i] < 0)
            return aglm_error(AGLM_ERR_INVALID,
                              "broadcast: dim %d of the second shape is negative (%lld)", i,
                              (long long)b[i]);
    int rank = rank_a > rank_b ? rank_a : rank_b;
    int64_t dims[AGLM_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        int ia = rank_a - rank + i, ib = rank_b - rank + i;
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da == db || db == 1) {
            dims[i] = da;
        } else if (da == 1) {
            dims[i] = db;
        } else {
            char sa[160], sb[160];
            return aglm_error(AGLM_ERR_SHAPE, "cannot broadcast %s with %s",
                              aglm_shape_str(rank_a, a, sa, sizeof sa),
                              aglm_shape_str(rank_b, b, sb, sizeof sb));
        }
    }
    *out_rank = rank;
    memcpy(out_dims, dims, (size_t)rank * sizeof *dims);
    return AGLM_OK;
}
