/* The op schema: one table of facts about every op the project knows (ONNX's, ai.onnx.preview's
 * and the aglm.* extension ops), read by shape inference, the backends, the memory planner and the
 * passes, so that none of them keeps its own list.
 *
 * A fact is about the op, never about a backend: whether a backend has a kernel for it is the
 * backend's business. Ops absent from the table are unknown: inference refuses them and the
 * planner treats them as opaque (not in place, output zeroed). */
#ifndef AGLM_OP_SCHEMA_H
#define AGLM_OP_SCHEMA_H

#include <stdint.h>
#include "aglm/export.h"
#include "aglm/graph.h"
#include "aglm/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Any number of inputs (max_inputs) or outputs (max_outputs). */
#define AGLM_OP_VARIADIC 255

/* Output 0, element i, is computed from input elements i (or their broadcast) alone. */
#define AGLM_OPF_ELEMENTWISE 1u
/* Output 0 may take over the memory of an input of the same dtype and bytes whose last reader is
 * this node: the kernel reads element i of every input before it writes element i. */
#define AGLM_OPF_INPLACE 2u
/* The op writes every element of every output, so planned memory lent to it need not be zeroed
 * first. */
#define AGLM_OPF_WRITES_ALL 4u
/* The op holds subgraphs (If, Loop, Scan) and builds its outputs over their runs: its outputs
 * stay out of planned memory. */
#define AGLM_OPF_SUBGRAPHS 8u
/* The op's outputs depend on more than its inputs' values and attributes (RandomNormal,
 * training-mode Dropout): never folded, never merged. */
#define AGLM_OPF_NONDETERMINISTIC 16u

/* What the profile counts as floating-point work for an op (aglm_flops_node, runtime.h). */
typedef enum aglm_op_flops {
    AGLM_FLOPS_NONE = 0,
    AGLM_FLOPS_CONV,           /* Y[N,M,out...] from W[M,C/g,k...]: numel(Y) x prod(W.dims[1:]) */
    AGLM_FLOPS_CONV_TRANSPOSE, /* X[N,C,in...] through W[C,M/g,k...]: numel(X) x prod(W.dims[1:]) */
    AGLM_FLOPS_MATMUL          /* numel(Y) x K, K from A (transA honoured) */
} aglm_op_flops;

typedef struct aglm_op_schema {
    const char *domain; /* "" for ai.onnx, "ai.onnx.preview", "aglm" */
    const char *op;     /* "Conv", "FusedConv" */
    uint8_t min_inputs; /* the first min_inputs inputs are required */
    uint8_t max_inputs; /* AGLM_OP_VARIADIC: any number */
    uint8_t min_outputs;
    uint8_t max_outputs; /* AGLM_OP_VARIADIC: any number */
    uint32_t flags;      /* AGLM_OPF_* */
    aglm_op_flops flops;
} aglm_op_schema;

/* The schema of op in domain ("" and "ai.onnx" are the same domain; NULL means ""), or NULL for
 * an op the table does not know. */
AGLM_API const aglm_op_schema *aglm_op_schema_find(const char *domain, const char *op);

/* The schema of node n's op, or NULL. */
AGLM_API const aglm_op_schema *aglm_node_schema(const aglm_node *n);

/* 1 when node n is op `op` of domain `domain` ("" and "ai.onnx" are the same; NULL means ""). */
AGLM_API int aglm_node_is(const aglm_node *n, const char *domain, const char *op);

/* 1 when n's op has every flag of `flags`. 0 for an unknown op. */
AGLM_API int aglm_node_has_flags(const aglm_node *n, uint32_t flags);

/* Checks node n's input and output counts (absent optional inputs count by position; a required
 * input must be present) against its schema: AGLM_ERR_INVALID "node 'N' (Op): 1 input; Op takes
 * 2 to 3" (or "required input 1 is missing; ...", "3 outputs; Op gives 1 to 2") otherwise, or
 * AGLM_ERR_UNSUPPORTED "node 'N': unknown op 'dom.Op'" for an op the table does not know. */
AGLM_API aglm_status aglm_node_check_arity(const aglm_node *n);

/* Number of ops in the table, and op i (for listings and tests). */
AGLM_API size_t aglm_op_schema_count(void);
AGLM_API const aglm_op_schema *aglm_op_schema_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif
