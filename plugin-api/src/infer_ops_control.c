/* Control flow: If, Loop and Scan infer their bodies first (giving untyped body inputs the types
 * the node feeds them), then take their outputs' types from the bodies' outputs. */
#include "infer_internal.h"

static aglm_status value_type(const infer_ctx *c, aglm_value *v, infer_type *t)
{
    infer_type_unknown(t, AGLM_UNDEFINED);
    if (!v)
        return AGLM_OK;
    int rank = aglm_value_rank(v);
    if (rank > AGLM_MAX_RANK)
        return infer_err(c, AGLM_ERR_UNSUPPORTED, "value '%s' has rank %d, more than %d",
                         aglm_value_name(v), rank, AGLM_MAX_RANK);
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
    return infer_err(c, AGLM_ERR_TYPE, "condition must be bool, got %s",
                     infer_type_str(t, s, sizeof s));
}

/* Infers a branch on trial first: a branch that cannot be inferred (shapes only the other branch
 * can take, as when the condition tests the input's rank) is left as it is, since it never runs
 * on such inputs; *ok says which happened. */
static aglm_status branch(const infer_ctx *c, const char *name, aglm_graph **g, int *ok)
{
    const aglm_attr *a = aglm_node_attr(c->node, name);
    *g = a && aglm_attr_kind(a) == AGLM_ATTR_GRAPH ? aglm_attr_graph(a) : NULL;
    *ok = 0;
    if (!*g)
        return infer_err(c, AGLM_ERR_INVALID, "attribute '%s' (a graph) is missing", name);
    infer_undo *trial = infer_undo_new();
    if (!trial)
        return AGLM_ERR_NOMEM;
    aglm_status st = infer_graph(*g, trial);
    infer_undo_restore(trial);
    infer_undo_free(trial);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "node '%s' (%s): %s", c->name, c->op, name);
    *ok = 1;
    return body(c, name, g);
}

