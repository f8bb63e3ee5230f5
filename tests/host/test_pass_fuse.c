/* The fuse pass, loaded through the registry: IR text in, the pass, IR text out; the fused graph
 * computing what the unfused one does on the cpu backend; aglm.FusedConv's shape rule and kernel
 * refusing what docs/extension-ops.md rules out. */
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

static void test_conv_relu_ir(void **state)
{
    pass_fx *f = *state;
    aglm_graph *g = parse_ir("graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                             "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
                             "  const %b: f32[2] = [0.5, 0.25]\n"
                             "  %c: f32[1,2,2,2] = Conv(%x, %w, %b) @conv\n"
                             "  %y: f32[1,2,2,2] = Relu(%c) @relu\n"
                             "}\n");
    assert_int_equal(pass_run(f, g), 1);
    assert_ir(g, "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                 "  opset aglm 1\n"
                 "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
                 "  const %b: f32[2] = [0.5, 0.25]\n"
                 "  %y: f32[1,2,2,2] = aglm.FusedConv(%x, %w, %b) {activation=\"Relu\"} @conv\n"
                 "}\n");
    aglm_graph_free(g);
}

/* paddle2onnx's HardSwish, x * Clip(x + 3, 0, 6) / 6 with Constant nodes and opset 9's Clip
 * attributes, and a residual Add after it (the residual computed after the Conv in graph
 * order). */
static void test_paddle_hard_swish_then_residual_ir(void **state)
{
    pass_fx *f = *state;
    const char *text = "graph main(%x: f32[1,1,2,2], %r: f32[1,2,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                       "  opset ai.onnx 9\n"
                       "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
                       "  %three: f32[1] = Constant() {value=tensor f32[1] [3]}\n"
                       "  %six: f32[1] = Constant() {value=tensor f32[1] [6]}\n"
                       "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
                       "  %a: f32[1,2,2,2] = Add(%c, %three) @add3\n"
                       "  %k: f32[1,2,2,2] = Clip(%a) {max=6.0, min=0.0} @clip\n"
                       "  %m: f32[1,2,2,2] = Mul(%c, %k) @mul\n"
                       "  %h: f32[1,2,2,2] = Div(%m, %six) @div\n"
                       "  %r2: f32[1,2,2,2] = Sigmoid(%r) @sig\n"
                       "  %y: f32[1,2,2,2] = Add(%r2, %h) @res\n"
                       "}\n";
    aglm_graph *before = parse_ir(text), *g = parse_ir(text);
    assert_int_equal(pass_run(f, g), 1);
    assert_ir(g, "graph main(%x: f32[1,1,2,2], %r: f32[1,2,2,2]) -> (%y: f32[1,2,2,2]) {\n"
                 "  opset ai.onnx 9\n"
                 "  opset aglm 1\n"
                 "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
                 "  %three: f32[1] = Constant() {value=tensor f32[1] [3]}\n"
                 "  %six: f32[1] = Constant() {value=tensor f32[1] [6]}\n"
                 "  %r2: f32[1,2,2,2] = Sigmoid(%r) @sig\n"
                 "  %y: f32[1,2,2,2] = aglm.FusedConv(%x, %w, _, %r2) {activation=\"HardSwish\", "
                 "residual_before_activation=0} @conv\n"
                 "}\n");
    assert_same_results(f, before, g, 1e-5, 1e-5);
    aglm_graph_free(before);
    aglm_graph_free(g);
}

/* Every activation, with and without a residual before it, on a plain 3x3, a 1x1 and a
 * depthwise convolution: the fused graph gives the unfused graph's results. */
