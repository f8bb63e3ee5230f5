/* Helpers the rules share: messages, input checks, axes, attributes and constant inputs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "infer_internal.h"

aglm_status infer_err(const infer_ctx *c, aglm_status st, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return aglm_error(st, "node '%s' (%s): %s", c->name, c->op, msg);
}

aglm_value *infer_in_value(const infer_ctx *c, size_t i)
{
    return i < c->n_in ? aglm_node_input(c->node, i) : NULL;
}

int infer_has_in(const infer_ctx *c, size_t i)
{
    return i < c->n_in && c->present[i];
}

void infer_set_out(infer_ctx *c, size_t i, const infer_type *t)
{
    if (i >= c->n_out)
        return;
    c->out[i] = *t;
    c->out_set[i] = 1;
}

void infer_out_like(infer_ctx *c, size_t i, size_t j)
{
    infer_set_out(c, i, &c->in[j]);
}

aglm_status infer_same_dtype(const infer_ctx *c, size_t i, size_t j)
{
    if (!infer_has_in(c, i) || !infer_has_in(c, j))
        return AGLM_OK;
    aglm_dtype a = c->in[i].dtype, b = c->in[j].dtype;
    if (a == AGLM_UNDEFINED || b == AGLM_UNDEFINED || a == b)
        return AGLM_OK;
    char sa[128], sb[128];
    return infer_err(c, AGLM_ERR_TYPE, "mismatched input types %s and %s (inputs %zu and %zu)",
                     infer_type_str(&c->in[i], sa, sizeof sa),
                     infer_type_str(&c->in[j], sb, sizeof sb), i, j);
}

aglm_status infer_need_float(const infer_ctx *c, size_t i)
{
    if (!infer_has_in(c, i))
        return AGLM_OK;
    aglm_dtype dt = c->in[i].dtype;
    if (dt == AGLM_UNDEFINED || aglm_dtype_is_float(dt))
        return AGLM_OK;
    char s[128];
    return infer_err(c, AGLM_ERR_TYPE, "expects a float input, got %s",
                     infer_type_str(&c->in[i], s, sizeof s));
}

aglm_status infer_need_rank(const infer_ctx *c, size_t i, int rank, const char *what)
{
    if (!infer_has_in(c, i) || c->in[i].rank < 0 || c->in[i].rank == rank)
        return AGLM_OK;
    char s[128];
    return infer_err(c, AGLM_ERR_SHAPE, "expects %s of rank %d, got %s", what, rank,
                     infer_type_str(&c->in[i], s, sizeof s));
}

aglm_status infer_axis(const infer_ctx *c, int64_t axis, int rank, int extra, const infer_type *t,
                       const char *what, int *out)
{
    int64_t n = (int64_t)rank + extra;
    if (axis < -(int64_t)rank || axis >= n) {
        char s[128];
        return infer_err(c, AGLM_ERR_INVALID, "%s %lld is out of range for %s", what,
                         (long long)axis, infer_type_str(t, s, sizeof s));
    }
    *out = (int)(axis < 0 ? axis + rank : axis);
    return AGLM_OK;
}

aglm_status infer_attr_ints(const infer_ctx *c, const char *name, int64_t *vals, size_t cap,
                            size_t *count, int *present)
{
    *count = 0;
    *present = aglm_node_attr(c->node, name) != NULL;
    if (!*present)
        return AGLM_OK;
    size_t n = 0;
    const int64_t *v = aglm_node_get_ints(c->node, name, &n);
    if (n > cap)
        return infer_err(c, AGLM_ERR_INVALID, "attribute '%s' has %zu values, more than %zu", name,
                         n, cap);
    if (n)
        memcpy(vals, v, n * sizeof *v);
    *count = n;
    return AGLM_OK;
}

void infer_shape_range(const aglm_node *n, int64_t opset, int rank, int *start, int *end)
{
    int64_t s = 0, e = rank;
    if (opset >= 15) {
        s = aglm_node_get_int(n, "start", 0);
        e = aglm_node_get_int(n, "end", rank);
    }
    if (s < 0)
        s += rank;
    if (e < 0)
        e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *start = (int)s;
    *end = (int)(e < s ? s : e);
}

/* Element k of an integer tensor, saturated into int64. */
static int64_t tensor_int(const aglm_tensor *t, int64_t k)
{
    switch (t->dtype) {
    case AGLM_I8: return ((const int8_t *)t->data)[k];
    case AGLM_U8: return ((const uint8_t *)t->data)[k];
    case AGLM_I16: return ((const int16_t *)t->data)[k];
    case AGLM_U16: return ((const uint16_t *)t->data)[k];
    case AGLM_I32: return ((const int32_t *)t->data)[k];
    case AGLM_U32: return ((const uint32_t *)t->data)[k];
    case AGLM_I64: return ((const int64_t *)t->data)[k];
    case AGLM_U64: {
        uint64_t u = ((const uint64_t *)t->data)[k];
        return u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    }
    default: return 0;
    }
}

