/* The fold-batchnorm pass, loaded through the registry: IR text in, the pass, IR text out; and the
 * folded graph computing what the unfolded one does on the cpu backend. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pass_fixture.h"

static int setup(void **state)
{
    return pass_fx_setup(state, "fold-batchnorm");
}

/* s = scale / sqrt(var + eps) = [4/sqrt(3+1), 1/sqrt(0+1)] = [2, 1]; W' = W * s; the Conv had no
 * bias, so B' = B - mean * s = [0.25 - 1 * 2, 0 - 0.5 * 1]. epsilon=1 makes a pass that ignores
 * it give other numbers. */
static void test_folds_into_conv_without_bias(void **state)
{
    pass_fx *f = *state;
    aglm_graph *g = parse_ir("graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                             "  const %w: f32[2,1,1,1] = [1.5, -2.0]\n"
                             "  const %scale: f32[2] = [4.0, 1.0]\n"
                             "  const %bias: f32[2] = [0.25, 0.0]\n"
                             "  const %mean: f32[2] = [1.0, 0.5]\n"
                             "  const %var: f32[2] = [3.0, 0.0]\n"
                             "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
                             "  %y: f32[1,2,2,2] = BatchNormalization(%c, %scale, %bias, %mean, "
                             "%var) {epsilon=1.0} @bn\n"
                             "}\n");
    assert_int_equal(pass_run(f, g), 1);
    assert_ir(g, "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                 "  const %conv_folded_W: f32[2,1,1,1] = [3, -2]\n"
                 "  const %conv_folded_B: f32[2] = [-1.75, -0.5]\n"
                 "  %y: f32[1,2,2,2] = Conv(%x, %conv_folded_W, %conv_folded_B) @conv\n"
                 "}\n");
    aglm_graph_free(g);
}

/* Random Conv (3x3, bias, padding) + BN: same results on the cpu backend before and after. */
static void test_conv_bn_same_results(void **state)
{
    pass_fx *f = *state;
    static char text[32768];
    snprintf(text, sizeof text, "graph main(%%x: f32[2,3,7,6]) -> (%%y: f32[2,4,7,6]) {\n");
    ir_const(text, sizeof text, "w", 4, D(4, 3, 3, 3), 1, 1.0f, 0.0f);
    ir_const(text, sizeof text, "b", 1, D(4), 2, 1.0f, 0.0f);
    ir_const(text, sizeof text, "scale", 1, D(4), 3, 1.0f, 0.0f);
    ir_const(text, sizeof text, "bias", 1, D(4), 4, 1.0f, 0.0f);
    ir_const(text, sizeof text, "mean", 1, D(4), 5, 1.0f, 0.0f);
    ir_const(text, sizeof text, "var", 1, D(4), 6, 0.4f, 0.5f);
    strcat(text, "  %c: f32[2,4,7,6] = Conv(%x, %w, %b) {pads=[1, 1, 1, 1]} @conv\n"
                 "  %y: f32[2,4,7,6] = BatchNormalization(%c, %scale, %bias, %mean, %var) "
                 "{epsilon=0.001} @bn\n"
                 "}\n");
    aglm_graph *before = parse_ir(text), *after = parse_ir(text);
    assert_int_equal(pass_run(f, after), 1);
    assert_int_equal(aglm_graph_num_nodes(after), 1);
    assert_string_equal(aglm_node_op(aglm_graph_node(after, 0)), "Conv");
    assert_same_results(f, before, after, 1e-5, 1e-4);
    aglm_graph_free(before);
    aglm_graph_free(after);
}

/* Weights and BN parameters as Constant nodes (how the ONNX frontend keeps paddle's), and a
 * depthwise Conv: folded all the same. */
static void test_constant_nodes_and_depthwise(void **state)
{
    pass_fx *f = *state;
    const char *text =
        "graph main(%x: f32[1,2,4,4]) -> (%y: f32[1,2,4,4]) {\n"
        "  %w: f32[2,1,3,3] = Constant() {value=tensor f32[2,1,3,3] [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, "
        "0.7, 0.8, 0.9, -0.1, -0.2, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8, -0.9]}\n"
        "  %s: f32[2] = Constant() {value=tensor f32[2] [0.5, 2.0]}\n"
        "  %b: f32[2] = Constant() {value=tensor f32[2] [0.1, -0.1]}\n"
        "  %m: f32[2] = Constant() {value=tensor f32[2] [0.3, 0.2]}\n"
        "  %v: f32[2] = Constant() {value=tensor f32[2] [0.9, 1.5]}\n"
        "  %c: f32[1,2,4,4] = Conv(%x, %w) {group=2, pads=[1, 1, 1, 1]} @conv\n"
        "  %y: f32[1,2,4,4] = BatchNormalization(%c, %s, %b, %m, %v) @bn\n"
        "}\n";
    aglm_graph *before = parse_ir(text), *after = parse_ir(text);
    assert_int_equal(pass_run(f, after), 1);
    for (size_t i = 0; i < aglm_graph_num_nodes(after); i++)
        assert_string_not_equal(aglm_node_op(aglm_graph_node(after, i)), "BatchNormalization");
    assert_same_results(f, before, after, 1e-5, 1e-4);
    aglm_graph_free(before);
    aglm_graph_free(after);
}