static void test_every_epilogue_same_results(void **state)
{
    pass_fx *f = *state;
    static const char *const acts[] = {
        "Relu",
        "Clip",
        "Clip(%v, %lo, %hi)",
        "Sigmoid",
        "HardSigmoid(%v) {alpha=0.3, beta=0.4}",
        "HardSwish",
        "Tanh",
        "LeakyRelu(%v) {alpha=0.2}",
        "Gelu",
        "Gelu(%v) {approximate=\"tanh\"}",
        "Max(%v, %lo)",
        "Min(%hi, %v)",
        "PRelu(%v, %slope)",
        "PRelu(%v, %k1)",
    };
    static const char *const convs[] = {
        "{pads=[1, 1, 1, 1]}",
        "{kernel_shape=[1, 1]}",
        "{group=4, pads=[1, 1, 1, 1]}",
    };
    static const int64_t wdims[][4] = {{4, 4, 3, 3}, {4, 4, 1, 1}, {4, 1, 3, 3}};
    static char text[32768], act[128];
    for (size_t c = 0; c < 3; c++)
        for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
            for (int residual = 0; residual < 2; residual++) {
                snprintf(text, sizeof text,
                         "graph main(%%x: f32[2,4,5,6], %%r: f32[2,4,5,6]) -> "
                         "(%%y: f32[2,4,5,6]) {\n");
                ir_const(text, sizeof text, "w", 4, wdims[c], 7 + (uint32_t)c, 2.0f, 0.0f);
                ir_const(text, sizeof text, "b", 1, D(4), 9, 1.0f, 0.0f);
                strcat(text, "  const %lo: f32[] = [-0.25]\n  const %hi: f32[] = [0.75]\n");
                /* PRelu: a slope per channel (along C), and one slope for all */
                ir_const(text, sizeof text, "slope", 3, D(4, 1, 1), 11, 1.0f, 0.0f);
                strcat(text, "  const %k1: f32[1] = [0.3]\n");
                size_t len = strlen(text);
                snprintf(text + len, sizeof text - len,
                         "  %%c: f32[2,4,5,6] = Conv(%%x, %%w, %%b) %s\n", convs[c]);
                if (residual)
                    strcat(text, "  %s: f32[2,4,5,6] = Add(%r, %c)\n");
                /* "%v" in an activation stands for its input, a bare op name takes it alone */
                const char *v = residual ? "%s" : "%c", *at = strstr(acts[a], "%v");
                if (at)
                    snprintf(act, sizeof act, "%.*s%s%s", (int)(at - acts[a]), acts[a], v, at + 2);
                else
                    snprintf(act, sizeof act, "%s(%s)", acts[a], v);
                len = strlen(text);
                snprintf(text + len, sizeof text - len, "  %%y: f32[2,4,5,6] = %s\n}\n", act);
                aglm_graph *before = parse_ir(text), *g = parse_ir(text);
                assert_int_equal(pass_run(f, g), 1);
                size_t fused = 0;
                for (size_t i = 0; i < aglm_graph_num_nodes(g); i++)
                    fused += strcmp(aglm_node_op(aglm_graph_node(g, i)), "FusedConv") == 0;
                if (fused != 1 || aglm_graph_num_nodes(g) != 1)
                    fail_msg("not fused into one node:\n%s", text);
                assert_same_results(f, before, g, 1e-5, 1e-5);
                aglm_graph_free(before);
                aglm_graph_free(g);
            }
}

/* A scale and shift by scalars after the activation (paddle's LearnableAffineBlock) and a
 * residual after them; and a shift alone. */
