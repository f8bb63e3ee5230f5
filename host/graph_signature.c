/* Copies a graph's inputs and outputs into a graph of their own (graph_signature.h), so an
 * executable can check requests and name its outputs after the model itself is freed. */
#include "graph_signature.h"

/* Copies one value's name and type into sig; reuses it when already there (an input that is also
 * an output). */
static aglm_value *copy_value(aglm_graph *sig, const aglm_value *v)
{
    aglm_value *c = aglm_graph_find_value(sig, aglm_value_name(v));
    if (c)
        return c;
    int rank = aglm_value_rank(v);
    aglm_dim dims[AGLM_MAX_RANK];
    if (rank > AGLM_MAX_RANK) {
        aglm_error(AGLM_ERR_UNSUPPORTED, "value '%s' has rank %d, more than %d", aglm_value_name(v),
                   rank, AGLM_MAX_RANK);
        return NULL;
    }
    for (int i = 0; i < rank; i++)
        dims[i] = aglm_value_dim(v, i);
    return aglm_graph_new_value(sig, aglm_value_name(v), aglm_value_dtype(v), rank,
                                rank > 0 ? dims : NULL);
}

aglm_graph *host_graph_signature(const aglm_graph *g)
{
    aglm_graph *sig = aglm_graph_new(aglm_graph_name(g));
    if (!sig)
        return NULL;
    for (size_t i = 0; i < aglm_graph_num_inputs(g); i++) {
        aglm_value *v = copy_value(sig, aglm_graph_input(g, i));
        if (!v || aglm_graph_add_input(sig, v) != AGLM_OK)
            goto fail;
    }
    for (size_t i = 0; i < aglm_graph_num_outputs(g); i++) {
        aglm_value *v = copy_value(sig, aglm_graph_output(g, i));
        if (!v || aglm_graph_add_output(sig, v) != AGLM_OK)
            goto fail;
    }
    return sig;
fail:
    aglm_graph_free(sig);
    return NULL;
}
