/* The graph IR through its public API: values, names, constants, nodes and use lists,
 * replace_uses, subgraphs and their outer references, clone, toposort, attributes, pruning. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

static aglm_value *val(aglm_graph *g, const char *name)
{
    aglm_dim d[2] = {{2, NULL}, {3, NULL}};
    aglm_value *v = aglm_graph_new_value(g, name, AGLM_F32, 2, d);
    assert_non_null(v);
    return v;
}

static aglm_node *node1(aglm_graph *g, const char *op, const char *name, aglm_value *in,
                        aglm_value *out)
{
    aglm_value *ins[1] = {in}, *outs[1] = {out};
    aglm_node *n = aglm_graph_add_node(g, op, NULL, name, in ? 1 : 0, ins, out ? 1 : 0, outs);
    assert_non_null(n);
    return n;
}

static aglm_node *node2(aglm_graph *g, const char *op, const char *name, aglm_value *a,
                        aglm_value *b, aglm_value *out)
{
    aglm_value *ins[2] = {a, b}, *outs[1] = {out};
    aglm_node *n = aglm_graph_add_node(g, op, NULL, name, 2, ins, 1, outs);
    assert_non_null(n);
    return n;
}

/* Whether (n, slot) is among v's uses. */
static int has_use(const aglm_value *v, const aglm_node *n, size_t slot)
{
    for (size_t i = 0; i < aglm_value_num_uses(v); i++) {
        size_t s;
        if (aglm_value_use(v, i, &s) == n && s == slot)
            return 1;
    }
    return 0;
}

static void test_values_and_types(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    assert_string_equal(aglm_graph_name(g), "main");
    assert_null(aglm_graph_parent(g));
    char sym[] = "N";
    aglm_dim dims[4] = {
        {1, NULL}, {AGLM_DIM_DYNAMIC, sym}, {AGLM_DIM_DYNAMIC, NULL}, {8, "ignored"}};
    aglm_value *x = aglm_graph_new_value(g, "x", AGLM_F32, 4, dims);
    assert_non_null(x);
    sym[0] = 'Z'; /* the graph interned its own copy */
    char buf[64];
    assert_string_equal(aglm_value_type_str(x, buf, sizeof buf), "f32[1,N,?,8]");
    assert_int_equal(aglm_value_rank(x), 4);
    assert_int_equal(aglm_value_dim(x, 0).value, 1);
    assert_string_equal(aglm_value_dim(x, 1).sym, "N");
    assert_null(aglm_value_dim(x, 2).sym);
    assert_null(aglm_value_dim(x, 3).sym);
    assert_int_equal(aglm_value_dim(x, 9).value, AGLM_DIM_DYNAMIC);
    assert_false(aglm_value_is_static(x));
    assert_ptr_equal(aglm_value_graph(x), g);

    /* Symbols are interned: one pointer per name for the whole tree. */
    aglm_dim n2[1] = {{AGLM_DIM_DYNAMIC, "N"}};
    aglm_value *y = aglm_graph_new_value(g, "y", AGLM_I64, 1, n2);
    assert_ptr_equal(aglm_value_dim(y, 0).sym, aglm_value_dim(x, 1).sym);
    aglm_graph *sub = aglm_graph_new_subgraph(g, "body");
    aglm_value *s = aglm_graph_new_value(sub, "s", AGLM_F32, 1, n2);
    assert_ptr_equal(aglm_value_dim(s, 0).sym, aglm_value_dim(x, 1).sym);

    aglm_value *u = aglm_graph_new_value(g, "u", AGLM_F16, -1, NULL);
    assert_string_equal(aglm_value_type_str(u, buf, sizeof buf), "f16");
    assert_int_equal(aglm_value_rank(u), -1);
    aglm_value *sc = aglm_graph_new_value(g, "sc", AGLM_BOOL, 0, NULL);
    assert_string_equal(aglm_value_type_str(sc, buf, sizeof buf), "bool[]");
    assert_true(aglm_value_is_static(sc));
    assert_int_equal(aglm_value_set_type(u, AGLM_F32, 2, NULL), AGLM_OK);
    assert_string_equal(aglm_value_type_str(u, buf, sizeof buf), "f32[?,?]");

    /* Names: duplicates refused with the name in the message; find vs lookup scoping. */
    assert_null(aglm_graph_new_value(g, "x", AGLM_F32, -1, NULL));
    assert_int_equal(aglm_graph_num_values(g), 4);
    assert_non_null(strstr(aglm_last_error(), "'x'"));
    assert_ptr_equal(aglm_graph_find_value(g, "x"), x);
    assert_null(aglm_graph_find_value(sub, "x"));
    assert_ptr_equal(aglm_graph_lookup_value(sub, "x"), x);
    assert_ptr_equal(aglm_graph_lookup_value(sub, "s"), s);
    assert_null(aglm_graph_lookup_value(g, "s"));
    assert_null(aglm_graph_new_value(g, "big", AGLM_F32, AGLM_MAX_RANK + 1, NULL));
    assert_non_null(strstr(aglm_last_error(), "big"));

    aglm_graph_free(sub);
    aglm_graph_free(g);
}

