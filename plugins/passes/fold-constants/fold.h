/* fold-constants internals: the pieces the driver (fold.c) calls for one node. */
#ifndef FOLD_H
#define FOLD_H

#include "aglm/aglm.h"

/* The backend that evaluates nodes, when one is loaded. */
typedef struct fold_backend {
    const aglm_backend_ops *ops;
    void *state;
} fold_backend;

/* Folds what needs no backend: a Constant node's attribute, or Shape/Size of a value whose
 * (requested) dims are static. *done is 1 when out[0] was filled (the caller owns it). */
aglm_status fold_direct(const aglm_node *n, aglm_tensor *out, int *done);

/* Evaluates node n, all of whose inputs are constants, on the backend through a one-node graph.
 * *done is 1 when out[0..num_outputs) were filled (absent outputs stay empty); 0 when the node
 * cannot be evaluated there, shape inference cannot tell an output's size, or an output would
 * exceed limit bytes (nothing is filled then; SIZE_MAX: no limit). */
aglm_status fold_eval(const fold_backend *be, const aglm_node *n, size_t limit, aglm_tensor *out,
                      int *done);

#endif
