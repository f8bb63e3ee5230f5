/* TensorProto and SparseTensorProto. Values stay as the wire gave them (raw bytes point into the
 * input; typed fields become arrays); tensor_data.c turns them into an aglm_tensor. */
#include "onnx_proto.h"

#include <string.h>

static aglm_status decode_segment(const pb_reader *r, const pb_field *f, ox_tensor *out)
{
    pb_reader s;
    aglm_status st = ox_enter(r, f, "TensorProto.segment", &s);
    out->has_segment = 1;
    while (st == AGLM_OK && pb_more(&s)) {
        pb_field g;
        if ((st = pb_next(&s, &g)) != AGLM_OK)
            break;
        if (g.num == 1)
            st = ox_int(&g, "Segment.begin", &out->seg_begin);
        else if (g.num == 2)
            st = ox_int(&g, "Segment.end", &out->seg_end);
    }
    return st;
}

aglm_status ox_decode_tensor(ox_arena *a, pb_reader *r, ox_tensor *out)
{
    size_t counts[32];
    aglm_status st;
    /* a singular message field given twice: the last one wins (protobuf would merge them) */
    memset(out, 0, sizeof *out);
    out->offset = pb_offset(r, r->p);
    if ((st = ox_count_fields(r, counts)) != AGLM_OK ||
        (st = ox_read_scalars(a, r, 1, PB_S_VARINT, "TensorProto.dims", (void **)&out->dims,
                              &out->n_dims)) != AGLM_OK ||
        (st = ox_read_scalars(a, r, 4, PB_S_FIXED32, "TensorProto.float_data",
                              (void **)&out->float_data, &out->n_float)) != AGLM_OK ||
        (st = ox_read_scalars(a, r, 5, PB_S_VARINT, "TensorProto.int32_data",
                              (void **)&out->int32_data, &out->n_int32)) != AGLM_OK ||
        (st = ox_read_scalars(a, r, 7, PB_S_VARINT, "TensorProto.int64_data",
                              (void **)&out->int64_data, &out->n_int64)) != AGLM_OK ||
        (st = ox_read_scalars(a, r, 10, PB_S_FIXED64, "TensorProto.double_data",
                              (void **)&out->double_data, &out->n_double)) != AGLM_OK ||
        (st = ox_read_scalars(a, r, 11, PB_S_VARINT, "TensorProto.uint64_data",
                              (void **)&out->uint64_data, &out->n_uint64)) != AGLM_OK)
        return st;
    if ((st = ox_array(a, counts[13], sizeof *out->external, "external_data entries",
                       (void **)&out->external)) != AGLM_OK)
        return st;
    pb_reader c = *r;
    while (pb_more(&c)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(&c, &f)) != AGLM_OK)
            return st;
        switch (f.num) {
        case 2:
            st = ox_int(&f, "TensorProto.data_type", &out->dtype);
            out->has_dtype = 1;
            break;
        case 3: st = decode_segment(&c, &f, out); break;
        case 6:
            st = pb_expect(&f, PB_LEN, "TensorProto.string_data");
            out->n_string++;
            break;
        case 8: st = ox_string(&f, "TensorProto.name", &out->name); break;
        case 9:
            st = ox_string(&f, "TensorProto.raw_data", &out->raw);
            out->has_raw = 1;
            break;
        case 13:
            if ((st = ox_enter(&c, &f, "TensorProto.external_data", &sub)) == AGLM_OK)
                st = ox_decode_strpair(a, &sub, &out->external[out->n_external++]);
            break;
        case 14: st = ox_int(&f, "TensorProto.data_location", &out->data_location); break;
        default: break; /* repeated scalars were read above; unknown fields are skipped */
        }
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

aglm_status ox_decode_sparse(ox_arena *a, pb_reader *r, ox_sparse *out)
{
    memset(out, 0, sizeof *out);
    aglm_status st = ox_read_scalars(a, r, 3, PB_S_VARINT, "SparseTensorProto.dims",
                                     (void **)&out->dims, &out->n_dims);
    pb_reader c = *r;
    while (st == AGLM_OK && pb_more(&c)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(&c, &f)) != AGLM_OK)
            break;
        if (f.num == 1) {
            if ((st = ox_enter(&c, &f, "SparseTensorProto.values", &sub)) == AGLM_OK)
                st = ox_decode_tensor(a, &sub, &out->values);
            out->has_values = 1;
        } else if (f.num == 2) {
            if ((st = ox_enter(&c, &f, "SparseTensorProto.indices", &sub)) == AGLM_OK)
                st = ox_decode_tensor(a, &sub, &out->indices);
            out->has_indices = 1;
        }
    }
    return st;
}
