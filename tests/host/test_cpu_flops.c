/* The cpu backend's flop count (the runtime layer's aglm_flops_node), as a user reads it: the
 * `flops` of the profile op after runs of an executable compiled with profile=1 (the Lua
 * x:profile().flops and cpu_fp32.lua's "GFLOP per run" line). Every counted op once, with grouping,
 * strides, padding, batching and a transposed Gemm operand, whose counts are worked out by hand
 * below; element-wise ops count nothing; the sum grows with the runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

/* Multiply-adds per op, each x 2 for flops:
 *   Conv x[2,4,9,9] w[6,2,3,3] group 2, stride 2, pads 1 -> [2,6,5,5]: 300 outputs x 2*3*3 = 5400
 *   ConvTranspose x[2,4,9,9] w[4,3,2,2] stride 2 -> [2,3,18,18]: 648 inputs x 3*2*2 = 7776
 *   MatMul a[3,5,7] b[3,7,4] -> [3,5,4]: 60 outputs x K 7 = 420
 *   Gemm transA ga[6,5] gb[6,8] -> [5,8]: 40 outputs x K 6 = 240
 *   aglm.FusedConv x[2,4,9,9] fw[4,4,1,1] + residual, Relu -> [2,4,9,9]: 648 outputs x 4 = 2592
 *   aglm.FusedMatMul transA ga[6,5] gb[6,8] + bias, Relu -> [5,8]: 40 outputs x K 6 = 240
 *   aglm.FusedMatMul a[3,5,7] b[3,7,4] -> [3,5,4]: 60 outputs x K 7 = 420
 *   Add, Relu: not counted
 * Sum 17088 multiply-adds = 34176 flops per run. */
static const char *const graph_text =
    "graph main(%x: f32[2,4,9,9], %w: f32[6,2,3,3], %t: f32[4,3,2,2], %a: f32[3,5,7],\n"
    "           %b: f32[3,7,4], %ga: f32[6,5], %gb: f32[6,8], %fw: f32[4,4,1,1], %r: "
    "f32[2,4,9,9],\n"
    "           %bias: f32[8])\n"
    "    -> (%c, %ct, %m, %gm, %fc, %s, %fm, %fb) {\n"
    "  opset ai.onnx 17\n"
    "  opset aglm 1\n"
    "  %c = Conv(%x, %w) {group=2, strides=[2,2], pads=[1,1,1,1], kernel_shape=[3,3]} @conv\n"
    "  %ct = ConvTranspose(%x, %t) {strides=[2,2]} @convt\n"
    "  %m = MatMul(%a, %b) @matmul\n"
    "  %gm = Gemm(%ga, %gb) {transA=1} @gemm\n"
    "  %fc = aglm.FusedConv(%x, %fw, _, %r) {activation=\"Relu\"} @fused\n"
    "  %s0 = Add(%x, %r) @add\n"
    "  %s = Relu(%s0) @relu\n"
    "  %fm = aglm.FusedMatMul(%ga, %gb, %bias) {transA=1, activation=\"Relu\"} @fused_gemm\n"
    "  %fb = aglm.FusedMatMul(%a, %b) @fused_matmul\n"
    "}\n";

enum { N_IN = 10, N_OUT = 8 };
static const uint64_t flops_per_run = 34176;

static aglm_graph *parse(const char *text)
{
    aglm_graph *g = NULL;
    if (aglm_graph_parse(text, &g) != AGLM_OK || aglm_infer_shapes(g) != AGLM_OK)
        fail_msg("%s", aglm_last_error());
    return g;
}

/* Compiles graph_text with profile=1 (or without when profile is NULL), runs it `runs` times
 * on random inputs and returns the profile's flops; *st gets the profile op's status. */
