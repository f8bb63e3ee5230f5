/* cse internals: hashing and comparing nodes and constants. */
#ifndef CSE_H
#define CSE_H

#include <stdint.h>
#include "aglm/aglm.h"

/* A hash of everything that decides a node's results: op, domain, attributes and inputs. */
uint64_t cse_node_hash(const aglm_node *n);
/* 1 when a and b compute the same thing: same op, domain, inputs (by identity) and attributes of
 * every kind (floats by bits, tensors by dtype, shape and bytes; a subgraph equals nothing). */
int cse_node_equal(const aglm_node *a, const aglm_node *b);

uint64_t cse_tensor_hash(const aglm_tensor *t);
/* Same dtype, shape and bytes. */
int cse_tensor_equal(const aglm_tensor *a, const aglm_tensor *b);

#endif
