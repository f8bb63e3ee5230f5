/* The backend under test's kernels for the aglm ops the fuse pass creates (docs/extension-ops.md),
 * run on graphs written directly in IR text: values computed by hand, and the errors a malformed
 * node or a run-time shape gets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"
#include "ir_pass_fixture.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define V(...) ((const double[]){__VA_ARGS__})

/* Runs the IR graph `text` on `n_in` inputs; returns the status, *out filled on success. */
static aglm_status run_ir(backend_fx *f, const char *text, size_t n_in,
                          const aglm_tensor *const *ins, aglm_tensor *out)
{
    aglm_graph *g = ir_pass_parse(text);
    memset(out, 0, sizeof *out);
    aglm_status st = compile_run(f, g, NULL, n_in, ins, NULL, 1, out);
    aglm_graph_free(g);
    return st;
}

/* A 3-D MatMul plus bias with the residual before a Relu: max(0, x w + b + r). */
static void test_fused_matmul_values(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 3, D(1, 2, 2), V(1, 2, 3, 4)),
                r = tensor_of(AGLM_F32, 3, D(1, 2, 2), V(-10, 0.5, 1, -100)), y;
    const aglm_tensor *ins[2] = {&x, &r};
    assert_int_equal(
        run_ir(f,
               "graph main(%x: f32[1,2,2], %r: f32[1,2,2]) -> (%y: f32[1,2,2]) {\n"
               "  opset aglm 1\n"
               "  const %w: f32[2,2] = [1, 0, 0, -1]\n"
               "  const %b: f32[2] = [0.5, 1]\n"
               "  %y: f32[1,2,2] = aglm.FusedMatMul(%x, %w, %b, %r) {activation=\"Relu\"}\n"
               "}\n",
               2, ins, &y),
        AGLM_OK);
    /* x w = [[1, -2], [3, -4]]; + b = [[1.5, -1], [3.5, -3]]; + r = [[-8.5, -0.5], [4.5, -103]] */
    assert_values(&y, 3, D(1, 2, 2), V(0, 0, 4.5, 0));
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&r);
}

/* IR text writes whole numbers as ints: activation_params=[2] is LeakyRelu's alpha 2, not the
 * default 0.01; a string list is refused. */
static void test_fused_int_params(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 2, D(1, 2), V(1, -1)), y;
    const aglm_tensor *ins[1] = {&x};
    assert_int_equal(run_ir(f,
                            "graph main(%x: f32[1,2]) -> (%y: f32[1,2]) {\n"
                            "  opset aglm 1\n"
                            "  const %w: f32[2,2] = [1, 0, 0, 1]\n"
                            "  %y: f32[1,2] = aglm.FusedMatMul(%x, %w) {activation=\"LeakyRelu\", "
                            "activation_params=[2]}\n"
                            "}\n",
                            1, ins, &y),
                     AGLM_OK);
    assert_values(&y, 2, D(1, 2), V(1, -2));
    aglm_tensor_free(&y);
    assert_int_not_equal(
        run_ir(f,
               "graph main(%x: f32[1,2]) -> (%y: f32[1,2]) {\n"
               "  opset aglm 1\n"
               "  const %w: f32[2,2] = [1, 0, 0, 1]\n"
               "  %y: f32[1,2] = aglm.FusedMatMul(%x, %w) {activation=\"LeakyRelu\", "
               "activation_params=[\"a\"]}\n"
               "}\n",
               1, ins, &y),
        AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "activation_params must be a list of numbers"));
    aglm_tensor_free(&x);
}

/* A Gemm with transB, alpha and C, then Swish with alpha 2 scaled by 3: 3 g / (1 + e^(-2 g)). */
static void test_fused_gemm_swish_values(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 2, D(1, 2), V(1, -1)), y;
    const aglm_tensor *ins[1] = {&x};
    assert_int_equal(run_ir(f,
                            "graph main(%x: f32[1,2]) -> (%y: f32[1,2]) {\n"
                            "  opset aglm 1\n"
                            "  const %w: f32[2,2] = [1, 2, 3, 4]\n"
                            "  const %c: f32[2] = [1, 0]\n"
                            "  %y: f32[1,2] = aglm.FusedMatMul(%x, %w, %c) {transB=1, alpha=0.5, "
                            "activation=\"Swish\", activation_params=[2.0], post_scale=3.0}\n"
                            "}\n",
                            1, ins, &y),
                     AGLM_OK);
    /* x w^T = [-1, -1]; * 0.5 + c = [0.5, -0.5] */
    double g0 = 0.5, g1 = -0.5;
    assert_values(&y, 2, D(1, 2), V(3 * g0 / (1 + exp(-2 * g0)), 3 * g1 / (1 + exp(-2 * g1))));
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* PRelu with one slope per channel: along C for FusedConv, along N for FusedMatMul (slopes
 * written as whole numbers, which IR text reads as ints); a slope count that is not the
 * channels' is refused. */
