/* A graph's signature: a graph holding only copies of its inputs and outputs (names, dtypes,
 * shapes), no nodes or constants. Executables and served models keep one to check requests
 * (aglm_graph_check_inputs) and to name outputs without keeping the whole model alive. */
#ifndef AGLM_HOST_GRAPH_SIGNATURE_H
#define AGLM_HOST_GRAPH_SIGNATURE_H

#include "aglm/graph.h"

/* The signature of g, or NULL with an error set. The caller frees it with aglm_graph_free. */
aglm_graph *host_graph_signature(const aglm_graph *g);

#endif
