/* ONNX messages as decoded from the wire: plain structs whose strings and raw bytes point into
 * the input buffer and whose arrays live in an arena. Field numbers are onnx/onnx.proto's; only
 * what the frontend uses is kept, other fields are skipped.
 *
 * Each decoder takes a reader over the message's bytes and fills *out; on failure the error says
 * where (byte offset) and what, and the arena holds whatever was allocated. */
#ifndef AGLM_ONNX_PROTO_H
#define AGLM_ONNX_PROTO_H

#include <stdint.h>
#include "arena.h"
#include "pb_reader.h"

typedef pb_bytes ox_str;

typedef struct ox_strpair {
    ox_str key, value;
} ox_strpair;

/* TensorProto: dims 1, data_type 2, segment 3 {begin 1, end 2}, float_data 4, int32_data 5,
 * string_data 6, int64_data 7, name 8, raw_data 9, double_data 10, uint64_data 11,
 * doc_string 12, external_data 13, data_location 14. */
typedef struct ox_tensor {
    ox_str name;
    int has_dtype;
    int64_t dtype;
    int64_t *dims;
    size_t n_dims;
    int has_segment;
    int64_t seg_begin, seg_end;
    float *float_data;
    size_t n_float;
    int64_t *int32_data; /* varints as decoded; narrowed per dtype later */
    size_t n_int32;
    int64_t *int64_data;
    size_t n_int64;
    double *double_data;
    size_t n_double;
    int64_t *uint64_data; /* bit patterns of uint64 values */
    size_t n_uint64;
    size_t n_string; /* string_data elements (strings are never stored as tensors here) */
    int has_raw;
    ox_str raw;
    ox_strpair *external;
    size_t n_external;
    int64_t data_location; /* 0 default, 1 external */
    size_t offset;         /* of the message in the input, for messages */
} ox_tensor;

/* SparseTensorProto: values 1, indices 2, dims 3. */
typedef struct ox_sparse {
    int has_values, has_indices;
    ox_tensor values, indices;
    int64_t *dims;
    size_t n_dims;
} ox_sparse;

/* TensorShapeProto.Dimension: dim_value 1, dim_param 2. */
typedef struct ox_dim {
    int kind; /* 0 unknown, 1 value, 2 param */
    int64_t value;
    ox_str param;
} ox_dim;

typedef enum ox_type_kind {
    OX_TYPE_NONE = 0,
    OX_TYPE_TENSOR = 1,   /* TypeProto.tensor_type 1 {elem_type 1, shape 2} */
    OX_TYPE_SEQUENCE = 4, /* sequence_type 4 {elem_type 1} */
    OX_TYPE_MAP = 5,      /* map_type 5 {key_type 1, value_type 2} */
    OX_TYPE_SPARSE = 8,   /* sparse_tensor_type 8 {elem_type 1, shape 2} */
    OX_TYPE_OPTIONAL = 9  /* optional_type 9 {elem_type 1} */
} ox_type_kind;

typedef struct ox_type {
    ox_type_kind kind;
    int64_t elem_type; /* tensor and sparse kinds; map key type */
    int has_shape;     /* TensorShapeProto dim 1 */
    ox_dim *dims;
    size_t n_dims;
    struct ox_type *elem; /* sequence, optional and map value type, or NULL */
} ox_type;

/* ValueInfoProto: name 1, type 2. */
typedef struct ox_value_info {
    ox_str name;
    int has_type;
    ox_type type;
} ox_value_info;

struct ox_graph;

/* AttributeProto: name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, strings 9, tensors 10,
 * graphs 11, tp 14, type_protos 15, type 20, ref_attr_name 21, sparse_tensor 22,
 * sparse_tensors 23. */
typedef struct ox_attr {
    ox_str name, ref_attr_name;
    int has_type;
    int64_t type;
    unsigned present; /* bit (1 << field number) for each singular field seen */
    float f;
    int64_t i;
    ox_str s;
    ox_tensor *t;
    struct ox_graph *g;
    ox_sparse *sparse;
    ox_type *tp;
    float *floats;
    size_t n_floats;
    int64_t *ints;
    size_t n_ints;
    ox_str *strings;
    size_t n_strings;
    ox_tensor *tensors;
    size_t n_tensors;
    struct ox_graph *graphs;
    size_t n_graphs;
    ox_sparse *sparses;
    size_t n_sparses;
    ox_type *types;
    size_t n_types;
} ox_attr;

/* NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7, overload 8. */
typedef struct ox_node {
    ox_str *inputs;
    size_t n_inputs;
    ox_str *outputs;
    size_t n_outputs;
    ox_str name, op, domain, overload;
    ox_attr *attrs;
    size_t n_attrs;
} ox_node;

/* GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13,
 * sparse_initializer 15, metadata_props 16. */
