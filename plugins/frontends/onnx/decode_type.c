/* TypeProto (tensor, sequence, map, optional, sparse tensor), TensorShapeProto and
 * ValueInfoProto. Nested element types recurse through pb_sub, so their depth is bounded. */
#include "onnx_proto.h"

#include <string.h>

static aglm_status decode_dim(pb_reader *r, ox_dim *out)
{
    aglm_status st = AGLM_OK;
    memset(out, 0, sizeof *out);
    while (st == AGLM_OK && pb_more(r)) {
        pb_field f;
        if ((st = pb_next(r, &f)) != AGLM_OK)
            break;
        if (f.num == 1) {
            st = ox_int(&f, "Dimension.dim_value", &out->value);
            out->kind = 1;
        } else if (f.num == 2) {
            st = ox_string(&f, "Dimension.dim_param", &out->param);
            out->kind = 2;
        }
    }
    return st;
}

static aglm_status decode_shape(ox_arena *a, pb_reader *r, ox_type *out)
{
    size_t counts[32];
    aglm_status st = ox_count_fields(r, counts);
    if (st == AGLM_OK)
        st = ox_array(a, counts[1], sizeof *out->dims, "dims", (void **)&out->dims);
    out->has_shape = 1;
    out->n_dims = 0;
    pb_reader c = *r;
    while (st == AGLM_OK && pb_more(&c)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(&c, &f)) != AGLM_OK || f.num != 1)
            continue;
        if ((st = ox_enter(&c, &f, "TensorShapeProto.dim", &sub)) == AGLM_OK)
            st = decode_dim(&sub, &out->dims[out->n_dims++]);
    }
    return st;
}

/* Tensor and SparseTensor: elem_type 1, shape 2. */
static aglm_status decode_tensor_type(ox_arena *a, pb_reader *r, ox_type *out)
{
    aglm_status st = AGLM_OK;
    while (st == AGLM_OK && pb_more(r)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(r, &f)) != AGLM_OK)
            break;
        if (f.num == 1) {
            st = ox_int(&f, "TypeProto.Tensor.elem_type", &out->elem_type);
        } else if (f.num == 2) {
            if ((st = ox_enter(r, &f, "TypeProto.Tensor.shape", &sub)) == AGLM_OK)
                st = decode_shape(a, &sub, out);
        }
    }
    return st;
}

/* Sequence and Optional: elem_type 1 (a TypeProto); Map: key_type 1, value_type 2. */
static aglm_status decode_wrapper(ox_arena *a, pb_reader *r, ox_type *out)
{
    aglm_status st = AGLM_OK;
    while (st == AGLM_OK && pb_more(r)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(r, &f)) != AGLM_OK)
            break;
        if (out->kind == OX_TYPE_MAP && f.num == 1) {
            st = ox_int(&f, "TypeProto.Map.key_type", &out->elem_type);
        } else if (f.num == (out->kind == OX_TYPE_MAP ? 2u : 1u)) {
            if ((st = ox_enter(r, &f, "TypeProto element type", &sub)) != AGLM_OK)
                break;
            if (!(out->elem = ox_alloc(a, 1, sizeof *out->elem)))
                return aglm_error(AGLM_ERR_NOMEM, "out of memory for a type");
            st = ox_decode_type(a, &sub, out->elem);
        }
    }
    return st;
}

aglm_status ox_decode_type(ox_arena *a, pb_reader *r, ox_type *out)
{
    aglm_status st = AGLM_OK;
    memset(out, 0, sizeof *out);
    while (st == AGLM_OK && pb_more(r)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(r, &f)) != AGLM_OK)
            break;
        switch (f.num) {
        case OX_TYPE_TENSOR:
        case OX_TYPE_SPARSE:
        case OX_TYPE_SEQUENCE:
        case OX_TYPE_MAP:
        case OX_TYPE_OPTIONAL:
            /* a oneof: the last member given wins */
            memset(out, 0, sizeof *out);
            out->kind = (ox_type_kind)f.num;
            if ((st = ox_enter(r, &f, "TypeProto value", &sub)) != AGLM_OK)
                break;
            if (f.num == OX_TYPE_TENSOR || f.num == OX_TYPE_SPARSE)
                st = decode_tensor_type(a, &sub, out);
            else
                st = decode_wrapper(a, &sub, out);
            break;
        default: break;
        }
    }
    return st;
}

aglm_status ox_decode_value_info(ox_arena *a, pb_reader *r, ox_value_info *out)
{
    aglm_status st = AGLM_OK;
    memset(out, 0, sizeof *out);
    while (st == AGLM_OK && pb_more(r)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(r, &f)) != AGLM_OK)
            break;
        if (f.num == 1) {
            st = ox_string(&f, "ValueInfoProto.name", &out->name);
        } else if (f.num == 2) {
            if ((st = ox_enter(r, &f, "ValueInfoProto.type", &sub)) == AGLM_OK)
                st = ox_decode_type(a, &sub, &out->type);
            out->has_type = 1;
        }
    }
    return st;
}
