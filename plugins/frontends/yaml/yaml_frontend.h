/* What the YAML frontend's files share: the build context and the pieces of the schema -> graph
 * builder (docs/yaml-format.md describes the schema). */
#ifndef AGLM_YAML_FRONTEND_H
#define AGLM_YAML_FRONTEND_H

#include "aglm/aglm.h"
#include "ydoc.h"

/* Subgraphs nest at most this deep; YAML aliases can otherwise make a graph contain itself. */
#define YML_MAX_DEPTH 32

typedef struct yml_ctx {
    ydoc *doc;
    const char *dir; /* canonical folder of the model file: .npy paths resolve inside it */
    aglm_graph *top; /* opset imports live on the top-level graph */
    int depth;       /* subgraph nesting of the graph being built */
} yml_ctx;

/* build_graph.c: builds the whole model from the document root, then verifies it and infers
 * shapes. *out gets a new graph; nothing is left allocated on failure. */
aglm_status yml_build_model(ydoc *d, const char *dir, const char *default_name, aglm_graph **out);

/* build_graph.c: a subgraph of `parent` from a {inputs, outputs, initializers, nodes} mapping.
 * The caller owns *out. */
aglm_status yml_build_subgraph(yml_ctx *c, aglm_graph *parent, const yaml_node_t *m,
                               const char *name, aglm_graph **out);

/* attrs.c: sets every attribute of the `attrs` mapping on node n; `who` names the node. */
aglm_status yml_set_attrs(yml_ctx *c, aglm_node *n, const yaml_node_t *attrs, const char *who);

/* tensor_data.c: a dtype name ("f32", "float", "int64"). */
aglm_status yml_read_dtype(yml_ctx *c, const yaml_node_t *n, const char *what, aglm_dtype *out);

/* tensor_data.c: a value's shape: each dim an integer >= 0, a symbol, or "?". */
aglm_status yml_read_dims(yml_ctx *c, const yaml_node_t *n, const char *what, int *rank,
                          aglm_dim *dims);

/* tensor_data.c: a constant from a mapping with dtype, shape and one of data, fill or npy (keys
 * checked by the caller). *out owns its data on success and is empty on failure. */
aglm_status yml_read_tensor(yml_ctx *c, const yaml_node_t *m, const char *what, aglm_tensor *out);

#endif
