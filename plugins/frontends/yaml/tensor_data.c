/* Dtypes, shapes and constant tensors written in YAML: inline data, a fill value, or a .npy file
 * beside the model. */
#include "yaml_frontend.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Nested data lists may go this deep (more than any rank needs). */
#define MAX_DATA_DEPTH (AGLM_MAX_RANK + 8)

aglm_status yml_read_dtype(yml_ctx *c, const yaml_node_t *n, const char *what, aglm_dtype *out)
{
    const char *s;
    aglm_status st = ydoc_text(c->doc, n, what, &s);
    if (st != AGLM_OK)
        return st;
    aglm_dtype dt = aglm_dtype_from_name(s);
    if (dt == AGLM_UNDEFINED)
        return ydoc_fail(c->doc, n, AGLM_ERR_PARSE,
                         "%s: unknown dtype '%s' (f32, f16, bf16, f64, i8, u8, i16, u16, i32, u32, "
                         "i64, u64, bool)",
                         what, s);
    if (dt == AGLM_STRING)
        return ydoc_fail(c->doc, n, AGLM_ERR_UNSUPPORTED, "%s: string tensors are not supported",
                         what);
    *out = dt;
    return AGLM_OK;
}

aglm_status yml_read_dims(yml_ctx *c, const yaml_node_t *n, const char *what, int *rank,
                          aglm_dim *dims)
{
    ydoc *d = c->doc;
    aglm_status st;
    if (!ydoc_is_seq(n))
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s: shape must be a list, not %s", what,
                         ydoc_kind_name(n));
    size_t len = ydoc_seq_len(n);
    if (len > AGLM_MAX_RANK)
        return ydoc_fail(d, n, AGLM_ERR_UNSUPPORTED,
                         "%s: shape has rank %zu; at most %d is supported", what, len,
                         AGLM_MAX_RANK);
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = ydoc_seq_item(d, n, i);
        if (ydoc_is_scalar(item) && ydoc_scalar_kind(item) == YS_INT) {
            int64_t v;
            if ((st = ydoc_int(d, item, what, &v)) != AGLM_OK)
                return st;
            if (v < 0)
                return ydoc_fail(d, item, AGLM_ERR_PARSE,
                                 "%s: shape dim %zu is %lld; a dim is >= 0, a symbol or \"?\"",
                                 what, i, (long long)v);
            dims[i] = (aglm_dim){.value = v, .sym = NULL};
            continue;
        }
        if (!ydoc_is_scalar(item) || ydoc_scalar_kind(item) != YS_STRING)
            return ydoc_fail(d, item, AGLM_ERR_PARSE,
                             "%s: shape dim %zu must be an integer, a symbol or \"?\", not %s",
                             what, i, ydoc_kind_name(item));
        const char *sym;
        if ((st = ydoc_text(d, item, what, &sym)) != AGLM_OK)
            return st;
        dims[i] = (aglm_dim){.value = AGLM_DIM_DYNAMIC, .sym = strcmp(sym, "?") == 0 ? NULL : sym};
    }
    *rank = (int)len;
    return AGLM_OK;
}

/* A constant's shape must be static. */
static aglm_status read_static_shape(yml_ctx *c, const yaml_node_t *n, const char *what, int *rank,
                                     int64_t *dims)
{
    aglm_dim d[AGLM_MAX_RANK];
    aglm_status st = yml_read_dims(c, n, what, rank, d);
    if (st != AGLM_OK)
        return st;
    for (int i = 0; i < *rank; i++) {
        if (d[i].value < 0)
            return ydoc_fail(c->doc, ydoc_seq_item(c->doc, n, (size_t)i), AGLM_ERR_PARSE,
                             "%s: a constant's dims must be integers, dim %d is '%s'", what, i,
                             d[i].sym ? d[i].sym : "?");
        dims[i] = d[i].value;
    }
    return AGLM_OK;
}

/* ---- elements -------------------------------------------------------------------------- */