static void test_fresh_names_do_not_collide(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    /* Occupy the names a counter would hand out first, here and in the parent. */
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "v%d", i);
        val(g, name);
    }
    aglm_graph *sub = aglm_graph_new_subgraph(g, "body");
    aglm_value *a = aglm_graph_new_value(sub, NULL, AGLM_F32, -1, NULL);
    aglm_value *b = aglm_graph_new_value(sub, "", AGLM_F32, -1, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(aglm_value_name(a), aglm_value_name(b));
    assert_null(aglm_graph_lookup_value(g, aglm_value_name(a)));
    assert_null(aglm_graph_lookup_value(g, aglm_value_name(b)));

    aglm_value *x = val(g, "x"), *y = val(g, "y"), *z = val(g, "z");
    aglm_node *n1 = node1(g, "Relu", NULL, x, y);
    aglm_node *n2 = node1(g, "Relu", "", y, z);
    assert_true(aglm_node_name(n1)[0] != '\0');
    assert_string_not_equal(aglm_node_name(n1), aglm_node_name(n2));
    /* Fresh node names skip names already taken, whatever the counter says. */
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "Relu_%d", i);
        node1(g, "Relu", name, x, NULL);
    }
    aglm_node *fresh = node1(g, "Relu", NULL, x, NULL);
    for (size_t i = 0; i + 1 < aglm_graph_num_nodes(g); i++)
        assert_string_not_equal(aglm_node_name(fresh), aglm_node_name(aglm_graph_node(g, i)));
    aglm_graph_free(sub);
    aglm_graph_free(g);
}

static void test_duplicate_node_names(void **state)
{
    (void)state;
    /* ONNX allows repeated node names; removing either holder must leave the other intact. */
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x"), *a = val(g, "a"), *b = val(g, "b"), *c = val(g, "c");
    aglm_graph_add_input(g, x);
    aglm_node *first = node1(g, "Neg", "dup", x, a);
    node1(g, "Neg", "dup", a, b);
    assert_int_equal(aglm_graph_remove_node(g, first), AGLM_OK);
    node1(g, "Neg", "dup", x, c);
    assert_string_equal(aglm_node_name(aglm_graph_node(g, 0)), "dup");
    aglm_graph *copy = aglm_graph_clone(g);
    assert_string_equal(aglm_node_name(aglm_graph_node(copy, 0)), "dup");
    assert_int_equal(aglm_graph_remove_node(copy, aglm_graph_node(copy, 0)), AGLM_OK);
    aglm_graph_free(copy);
    aglm_graph_free(g);
}

static void test_find_value_many(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("big");
    enum { N = 20000 };
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "/layer%d/out:0", i);
        assert_non_null(aglm_graph_new_value(g, name, AGLM_F32, -1, NULL));
    }
    for (int i = 0; i < N; i += 7) {
        char name[32];
        snprintf(name, sizeof name, "/layer%d/out:0", i);
        aglm_value *v = aglm_graph_find_value(g, name);
        assert_non_null(v);
        assert_string_equal(aglm_value_name(v), name);
        assert_ptr_equal(aglm_graph_value(g, (size_t)i), v);
    }
    assert_null(aglm_graph_find_value(g, "/layer20000/out:0"));
    aglm_graph_free(g);
}

static void test_constants(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    float data[6] = {1, 2, 3, 4, 5, 6};
    int64_t dims[2] = {2, 3};
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 2, dims, data);
    aglm_value *w = aglm_graph_add_initializer(g, "w", &t);
    assert_non_null(w);
    data[0] = 100; /* a deep copy: the caller's buffer does not matter any more */
    const aglm_tensor *c = aglm_value_const(w);
    assert_non_null(c);
    assert_ptr_not_equal(c->data, data);
    assert_float_equal(((const float *)c->data)[0], 1.0f, 0);
    char buf[32];
    assert_string_equal(aglm_value_type_str(w, buf, sizeof buf), "f32[2,3]");
    assert_null(aglm_graph_add_initializer(g, "w", &t));
    assert_non_null(strstr(aglm_last_error(), "'w'"));

    /* set_const takes an owned tensor's storage and empties the descriptor. */
    aglm_tensor owned;
    int64_t d1[1] = {4};
    assert_int_equal(aglm_tensor_alloc(&owned, AGLM_I64, 1, d1), AGLM_OK);
    ((int64_t *)owned.data)[3] = 42;
    void *storage = owned.data;
    aglm_value *k = aglm_graph_new_value(g, "k", AGLM_UNDEFINED, -1, NULL);
    assert_null(aglm_value_const(k));
    assert_int_equal(aglm_value_set_const(k, &owned), AGLM_OK);
    assert_null(owned.data);
    assert_ptr_equal(aglm_value_const(k)->data, storage);
    assert_int_equal(aglm_value_dtype(k), AGLM_I64);
    assert_string_equal(aglm_value_type_str(k, buf, sizeof buf), "i64[4]");
    assert_int_equal(((const int64_t *)aglm_value_const(k)->data)[3], 42);

    /* A borrowed tensor is copied, since its buffer is not ours to keep. */
    aglm_tensor borrowed;
    aglm_tensor_wrap(&borrowed, AGLM_F32, 2, dims, data);
    assert_int_equal(aglm_value_set_const(k, &borrowed), AGLM_OK);
    assert_ptr_not_equal(aglm_value_const(k)->data, data);
    assert_float_equal(((const float *)aglm_value_const(k)->data)[0], 100.0f, 0);

    aglm_tensor bad;
    aglm_tensor_wrap(&bad, AGLM_F32, 1, d1, NULL);
    assert_int_not_equal(aglm_value_set_const(k, &bad), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "'k'"));
    aglm_graph_free(g);
}

