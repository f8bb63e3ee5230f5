/* The verifier: a valid graph passes, and each rule the API lets a caller break is reported with
 * the graph, the node, the op and the rule in the message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

static aglm_value *val(aglm_graph *g, const char *name)
{
    aglm_dim d[1] = {{4, NULL}};
    aglm_value *v = aglm_graph_new_value(g, name, AGLM_F32, 1, d);
    assert_non_null(v);
    return v;
}

static aglm_node *node(aglm_graph *g, const char *op, const char *name, aglm_value *a,
                       aglm_value *b, aglm_value *out)
{
    aglm_value *ins[2] = {a, b}, *outs[1] = {out};
    aglm_node *n = aglm_graph_add_node(g, op, NULL, name, b ? 2 : 1, ins, out ? 1 : 0, outs);
    assert_non_null(n);
    return n;
}

static aglm_value *weight(aglm_graph *g, const char *name)
{
    float data[4] = {1, 2, 3, 4};
    int64_t dims[1] = {4};
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 1, dims, data);
    aglm_value *w = aglm_graph_add_initializer(g, name, &t);
    assert_non_null(w);
    return w;
}

/* Asserts verify fails with every fragment in the message. */
static void expect_error(const aglm_graph *g, const char *const *fragments)
{
    assert_int_equal(aglm_graph_verify(g), AGLM_ERR_INVALID);
    const char *msg = aglm_last_error();
    for (; *fragments; fragments++)
        if (!strstr(msg, *fragments))
            fail_msg("'%s' is not in the verifier's message: %s", *fragments, msg);
}

/* main(x) -> y: c = Conv(x, w); y = Relu(c) */
static aglm_graph *valid_graph(void)
{
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x"), *c = val(g, "c"), *y = val(g, "y");
    aglm_graph_add_input(g, x);
    aglm_value *w = weight(g, "w");
    node(g, "Conv", "conv1", x, w, c);
    node(g, "Relu", "relu1", c, NULL, y);
    aglm_graph_add_output(g, y);
    return g;
}

static void test_valid_graph_passes(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    /* Absent optional inputs and constants as outputs are fine. */
    aglm_node *conv = aglm_graph_node(g, 0);
    assert_int_equal(aglm_node_set_input(conv, 2, NULL), AGLM_OK);
    aglm_graph_add_output(g, aglm_graph_find_value(g, "w"));
    aglm_graph_add_output(g, aglm_graph_find_value(g, "x"));
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    assert_int_equal(aglm_graph_verify(NULL), AGLM_ERR_INVALID);
    aglm_graph_free(g);
}

static void test_used_before_defined(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x"), *w = val(g, "w"), *c = val(g, "c");
    aglm_graph_add_input(g, x);
    node(g, "Conv", "conv1", x, w, c);
    node(g, "Neg", "make_w", x, NULL, w);
    aglm_graph_add_output(g, c);
    expect_error(
        g,
        (const char *[]){
            "graph 'main': node 'conv1' (Conv): input 1 'w' is used before it is defined", NULL});
    assert_int_equal(aglm_graph_toposort(g), AGLM_OK);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    aglm_graph_free(g);
}

static void test_input_never_defined(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    aglm_value *ghost = val(g, "ghost");
    assert_int_equal(aglm_node_set_input(aglm_graph_node(g, 1), 1, ghost), AGLM_OK);
    expect_error(g, (const char *[]){"graph 'main'", "node 'relu1' (Relu)", "input 1 'ghost'",
                                     "never defined", NULL});
    aglm_graph_free(g);
}

static void test_output_never_defined(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    aglm_graph_add_output(g, val(g, "dangling"));
    expect_error(g, (const char *[]){"graph 'main'", "output 1 'dangling'", "never defined", NULL});
    aglm_graph_free(g);
}

static void test_input_also_produced(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    aglm_value *y = aglm_graph_find_value(g, "y");
    assert_int_equal(aglm_graph_add_input(g, y), AGLM_OK);
    expect_error(g, (const char *[]){"graph 'main'", "input 1 'y'", "node 'relu1' (Relu)", NULL});
    aglm_graph_free(g);
}

static void test_constant_with_producer(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    aglm_value *c = aglm_graph_find_value(g, "c");
    float f[4] = {0};
    int64_t d[1] = {4};
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 1, d, f);
    assert_int_equal(aglm_value_set_const(c, &t),
                     AGLM_OK); /* folded, but its node is still there */
    expect_error(g,
                 (const char *[]){"graph 'main'", "'c'",
                                  "both a constant and the output of node 'conv1' (Conv)", NULL});
    aglm_graph_free(g);
}

static void test_constant_type_mismatch(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    aglm_value *w = aglm_graph_find_value(g, "w");
    aglm_dim d[2] = {{2, NULL}, {2, NULL}};
    assert_int_equal(aglm_value_set_type(w, AGLM_F32, 2, d), AGLM_OK);
    expect_error(g, (const char *[]){"graph 'main'", "constant 'w'", "f32[2,2]", "f32[4]", NULL});
    aglm_graph_free(g);
}

