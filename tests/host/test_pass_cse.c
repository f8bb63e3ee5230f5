/* The cse pass, loaded through the registry: input IR, the pass, expected IR. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ir_pass_fixture.h"

static int setup(void **state)
{
    return ir_pass_open(state, "cse", 0);
}

static int teardown(void **state)
{
    return ir_pass_close(state);
}

/* Twin nodes merge (attribute order does not matter), and so do their consumers, which became
 * twins by the first merge: one sweep reaches the fixed point. */
static void test_merges_chains(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[1,4]) -> (%y: f32[1,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %a: f32[1,4] = LeakyRelu(%x) {alpha=0.1} @a\n"
                  "  %b: f32[1,4] = LeakyRelu(%x) {alpha=0.1} @b\n"
                  "  %p: f32[1,4] = Softmax(%a) {axis=1} @p\n"
                  "  %q: f32[1,4] = Softmax(%b) {axis=1} @q\n"
                  "  %r: f32[1,4] = Gemm(%p, %q) {transB=1, alpha=2.0} @r\n"
                  "  %s: f32[1,4] = Gemm(%p, %q) {alpha=2.0, transB=1} @s\n"
                  "  %y: f32[1,4] = Add(%r, %s) @add\n"
                  "}\n",
                  "graph g(%x: f32[1,4]) -> (%y: f32[1,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %a: f32[1,4] = LeakyRelu(%x) {alpha=0.1} @a\n"
                  "  %p: f32[1,4] = Softmax(%a) {axis=1} @p\n"
                  "  %r: f32[1,4] = Gemm(%p, %p) {transB=1, alpha=2.0} @r\n"
                  "  %y: f32[1,4] = Add(%r, %r) @add\n"
                  "}\n",
                  1);
}

/* Constants with the same dtype, shape and bytes merge, which lets their readers merge; the same
 * bytes under another dtype or shape do not. */
static void test_merges_constants(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[2]) -> (%y: f32[2], %u: f32[2], %v: f32[1,2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %c1: f32[2] = [1, 2]\n"
                  "  const %c2: f32[2] = [1, 2]\n"
                  "  const %c3: f32[1,2] = [1, 2]\n"
                  "  const %i: i32[2] = [1065353216, 1073741824]\n"
                  "  %a: f32[2] = Mul(%x, %c1) @a\n"
                  "  %b: f32[2] = Mul(%x, %c2) @b\n"
                  "  %y: f32[2] = Sub(%a, %b) @y\n"
                  "  %ci: f32[2] = Cast(%i) {to=1} @cast\n"
                  "  %u: f32[2] = Add(%ci, %c2) @u\n"
                  "  %v: f32[1,2] = Add(%x, %c3) @v\n"
                  "}\n",
                  "graph g(%x: f32[2]) -> (%y: f32[2], %u: f32[2], %v: f32[1,2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %c1: f32[2] = [1, 2]\n"
                  "  const %c3: f32[1,2] = [1, 2]\n"
                  "  const %i: i32[2] = [1065353216, 1073741824]\n"
                  "  %a: f32[2] = Mul(%x, %c1) @a\n"
                  "  %y: f32[2] = Sub(%a, %a) @y\n"
                  "  %ci: f32[2] = Cast(%i) {to=1} @cast\n"
                  "  %u: f32[2] = Add(%ci, %c1) @u\n"
                  "  %v: f32[1,2] = Add(%x, %c3) @v\n"
                  "}\n",
                  1);
}