static void test_use_lists(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x"), *a = val(g, "a"), *b = val(g, "b"), *c = val(g, "c");
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_ERR_EXISTS);
    assert_true(aglm_value_is_graph_input(x));
    aglm_node *relu = node1(g, "Relu", "relu", x, a);
    aglm_node *add = node2(g, "Add", "add", x, a, b);
    assert_int_equal(aglm_graph_add_output(g, b), AGLM_OK);
    assert_true(aglm_value_is_graph_output(b));
    assert_false(aglm_value_is_graph_output(a));

    assert_ptr_equal(aglm_value_producer(a), relu);
    assert_null(aglm_value_producer(x));
    assert_int_equal(aglm_value_num_uses(x), 2);
    assert_true(has_use(x, relu, 0));
    assert_true(has_use(x, add, 0));
    assert_true(has_use(a, add, 1));

    /* Rewire input 1 of add from a to x. */
    assert_int_equal(aglm_node_set_input(add, 1, x), AGLM_OK);
    assert_int_equal(aglm_value_num_uses(a), 0);
    assert_int_equal(aglm_value_num_uses(x), 3);
    assert_true(has_use(x, add, 1));
    /* Append, absent optional input, truncate. */
    assert_int_equal(aglm_node_set_input(add, 2, NULL), AGLM_OK);
    assert_int_equal(aglm_node_set_input(add, 3, a), AGLM_OK);
    assert_int_equal(aglm_node_num_inputs(add), 4);
    assert_null(aglm_node_input(add, 2));
    assert_true(has_use(a, add, 3));
    assert_int_equal(aglm_node_set_input(add, 9, a), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "add"));
    assert_int_equal(aglm_node_truncate_inputs(add, 2), AGLM_OK);
    assert_int_equal(aglm_value_num_uses(a), 0);
    assert_int_equal(aglm_node_num_inputs(add), 2);

    /* An output may be produced once. */
    aglm_value *outs[1] = {a};
    assert_null(aglm_graph_add_node(g, "Neg", NULL, "neg", 1, &x, 1, outs));
    assert_non_null(strstr(aglm_last_error(), "relu"));

    /* Removing a node drops its uses and leaves its outputs unproduced. */
    node1(g, "Neg", "neg", a, c);
    assert_int_equal(aglm_value_num_uses(a), 1);
    assert_int_equal(aglm_graph_remove_node(g, relu), AGLM_OK);
    assert_null(aglm_value_producer(a));
    assert_int_equal(aglm_value_num_uses(x), 2);
    assert_false(has_use(x, relu, 0));
    assert_int_equal(aglm_graph_num_nodes(g), 2);
    assert_ptr_equal(aglm_graph_node(g, 0), add);
    assert_string_equal(aglm_node_name(aglm_graph_node(g, 1)), "neg");
    assert_int_equal(aglm_graph_verify(g), AGLM_ERR_INVALID); /* neg reads a, now undefined */

    aglm_graph *other = aglm_graph_new("other");
    aglm_value *o = val(other, "o");
    assert_null(aglm_graph_add_node(g, "Neg", NULL, "bad", 1, &o, 0, NULL));
    assert_non_null(strstr(aglm_last_error(), "'o'"));
    assert_int_equal(aglm_graph_remove_node(other, add), AGLM_ERR_NOT_FOUND);
    aglm_graph_free(other);
    aglm_graph_free(g);
}

