/* Declared ONNX types (TypeProto) applied to aglm values, and their ONNX text form. */
#include "onnx_frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aglm_status ox_apply_type(const ox_type *t, aglm_value *v, const char *what)
{
    if (t->kind == OX_TYPE_SPARSE)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: sparse tensor values are not supported", what);
    /* sequences, maps and optionals have no aglm value type: such values stay untyped and the
     * ops that make and take them decide */
    if (t->kind != OX_TYPE_TENSOR)
        return AGLM_OK;
    aglm_dtype dt = AGLM_UNDEFINED;
    aglm_status st;
    if (t->elem_type != 0 && (st = ox_map_dtype(t->elem_type, what, &dt)) != AGLM_OK)
        return st;
    if (!t->has_shape)
        return aglm_value_set_type(v, dt, -1, NULL);
    if (t->n_dims > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: rank %zu, more than the %d aglm supports",
                          what, t->n_dims, AGLM_MAX_RANK);
    aglm_dim dims[AGLM_MAX_RANK];
    char *syms[AGLM_MAX_RANK] = {0};
    st = AGLM_OK;
    for (size_t i = 0; i < t->n_dims && st == AGLM_OK; i++) {
        const ox_dim *d = &t->dims[i];
        dims[i].value = AGLM_DIM_DYNAMIC;
        dims[i].sym = NULL;
        if (d->kind == 1 && d->value >= 0) {
            dims[i].value = d->value;
        } else if (d->kind == 2 && d->param.n) {
            if ((st = ox_cstr(d->param, "dim_param", &syms[i])) != AGLM_OK)
                st = aglm_error_wrap(st, "%s", what);
            dims[i].sym = syms[i];
        }
    }
    if (st == AGLM_OK && (st = aglm_value_set_type(v, dt, (int)t->n_dims, dims)) != AGLM_OK)
        st = aglm_error_wrap(st, "%s", what);
    for (size_t i = 0; i < t->n_dims; i++)
        free(syms[i]);
    return st;
}

/* Appends the text of t at buf[*len] (capacity cap), truncating quietly. */
static void type_text(const ox_type *t, char *buf, size_t cap, size_t *len)
{
    const char *dn = ox_dtype_name(t->elem_type);
    char num[32];
    if (!dn) {
        snprintf(num, sizeof num, "%lld", (long long)t->elem_type);
        dn = num;
    }
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (*len < cap) {                                                                          \
            int k_ = snprintf(buf + *len, cap - *len, __VA_ARGS__);                                \
            *len = k_ < 0 ? cap : (*len + (size_t)k_ > cap ? cap : *len + (size_t)k_);             \
        }                                                                                          \
    } while (0)
    switch (t->kind) {
    case OX_TYPE_TENSOR: PUT("tensor(%s)", dn); return;
    case OX_TYPE_SPARSE: PUT("sparse_tensor(%s)", dn); return;
    case OX_TYPE_SEQUENCE:
    case OX_TYPE_OPTIONAL: PUT("%s", t->kind == OX_TYPE_SEQUENCE ? "seq(" : "optional("); break;
    case OX_TYPE_MAP: PUT("map(%s,", dn); break;
    default: PUT("undefined"); return;
    }
    if (t->elem)
        type_text(t->elem, buf, cap, len);
    else
        PUT("undefined");
    PUT(")");
#undef PUT
}

char *ox_type_text(const ox_type *t)
{
    size_t cap = 256, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[0] = '\0';
    type_text(t, buf, cap, &len);
    return buf;
}
