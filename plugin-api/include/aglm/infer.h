/* Shape and type inference, shared by frontends, passes and backends so each op's rules are
 * written once. Rules follow the ONNX operator specs for the opset the graph imports. */
#ifndef AGLM_INFER_H
#define AGLM_INFER_H

#include "aglm/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Infers dtype and shape of every node output, in graph order (recursing into subgraphs where
 * the op needs it). Inputs whose shape is unknown give outputs of unknown shape, not errors; an
 * op with no rule leaves its outputs as they are. Inconsistent inputs (mismatched broadcast,
 * wrong rank, bad attribute) are errors naming the node, its op and both shapes. */
AGLM_API aglm_status aglm_infer_shapes(aglm_graph *g);

/* Infers one node's outputs from its inputs. */
AGLM_API aglm_status aglm_infer_node(aglm_node *n);

/* 1 when libaglm has an inference rule for op/domain. */
AGLM_API int aglm_infer_has_rule(const char *op, const char *domain);

/* Multidirectional (NumPy) broadcasting of two static shapes into out_dims (AGLM_MAX_RANK).
 * AGLM_ERR_SHAPE, with both shapes in the message, when they do not broadcast. */
AGLM_API aglm_status aglm_broadcast_shapes(int rank_a, const int64_t *a, int rank_b,
                                           const int64_t *b, int *out_rank, int64_t *out_dims);

/* Checks run-time inputs against the graph's declared inputs: count, dtype, rank, static dims,
 * and that each symbolic dim gets one value across all inputs. The error names the input and
 * gives the declared and actual types ("input 'x': expected f32[1,3,N,N], got f32[1,3,4,5]"). */
AGLM_API aglm_status aglm_graph_check_inputs(const aglm_graph *g, size_t n,
                                             const aglm_tensor *inputs);

/* Checks inputs as aglm_graph_check_inputs does, then fixes the graph's input shapes to theirs and
 * re-infers every shape: the way a backend specialises a graph for one input shape. */
AGLM_API aglm_status aglm_graph_specialize(aglm_graph *g, size_t n, const aglm_tensor *inputs);

#ifdef __cplusplus
}
#endif
#endif