static void test_replace_uses_renames_output(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x"), *a = val(g, "a"), *y = val(g, "y");
    aglm_graph_add_input(g, x);
    node1(g, "Neg", "neg", x, a);
    aglm_node *id = node1(g, "Identity", "id", a, y);
    aglm_graph_add_output(g, y);
    aglm_value *z = val(g, "z");
    aglm_node *user = node1(g, "Relu", "user", y, z);

    /* Bypass the Identity: its input takes over the output's user-visible name. */
    assert_int_equal(aglm_graph_replace_uses(g, y, a), AGLM_OK);
    assert_ptr_equal(aglm_graph_output(g, 0), a);
    assert_string_equal(aglm_value_name(a), "y");
    assert_string_not_equal(aglm_value_name(y), "y");
    assert_string_not_equal(aglm_value_name(y), "a");
    assert_ptr_equal(aglm_graph_find_value(g, "y"), a);
    assert_ptr_equal(aglm_graph_find_value(g, aglm_value_name(y)), y);
    assert_null(aglm_graph_find_value(g, "a"));
    assert_true(aglm_value_is_graph_output(a));
    assert_false(aglm_value_is_graph_output(y));
    assert_ptr_equal(aglm_node_input(user, 0), a);
    assert_int_equal(aglm_value_num_uses(y), 0);
    assert_true(has_use(a, user, 0));
    assert_int_equal(aglm_graph_remove_node(g, id), AGLM_OK);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);

    /* A graph input keeps its own name: the output slot then refers to it as it is. */
    aglm_value *o2 = val(g, "o2");
    node1(g, "Identity", "id2", x, o2);
    aglm_graph_add_output(g, o2);
    assert_int_equal(aglm_graph_replace_uses(g, o2, x), AGLM_OK);
    assert_string_equal(aglm_value_name(x), "x");
    assert_ptr_equal(aglm_graph_output(g, 1), x);
    assert_string_equal(aglm_value_name(o2), "o2");
    aglm_graph_free(g);
}

static void test_subgraph_outer_uses(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x"), *c = aglm_graph_new_value(g, "c", AGLM_BOOL, 0, NULL),
               *r = val(g, "r");
    aglm_graph_add_input(g, x);
    aglm_graph_add_input(g, c);
    aglm_value *ins[1] = {c}, *outs[1] = {r};
    aglm_node *ifn = aglm_graph_add_node(g, "If", NULL, "if", 1, ins, 1, outs);
    aglm_graph_add_output(g, r);

    aglm_graph *then_g = aglm_graph_new_subgraph(g, "then");
    aglm_value *t1 = val(then_g, "t1");
    aglm_node *inner = node1(then_g, "Neg", "inner", x, t1);
    aglm_graph_add_output(then_g, t1);
    aglm_graph *else_g = aglm_graph_new_subgraph(g, "else");
    aglm_graph_add_output(else_g, x); /* an outer value as a subgraph output */

    /* The outer value's use list already sees the subgraph node. */
    assert_true(has_use(x, inner, 0));
    assert_int_equal(aglm_value_num_uses(x), 1);

    aglm_graph *wrong = aglm_graph_new("wrong");
    assert_int_equal(aglm_node_set_graph(ifn, "then_branch", wrong), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "wrong"));
    aglm_graph_free(wrong);
    assert_int_equal(aglm_node_set_graph(ifn, "then_branch", then_g), AGLM_OK);
    assert_int_equal(aglm_node_set_graph(ifn, "else_branch", else_g), AGLM_OK);
    assert_ptr_equal(aglm_attr_graph(aglm_node_attr(ifn, "then_branch")), then_g);
    assert_ptr_equal(aglm_graph_parent(then_g), g);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);

    /* An owned subgraph is the attribute's to free. */
    aglm_graph_free(then_g);
    assert_non_null(strstr(aglm_last_error(), "owned"));
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);

    /* replace_uses reaches into subgraphs, node inputs and output slots alike. */
    aglm_value *x2 = val(g, "x2");
    aglm_graph_add_input(g, x2);
    assert_int_equal(aglm_graph_replace_uses(g, x, x2), AGLM_OK);
    assert_ptr_equal(aglm_node_input(inner, 0), x2);
    assert_ptr_equal(aglm_graph_output(else_g, 0), x2);
    assert_int_equal(aglm_value_num_uses(x), 0);
    assert_true(has_use(x2, inner, 0));
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);

    /* Dropping the subgraph removes its uses of outer values. */
    assert_int_equal(aglm_node_remove_attr(ifn, "then_branch"), AGLM_OK);
    assert_int_equal(aglm_value_num_uses(x2), 0);
    assert_int_equal(aglm_node_remove_attr(ifn, "then_branch"), AGLM_ERR_NOT_FOUND);

    /* So does freeing a detached subgraph, and removing the node that holds one. */
    aglm_graph *loose = aglm_graph_new_subgraph(g, "loose");
    aglm_value *l1 = val(loose, "l1");
    node1(loose, "Neg", "ln", x2, l1);
    assert_int_equal(aglm_value_num_uses(x2), 1);
    assert_int_equal(aglm_graph_verify(g),
                     AGLM_OK); /* a detached body under construction is fine */
    aglm_graph_free(loose);
    assert_int_equal(aglm_value_num_uses(x2), 0);

    aglm_graph *body = aglm_graph_new_subgraph(g, "body");
    aglm_value *b1 = val(body, "b1");
    node1(body, "Neg", "bn", x2, b1);
    assert_int_equal(aglm_node_set_graph(ifn, "then_branch", body), AGLM_OK);
    assert_int_equal(aglm_value_num_uses(x2), 1);
    assert_int_equal(aglm_graph_remove_node(g, ifn), AGLM_OK);
    assert_int_equal(aglm_value_num_uses(x2), 0);
    aglm_graph_free(g);
}

