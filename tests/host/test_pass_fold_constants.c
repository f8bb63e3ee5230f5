/* The fold-constants pass, loaded through the registry with the cpu backend beside it (as the
 * host runs it): input IR, the pass, expected IR. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ir_pass_fixture.h"

static int setup(void **state)
{
    return ir_pass_open(state, "fold-constants", 1);
}

static int setup_no_cpu(void **state)
{
    return ir_pass_open(state, "fold-constants", 0);
}

static int teardown(void **state)
{
    return ir_pass_close(state);
}

/* Constant nodes of every attribute form become constant values. */
static void test_constant_nodes(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[2]) -> (%y: f32[2], %z: i64[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %c: f32[2] = Constant() {value=tensor f32[2] [1.5, -2]} @c\n"
                  "  %k: i64[2] = Constant() {value_ints=[3, 4]} @k\n"
                  "  %f: f32[] = Constant() {value_float=0.25} @f\n"
                  "  %a: f32[2] = Add(%x, %c) @add\n"
                  "  %y: f32[2] = Mul(%a, %f) @mul\n"
                  "  %z: i64[2] = Neg(%k) @neg\n"
                  "}\n",
                  "graph g(%x: f32[2]) -> (%y: f32[2], %z: i64[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %c: f32[2] = [1.5, -2]\n"
                  "  const %f: f32[] = [0.25]\n"
                  "  const %z: i64[2] = [-3, -4]\n"
                  "  %a: f32[2] = Add(%x, %c) @add\n"
                  "  %y: f32[2] = Mul(%a, %f) @mul\n"
                  "}\n",
                  1);
}

/* The paddle2onnx pattern: the static prefix of a Shape, then Gather, Unsqueeze, Concat, down to
 * the constant target of a Reshape. */
static void test_shape_chain(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[1,3,8,W]) -> (%y) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %idx: i64[] = [2]\n"
                  "  const %ax: i64[1] = [0]\n"
                  "  const %rest: i64[1] = [-1]\n"
                  "  %s: i64[3] = Shape(%x) {start=0, end=3} @shape\n"
                  "  %h: i64[] = Gather(%s, %idx) {axis=0} @gather\n"
                  "  %hu: i64[1] = Unsqueeze(%h, %ax) @unsq\n"
                  "  %shp: i64[2] = Concat(%hu, %rest) {axis=0} @concat\n"
                  "  %y = Reshape(%x, %shp) @reshape\n"
                  "}\n",
                  "graph g(%x: f32[1,3,8,W]) -> (%y) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %shp: i64[2] = [8, -1]\n"
                  "  %y = Reshape(%x, %shp) @reshape\n"
                  "}\n",
                  1);
}

/* Range, ConstantOfShape, Cast, Slice, integer arithmetic, Equal and Where on constants. */
static void test_arith_ops(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[4]) -> (%y: f32[4], %w: f32[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %zero: i64[] = [0]\n"
                  "  const %four: i64[] = [4]\n"
                  "  const %one: i64[] = [1]\n"
                  "  const %two: i64[1] = [2]\n"
                  "  const %st: i64[1] = [1]\n"
                  "  const %en: i64[1] = [3]\n"
                  "  %r: i64[4] = Range(%zero, %four, %one) @range\n"
                  "  %r2: i64[4] = Mul(%r, %r) @sq\n"
                  "  %r3: i64[4] = Sub(%r2, %one) @sub\n"
                  "  %e: bool[4] = Equal(%r3, %zero) @eq\n"
                  "  %sel: i64[4] = Where(%e, %four, %r3) @where\n"
                  "  %rf: f32[4] = Cast(%sel) {to=1} @cast\n"
                  "  %y: f32[4] = Add(%x, %rf) @add\n"
                  "  %c: f32[2] = ConstantOfShape(%two) {value=tensor f32[1] [0.5]} @cos\n"
                  "  %sl: f32[2] = Slice(%rf, %st, %en) @slice\n"
                  "  %w: f32[2] = Div(%sl, %c) @div\n"
                  "}\n",
                  "graph g(%x: f32[4]) -> (%y: f32[4], %w: f32[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %rf: f32[4] = [-1, 4, 3, 8]\n"
                  "  const %w: f32[2] = [8, 6]\n"
                  "  %y: f32[4] = Add(%x, %rf) @add\n"
                  "}\n",
                  1);
}