static void test_post_affine(void **state)
{
    pass_fx *f = *state;
    static const char *const texts[] = {
        "graph main(%x: f32[1,3,5,5], %r: f32[1,2,5,5]) -> (%y: f32[1,2,5,5]) {\n"
        "  const %w: f32[2,3,1,1] = [1.5, -2, 0.5, 0.25, -1, 2]\n"
        "  %s: f32[1] = Constant() {value=tensor f32[1] [0.75]}\n"
        "  const %d: f32[] = [-0.125]\n"
        "  %c: f32[1,2,5,5] = Conv(%x, %w) @conv\n"
        "  %h: f32[1,2,5,5] = HardSwish(%c) @act\n"
        "  %m: f32[1,2,5,5] = Mul(%s, %h) @mul\n"
        "  %a: f32[1,2,5,5] = Add(%m, %d) @add\n"
        "  %y: f32[1,2,5,5] = Add(%a, %r) @res\n"
        "}\n",
        "graph main(%x: f32[1,3,5,5]) -> (%y: f32[1,2,5,5]) {\n"
        "  const %w: f32[2,3,1,1] = [1.5, -2, 0.5, 0.25, -1, 2]\n"
        "  const %d: f32[1] = [-0.125]\n"
        "  %c: f32[1,2,5,5] = Conv(%x, %w) @conv\n"
        "  %h: f32[1,2,5,5] = Sigmoid(%c) @act\n"
        "  %y: f32[1,2,5,5] = Add(%d, %h) @add\n"
        "}\n",
    };
    for (size_t i = 0; i < 2; i++) {
        aglm_graph *before = parse_ir(texts[i]), *g = parse_ir(texts[i]);
        assert_int_equal(pass_run(f, g), 1);
        aglm_node *n = NULL;
        for (size_t j = 0; j < aglm_graph_num_nodes(g); j++)
            if (strcmp(aglm_node_op(aglm_graph_node(g, j)), "FusedConv") == 0)
                n = aglm_graph_node(g, j);
        assert_non_null(n);
        assert_true(aglm_graph_num_nodes(g) == 1 + (i == 0)); /* + the scale's Constant node */
        assert_true(aglm_node_get_float(n, "post_scale", 1.0f) == (i == 0 ? 0.75f : 1.0f));
        assert_true(aglm_node_get_float(n, "post_shift", 0.0f) == -0.125f);
        assert_int_equal(aglm_node_num_inputs(n), i == 0 ? 4 : 2);
        assert_same_results(f, before, g, 1e-6, 1e-5);
        aglm_graph_free(before);
        aglm_graph_free(g);
    }
}

/* The Conv's output read twice, a residual of a broadcast shape, a Clip with run-time bounds, a
 * PRelu slope that is not constant or does not run along C alone, a Max / Min with anything
 * but a constant scalar: nothing to fuse, the graph stays as it was. */
