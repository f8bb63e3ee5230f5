/* The shape-inference driver: finds a node's rule, checks its arity, hands it the input types and
 * writes back what it inferred. aglm_infer_shapes is all or nothing: on failure every value it
 * changed gets its previous type back.
 *
 * Writing back merges: where a rule knows less than the value already says (an unknown dim or
 * shape, say from a frontend's declared value_info), the value keeps what it had; where the rule
 * knows something, the rule wins. */
#include <stdlib.h>
#include <string.h>
#include "aglm/op_schema.h"
#include "infer_internal.h"

/* ---- undo log ------------------------------------------------------------------------------ */

typedef struct undo_entry {
    aglm_value *v;
    aglm_dtype dtype;
    int rank;
    aglm_dim *dims; /* rank entries; symbol strings owned */
} undo_entry;

struct infer_undo {
    undo_entry *e;
    size_t n, cap;
};

infer_undo *infer_undo_new(void)
{
    infer_undo *u = calloc(1, sizeof *u);
    if (!u)
        aglm_error(AGLM_ERR_NOMEM, "shape inference: out of memory");
    return u;
}

static void entry_free(undo_entry *e)
{
    for (int i = 0; i < e->rank; i++)
        free((char *)e->dims[i].sym);
    free(e->dims);
}

void infer_undo_free(infer_undo *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++)
        entry_free(&u->e[i]);
    free(u->e);
    free(u);
}

void infer_undo_restore(infer_undo *u)
{
    if (!u)
        return;
    for (size_t i = u->n; i-- > 0;) {
        undo_entry *e = &u->e[i];
        /* best effort: the types being restored were accepted before, so this cannot fail short of
         * memory exhaustion */
        (void)aglm_value_set_type(e->v, e->dtype, e->rank, e->rank > 0 ? e->dims : NULL);
    }
}

static aglm_status undo_record(infer_undo *u, aglm_value *v)
{
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        undo_entry *e = realloc(u->e, cap * sizeof *e);
        if (!e)
            return aglm_error(AGLM_ERR_NOMEM, "shape inference: out of memory");
        u->e = e;
        u->cap = cap;
    }
    undo_entry ent = {v, aglm_value_dtype(v), aglm_value_rank(v), NULL};
    if (ent.rank > 0) {
        ent.dims = calloc((size_t)ent.rank, sizeof *ent.dims);
        if (!ent.dims)
            return aglm_error(AGLM_ERR_NOMEM, "shape inference: out of memory");
        for (int i = 0; i < ent.rank; i++) {
            aglm_dim d = aglm_value_dim(v, i);
            ent.dims[i].value = d.value;
            if (d.sym && !(ent.dims[i].sym = strdup(d.sym))) {
                ent.rank = i;
                entry_free(&ent);
                return aglm_error(AGLM_ERR_NOMEM, "shape inference: out of memory");
            }
        }
    } else if (ent.rank < 0) {
        ent.rank = -1;
    }
    u->e[u->n++] = ent;
    return AGLM_OK;
}

static int same_type(const aglm_value *v, aglm_dtype dt, int rank, const aglm_dim *dims)
{
    if (aglm_value_dtype(v) != dt || aglm_value_rank(v) != rank)
        return 0;
    for (int i = 0; i < rank; i++) {
        aglm_dim d = aglm_value_dim(v, i);
        if (d.value != dims[i].value)
            return 0;
        if ((d.sym == NULL) != (dims[i].sym == NULL) || (d.sym && strcmp(d.sym, dims[i].sym) != 0))
            return 0;
    }
    return 1;
}

aglm_status infer_set_value_type(infer_undo *undo, aglm_value *v, aglm_dtype dt, int rank,
                                 const aglm_dim *dims)
{
    if (rank > 0 && same_type(v, dt, rank, dims))
        return AGLM_OK;
    if (rank <= 0 && aglm_value_dtype(v) == dt && aglm_value_rank(v) == rank)
        return AGLM_OK;
    if (undo) {
        aglm_status st = undo_record(undo, v);
        if (st != AGLM_OK)
            return st;
    }
    return aglm_value_set_type(v, dt, rank, rank > 0 ? dims : NULL);
}

