/* What the ONNX frontend's files share: the decoded model (onnx_proto.h) is turned into an aglm
 * graph by the builder, tensors by tensor_data.c. docs/onnx-frontend.md describes the mapping. */
#ifndef AGLM_ONNX_FRONTEND_H
#define AGLM_ONNX_FRONTEND_H

#include "aglm/aglm.h"
#include "onnx_proto.h"

/* For "%.*s" in messages: an ONNX string, clipped so a hostile name cannot flood a message. */
#define OX_FMT(s) (int)((s).n > 200 ? 200 : (s).n), (const char *)(s).p

/* Where a load's tensors get their bytes. */
typedef struct ox_env {
    const char *dir;  /* canonical folder of the model file; NULL refuses external data */
    size_t input_len; /* bytes of the model file: bounds how far sparse tensors may expand */
} ox_env;

/* ---- strings (names.c) ------------------------------------------------------------------- */

int ox_str_eq(ox_str s, const char *c);
int ox_str_same(ox_str a, ox_str b);
/* A malloc'd NUL-terminated copy in *out; AGLM_ERR_PARSE for a NUL byte inside (C names cannot
 * hold one; `what` names the string in the message). */
aglm_status ox_cstr(ox_str s, const char *what, char **out);

/* ---- dtypes and tensors (tensor_data.c, external_data.c) -------------------------------- */

/* ONNX's name of a TensorProto.DataType ("float", "float8e4m3fn"), or NULL if unknown. */
const char *ox_dtype_name(int64_t onnx_dtype);
/* The aglm dtype of an ONNX one; AGLM_ERR_UNSUPPORTED "WHAT: dtype X not supported" for those
 * aglm cannot hold (string, complex, 8-, 4- and 2-bit types). */
aglm_status ox_map_dtype(int64_t onnx_dtype, const char *what, aglm_dtype *out);
/* A TensorProto's value as an owning aglm_tensor (raw_data, typed fields or external data).
 * Sizes are checked against the bytes present before anything is allocated. */
aglm_status ox_tensor_to_aglm(const ox_env *env, const ox_tensor *tp, const char *what,
                              aglm_tensor *out);
/* A SparseTensorProto expanded to a dense tensor (at most 64 x the input size plus 1 MiB). */
aglm_status ox_sparse_to_aglm(const ox_env *env, const ox_sparse *sp, const char *what,
                              aglm_tensor *out);
/* Reads tp's external data (data_location EXTERNAL) into a new tensor of dt and dims, which
 * needs nbytes; the file must lie inside env->dir and hold the bytes before any is allocated. */
aglm_status ox_read_external(const ox_env *env, const ox_tensor *tp, const char *what,
                             aglm_dtype dt, int rank, const int64_t *dims, size_t nbytes,
                             aglm_tensor *out);
/* Byte-swaps n elements of es bytes on big-endian hosts (ONNX stores little-endian). */
void ox_from_le(void *data, size_t n, size_t es);

/* ---- value types (value_types.c) -------------------------------------------------------- */

/* Sets v's dtype and shape from a declared TypeProto (tensor types; other kinds leave v as it
 * is). dim_param becomes a symbolic dim; a missing or negative dim_value an unknown one. */
aglm_status ox_apply_type(const ox_type *t, aglm_value *v, const char *what);
/* ONNX's text of a type ("tensor(float)", "seq(tensor(int64))"), malloc'd; NULL on no memory. */
char *ox_type_text(const ox_type *t);

/* ---- name scopes (scope.c) -------------------------------------------------------------- */

/* ONNX name -> value, per graph, chained outwards (ONNX scoping). A name may be bound to NULL:
 * an absent optional input of an inlined function. */
typedef struct ox_scope {
    aglm_graph *g;
    const struct ox_scope *outer;
    ox_str *keys;
    aglm_value **vals;
    size_t cap, len;
} ox_scope;

void ox_scope_init(ox_scope *s, aglm_graph *g, const ox_scope *outer);
void ox_scope_free(ox_scope *s);
aglm_status ox_scope_put(ox_scope *s, ox_str name, aglm_value *v);
/* 1 when `name` is bound in s itself (v set), else 0. */
int ox_scope_get(const ox_scope *s, ox_str name, aglm_value **v);
/* 1 when `name` is bound in s or an enclosing scope. */
int ox_scope_lookup(const ox_scope *s, ox_str name, aglm_value **v);