static aglm_status int_range(aglm_dtype dt, int64_t *lo, int64_t *hi)
{
    switch (dt) {
    case AGLM_I8: *lo = INT8_MIN, *hi = INT8_MAX; break;
    case AGLM_U8: *lo = 0, *hi = UINT8_MAX; break;
    case AGLM_I16: *lo = INT16_MIN, *hi = INT16_MAX; break;
    case AGLM_U16: *lo = 0, *hi = UINT16_MAX; break;
    case AGLM_I32: *lo = INT32_MIN, *hi = INT32_MAX; break;
    case AGLM_U32: *lo = 0, *hi = UINT32_MAX; break;
    case AGLM_I64: *lo = INT64_MIN, *hi = INT64_MAX; break;
    /* YAML integers are read as int64, so u64 takes the non-negative half. */
    case AGLM_U64: *lo = 0, *hi = INT64_MAX; break;
    case AGLM_BOOL: *lo = 0, *hi = 1; break;
    default: return AGLM_ERR_UNSUPPORTED;
    }
    return AGLM_OK;
}

/* Element i of t from scalar n; integers are stored exactly (through int64, not double). */
static aglm_status store(yml_ctx *c, aglm_tensor *t, int64_t i, const yaml_node_t *n,
                         const char *what)
{
    ydoc *d = c->doc;
    aglm_status st;
    if (aglm_dtype_is_float(t->dtype)) {
        double v;
        if ((st = ydoc_float(d, n, what, &v)) != AGLM_OK)
            return st;
        aglm_tensor_set_f64(t, i, v);
        return AGLM_OK;
    }
    int64_t v, lo, hi;
    if (t->dtype == AGLM_BOOL && ydoc_is_scalar(n) && ydoc_scalar_kind(n) == YS_BOOL) {
        int b;
        if ((st = ydoc_bool(d, n, what, &b)) != AGLM_OK)
            return st;
        v = b;
    } else if ((st = ydoc_int(d, n, what, &v)) != AGLM_OK) {
        return st;
    }
    if (int_range(t->dtype, &lo, &hi) != AGLM_OK)
        return ydoc_fail(d, n, AGLM_ERR_UNSUPPORTED, "%s: dtype %s cannot hold data", what,
                         aglm_dtype_name(t->dtype));
    if (v < lo || v > hi)
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s: %lld does not fit in %s", what, (long long)v,
                         aglm_dtype_name(t->dtype));
    char *p = (char *)t->data + (size_t)i * aglm_dtype_size(t->dtype);
    switch (t->dtype) {
    case AGLM_I8: {
        int8_t x = (int8_t)v;
        memcpy(p, &x, 1);
        break;
    }
    case AGLM_U8:
    case AGLM_BOOL: {
        uint8_t x = (uint8_t)v;
        memcpy(p, &x, 1);
        break;
    }
    case AGLM_I16: {
        int16_t x = (int16_t)v;
        memcpy(p, &x, 2);
        break;
    }
    case AGLM_U16: {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, 2);
        break;
    }
    case AGLM_I32: {
        int32_t x = (int32_t)v;
        memcpy(p, &x, 4);
        break;
    }
    case AGLM_U32: {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, 4);
        break;
    }
    default: {
        memcpy(p, &v, 8);
        break;
    } /* i64, u64 */
    }
    return AGLM_OK;
}

typedef struct flat {
    int64_t count;  /* leaves seen */
    int64_t want;   /* leaves the shape needs */
    int64_t budget; /* nodes we may still visit: aliases could otherwise make the walk explode */
} flat;

/* Walks nested lists in row-major order; with t set, stores each leaf, otherwise only counts
 * (stopping once past `want`). */
static aglm_status walk(yml_ctx *c, const yaml_node_t *n, int depth, flat *f, aglm_tensor *t,
                        const char *what)
{
    if (--f->budget < 0)
        return ydoc_fail(c->doc, n, AGLM_ERR_PARSE, "%s: data is nested too much for its shape",
                         what);
    if (ydoc_is_seq(n)) {
        if (depth >= MAX_DATA_DEPTH)
            return ydoc_fail(c->doc, n, AGLM_ERR_PARSE, "%s: data lists nest deeper than %d", what,
                             MAX_DATA_DEPTH);
        size_t len = ydoc_seq_len(n);
        for (size_t i = 0; i < len && f->count <= f->want; i++) {
            aglm_status st = walk(c, ydoc_seq_item(c->doc, n, i), depth + 1, f, t, what);
            if (st != AGLM_OK)
                return st;
        }
        return AGLM_OK;
    }
    if (!ydoc_is_scalar(n) || ydoc_scalar_kind(n) == YS_NULL || ydoc_scalar_kind(n) == YS_STRING)
        return ydoc_fail(c->doc, n, AGLM_ERR_PARSE, "%s: data values must be numbers, not %s", what,
                         ydoc_kind_name(n));
    if (t) {
        aglm_status st = store(c, t, f->count, n, what);
        if (st != AGLM_OK)
            return st;
    }
    f->count++;
    return AGLM_OK;
}

