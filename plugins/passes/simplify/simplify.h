/* simplify internals: the rewrite rules and the helpers they share. */
#ifndef SIMPLIFY_H
#define SIMPLIFY_H

#include "aglm/aglm.h"

/* Tries every rule on node n of g; *fired is 1 when one rewrote the graph (n may be gone). */
aglm_status simplify_node(aglm_graph *g, aglm_node *n, int *fired);

/* Makes every use of `out` (an output of n) read `in` instead, then removes n if nothing reads
 * its outputs any more. Declines (*fired 0) when that would rename a value users see: `out` is a
 * graph output and `in` is a graph input or output, or lives in an enclosing graph. */
aglm_status simplify_forward(aglm_graph *g, aglm_node *n, aglm_value *out, aglm_value *in,
                             int *fired);

/* Removes n when none of its outputs is read or is a graph output. */
aglm_status simplify_drop_if_dead(aglm_graph *g, aglm_node *n);

#endif
