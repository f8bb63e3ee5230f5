/* The fuse pass beyond Conv: MatMul / Gemm epilogues into aglm.FusedMatMul, Swish (x *
 * Sigmoid(x), paddle's x * Sigmoid(k x)) as an activation, and the LayerNorm and Gelu patterns.
 * IR text in, the pass, IR text out; the rewritten graph computing what the original does on
 * the cpu backend; and what must block each rewrite. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pass_fixture.h"

static int setup(void **state)
{
    return pass_fx_setup(state, "fuse");
}

/* Runs the pass on `text`, expects `want` (NULL: only that it changed) and the same results. */
static void check_rewrite(pass_fx *f, const char *text, const char *want, double atol, double rtol)
{
    aglm_graph *before = parse_ir(text), *g = parse_ir(text);
    assert_int_equal(pass_run(f, g), 1);
    if (want)
        assert_ir(g, want);
    assert_same_results(f, before, g, atol, rtol);
    aglm_graph_free(before);
    aglm_graph_free(g);
}

/* The pass leaves `text` exactly as it was. */
static void check_untouched(pass_fx *f, const char *text)
{
    aglm_graph *g = parse_ir(text);
    char *want = aglm_graph_to_text(g, 0);
    if (pass_run(f, g) != 0)
        fail_msg("the pass changed:\n%s", text);
    assert_ir(g, want);
    free(want);
    aglm_graph_free(g);
}

/* The op of the only node of g that is not a Constant, or fails. */
static size_t count_op(const aglm_graph *g, const char *op)
{
    size_t n = 0;
    for (size_t i = 0; i < aglm_graph_num_nodes(g); i++)
        n += strcmp(aglm_node_op(aglm_graph_node(g, i)), op) == 0;
    return n;
}

static void test_matmul_bias_swish_ir(void **state)
{
    check_rewrite(*state,
                  "graph main(%x: f32[2,3,4]) -> (%y: f32[2,3,2]) {\n"
                  "  const %w: f32[4,2] = [1, -2, 0.5, 0.25, -1, 2, 1.5, -0.5]\n"
                  "  const %b: f32[2] = [0.5, -0.25]\n"
                  "  %m: f32[2,3,2] = MatMul(%x, %w) @mm\n"
                  "  %a: f32[2,3,2] = Add(%m, %b) @bias\n"
                  "  %s: f32[2,3,2] = Sigmoid(%a) @sig\n"
                  "  %y: f32[2,3,2] = Mul(%a, %s) @swish\n"
                  "}\n",
                  "graph main(%x: f32[2,3,4]) -> (%y: f32[2,3,2]) {\n"
                  "  opset aglm 1\n"
                  "  const %w: f32[4,2] = [1, -2, 0.5, 0.25, -1, 2, 1.5, -0.5]\n"
                  "  const %b: f32[2] = [0.5, -0.25]\n"
                  "  %y: f32[2,3,2] = aglm.FusedMatMul(%x, %w, %b) {activation=\"Swish\"} @mm\n"
                  "}\n",
                  1e-6, 1e-5);
}

/* paddle2onnx's swish: x * Sigmoid(x * k), after a Conv. */
static void test_conv_paddle_swish_ir(void **state)
{
    check_rewrite(*state,
                  "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                  "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
                  "  const %k: f32[] = [1.5]\n"
                  "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
                  "  %g: f32[1,2,2,2] = Mul(%c, %k) @beta\n"
                  "  %s: f32[1,2,2,2] = Sigmoid(%g) @sig\n"
                  "  %y: f32[1,2,2,2] = Mul(%c, %s) @swish\n"
                  "}\n",
                  "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                  "  opset aglm 1\n"
                  "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
                  "  %y: f32[1,2,2,2] = aglm.FusedConv(%x, %w) {activation=\"Swish\", "
                  "activation_params=[1.5]} @conv\n"
                  "}\n",
                  1e-6, 1e-5);
}

