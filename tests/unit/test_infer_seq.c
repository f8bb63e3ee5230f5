/* Shape inference of control flow and sequence models: Scan (opset 8 and 9+ forms), If with a
 * branch that cannot be typed, RNN/GRU/LSTM (layouts and directions), Attention (3-D and 4-D,
 * past key/value), RotaryEmbedding and LinearAttention. Each case is a graph
 * in IR text whose outputs start untyped; after inference their types are read back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

static aglm_graph *parse_graph(const char *sig, const char *body, int opset)
{
    char text[4096];
    snprintf(text, sizeof text, "graph t%s {\n  opset ai.onnx %d\n%s\n}\n", sig, opset, body);
    aglm_graph *g = NULL;
    if (aglm_graph_parse(text, &g) != AGLM_OK)
        fail_msg("parse: %s\n%s", aglm_last_error(), text);
    return g;
}

/* Infers the graph and checks that each value named in want[] (name, type pairs, NULL-ended) has
 * that type. */
static void check(const char *sig, const char *body, int opset, const char *const *want)
{
    aglm_graph *g = parse_graph(sig, body, opset);
    if (aglm_infer_shapes(g) != AGLM_OK)
        fail_msg("infer: %s", aglm_last_error());
    for (; *want; want += 2) {
        aglm_value *v = aglm_graph_find_value(g, want[0]);
        assert_non_null(v);
        char buf[128];
        aglm_value_type_str(v, buf, sizeof buf);
        if (strcmp(buf, want[1]) != 0)
            fail_msg("%%%s: %s, expected %s", want[0], buf, want[1]);
    }
    aglm_graph_free(g);
}

static void check_error(const char *sig, const char *body, int opset, const char *part)
{
    aglm_graph *g = parse_graph(sig, body, opset);
    assert_int_not_equal(aglm_infer_shapes(g), AGLM_OK);
    if (!strstr(aglm_last_error(), part))
        fail_msg("error '%s' does not mention '%s'", aglm_last_error(), part);
    aglm_graph_free(g);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_scan(void **state)
{
    (void)state;
    /* body inputs get the state's type and a slice of x; the scan output stacks along axis 1 */
    check("(%s0: f32[4,2], %x: f32[4,3,2]) -> (%s, %ys)",
          "  %s, %ys = Scan(%s0, %x) {body=graph b(%si, %xi) -> (%so, %y) {\n"
          "      %so = Add(%si, %xi)\n      %y = Identity(%so)\n"
          "    }, num_scan_inputs=1, scan_input_axes=[1], scan_output_axes=[1]}",
          16, W("s", "f32[4,2]", "ys", "f32[4,3,2]"));
    /* opset 8: batch first, sequence second */
    check("(%s0: f32[5,2], %x: f32[5,7,2]) -> (%s, %ys)",
          "  %s, %ys = Scan(_, %s0, %x) {body=graph b(%si, %xi) -> (%so, %y) {\n"
          "      %so = Add(%si, %xi)\n      %y = Identity(%so)\n"
          "    }, num_scan_inputs=1}",
          8, W("s", "f32[5,2]", "ys", "f32[5,7,2]"));
    check_error("(%x: f32[3]) -> (%ys)",
                "  %ys = Scan(%x) {body=graph b(%xi) -> (%y) {\n      %y = Identity(%xi)\n    }, "
                "num_scan_inputs=2}",
                16, "num_scan_inputs");
}

static void test_if_branch_that_cannot_be_typed(void **state)
{
    (void)state;
    /* the else branch reshapes 2 elements into 3: only the then branch can run on these shapes */
    check("(%c: bool[], %x: f32[2]) -> (%r)",
          "  const %s: i64[1] = [3]\n"
          "  %r = If(%c) {then_branch=graph t() -> (%a) {\n      %a = Neg(%x)\n"
          "    }, else_branch=graph e() -> (%b) {\n      %b = Reshape(%x, %s)\n    }}",
          16, W("r", "f32[2]"));
    /* when neither branch can be typed the error names the node and a branch */
    check_error("(%c: bool[], %x: f32[2]) -> (%r)",
                "  const %s: i64[1] = [3]\n"
                "  %r = If(%c) {then_branch=graph t() -> (%a) {\n      %a = Reshape(%x, %s)\n"
                "    }, else_branch=graph e() -> (%b) {\n      %b = Reshape(%x, %s)\n    }} @pick",
                16, "'pick' (If): then_branch");
}

static void test_recurrent(void **state)
{
    (void)state;
    check("(%x: f32[7,B,5], %w: f32[2,24,5], %r: f32[2,24,6]) -> (%y, %h, %c)",
          "  %y, %h, %c = LSTM(%x, %w, %r) {direction=\"bidirectional\"}", 14,
          W("y", "f32[7,2,B,6]", "h", "f32[2,B,6]", "c", "f32[2,B,6]"));
    check("(%x: f32[B,7,5], %w: f32[1,18,5], %r: f32[1,18,6]) -> (%y, %h)",
          "  %y, %h = GRU(%x, %w, %r) {hidden_size=6, layout=1}", 14,
          W("y", "f32[B,7,1,6]", "h", "f32[B,1,6]"));
    check_error("(%x: f32[7,2,5], %w: f32[1,4,5], %r: f32[1,4,4]) -> (%y)",
                "  %y = RNN(%x, %w, %r) {direction=\"sideways\"}", 14, "sideways");
}

static void test_attention(void **state)
{
    (void)state;
    check("(%q: f32[2,9,4,8], %k: f32[2,3,6,8], %v: f32[2,3,6,10], %pk: f32[2,3,12,8], %pv: "
          "f32[2,3,12,10]) "
          "-> (%y, %ok, %ov, %qk)",
          "  %y, %ok, %ov, %qk = Attention(%q, %k, %v, _, %pk, %pv)", 23,
          W("y", "f32[2,9,4,10]", "ok", "f32[2,3,18,8]", "ov", "f32[2,3,18,10]", "qk",
            "f32[2,9,4,18]"));
    check("(%q: f16[2,4,72], %k: f16[2,6,24], %v: f16[2,6,30]) -> (%y)",
          "  %y = Attention(%q, %k, %v) {q_num_heads=9, kv_num_heads=3}", 23,
          W("y", "f16[2,4,90]"));
    check_error("(%q: f32[2,4,72], %k: f32[2,6,24], %v: f32[2,6,24]) -> (%y)",
                "  %y = Attention(%q, %k, %v)", 23, "q_num_heads");
    check("(%x: f32[2,3,4,8], %c: f32[10,4], %s: f32[10,4], %p: i64[2,4]) -> (%y)",
          "  %y = RotaryEmbedding(%x, %c, %s, %p)", 23, W("y", "f32[2,3,4,8]"));
}

static void test_state_mixers(void **state)
{
    (void)state;
    check("(%q: f32[2,5,32], %k: f32[2,5,16], %v: f32[2,5,24], %g: f32[2,5,2], %b: f32[2,5,2]) -> "
          "(%y, %s)",
          "  %y, %s = LinearAttention(%q, %k, %v, _, %g, %b) {q_num_heads=4, kv_num_heads=2}", 23,
          W("y", "f32[2,5,48]", "s", "f32[2,2,8,12]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan),         cmocka_unit_test(test_if_branch_that_cannot_be_typed),
        cmocka_unit_test(test_recurrent),    cmocka_unit_test(test_attention),
        cmocka_unit_test(test_state_mixers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
