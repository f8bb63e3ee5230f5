/* The graph IR: an SSA graph of nodes over typed values.
 *
 * Every object is an opaque handle reached through accessor functions, so the layout can change
 * without breaking plugins. A graph owns its values, nodes and attributes; a subgraph (If, Loop,
 * Scan bodies) is owned by the attribute that holds it and can read values of its enclosing
 * graphs directly: a node input may be a value of any ancestor graph (as in MLIR regions).
 *
 * Ops are ONNX's, with ONNX names, attributes and semantics; domain "" (or NULL) is ai.onnx.
 * Extension ops created by passes live in the "aglm" domain (aglm.FusedConv, ...).
 *
 * Names: every value of a graph has a unique name; graph inputs and outputs keep the names the
 * model gave them, since users address tensors by those names. */
#ifndef AGLM_GRAPH_H
#define AGLM_GRAPH_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "aglm/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aglm_graph aglm_graph;
typedef struct aglm_node aglm_node;
typedef struct aglm_value aglm_value;
typedef struct aglm_attr aglm_attr;

/* One dimension: static when value >= 0, otherwise symbolic: `sym` names it ("N", "batch") or is
 * NULL for an unknown dim. Symbol strings are interned by the graph. */
typedef struct aglm_dim {
    int64_t value;
    const char *sym;
} aglm_dim;

#define AGLM_DIM_DYNAMIC (-1)

/* Attribute types, numbered as ONNX's AttributeProto.AttributeType. */
typedef enum aglm_attr_type {
    AGLM_ATTR_UNDEFINED = 0,
    AGLM_ATTR_FLOAT = 1,
    AGLM_ATTR_INT = 2,
    AGLM_ATTR_STRING = 3,
    AGLM_ATTR_TENSOR = 4,
    AGLM_ATTR_GRAPH = 5,
    AGLM_ATTR_FLOATS = 6,
    AGLM_ATTR_INTS = 7,
    AGLM_ATTR_STRINGS = 8,
    AGLM_ATTR_TENSORS = 9,
    AGLM_ATTR_GRAPHS = 10
} aglm_attr_type;

/* ---- graphs ---------------------------------------------------------------------------- */

/* A new empty top-level graph (name may be NULL). NULL with an error set on allocation failure. */
AGLM_API aglm_graph *aglm_graph_new(const char *name);

/* A new empty subgraph whose nodes may read values of `parent` and its ancestors. It is owned by
 * the caller until handed to aglm_node_set_graph(s). */
AGLM_API aglm_graph *aglm_graph_new_subgraph(aglm_graph *parent, const char *name);

/* Frees a graph with all its values, nodes, attributes and subgraphs. NULL is a no-op. */
AGLM_API void aglm_graph_free(aglm_graph *g);

/* A deep copy (constants and subgraphs included). NULL with an error set on failure. */
AGLM_API aglm_graph *aglm_graph_clone(const aglm_graph *g);

AGLM_API const char *aglm_graph_name(const aglm_graph *g);
/* The enclosing graph of a subgraph; NULL for a top-level graph. */
AGLM_API aglm_graph *aglm_graph_parent(const aglm_graph *g);

/* Opset imports: version of `domain` ("" or NULL for ai.onnx); 0 when not imported. */
AGLM_API aglm_status aglm_graph_set_opset(aglm_graph *g, const char *domain, int64_t version);
AGLM_API int64_t aglm_graph_opset(const aglm_graph *g, const char *domain);
AGLM_API size_t aglm_graph_num_opsets(const aglm_graph *g);
AGLM_API const char *aglm_graph_opset_domain(const aglm_graph *g, size_t i);

/* Free-form metadata (producer, doc string, model metadata_props). */
AGLM_API aglm_status aglm_graph_set_meta(aglm_graph *g, const char *key, const char *value);
AGLM_API const char *aglm_graph_meta(const aglm_graph *g, const char *key);
AGLM_API size_t aglm_graph_num_meta(const aglm_graph *g);
AGLM_API const char *aglm_graph_meta_key(const aglm_graph *g, size_t i);

