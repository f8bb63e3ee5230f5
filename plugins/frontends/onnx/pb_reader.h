/* A bounded reader of the protobuf wire format: a cursor over one message's bytes.
 *
 * Every length is checked against the bytes that remain before anything is read or allocated,
 * nesting is bounded, and unknown fields are skipped, so any byte string gives either decoded
 * fields or an error naming the byte offset and what was wrong. Nothing here allocates. */
#ifndef AGLM_ONNX_PB_READER_H
#define AGLM_ONNX_PB_READER_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/status.h"

/* Messages nest at most this deep (a subgraph costs three levels: graph, node, attribute). */
#define PB_MAX_DEPTH 64

enum pb_wire {
    PB_VARINT = 0,
    PB_I64 = 1,
    PB_LEN = 2,
    PB_SGROUP = 3, /* groups are proto1-era; ONNX never uses them, so they are refused */
    PB_EGROUP = 4,
    PB_I32 = 5
};

/* A slice of the input; strings are not NUL-terminated. */
typedef struct pb_bytes {
    const uint8_t *p;
    size_t n;
} pb_bytes;

typedef struct pb_reader {
    const uint8_t *base; /* start of the whole input, for offsets in messages */
    const uint8_t *p, *end;
    int depth;
} pb_reader;

typedef struct pb_field {
    uint32_t num;
    int wire;
    uint64_t u;     /* PB_VARINT, PB_I64 and PB_I32 payloads */
    pb_bytes bytes; /* PB_LEN payload */
    size_t offset;  /* of the tag, from the start of the input */
} pb_field;

/* Scalar encodings of repeated fields, each packed (one PB_LEN) or not (one field per value). */
typedef enum pb_scalar {
    PB_S_VARINT,  /* int32, int64, uint64, bool, enum */
    PB_S_FIXED32, /* float */
    PB_S_FIXED64  /* double */
} pb_scalar;

/* A reader over a whole input buffer (depth 0). */
void pb_init(pb_reader *r, const void *buf, size_t len);

/* A reader over the embedded message in field f of r; refused past PB_MAX_DEPTH. */
aglm_status pb_sub(const pb_reader *r, const pb_field *f, pb_reader *sub);

/* 1 while r has bytes left. */
int pb_more(const pb_reader *r);

/* Reads the next field (tag and payload). Errors: truncated tag or payload, a varint longer than
 * 10 bytes, field number 0, group or reserved wire types, a length past the end. */
aglm_status pb_next(pb_reader *r, pb_field *f);

/* AGLM_ERR_PARSE unless f has wire type `wire`; `what` names the field ("NodeProto.input"). */
aglm_status pb_expect(const pb_field *f, int wire, const char *what);

/* Number of values field f holds as a repeated scalar of kind k: 1 unpacked, or the count in a
 * packed run (whose length and varints are checked). Wrong wire types are errors. */
aglm_status pb_scalar_count(const pb_field *f, pb_scalar k, const char *what, size_t *n);

/* Decodes the values of f (as counted by pb_scalar_count) into out[0..n): varints as int64
 * (two's complement, as protobuf encodes negative int32/int64), fixed32 as float, fixed64 as
 * double. out is int64_t *, float * or double * by kind. */
void pb_scalar_read(const pb_field *f, pb_scalar k, void *out);

/* Decodes a varint at *p (< end), advancing *p; 0 on success, -1 if truncated or too long. */
int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* Offset of position p from the start of r's input. */
size_t pb_offset(const pb_reader *r, const uint8_t *p);

#endif