static void test_leaves_what_it_cannot_fuse(void **state)
{
    pass_fx *f = *state;
    static const char *const texts[] = {
        "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2], %z: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = Relu(%c) @relu\n"
        "  %z: f32[1,2,2,2] = Tanh(%c) @tanh\n"
        "}\n",
        "graph main(%x: f32[1,1,2,2], %r: f32[1,2,1,1]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = Add(%c, %r) @add\n"
        "}\n",
        "graph main(%x: f32[1,1,2,2], %lo: f32[]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = Clip(%c, %lo) @clip\n"
        "}\n",
        "graph main(%x: f32[1,1,2,2]) -> (%c: f32[1,2,2,2], %y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = Relu(%c) @relu\n"
        "}\n",
        /* a PRelu slope from a graph input */
        "graph main(%x: f32[1,1,2,2], %s: f32[2,1,1]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = PRelu(%c, %s) @prelu\n"
        "}\n",
        /* a slope [C] broadcasts along W, not along C */
        "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  const %s: f32[2] = [0.5, 0.25]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = PRelu(%c, %s) @prelu\n"
        "}\n",
        /* a slope varying along H as well as C */
        "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  const %s: f32[2,2,1] = [0.5, 0.25, 0.125, 2]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = PRelu(%c, %s) @prelu\n"
        "}\n",
        /* the pre-activation value read by a second node */
        "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2], %z: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  const %s: f32[2,1,1] = [0.5, 0.25]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = PRelu(%c, %s) @prelu\n"
        "  %z: f32[1,2,2,2] = Max(%c, %s) @max\n"
        "}\n",
        /* Max with a run-time operand; Min with a tensor (not a scalar) constant */
        "graph main(%x: f32[1,1,2,2], %k: f32[]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = Max(%c, %k) @max\n"
        "}\n",
        "graph main(%x: f32[1,1,2,2]) -> (%y: f32[1,2,2,2]) {\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  const %k: f32[2,1,1] = [0.5, 0.25]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = Min(%c, %k) @min\n"
        "}\n",
        /* Clip (opset 11) with a run-time max and no min */
        "graph main(%x: f32[1,1,2,2], %hi: f32[]) -> (%y: f32[1,2,2,2]) {\n"
        "  opset ai.onnx 13\n"
        "  const %w: f32[2,1,1,1] = [1.5, -2]\n"
        "  %c: f32[1,2,2,2] = Conv(%x, %w) @conv\n"
        "  %y: f32[1,2,2,2] = Clip(%c, _, %hi) @clip\n"
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

/* Clamps in a row narrow one Clip (ReLU6 written as Relu then Min, or as Max then Min), Clip's
 * forms (opset 6 attributes, opset 13 inputs with either bound absent) and PRelu per channel
 * take their parameters; each computes what the unfused graph does. */
static void test_clamps_and_prelu_ir(void **state)
{
    pass_fx *f = *state;
    static const struct {
        const char *opset, *epilogue, *want;
    } cases[] = {
        {"13", "  %r: f32[1,2,3,3] = Relu(%c)\n  %y: f32[1,2,3,3] = Min(%r, %six)\n",
         "activation=\"Clip\", activation_params=[0.0, 6.0]"},
        {"13", "  %r: f32[1,2,3,3] = Max(%zero, %c)\n  %y: f32[1,2,3,3] = Min(%r, %six)\n",
         "activation=\"Clip\", activation_params=[0.0, 6.0]"},
        {"13", "  %r: f32[1,2,3,3] = Min(%c, %six)\n  %y: f32[1,2,3,3] = Max(%r, %half)\n",
         "activation=\"Clip\", activation_params=[0.5, 6.0]"},
        {"13", "  %r: f32[1,2,3,3] = Clip(%c, %zero, %six)\n  %y: f32[1,2,3,3] = Relu(%r)\n",
         "activation=\"Clip\", activation_params=[0.0, 6.0]"},
        {"13", "  %y: f32[1,2,3,3] = Clip(%c, _, %six)\n",
         "activation=\"Clip\", activation_params=[-inf, 6.0]"},
        {"13", "  %y: f32[1,2,3,3] = Clip(%c, %half)\n",
         "activation=\"Clip\", activation_params=[0.5, inf]"},
        {"13", "  %y: f32[1,2,3,3] = Clip(%c)\n",
         "activation=\"Clip\", activation_params=[-inf, inf]"},
        {"6", "  %y: f32[1,2,3,3] = Clip(%c) {max=6.0, min=0.5}\n",
         "activation=\"Clip\", activation_params=[0.5, 6.0]"},
        {"6", "  %y: f32[1,2,3,3] = Clip(%c) {max=6.0}\n",
         "activation=\"Clip\", activation_params=[-inf, 6.0]"},
        {"13", "  %y: f32[1,2,3,3] = PRelu(%c, %slope)\n",
         "activation=\"PRelu\", activation_params=[0.25, -0.5]"},
        {"13", "  %y: f32[1,2,3,3] = PRelu(%c, %same)\n",
         "activation=\"LeakyRelu\", activation_params=[0.25]"},
        /* a Max above the Clip's range: the constant 6, still a clamp */
        {"13", "  %r: f32[1,2,3,3] = Clip(%c, %zero, %half)\n  %y: f32[1,2,3,3] = Max(%r, %six)\n",
         "activation=\"Clip\", activation_params=[6.0, 6.0]"},
    };
    static char text[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text,
                 "graph main(%%x: f32[1,3,3,3]) -> (%%y: f32[1,2,3,3]) {\n"
                 "  opset ai.onnx %s\n"
                 "  const %%w: f32[2,3,1,1] = [4, -2, 3, -5, 2, 6]\n"
                 "  const %%zero: f32[] = [0]\n  const %%half: f32[] = [0.5]\n"
                 "  const %%six: f32[1] = [6]\n"
                 "  const %%slope: f32[1,2,1,1] = [0.25, -0.5]\n"
                 "  const %%same: f32[2,1,1] = [0.25, 0.25]\n"
                 "  %%c: f32[1,2,3,3] = Conv(%%x, %%w)\n%s}\n",
                 cases[i].opset, cases[i].epilogue);
        aglm_graph *before = parse_ir(text), *g = parse_ir(text);
        assert_int_equal(pass_run(f, g), 1);
        char *got = aglm_graph_to_text(g, 0);
        if (!strstr(got, cases[i].want))
            fail_msg("case %zu:\n%s\nlacks %s", i, got, cases[i].want);
        free(got);
        assert_same_results(f, before, g, 1e-5, 1e-5);
        aglm_graph_free(before);
        aglm_graph_free(g);
    }
}

/* The shape rule: FusedConv has a rule in domain aglm only, giving Conv's output. */
static void test_shape_rule(void **state)
{
    (void)state;
    assert_true(aglm_infer_has_rule("FusedConv", "aglm"));
    assert_false(aglm_infer_has_rule("FusedConv", ""));
    assert_false(aglm_infer_has_rule("FusedConv", "com.microsoft"));
    aglm_graph *g = parse_ir(
        "graph main(%x: f32[1,1,4,4], %r: f32[1,2,4,4]) -> (%y: f32) {\n"
        "  const %w: f32[2,1,3,3] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
        "  %y: f32 = aglm.FusedConv(%x, %w, _, %r) {pads=[1, 1, 1, 1], activation=\"Relu\"} @fc\n"
        "}\n");
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    char buf[64];
    assert_string_equal(aglm_value_type_str(aglm_graph_output(g, 0), buf, sizeof buf),
                        "f32[1,2,4,4]");
    aglm_graph_free(g);
}

/* A residual that is not the output's shape and an unknown activation are errors naming the
 * node and the shapes. */
static void test_shape_rule_refusals(void **state)
{
    (void)state;
    aglm_graph *g = parse_ir(
        "graph main(%x: f32[1,1,4,4], %r: f32[1,2,4,4]) -> (%y: f32) {\n"
        "  const %w: f32[2,1,3,3] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
        "  %y: f32 = aglm.FusedConv(%x, %w, _, %r) @fc\n"
        "}\n");
    assert_int_equal(aglm_infer_shapes(g), AGLM_ERR_SHAPE);
    assert_non_null(strstr(aglm_last_error(), "fc"));
    assert_non_null(strstr(aglm_last_error(), "residual f32[1,2,4,4]"));
    assert_non_null(strstr(aglm_last_error(), "f32[1,2,2,2]"));
    aglm_graph_free(g);

    g = parse_ir(
        "graph main(%x: f32[1,1,4,4]) -> (%y: f32) {\n"
        "  const %w: f32[2,1,3,3] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
        "  %y: f32 = aglm.FusedConv(%x, %w) {activation=\"Mish\"} @fc\n"
        "}\n");
    assert_int_equal(aglm_infer_shapes(g), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "activation 'Mish'"));
    aglm_graph_free(g);
}