static void test_nothing_to_fold(void **state)
{
    const char *ir = "graph g(%x: f32[2,N]) -> (%y: f32[2,N], %s: i64[2]) {\n"
                     "  opset ai.onnx 17\n"
                     "  const %c: f32[2,1] = [1, 2]\n"
                     "  %a: f32[2,N] = Add(%x, %c) @add\n"
                     "  %y: f32[2,N] = Relu(%a) @relu\n"
                     "  %s: i64[2] = Shape(%a) @shape\n"
                     "}\n";
    ir_pass_check(*state, ir, ir, 0);
}

/* A graph input's default can be overridden at run time, and random ops draw anew each run:
 * neither folds. */
static void test_overridable_and_random(void **state)
{
    const char *ir = "graph g(%d: f32[2]) -> (%y: f32[2], %r: f32[2]) {\n"
                     "  opset ai.onnx 17\n"
                     "  const %d: f32[2] = [1, 2]\n"
                     "  const %k: f32[2] = [3, 4]\n"
                     "  %y: f32[2] = Neg(%d) @neg\n"
                     "  %r: f32[2] = RandomNormalLike(%k) @rand\n"
                     "}\n";
    ir_pass_check(*state, ir, ir, 0);
}

/* max_bytes (max_expand_bytes' older name) bounds expansions nothing needs the value of: 4 KiB of
 * ConstantOfShape read by a Mul stays a node under max_bytes=1024 and folds under the default. */
static void test_max_bytes(void **state)
{
    ir_pass_fx *f = *state;
    const char *ir = "graph g(%x: f32[32,32]) -> (%y: f32[32,32]) {\n"
                     "  opset ai.onnx 17\n"
                     "  const %s: i64[2] = [32, 32]\n"
                     "  %c: f32[32,32] = ConstantOfShape(%s) {value=tensor f32[1] [2]} @big\n"
                     "  %y: f32[32,32] = Mul(%x, %c) @mul\n"
                     "}\n";
    const aglm_kv kv[] = {{"max_bytes", "1024"}};
    const aglm_options small = {1, kv};
    ir_pass_check_opts(f, ir, ir, &small, 0);

    aglm_graph *g = ir_pass_parse(ir);
    assert_int_equal(ir_pass_run(f, g, NULL), 1);
    assert_int_equal(aglm_graph_num_nodes(g), 1);
    const aglm_tensor *c = aglm_value_const(aglm_graph_find_value(g, "c"));
    assert_non_null(c);
    assert_int_equal(aglm_tensor_numel(c), 1024);
    assert_true(aglm_tensor_get_f64(c, 0) == 2.0 && aglm_tensor_get_f64(c, 1023) == 2.0);
    aglm_graph_free(g);
}

static void test_bad_option(void **state)
{
    ir_pass_fx *f = *state;
    aglm_graph *g = ir_pass_parse("graph g(%x: f32[2]) -> (%x: f32[2]) {\n}\n");
    const aglm_kv kv[] = {{"max_bytes", "lots"}};
    const aglm_options opts = {1, kv};
    int changed = -1;
    assert_int_equal(f->ops->run(f->state, g, &opts, &changed), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "max_bytes=lots"));
    assert_int_equal(changed, 0);
    aglm_graph_free(g);
}