/* ---- values ---------------------------------------------------------------------------- */

/* Adds a value. `name` NULL or "" gets a fresh unique name; a name already used in this graph is
 * an AGLM_ERR_EXISTS error. rank -1 means the shape is unknown (dims ignored); dims may be NULL
 * with rank >= 0 to mean all dims dynamic. */
AGLM_API aglm_value *aglm_graph_new_value(aglm_graph *g, const char *name, aglm_dtype dt, int rank,
                                          const aglm_dim *dims);

/* Adds a constant value (an initialiser) holding a deep copy of `t`; its type comes from `t`. */
AGLM_API aglm_value *aglm_graph_add_initializer(aglm_graph *g, const char *name,
                                                const aglm_tensor *t);

/* The value named `name` in this graph only, or NULL. */
AGLM_API aglm_value *aglm_graph_find_value(const aglm_graph *g, const char *name);
/* The value named `name` in this graph or, failing that, its ancestors (ONNX scoping). */
AGLM_API aglm_value *aglm_graph_lookup_value(const aglm_graph *g, const char *name);

AGLM_API size_t aglm_graph_num_values(const aglm_graph *g);
AGLM_API aglm_value *aglm_graph_value(const aglm_graph *g, size_t i);

/* Graph inputs and outputs, in order. A value is an input at most once. */
AGLM_API aglm_status aglm_graph_add_input(aglm_graph *g, aglm_value *v);
AGLM_API aglm_status aglm_graph_add_output(aglm_graph *g, aglm_value *v);
AGLM_API aglm_status aglm_graph_set_output(aglm_graph *g, size_t i, aglm_value *v);
AGLM_API size_t aglm_graph_num_inputs(const aglm_graph *g);
AGLM_API aglm_value *aglm_graph_input(const aglm_graph *g, size_t i);
AGLM_API size_t aglm_graph_num_outputs(const aglm_graph *g);
AGLM_API aglm_value *aglm_graph_output(const aglm_graph *g, size_t i);

/* Removes values that nothing produces, uses, or lists as input or output (unused constants
 * included: a weight nothing reads is dead); returns how many went. */
AGLM_API size_t aglm_graph_prune_values(aglm_graph *g);

AGLM_API const char *aglm_value_name(const aglm_value *v);
AGLM_API aglm_graph *aglm_value_graph(const aglm_value *v);
AGLM_API aglm_dtype aglm_value_dtype(const aglm_value *v);
/* Rank, or -1 when the shape is unknown. */
AGLM_API int aglm_value_rank(const aglm_value *v);
/* Dim i (0 <= i < rank). */
AGLM_API aglm_dim aglm_value_dim(const aglm_value *v, int i);
/* 1 when the rank is known and every dim is static. */
AGLM_API int aglm_value_is_static(const aglm_value *v);
/* Sets dtype and shape (rank -1: unknown); symbol names are interned. */
AGLM_API aglm_status aglm_value_set_type(aglm_value *v, aglm_dtype dt, int rank,
                                         const aglm_dim *dims);
/* Writes "f32[1,3,N,?]" (at most n bytes, terminated); returns buf. */
AGLM_API char *aglm_value_type_str(const aglm_value *v, char *buf, size_t n);

/* The constant a value holds (initialiser or folded), or NULL. */
AGLM_API const aglm_tensor *aglm_value_const(const aglm_value *v);
/* Makes v a constant: takes ownership of t's data (t is emptied) and sets v's type from it. */
AGLM_API aglm_status aglm_value_set_const(aglm_value *v, aglm_tensor *t);

/* The node producing v, or NULL (graph input, constant, or not yet produced). */
AGLM_API aglm_node *aglm_value_producer(const aglm_value *v);
/* Uses of v: nodes (of this graph or its subgraphs) reading it, with the input slot. */
AGLM_API size_t aglm_value_num_uses(const aglm_value *v);
AGLM_API aglm_node *aglm_value_use(const aglm_value *v, size_t i, size_t *input_index);
AGLM_API int aglm_value_is_graph_input(const aglm_value *v);
AGLM_API int aglm_value_is_graph_output(const aglm_value *v);