/* Gemm keeps its attributes and C; a residual after the activation becomes input 3. */
static void test_gemm_relu_residual_ir(void **state)
{
    check_rewrite(*state,
                  "graph main(%x: f32[3,2], %r: f32[3,2]) -> (%y: f32[3,2]) {\n"
                  "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
                  "  const %c: f32[2] = [0.5, -0.25]\n"
                  "  %g: f32[3,2] = Gemm(%x, %w, %c) {alpha=0.5, transB=1} @gemm\n"
                  "  %a: f32[3,2] = Relu(%g) @relu\n"
                  "  %y: f32[3,2] = Add(%r, %a) @res\n"
                  "}\n",
                  "graph main(%x: f32[3,2], %r: f32[3,2]) -> (%y: f32[3,2]) {\n"
                  "  opset aglm 1\n"
                  "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
                  "  const %c: f32[2] = [0.5, -0.25]\n"
                  "  %y: f32[3,2] = aglm.FusedMatMul(%x, %w, %c, %r) {alpha=0.5, transB=1, "
                  "activation=\"Relu\", "
                  "residual_before_activation=0} @gemm\n"
                  "}\n",
                  1e-6, 1e-5);
}

/* Every activation, with and without a residual before it, after a batched (3-D) and a 2-D
 * MatMul with a bias: one node, the same results. */
static void test_matmul_every_epilogue_same_results(void **state)
{
    pass_fx *f = *state;
    static const char *const acts[] = {
        "Relu",
        "Clip(%v, %lo, %hi)",
        "Sigmoid",
        "HardSigmoid(%v) {alpha=0.3, beta=0.4}",
        "HardSwish",
        "Tanh",
        "LeakyRelu(%v) {alpha=0.2}",
        "Gelu",
        "Gelu(%v) {approximate=\"tanh\"}",
        "Max(%lo, %v)",
        "Min(%v, %hi)",
        "PRelu(%v, %slope)",
        "PRelu(%v, %slope2)",
    };
    static const char *const shapes[] = {"2,5,6", "5,6"}, *const out_shapes[] = {"2,5,3", "5,3"};
    static char text[16384], act[128];
    for (size_t s = 0; s < 2; s++)
        for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
            for (int residual = 0; residual < 2; residual++) {
                const char *o = out_shapes[s];
                snprintf(text, sizeof text,
                         "graph main(%%x: f32[%s], %%r: f32[%s]) -> (%%y: f32[%s]) {\n", shapes[s],
                         o, o);
                ir_const(text, sizeof text, "w", 2, D(6, 3), 7, 1.0f, 0.0f);
                ir_const(text, sizeof text, "b", 1, D(3), 9, 1.0f, 0.0f);
                strcat(text, "  const %lo: f32[] = [-0.25]\n  const %hi: f32[] = [0.75]\n");
                /* PRelu's slope along N, as [N] and as [1, N] */
                ir_const(text, sizeof text, "slope", 1, D(3), 11, 1.0f, 0.0f);
                ir_const(text, sizeof text, "slope2", 2, D(1, 3), 12, 1.0f, 0.0f);
                size_t len = strlen(text);
                snprintf(text + len, sizeof text - len,
                         "  %%m: f32[%s] = MatMul(%%x, %%w)\n  %%c: f32[%s] = Add(%%b, %%m)\n", o,
                         o);
                if (residual) {
                    len = strlen(text);
                    snprintf(text + len, sizeof text - len, "  %%s: f32[%s] = Add(%%c, %%r)\n", o);
                }
                const char *v = residual ? "%s" : "%c", *at = strstr(acts[a], "%v");
                if (at)
                    snprintf(act, sizeof act, "%.*s%s%s", (int)(at - acts[a]), acts[a], v, at + 2);
                else
                    snprintf(act, sizeof act, "%s(%s)", acts[a], v);
                len = strlen(text);
                snprintf(text + len, sizeof text - len, "  %%y: f32[%s] = %s\n}\n", o, act);
                aglm_graph *before = parse_ir(text), *g = parse_ir(text);
                assert_int_equal(pass_run(f, g), 1);
                if (count_op(g, "FusedMatMul") != 1 || aglm_graph_num_nodes(g) != 1)
                    fail_msg("not fused into one node:\n%s", text);
                assert_same_results(f, before, g, 1e-5, 1e-5);
                aglm_graph_free(before);
                aglm_graph_free(g);
            }
}

