/* Control flow: If and Loop infer their bodies first, then take their outputs' types from the
 * bodies' outputs. */
#include "infer_internal.h"

static aglm_status value_type(const infer_ctx *c, aglm_value *v, infer_type *t)
{
    infer_type_unknown(t, AGLM_UNDEFINED);
    if (!v)
        return AGLM_OK;
    int rank = aglm_value_rank(v);
    if (rank > AGLM_MAX_RANK)
        return infer_err(c, AGLM_ERR_UNSUPPORTED, "value '%s' has rank %d, more than %d", aglm_value_name(v), rank,
                         AGLM_MAX_RANK);
    t->dtype = aglm_value_dtype(v);
    t->rank = rank < 0 ? -1 : rank;
    for (int i = 0; i < t->rank; i++)
        t->dims[i] = aglm_value_dim(v, i);
    return AGLM_OK;
}

/* What two possible types of one value have in common: dims that agree stay, others become
 * unknown; different ranks give an unknown shape. */
static void common_type(const infer_type *a, const infer_type *b, infer_type *out)
{
    infer_type_unknown(out, a->dtype != AGLM_UNDEFINED ? a->dtype : b->dtype);
    if (a->rank < 0 || a->rank != b->rank)
        return;
    out->rank = a->rank;
    for (int i = 0; i < a->rank; i++)
        out->dims[i] = infer_dim_same(a->dims[i], b->dims[i]) ? a->dims[i] : infer_dim_unknown();
}

static aglm_status body(const infer_ctx *c, const char *name, aglm_graph **g)
{
    const aglm_attr *a = aglm_node_attr(c->node, name);
    *g = a && aglm_attr_kind(a) == AGLM_ATTR_GRAPH ? aglm_attr_graph(a) : NULL;
    if (!*g)
        return infer_err(c, AGLM_ERR_INVALID, "attribute '%s' (a graph) is missing", name);
    aglm_status st = infer_graph(*g, c->undo);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "node '%s' (%s): %s", c->name, c->op, name);
    return AGLM_OK;
}

static aglm_status need_bool_scalar(const infer_ctx *c, size_t i)
{
    const infer_type *t = &c->in[i];
    if (!infer_has_in(c, i) || t->dtype == AGLM_UNDEFINED || t->dtype == AGLM_BOOL)
        return AGLM_OK;
    char s[128];
    return infer_err(c, AGLM_ERR_TYPE, "condition must be bool, got %s", infer_type_str(t, s, sizeof s));
}

/* If: both branches produce as many outputs as the node has, pairwise of one dtype. */
static aglm_status if_rule(infer_ctx *c)
{
    aglm_graph *then_g, *else_g;
    aglm_status st;
    if ((st = need_bool_scalar(c, 0)) != AGLM_OK || (st = body(c, "then_branch", &then_g)) != AGLM_OK ||
        (st = body(c, "else_branch", &else_g)) != AGLM_OK)
        return st;
    size_t nt = aglm_graph_num_outputs(then_g), ne = aglm_graph_num_outputs(else_g);
    if (nt != c->n_out || ne != c->n_out)
        return infer_err(c, AGLM_ERR_INVALID, "has %zu outputs but then_branch has %zu and else_branch %zu", c->n_out,
                         nt, ne);
    for (size_t i = 0; i < c->n_out; i++) {
        infer_type t, e, y;
        if ((st = value_type(c, aglm_graph_output(then_g, i), &t)) != AGLM_OK ||
            (st = value_type(c, aglm_graph_output(else_g, i), &e)) != AGLM_OK)
            return st;
        if (t.dtype != AGLM_UNDEFINED && e.dtype != AGLM_UNDEFINED && t.dtype != e.dtype) {
            char sthen[128], selse[128];
            return infer_err(c, AGLM_ERR_TYPE, "output %zu is %s in then_branch but %s in else_branch", i,
                             infer_type_str(&t, sthen, sizeof sthen), infer_type_str(&e, selse, sizeof selse));
        }
        common_type(&t, &e, &y);
        infer_set_out(c, i, &y);
    }
    return AGLM_OK;
}

/* Loop(M, cond, v_initial...): body(iter, cond, v...) -> (cond, v..., scan...). Outputs: the
 * final loop-carried values, then each scan output stacked along a new leading axis. */
static aglm_status loop_rule(infer_ctx *c)
{
    const aglm_attr *a = aglm_node_attr(c->node, "body");
    aglm_graph *g = a && aglm_attr_kind(a) == AGLM_ATTR_GRAPH ? aglm_attr_graph(a) : NULL;
    if (!g)
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'body' (a graph) is missing");
    aglm_status st = need_bool_scalar(c, 1);
    if (st != AGLM_OK)
        return st;
    size_t n_carried = c->n_in >= 2 ? c->n_in - 2 : 0;
    size_t n_body_in = aglm_graph_num_inputs(g), n_body_out = aglm_graph_num_outputs(g);
    if (n_body_in != n_carried + 2 || n_body_out < n_carried + 1 || c->n_out != n_body_out - 1)
        return infer_err(c, AGLM_ERR_INVALID,
                         "has %zu loop-carried values and %zu outputs, but its body has %zu inputs and %zu outputs",
                         n_carried, c->n_out, n_body_in, n_body_out);
    /* body inputs the model left untyped take the types the loop feeds them */
    for (size_t j = 0; j < n_body_in; j++) {
        aglm_value *v = aglm_graph_input(g, j);
        if (aglm_value_dtype(v) != AGLM_UNDEFINED)
            continue;
        if (j == 0)
            st = infer_set_value_type(c->undo, v, AGLM_I64, 0, NULL);
        else if (j == 1)
            st = infer_set_value_type(c->undo, v, AGLM_BOOL, 0, NULL);
        else
            st = infer_set_value_type(c->undo, v, c->in[j].dtype, c->in[j].rank, c->in[j].dims);
        if (st != AGLM_OK)
            return st;
    }
    if ((st = infer_graph(g, c->undo)) != AGLM_OK)
        return aglm_error_wrap(st, "node '%s' (%s): body", c->name, c->op);
    for (size_t i = 0; i < c->n_out; i++) {
        infer_type b, y;
        if ((st = value_type(c, aglm_graph_output(g, i + 1), &b)) != AGLM_OK)
            return st;
        if (i < n_carried) {
            common_type(&c->in[i + 2], &b, &y);
        } else {
            infer_type_unknown(&y, b.dtype);
            if (b.rank >= 0 && b.rank < AGLM_MAX_RANK) {
                y.rank = b.rank + 1;
                y.dims[0] = infer_dim_unknown();
                for (int k = 0; k < b.rank; k++)
                    y.dims[k + 1] = b.dims[k];
            }
        }
        infer_set_out(c, i, &y);
    }
    return AGLM_OK;
}

const infer_rule infer_rules_control[] = {
    {"If", if_rule, 1, 1, 0, INFER_VARIADIC},
    {"Loop", loop_rule, 0, INFER_VARIADIC, 0, INFER_VARIADIC},
    {NULL, NULL, 0, 0, 0, 0},
};