/* Every use of `from` (node inputs here and in subgraphs, and graph output slots) is redirected
 * to `to`. When `from` is a graph output, `to` takes its name (and `from` gets a fresh one), so
 * what the user sees is unchanged. */
AGLM_API aglm_status aglm_graph_replace_uses(aglm_graph *g, aglm_value *from, aglm_value *to);

/* ---- nodes ----------------------------------------------------------------------------- */

/* Appends a node. domain NULL/"" is ai.onnx; name NULL/"" gets a fresh one. inputs[i] may be NULL
 * for an absent optional input. Each output must be a value of g with no producer yet. */
AGLM_API aglm_node *aglm_graph_add_node(aglm_graph *g, const char *op, const char *domain,
                                        const char *name, size_t n_in, aglm_value *const *inputs,
                                        size_t n_out, aglm_value *const *outputs);

/* Removes (and frees) a node and its attributes; its outputs stay as values with no producer. */
AGLM_API aglm_status aglm_graph_remove_node(aglm_graph *g, aglm_node *n);

AGLM_API size_t aglm_graph_num_nodes(const aglm_graph *g);
/* Nodes in graph order (topological once aglm_graph_toposort succeeded). */
AGLM_API aglm_node *aglm_graph_node(const aglm_graph *g, size_t i);

/* Reorders nodes topologically, keeping the existing order where it is free. A cycle is an
 * error naming a node on it. */
AGLM_API aglm_status aglm_graph_toposort(aglm_graph *g);

AGLM_API const char *aglm_node_op(const aglm_node *n);
/* "" for ai.onnx. */
AGLM_API const char *aglm_node_domain(const aglm_node *n);
AGLM_API const char *aglm_node_name(const aglm_node *n);
AGLM_API aglm_graph *aglm_node_graph(const aglm_node *n);
/* Changes op and domain in place (passes rewriting a node). */
AGLM_API aglm_status aglm_node_set_op(aglm_node *n, const char *op, const char *domain);

AGLM_API size_t aglm_node_num_inputs(const aglm_node *n);
/* Input i, or NULL for an absent optional input. */
AGLM_API aglm_value *aglm_node_input(const aglm_node *n, size_t i);
/* Sets input i (v may be NULL); i == num_inputs appends. */
AGLM_API aglm_status aglm_node_set_input(aglm_node *n, size_t i, aglm_value *v);
/* Drops inputs from index `count` on. */
AGLM_API aglm_status aglm_node_truncate_inputs(aglm_node *n, size_t count);
AGLM_API size_t aglm_node_num_outputs(const aglm_node *n);
AGLM_API aglm_value *aglm_node_output(const aglm_node *n, size_t i);

/* ---- attributes ------------------------------------------------------------------------ */

AGLM_API size_t aglm_node_num_attrs(const aglm_node *n);
AGLM_API const aglm_attr *aglm_node_attr_at(const aglm_node *n, size_t i);
/* The attribute named `name`, or NULL. */
AGLM_API const aglm_attr *aglm_node_attr(const aglm_node *n, const char *name);

AGLM_API const char *aglm_attr_name(const aglm_attr *a);
AGLM_API aglm_attr_type aglm_attr_kind(const aglm_attr *a);
AGLM_API int64_t aglm_attr_i(const aglm_attr *a);
AGLM_API float aglm_attr_f(const aglm_attr *a);
/* String value (NUL-terminated; may contain bytes), with its length in *len if len is not NULL. */
AGLM_API const char *aglm_attr_s(const aglm_attr *a, size_t *len);
AGLM_API const int64_t *aglm_attr_ints(const aglm_attr *a, size_t *count);
AGLM_API const float *aglm_attr_floats(const aglm_attr *a, size_t *count);
AGLM_API const char *const *aglm_attr_strings(const aglm_attr *a, size_t *count);
AGLM_API const aglm_tensor *aglm_attr_tensor(const aglm_attr *a);
AGLM_API const aglm_tensor *aglm_attr_tensors(const aglm_attr *a, size_t *count);
AGLM_API aglm_graph *aglm_attr_graph(const aglm_attr *a);
AGLM_API aglm_graph *const *aglm_attr_graphs(const aglm_attr *a, size_t *count);
/* How many graphs attribute a holds (1 for a set GRAPH, the count of GRAPHS, else 0), and graph
 * i of them: a walk over a node's subgraphs need not tell the two kinds apart. */