static aglm_status tensor_ints(const infer_ctx *c, size_t i, const aglm_tensor *t, int64_t *vals,
                               size_t cap, size_t *count, int *known)
{
    char s[128];
    infer_type ty;
    infer_type_static(&ty, t->dtype, t->rank, t->dims);
    if (!aglm_dtype_is_int(t->dtype))
        return infer_err(c, AGLM_ERR_TYPE, "input %zu must be an integer tensor, got %s", i,
                         infer_type_str(&ty, s, sizeof s));
    int64_t n = aglm_tensor_numel(t);
    if (n < 0 || (uint64_t)n > cap)
        return infer_err(c, AGLM_ERR_SHAPE, "input %zu has %lld values, more than %zu", i,
                         (long long)n, cap);
    if (n > 0 && (t->device != AGLM_DEVICE_CPU || !t->data))
        return AGLM_OK; /* not readable here: treat as unknown */
    for (int64_t k = 0; k < n; k++)
        vals[k] = tensor_int(t, k);
    *count = (size_t)n;
    *known = 1;
    return AGLM_OK;
}

aglm_status infer_const_ints(const infer_ctx *c, size_t i, int64_t *vals, size_t cap, size_t *count,
                             int *known)
{
    *known = 0;
    *count = 0;
    aglm_value *v = infer_in_value(c, i);
    if (!v)
        return AGLM_OK;
    const aglm_tensor *t = aglm_value_const(v);
    if (t)
        return tensor_ints(c, i, t, vals, cap, count, known);
    aglm_node *p = aglm_value_producer(v);
    if (!p || aglm_node_domain(p)[0] != '\0')
        return AGLM_OK;
    const char *op = aglm_node_op(p);
    if (strcmp(op, "Constant") == 0) {
        const aglm_attr *a;
        if ((a = aglm_node_attr(p, "value")) && aglm_attr_kind(a) == AGLM_ATTR_TENSOR)
            return tensor_ints(c, i, aglm_attr_tensor(a), vals, cap, count, known);
        if ((a = aglm_node_attr(p, "value_int"))) {
            vals[0] = aglm_attr_i(a);
            *count = 1;
            *known = 1;
            return AGLM_OK;
        }
        if ((a = aglm_node_attr(p, "value_ints"))) {
            size_t n = 0;
            const int64_t *iv = aglm_attr_ints(a, &n);
            if (n > cap)
                return infer_err(c, AGLM_ERR_SHAPE, "input %zu has %zu values, more than %zu", i, n,
                                 cap);
            if (n)
                memcpy(vals, iv, n * sizeof *iv);
            *count = n;
            *known = 1;
        }
        return AGLM_OK;
    }
    if (strcmp(op, "Shape") == 0 && aglm_node_num_inputs(p) > 0) {
        /* Shape of a static tensor is known now: the common Shape -> Reshape pattern */
        aglm_value *src = aglm_node_input(p, 0);
        if (!src || !aglm_value_is_static(src))
            return AGLM_OK;
        int rank = aglm_value_rank(src), s, e;
        infer_shape_range(p, infer_opset(aglm_node_graph(p)), rank, &s, &e);
        if ((size_t)(e - s) > cap)
            return infer_err(c, AGLM_ERR_SHAPE, "input %zu has %d values, more than %zu", i, e - s,
                             cap);
        for (int k = s; k < e; k++)
            vals[k - s] = aglm_value_dim(src, k).value;
        *count = (size_t)(e - s);
        *known = 1;
    }
    return AGLM_OK;
}

char *infer_ints_str(const int64_t *v, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i <= n && len < cap; i++) {
        int w = i == n ? snprintf(buf + len, cap - len, "]")
                       : snprintf(buf + len, cap - len, "%s%lld", i ? "," : "[", (long long)v[i]);
        len += w > 0 ? (size_t)w : 0;
    }
    if (n == 0)
        snprintf(buf, cap, "[]");
    return buf;
}

aglm_status infer_need_int64(const infer_ctx *c, size_t i, const char *what)
{
    if (!infer_has_in(c, i) || c->in[i].dtype == AGLM_UNDEFINED || c->in[i].dtype == AGLM_I64)
        return AGLM_OK;
    char s[128];
    return infer_err(c, AGLM_ERR_TYPE, "%s must be int64, got %s", what,
                     infer_type_str(&c->in[i], s, sizeof s));
}

aglm_status infer_need_index_type(const infer_ctx *c, size_t i, const char *what)
{
    if (!infer_has_in(c, i))
        return AGLM_OK;
    aglm_dtype dt = c->in[i].dtype;
    if (dt == AGLM_UNDEFINED || dt == AGLM_I64 || dt == AGLM_I32)
        return AGLM_OK;
    char s[128];
    return infer_err(c, AGLM_ERR_TYPE, "%s must be int32 or int64, got %s", what,
                     infer_type_str(&c->in[i], s, sizeof s));
}

aglm_status infer_rank_from_length(infer_ctx *c, size_t i, aglm_dtype dt)
{
    infer_type t;
    infer_type_unknown(&t, dt);
    const infer_type *s = &c->in[i];
    if (infer_has_in(c, i) && s->rank == 1 && infer_dim_is_static(s->dims[0])) {
        int64_t r = s->dims[0].value;
        if (r > AGLM_MAX_RANK)
            return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank %lld is more than %d",
                             (long long)r, AGLM_MAX_RANK);
        t.rank = (int)r;
        for (int k = 0; k < t.rank; k++)
            t.dims[k] = infer_dim_unknown();
    }
    infer_set_out(c, 0, &t);
    return AGLM_OK;
}
