/* ModelProto and what hangs off it directly: opset imports, metadata entries, model-local
 * functions. */
#include "onnx_proto.h"

#include <string.h>

aglm_status ox_decode_strpair(ox_arena *a, pb_reader *r, ox_strpair *out)
{
    (void)a;
    aglm_status st = AGLM_OK;
    memset(out, 0, sizeof *out);
    while (st == AGLM_OK && pb_more(r)) {
        pb_field f;
        if ((st = pb_next(r, &f)) != AGLM_OK)
            break;
        if (f.num == 1)
            st = ox_string(&f, "StringStringEntryProto.key", &out->key);
        else if (f.num == 2)
            st = ox_string(&f, "StringStringEntryProto.value", &out->value);
    }
    return st;
}

aglm_status ox_decode_opset(ox_arena *a, pb_reader *r, ox_opset *out)
{
    (void)a;
    aglm_status st = AGLM_OK;
    memset(out, 0, sizeof *out);
    while (st == AGLM_OK && pb_more(r)) {
        pb_field f;
        if ((st = pb_next(r, &f)) != AGLM_OK)
            break;
        if (f.num == 1)
            st = ox_string(&f, "OperatorSetIdProto.domain", &out->domain);
        else if (f.num == 2)
            st = ox_int(&f, "OperatorSetIdProto.version", &out->version);
    }
    return st;
}

aglm_status ox_decode_function(ox_arena *a, pb_reader *r, ox_function *out)
{
    size_t counts[32];
    aglm_status st;
    memset(out, 0, sizeof *out);
    if ((st = ox_count_fields(r, counts)) != AGLM_OK ||
        (st = ox_array(a, counts[4], sizeof(ox_str), "function inputs", (void **)&out->inputs)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[5], sizeof(ox_str), "function outputs", (void **)&out->outputs)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[6], sizeof(ox_str), "function attributes",
                       (void **)&out->attr_names)) != AGLM_OK ||
        (st = ox_array(a, counts[7], sizeof(ox_node), "function nodes", (void **)&out->nodes)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[9], sizeof(ox_opset), "function opsets", (void **)&out->opsets)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[11], sizeof(ox_attr), "function attribute defaults",
                       (void **)&out->attr_defaults)) != AGLM_OK ||
        (st = ox_array(a, counts[12], sizeof(ox_value_info), "function value_info",
                       (void **)&out->value_info)) != AGLM_OK)
        return st;
    pb_reader c = *r;
    while (pb_more(&c)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(&c, &f)) != AGLM_OK)
            return st;
        switch (f.num) {
        case 1: st = ox_string(&f, "FunctionProto.name", &out->name); break;
        case 4: st = ox_string(&f, "FunctionProto.input", &out->inputs[out->n_inputs++]); break;
        case 5: st = ox_string(&f, "FunctionProto.output", &out->outputs[out->n_outputs++]); break;
        case 6:
            st = ox_string(&f, "FunctionProto.attribute", &out->attr_names[out->n_attr_names++]);
            break;
            OX_DECODE_REPEATED(7, out->nodes, out->n_nodes, "node", ox_decode_node)
            OX_DECODE_REPEATED(9, out->opsets, out->n_opsets, "opset_import", ox_decode_opset)
        case 10:
            st = ox_string(&f, "FunctionProto.domain", &out->domain);
            break;
            OX_DECODE_REPEATED(11, out->attr_defaults, out->n_attr_defaults, "attribute_proto",
                               ox_decode_attr)
            OX_DECODE_REPEATED(12, out->value_info, out->n_value_info, "value_info",
                               ox_decode_value_info)
        case 13: st = ox_string(&f, "FunctionProto.overload", &out->overload); break;
        default: break;
        }
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

aglm_status ox_decode_model(ox_arena *a, pb_reader *r, ox_model *out)
{
    size_t counts[32];
    aglm_status st;
    memset(out, 0, sizeof *out);
    if ((st = ox_count_fields(r, counts)) != AGLM_OK ||
        (st = ox_array(a, counts[8], sizeof(ox_opset), "opset imports", (void **)&out->opsets)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[14], sizeof(ox_strpair), "metadata_props", (void **)&out->meta)) !=
            AGLM_OK ||
        (st = ox_array(a, counts[25], sizeof(ox_function), "functions",
                       (void **)&out->functions)) != AGLM_OK)
        return st;
    pb_reader c = *r;
    while (pb_more(&c)) {
        pb_field f;
        pb_reader sub;
        if ((st = pb_next(&c, &f)) != AGLM_OK)
            return st;
        switch (f.num) {
        case 1:
            st = ox_int(&f, "ModelProto.ir_version", &out->ir_version);
            out->has_ir_version = 1;
            break;
        case 2: st = ox_string(&f, "ModelProto.producer_name", &out->producer_name); break;
        case 3: st = ox_string(&f, "ModelProto.producer_version", &out->producer_version); break;
        case 4: st = ox_string(&f, "ModelProto.domain", &out->domain); break;
        case 5:
            st = ox_int(&f, "ModelProto.model_version", &out->model_version);
            out->has_model_version = 1;
            break;
        case 6: st = ox_string(&f, "ModelProto.doc_string", &out->doc); break;
        case 7:
            if ((st = ox_enter(&c, &f, "ModelProto.graph", &sub)) == AGLM_OK &&
                (st = ox_decode_graph(a, &sub, &out->graph)) != AGLM_OK)
                st = aglm_error_wrap(st, "graph");
            out->has_graph = 1;
            break;
            OX_DECODE_REPEATED(8, out->opsets, out->n_opsets, "opset_import", ox_decode_opset)
            OX_DECODE_REPEATED(14, out->meta, out->n_meta, "metadata_props entry",
                               ox_decode_strpair)
            OX_DECODE_REPEATED(25, out->functions, out->n_functions, "function", ox_decode_function)
        default: break;
        }
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}
