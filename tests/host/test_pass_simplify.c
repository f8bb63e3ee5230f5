/* The simplify pass, loaded through the registry: input IR, the pass, expected IR. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ir_pass_fixture.h"

static int setup(void **state)
{
    return ir_pass_open(state, "simplify", 0);
}

static int teardown(void **state)
{
    return ir_pass_close(state);
}

/* x*1, 1*x, x+0, x-0, x/1 go, whatever side and rank the neutral constant has, as long as it
 * does not broadcast x to a bigger shape. */
static void test_arith_identities(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[2,3], %v: f32[1]) -> (%y: f32[2,3], %w: f32[3]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %one: f32[] = [1]\n"
                  "  const %zeros: f32[1,3] = [0, 0, 0]\n"
                  "  const %z3: f32[3] = [0, 0, 0]\n"
                  "  %a: f32[2,3] = Mul(%x, %one) @m1\n"
                  "  %b: f32[2,3] = Mul(%one, %a) @m2\n"
                  "  %c: f32[2,3] = Add(%zeros, %b) @a1\n"
                  "  %d: f32[2,3] = Sub(%c, %zeros) @s1\n"
                  "  %e: f32[2,3] = Div(%d, %one) @d1\n"
                  "  %y: f32[2,3] = Relu(%e) @relu\n"
                  "  %w: f32[3] = Add(%v, %z3) @grows\n"
                  "}\n",
                  "graph g(%x: f32[2,3], %v: f32[1]) -> (%y: f32[2,3], %w: f32[3]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %z3: f32[3] = [0, 0, 0]\n"
                  "  %y: f32[2,3] = Relu(%x) @relu\n"
                  "  %w: f32[3] = Add(%v, %z3) @grows\n"
                  "}\n",
                  1);
}

/* Identity, Dropout at inference, a Cast to the type it has, a Concat of one input. The last
 * node's output keeps the name the user sees (y) when its producer goes. */
static void test_identities(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[4]) -> (%y: f32[4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %r: f32[4] = Relu(%x) @relu\n"
                  "  %i: f32[4] = Identity(%r) @id\n"
                  "  %d, %mask = Dropout(%i) @drop\n"
                  "  %c: f32[4] = Cast(%d) {to=1} @cast\n"
                  "  %y: f32[4] = Concat(%c) {axis=0} @concat\n"
                  "}\n",
                  "graph g(%x: f32[4]) -> (%y: f32[4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %y: f32[4] = Relu(%x) @relu\n"
                  "}\n",
                  1);
}

/* Reshape of Reshape reads x directly; Transpose of Transpose composes its perms, and an
 * identity perm goes. */
static void test_chains(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[2,3,4], %u: f32[2,3,4]) -> (%y: f32[4,6], %t: f32[3,4,2], %v: "
                  "f32[2,3,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %s1: i64[2] = [6, 4]\n"
                  "  const %s2: i64[2] = [4, -1]\n"
                  "  %r1: f32[6,4] = Reshape(%x, %s1) @r1\n"
                  "  %y: f32[4,6] = Reshape(%r1, %s2) @r2\n"
                  "  %t1: f32[3,2,4] = Transpose(%u) {perm=[1, 0, 2]} @t1\n"
                  "  %t: f32[3,4,2] = Transpose(%t1) {perm=[0, 2, 1]} @t2\n"
                  "  %b1: f32[4,3,2] = Transpose(%u) @back1\n"
                  "  %b2: f32[2,3,4] = Transpose(%b1) @back2\n"
                  "  %v: f32[2,3,4] = Neg(%b2) @neg\n"
                  "}\n",
                  "graph g(%x: f32[2,3,4], %u: f32[2,3,4]) -> (%y: f32[4,6], %t: f32[3,4,2], %v: "
                  "f32[2,3,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %s2: i64[2] = [4, -1]\n"
                  "  %y: f32[4,6] = Reshape(%x, %s2) @r2\n"
                  "  %t: f32[3,4,2] = Transpose(%u) {perm=[1, 2, 0]} @t2\n"
                  "  %v: f32[2,3,4] = Neg(%u) @neg\n"
                  "}\n",
                  1);
}

/* x / c becomes x * (1/c) for float constants; Squeeze(Unsqueeze(x)) on the same axes and an
 * Expand to x's own shape go. */
static void test_div_squeeze_expand(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[N,4]) -> (%y: f32[N,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %c: f32[4] = [2, 4, 0.5, -8]\n"
                  "  const %ax: i64[1] = [-1]\n"
                  "  const %shape: i64[2] = [1, 4]\n"
                  "  %q: f32[N,4] = Div(%x, %c) @div\n"
                  "  %u: f32[N,4,1] = Unsqueeze(%q, %ax) @unsq\n"
                  "  %s: f32[N,4] = Squeeze(%u, %ax) @sq\n"
                  "  %y: f32[N,4] = Expand(%s, %shape) @expand\n"
                  "}\n",
                  "graph g(%x: f32[N,4]) -> (%y: f32[N,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %c.reciprocal: f32[4] = [0.5, 0.25, 2, -0.125]\n"
                  "  %y: f32[N,4] = Mul(%x, %c.reciprocal) @div\n"
                  "}\n",
                  1);
}

static void test_nothing_to_simplify(void **state)
{
    const char *ir =
        "graph g(%x: f32[2,3], %k: i64[]) -> (%y: f32[3,2], %z: f32[2,3], %w: i32[2,3]) {\n"
        "  opset ai.onnx 17\n"
        "  const %two: f32[] = [2]\n"
        "  const %s: i64[2] = [3, 0]\n"
        "  const %s0: i64[2] = [6, 1]\n"
        "  %r: f32[6,1] = Reshape(%x, %s0) @r1\n"
        "  %y: f32[3,2] = Reshape(%r, %s) {allowzero=0} @r2\n"
        "  %m: f32[2,3] = Mul(%x, %two) @mul\n"
        "  %z: f32[2,3] = Div(%m, %m) @div\n"
        "  %w: i32[2,3] = Cast(%x) {to=6} @cast\n"
        "}\n";
    ir_pass_check(*state, ir, ir, 0);
}

/* Rewrites that would rename what users see are declined: an Identity from a graph input to a
 * graph output stays, as does a Dropout whose mask is read. An integer division stays too. */
static void test_user_names_kept(void **state)
{
    const char *ir = "graph g(%x: f32[4], %n: i64[4]) -> (%y: f32[4], %m: bool[4], %q: i64[4]) {\n"
                     "  opset ai.onnx 17\n"
                     "  const %two: i64[] = [2]\n"
                     "  %y: f32[4] = Identity(%x) @id\n"
                     "  %d: f32[4], %m: bool[4] = Dropout(%y) @drop\n"
                     "  %q: i64[4] = Div(%n, %two) @idiv\n"
                     "}\n";
    ir_pass_check(*state, ir, ir, 0);
}

static void test_no_graph(void **state)
{
    ir_pass_fx *f = *state;
    int changed = -1;
    assert_int_equal(f->ops->run(f->state, NULL, NULL, &changed), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "simplify: no graph given"));
    assert_int_equal(changed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arith_identities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_div_squeeze_expand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_to_simplify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_names_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_graph, setup, teardown),
    };
    return cmocka_run_group_tests_name("pass simplify", tests, NULL, NULL);
}
