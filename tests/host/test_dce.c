/* The dce pass, loaded through the registry and run through its ops table as the host runs it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aglm/aglm.h"
#include "config.h"
#include "registry.h"

typedef struct fixture {
    host_config cfg;
    host_registry *reg;
    aglm_plugin_ref *ref;
    const aglm_pass_ops *ops;
    void *state;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(host_registry_new(&f->cfg, &f->reg), AGLM_OK);
    char name[64] = "";
    if (host_registry_load(f->reg, AGLM_PLUGIN_DIR "/pass-dce.so", name) != AGLM_OK)
        fail_msg("loading pass-dce.so: %s", aglm_last_error());
    assert_string_equal(name, "dce");
    f->ref = host_registry_acquire(f->reg, "dce", AGLM_KIND_PASS);
    assert_non_null(f->ref);
    f->ops = host_ref_desc(f->ref)->ops;
    assert_true(f->ops->struct_size >= sizeof(aglm_pass_ops));
    f->state = host_ref_state(f->ref);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    host_registry_release(f->ref);
    host_registry_free(f->reg);
    free(f);
    return 0;
}

static int run_dce(fixture *f, aglm_graph *g)
{
    int changed = -1;
    if (f->ops->run(f->state, g, NULL, &changed) != AGLM_OK)
        fail_msg("dce: %s", aglm_last_error());
    assert_true(changed == 0 || changed == 1);
    if (aglm_graph_verify(g) != AGLM_OK)
        fail_msg("graph invalid after dce: %s", aglm_last_error());
    return changed;
}

/* Small builders: a value of f32[2,3] and a node with named outputs. */
static aglm_value *val(aglm_graph *g, const char *name)
{
    const aglm_dim dims[2] = {{2, NULL}, {3, NULL}};
    aglm_value *v = aglm_graph_new_value(g, name, AGLM_F32, 2, dims);
    assert_non_null(v);
    return v;
}

static aglm_node *node1(aglm_graph *g, const char *op, const char *name, aglm_value *in,
                        aglm_value *out)
{
    aglm_node *n = aglm_graph_add_node(g, op, NULL, name, in ? 1 : 0, &in, 1, &out);
    if (!n)
        fail_msg("add_node %s: %s", name, aglm_last_error());
    return n;
}

static aglm_node *node2(aglm_graph *g, const char *op, const char *name, aglm_value *a,
                        aglm_value *b, aglm_value *out)
{
    aglm_value *in[2] = {a, b};
    aglm_node *n = aglm_graph_add_node(g, op, NULL, name, 2, in, 1, &out);
    if (!n)
        fail_msg("add_node %s: %s", name, aglm_last_error());
    return n;
}

static int has_node(const aglm_graph *g, const char *name)
{
    for (size_t i = 0; i < aglm_graph_num_nodes(g); i++)
        if (strcmp(aglm_node_name(aglm_graph_node(g, i)), name) == 0)
            return 1;
    return 0;
}

/* x -> relu -> y (output); x -> sig -> s -> tanh -> t -> add(t, c) -> u: the second chain is dead.
 */