/* Gemm with transB=1, alpha, beta and a bias: op(B) column j is row j of B. */
static void test_gemm_trans_b_same_results(void **state)
{
    pass_fx *f = *state;
    static char text[16384];
    snprintf(text, sizeof text, "graph main(%%a: f32[3,5]) -> (%%y: f32[3,4]) {\n");
    ir_const(text, sizeof text, "w", 2, D(4, 5), 11, 1.0f, 0.0f);
    ir_const(text, sizeof text, "c", 1, D(4), 12, 1.0f, 0.0f);
    ir_const(text, sizeof text, "scale", 1, D(4), 13, 1.0f, 0.0f);
    ir_const(text, sizeof text, "bias", 1, D(4), 14, 1.0f, 0.0f);
    ir_const(text, sizeof text, "mean", 1, D(4), 15, 1.0f, 0.0f);
    ir_const(text, sizeof text, "var", 1, D(4), 16, 0.4f, 0.5f);
    strcat(text, "  %g: f32[3,4] = Gemm(%a, %w, %c) {transB=1, alpha=0.5, beta=2.0} @gemm\n"
                 "  %y: f32[3,4] = BatchNormalization(%g, %scale, %bias, %mean, %var) @bn\n"
                 "}\n");
    aglm_graph *before = parse_ir(text), *after = parse_ir(text);
    assert_int_equal(pass_run(f, after), 1);
    assert_int_equal(aglm_graph_num_nodes(after), 1);
    assert_same_results(f, before, after, 1e-5, 1e-4);
    /* and without transB: op(B) column j is column j of B */
    aglm_graph_free(before);
    aglm_graph_free(after);
    snprintf(text, sizeof text, "graph main(%%a: f32[3,5]) -> (%%y: f32[3,4]) {\n");
    ir_const(text, sizeof text, "w", 2, D(5, 4), 21, 1.0f, 0.0f);
    ir_const(text, sizeof text, "scale", 1, D(4), 23, 1.0f, 0.0f);
    ir_const(text, sizeof text, "bias", 1, D(4), 24, 1.0f, 0.0f);
    ir_const(text, sizeof text, "mean", 1, D(4), 25, 1.0f, 0.0f);
    ir_const(text, sizeof text, "var", 1, D(4), 26, 0.4f, 0.5f);
    strcat(text, "  %g: f32[3,4] = Gemm(%a, %w) @gemm\n"
                 "  %y: f32[3,4] = BatchNormalization(%g, %scale, %bias, %mean, %var) @bn\n"
                 "}\n");
    before = parse_ir(text);
    after = parse_ir(text);
    assert_int_equal(pass_run(f, after), 1);
    assert_int_equal(aglm_graph_num_nodes(after), 1);
    assert_same_results(f, before, after, 1e-5, 1e-4);
    aglm_graph_free(before);
    aglm_graph_free(after);
}

/* paddle's LearnableAffineBlock, Conv -> Mul by a scalar -> Add of a scalar (Constant nodes):
 * folded into the Conv's weights and a new bias; W' = W * 2, B' = 0 * 2 + 0.5. */
static void test_folds_scalar_affine(void **state)
{
    pass_fx *f = *state;
    const char *text = "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                       "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
                       "  %s: f32[1] = Constant() {value=tensor f32[1] [2]}\n"
                       "  %d: f32[1] = Constant() {value=tensor f32[1] [0.5]}\n"
                       "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
                       "  %m: f32[1,2,2,2] = Mul(%s, %c) @mul\n"
                       "  %y: f32[1,2,2,2] = Add(%m, %d) @add\n"
                       "}\n";
    aglm_graph *before = parse_ir(text), *g = parse_ir(text);
    assert_int_equal(pass_run(f, g), 1);
    assert_ir(g, "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                 "  const %conv_folded_W_1: f32[2,1,1,1] = [3, -4]\n"
                 "  const %conv_folded_B_1: f32[2] = [0.5, 0.5]\n"
                 "  %s: f32[1] = Constant() {value=tensor f32[1] [2]}\n"
                 "  %d: f32[1] = Constant() {value=tensor f32[1] [0.5]}\n"
                 "  %y: f32[1,2,2,2] = Conv(%x, %conv_folded_W_1, %conv_folded_B_1) @conv\n"
                 "}\n");
    assert_same_results(f, before, g, 1e-6, 1e-6);
    aglm_graph_free(before);
    aglm_graph_free(g);
}

/* The Conv's output also read elsewhere, weights that are a graph input, training mode: the
 * graph stays exactly as it was. */
static void test_leaves_what_it_cannot_fold(void **state)
{
    pass_fx *f = *state;
    static const char *const texts[] = {
        "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2], %r: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2.0]\n"
        "  const %s: f32[2] = [4.0, 1.0]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = BatchNormalization(%c, %s, %s, %s, %s) @bn\n"
        "  %r: f32[1,2,2,2] = Relu(%c) @relu\n"
        "}\n",
        "graph main(%x: f32[1,1,2,2], %w: f32[2,1,1,1]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %s: f32[2] = [4.0, 1.0]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = BatchNormalization(%c, %s, %s, %s, %s) @bn\n"
        "}\n",
        "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2.0]\n"
        "  const %s: f32[2] = [4.0, 1.0]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = BatchNormalization(%c, %s, %s, %s, %s) {training_mode=1} @bn\n"
        "}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        aglm_graph *g = parse_ir(texts[i]);
        char *want = aglm_graph_to_text(g, 0);
        assert_int_equal(pass_run(f, g), 0);
        assert_ir(g, want);
        free(want);
        aglm_graph_free(g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds_into_conv_without_bias),
        cmocka_unit_test(test_conv_bn_same_results),
        cmocka_unit_test(test_constant_nodes_and_depthwise),
        cmocka_unit_test(test_gemm_trans_b_same_results),
        cmocka_unit_test(test_folds_scalar_affine),
        cmocka_unit_test(test_leaves_what_it_cannot_fold),
    };
    return cmocka_run_group_tests(tests, setup, pass_fx_teardown);
}