static void test_fused_prelu_values(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 4, D(1, 1, 1, 2), V(1, -1)), y;
    const aglm_tensor *ins[1] = {&x};
    assert_int_equal(run_ir(f,
                            "graph main(%x: f32[1,1,1,2]) -> (%y: f32[1,2,1,2]) {\n"
                            "  opset aglm 1\n"
                            "  const %w: f32[2,1,1,1] = [1, 2]\n"
                            "  %y: f32[1,2,1,2] = aglm.FusedConv(%x, %w) {activation=\"PRelu\", "
                            "activation_params=[0.5, 3.5]}\n"
                            "}\n",
                            1, ins, &y),
                     AGLM_OK);
    /* channel 0: [1, -1] -> [1, -0.5]; channel 1: [2, -2] -> [2, -7] */
    assert_values(&y, 4, D(1, 2, 1, 2), V(1, -0.5, 2, -7));
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    aglm_tensor a = tensor_of(AGLM_F32, 2, D(2, 2), V(1, -1, -2, 3));
    ins[0] = &a;
    assert_int_equal(run_ir(f,
                            "graph main(%a: f32[2,2]) -> (%y: f32[2,2]) {\n"
                            "  opset aglm 1\n"
                            "  const %w: f32[2,2] = [1, 0, 0, 1]\n"
                            "  %y: f32[2,2] = aglm.FusedMatMul(%a, %w) {activation=\"PRelu\", "
                            "activation_params=[2, 3]}\n"
                            "}\n",
                            1, ins, &y),
                     AGLM_OK);
    assert_values(&y, 2, D(2, 2), V(1, -3, -4, 3));
    aglm_tensor_free(&y);
    assert_int_not_equal(run_ir(f,
                                "graph main(%a: f32[2,2]) -> (%y: f32[2,2]) {\n"
                                "  opset aglm 1\n"
                                "  const %w: f32[2,2] = [1, 0, 0, 1]\n"
                                "  %y: f32[2,2] = aglm.FusedMatMul(%a, %w) {activation=\"PRelu\", "
                                "activation_params=[0.5, 1.5, 2.5]}\n"
                                "}\n",
                                1, ins, &y),
                         AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "3 slopes"));
    aglm_tensor_free(&y);
    aglm_tensor_free(&a);
}

/* A residual whose shape only shows at run time, and a bias that is not B's last dim: errors
 * naming the shapes. */
static void test_fused_matmul_refusals(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_random(3, D(1, 2, 2), 1), r = tensor_random(3, D(1, 3, 2), 2), y;
    const aglm_tensor *ins[2] = {&x, &r};
    assert_int_equal(run_ir(f,
                            "graph main(%x: f32[1,2,2], %r: f32[1,N,2]) -> (%y: f32[1,2,2]) {\n"
                            "  opset aglm 1\n"
                            "  const %w: f32[2,2] = [1, 0, 0, -1]\n"
                            "  %y: f32[1,2,2] = aglm.FusedMatMul(%x, %w, _, %r)\n"
                            "}\n",
                            2, ins, &y),
                     AGLM_ERR_SHAPE);
    assert_non_null(strstr(aglm_last_error(), "residual R [1,3,2]"));
    assert_non_null(strstr(aglm_last_error(), "product [1,2,2]"));
    aglm_tensor_free(&y);
    aglm_graph *g = ir_pass_parse("graph main(%x: f32[1,2,2]) -> (%y: f32) {\n"
                                  "  opset aglm 1\n"
                                  "  const %w: f32[2,2] = [1, 0, 0, -1]\n"
                                  "  const %b: f32[3] = [1, 2, 3]\n"
                                  "  %y: f32 = aglm.FusedMatMul(%x, %w, %b) @fm\n"
                                  "}\n");
    assert_int_equal(aglm_infer_shapes(g), AGLM_ERR_SHAPE);
    assert_non_null(strstr(aglm_last_error(), "fm"));
    assert_non_null(strstr(aglm_last_error(), "bias f32[3]"));
    aglm_graph_free(g);
    aglm_tensor_free(&x);
    aglm_tensor_free(&r);
}