static void test_clone_is_independent(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_graph_set_opset(g, "", 17);
    aglm_graph_set_meta(g, "producer", "test");
    aglm_value *x = val(g, "x"), *y = val(g, "y"), *r = val(g, "r");
    aglm_graph_add_input(g, x);
    float data[6] = {1, 2, 3, 4, 5, 6};
    int64_t dims[2] = {2, 3};
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 2, dims, data);
    aglm_value *w = aglm_graph_add_initializer(g, "w", &t);
    aglm_node *add = node2(g, "Add", "add", x, w, y);
    aglm_node_set_ints(add, "axes", (int64_t[]){1, 2}, 2);
    aglm_value *ins[1] = {y}, *outs[1] = {r};
    aglm_node *loop = aglm_graph_add_node(g, "Loop", NULL, "loop", 1, ins, 1, outs);
    aglm_graph *body = aglm_graph_new_subgraph(g, "body");
    aglm_value *b = val(body, "b");
    node2(body, "Mul", "mul", x, y, b); /* reads two outer values */
    aglm_graph_add_output(body, b);
    aglm_node_set_graph(loop, "body", body);
    aglm_graph_add_output(g, r);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    char *before = aglm_graph_to_text(g, 0);

    aglm_graph *c = aglm_graph_clone(g);
    assert_non_null(c);
    assert_int_equal(aglm_graph_verify(c), AGLM_OK);
    char *copy = aglm_graph_to_text(c, 0);
    assert_string_equal(copy, before);
    free(copy);

    /* The clone's subgraph reads the clone's values, not the original's. */
    aglm_node *cloop = aglm_graph_node(c, 1);
    aglm_graph *cbody = aglm_attr_graph(aglm_node_attr(cloop, "body"));
    assert_ptr_not_equal(cbody, body);
    assert_ptr_equal(aglm_graph_parent(cbody), c);
    aglm_node *cmul = aglm_graph_node(cbody, 0);
    assert_ptr_equal(aglm_node_input(cmul, 0), aglm_graph_find_value(c, "x"));
    assert_ptr_equal(aglm_value_graph(aglm_node_input(cmul, 1)), c);
    assert_int_equal(aglm_value_num_uses(x), 2); /* the original's uses are untouched */

    /* Mutate the clone everywhere; the original prints as before. */
    aglm_value *cw = aglm_graph_find_value(c, "w");
    ((float *)aglm_value_const(cw)->data)[0] = 99;
    aglm_node_set_int(aglm_graph_node(c, 0), "axes", 5);
    aglm_graph_set_meta(c, "producer", "changed");
    aglm_graph_set_opset(c, "", 18);
    assert_int_equal(aglm_graph_remove_node(c, cloop), AGLM_OK);
    assert_int_equal(aglm_value_set_type(aglm_graph_find_value(c, "x"), AGLM_F16, -1, NULL),
                     AGLM_OK);
    char *after = aglm_graph_to_text(g, 0);
    assert_string_equal(after, before);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    aglm_graph_free(c);
    char *again = aglm_graph_to_text(g, 0);
    assert_string_equal(again, before);
    free(before);
    free(after);
    free(again);
    aglm_graph_free(g);
}

