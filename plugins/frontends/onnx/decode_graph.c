/* GraphProto, NodeProto and AttributeProto. Each repeated field is counted first so its array is
 * allocated once at its exact size; errors are prefixed with the item that failed ("node 3"). */
#include "onnx_proto.h"

#include <string.h>

aglm_status ox_decode_node(ox_arena *a, pb_reader *r, ox_node *out)
{
    size_t counts[32];
    aglm_status st;
    memset(out, 0, sizeof *out);
    if ((st = ox_count_fields(r, counts)) != AGLM_OK ||
        (st = ox_array(a, counts[1], sizeof(ox_str), "node inputs", (void **)&out->inputs)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[2], sizeof(ox_str), "node outputs", (void **)&out->outputs)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[5], sizeof(ox_attr), "attributes", (void **)&out->attrs)) !=
            AGLM_OK)
        return st;
    pb_reader c = *r;
    while (pb_more(&c)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(&c, &f)) != AGLM_OK)
            return st;
        switch (f.num) {
        case 1: st = ox_string(&f, "NodeProto.input", &out->inputs[out->n_inputs++]); break;
        case 2: st = ox_string(&f, "NodeProto.output", &out->outputs[out->n_outputs++]); break;
        case 3: st = ox_string(&f, "NodeProto.name", &out->name); break;
        case 4: st = ox_string(&f, "NodeProto.op_type", &out->op); break;
        case 5:
            if ((st = ox_enter(&c, &f, "NodeProto.attribute", &sub)) == AGLM_OK &&
                (st = ox_decode_attr(a, &sub, &out->attrs[out->n_attrs])) != AGLM_OK)
                st = aglm_error_wrap(st, "attribute %zu", out->n_attrs);
            out->n_attrs++;
            break;
        case 7: st = ox_string(&f, "NodeProto.domain", &out->domain); break;
        case 8: st = ox_string(&f, "NodeProto.overload", &out->overload); break;
        default: break;
        }
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

aglm_status ox_decode_attr(ox_arena *a, pb_reader *r, ox_attr *out)
{
    size_t counts[32];
    aglm_status st;
    memset(out, 0, sizeof *out);
    if ((st = ox_count_fields(r, counts)) != AGLM_OK ||
        (st = ox_read_scalars(a, r, 7, PB_S_FIXED32, "AttributeProto.floats", (void **)&out->floats,
                              &out->n_floats)) != AGLM_OK ||
        (st = ox_read_scalars(a, r, 8, PB_S_VARINT, "AttributeProto.ints", (void **)&out->ints,
                              &out->n_ints)) != AGLM_OK ||
        (st = ox_array(a, counts[9], sizeof(ox_str), "strings", (void **)&out->strings)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[10], sizeof(ox_tensor), "tensors", (void **)&out->tensors)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[11], sizeof(ox_graph), "graphs", (void **)&out->graphs)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[15], sizeof(ox_type), "type protos", (void **)&out->types)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[23], sizeof(ox_sparse), "sparse tensors",
                       (void **)&out->sparses)) != AGLM_OK)
        return st;
    pb_reader c = *r;
    while (pb_more(&c)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(&c, &f)) != AGLM_OK)
            return st;
        if (f.num < 32)
            out->present |= 1u << f.num;
        switch (f.num) {
        case 1: st = ox_string(&f, "AttributeProto.name", &out->name); break;
        case 2:
            if ((st = pb_expect(&f, PB_I32, "AttributeProto.f")) == AGLM_OK)
                pb_scalar_read(&f, PB_S_FIXED32, &out->f);
            break;
        case 3: st = ox_int(&f, "AttributeProto.i", &out->i); break;
        case 4: st = ox_string(&f, "AttributeProto.s", &out->s); break;
        case 5:
            if (!(out->t = ox_alloc(a, 1, sizeof *out->t)))
                return aglm_error(AGLM_ERR_NOMEM, "out of memory for a tensor");
            if ((st = ox_enter(&c, &f, "AttributeProto.t", &sub)) == AGLM_OK)
                st = ox_decode_tensor(a, &sub, out->t);
            break;
        case 6:
            if (!(out->g = ox_alloc(a, 1, sizeof *out->g)))
                return aglm_error(AGLM_ERR_NOMEM, "out of memory for a graph");
            if ((st = ox_enter(&c, &f, "AttributeProto.g", &sub)) == AGLM_OK)
                st = ox_decode_graph(a, &sub, out->g);
            break;
        case 9:
            st = ox_string(&f, "AttributeProto.strings", &out->strings[out->n_strings++]);
            break;
            OX_DECODE_REPEATED(10, out->tensors, out->n_tensors, "tensor", ox_decode_tensor)
            OX_DECODE_REPEATED(11, out->graphs, out->n_graphs, "graph", ox_decode_graph)
        case 14:
            if (!(out->tp = ox_alloc(a, 1, sizeof *out->tp)))
                return aglm_error(AGLM_ERR_NOMEM, "out of memory for a type");
            if ((st = ox_enter(&c, &f, "AttributeProto.tp", &sub)) == AGLM_OK)
                st = ox_decode_type(a, &sub, out->tp);
            break;
            OX_DECODE_REPEATED(15, out->types, out->n_types, "type proto", ox_decode_type)
        case 20:
            st = ox_int(&f, "AttributeProto.type", &out->type);
            out->has_type = 1;
            break;
        case 21: st = ox_string(&f, "AttributeProto.ref_attr_name", &out->ref_attr_name); break;
        case 22:
            if (!(out->sparse = ox_alloc(a, 1, sizeof *out->sparse)))
                return aglm_error(AGLM_ERR_NOMEM, "out of memory for a sparse tensor");
            if ((st = ox_enter(&c, &f, "AttributeProto.sparse_tensor", &sub)) == AGLM_OK)
                st = ox_decode_sparse(a, &sub, out->sparse);
            break;
            OX_DECODE_REPEATED(23, out->sparses, out->n_sparses, "sparse tensor", ox_decode_sparse)
        default: break;
        }
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

