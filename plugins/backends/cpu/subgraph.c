/* The kernels' side of subgraphs (subgraph.h), over the runtime layer's aglm_run_sub. */
#include "subgraph.h"

const cpu_sub *cpu_sub_find(const cpu_kctx *k, const char *attr)
{
    if (!k->io)
        return aglm_error(AGLM_ERR_INVALID, "attribute '%s' (a graph) is missing", attr), NULL;
    return aglm_step_sub(k->io->step, attr);
}

const aglm_graph *cpu_sub_graph(const cpu_sub *sub)
{
    return sub->sched->graph;
}

aglm_status cpu_sub_run(const cpu_kctx *k, const cpu_sub *sub, size_t n_in, const aglm_tensor *in,
                        size_t n_out, aglm_tensor *out)
{
    return aglm_run_sub(k->io, sub->attr, n_in, in, n_out, out);
}