static void test_toposort(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x"), *a = val(g, "a"), *b = val(g, "b"), *c = val(g, "c"),
               *d = val(g, "d"), *e = val(g, "e");
    aglm_graph_add_input(g, x);
    /* Added consumers first: d = c + b, c = Neg(b), b = Neg(a), a = Neg(x); e = Neg(x) is free. */
    node2(g, "Add", "n_d", c, b, d);
    node1(g, "Neg", "n_c", b, c);
    node1(g, "Neg", "n_e", x, e);
    node1(g, "Neg", "n_b", a, b);
    node1(g, "Neg", "n_a", x, a);
    aglm_graph_add_output(g, d);
    aglm_graph_add_output(g, e);
    assert_int_equal(aglm_graph_verify(g), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "before it is defined"));
    assert_int_equal(aglm_graph_toposort(g), AGLM_OK);
    /* Ties keep their earlier order: n_e (free from the start) stays ahead of n_a. */
    const char *want[] = {"n_e", "n_a", "n_b", "n_c", "n_d"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(aglm_node_name(aglm_graph_node(g, i)), want[i]);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    /* A sorted graph stays as it is. */
    assert_int_equal(aglm_graph_toposort(g), AGLM_OK);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(aglm_node_name(aglm_graph_node(g, i)), want[i]);

    /* A node holding a subgraph waits for the outer values the subgraph reads. */
    aglm_value *cond = aglm_graph_new_value(g, "cond", AGLM_BOOL, 0, NULL), *r = val(g, "r"),
               *late = val(g, "late");
    aglm_graph_add_input(g, cond);
    aglm_value *ins[1] = {cond}, *outs[1] = {r};
    aglm_node *ifn = aglm_graph_add_node(g, "If", NULL, "if", 1, ins, 1, outs);
    aglm_graph *br = aglm_graph_new_subgraph(g, "then");
    aglm_value *t = val(br, "t");
    node1(br, "Neg", "inner", late, t);
    aglm_graph_add_output(br, t);
    assert_int_equal(aglm_node_set_graph(ifn, "then_branch", br), AGLM_OK);
    node1(g, "Neg", "n_late", x, late);
    /* ... and the subgraph's own nodes get sorted as well. */
    aglm_value *t0 = val(br, "t0");
    aglm_node_set_input(aglm_graph_node(br, 0), 0, t0);
    node1(br, "Neg", "inner_first", late, t0);
    assert_int_equal(aglm_graph_toposort(g), AGLM_OK);
    assert_string_equal(aglm_node_name(aglm_graph_node(g, 5)), "n_late");
    assert_string_equal(aglm_node_name(aglm_graph_node(g, 6)), "if");
    assert_string_equal(aglm_node_name(aglm_graph_node(br, 0)), "inner_first");
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    /* A cycle inside a subgraph is reported with the path to it. */
    aglm_node_set_input(aglm_graph_node(br, 0), 0, t);
    assert_int_equal(aglm_graph_toposort(g), AGLM_ERR_INVALID);
    assert_non_null(
        strstr(aglm_last_error(), "node 'if' (If): attribute 'then_branch': graph 'then'"));
    assert_non_null(strstr(aglm_last_error(), "cycle"));
    aglm_graph_free(g);
}

static void test_toposort_cycle(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x"), *a = val(g, "a"), *b = val(g, "b"), *c = val(g, "c"),
               *y = val(g, "y");
    aglm_graph_add_input(g, x);
    node1(g, "Neg", "head", x, y);
    node2(g, "Add", "ring_a", x, c, a);
    node1(g, "Neg", "ring_b", a, b);
    node1(g, "Neg", "ring_c", b, c);
    assert_int_equal(aglm_graph_toposort(g), AGLM_ERR_INVALID);
    const char *msg = aglm_last_error();
    assert_non_null(strstr(msg, "cycle"));
    assert_non_null(strstr(msg, "'main'"));
    assert_non_null(strstr(msg, "ring_"));
    /* The graph is left as it was. */
    assert_string_equal(aglm_node_name(aglm_graph_node(g, 0)), "head");
    assert_string_equal(aglm_node_name(aglm_graph_node(g, 1)), "ring_a");

    aglm_graph *h = aglm_graph_new("self");
    aglm_value *s = val(h, "s");
    node1(h, "Neg", "loop_on_itself", s, s);
    assert_int_equal(aglm_graph_toposort(h), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "loop_on_itself"));
    aglm_graph_free(h);
    aglm_graph_free(g);
}