/* A product read twice, a bias that is not a vector of B's last dim, a bias from a graph input,
 * a Swish whose Sigmoid is read elsewhere, PRelu slopes not constant or not along N: nothing to
 * fuse. */
static void test_matmul_leaves_what_it_cannot_fuse(void **state)
{
    static const char *const texts[] = {
        "graph main(%x: f32[3,2]) -> (%y: f32[3,2], %z: f32[3,2]) {\n"
        "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
        "  %m: f32[3,2] = MatMul(%x, %w) @mm\n"
        "  %y: f32[3,2] = Relu(%m) @relu\n"
        "  %z: f32[3,2] = Tanh(%m) @tanh\n"
        "}\n",
        "graph main(%x: f32[3,2]) -> (%y: f32[3,2]) {\n"
        "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
        "  const %b: f32[3,1] = [1, 2, 3]\n"
        "  %m: f32[3,2] = MatMul(%x, %w) @mm\n"
        "  %y: f32[3,2] = Add(%m, %b) @bias\n"
        "}\n",
        "graph main(%x: f32[3,2], %b: f32[2]) -> (%y: f32[3,2]) {\n"
        "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
        "  %m: f32[3,2] = MatMul(%x, %w) @mm\n"
        "  %y: f32[3,2] = Add(%m, %b) @bias\n"
        "}\n",
        "graph main(%x: f32[3,2]) -> (%y: f32[3,2], %s: f32[3,2]) {\n"
        "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
        "  %m: f32[3,2] = MatMul(%x, %w) @mm\n"
        "  %s: f32[3,2] = Sigmoid(%m) @sig\n"
        "  %y: f32[3,2] = Mul(%m, %s) @swish\n"
        "}\n",
        /* PRelu slopes along M (not N), from a graph input, with the product read again */
        "graph main(%x: f32[3,2]) -> (%y: f32[3,2]) {\n"
        "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
        "  const %s: f32[3,1] = [0.5, 0.25, 2]\n"
        "  %m: f32[3,2] = MatMul(%x, %w) @mm\n"
        "  %y: f32[3,2] = PRelu(%m, %s) @prelu\n"
        "}\n",
        "graph main(%x: f32[3,2], %s: f32[2]) -> (%y: f32[3,2]) {\n"
        "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
        "  %m: f32[3,2] = MatMul(%x, %w) @mm\n"
        "  %y: f32[3,2] = PRelu(%m, %s) @prelu\n"
        "}\n",
        "graph main(%x: f32[3,2]) -> (%y: f32[3,2], %z: f32[3,2]) {\n"
        "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
        "  const %s: f32[2] = [0.5, 0.25]\n"
        "  %m: f32[3,2] = MatMul(%x, %w) @mm\n"
        "  %y: f32[3,2] = PRelu(%m, %s) @prelu\n"
        "  %z: f32[3,2] = Neg(%m) @neg\n"
        "}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_untouched(*state, texts[i]);
}

/* The LayerNorm pattern as torch and paddle export it (Pow, opset 13): aglm.LayerNorm; then a
 * Relu stays (no anchor takes it). */
static void test_layer_norm_pow_ir(void **state)
{
    check_rewrite(*state,
                  "graph main(%x: f32[2,3,4]) -> (%y: f32[2,3,4]) {\n"
                  "  opset ai.onnx 13\n"
                  "  const %two: f32[] = [2]\n"
                  "  const %eps: f32[] = [1e-05]\n"
                  "  const %g: f32[4] = [1, 2, -1, 0.5]\n"
                  "  const %b: f32[4] = [0.5, 0, -0.5, 1]\n"
                  "  %m: f32[2,3,1] = ReduceMean(%x) {axes=[-1]} @mean\n"
                  "  %d: f32[2,3,4] = Sub(%x, %m) @sub\n"
                  "  %p: f32[2,3,4] = Pow(%d, %two) @pow\n"
                  "  %v: f32[2,3,1] = ReduceMean(%p) {axes=[-1]} @var\n"
                  "  %ve: f32[2,3,1] = Add(%v, %eps) @addeps\n"
                  "  %s: f32[2,3,1] = Sqrt(%ve) @sqrt\n"
                  "  %n: f32[2,3,4] = Div(%d, %s) @div\n"
                  "  %sc: f32[2,3,4] = Mul(%n, %g) @scale\n"
                  "  %y: f32[2,3,4] = Add(%sc, %b) @shift\n"
                  "}\n",
                  "graph main(%x: f32[2,3,4]) -> (%y: f32[2,3,4]) {\n"
                  "  opset ai.onnx 13\n"
                  "  opset aglm 1\n"
                  "  const %g: f32[4] = [1, 2, -1, 0.5]\n"
                  "  const %b: f32[4] = [0.5, 0, -0.5, 1]\n"
                  "  %y: f32[2,3,4] = aglm.LayerNorm(%x, %g, %b) {axis=-1, epsilon=1e-05} @mean\n"
                  "}\n",
                  1e-5, 1e-4);
}

/* Mul(d, d) for the variance, two trailing axes given as positives, no scale or bias, at
 * opset 17: still aglm.LayerNorm (LayerNormalization needs a scale); with a scale at 17:
 * LayerNormalization. */
static void test_layer_norm_variants(void **state)
{
    pass_fx *f = *state;
    check_rewrite(f,
                  "graph main(%x: f32[2,3,4]) -> (%y: f32[2,3,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %eps: f32[1] = [0.001]\n"
                  "  %m: f32[2,1,1] = ReduceMean(%x) {axes=[1, 2]} @mean\n"
                  "  %d: f32[2,3,4] = Sub(%x, %m) @sub\n"
                  "  %p: f32[2,3,4] = Mul(%d, %d) @sq\n"
                  "  %v: f32[2,1,1] = ReduceMean(%p) {axes=[2, 1]} @var\n"
                  "  %ve: f32[2,1,1] = Add(%eps, %v) @addeps\n"
                  "  %s: f32[2,1,1] = Sqrt(%ve) @sqrt\n"
                  "  %y: f32[2,3,4] = Div(%d, %s) @div\n"
                  "}\n",
                  "graph main(%x: f32[2,3,4]) -> (%y: f32[2,3,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  opset aglm 1\n"
                  "  %y: f32[2,3,4] = aglm.LayerNorm(%x) {axis=-2, epsilon=0.001} @mean\n"
                  "}\n",
                  1e-5, 1e-4);
    check_rewrite(f,
                  "graph main(%x: f32[2,3,4]) -> (%y: f32[2,3,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %eps: f32[] = [1e-05]\n"
                  "  const %g: f32[4] = [1, 2, -1, 0.5]\n"
                  "  %m: f32[2,3,1] = ReduceMean(%x) {axes=[-1]} @mean\n"
                  "  %d: f32[2,3,4] = Sub(%x, %m) @sub\n"
                  "  %p: f32[2,3,4] = Mul(%d, %d) @sq\n"
                  "  %v: f32[2,3,1] = ReduceMean(%p) {axes=[-1]} @var\n"
                  "  %ve: f32[2,3,1] = Add(%v, %eps) @addeps\n"
                  "  %s: f32[2,3,1] = Sqrt(%ve) @sqrt\n"
                  "  %n: f32[2,3,4] = Div(%d, %s) @div\n"
                  "  %y: f32[2,3,4] = Mul(%g, %n) @scale\n"
                  "}\n",
                  "graph main(%x: f32[2,3,4]) -> (%y: f32[2,3,4]) {\n"
                  "  opset ai.onnx 17\n"
                  "  const %g: f32[4] = [1, 2, -1, 0.5]\n"
                  "  %y: f32[2,3,4] = LayerNormalization(%x, %g) {axis=-1, epsilon=1e-05} @mean\n"
                  "}\n",
                  1e-5, 1e-4);
}

/* What blocks the LayerNorm match: an epsilon that is not a constant, a cube instead of a
 * square, the centred value read a third time, a leading (not trailing) axis. */
static void test_layer_norm_refusals(void **state)
{
    static const char *const head = "graph main(%x: f32[2,3,4], %e: f32[]) -> (%y: f32[2,3,4]) {\n"
                                    "  const %two: f32[] = [2]\n"
                                    "  const %three: f32[] = [3]\n"
                                    "  const %eps: f32[] = [1e-05]\n";
    static const char *const bodies[] = {
        "  %m: f32[2,3,1] = ReduceMean(%x) {axes=[-1]}\n  %d: f32[2,3,4] = Sub(%x, %m)\n"
        "  %p: f32[2,3,4] = Pow(%d, %two)\n  %v: f32[2,3,1] = ReduceMean(%p) {axes=[-1]}\n"
        "  %ve: f32[2,3,1] = Add(%v, %e)\n  %s: f32[2,3,1] = Sqrt(%ve)\n  %y: f32[2,3,4] = Div(%d, "
        "%s)\n}\n",
        "  %m: f32[2,3,1] = ReduceMean(%x) {axes=[-1]}\n  %d: f32[2,3,4] = Sub(%x, %m)\n"
        "  %p: f32[2,3,4] = Pow(%d, %three)\n  %v: f32[2,3,1] = ReduceMean(%p) {axes=[-1]}\n"
        "  %ve: f32[2,3,1] = Add(%v, %eps)\n  %s: f32[2,3,1] = Sqrt(%ve)\n  %y: f32[2,3,4] = "
        "Div(%d, %s)\n}\n",
        "  %m: f32[2,3,1] = ReduceMean(%x) {axes=[-1]}\n  %d: f32[2,3,4] = Sub(%x, %m)\n"
        "  %p: f32[2,3,4] = Pow(%d, %two)\n  %v: f32[2,3,1] = ReduceMean(%p) {axes=[-1]}\n"
        "  %ve: f32[2,3,1] = Add(%v, %eps)\n  %s: f32[2,3,1] = Sqrt(%ve)\n  %q: f32[2,3,4] = "
        "Div(%d, %s)\n"
        "  %y: f32[2,3,4] = Add(%q, %d)\n}\n",
        "  %m: f32[1,3,4] = ReduceMean(%x) {axes=[0]}\n  %d: f32[2,3,4] = Sub(%x, %m)\n"
        "  %p: f32[2,3,4] = Pow(%d, %two)\n  %v: f32[1,3,4] = ReduceMean(%p) {axes=[0]}\n"
        "  %ve: f32[1,3,4] = Add(%v, %eps)\n  %s: f32[1,3,4] = Sqrt(%ve)\n  %y: f32[2,3,4] = "
        "Div(%d, %s)\n}\n",
    };
    static char text[4096];
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        snprintf(text, sizeof text, "%s%s", head, bodies[i]);
        check_untouched(*state, text);
    }
}