/* The kernel refuses a residual whose shape the graph did not fix (a dynamic dim) when it turns
 * out not to be the output's at run time, naming both. */
static void test_kernel_refuses_residual_mismatch(void **state)
{
    pass_fx *f = *state;
    aglm_graph *g =
        parse_ir("graph main(%x: f32[1,1,4,4], %r: f32[1,2,N,N]) -> (%y: f32[1,2,N,N]) {\n"
                 "  const %w: f32[2,1,1,1] = [1, 2]\n"
                 "  %y: f32[1,2,N,N] = aglm.FusedConv(%x, %w, _, %r) {activation=\"Tanh\"} @fc\n"
                 "}\n");
    aglm_tensor x = tensor_random(4, D(1, 1, 4, 4), 1), r = tensor_random(4, D(1, 2, 3, 3), 2), y;
    memset(&y, 0, sizeof y);
    const aglm_tensor *ins[2] = {&x, &r};
    assert_int_equal(compile_run(&f->cpu, g, NULL, 2, ins, NULL, 1, &y), AGLM_ERR_SHAPE);
    assert_non_null(strstr(aglm_last_error(), "residual R [1,2,3,3]"));
    assert_non_null(strstr(aglm_last_error(), "X [1,1,4,4]"));
    aglm_tensor_free(&x);
    aglm_tensor_free(&r);
    aglm_tensor_free(&y);
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_relu_ir),
        cmocka_unit_test(test_clamps_and_prelu_ir),
        cmocka_unit_test(test_paddle_hard_swish_then_residual_ir),
        cmocka_unit_test(test_every_epilogue_same_results),
        cmocka_unit_test(test_post_affine),
        cmocka_unit_test(test_leaves_what_it_cannot_fuse),
        cmocka_unit_test(test_shape_rule),
        cmocka_unit_test(test_shape_rule_refusals),
        cmocka_unit_test(test_kernel_refuses_residual_mismatch),
    };
    return cmocka_run_group_tests(tests, setup, pass_fx_teardown);
}