/* aglm.LayerNorm without a scale: (x - mean) / sqrt(var + eps) over the last axis, plus B. */
static void test_layer_norm_values(void **state)
{
    backend_fx *f = *state;
    aglm_tensor x = tensor_of(AGLM_F32, 2, D(2, 2), V(1, 3, -2, 2)), y;
    const aglm_tensor *ins[1] = {&x};
    assert_int_equal(run_ir(f,
                            "graph main(%x: f32[2,2]) -> (%y: f32[2,2]) {\n"
                            "  opset aglm 1\n"
                            "  const %b: f32[2] = [10, 20]\n"
                            "  %y: f32[2,2] = aglm.LayerNorm(%x, _, %b) {axis=-1, epsilon=0.0}\n"
                            "}\n",
                            1, ins, &y),
                     AGLM_OK);
    assert_values(&y, 2, D(2, 2), V(9, 21, 9, 21));
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* A program with scalars on both sides, a tensor operand and unary ops, over more elements than
 * one block (so blocks and their offsets matter): each element as computed here. */
static void test_elementwise_values(void **state)
{
    backend_fx *f = *state;
    int64_t n = 3000;
    aglm_tensor x = tensor_random(1, &n, 3), t = tensor_random(1, &n, 4), y;
    const aglm_tensor *ins[2] = {&x, &t};
    assert_int_equal(
        run_ir(
            f,
            "graph main(%x: f32[3000], %t: f32[3000]) -> (%y: f32[3000]) {\n"
            "  opset aglm 1\n"
            "  %y: f32[3000] = aglm.Elementwise(%x, %t) {ops=[\"Mul\", \"Sub\", \"Tanh\", \"Max\", "
            "\"Div\", \"Abs\"], operands=[0, 0, -1, 1, 1, -1], scalars=[2, 0.5, 0, 0, 0, 0], "
            "reversed=[0, 1, 0, 1, 0, 0]}\n"
            "}\n",
            2, ins, &y),
        AGLM_OK);
    aglm_tensor want = tensor_f32(1, &n, NULL);
    const float *px = x.data, *pt = t.data;
    for (int64_t i = 0; i < n; i++) {
        float v = tanhf(0.5f - px[i] * 2.0f);
        v = pt[i] > v ? pt[i] : v;
        ((float *)want.data)[i] = fabsf(v / pt[i]);
    }
    assert_close(&y, &want, 1e-6, 1e-5);
    aglm_tensor_free(&want);
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
    aglm_tensor_free(&t);
}

/* Malformed programs: an unknown op, lists of different lengths, a unary op given an operand,
 * an operand of another shape. */
static void test_elementwise_refusals(void **state)
{
    backend_fx *f = *state;
    static const struct {
        const char *attrs, *want;
    } cases[] = {
        {"ops=[\"Mish\"], operands=[-1], scalars=[0.0], reversed=[0]", "op 0 'Mish' is not"},
        {"ops=[\"Neg\", \"Abs\"], operands=[-1], scalars=[0.0, 0.0], reversed=[0, 0]",
         "one entry per op (2)"},
        {"ops=[\"Neg\"], operands=[1], scalars=[0.0], reversed=[0]", "unary ops take -1"},
        {"ops=[\"Add\"], operands=[1], scalars=[0.0], reversed=[0]",
         "must be f32 of X's shape [2,3]"},
    };
    aglm_tensor x = tensor_random(2, D(2, 3), 5), t = tensor_random(2, D(3, 2), 6), y;
    const aglm_tensor *ins[2] = {&x, &t};
    static char text[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text,
                 "graph main(%%x: f32[2,3], %%t: f32[3,2]) -> (%%y: f32[2,3]) {\n"
                 "  opset aglm 1\n"
                 "  %%y: f32[2,3] = aglm.Elementwise(%%x, %%t) {%s}\n"
                 "}\n",
                 cases[i].attrs);
        aglm_status st = run_ir(f, text, 2, ins, &y);
        if (st == AGLM_OK || !strstr(aglm_last_error(), cases[i].want))
            fail_msg("%s: status %d, error '%s', expected '%s'", cases[i].attrs, (int)st,
                     aglm_last_error(), cases[i].want);
        aglm_tensor_free(&y);
    }
    aglm_tensor_free(&x);
    aglm_tensor_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_matmul_values),
        cmocka_unit_test(test_fused_int_params),
        cmocka_unit_test(test_fused_gemm_swish_values),
        cmocka_unit_test(test_fused_matmul_refusals),
        cmocka_unit_test(test_fused_prelu_values),
        cmocka_unit_test(test_layer_norm_values),
        cmocka_unit_test(test_elementwise_values),
        cmocka_unit_test(test_elementwise_refusals),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
