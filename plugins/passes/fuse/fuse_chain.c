/* fuse: a run of element-wise ops, each the only reader of the one before, becomes one
 * aglm.Elementwise (docs/extension-ops.md) that runs the run as a small program per element in
 * one pass over memory. Taken when the run has at least 3 ops (so at least 2 nodes go):
 *
 *   unary ops without attributes: Relu, Sigmoid, Tanh, Exp, Log, Abs, Neg, Sqrt, Reciprocal,
 *     Erf, HardSwish, Floor, Ceil;
 *   binary Add, Sub, Mul, Div, Max, Min (two inputs) whose other operand is a constant f32
 *     scalar of rank at most the value's, or a tensor known to have the value's exact type;
 *
 * every value f32, every output of the value's exact type (no broadcasting widens it). The
 * first op's input (input 0 when both are tensors) is the program's x. */
#include "fuse_match.h"

#include <stdio.h>
#include <string.h>

#define MAX_STEPS 32
#define MAX_OPERANDS AGLM_ELEMENTWISE_MAX_OPERANDS

static const char *const unary_ops[] = {
    "Relu", "Sigmoid",    "Tanh", "Exp",       "Log",   "Abs",  "Neg",
    "Sqrt", "Reciprocal", "Erf",  "HardSwish", "Floor", "Ceil", NULL,
};
static const char *const binary_ops[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", NULL};

/* The entry of `ops` naming n's op (static, so it outlives n), or NULL. */
static const char *listed(const aglm_node *n, const char *const *ops)
{
    for (size_t i = 0; ops[i]; i++)
        if (aglm_node_is(n, "", ops[i]))
            return ops[i];
    return NULL;
}

typedef struct chain {
    aglm_node *nodes[MAX_STEPS];
    const char *ops[MAX_STEPS];
    int64_t operand[MAX_STEPS]; /* -1 none, 0 the scalar, k >= 1 input k */
    float scalar[MAX_STEPS];
    int64_t reversed[MAX_STEPS]; /* 1: op(operand, value) */
    size_t n;
    aglm_value *inputs[1 + MAX_OPERANDS];
    size_t n_inputs;
} chain;

/* Adds node u as the next step on value v (the value so far); 0 when u is not such a step. */
static int add_step(chain *c, aglm_node *u, aglm_value *v)
{
    if (c->n >= MAX_STEPS || aglm_node_num_outputs(u) != 1 || aglm_node_num_attrs(u) != 0 ||
        !fuse_same_type(aglm_node_output(u, 0), v))
        return 0;
    size_t i = c->n;
    const char *unary = listed(u, unary_ops), *binary = listed(u, binary_ops);
    c->operand[i] = -1;
    c->scalar[i] = 0.0f;
    c->reversed[i] = 0;
    if (unary) {
        if (aglm_node_num_inputs(u) != 1 || aglm_node_input(u, 0) != v)
            return 0;
    } else if (binary) {
        aglm_value *o = fuse_other_input(u, v);
        int rank;
        if (!o)
            return 0;
        c->reversed[i] = aglm_node_input(u, 1) == v;
        if (fuse_scalar(o, &c->scalar[i], &rank) && rank <= aglm_value_rank(v)) {
            c->operand[i] = 0;
        } else if (fuse_same_type(o, v)) {
            size_t k = 1;
            while (k < c->n_inputs && c->inputs[k] != o)
                k++;
            if (k == c->n_inputs) {
                if (c->n_inputs > MAX_OPERANDS)
                    return 0;
                c->inputs[c->n_inputs++] = o;
            }
            c->operand[i] = (int64_t)k;
        } else {
            return 0;
        }
    } else {
        return 0;
    }
    c->nodes[i] = u;
    c->ops[i] = unary ? unary : binary;
    c->n++;
    return 1;
}

static int match_chain(aglm_node *first, chain *c)
{
    memset(c, 0, sizeof *c);
    if (aglm_node_num_inputs(first) < 1 || !aglm_node_input(first, 0))
        return 0;
    aglm_value *x = aglm_node_input(first, 0);
    if (aglm_value_dtype(x) != AGLM_F32 || aglm_value_rank(x) < 0)
        return 0;
    c->inputs[c->n_inputs++] = x;
    if (!add_step(c, first, x))
        return 0;
    for (aglm_node *u;
         c->n < MAX_STEPS && (u = fuse_sole_user(aglm_node_output(c->nodes[c->n - 1], 0)));)
        if (!add_step(c, u, aglm_node_output(c->nodes[c->n - 1], 0)))
            break;
    return c->n >= 3;
}

static aglm_status rewrite_chain(aglm_graph *g, const chain *c)
{
    char name[256];
    snprintf(name, sizeof name, "%s", aglm_node_name(c->nodes[0]));
    aglm_value *last = aglm_node_output(c->nodes[c->n - 1], 0);
    aglm_status st = fuse_import_aglm(g);
    for (size_t i = c->n; i-- > 0 && st == AGLM_OK;)
        st = aglm_graph_remove_node(g, c->nodes[i]);
    if (st != AGLM_OK)
        return st;
    aglm_node *n = aglm_graph_add_node(g, AGLM_OP_ELEMENTWISE, AGLM_DOMAIN, name, c->n_inputs,
                                       c->inputs, 1, &last);
    if (!n)
        return aglm_error(AGLM_ERR_NOMEM, "adding the fused Elementwise node");
    st = aglm_node_set_strings(n, AGLM_ATTR_OPS, c->ops, c->n);
    if (st == AGLM_OK)
        st = aglm_node_set_ints(n, AGLM_ATTR_OPERANDS, c->operand, c->n);
    if (st == AGLM_OK)
        st = aglm_node_set_floats(n, AGLM_ATTR_SCALARS, c->scalar, c->n);
    if (st == AGLM_OK)
        st = aglm_node_set_ints(n, AGLM_ATTR_REVERSED, c->reversed, c->n);
    return st;
}

aglm_status fuse_chains(aglm_graph *g, size_t *count)
{
    aglm_status st = AGLM_OK;
    for (size_t i = 0; i < aglm_graph_num_nodes(g) && st == AGLM_OK; i++) {
        chain c;
        if (!match_chain(aglm_graph_node(g, i), &c))
            continue;
        st = rewrite_chain(g, &c);
        ++*count;
        i = (size_t)-1; /* nodes were removed and one appended: scan again */
    }
    return st;
}
