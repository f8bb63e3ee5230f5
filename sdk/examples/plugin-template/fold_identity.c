/* example-fold-identity: a pass that removes Identity nodes, pointing whatever read an Identity's
 * output at its input instead. Exporters leave many of them behind (renamed outputs, ops a tool
 * could not express otherwise); each one costs a copy at run time.
 *
 * It is also the SDK's template: a complete plugin with a descriptor, the lifecycle callbacks, a
 * config key, host logging and metrics, and errors that say what and where. Copy the folder,
 * rename, and replace fold_graph() with your own transformation. */
#include <stdlib.h>
#include <string.h>
#include <aglm/aglm.h>

typedef struct fold_state {
    const aglm_host *host; /* valid from init to destroy */
    int report;            /* [plugin.example-fold-identity] report = true: log each removal */
} fold_state;

/* When an Identity's output is a graph output, the Identity is what gives that output its own
 * name: its input takes the output's name when folded, so only fold when that input is an
 * ordinary intermediate value of this same graph (not a graph input, another output, a constant,
 * or a value of an enclosing graph). */
static int can_fold(const aglm_graph *g, aglm_value *in, aglm_value *out)
{
    if (!aglm_value_is_graph_output(out))
        return 1;
    aglm_node *producer = aglm_value_producer(in);
    return producer && aglm_node_graph(producer) == g && !aglm_value_is_graph_output(in);
}

static int is_identity(const aglm_node *n)
{
    return strcmp(aglm_node_op(n), "Identity") == 0 && aglm_node_domain(n)[0] == '\0' &&
           aglm_node_num_inputs(n) == 1 && aglm_node_num_outputs(n) == 1 && aglm_node_input(n, 0) &&
           aglm_node_output(n, 0);
}

static aglm_status fold_graph(fold_state *s, aglm_graph *g, size_t *removed);

/* Folds the subgraphs (If/Loop/Scan bodies) held by node n's attributes. */
static aglm_status fold_subgraphs(fold_state *s, const aglm_node *n, size_t *removed)
{
    for (size_t a = 0; a < aglm_node_num_attrs(n); a++) {
        const aglm_attr *attr = aglm_node_attr_at(n, a);
        size_t count = 0;
        aglm_graph *const *subs = NULL;
        aglm_graph *one = NULL;
        if (aglm_attr_kind(attr) == AGLM_ATTR_GRAPH) {
            one = aglm_attr_graph(attr);
            subs = &one;
            count = 1;
        } else if (aglm_attr_kind(attr) == AGLM_ATTR_GRAPHS) {
            subs = aglm_attr_graphs(attr, &count);
        }
        for (size_t i = 0; i < count; i++) {
            aglm_status st = fold_graph(s, subs[i], removed);
            if (st != AGLM_OK)
                return aglm_error_wrap(st, "node '%s' attribute '%s'", aglm_node_name(n),
                                       aglm_attr_name(attr));
        }
    }
    return AGLM_OK;
}

static aglm_status fold_graph(fold_state *s, aglm_graph *g, size_t *removed)
{
    size_t before = *removed;
    size_t i = 0;
    while (i < aglm_graph_num_nodes(g)) {
        aglm_node *n = aglm_graph_node(g, i);
        aglm_status st = fold_subgraphs(s, n, removed);
        if (st != AGLM_OK)
            return st;
        if (!is_identity(n)) {
            i++;
            continue;
        }
        aglm_value *in = aglm_node_input(n, 0);
        aglm_value *out = aglm_node_output(n, 0);
        if (!can_fold(g, in, out)) {
            i++;
            continue;
        }
        if (s->report)
            s->host->log(s->host, AGLM_LOG_INFO, "removing Identity '%s' (%s -> %s)",
                         aglm_node_name(n), aglm_value_name(in), aglm_value_name(out));
        /* Each step leaves a valid graph, so a failure part-way still honours the pass contract:
         * the node either keeps its readers or has none left and goes. */
        st = aglm_graph_replace_uses(g, out, in);
        if (st != AGLM_OK)
            return aglm_error_wrap(st, "graph '%s': Identity '%s'", aglm_graph_name(g),
                                   aglm_node_name(n));
        st = aglm_graph_remove_node(g, n);
        if (st != AGLM_OK)
            return aglm_error_wrap(st, "graph '%s': Identity '%s'", aglm_graph_name(g),
                                   aglm_node_name(n));
        (*removed)++;
        /* no i++: the next node has moved into slot i */
    }
    if (*removed > before)
        aglm_graph_prune_values(g); /* the folded outputs, now unproduced and unused */
    return AGLM_OK;
}

static aglm_status fold_run(void *state, aglm_graph *g, const aglm_options *opts, int *changed)
{
    fold_state *s = state;
    size_t removed = 0;
    (void)opts; /* this pass takes no options; see aglm_options_get() for reading them */
    if (!g || !changed)
        return aglm_error(AGLM_ERR_INVALID, "example-fold-identity: graph or changed flag is NULL");
    aglm_status st = fold_graph(s, g, &removed);
    *changed = removed > 0;
    if (removed > 0) {
        s->host->metric(s->host, "identities_removed", (double)removed);
        s->host->log(s->host, AGLM_LOG_DEBUG, "removed %zu Identity node%s from graph '%s'",
                     removed, removed == 1 ? "" : "s", aglm_graph_name(g));
    }
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "example-fold-identity");
    return AGLM_OK;
}

static aglm_status fold_init(const aglm_host *host, void **state)
{
    const char *report = host->config(host, "report");
    if (report && strcmp(report, "true") != 0 && strcmp(report, "false") != 0)
        return aglm_error(AGLM_ERR_INVALID, "[plugin.%s] report = '%s': expected true or false",
                          host->plugin_name, report);
    fold_state *s = calloc(1, sizeof *s);
    if (!s)
        return aglm_error(AGLM_ERR_NOMEM, "example-fold-identity: out of memory in init");
    s->host = host;
    s->report = report && strcmp(report, "true") == 0;
    *state = s;
    return AGLM_OK;
}

static void fold_destroy(void *state)
{
    free(state);
}

static const aglm_pass_ops fold_ops = {
    .struct_size = sizeof(aglm_pass_ops),
    .run = fold_run,
};

AGLM_DEFINE_PLUGIN(.name = "example-fold-identity", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "removes Identity nodes by redirecting their uses to their input",
                   .init = fold_init, .destroy = fold_destroy, .ops = &fold_ops)