typedef struct ox_graph {
    ox_str name, doc;
    ox_node *nodes;
    size_t n_nodes;
    ox_tensor *inits;
    size_t n_inits;
    ox_sparse *sparse_inits;
    size_t n_sparse_inits;
    ox_value_info *inputs, *outputs, *value_info;
    size_t n_inputs, n_outputs, n_value_info;
    ox_strpair *meta;
    size_t n_meta;
} ox_graph;

/* OperatorSetIdProto: domain 1, version 2. */
typedef struct ox_opset {
    ox_str domain;
    int64_t version;
} ox_opset;

/* FunctionProto: name 1, input 4, output 5, attribute 6, node 7, doc_string 8, opset_import 9,
 * domain 10, attribute_proto 11, value_info 12, overload 13. */
typedef struct ox_function {
    ox_str name, domain, overload;
    ox_str *inputs, *outputs, *attr_names;
    size_t n_inputs, n_outputs, n_attr_names;
    ox_attr *attr_defaults;
    size_t n_attr_defaults;
    ox_node *nodes;
    size_t n_nodes;
    ox_opset *opsets;
    size_t n_opsets;
    ox_value_info *value_info;
    size_t n_value_info;
} ox_function;

/* ModelProto: ir_version 1, producer_name 2, producer_version 3, domain 4, model_version 5,
 * doc_string 6, graph 7, opset_import 8, metadata_props 14, functions 25. */
typedef struct ox_model {
    int has_ir_version;
    int64_t ir_version;
    ox_str producer_name, producer_version, domain, doc;
    int has_model_version;
    int64_t model_version;
    int has_graph;
    ox_graph graph;
    ox_opset *opsets;
    size_t n_opsets;
    ox_strpair *meta;
    size_t n_meta;
    ox_function *functions;
    size_t n_functions;
} ox_model;

/* decode_model.c */
aglm_status ox_decode_model(ox_arena *a, pb_reader *r, ox_model *out);
aglm_status ox_decode_opset(ox_arena *a, pb_reader *r, ox_opset *out);
aglm_status ox_decode_strpair(ox_arena *a, pb_reader *r, ox_strpair *out);
aglm_status ox_decode_function(ox_arena *a, pb_reader *r, ox_function *out);

/* decode_graph.c */
aglm_status ox_decode_graph(ox_arena *a, pb_reader *r, ox_graph *out);
aglm_status ox_decode_node(ox_arena *a, pb_reader *r, ox_node *out);
aglm_status ox_decode_attr(ox_arena *a, pb_reader *r, ox_attr *out);

/* decode_type.c */
aglm_status ox_decode_value_info(ox_arena *a, pb_reader *r, ox_value_info *out);
aglm_status ox_decode_type(ox_arena *a, pb_reader *r, ox_type *out);

/* decode_tensor.c */
aglm_status ox_decode_tensor(ox_arena *a, pb_reader *r, ox_tensor *out);
aglm_status ox_decode_sparse(ox_arena *a, pb_reader *r, ox_sparse *out);

/* decode_util.c: helpers the decoders share. */

/* Occurrences of each field number below 32 in the message (higher numbers are not counted). */
aglm_status ox_count_fields(const pb_reader *r, size_t counts[32]);
/* An array of n zeroed elements from the arena, or an AGLM_ERR_NOMEM error naming `what`. */
aglm_status ox_array(ox_arena *a, size_t n, size_t size, const char *what, void **out);
/* Values of the repeated scalar field `num` (packed and unpacked occurrences together) into an
 * arena array: int64_t for PB_S_VARINT, float for PB_S_FIXED32, double for PB_S_FIXED64. */
aglm_status ox_read_scalars(ox_arena *a, const pb_reader *r, uint32_t num, pb_scalar k,
                            const char *what, void **out, size_t *n);
/* Checks that f is length-delimited and opens a reader over it (depth-checked). */
aglm_status ox_enter(const pb_reader *r, const pb_field *f, const char *what, pb_reader *sub);
/* A string field: length-delimited, any bytes. */
aglm_status ox_string(const pb_field *f, const char *what, ox_str *out);
/* An int field: a varint, as int64 (protobuf's two's complement for negatives). */
aglm_status ox_int(const pb_field *f, const char *what, int64_t *out);

/* One case of a decoder's field switch for a repeated message field: decodes element `count` of
 * `arr` with `fn` and prefixes an error with "what count". Uses the decoder's locals a, c, f,
 * sub and st. */
#define OX_DECODE_REPEATED(field_num, arr, count, what, fn)                                        \
    case field_num:                                                                                \
        if ((st = ox_enter(&c, &f, what, &sub)) == AGLM_OK &&                                      \
            (st = fn(a, &sub, &(arr)[count])) != AGLM_OK)                                          \
            st = aglm_error_wrap(st, "%s %zu", what, count);                                       \
        (count)++;                                                                                 \
        break;

#endif
