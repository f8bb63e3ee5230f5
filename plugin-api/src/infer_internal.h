/* Shared by the shape-inference driver (infer.c) and the per-family rule files (infer_ops_*.c).
 *
 * A rule is a pure function from its node's input types (and attributes, and constant inputs) to
 * its output types: it reads ctx->in[], fills ctx->out[] and marks ctx->out_set[]. The driver
 * writes the outputs back only when the rule succeeded, so a failing rule changes nothing. */
#ifndef AGLM_INFER_INTERNAL_H
#define AGLM_INFER_INTERNAL_H

#include <stdint.h>
#include "aglm/infer.h"

/* The newest opset whose rules are implemented; used when a graph imports no ai.onnx opset. */
#define INFER_NEWEST_OPSET 21

/* The type of one value while a rule works on it. rank -1: shape unknown. */
typedef struct infer_type {
    aglm_dtype dtype;
    int rank;
    aglm_dim dims[AGLM_MAX_RANK];
} infer_type;

/* The previous types of values inference changed, so a failed run can put them back. */
typedef struct infer_undo infer_undo;

typedef struct infer_ctx {
    aglm_node *node;
    const char *op;
    const char *name;
    int64_t opset; /* ai.onnx opset the node's graph imports */
    size_t n_in;
    const infer_type *in; /* n_in types; an absent optional input has present[i] == 0 */
    const unsigned char *present;
    size_t n_out;
    infer_type *out;        /* n_out types the rule fills */
    unsigned char *out_set; /* 1 where the rule set out[i]; unset outputs are left alone */
    infer_undo *undo;       /* for rules that recurse into subgraphs */
} infer_ctx;

typedef aglm_status (*infer_fn)(infer_ctx *c);

/* A rule's op; its arity is the op schema's (aglm/op_schema.h), which the driver checks before
 * the rule runs, so every op with a rule needs a schema entry. */
typedef struct infer_rule {
    const char *op; /* ai.onnx op name, or "domain.Op" for another domain ("aglm.FusedConv") */
    infer_fn fn;
} infer_rule;

/* Rule tables, one per family file, each ending with a {NULL} entry. */
extern const infer_rule infer_rules_elementwise[];
extern const infer_rule infer_rules_math[];
extern const infer_rule infer_rules_nn[];
extern const infer_rule infer_rules_tensor[];
extern const infer_rule infer_rules_index[];
extern const infer_rule infer_rules_const[];
extern const infer_rule infer_rules_control[];
extern const infer_rule infer_rules_seq[];
extern const infer_rule infer_rules_einsum[];
extern const infer_rule infer_rules_image[];
extern const infer_rule infer_rules_signal[];
extern const infer_rule infer_rules_norm[];
extern const infer_rule infer_rules_aglm[];

/* ---- dims and shapes (infer_broadcast.c) ----------------------------------------------- */

static inline aglm_dim infer_dim_static(int64_t v)
{
    aglm_dim d = {v, NULL};
    return d;
}
static inline aglm_dim infer_dim_unknown(void)
{
    aglm_dim d = {AGLM_DIM_DYNAMIC, NULL};
    return d;
}
static inline int infer_dim_is_static(aglm_dim d)
{
    return d.value >= 0;
}

/* 1 when both dims are known to be equal (same static value, or the same symbol). */
int infer_dim_same(aglm_dim a, aglm_dim b);
/* 1 when both are static and differ: a provable mismatch. */
int infer_dim_conflict(aglm_dim a, aglm_dim b);
/* The more precise of two dims that must be equal (static beats symbol beats unknown). */
aglm_dim infer_dim_merge(aglm_dim a, aglm_dim b);
/* Product of n dims: static when all are, the one symbol when the rest multiply to 1, else
 * unknown (also on overflow). */
aglm_dim infer_dims_product(const aglm_dim *d, int n);

/* A type with the given dtype and unknown shape. */
void infer_type_unknown(infer_type *t, aglm_dtype dt);
/* A type of static shape. */
void infer_type_static(infer_type *t, aglm_dtype dt, int rank, const int64_t *dims);
/* Writes "f32[2,N,?]" (just "f32" for an unknown shape, as the IR text does) into buf. */
char *infer_type_str(const infer_type *t, char *buf, size_t n);

/* Multidirectional broadcast of a and b into out (dtype from a); AGLM_ERR_SHAPE naming the node
 * and both types when they cannot broadcast. Unknown ranks give an unknown shape. */