static void test_attributes(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("main");
    aglm_value *x = val(g, "x");
    aglm_graph_add_input(g, x);
    aglm_node *n = node1(g, "Custom", "n", x, NULL);
    assert_int_equal(aglm_node_set_int(n, "i", -7), AGLM_OK);
    assert_int_equal(aglm_node_set_float(n, "f", 2.5f), AGLM_OK);
    assert_int_equal(aglm_node_set_string(n, "s", "a\0b", 3), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "is", (int64_t[]){1, 2, 3}, 3), AGLM_OK);
    assert_int_equal(aglm_node_set_floats(n, "fs", (float[]){0.5f}, 1), AGLM_OK);
    const char *strs[2] = {"p", "q"};
    assert_int_equal(aglm_node_set_strings(n, "ss", strs, 2), AGLM_OK);
    float td[2] = {1, 2};
    int64_t tdims[1] = {2};
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 1, tdims, td);
    assert_int_equal(aglm_node_set_tensor(n, "t", &t), AGLM_OK);
    td[0] = 50; /* copied */
    aglm_tensor two[2] = {t, t};
    assert_int_equal(aglm_node_set_tensors(n, "ts", two, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "empty", NULL, 0), AGLM_OK);
    assert_int_equal(aglm_node_num_attrs(n), 9);

    assert_int_equal(aglm_attr_kind(aglm_node_attr(n, "i")), AGLM_ATTR_INT);
    assert_int_equal(aglm_node_get_int(n, "i", 0), -7);
    assert_float_equal(aglm_node_get_float(n, "f", 0), 2.5f, 0);
    /* int <-> float conversion where the attribute has the other type */
    assert_int_equal(aglm_node_get_int(n, "f", 0), 2);
    assert_float_equal(aglm_node_get_float(n, "i", 0), -7.0f, 0);
    assert_int_equal(aglm_node_get_int(n, "missing", 11), 11);
    assert_float_equal(aglm_node_get_float(n, "missing", 1.5f), 1.5f, 0);
    assert_int_equal(aglm_node_get_int(n, "s", 3), 3); /* a string is not a number */
    size_t len;
    const char *s = aglm_attr_s(aglm_node_attr(n, "s"), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "a\0b", 4);
    assert_string_equal(aglm_node_get_string(n, "missing", "dflt"), "dflt");
    size_t cnt;
    const int64_t *is = aglm_node_get_ints(n, "is", &cnt);
    assert_int_equal(cnt, 3);
    assert_int_equal(is[2], 3);
    assert_non_null(aglm_node_get_ints(n, "empty", &cnt)); /* present though empty */
    assert_int_equal(cnt, 0);
    assert_null(aglm_node_get_ints(n, "missing", &cnt));
    assert_int_equal(cnt, 0);
    assert_null(aglm_node_get_ints(n, "fs", &cnt));
    assert_float_equal(aglm_node_get_floats(n, "fs", &cnt)[0], 0.5f, 0);
    assert_string_equal(aglm_attr_strings(aglm_node_attr(n, "ss"), &cnt)[1], "q");
    assert_float_equal(((const float *)aglm_attr_tensor(aglm_node_attr(n, "t"))->data)[0], 1.0f, 0);
    assert_int_equal(aglm_attr_tensors(aglm_node_attr(n, "ts"), &cnt)[1].dims[0], 2);
    assert_int_equal(cnt, 2);

    /* Replacing keeps the position; a different type replaces too. */
    assert_int_equal(aglm_node_set_string(n, "i", "now a string", 12), AGLM_OK);
    assert_string_equal(aglm_attr_name(aglm_node_attr_at(n, 0)), "i");
    assert_int_equal(aglm_attr_kind(aglm_node_attr_at(n, 0)), AGLM_ATTR_STRING);
    assert_int_equal(aglm_node_num_attrs(n), 9);
    assert_int_equal(aglm_node_remove_attr(n, "f"), AGLM_OK);
    assert_null(aglm_node_attr(n, "f"));
    assert_string_equal(aglm_attr_name(aglm_node_attr_at(n, 1)), "s");
    assert_int_equal(aglm_node_remove_attr(n, "f"), AGLM_ERR_NOT_FOUND);
    assert_non_null(strstr(aglm_last_error(), "'f'"));

    /* Graph lists, and setting an attribute to a graph it already holds. */
    aglm_graph *g1 = aglm_graph_new_subgraph(g, "g1"), *g2 = aglm_graph_new_subgraph(g, "g2");
    aglm_graph *dup[2] = {g1, g1};
    assert_int_equal(aglm_node_set_graphs(n, "gs", dup, 2), AGLM_ERR_INVALID);
    aglm_graph *pair[2] = {g1, g2};
    assert_int_equal(aglm_node_set_graphs(n, "gs", pair, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_graphs(n, "gs", pair, 2), AGLM_OK);
    assert_ptr_equal(aglm_attr_graphs(aglm_node_attr(n, "gs"), &cnt)[1], g2);
    assert_int_equal(aglm_node_set_graph(n, "other", g1), AGLM_ERR_STATE);

    assert_int_equal(aglm_node_set_op(n, "FusedThing", "aglm"), AGLM_OK);
    assert_string_equal(aglm_node_op(n), "FusedThing");
    assert_string_equal(aglm_node_domain(n), "aglm");
    assert_int_equal(aglm_node_set_op(n, "Relu", "ai.onnx"), AGLM_OK);
    assert_string_equal(aglm_node_domain(n), "");
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    aglm_graph_free(g);
}