static aglm_status fill_from_data(yml_ctx *c, const yaml_node_t *data, aglm_tensor *t,
                                  const char *dims_text, const char *what)
{
    int64_t want = aglm_tensor_numel(t);
    flat f = {.count = 0, .want = want, .budget = (want + 1) * (MAX_DATA_DEPTH + 2)};
    aglm_status st = walk(c, data, 0, &f, NULL, what);
    if (st != AGLM_OK)
        return st;
    if (f.count > want)
        return ydoc_fail(c->doc, data, AGLM_ERR_SHAPE,
                         "%s: data has more than the %lld values shape %s holds", what,
                         (long long)want, dims_text);
    if (f.count < want)
        return ydoc_fail(c->doc, data, AGLM_ERR_SHAPE,
                         "%s: data has %lld values but shape %s needs %lld", what,
                         (long long)f.count, dims_text, (long long)want);
    f = (flat){.count = 0, .want = want, .budget = (want + 1) * (MAX_DATA_DEPTH + 2)};
    return walk(c, data, 0, &f, t, what);
}

/* ---- .npy files ------------------------------------------------------------------------ */

/* Resolves `rel` against the model's folder; the result (malloc'd) must stay inside it, both as
 * written and after symbolic links are followed. */
static aglm_status resolve_npy(yml_ctx *c, const yaml_node_t *n, const char *rel, char **out)
{
    ydoc *d = c->doc;
    if (rel[0] == '/')
        return ydoc_fail(d, n, AGLM_ERR_INVALID,
                         "npy path '%s' must be relative to the model's folder", rel);
    int depth = 0;
    for (const char *p = rel; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            depth--;
        else if (len > 0 && !(len == 1 && p[0] == '.'))
            depth++;
        if (depth < 0)
            return ydoc_fail(d, n, AGLM_ERR_INVALID, "npy path '%s' leaves the model's folder",
                             rel);
        p += len;
        while (*p == '/')
            p++;
    }
    char *joined = NULL;
    if (asprintf(&joined, "%s/%s", c->dir, rel) < 0)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    char *real = realpath(joined, NULL);
    if (!real) {
        int err = errno;
        aglm_status st = ydoc_fail(d, n, err == ENOENT ? AGLM_ERR_NOT_FOUND : AGLM_ERR_IO,
                                   "npy file '%s' cannot be read: %s (looked for %s)", rel,
                                   strerror(err), joined);
        free(joined);
        return st;
    }
    free(joined);
    size_t dl = strlen(c->dir);
    int inside =
        strncmp(real, c->dir, dl) == 0 && (real[dl] == '/' || (dl == 1 && c->dir[0] == '/'));
    if (!inside) {
        aglm_status st =
            ydoc_fail(d, n, AGLM_ERR_INVALID,
                      "npy path '%s' leaves the model's folder (it leads to %s)", rel, real);
        free(real);
        return st;
    }
    *out = real;
    return AGLM_OK;
}

static aglm_status load_npy(yml_ctx *c, const yaml_node_t *n, const char *what, aglm_tensor *out)
{
    const char *rel;
    char *path = NULL;
    aglm_status st = ydoc_text(c->doc, n, what, &rel);
    if (st == AGLM_OK)
        st = resolve_npy(c, n, rel, &path);
    if (st != AGLM_OK)
        return st;
    st = aglm_npy_load(path, out);
    free(path);
    if (st != AGLM_OK)
        return ydoc_wrap(c->doc, n, st);
    return AGLM_OK;
}

/* ---- tensors --------------------------------------------------------------------------- */