/* Gelu as torch exports it (x / sqrt 2, opset 13) after a MatMul with a bias: the pattern
 * becomes aglm.Gelu, which the MatMul then takes as its activation. */
static void test_gelu_erf_into_matmul_ir(void **state)
{
    check_rewrite(*state,
                  "graph main(%x: f32[3,2]) -> (%y: f32[3,2]) {\n"
                  "  opset ai.onnx 13\n"
                  "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
                  "  const %b: f32[2] = [0.5, -0.25]\n"
                  "  const %r2: f32[] = [1.4142135]\n"
                  "  const %one: f32[] = [1]\n"
                  "  const %half: f32[] = [0.5]\n"
                  "  %m: f32[3,2] = MatMul(%x, %w) @mm\n"
                  "  %a: f32[3,2] = Add(%m, %b) @bias\n"
                  "  %q: f32[3,2] = Div(%a, %r2) @div\n"
                  "  %e: f32[3,2] = Erf(%q) @erf\n"
                  "  %e1: f32[3,2] = Add(%e, %one) @add1\n"
                  "  %p: f32[3,2] = Mul(%a, %e1) @mul\n"
                  "  %y: f32[3,2] = Mul(%p, %half) @half\n"
                  "}\n",
                  "graph main(%x: f32[3,2]) -> (%y: f32[3,2]) {\n"
                  "  opset ai.onnx 13\n"
                  "  opset aglm 1\n"
                  "  const %w: f32[2,2] = [1, -2, 0.5, 0.25]\n"
                  "  const %b: f32[2] = [0.5, -0.25]\n"
                  "  %y: f32[3,2] = aglm.FusedMatMul(%x, %w, %b) {activation=\"Gelu\", "
                  "activation_params=[0.0]} @mm\n"
                  "}\n",
                  1e-6, 1e-5);
}