static uint64_t profiled_flops(backend_fx *f, const char *profile, int runs, aglm_status *st)
{
    aglm_graph *g = parse(graph_text);
    aglm_kv kv = {"profile", profile};
    aglm_options opts = {profile ? 1u : 0u, &kv};
    aglm_exec *x = NULL;
    if (f->ops->compile(f->state, g, &opts, &x) != AGLM_OK)
        fail_msg("compile: %s", aglm_last_error());
    aglm_graph_free(g);
    static const int64_t dims[N_IN][4] = {{2, 4, 9, 9}, {6, 2, 3, 3}, {4, 3, 2, 2}, {3, 5, 7},
                                          {3, 7, 4},    {6, 5},       {6, 8},       {4, 4, 1, 1},
                                          {2, 4, 9, 9}, {8}};
    static const int ranks[N_IN] = {4, 4, 4, 3, 3, 2, 2, 4, 4, 1};
    aglm_tensor in[N_IN];
    for (int i = 0; i < N_IN; i++)
        in[i] = tensor_random(ranks[i], dims[i], (uint32_t)i + 1);
    for (int r = 0; r < runs; r++) {
        aglm_tensor out[N_OUT];
        memset(out, 0, sizeof out);
        if (f->ops->run(f->state, x, N_IN, in, N_OUT, out) != AGLM_OK)
            fail_msg("run: %s", aglm_last_error());
        for (int i = 0; i < N_OUT; i++)
            aglm_tensor_free(&out[i]);
    }
    for (int i = 0; i < N_IN; i++)
        aglm_tensor_free(&in[i]);
    aglm_profile p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    *st = f->ops->profile(f->state, x, &p);
    f->ops->release(f->state, x);
    if (*st == AGLM_OK)
        assert_true(p.struct_size >= offsetof(aglm_profile, flops) + sizeof p.flops);
    return p.flops;
}

static void test_counts_each_op_per_run(void **state)
{
    aglm_status st;
    uint64_t one = profiled_flops(*state, "1", 1, &st);
    assert_int_equal(st, AGLM_OK);
    assert_int_equal(one, flops_per_run);
}

static void test_sums_over_runs(void **state)
{
    aglm_status st;
    uint64_t three = profiled_flops(*state, "1", 3, &st);
    assert_int_equal(st, AGLM_OK);
    assert_int_equal(three, 3 * flops_per_run);
}

/* An element-wise graph does no counted work: 0, which the script prints as unknown. */
static void test_elementwise_counts_nothing(void **state)
{
    backend_fx *f = *state;
    aglm_graph *g = parse("graph main(%x: f32[4,8], %y: f32[4,8]) -> (%z) {\n"
                          "  %s = Add(%x, %y)\n"
                          "  %z = Mul(%s, %s)\n"
                          "}\n");
    aglm_kv kv = {"profile", "1"};
    aglm_options opts = {1, &kv};
    aglm_exec *x = NULL;
    assert_int_equal(f->ops->compile(f->state, g, &opts, &x), AGLM_OK);
    aglm_graph_free(g);
    int64_t dims[2] = {4, 8};
    aglm_tensor in[2] = {tensor_random(2, dims, 1), tensor_random(2, dims, 2)}, out;
    memset(&out, 0, sizeof out);
    assert_int_equal(f->ops->run(f->state, x, 2, in, 1, &out), AGLM_OK);
    aglm_tensor_free(&out);
    aglm_tensor_free(&in[0]);
    aglm_tensor_free(&in[1]);
    aglm_profile p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    assert_int_equal(f->ops->profile(f->state, x, &p), AGLM_OK);
    assert_int_equal(p.runs, 1);
    assert_int_equal(p.flops, 0);
    f->ops->release(f->state, x);
}

/* Without profile=1 there is no count to read: the profile op refuses. */
static void test_unprofiled_refuses(void **state)
{
    aglm_status st;
    profiled_flops(*state, NULL, 1, &st);
    assert_int_not_equal(st, AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "without option profile=1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_each_op_per_run, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_sums_over_runs, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_elementwise_counts_nothing, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_unprofiled_refuses, backend_fx_setup_cpu,
                                        backend_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
