/* The graph IR's private layout, shared by graph*.c, verify.c and ir_*.c. Nothing here is part
 * of the ABI: plugins only see the opaque handles of aglm/graph.h. */
#ifndef AGLM_GRAPH_INTERNAL_H
#define AGLM_GRAPH_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include "aglm/graph.h"

/* ---- small containers (graph_map.c) ------------------------------------------------------ */

/* String-keyed open-addressing table. Keys are borrowed: each points at the name its object
 * owns, so renaming an object means deleting and re-inserting it. */
typedef struct strmap {
    const char **keys;
    void **vals;
    size_t cap; /* power of two, or 0 */
    size_t len;
} strmap;

/* 0, or -1 on allocation failure. Updating an existing entry keeps its key pointer. */
int strmap_put(strmap *m, const char *key, void *val);
/* The stored key equal to `key`, or NULL. */
const char *strmap_key(const strmap *m, const char *key);
void *strmap_get(const strmap *m, const char *key);
int strmap_has(const strmap *m, const char *key);
void strmap_del(strmap *m, const char *key);
void strmap_free(strmap *m);

/* Pointer-keyed table, for clone's old->new remapping and the verifier's sets. */
typedef struct ptrmap {
    const void **keys;
    void **vals;
    size_t cap;
    size_t len;
} ptrmap;

int ptrmap_put(ptrmap *m, const void *key, void *val);
void *ptrmap_get(const ptrmap *m, const void *key);
int ptrmap_has(const ptrmap *m, const void *key);
void ptrmap_free(ptrmap *m);

/* Grows *arr (of elem-byte items, capacity *cap) to hold at least `need`; 0 or -1. */
int grow_array(void **arr, size_t *cap, size_t need, size_t elem);

/* The stored form of a domain: "" for ai.onnx, however it was spelled (NULL, "", "ai.onnx"). */
const char *domain_norm(const char *d);

/* strdup that accepts NULL (giving "") and reports failure as NULL. */
char *dup_str(const char *s);
/* Copies len bytes and a terminating NUL. */
char *dup_mem(const char *s, size_t len);

/* State shared by a top-level graph and all its subgraphs: interned dim symbols (so their
 * pointers stay valid for the whole tree's life) and the counter behind fresh names. Counted,
 * because a detached subgraph may outlive nothing but still holds it. */
typedef struct graph_shared {
    int refs;
    strmap syms;
    uint64_t fresh;
} graph_shared;

graph_shared *shared_new(void);
void shared_release(graph_shared *s);
/* The interned copy of sym (NULL on allocation failure). */
const char *shared_intern(graph_shared *s, const char *sym);

/* ---- objects ----------------------------------------------------------------------------- */

typedef struct value_use {
    aglm_node *node;
    size_t slot;
} value_use;

struct aglm_value {
    aglm_graph *graph;
    char *name;
    size_t index; /* position in graph->values */
    aglm_dtype dtype;
    int rank; /* -1: unknown shape */
    aglm_dim dims[AGLM_MAX_RANK];
    int has_const;
    aglm_tensor cst;
    aglm_node *producer;
    value_use *uses;
    size_t n_uses, cap_uses;
    int is_input;
    size_t out_own;   /* output slots of its own graph that hold it */
    size_t out_outer; /* output slots of enclosed subgraphs that hold it */
};

struct aglm_attr {
    char *name;
    aglm_attr_type type;
    int64_t i;
    float f;
    char *s;
    size_t s_len;
    size_t count; /* elements of the list kinds */
    int64_t *ints;
    float *floats;
    char **strings;
    aglm_tensor t;
    aglm_tensor *tensors;
    aglm_graph *g;
    aglm_graph **graphs;
};

struct aglm_node {
    aglm_graph *graph;
    size_t index; /* position in graph->nodes */
    char *op;
    char *domain;
    char *name;
    int fresh_name; /* the name was generated: the text form leaves it out */
    aglm_value **in;
    size_t n_in, cap_in;
    aglm_value **out;
    size_t n_out;
    aglm_attr **attrs;
    size_t n_attrs, cap_attrs;
};

struct aglm_graph {
    char *name;
    aglm_graph *parent;
    aglm_node *owner; /* the node whose attribute holds this subgraph, once attached */
    graph_shared *shared;
    aglm_value **values;
    size_t n_values, cap_values;
    strmap value_names;
    strmap node_names; /* owned name copy -> count of nodes carrying it (names may repeat) */
    aglm_node **nodes;
    size_t n_nodes, cap_nodes;
    aglm_value **inputs;
    size_t n_inputs, cap_inputs;
    aglm_value **outputs;
    size_t n_outputs, cap_outputs;
    char **opset_domains;
    int64_t *opset_versions;
    size_t n_opsets, cap_opsets;
    char **meta_keys;
    char **meta_vals;
    size_t n_meta, cap_meta;
};

/* ---- helpers across files ---------------------------------------------------------------- */

/* 1 when `inner` is `outer` or nested (at any depth) inside it. */
int graph_within(const aglm_graph *inner, const aglm_graph *outer);
/* 1 when a node of graph g may read v (v belongs to g or an ancestor). */
int value_visible(const aglm_value *v, const aglm_graph *g);

/* Frees a value that nothing references any more (its graph's tables are the caller's job). */
void value_destroy(aglm_value *v);
/* A malloc'd name no value of g or its ancestors carries (so it never shadows), or NULL. */
char *value_fresh_name(aglm_graph *g);

int value_add_use(aglm_value *v, aglm_node *n, size_t slot);
void value_remove_use(aglm_value *v, aglm_node *n, size_t slot);

/* Frees a graph tree. With detach, first removes the tree's references (uses and output slots)
 * from values of enclosing graphs, which outlive it; without, the caller frees those too. */
void graph_free_tree(aglm_graph *g, int detach);

/* Frees a node and its attributes (not its use entries); detach as for graph_free_tree. */
void node_destroy(aglm_node *n, int detach);

/* Frees an attribute; detach as for graph_free_tree. */
void attr_free(aglm_attr *a, int detach);
/* A deep copy of a for node `dst` (subgraphs cloned into dst's graph, references to values of
 * the source tree remapped through `map`); NULL with an error set. */
aglm_attr *attr_clone(const aglm_attr *a, aglm_node *dst, ptrmap *map);

/* Clones g's contents into the empty graph dst, remapping through map (graph_clone.c). */
aglm_status graph_clone_into(aglm_graph *dst, const aglm_graph *src, ptrmap *map);

/* Renames a node (the parser sets names after creating nodes). */
aglm_status node_rename(aglm_node *n, const char *name);
/* Renames a value, keeping the name table right; AGLM_ERR_EXISTS if the name is taken. */
aglm_status value_rename(aglm_value *v, const char *name);

/* "Conv" or "aglm.FusedConv", for messages. */
const char *node_op_label(const aglm_node *n, char *buf, size_t size);

#endif