/* Any difference in op, input order, or an attribute of any kind keeps nodes apart. */
static void test_nothing_to_merge(void **state)
{
    const char *ir = "graph g(%x: f32[2,2], %w: f32[2,2]) -> (%a: f32[2,2], %b: f32[2,2], %c: "
                     "f32[2,2], %d: f32[2,2], "
                     "%e: f32[2,2], %f: f32[2,2], %h: f32[2,2], %k: f32[2,2]) {\n"
                     "  opset ai.onnx 17\n"
                     "  %a: f32[2,2] = Sub(%x, %w) @a\n"
                     "  %b: f32[2,2] = Sub(%w, %x) @b\n"
                     "  %c: f32[2,2] = Softmax(%x) {axis=0} @c\n"
                     "  %d: f32[2,2] = Softmax(%x) {axis=1} @d\n"
                     "  %e: f32[2,2] = LeakyRelu(%x) {alpha=0.1} @e\n"
                     "  %f: f32[2,2] = LeakyRelu(%x) {alpha=0.2} @f\n"
                     "  %h: f32[2,2] = Pad(%x) {mode=\"reflect\", pads=[0, 0, 0, 0]} @h\n"
                     "  %k: f32[2,2] = Pad(%x) {mode=\"edge\", pads=[0, 0, 0, 0]} @k\n"
                     "}\n";
    ir_pass_check(*state, ir, ir, 0);
}

/* Never merged: random ops, nodes holding subgraphs, and two graph outputs (their names are
 * what users see). */
static void test_never_merged(void **state)
{
    const char *ir =
        "graph g(%c: bool[], %x: f32[2]) -> (%r1: f32[2], %r2: f32[2], %i1: f32[2], %i2: f32[2], "
        "%o1: f32[2], %o2: f32[2]) {\n"
        "  opset ai.onnx 17\n"
        "  %r1: f32[2] = RandomNormalLike(%x) @r1\n"
        "  %r2: f32[2] = RandomNormalLike(%x) @r2\n"
        "  %i1: f32[2] = If(%c) {then_branch=graph t() -> (%x: f32[2]) {\n"
        "    }, else_branch=graph e() -> (%x: f32[2]) {\n"
        "    }} @i1\n"
        "  %i2: f32[2] = If(%c) {then_branch=graph t() -> (%x: f32[2]) {\n"
        "    }, else_branch=graph e() -> (%x: f32[2]) {\n"
        "    }} @i2\n"
        "  %o1: f32[2] = Relu(%x) @o1\n"
        "  %o2: f32[2] = Relu(%x) @o2\n"
        "}\n";
    ir_pass_check(*state, ir, ir, 0);
}

/* When the later twin is a graph output and the earlier is not, the merged value takes the
 * output's name; inside a subgraph twins merge too. */
static void test_output_name_and_subgraph(void **state)
{
    ir_pass_check(*state,
                  "graph g(%c: bool[], %x: f32[2]) -> (%y: f32[2], %z: f32[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %t: f32[2] = Tanh(%x) @t1\n"
                  "  %u: f32[2] = Neg(%t) @neg\n"
                  "  %y: f32[2] = Tanh(%x) @t2\n"
                  "  %z: f32[2] = If(%c) {then_branch=graph th() -> (%s: f32[2]) {\n"
                  "      %p: f32[2] = Exp(%u) @e1\n"
                  "      %q: f32[2] = Exp(%u) @e2\n"
                  "      %s: f32[2] = Add(%p, %q) @add\n"
                  "    }, else_branch=graph el() -> (%u: f32[2]) {\n"
                  "    }} @choose\n"
                  "}\n",
                  "graph g(%c: bool[], %x: f32[2]) -> (%y: f32[2], %z: f32[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %y: f32[2] = Tanh(%x) @t1\n"
                  "  %u: f32[2] = Neg(%y) @neg\n"
                  "  %z: f32[2] = If(%c) {then_branch=graph th() -> (%s: f32[2]) {\n"
                  "      %p: f32[2] = Exp(%u) @e1\n"
                  "      %s: f32[2] = Add(%p, %p) @add\n"
                  "    }, else_branch=graph el() -> (%u: f32[2]) {\n"
                  "    }} @choose\n"
                  "}\n",
                  1);
}

static void test_no_graph(void **state)
{
    ir_pass_fx *f = *state;
    int changed = -1;
    assert_int_equal(f->ops->run(f->state, NULL, NULL, &changed), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "cse: no graph given"));
    assert_int_equal(changed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merges_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merges_constants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_to_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_merged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_name_and_subgraph, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_graph, setup, teardown),
    };
    return cmocka_run_group_tests_name("pass cse", tests, NULL, NULL);
}