/* Without a cpu backend only what needs no kernel folds: Constant nodes and static Shapes. */
static void test_without_backend(void **state)
{
    ir_pass_check(*state,
                  "graph g(%x: f32[2,3]) -> (%y: i64[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %one: i64[] = Constant() {value_int=1} @k\n"
                  "  %s: i64[2] = Shape(%x) @shape\n"
                  "  %y: i64[2] = Add(%s, %one) @add\n"
                  "}\n",
                  "graph g(%x: f32[2,3]) -> (%y: i64[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %one: i64[] = [1]\n"
                  "  const %s: i64[2] = [2, 3]\n"
                  "  %y: i64[2] = Add(%s, %one) @add\n"
                  "}\n",
                  1);
}

/* Runs g on the cpu backend with c=true and x=[10, 20]; returns the output in out[2]. */
static void run_if_graph(ir_pass_fx *f, const aglm_graph *g, float *out)
{
    aglm_plugin_ref *cpu = host_registry_acquire(f->reg, "cpu", AGLM_KIND_BACKEND);
    assert_non_null(cpu);
    const aglm_backend_ops *ops = host_ref_desc(cpu)->ops;
    aglm_exec *x = NULL;
    if (ops->compile(host_ref_state(cpu), g, NULL, &x) != AGLM_OK)
        fail_msg("compile: %s", aglm_last_error());
    unsigned char c = 1;
    float xs[2] = {10, 20};
    aglm_tensor in[2], res;
    aglm_tensor_wrap(&in[0], AGLM_BOOL, 0, NULL, &c);
    aglm_tensor_wrap(&in[1], AGLM_F32, 1, (const int64_t[]){2}, xs);
    if (ops->run(host_ref_state(cpu), x, 2, in, 1, &res) != AGLM_OK)
        fail_msg("run: %s", aglm_last_error());
    out[0] = (float)aglm_tensor_get_f64(&res, 0);
    out[1] = (float)aglm_tensor_get_f64(&res, 1);
    aglm_tensor_free(&res);
    ops->release(host_ref_state(cpu), x);
    host_registry_release(cpu);
}

/* Constants inside a subgraph fold there; values of the enclosing graph count as constants (and
 * one nothing reads any more goes). The folded graph computes what the original did. */
static void test_subgraph(void **state)
{
    ir_pass_fx *f = *state;
    const char *input = "graph m(%c: bool[], %x: f32[2]) -> (%y: f32[2]) {\n"
                        "  opset ai.onnx 17\n"
                        "  const %k: f32[2] = [1, 2]\n"
                        "  %y: f32[2] = If(%c) {then_branch=graph t() -> (%t: f32[2]) {\n"
                        "      %n: f32[2] = Neg(%k) @neg\n"
                        "      %t: f32[2] = Add(%x, %n) @add\n"
                        "    }, else_branch=graph e() -> (%x: f32[2]) {\n"
                        "    }} @choose\n"
                        "}\n";
    ir_pass_check(f, input,
                  "graph m(%c: bool[], %x: f32[2]) -> (%y: f32[2]) {\n"
                  "  opset ai.onnx 17\n"
                  "  %y: f32[2] = If(%c) {then_branch=graph t() -> (%t: f32[2]) {\n"
                  "      const %n: f32[2] = [-1, -2]\n"
                  "      %t: f32[2] = Add(%x, %n) @add\n"
                  "    }, else_branch=graph e() -> (%x: f32[2]) {\n"
                  "    }} @choose\n"
                  "}\n",
                  1);
    aglm_graph *g = ir_pass_parse(input);
    float before[2], after[2];
    run_if_graph(f, g, before);
    assert_int_equal(ir_pass_run(f, g, NULL), 1);
    run_if_graph(f, g, after);
    assert_true(before[0] == 9.0f && before[1] == 18.0f);
    assert_true(after[0] == before[0] && after[1] == before[1]);
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_constant_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shape_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arith_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_to_fold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overridable_and_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_backend, setup_no_cpu, teardown),
        cmocka_unit_test_setup_teardown(test_subgraph, setup, teardown),
    };
    return cmocka_run_group_tests_name("pass fold-constants", tests, NULL, NULL);
}
