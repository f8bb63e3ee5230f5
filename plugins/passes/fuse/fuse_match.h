/* What the fuse pass's rewrites share: small graph queries and the epilogue matcher that
 * aglm.FusedConv and aglm.FusedMatMul both use (docs/extension-ops.md). */
#ifndef FUSE_MATCH_H
#define FUSE_MATCH_H

#include "aglm/aglm.h"

#define FUSE_MAX_ABSORBED 8

/* An anchor (Conv, MatMul, Gemm) and the element-wise ops after it that one fused node takes. */
typedef struct fuse_epilogue {
    aglm_node *anchor;
    aglm_node *absorbed[FUSE_MAX_ABSORBED];
    size_t n_absorbed;
    aglm_value *bias;     /* set at input 2 of the fused node (MatMul's bias Add), or NULL */
    aglm_value *residual; /* set at input 3, or NULL */
    int residual_first;
    const char *act; /* "" for none */
    float params[2];
    size_t n_params;
    /* PRelu's per-channel slope (a constant's data, read when the node is rewritten), written
     * as activation_params instead of params; NULL otherwise */
    const float *slope;
    size_t n_slope;
    /* the axis of the anchor's output that PRelu's slope may run along: 1 for Conv (C), -1 (the
     * last) for MatMul and Gemm (N); 0, the default, for none (a batch axis is never one) */
    int channel_axis;
    float post_scale, post_shift;
    int has_post;
    aglm_value *last; /* the value the fused node stands for */
} fuse_epilogue;

/* The only node reading v (in v's own graph), or NULL; v must not be a graph output. */
aglm_node *fuse_sole_user(const aglm_value *v);
/* 1 when a and b are known to have the same type: each dim the same static value or the same
 * symbol (so no broadcasting can hide between them). */
int fuse_same_type(const aglm_value *a, const aglm_value *b);
/* The one f32 value v holds as an initialiser or a Constant node's output; 0 when it is not
 * such a constant. *rank (when not NULL) gets the constant's rank. */
int fuse_scalar(const aglm_value *v, float *out, int *rank);
/* The f32 constant v holds (initialiser or Constant node's `value`), or NULL. */
const aglm_tensor *fuse_const_f32(const aglm_value *v);
/* The ai.onnx opset n's graph imports (or its nearest ancestor); 0 when none does. */
int64_t fuse_onnx_opset(const aglm_node *n);
/* The other input of a two-input node n whose one input is v; NULL when n does not read v so. */
aglm_value *fuse_other_input(const aglm_node *n, const aglm_value *v);
/* The constant bounds of a Clip (attributes before opset 11, inputs since); 0 when not constant. */
int fuse_clip_bounds(const aglm_node *clip, float *lo, float *hi);
/* Records n as absorbed and its first output as the value so far; 0 when the list is full. */
int fuse_absorb(fuse_epilogue *m, aglm_node *n);

/* Starts a match at `anchor`, whose output 0 is the value so far. */
void fuse_epilogue_init(fuse_epilogue *m, aglm_node *anchor);
/* Extends the match past the value so far: a residual Add, an activation, a scale and shift by
 * scalars, a residual Add after them (each when the value has that op as its only use); the
 * order and the conditions are docs/extension-ops.md's for aglm.FusedConv. */
void fuse_epilogue_extend(fuse_epilogue *m);
/* Rewrites the anchor in place into aglm.`op` with the match's inputs and attributes, removes
 * the absorbed nodes and redirects the last value's uses to the anchor's output. */
aglm_status fuse_epilogue_rewrite(aglm_graph *g, const fuse_epilogue *m, const char *op);

/* Each rewrite family: counts what it rewrote into *count (graph order may be left unsorted;
 * the caller re-sorts). */
aglm_status fuse_patterns(aglm_graph *g, size_t *count); /* LayerNorm, Gelu, Softmax */
aglm_status fuse_convs(aglm_graph *g, size_t *count);    /* aglm.FusedConv */
aglm_status fuse_matmuls(aglm_graph *g, size_t *count);  /* aglm.FusedMatMul */
aglm_status fuse_chains(aglm_graph *g, size_t *count);   /* aglm.Elementwise */

/* Makes g import domain aglm (once any rewrite created an aglm op). */
aglm_status fuse_import_aglm(aglm_graph *g);

#endif