aglm_status infer_broadcast(const infer_ctx *c, const infer_type *a, const infer_type *b,
                            infer_type *out);

/* ---- rule helpers (infer_ctx.c) -------------------------------------------------------- */

/* Sets the node's message "node 'NAME' (OP): ..." and returns st. */
aglm_status infer_err(const infer_ctx *c, aglm_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The value at input i, or NULL when absent. */
aglm_value *infer_in_value(const infer_ctx *c, size_t i);
/* 1 when input i is present. */
int infer_has_in(const infer_ctx *c, size_t i);
/* Sets output i (ignored when the node has fewer outputs). */
void infer_set_out(infer_ctx *c, size_t i, const infer_type *t);
/* Output i gets input j's type. */
void infer_out_like(infer_ctx *c, size_t i, size_t j);

/* AGLM_ERR_TYPE when inputs i and j are both present, both typed, and of different dtypes. */
aglm_status infer_same_dtype(const infer_ctx *c, size_t i, size_t j);
/* AGLM_ERR_TYPE unless input i is a float type (or of unknown dtype). */
aglm_status infer_need_float(const infer_ctx *c, size_t i);
/* AGLM_ERR_SHAPE unless input i has rank `rank` (when known); `what` names it ("weight"). */
aglm_status infer_need_rank(const infer_ctx *c, size_t i, int rank, const char *what);

/* Normalises axis, valid in [-rank, rank + extra) with negatives counting from the end, into
 * [0, rank + extra); AGLM_ERR_INVALID naming the axis and the type `t` otherwise. `extra` is 1
 * where an axis may point past the last dim (Flatten). */
aglm_status infer_axis(const infer_ctx *c, int64_t axis, int rank, int extra, const infer_type *t,
                       const char *what, int *out);

/* Integer values of input i when they are known before run time: an initialiser, the output of
 * a Constant node, or Shape of a static tensor. *known is 0 when not. AGLM_ERR_TYPE when the
 * input is not an integer tensor, AGLM_ERR_SHAPE when it holds more than cap values. */
aglm_status infer_const_ints(const infer_ctx *c, size_t i, int64_t *vals, size_t cap, size_t *count,
                             int *known);

/* Attribute `name` as ints: fills vals (at most cap), *count, and *present. AGLM_ERR_INVALID when
 * there are more than cap of them. */
aglm_status infer_attr_ints(const infer_ctx *c, const char *name, int64_t *vals, size_t cap,
                            size_t *count, int *present);

/* Writes a list of ints as "[4,-1]" into buf; returns buf. */
char *infer_ints_str(const int64_t *v, size_t n, char *buf, size_t cap);
/* AGLM_ERR_TYPE unless input i (when present and typed) is int64; `what` names it ("shape"). */
aglm_status infer_need_int64(const infer_ctx *c, size_t i, const char *what);
/* AGLM_ERR_TYPE unless input i (when present and typed) is int32 or int64. */
aglm_status infer_need_index_type(const infer_ctx *c, size_t i, const char *what);
/* Sets output 0 to dtype dt with only the rank known: the length of 1-D input i when static
 * (a shape whose values come at run time), else unknown. */
aglm_status infer_rank_from_length(infer_ctx *c, size_t i, aglm_dtype dt);

/* The [start, end) range of dims a Shape node reports for an input of rank `rank` (opset 15
 * start/end attributes, clamped as ONNX does). */
void infer_shape_range(const aglm_node *n, int64_t opset, int rank, int *start, int *end);

/* ---- driver services for recursive rules (infer.c) ------------------------------------- */

/* Infers every node of g, recording changes in undo. */
aglm_status infer_graph(aglm_graph *g, infer_undo *undo);
/* Sets v's type, recording its previous type in undo first. */
aglm_status infer_set_value_type(infer_undo *undo, aglm_value *v, aglm_dtype dt, int rank,
                                 const aglm_dim *dims);

infer_undo *infer_undo_new(void);
/* Puts back every recorded type (newest last recorded first). */
void infer_undo_restore(infer_undo *u);
void infer_undo_free(infer_undo *u);
/* Restores everything in u after a failure with status st, keeping the failure's message;
 * returns st. */
aglm_status infer_rollback(infer_undo *u, aglm_status st);

/* The ai.onnx opset for g: its own import, else its nearest ancestor's, else the newest. */
int64_t infer_opset(const aglm_graph *g);

#endif