static aglm_status check_npy_against(yml_ctx *c, const yaml_node_t *m, const char *what,
                                     const aglm_tensor *t)
{
    ydoc *d = c->doc;
    yaml_node_t *dtype_n = ydoc_get(d, m, "dtype"), *shape_n = ydoc_get(d, m, "shape");
    aglm_status st;
    if (dtype_n) {
        aglm_dtype dt = AGLM_UNDEFINED;
        if ((st = yml_read_dtype(c, dtype_n, what, &dt)) != AGLM_OK)
            return st;
        if (dt != t->dtype)
            return ydoc_fail(d, dtype_n, AGLM_ERR_TYPE,
                             "%s: declared dtype %s but the npy file holds %s", what,
                             aglm_dtype_name(dt), aglm_dtype_name(t->dtype));
    }
    if (shape_n) {
        int rank;
        int64_t dims[AGLM_MAX_RANK];
        if ((st = read_static_shape(c, shape_n, what, &rank, dims)) != AGLM_OK)
            return st;
        if (rank != t->rank || memcmp(dims, t->dims, sizeof(int64_t) * (size_t)rank) != 0) {
            char want[96], got[96];
            aglm_shape_str(rank, dims, want, sizeof want);
            aglm_shape_str(t->rank, t->dims, got, sizeof got);
            return ydoc_fail(d, shape_n, AGLM_ERR_SHAPE,
                             "%s: declared shape %s but the npy file holds %s", what, want, got);
        }
    }
    return AGLM_OK;
}

aglm_status yml_read_tensor(yml_ctx *c, const yaml_node_t *m, const char *what, aglm_tensor *out)
{
    ydoc *d = c->doc;
    memset(out, 0, sizeof *out);
    yaml_node_t *data = ydoc_get(d, m, "data"), *fill = ydoc_get(d, m, "fill"),
                *npy = ydoc_get(d, m, "npy");
    int sources = (data != NULL) + (fill != NULL) + (npy != NULL);
    if (sources != 1)
        return ydoc_fail(d, m, AGLM_ERR_PARSE,
                         "%s needs exactly one of data, fill or npy (found %d)", what, sources);

    aglm_status st;
    if (npy) {
        if ((st = load_npy(c, npy, what, out)) != AGLM_OK)
            return st;
        if ((st = check_npy_against(c, m, what, out)) != AGLM_OK)
            aglm_tensor_free(out);
        return st;
    }

    yaml_node_t *dtype_n = ydoc_get(d, m, "dtype"), *shape_n = ydoc_get(d, m, "shape");
    if (!dtype_n)
        return ydoc_fail(d, m, AGLM_ERR_PARSE, "%s: dtype is missing", what);
    aglm_dtype dt = AGLM_UNDEFINED;
    if ((st = yml_read_dtype(c, dtype_n, what, &dt)) != AGLM_OK)
        return st;
    int rank = 0;
    int64_t dims[AGLM_MAX_RANK];
    if (shape_n) {
        if ((st = read_static_shape(c, shape_n, what, &rank, dims)) != AGLM_OK)
            return st;
    } else if (fill) {
        return ydoc_fail(d, m, AGLM_ERR_PARSE, "%s: fill needs a shape", what);
    } else if (ydoc_is_seq(data)) {
        /* Without a shape, data is a flat list and the tensor 1-D (a scalar for a bare number). */
        size_t len = ydoc_seq_len(data);
        for (size_t i = 0; i < len; i++)
            if (!ydoc_is_scalar(ydoc_seq_item(d, data, i)))
                return ydoc_fail(d, ydoc_seq_item(d, data, i), AGLM_ERR_PARSE,
                                 "%s: nested data needs a shape", what);
        rank = 1;
        dims[0] = (int64_t)len;
    }
    if ((st = aglm_tensor_alloc(out, dt, rank, dims)) != AGLM_OK)
        return ydoc_wrap(d, m, aglm_error_wrap(st, "%s", what));
    char shape_text[96];
    aglm_shape_str(rank, dims, shape_text, sizeof shape_text);
    if (fill) {
        int64_t numel = aglm_tensor_numel(out);
        if (!ydoc_is_scalar(fill))
            st = ydoc_fail(d, fill, AGLM_ERR_PARSE, "%s: fill must be one number, not %s", what,
                           ydoc_kind_name(fill));
        else if (numel > 0 && (st = store(c, out, 0, fill, what)) == AGLM_OK) {
            size_t es = aglm_dtype_size(dt);
            for (int64_t i = 1; i < numel; i++)
                memcpy((char *)out->data + (size_t)i * es, out->data, es);
        }
    } else {
        st = fill_from_data(c, data, out, shape_text, what);
    }
    if (st != AGLM_OK)
        aglm_tensor_free(out);
    return st;
}