static void test_removes_dead_branch(void **state)
{
    fixture *f = *state;
    aglm_graph *g = aglm_graph_new("dead");
    aglm_value *x = val(g, "x"), *y = val(g, "y"), *s = val(g, "s"), *t = val(g, "t"),
               *u = val(g, "u");
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    float cdata[6] = {1, 2, 3, 4, 5, 6};
    aglm_tensor ct;
    aglm_tensor_wrap(&ct, AGLM_F32, 2, (const int64_t[]){2, 3}, cdata);
    aglm_value *c = aglm_graph_add_initializer(g, "c", &ct);
    assert_non_null(c);
    node1(g, "Sigmoid", "sig", x, s);
    node1(g, "Relu", "relu", x, y);
    node1(g, "Tanh", "tanh", s, t);
    node2(g, "Add", "add", t, c, u);
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);

    assert_int_equal(run_dce(f, g), 1);
    assert_int_equal(aglm_graph_num_nodes(g), 1);
    assert_true(has_node(g, "relu"));
    assert_null(aglm_graph_find_value(g, "s"));
    assert_null(aglm_graph_find_value(g, "t"));
    assert_null(aglm_graph_find_value(g, "u"));
    /* Inputs and outputs are what the user sees: untouched. */
    assert_int_equal(aglm_graph_num_inputs(g), 1);
    assert_ptr_equal(aglm_graph_input(g, 0), x);
    assert_int_equal(aglm_graph_num_outputs(g), 1);
    assert_ptr_equal(aglm_graph_output(g, 0), y);
    assert_string_equal(aglm_value_name(y), "y");
    assert_ptr_equal(aglm_value_producer(y), aglm_graph_node(g, 0));
    /* A second run finds nothing more. */
    assert_int_equal(run_dce(f, g), 0);
    aglm_graph_free(g);
}

static void test_nothing_dead(void **state)
{
    fixture *f = *state;
    aglm_graph *g = aglm_graph_new("live");
    aglm_value *x = val(g, "x"), *a = val(g, "a"), *b = val(g, "b"), *y = val(g, "y");
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    node1(g, "Relu", "relu", x, a);
    node1(g, "Sigmoid", "sig", x, b);
    node2(g, "Add", "add", a, b, y);
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    size_t values = aglm_graph_num_values(g);
    char *before = aglm_graph_to_text(g, 0);
    assert_non_null(before);

    assert_int_equal(run_dce(f, g), 0);
    assert_int_equal(aglm_graph_num_nodes(g), 3);
    assert_int_equal(aglm_graph_num_values(g), values);
    char *after = aglm_graph_to_text(g, 0);
    assert_non_null(after);
    assert_string_equal(before, after);
    free(before);
    free(after);
    aglm_graph_free(g);
}

/* A node stays when any one of its outputs is live; an output that is a graph output keeps its
 * producer even when that producer's other consumers die. */
static void test_partly_used_node_stays(void **state)
{
    fixture *f = *state;
    aglm_graph *g = aglm_graph_new("split");
    aglm_value *x = val(g, "x"), *p = val(g, "p"), *q = val(g, "q"), *r = val(g, "r"),
               *y = val(g, "y");
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    aglm_value *outs[2] = {p, q};
    assert_non_null(aglm_graph_add_node(g, "Split", NULL, "split", 1, &x, 2, outs));
    node1(g, "Relu", "relu", p, y);
    node1(g, "Neg", "neg_of_output", y, r); /* reads a graph output but is itself dead */
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(g, p), AGLM_OK);

    assert_int_equal(run_dce(f, g), 1);
    assert_int_equal(aglm_graph_num_nodes(g), 2);
    assert_true(has_node(g, "split"));
    assert_true(has_node(g, "relu"));
    assert_false(has_node(g, "neg_of_output"));
    /* q is still an output of the live Split, so it stays. */
    assert_non_null(aglm_graph_find_value(g, "q"));
    assert_null(aglm_graph_find_value(g, "r"));
    aglm_graph_free(g);
}

/* A value read only inside the subgraph of a live If is live; one read only by a dead node
 * inside that subgraph is not; a dead If takes its subgraphs and what only they read with it. */
