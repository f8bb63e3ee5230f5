/* Algebraic simplification: rewrites that remove work without changing any result (x*1, x+0,
 * Identity, Dropout at inference, Cast to the same type, Reshape of Reshape, Transpose of
 * Transpose, division by a constant as multiplication, ...). The rules live in rules.c; this file
 * drives them to a fixed point and keeps the names users see. */
#include "simplify.h"

/* A sweep restarts after each rewrite (a rewrite may enable one earlier in the graph); every
 * rule strictly shrinks the graph or removes a pattern for good, so this bound is never met on
 * a sane graph and only guards against a rule bug looping. */
#define MAX_REWRITES 1000000

static int is_dead(const aglm_node *n)
{
    for (size_t i = 0; i < aglm_node_num_outputs(n); i++) {
        const aglm_value *v = aglm_node_output(n, i);
        if (v && (aglm_value_num_uses(v) > 0 || aglm_value_is_graph_output(v)))
            return 0;
    }
    return 1;
}

aglm_status simplify_drop_if_dead(aglm_graph *g, aglm_node *n)
{
    return n && aglm_node_graph(n) == g && is_dead(n) ? aglm_graph_remove_node(g, n) : AGLM_OK;
}

aglm_status simplify_forward(aglm_graph *g, aglm_node *n, aglm_value *out, aglm_value *in,
                             int *fired)
{
    *fired = 0;
    if (!out || !in || out == in)
        return AGLM_OK;
    if (aglm_value_dtype(out) != AGLM_UNDEFINED && aglm_value_dtype(in) != aglm_value_dtype(out))
        return AGLM_OK;
    if (aglm_value_is_graph_output(out) &&
        (aglm_value_is_graph_input(in) || aglm_value_is_graph_output(in) ||
         aglm_value_graph(in) != g))
        return AGLM_OK;
    aglm_status st = aglm_graph_replace_uses(g, out, in);
    if (st == AGLM_OK)
        st = simplify_drop_if_dead(g, n);
    *fired = st == AGLM_OK;
    return st;
}

static aglm_status simplify_graph(aglm_graph *g, size_t *rewrites)
{
    for (size_t i = 0; i < aglm_graph_num_nodes(g);) {
        aglm_node *n = aglm_graph_node(g, i);
        int fired = 0;
        aglm_status st = simplify_node(g, n, &fired);
        if (st != AGLM_OK)
            return st;
        if (!fired) {
            i++;
            continue;
        }
        if (++*rewrites >= MAX_REWRITES)
            return aglm_error(AGLM_ERR_INTERNAL, "simplify: no fixed point after %d rewrites",
                              MAX_REWRITES);
        i = 0;
    }
    return AGLM_OK;
}

static aglm_status simplify_run(void *state, aglm_graph *g, const aglm_options *opts, int *changed)
{
    (void)state;
    (void)opts;
    if (changed)
        *changed = 0;
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "simplify: no graph given");
    size_t rewrites = 0;
    aglm_status st = simplify_graph(g, &rewrites);
    if (rewrites) {
        aglm_graph_prune_values(g);
        if (changed)
            *changed = 1;
    }
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "simplify on graph '%s'",
                               aglm_graph_name(g) ? aglm_graph_name(g) : "?");
    return AGLM_OK;
}

static const aglm_pass_ops simplify_ops = {
    .struct_size = sizeof(aglm_pass_ops),
    .run = simplify_run,
};

AGLM_DEFINE_PLUGIN(.name = "simplify", .version = "1.0.0", .kind = AGLM_KIND_PASS,
                   .summary = "removes identities: x*1, x+0, Identity, Dropout, same-type Cast, "
                              "Reshape/Transpose chains, division by a constant",
                   .ops = &simplify_ops)