/* ---- rules --------------------------------------------------------------------------------- */

static const infer_rule *const rule_tables[] = {
    infer_rules_elementwise, infer_rules_math,  infer_rules_nn,      infer_rules_tensor,
    infer_rules_index,       infer_rules_const, infer_rules_control, infer_rules_seq,
    infer_rules_einsum,      infer_rules_image, infer_rules_signal,  infer_rules_norm,
    infer_rules_aglm,
};

static int onnx_domain(const char *domain)
{
    return !domain || domain[0] == '\0' || strcmp(domain, "ai.onnx") == 0;
}

/* 1 when rule name `name` is op `op` of `domain`: plain for ai.onnx, "domain.Op" for others. */
static int rule_names(const char *name, const char *op, const char *domain)
{
    if (onnx_domain(domain))
        return strcmp(name, op) == 0;
    size_t len = strlen(domain);
    return strncmp(name, domain, len) == 0 && name[len] == '.' && strcmp(name + len + 1, op) == 0;
}

static const infer_rule *find_rule(const char *op, const char *domain)
{
    if (!op)
        return NULL;
    for (size_t t = 0; t < sizeof rule_tables / sizeof rule_tables[0]; t++)
        for (const infer_rule *r = rule_tables[t]; r->op; r++)
            if (rule_names(r->op, op, domain))
                return r;
    return NULL;
}

AGLM_API int aglm_infer_has_rule(const char *op, const char *domain)
{
    return find_rule(op, domain) != NULL;
}

int64_t infer_opset(const aglm_graph *g)
{
    for (; g; g = aglm_graph_parent(g)) {
        int64_t v = aglm_graph_opset(g, "");
        if (v <= 0)
            v = aglm_graph_opset(g, "ai.onnx");
        if (v > 0)
            return v;
    }
    return INFER_NEWEST_OPSET;
}

/* Writes output i back, keeping what the value already knows where the rule knows less. */
static aglm_status apply_output(infer_ctx *c, size_t i)
{
    aglm_value *v = aglm_node_output(c->node, i);
    if (!v)
        return AGLM_OK;
    infer_type t = c->out[i];
    int old_rank = aglm_value_rank(v);
    if (t.dtype == AGLM_UNDEFINED)
        t.dtype = aglm_value_dtype(v);
    if (old_rank >= 0 && old_rank <= AGLM_MAX_RANK) {
        if (t.rank < 0) {
            t.rank = old_rank;
            for (int k = 0; k < old_rank; k++)
                t.dims[k] = aglm_value_dim(v, k);
        } else if (t.rank == old_rank) {
            for (int k = 0; k < t.rank; k++)
                if (!infer_dim_is_static(t.dims[k]) && !t.dims[k].sym)
                    t.dims[k] = aglm_value_dim(v, k);
        }
    }
    return infer_set_value_type(c->undo, v, t.dtype, t.rank, t.dims);
}

static aglm_status load_input(infer_ctx *c, size_t i, infer_type *t, unsigned char *present)
{
    aglm_value *v = aglm_node_input(c->node, i);
    infer_type_unknown(t, AGLM_UNDEFINED);
    *present = v != NULL;
    if (!v)
        return AGLM_OK;
    t->dtype = aglm_value_dtype(v);
    int rank = aglm_value_rank(v);
    if (rank > AGLM_MAX_RANK)
        return infer_err(c, AGLM_ERR_UNSUPPORTED, "input %zu ('%s') has rank %d, more than %d", i,
                         aglm_value_name(v), rank, AGLM_MAX_RANK);
    t->rank = rank < 0 ? -1 : rank;
    for (int k = 0; k < t->rank; k++)
        t->dims[k] = aglm_value_dim(v, k);
    return AGLM_OK;
}