static void test_uses_inside_subgraphs(void **state)
{
    fixture *f = *state;
    aglm_graph *g = aglm_graph_new("sub");
    aglm_value *cond = aglm_graph_new_value(g, "cond", AGLM_BOOL, 0, NULL);
    aglm_value *x = val(g, "x"), *r = val(g, "r"), *z = val(g, "z"), *w = val(g, "w");
    aglm_value *y = val(g, "y"), *dead_if_out = val(g, "dead_if_out");
    assert_int_equal(aglm_graph_add_input(g, cond), AGLM_OK);
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    node1(g, "Relu", "relu", x, r);   /* read only inside the live then-branch */
    node1(g, "Sigmoid", "sig", x, z); /* read only by a dead node inside that branch */
    node1(g, "Tanh", "tanh", x, w);   /* read only inside the dead If's branch */

    aglm_node *live_if = node1(g, "If", "live_if", cond, y);
    aglm_graph *then_g = aglm_graph_new_subgraph(g, "then");
    aglm_value *t = val(then_g, "t"), *dead_in_branch = val(then_g, "dead_in_branch");
    node2(then_g, "Add", "then_add", r, r, t);
    node1(then_g, "Neg", "then_dead", z, dead_in_branch);
    assert_int_equal(aglm_graph_add_output(then_g, t), AGLM_OK);
    assert_int_equal(aglm_node_set_graph(live_if, "then_branch", then_g), AGLM_OK);
    aglm_graph *else_g = aglm_graph_new_subgraph(g, "else");
    aglm_value *e = val(else_g, "e");
    node1(else_g, "Identity", "else_id", x, e);
    assert_int_equal(aglm_graph_add_output(else_g, e), AGLM_OK);
    assert_int_equal(aglm_node_set_graph(live_if, "else_branch", else_g), AGLM_OK);

    aglm_node *dead_if = node1(g, "If", "dead_if", cond, dead_if_out);
    aglm_graph *d_then = aglm_graph_new_subgraph(g, "d_then");
    aglm_value *dt = val(d_then, "dt");
    node1(d_then, "Identity", "d_then_id", w, dt);
    assert_int_equal(aglm_graph_add_output(d_then, dt), AGLM_OK);
    aglm_graph *d_else = aglm_graph_new_subgraph(g, "d_else");
    assert_int_equal(aglm_graph_add_output(d_else, x), AGLM_OK);
    aglm_graph *branches[2] = {d_then, d_else};
    assert_int_equal(aglm_node_set_graphs(dead_if, "branches", branches, 2), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    if (aglm_graph_verify(g) != AGLM_OK)
        fail_msg("test graph: %s", aglm_last_error());

    assert_int_equal(run_dce(f, g), 1);
    assert_true(has_node(g, "relu"));
    assert_true(has_node(g, "live_if"));
    assert_false(has_node(g, "sig"));
    assert_false(has_node(g, "tanh"));
    assert_false(has_node(g, "dead_if"));
    assert_int_equal(aglm_graph_num_nodes(g), 2);
    assert_true(has_node(then_g, "then_add"));
    assert_false(has_node(then_g, "then_dead"));
    assert_null(aglm_graph_find_value(then_g, "dead_in_branch"));
    assert_true(has_node(else_g, "else_id"));
    assert_null(aglm_graph_find_value(g, "z"));
    assert_null(aglm_graph_find_value(g, "w"));
    aglm_graph_free(g);
}

/* ---- IR text form: input IR, pass, expected IR ------------------------------------------- */

static aglm_graph *parse(const char *text)
{
    aglm_graph *g = NULL;
    if (aglm_graph_parse(text, &g) != AGLM_OK)
        fail_msg("parse: %s", aglm_last_error());
    return g;
}

/* Runs dce on `input` and compares the result with `expected`, both in the printer's form. */
static void check_text(fixture *f, const char *input, const char *expected, int want_changed)
{
    aglm_graph *g = parse(input), *e = parse(expected);
    assert_int_equal(run_dce(f, g), want_changed);
    char *got = aglm_graph_to_text(g, 0), *want = aglm_graph_to_text(e, 0);
    assert_non_null(got);
    assert_non_null(want);
    if (strcmp(got, want) != 0)
        fail_msg("after dce:\n%s\nexpected:\n%s", got, want);
    free(got);
    free(want);
    aglm_graph_free(g);
    aglm_graph_free(e);
}

static void test_text_dead_chain(void **state)
{
    check_text(*state,
               "graph g(%x: f32[2,3]) -> (%y: f32[2,3]) {\n"
               "  opset ai.onnx 17\n"
               "  %y: f32[2,3] = Relu(%x) @relu\n"
               "  %s: f32[2,3] = Sigmoid(%x) @sig\n"
               "  %t: f32[2,3] = Tanh(%s) @tanh\n"
               "}\n",
               "graph g(%x: f32[2,3]) -> (%y: f32[2,3]) {\n"
               "  opset ai.onnx 17\n"
               "  %y: f32[2,3] = Relu(%x) @relu\n"
               "}\n",
               1);
}

static void test_text_nothing_dead(void **state)
{
    const char *ir = "graph g(%x: f32[2]) -> (%y: f32[2]) {\n"
                     "  opset ai.onnx 17\n"
                     "  %a: f32[2] = Relu(%x) @relu\n"
                     "  %b: f32[2] = Sigmoid(%x) @sig\n"
                     "  %y: f32[2] = Add(%a, %b) @add\n"
                     "}\n";
    check_text(*state, ir, ir, 0);
}

static void test_text_subgraph_uses(void **state)
{
    check_text(*state,
               "graph m(%c: bool[], %x: f32[2]) -> (%y: f32[2]) {\n"
               "  opset ai.onnx 17\n"
               "  %r: f32[2] = Relu(%x) @relu\n"
               "  %z: f32[2] = Sigmoid(%x) @sig\n"
               "  %y: f32[2] = If(%c) {then_branch=graph t() -> (%t: f32[2]) {\n"
               "      %t: f32[2] = Add(%r, %r) @then_add\n"
               "      %d: f32[2] = Neg(%z) @then_dead\n"
               "    }, else_branch=graph e() -> (%e: f32[2]) {\n"
               "      %e: f32[2] = Identity(%x) @else_id\n"
               "    }} @choose\n"
               "  %w: f32[2] = Tanh(%y) @after\n"
               "}\n",
               "graph m(%c: bool[], %x: f32[2]) -> (%y: f32[2]) {\n"
               "  opset ai.onnx 17\n"
               "  %r: f32[2] = Relu(%x) @relu\n"
               "  %y: f32[2] = If(%c) {then_branch=graph t() -> (%t: f32[2]) {\n"
               "      %t: f32[2] = Add(%r, %r) @then_add\n"
               "    }, else_branch=graph e() -> (%e: f32[2]) {\n"
               "      %e: f32[2] = Identity(%x) @else_id\n"
               "    }} @choose\n"
               "}\n",
               1);
}

/* The same pass on a model read by the YAML frontend, as a pipeline runs them. */
static void test_yaml_model(void **state)
{
    fixture *f = *state;
    assert_int_equal(host_registry_load(f->reg, AGLM_PLUGIN_DIR "/frontend-yaml.so", NULL),
                     AGLM_OK);
    aglm_plugin_ref *fe = host_registry_acquire(f->reg, "yaml", AGLM_KIND_FRONTEND);
    assert_non_null(fe);
    const aglm_frontend_ops *ops = host_ref_desc(fe)->ops;
    aglm_graph *g = NULL;
    if (ops->load(host_ref_state(fe), AGLM_SOURCE_DIR "/tests/models/dead_branch.yaml", NULL, &g) !=
        AGLM_OK)
        fail_msg("dead_branch.yaml: %s", aglm_last_error());
    assert_int_equal(aglm_graph_num_nodes(g), 3);
    assert_int_equal(run_dce(f, g), 1);
    assert_int_equal(aglm_graph_num_nodes(g), 1);
    assert_true(has_node(g, "relu"));
    assert_string_equal(aglm_value_name(aglm_graph_output(g, 0)), "y");
    aglm_graph_free(g);
    host_registry_release(fe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_removes_dead_branch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partly_used_node_stays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uses_inside_subgraphs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_dead_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_nothing_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_subgraph_uses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_model, setup, teardown),
    };
    return cmocka_run_group_tests_name("dce", tests, NULL, NULL);
}