/* ---- building (build_*.c) --------------------------------------------------------------- */

/* A model-local function being inlined: its calling node resolves ref_attr_name. */
typedef struct ox_call {
    const ox_function *fn;
    const ox_node *node;
    const struct ox_call *outer; /* the frame the calling node itself sits in, or NULL */
    const char *prefix;          /* prepended to the names of the body's values and nodes */
} ox_call;

/* Functions nest (one calls another) at most this deep. */
#define OX_MAX_CALL_DEPTH 32

typedef struct ox_build {
    const ox_env *env;
    const ox_model *model;
    aglm_graph *top;
    int64_t old_opset;        /* the ai.onnx version imported when older than 7, else 0 */
    unsigned char *fn_active; /* per model function: being inlined now (recursion check) */
    int call_depth;
    uint64_t fresh; /* counter behind generated names */
} ox_build;

/* build_model.c: the whole model, verified and with shapes inferred; *out is NULL on failure. */
aglm_status ox_build_model(const ox_model *m, const ox_env *env, const char *default_name,
                           aglm_graph **out);

/* build_graph.c: fills sc->g (empty) from gp: initializers, inputs, nodes, value_info,
 * outputs, then sorts it topologically. */
aglm_status ox_build_graph(ox_build *b, const ox_graph *gp, ox_scope *sc, const ox_call *call);

/* build_graph.c: a new value for ONNX name `name` in sc's graph, bound in sc; renamed (x.1, x.2
 * ...) where the name is taken in the graph or an enclosing one. */
aglm_status ox_new_value(ox_scope *sc, ox_str name, const char *prefix, aglm_value **out);

/* build_graph.c: creates the outputs of nodes[0..n) in sc (first pass, so nodes may refer to
 * values produced later and be sorted afterwards). In a function body (fn not NULL) the outputs
 * of fn are already bound to the call's values and are not created again. */
aglm_status ox_declare_outputs(ox_scope *sc, const ox_node *nodes, size_t n, const char *prefix,
                               const ox_function *fn);

/* build_node.c: "node 'name' (Op)" or "node #i (domain.Op)". */
void ox_node_label(const ox_node *np, size_t index, char *buf, size_t n);

/* build_node.c: adds node np (outputs already declared) or inlines the local function it calls. */
aglm_status ox_build_node(ox_build *b, ox_scope *sc, const ox_node *np, size_t index,
                          const ox_call *call);

/* build_attr.c: sets attribute a on node n. */
aglm_status ox_set_attr(ox_build *b, ox_scope *sc, aglm_node *n, const char *who, const ox_attr *a,
                        const ox_call *call);

/* build_function.c: the model-local function node np calls, or NULL. */
const ox_function *ox_find_function(const ox_build *b, const ox_node *np, size_t *index);
/* build_function.c: inlines function fn (model function number `index`) for node np. */
aglm_status ox_inline_call(ox_build *b, ox_scope *sc, const ox_node *np, const char *who,
                           size_t index, const ox_call *call);

/* opset_compat.c: for models importing ai.onnx older than 7: AGLM_ERR_UNSUPPORTED unless op is
 * defined the same at `version` as at 7 (so the graph can be read as opset 7). */
aglm_status ox_check_old_op(int64_t version, const char *op, const char *who);

/* ---- entry points (load.c) -------------------------------------------------------------- */

/* Decodes and builds a model held in memory. dir is the canonical folder external data may come
 * from (NULL: none); name names the graph when the model gives none. */
aglm_status onnx_load_buffer(const void *buf, size_t len, const char *dir, const char *name,
                             aglm_graph **out);
/* Reads a .onnx file; errors are prefixed with its path. */
aglm_status onnx_load_file(const char *path, aglm_graph **out);
/* A serialized TensorProto in memory (dir as above). Sequence and optional values are
 * AGLM_ERR_UNSUPPORTED. */
aglm_status onnx_load_tensor_buffer(const void *buf, size_t len, const char *dir, aglm_tensor *out);
/* A TensorProto .pb file; errors are prefixed with its path. */
aglm_status onnx_load_tensor_file(const char *path, aglm_tensor *out);

#endif