static void test_opsets_meta_prune(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new(NULL);
    assert_string_equal(aglm_graph_name(g), "");
    assert_int_equal(aglm_graph_set_opset(g, NULL, 13), AGLM_OK);
    assert_int_equal(aglm_graph_set_opset(g, "aglm", 1), AGLM_OK);
    assert_int_equal(aglm_graph_set_opset(g, "ai.onnx", 17), AGLM_OK);
    assert_int_equal(aglm_graph_opset(g, ""), 17);
    assert_int_equal(aglm_graph_num_opsets(g), 2);
    assert_string_equal(aglm_graph_opset_domain(g, 1), "aglm");
    assert_int_equal(aglm_graph_opset(g, "com.microsoft"), 0);
    assert_int_equal(aglm_graph_set_opset(g, "aglm", 0), AGLM_OK);
    assert_int_equal(aglm_graph_num_opsets(g), 1);
    assert_int_equal(aglm_graph_set_opset(g, "x", -1), AGLM_ERR_INVALID);

    assert_int_equal(aglm_graph_set_meta(g, "producer", "a"), AGLM_OK);
    assert_int_equal(aglm_graph_set_meta(g, "doc", "d"), AGLM_OK);
    assert_int_equal(aglm_graph_set_meta(g, "producer", "b"), AGLM_OK);
    assert_string_equal(aglm_graph_meta(g, "producer"), "b");
    assert_int_equal(aglm_graph_num_meta(g), 2);
    assert_string_equal(aglm_graph_meta_key(g, 1), "doc");
    assert_null(aglm_graph_meta(g, "none"));

    aglm_value *x = val(g, "x"), *a = val(g, "a"), *loose = val(g, "loose"), *out = val(g, "out");
    aglm_graph_add_input(g, x);
    node1(g, "Neg", "n", x, a);
    aglm_graph_add_output(g, out);
    float f = 1;
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 0, NULL, &f);
    aglm_graph_add_initializer(g, "k", &t);
    aglm_value *kept = aglm_graph_add_initializer(g, "kept", &t);
    node1(g, "Neg", "m", kept, out);
    (void)loose;
    /* `loose` and the unread constant `k` go; the rest is referenced */
    assert_int_equal(aglm_graph_prune_values(g), 2);
    assert_null(aglm_graph_find_value(g, "loose"));
    assert_null(aglm_graph_find_value(g, "k"));
    assert_non_null(aglm_graph_find_value(g, "kept"));
    assert_int_equal(aglm_graph_num_values(g), 4);
    assert_ptr_equal(aglm_graph_value(g, 2), out);
    assert_int_equal(aglm_graph_prune_values(g), 0);
    aglm_graph_free(g);
}

/* A node's subgraphs through one accessor pair, whether the attribute holds one graph or a list;
 * other attributes hold none. */
static void test_attr_graphs_walk(void **state)
{
    (void)state;
    aglm_graph *g = NULL;
    const char *text = "graph main(%x: f32[2], %c: bool[]) -> (%r) {\n"
                       "  %r = If(%c) {then_branch=graph then() -> (%a) {\n"
                       "      %a = Relu(%x)\n"
                       "    }, else_branch=graph else() -> (%b) {\n"
                       "      %b = Neg(%x)\n"
                       "    }, tag=3} @if1\n"
                       "}\n";
    if (aglm_graph_parse(text, &g) != AGLM_OK)
        fail_msg("%s", aglm_last_error());
    const aglm_node *n = aglm_graph_node(g, 0);
    const aglm_attr *then_b = aglm_node_attr(n, "then_branch"), *tag = aglm_node_attr(n, "tag");
    assert_int_equal(aglm_attr_num_graphs(then_b), 1);
    assert_ptr_equal(aglm_attr_graph_at(then_b, 0), aglm_attr_graph(then_b));
    assert_null(aglm_attr_graph_at(then_b, 1));
    assert_int_equal(aglm_attr_num_graphs(tag), 0);
    assert_null(aglm_attr_graph_at(tag, 0));
    assert_int_equal(aglm_attr_num_graphs(NULL), 0);

    aglm_graph *subs[2] = {aglm_graph_new_subgraph(g, "s0"), aglm_graph_new_subgraph(g, "s1")};
    aglm_node *m = aglm_graph_node(g, 0);
    assert_int_equal(aglm_node_set_graphs(m, "branches", subs, 2), AGLM_OK);
    const aglm_attr *list = aglm_node_attr(m, "branches");
    assert_int_equal(aglm_attr_num_graphs(list), 2);
    assert_non_null(aglm_attr_graph_at(list, 1));
    assert_ptr_equal(aglm_attr_graph_at(list, 1), aglm_attr_graphs(list, &(size_t){0})[1]);
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_types),
        cmocka_unit_test(test_fresh_names_do_not_collide),
        cmocka_unit_test(test_duplicate_node_names),
        cmocka_unit_test(test_find_value_many),
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_use_lists),
        cmocka_unit_test(test_replace_uses_renames_output),
        cmocka_unit_test(test_subgraph_outer_uses),
        cmocka_unit_test(test_clone_is_independent),
        cmocka_unit_test(test_toposort),
        cmocka_unit_test(test_toposort_cycle),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_opsets_meta_prune),
        cmocka_unit_test(test_attr_graphs_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