/* If: both branches produce as many outputs as the node has, pairwise of one dtype. */
static aglm_status if_rule(infer_ctx *c)
{
    aglm_graph *then_g, *else_g;
    int then_ok, else_ok;
    aglm_status st = need_bool_scalar(c, 0);
    if (st != AGLM_OK)
        return st;
    aglm_status st_then = branch(c, "then_branch", &then_g, &then_ok);
    if (st_then == AGLM_ERR_NOMEM || !then_g)
        return st_then;
    aglm_status st_else = branch(c, "else_branch", &else_g, &else_ok);
    if (st_else == AGLM_ERR_NOMEM || !else_g)
        return st_else;
    if (!then_ok && !else_ok)
        return branch(c, "then_branch", &then_g, &then_ok);
    size_t nt = aglm_graph_num_outputs(then_g), ne = aglm_graph_num_outputs(else_g);
    if (nt != c->n_out || ne != c->n_out)
        return infer_err(c, AGLM_ERR_INVALID,
                         "has %zu outputs but then_branch has %zu and else_branch %zu", c->n_out,
                         nt, ne);
    for (size_t i = 0; i < c->n_out; i++) {
        infer_type t, e, y;
        if ((st = value_type(c, aglm_graph_output(then_g, i), &t)) != AGLM_OK ||
            (st = value_type(c, aglm_graph_output(else_g, i), &e)) != AGLM_OK)
            return st;
        if (t.dtype != AGLM_UNDEFINED && e.dtype != AGLM_UNDEFINED && t.dtype != e.dtype) {
            char sthen[128], selse[128];
            return infer_err(
                c, AGLM_ERR_TYPE, "output %zu is %s in then_branch but %s in else_branch", i,
                infer_type_str(&t, sthen, sizeof sthen), infer_type_str(&e, selse, sizeof selse));
        }
        if (!then_ok)
            t = e;
        if (!else_ok)
            e = t;
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
                         "has %zu loop-carried values and %zu outputs, but its body has %zu inputs "
                         "and %zu outputs",
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

/* Gives an untyped body input type t. */
static aglm_status type_body_input(const infer_ctx *c, aglm_value *v, const infer_type *t)
{
    if (aglm_value_dtype(v) != AGLM_UNDEFINED)
        return AGLM_OK;
    return infer_set_value_type(c->undo, v, t->dtype, t->rank, t->dims);
}

/* t without dim `axis` (unknown shape stays unknown). */
static void drop_dim(const infer_type *t, int axis, infer_type *out)
{
    infer_type_unknown(out, t->dtype);
    if (t->rank <= 0 || axis < 0 || axis >= t->rank)
        return;
    out->rank = t->rank - 1;
    for (int i = 0, k = 0; i < t->rank; i++)
        if (i != axis)
            out->dims[k++] = t->dims[i];
}

/* t with dim d inserted at `axis`. */
static void insert_dim(const infer_type *t, int axis, aglm_dim d, infer_type *out)
{
    infer_type_unknown(out, t->dtype);
    if (t->rank < 0 || t->rank >= AGLM_MAX_RANK || axis < 0 || axis > t->rank)
        return;
    out->rank = t->rank + 1;
    for (int i = 0, k = 0; i < out->rank; i++)
        out->dims[i] = i == axis ? d : t->dims[k++];
}

static int64_t attr_at(const aglm_node *n, const char *name, size_t i)
{
    size_t count;
    const int64_t *v = aglm_node_get_ints(n, name, &count);
    return v && i < count ? v[i] : 0;
}

/* Scan: opset 9+ (states..., scan inputs...) with per-input and per-output axes; opset 8
 * (sequence_lens?, states..., scan inputs...) with a batch axis 0 and the sequence on axis 1. */
static aglm_status scan_rule(infer_ctx *c)
{
    const aglm_attr *a = aglm_node_attr(c->node, "body");
    aglm_graph *g = a && aglm_attr_kind(a) == AGLM_ATTR_GRAPH ? aglm_attr_graph(a) : NULL;
    if (!g)
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'body' (a graph) is missing");
    int v8 = c->opset < 9;
    size_t first = v8 ? 1 : 0;
    int64_t m = aglm_node_get_int(c->node, "num_scan_inputs", -1);
    if (m < 1 || (size_t)m + first > c->n_in)
        return infer_err(c, AGLM_ERR_INVALID, "attribute num_scan_inputs = %lld, with %zu inputs",
                         (long long)m, c->n_in);
    size_t n_state = c->n_in - first - (size_t)m;
    if (c->n_out < n_state || aglm_graph_num_inputs(g) != n_state + (size_t)m ||
        aglm_graph_num_outputs(g) != c->n_out)
        return infer_err(c, AGLM_ERR_INVALID,
                         "has %zu states, %lld scan inputs and %zu outputs, "
                         "but its body has %zu inputs and %zu outputs",
                         n_state, (long long)m, c->n_out, aglm_graph_num_inputs(g),
                         aglm_graph_num_outputs(g));
    aglm_dim len = infer_dim_unknown(), batch = infer_dim_unknown();
    aglm_status st = AGLM_OK;
    for (size_t j = 0; j < n_state + (size_t)m && st == AGLM_OK; j++) {
        const infer_type *t = &c->in[first + j];
        infer_type b = *t, tmp;
        int axis = 0;
        if (v8 && t->rank >= 1) {
            batch = infer_dim_merge(batch, t->dims[0]);
            drop_dim(t, 0, &b);
        }
        if (j >= n_state) {
            if (!v8) {
                axis = (int)attr_at(c->node, "scan_input_axes", j - n_state);
                if (t->rank >= 0 &&
                    (st = infer_axis(c, axis, t->rank, 0, t, "scan_input_axes", &axis)) != AGLM_OK)
                    break;
            }
            if (b.rank > axis)
                len = infer_dim_merge(len, b.dims[axis]);
            tmp = b;
            drop_dim(&tmp, axis, &b);
        }
        st = type_body_input(c, aglm_graph_input(g, j), &b);
    }
    if (st != AGLM_OK)
        return st;
    if ((st = infer_graph(g, c->undo)) != AGLM_OK)
        return aglm_error_wrap(st, "node '%s' (%s): body", c->name, c->op);
    for (size_t i = 0; i < c->n_out; i++) {
        infer_type b, y, tmp;
        if ((st = value_type(c, aglm_graph_output(g, i), &b)) != AGLM_OK)
            return st;
        if (i >= n_state) {
            int axis = v8 ? 0 : (int)attr_at(c->node, "scan_output_axes", i - n_state);
            if (b.rank >= 0 && axis < 0)
                axis += b.rank + 1;
            insert_dim(&b, axis, len, &tmp);
            b = tmp;
        }
        if (v8) {
            insert_dim(&b, 0, batch, &tmp);
            b = tmp;
        }
        if (i < n_state)
            common_type(&c->in[first + i], &b, &y);
        else
            y = b;
        infer_set_out(c, i, &y);
    }
    return AGLM_OK;
}

const infer_rule infer_rules_control[] = {
    {"If", if_rule},
    {"Loop", loop_rule},
    {"Scan", scan_rule},
    {NULL, NULL},
};