/* x * 0.70711 with the 0.5 on x, at opset 20: ONNX Gelu; the tanh form: approximate="tanh". */
static void test_gelu_forms(void **state)
{
    pass_fx *f = *state;
    check_rewrite(f,
                  "graph main(%x: f32[2,5]) -> (%y: f32[2,5]) {\n"
                  "  opset ai.onnx 20\n"
                  "  const %c: f32[] = [0.70710678]\n"
                  "  const %one: f32[] = [1]\n"
                  "  const %half: f32[] = [0.5]\n"
                  "  %h: f32[2,5] = Mul(%half, %x) @half\n"
                  "  %q: f32[2,5] = Mul(%x, %c) @scale\n"
                  "  %e: f32[2,5] = Erf(%q) @erf\n"
                  "  %e1: f32[2,5] = Add(%one, %e) @add1\n"
                  "  %y: f32[2,5] = Mul(%h, %e1) @mul\n"
                  "}\n",
                  "graph main(%x: f32[2,5]) -> (%y: f32[2,5]) {\n"
                  "  opset ai.onnx 20\n"
                  "  %y: f32[2,5] = Gelu(%x) @scale\n"
                  "}\n",
                  1e-6, 1e-5);
    check_rewrite(f,
                  "graph main(%x: f32[2,5]) -> (%y: f32[2,5]) {\n"
                  "  opset ai.onnx 13\n"
                  "  const %three: f32[] = [3]\n"
                  "  const %k: f32[] = [0.044715]\n"
                  "  const %c: f32[] = [0.7978846]\n"
                  "  const %one: f32[] = [1]\n"
                  "  const %half: f32[] = [0.5]\n"
                  "  %p: f32[2,5] = Pow(%x, %three) @pow\n"
                  "  %pk: f32[2,5] = Mul(%k, %p) @mulk\n"
                  "  %s: f32[2,5] = Add(%x, %pk) @inner\n"
                  "  %sc: f32[2,5] = Mul(%s, %c) @mulc\n"
                  "  %t: f32[2,5] = Tanh(%sc) @tanh\n"
                  "  %t1: f32[2,5] = Add(%t, %one) @add1\n"
                  "  %m: f32[2,5] = Mul(%x, %t1) @mul\n"
                  "  %y: f32[2,5] = Mul(%m, %half) @half\n"
                  "}\n",
                  "graph main(%x: f32[2,5]) -> (%y: f32[2,5]) {\n"
                  "  opset ai.onnx 13\n"
                  "  opset aglm 1\n"
                  "  %y: f32[2,5] = aglm.Gelu(%x) {approximate=\"tanh\"} @pow\n"
                  "}\n",
                  1e-6, 1e-5);
}