AGLM_API size_t aglm_attr_num_graphs(const aglm_attr *a);
AGLM_API aglm_graph *aglm_attr_graph_at(const aglm_attr *a, size_t i);

/* Typed look-ups with a default for an absent attribute (a present one of another type is
 * converted where ONNX allows it: int <-> float). */
AGLM_API int64_t aglm_node_get_int(const aglm_node *n, const char *name, int64_t def);
AGLM_API float aglm_node_get_float(const aglm_node *n, const char *name, float def);
AGLM_API const char *aglm_node_get_string(const aglm_node *n, const char *name, const char *def);
/* NULL (and *count 0) when absent. */
AGLM_API const int64_t *aglm_node_get_ints(const aglm_node *n, const char *name, size_t *count);
AGLM_API const float *aglm_node_get_floats(const aglm_node *n, const char *name, size_t *count);

/* Setters replace an attribute of the same name. Data is copied, except graphs, whose ownership
 * moves to the node (their parent must be the node's graph). */
AGLM_API aglm_status aglm_node_set_int(aglm_node *n, const char *name, int64_t v);
AGLM_API aglm_status aglm_node_set_float(aglm_node *n, const char *name, float v);
AGLM_API aglm_status aglm_node_set_string(aglm_node *n, const char *name, const char *s,
                                          size_t len);
AGLM_API aglm_status aglm_node_set_ints(aglm_node *n, const char *name, const int64_t *v,
                                        size_t count);
AGLM_API aglm_status aglm_node_set_floats(aglm_node *n, const char *name, const float *v,
                                          size_t count);
AGLM_API aglm_status aglm_node_set_strings(aglm_node *n, const char *name, const char *const *v,
                                           size_t count);
AGLM_API aglm_status aglm_node_set_tensor(aglm_node *n, const char *name, const aglm_tensor *t);
AGLM_API aglm_status aglm_node_set_tensors(aglm_node *n, const char *name, const aglm_tensor *t,
                                           size_t count);
AGLM_API aglm_status aglm_node_set_graph(aglm_node *n, const char *name, aglm_graph *sub);
AGLM_API aglm_status aglm_node_set_graphs(aglm_node *n, const char *name, aglm_graph *const *subs,
                                          size_t count);
AGLM_API aglm_status aglm_node_remove_attr(aglm_node *n, const char *name);

/* ---- checking and text form ------------------------------------------------------------ */

/* Checks every invariant: unique names; each node input defined before use (graph input,
 * constant, earlier node, or a visible value of an enclosing graph); one producer per value;
 * outputs defined; use lists consistent; attributes well-formed; recursively into subgraphs.
 * The error names the graph, the node and the broken rule. */
AGLM_API aglm_status aglm_graph_verify(const aglm_graph *g);

/* Printing flags. */
#define AGLM_PRINT_ELIDE_CONSTANTS                                                                 \
    1u /* print constants of more than 16 elements as "<N elements>" */

/* Writes the readable text form (docs/ir-text.md) to f. */
AGLM_API aglm_status aglm_graph_print(const aglm_graph *g, FILE *f, unsigned flags);
/* The same text in a malloc'd string the caller frees; NULL with an error set on failure. */
AGLM_API char *aglm_graph_to_text(const aglm_graph *g, unsigned flags);
/* Parses the text form (printed without AGLM_PRINT_ELIDE_CONSTANTS) back into a graph. Errors
 * name the line and column. */
AGLM_API aglm_status aglm_graph_parse(const char *text, aglm_graph **out);

#ifdef __cplusplus
}
#endif
#endif