static aglm_status infer_one(aglm_node *n, const infer_rule *r, infer_undo *undo)
{
    infer_ctx c = {0};
    c.node = n;
    c.op = aglm_node_op(n);
    c.name = aglm_node_name(n) ? aglm_node_name(n) : "";
    c.opset = infer_opset(aglm_node_graph(n));
    c.n_in = aglm_node_num_inputs(n);
    c.n_out = aglm_node_num_outputs(n);
    c.undo = undo;

    infer_type *in = calloc(c.n_in + 1, sizeof *in);
    unsigned char *present = calloc(c.n_in + 1, 1);
    infer_type *out = calloc(c.n_out + 1, sizeof *out);
    unsigned char *out_set = calloc(c.n_out + 1, 1);
    aglm_status st = AGLM_OK;
    if (!in || !present || !out || !out_set) {
        st = aglm_error(AGLM_ERR_NOMEM, "node '%s' (%s): out of memory", c.name, c.op);
        goto done;
    }
    c.in = in;
    c.present = present;
    c.out = out;
    c.out_set = out_set;
    for (size_t i = 0; i < c.n_in && st == AGLM_OK; i++)
        st = load_input(&c, i, &in[i], &present[i]);
    if (st == AGLM_OK)
        st = aglm_node_check_arity(n); /* the op schema's arity, so rules see what they expect */
    if (st == AGLM_OK)
        st = r->fn(&c);
    for (size_t i = 0; i < c.n_out && st == AGLM_OK; i++)
        if (out_set[i])
            st = apply_output(&c, i);
done:
    free(in);
    free(present);
    free(out);
    free(out_set);
    return st;
}

/* Infers the subgraphs of a node no rule knows, so their own values still get types. */
static aglm_status infer_subgraphs(aglm_node *n, infer_undo *undo)
{
    for (size_t i = 0; i < aglm_node_num_attrs(n); i++) {
        const aglm_attr *a = aglm_node_attr_at(n, i);
        for (size_t k = 0; k < aglm_attr_num_graphs(a); k++) {
            aglm_status st = infer_graph(aglm_attr_graph_at(a, k), undo);
            if (st != AGLM_OK)
                return aglm_error_wrap(st, "node '%s' (%s): %s", aglm_node_name(n), aglm_node_op(n),
                                       aglm_attr_name(a));
        }
    }
    return AGLM_OK;
}

static aglm_status infer_node_logged(aglm_node *n, infer_undo *undo)
{
    const infer_rule *r = find_rule(aglm_node_op(n), aglm_node_domain(n));
    if (!r)
        return infer_subgraphs(n, undo);
    return infer_one(n, r, undo);
}

aglm_status infer_graph(aglm_graph *g, infer_undo *undo)
{
    size_t count = aglm_graph_num_nodes(g);
    for (size_t i = 0; i < count; i++) {
        aglm_status st = infer_node_logged(aglm_graph_node(g, i), undo);
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

aglm_status infer_rollback(infer_undo *u, aglm_status st)
{
    char *msg = strdup(aglm_last_error());
    infer_undo_restore(u);
    if (msg) {
        aglm_error(st, "%s", msg);
        free(msg);
    }
    return st;
}

/* Runs fn under an undo log: on failure every changed type is put back. */
static aglm_status transactional(aglm_status (*fn)(void *, infer_undo *), void *arg)
{
    infer_undo *undo = infer_undo_new();
    if (!undo)
        return AGLM_ERR_NOMEM;
    aglm_status st = fn(arg, undo);
    if (st != AGLM_OK)
        infer_rollback(undo, st);
    infer_undo_free(undo);
    return st;
}

static aglm_status graph_fn(void *g, infer_undo *undo)
{
    return infer_graph(g, undo);
}

static aglm_status node_fn(void *n, infer_undo *undo)
{
    return infer_node_logged(n, undo);
}

AGLM_API aglm_status aglm_infer_shapes(aglm_graph *g)
{
    if (!g)
        return aglm_error(AGLM_ERR_INVALID, "infer shapes: graph is NULL");
    return transactional(graph_fn, g);
}

AGLM_API aglm_status aglm_infer_node(aglm_node *n)
{
    if (!n)
        return aglm_error(AGLM_ERR_INVALID, "infer node: node is NULL");
    return transactional(node_fn, n);
}