/* Runs the pass on `text`: no node of op `op` comes out, and the results stay. */
static void check_no_op(pass_fx *f, const char *text, const char *op)
{
    aglm_graph *before = parse_ir(text), *g = parse_ir(text);
    pass_run(f, g);
    if (count_op(g, op) != 0)
        fail_msg("the pass made a %s of:\n%s", op, text);
    assert_same_results(f, before, g, 1e-6, 1e-5);
    aglm_graph_free(before);
    aglm_graph_free(g);
}

/* What blocks the Gelu match: 1.5 for sqrt 2, 0.25 for the half, x read outside the pattern
 * (the ops may still become an element-wise chain). */
static void test_gelu_refusals(void **state)
{
    static const char *const texts[] = {
        "graph main(%x: f32[2,5]) -> (%y: f32[2,5]) {\n"
        "  const %r2: f32[] = [1.5]\n  const %one: f32[] = [1]\n  const %half: f32[] = [0.5]\n"
        "  %q: f32[2,5] = Div(%x, %r2)\n  %e: f32[2,5] = Erf(%q)\n  %e1: f32[2,5] = Add(%e, %one)\n"
        "  %p: f32[2,5] = Mul(%x, %e1)\n  %y: f32[2,5] = Mul(%p, %half)\n}\n",
        "graph main(%x: f32[2,5]) -> (%y: f32[2,5]) {\n"
        "  const %r2: f32[] = [1.4142135]\n  const %one: f32[] = [1]\n  const %half: f32[] = "
        "[0.25]\n"
        "  %q: f32[2,5] = Div(%x, %r2)\n  %e: f32[2,5] = Erf(%q)\n  %e1: f32[2,5] = Add(%e, %one)\n"
        "  %p: f32[2,5] = Mul(%x, %e1)\n  %y: f32[2,5] = Mul(%p, %half)\n}\n",
        "graph main(%x: f32[2,5]) -> (%y: f32[2,5], %z: f32[2,5]) {\n"
        "  const %r2: f32[] = [1.4142135]\n  const %one: f32[] = [1]\n  const %half: f32[] = "
        "[0.5]\n"
        "  %q: f32[2,5] = Div(%x, %r2)\n  %e: f32[2,5] = Erf(%q)\n  %e1: f32[2,5] = Add(%e, %one)\n"
        "  %p: f32[2,5] = Mul(%x, %e1)\n  %y: f32[2,5] = Mul(%p, %half)\n  %z: f32[2,5] = "
        "Neg(%x)\n}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_no_op(*state, texts[i], "Gelu");
}

/* Softmax written out over the last axis: at opset 9 (axes attributes) and at 13 (ReduceSum's
 * axes an input), Softmax axis=-1; over a leading axis, or with the exponent read elsewhere,
 * it stays. */
static void test_softmax(void **state)
{
    pass_fx *f = *state;
    check_rewrite(f,
                  "graph main(%x: f32[2,3,5]) -> (%y: f32[2,3,5]) {\n"
                  "  opset ai.onnx 9\n"
                  "  %m: f32[2,3,1] = ReduceMax(%x) {axes=[2]} @max\n"
                  "  %d: f32[2,3,5] = Sub(%x, %m) @sub\n"
                  "  %e: f32[2,3,5] = Exp(%d) @exp\n"
                  "  %s: f32[2,3,1] = ReduceSum(%e) {axes=[-1]} @sum\n"
                  "  %y: f32[2,3,5] = Div(%e, %s) @div\n"
                  "}\n",
                  "graph main(%x: f32[2,3,5]) -> (%y: f32[2,3,5]) {\n"
                  "  opset ai.onnx 9\n"
                  "  %y: f32[2,3,5] = Softmax(%x) {axis=-1} @max\n"
                  "}\n",
                  1e-6, 1e-5);
    check_rewrite(f,
                  "graph main(%x: f32[4,5]) -> (%y: f32[4,5]) {\n"
                  "  opset ai.onnx 13\n"
                  "  const %ax: i64[1] = [-1]\n"
                  "  %m: f32[4,1] = ReduceMax(%x) {axes=[-1]} @max\n"
                  "  %d: f32[4,5] = Sub(%x, %m) @sub\n"
                  "  %e: f32[4,5] = Exp(%d) @exp\n"
                  "  %s: f32[4,1] = ReduceSum(%e, %ax) @sum\n"
                  "  %y: f32[4,5] = Div(%e, %s) @div\n"
                  "}\n",
                  "graph main(%x: f32[4,5]) -> (%y: f32[4,5]) {\n"
                  "  opset ai.onnx 13\n"
                  "  %y: f32[4,5] = Softmax(%x) {axis=-1} @max\n"
                  "}\n",
                  1e-6, 1e-5);
    check_untouched(f, "graph main(%x: f32[4,5]) -> (%y: f32[4,5]) {\n"
                       "  %m: f32[1,5] = ReduceMax(%x) {axes=[0]}\n  %d: f32[4,5] = Sub(%x, %m)\n"
                       "  %e: f32[4,5] = Exp(%d)\n  %s: f32[1,5] = ReduceSum(%e) {axes=[0]}\n"
                       "  %y: f32[4,5] = Div(%e, %s)\n}\n");
    check_untouched(f, "graph main(%x: f32[4,5]) -> (%y: f32[4,5], %e: f32[4,5]) {\n"
                       "  %m: f32[4,1] = ReduceMax(%x) {axes=[-1]}\n  %d: f32[4,5] = Sub(%x, %m)\n"
                       "  %e: f32[4,5] = Exp(%d)\n  %s: f32[4,1] = ReduceSum(%e) {axes=[-1]}\n"
                       "  %y: f32[4,5] = Div(%e, %s)\n}\n");
}

/* A run of element-wise ops with a scalar on either side, a same-shape tensor operand read
 * twice and unary ops: one aglm.Elementwise with its program. */
static void test_chain_ir(void **state)
{
    check_rewrite(
        *state,
        "graph main(%x: f32[3,700], %t: f32[3,700]) -> (%y: f32[3,700]) {\n"
        "  const %two: f32[] = [2]\n"
        "  const %k: f32[1] = [0.5]\n"
        "  %a: f32[3,700] = Mul(%x, %two) @first\n"
        "  %b: f32[3,700] = Sub(%k, %a) @sub\n"
        "  %c: f32[3,700] = Tanh(%b) @tanh\n"
        "  %d: f32[3,700] = Max(%t, %c) @max\n"
        "  %e: f32[3,700] = Div(%d, %t) @div\n"
        "  %y: f32[3,700] = Abs(%e) @abs\n"
        "}\n",
        "graph main(%x: f32[3,700], %t: f32[3,700]) -> (%y: f32[3,700]) {\n"
        "  opset aglm 1\n"
        "  %y: f32[3,700] = aglm.Elementwise(%x, %t) {ops=[\"Mul\", \"Sub\", \"Tanh\", \"Max\", "
        "\"Div\", \"Abs\"], operands=[0, 0, -1, 1, 1, -1], scalars=[2.0, 0.5, 0.0, 0.0, 0.0, 0.0], "
        "reversed=[0, 1, 0, 1, 0, 0]} @first\n"
        "}\n",
        1e-6, 1e-5);
}

/* Two ops only, a value read twice in the middle, an operand that broadcasts, an op with
 * attributes: no chain of three. */
static void test_chain_refusals(void **state)
{
    static const char *const texts[] = {
        "graph main(%x: f32[2,3]) -> (%y: f32[2,3]) {\n"
        "  %a: f32[2,3] = Neg(%x)\n  %y: f32[2,3] = Exp(%a)\n}\n",
        "graph main(%x: f32[2,3]) -> (%y: f32[2,3], %z: f32[2,3]) {\n"
        "  %a: f32[2,3] = Neg(%x)\n  %b: f32[2,3] = Exp(%a)\n  %y: f32[2,3] = Abs(%b)\n"
        "  %z: f32[2,3] = Relu(%a)\n}\n",
        "graph main(%x: f32[2,3], %r: f32[1,3]) -> (%y: f32[2,3]) {\n"
        "  %a: f32[2,3] = Neg(%x)\n  %b: f32[2,3] = Add(%a, %r)\n  %y: f32[2,3] = Abs(%b)\n}\n",
        "graph main(%x: f32[2,3]) -> (%y: f32[2,3]) {\n"
        "  %a: f32[2,3] = Neg(%x)\n  %b: f32[2,3] = LeakyRelu(%a) {alpha=0.5}\n  %y: f32[2,3] = "
        "Abs(%b)\n}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_untouched(*state, texts[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_bias_swish_ir),
        cmocka_unit_test(test_conv_paddle_swish_ir),
        cmocka_unit_test(test_gemm_relu_residual_ir),
        cmocka_unit_test(test_matmul_every_epilogue_same_results),
        cmocka_unit_test(test_matmul_leaves_what_it_cannot_fuse),
        cmocka_unit_test(test_layer_norm_pow_ir),
        cmocka_unit_test(test_layer_norm_variants),
        cmocka_unit_test(test_layer_norm_refusals),
        cmocka_unit_test(test_gelu_erf_into_matmul_ir),
        cmocka_unit_test(test_gelu_forms),
        cmocka_unit_test(test_gelu_refusals),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_chain_ir),
        cmocka_unit_test(test_chain_refusals),
    };
    return cmocka_run_group_tests(tests, setup, pass_fx_teardown);
}