aglm_status ox_decode_graph(ox_arena *a, pb_reader *r, ox_graph *out)
{
    size_t counts[32];
    aglm_status st;
    memset(out, 0, sizeof *out);
    if ((st = ox_count_fields(r, counts)) != AGLM_OK ||
        (st = ox_array(a, counts[1], sizeof(ox_node), "nodes", (void **)&out->nodes)) != AGLM_OK ||
        (st = ox_array(a, counts[5], sizeof(ox_tensor), "initializers", (void **)&out->inits)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[11], sizeof(ox_value_info), "inputs", (void **)&out->inputs)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[12], sizeof(ox_value_info), "outputs", (void **)&out->outputs)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[13], sizeof(ox_value_info), "value_info",
                       (void **)&out->value_info)) != AGLM_OK ||
        (st = ox_array(a, counts[15], sizeof(ox_sparse), "sparse initializers",
                       (void **)&out->sparse_inits)) != AGLM_OK ||
        (st = ox_array(a, counts[16], sizeof(ox_strpair), "metadata_props", (void **)&out->meta)) !=
            AGLM_OK)
        return st;
    pb_reader c = *r;
    while (pb_more(&c)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(&c, &f)) != AGLM_OK)
            return st;
        switch (f.num) {
            OX_DECODE_REPEATED(1, out->nodes, out->n_nodes, "node", ox_decode_node)
        case 2:
            st = ox_string(&f, "GraphProto.name", &out->name);
            break;
            OX_DECODE_REPEATED(5, out->inits, out->n_inits, "initializer", ox_decode_tensor)
        case 10:
            st = ox_string(&f, "GraphProto.doc_string", &out->doc);
            break;
            OX_DECODE_REPEATED(11, out->inputs, out->n_inputs, "input", ox_decode_value_info)
            OX_DECODE_REPEATED(12, out->outputs, out->n_outputs, "output", ox_decode_value_info)
            OX_DECODE_REPEATED(13, out->value_info, out->n_value_info, "value_info",
                               ox_decode_value_info)
            OX_DECODE_REPEATED(15, out->sparse_inits, out->n_sparse_inits, "sparse initializer",
                               ox_decode_sparse)
            OX_DECODE_REPEATED(16, out->meta, out->n_meta, "metadata_props entry",
                               ox_decode_strpair)
        default: break;
        }
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}