static void test_subgraph_errors_name_the_path(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    aglm_value *cond = aglm_graph_new_value(g, "cond", AGLM_BOOL, 0, NULL), *r = val(g, "r");
    aglm_graph_add_input(g, cond);
    aglm_node *ifn = node(g, "If", "if1", cond, NULL, r);
    aglm_graph *then_g = aglm_graph_new_subgraph(g, "then_body");
    aglm_value *t = val(then_g, "t"), *undefined = val(then_g, "u");
    node(then_g, "Add", "inner_add", aglm_graph_find_value(g, "y"), undefined, t);
    aglm_graph_add_output(then_g, t);
    assert_int_equal(aglm_node_set_graph(ifn, "then_branch", then_g), AGLM_OK);
    expect_error(g,
                 (const char *[]){"graph 'main': node 'if1' (If): attribute 'then_branch'",
                                  "graph 'then_body': node 'inner_add' (Add): input 1 'u'", NULL});
    /* Defined now: the subgraph verifies, on its own and within main. */
    aglm_node *mk = node(then_g, "Neg", "mk_u", aglm_graph_find_value(g, "x"), NULL, undefined);
    expect_error(g, (const char *[]){"inner_add", "before it is defined", NULL});
    assert_int_equal(aglm_graph_toposort(then_g), AGLM_OK);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    assert_int_equal(aglm_graph_verify(then_g), AGLM_OK);
    (void)mk;
    aglm_graph_free(g);
}

static void test_subgraph_reads_outer_value_defined_later(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *cond = aglm_graph_new_value(g, "cond", AGLM_BOOL, 0, NULL), *x = val(g, "x"),
               *r = val(g, "r"), *late = val(g, "late");
    aglm_graph_add_input(g, cond);
    aglm_graph_add_input(g, x);
    aglm_node *ifn = node(g, "If", "if1", cond, NULL, r);
    aglm_graph *body = aglm_graph_new_subgraph(g, "then_body");
    aglm_value *t = val(body, "t");
    node(body, "Neg", "reads_late", late, NULL, t);
    aglm_graph_add_output(body, t);
    aglm_node_set_graph(ifn, "then_branch", body);
    node(g, "Neg", "make_late", x, NULL, late);
    aglm_graph_add_output(g, r);
    expect_error(
        g, (const char *[]){"node 'if1' (If)",
                            "node 'reads_late' (Neg): input 0 'late' is used before it is defined",
                            NULL});
    assert_int_equal(aglm_graph_toposort(g), AGLM_OK);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    aglm_graph_free(g);
}

static void test_subgraph_value_shadows_outer(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    aglm_value *cond = aglm_graph_new_value(g, "cond", AGLM_BOOL, 0, NULL), *r = val(g, "r");
    aglm_graph_add_input(g, cond);
    aglm_node *ifn = node(g, "If", "if1", cond, NULL, r);
    aglm_graph *body = aglm_graph_new_subgraph(g, "then_body");
    aglm_value *c = val(body, "c"); /* main has a 'c' too */
    node(body, "Neg", "n", aglm_graph_find_value(g, "x"), NULL, c);
    aglm_graph_add_output(body, c);
    aglm_node_set_graph(ifn, "then_branch", body);
    expect_error(g, (const char *[]){"graph 'then_body'",
                                     "value 'c' shadows a value of enclosing graph 'main'", NULL});
    aglm_graph_free(g);
}

static void test_outer_output_and_detached_subgraph(void **state)
{
    (void)state;
    aglm_graph *g = valid_graph();
    aglm_value *cond = aglm_graph_new_value(g, "cond", AGLM_BOOL, 0, NULL), *r = val(g, "r");
    aglm_graph_add_input(g, cond);
    aglm_node *ifn = node(g, "If", "if1", cond, NULL, r);
    aglm_graph *body = aglm_graph_new_subgraph(g, "pass_through");
    aglm_graph_add_output(body, aglm_graph_find_value(g, "x")); /* outer values may be outputs */
    aglm_node_set_graph(ifn, "then_branch", body);
    aglm_graph *wip = aglm_graph_new_subgraph(g, "not_attached_yet");
    aglm_value *t = val(wip, "t");
    node(wip, "Neg", "n", aglm_graph_find_value(g, "y"), NULL, t);
    aglm_graph_add_output(wip, aglm_graph_find_value(g, "c"));
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    aglm_graph_free(wip);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_graph_passes),
        cmocka_unit_test(test_used_before_defined),
        cmocka_unit_test(test_input_never_defined),
        cmocka_unit_test(test_output_never_defined),
        cmocka_unit_test(test_input_also_produced),
        cmocka_unit_test(test_constant_with_producer),
        cmocka_unit_test(test_constant_type_mismatch),
        cmocka_unit_test(test_subgraph_errors_name_the_path),
        cmocka_unit_test(test_subgraph_reads_outer_value_defined_later),
        cmocka_unit_test(test_subgraph_value_shadows_outer),
        cmocka_unit_test(test_outer_output_and_detached_subgraph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
