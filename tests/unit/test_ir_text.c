/* The IR text form: printing, parsing back to a graph that prints identically (every attribute
 * kind, every dtype's constants bit for bit, dims, names that need quoting, subgraphs), elision,
 * and parser errors with line and column, including on truncated and mangled input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

static aglm_value *typed(aglm_graph *g, const char *name, aglm_dtype dt, int rank,
                         const aglm_dim *dims)
{
    aglm_value *v = aglm_graph_new_value(g, name, dt, rank, dims);
    assert_non_null(v);
    return v;
}

static aglm_value *add_const(aglm_graph *g, const char *name, aglm_dtype dt, int rank,
                             const int64_t *dims, const void *data)
{
    aglm_tensor t;
    aglm_tensor_wrap(&t, dt, rank, dims, (void *)data);
    aglm_value *v = aglm_graph_add_initializer(g, name, &t);
    assert_non_null(v);
    return v;
}

static aglm_node *add(aglm_graph *g, const char *op, const char *domain, const char *name,
                      size_t n_in, aglm_value *const *in, size_t n_out, aglm_value *const *out)
{
    aglm_node *n = aglm_graph_add_node(g, op, domain, name, n_in, in, n_out, out);
    assert_non_null(n);
    return n;
}

/* A graph using every feature of the text form. */
static aglm_graph *full_graph(void)
{
    aglm_graph *g = aglm_graph_new("main");
    aglm_graph_set_opset(g, "", 17);
    aglm_graph_set_opset(g, "aglm", 1);
    aglm_graph_set_opset(g, "com.microsoft", 1);
    aglm_graph_set_meta(g, "producer", "aglm test");
    aglm_graph_set_meta(g, "doc string", "line1\nline2 \"quoted\" \\ tab\t");

    aglm_dim xd[4] = {{AGLM_DIM_DYNAMIC, "N"},
                      {3, NULL},
                      {AGLM_DIM_DYNAMIC, NULL},
                      {AGLM_DIM_DYNAMIC, "odd sym/1"}};
    aglm_value *x = typed(g, "x", AGLM_F32, 4, xd);
    aglm_value *u = typed(g, "unknown", AGLM_UNDEFINED, -1, NULL);
    aglm_value *cond = typed(g, "cond", AGLM_BOOL, 0, NULL);
    aglm_graph_add_input(g, x);
    aglm_graph_add_input(g, u);
    aglm_graph_add_input(g, cond);
    /* An input with a default value (ONNX IR < 4 style) */
    int64_t k_dims[1] = {2};
    int64_t kdata[2] = {7, -7};
    aglm_value *k = add_const(g, "k", AGLM_I64, 1, k_dims, kdata);
    aglm_graph_add_input(g, k);

    /* Constants of every dtype, with values that test exactness. */
    float f32[8] = {0.1f, 1.0f / 3.0f, -0.0f, 1e-45f, FLT_MAX, INFINITY, -INFINITY, 16777216.0f};
    int64_t d8[1] = {8};
    add_const(g, "c_f32", AGLM_F32, 1, d8, f32);
    double f64[3] = {0.1, 1.0 / 3.0, -DBL_MIN};
    int64_t d3[1] = {3};
    add_const(g, "c_f64", AGLM_F64, 1, d3, f64);
    uint16_t f16[3] = {0x3c00, 0x0001, 0xfbff}; /* 1, smallest subnormal, -65504 */
    add_const(g, "c_f16", AGLM_F16, 1, d3, f16);
    uint16_t bf16[3] = {0x3f80, 0x3dcd, 0xff7f}; /* 1, ~0.1, -max */
    add_const(g, "c_bf16", AGLM_BF16, 1, d3, bf16);
    int8_t i8[2] = {-128, 127};
    int64_t d2[1] = {2};
    add_const(g, "c_i8", AGLM_I8, 1, d2, i8);
    uint8_t u8[2] = {0, 255};
    add_const(g, "c_u8", AGLM_U8, 1, d2, u8);
    int16_t i16[2] = {-32768, 32767};
    add_const(g, "c_i16", AGLM_I16, 1, d2, i16);
    uint16_t u16[2] = {0, 65535};
    add_const(g, "c_u16", AGLM_U16, 1, d2, u16);
    int32_t i32[2] = {INT32_MIN, INT32_MAX};
    add_const(g, "c_i32", AGLM_I32, 1, d2, i32);
    uint32_t u32[2] = {0, UINT32_MAX};
    add_const(g, "c_u32", AGLM_U32, 1, d2, u32);
    int64_t i64[2] = {INT64_MIN, INT64_MAX};
    add_const(g, "c_i64", AGLM_I64, 1, d2, i64);
    uint64_t u64[2] = {0, UINT64_MAX};
    add_const(g, "c_u64", AGLM_U64, 1, d2, u64);
    uint8_t b[2] = {1, 0};
    add_const(g, "c_bool", AGLM_BOOL, 1, d2, b);
    float scalar = 2.5f;
    add_const(g, "c_scalar", AGLM_F32, 0, NULL, &scalar);
    int64_t d0[2] = {0, 3};
    add_const(g, "c_empty", AGLM_F32, 2, d0, NULL);
    float big[40];
    for (int i = 0; i < 40; i++)
        big[i] = (float)i / 7.0f;
    int64_t d40[2] = {4, 10};
    aglm_value *w = add_const(g, "onnx::Conv_w", AGLM_F32, 2, d40, big);

    typed(g, "loose value", AGLM_I32, 1, NULL); /* not produced by anything */

    /* A node with every attribute kind, a quoted name and quoted value names. */
    aglm_dim cd[2] = {{AGLM_DIM_DYNAMIC, "N"}, {4, NULL}};
    aglm_value *c = typed(g, "/conv1/Conv_output_0", AGLM_F32, 2, cd);
    aglm_value *conv_in[3] = {x, w, NULL};
    aglm_node *conv = add(g, "Conv", NULL, "/conv1/Conv", 3, conv_in, 1, &c);
    aglm_node_set_int(conv, "group", 1);
    aglm_node_set_int(conv, "neg", INT64_MIN);
    aglm_node_set_float(conv, "alpha", 1.0f);
    aglm_node_set_float(conv, "beta", 0.1f);
    aglm_node_set_float(conv, "gamma", -INFINITY);
    aglm_node_set_float(conv, "delta", NAN);
    aglm_node_set_string(conv, "auto_pad", "NOTSET", 6);
    aglm_node_set_string(conv, "bytes", "a\0\"\\\x01\xff", 6);
    aglm_node_set_ints(conv, "kernel_shape", (int64_t[]){3, 3}, 2);
    aglm_node_set_ints(conv, "no ints", NULL, 0);
    aglm_node_set_floats(conv, "scales", (float[]){1.0f, 0.5f, 1e-30f}, 3);
    aglm_node_set_floats(conv, "no_floats", NULL, 0);
    const char *strs[3] = {"a", "", "with \"quote\""};
    aglm_node_set_strings(conv, "names", strs, 3);
    aglm_node_set_strings(conv, "no_strings", NULL, 0);
    aglm_tensor t1, t2;
    int64_t td[2] = {2, 2};
    float tdata[4] = {1, 2, 3, 4.5f};
    aglm_tensor_wrap(&t1, AGLM_F32, 2, td, tdata);
    int64_t sdata = 42;
    aglm_tensor_wrap(&t2, AGLM_I64, 0, NULL, &sdata);
    aglm_node_set_tensor(conv, "value", &t1);
    aglm_tensor both[2] = {t1, t2};
    aglm_node_set_tensors(conv, "pair", both, 2);
    aglm_node_set_tensors(conv, "no_tensors", NULL, 0);

    /* Two outputs, the second absent; an extension-domain op; ops and names needing quotes. */
    aglm_value *dr = typed(g, "dr", AGLM_F32, -1, NULL);
    aglm_value *drop_out[2] = {dr, NULL};
    add(g, "Dropout", NULL, "drop", 1, &c, 2, drop_out);
    aglm_value *fused = typed(g, "fused", AGLM_F32, -1, NULL);
    aglm_value *fin[2] = {dr, k};
    add(g, "FusedConv", "aglm", NULL, 2, fin, 1, &fused);
    aglm_value *odd = typed(g, "odd", AGLM_UNDEFINED, -1, NULL);
    add(g, "op.with.dots", "weird domain", "graph", 1, &fused, 1, &odd);
    add(g, "Print", "aglm", "sink", 1, &odd, 0, NULL);
    add(g, "value", NULL, "keyword_op", 1, &odd, 0, NULL);

    /* If with subgraphs reading outer values, one nesting a Loop, and a graph list. */
    aglm_value *r = typed(g, "r", AGLM_F32, -1, NULL);
    aglm_node *ifn = add(g, "If", NULL, "if", 1, &cond, 1, &r);
    aglm_graph *then_g = aglm_graph_new_subgraph(g, "then");
    aglm_value *t_out = typed(then_g, "t_out", AGLM_F32, -1, NULL);
    aglm_value *lin[2] = {k, cond};
    aglm_node *loop = add(then_g, "Loop", NULL, "loop", 2, lin, 1, &t_out);
    aglm_graph *body = aglm_graph_new_subgraph(then_g, "body");
    aglm_value *it = typed(body, "it", AGLM_I64, 0, NULL),
               *bc = typed(body, "bc", AGLM_BOOL, 0, NULL);
    aglm_graph_add_input(body, it);
    aglm_graph_add_input(body, bc);
    aglm_value *bo = typed(body, "bo", AGLM_F32, -1, NULL);
    aglm_value *bin[2] = {fused, it};
    add(body, "Mul", NULL, NULL, 2, bin, 1, &bo);
    aglm_graph_add_output(body, bc);
    aglm_graph_add_output(body, bo);
    aglm_node_set_graph(loop, "body", body);
    aglm_graph_add_output(then_g, t_out);
    aglm_graph *else_g = aglm_graph_new_subgraph(g, "else");
    aglm_graph_add_output(else_g, dr);
    aglm_node_set_graph(ifn, "then_branch", then_g);
    aglm_node_set_graph(ifn, "else_branch", else_g);
    aglm_graph *alt1 = aglm_graph_new_subgraph(g, "alt1"),
               *alt2 = aglm_graph_new_subgraph(g, "alt2");
    aglm_graph_add_output(alt1, x);
    aglm_graph_add_output(alt2, c);
    aglm_graph *alts[2] = {alt1, alt2};
    aglm_node_set_graphs(ifn, "alternatives", alts, 2);
    aglm_node_set_graphs(ifn, "no_graphs", NULL, 0);

    aglm_graph_add_output(g, r);
    aglm_graph_add_output(g, c);
    aglm_graph_add_output(g, k);
    return g;
}

static aglm_graph *parse_ok(const char *text)
{
    aglm_graph *g = NULL;
    aglm_status st = aglm_graph_parse(text, &g);
    if (st != AGLM_OK)
        fail_msg("parse failed: %s\n--- text ---\n%s", aglm_last_error(), text);
    assert_non_null(g);
    return g;
}

static void test_round_trip_everything(void **state)
{
    (void)state;
    aglm_graph *g = full_graph();
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    char *text = aglm_graph_to_text(g, 0);
    assert_non_null(text);
    /* Spot checks of the syntax docs/ir-text.md describes. */
    const char *fragments[] = {
        "graph main(%x: f32[N,3,?,\"odd sym/1\"], %unknown, %cond: bool[], %k: i64[2]) -> (%r: "
        "f32, ",
        "opset ai.onnx 17\n",
        "opset com.microsoft 1\n",
        "meta \"doc string\" = \"line1\\nline2 \\\"quoted\\\" \\\\ tab\\t\"",
        "const %k: i64[2] = [7, -7]\n",
        "const %c_f32: f32[8] = [0.1, 0.33333334, -0, 1.4013e-45, 3.4028235e+38, inf, -inf, "
        "16777216]",
        "const %c_u64: u64[2] = [0, 18446744073709551615]",
        "const %c_bool: bool[2] = [true, false]",
        "const %c_scalar: f32[] = [2.5]",
        "const %c_empty: f32[0,3] = []",
        "value %\"loose value\": i32[?]",
        "%\"/conv1/Conv_output_0\": f32[N,4] = Conv(%x, %\"onnx::Conv_w\", _) {group=1, ",
        "alpha=1.0, beta=0.1, gamma=-inf, delta=nan, auto_pad=\"NOTSET\", "
        "bytes=\"a\\x00\\\"\\\\\\x01\xff\"",
        "kernel_shape=[3, 3], \"no ints\"=ints[], scales=[1.0, 0.5, 1e-30], no_floats=floats[]",
        "names=[\"a\", \"\", \"with \\\"quote\\\"\"], no_strings=strings[]",
        "value=tensor f32[2,2] [1, 2, 3, 4.5], pair=[tensor f32[2,2] [1, 2, 3, 4.5], tensor i64[] "
        "[42]], "
        "no_tensors=tensors[]} @\"/conv1/Conv\"\n",
        "%dr: f32, _ = Dropout(%\"/conv1/Conv_output_0\") @drop\n",
        "%fused: f32 = aglm.FusedConv(%dr, %k)\n",
        "%odd = \"weird domain\".\"op.with.dots\"(%fused) @graph\n",
        "  aglm.Print(%odd) @sink\n",
        "  \"value\"(%odd) @keyword_op\n",
        "%r: f32 = If(%cond) {then_branch=graph then() -> (%t_out: f32) {\n"
        "      %t_out: f32 = Loop(%k, %cond) {body=graph body(%it: i64[], %bc: bool[]) -> (%bc: "
        "bool[], %bo: f32) {\n"
        "          %bo: f32 = Mul(%fused, %it)\n"
        "        }} @loop\n"
        "    }, else_branch=graph else() -> (%dr: f32) {\n"
        "    }, alternatives=[graph alt1() -> (%x: f32[N,3,?,\"odd sym/1\"]) {\n"
        "    }, graph alt2() -> (%\"/conv1/Conv_output_0\": f32[N,4]) {\n"
        "    }], no_graphs=graphs[]} @if\n",
        NULL};
    for (const char **f = fragments; *f; f++)
        if (!strstr(text, *f))
            fail_msg("missing from the printed text:\n%s\n--- text ---\n%s", *f, text);
    /* Long constants wrap, 16 elements a line. */
    assert_non_null(strstr(text, "const %\"onnx::Conv_w\": f32[4,10] = [\n      0, 0.14285715,"));

    aglm_graph *back = parse_ok(text);
    assert_int_equal(aglm_graph_verify(back), AGLM_OK);
    char *again = aglm_graph_to_text(back, 0);
    assert_string_equal(again, text);

    /* Constants are bit-exact, values and attributes keep their kinds. */
    for (size_t i = 0; i < aglm_graph_num_values(g); i++) {
        const aglm_value *v = aglm_graph_value(g, i);
        const aglm_tensor *a = aglm_value_const(v);
        if (!a)
            continue;
        const aglm_tensor *bt = aglm_value_const(aglm_graph_find_value(back, aglm_value_name(v)));
        assert_non_null(bt);
        assert_int_equal(aglm_tensor_nbytes(a), aglm_tensor_nbytes(bt));
        if (aglm_tensor_nbytes(a))
            assert_memory_equal(a->data, bt->data, aglm_tensor_nbytes(a));
    }
    const aglm_node *conv = aglm_graph_node(back, 0);
    assert_int_equal(aglm_attr_kind(aglm_node_attr(conv, "alpha")), AGLM_ATTR_FLOAT);
    assert_int_equal(aglm_attr_kind(aglm_node_attr(conv, "group")), AGLM_ATTR_INT);
    assert_int_equal(aglm_node_get_int(conv, "neg", 0), INT64_MIN);
    assert_true(isnan(aglm_node_get_float(conv, "delta", 0)));
    size_t len;
    assert_memory_equal(aglm_attr_s(aglm_node_attr(conv, "bytes"), &len), "a\0\"\\\x01\xff", 6);
    assert_int_equal(len, 6);
    assert_int_equal(aglm_graph_opset(back, "com.microsoft"), 1);
    assert_string_equal(aglm_graph_meta(back, "doc string"), "line1\nline2 \"quoted\" \\ tab\t");
    assert_true(aglm_value_is_graph_input(aglm_graph_find_value(back, "k")));
    assert_string_equal(aglm_value_dim(aglm_graph_find_value(back, "x"), 3).sym, "odd sym/1");

    /* The subgraph's references land on the outer graph's values. */
    const aglm_node *ifn = aglm_graph_node(back, 6);
    const aglm_graph *then_g = aglm_attr_graph(aglm_node_attr(ifn, "then_branch"));
    const aglm_graph *body = aglm_attr_graph(aglm_node_attr(aglm_graph_node(then_g, 0), "body"));
    assert_ptr_equal(aglm_node_input(aglm_graph_node(body, 0), 0),
                     aglm_graph_find_value(back, "fused"));
    assert_ptr_equal(
        aglm_graph_output(aglm_attr_graphs(aglm_node_attr(ifn, "alternatives"), &len)[0], 0),
        aglm_graph_find_value(back, "x"));

    /* aglm_graph_print writes the same text. */
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(aglm_graph_print(g, f, 0), AGLM_OK);
    long size = ftell(f);
    rewind(f);
    char *printed = calloc(1, (size_t)size + 1);
    assert_int_equal(fread(printed, 1, (size_t)size, f), (size_t)size);
    assert_string_equal(printed, text);
    fclose(f);
    free(printed);

    free(again);
    free(text);
    aglm_graph_free(back);
    aglm_graph_free(g);
}

static void test_elided_constants(void **state)
{
    (void)state;
    aglm_graph *g = aglm_graph_new("e");
    float data[17] = {0};
    int64_t d17[1] = {17}, d16[1] = {16};
    aglm_value *big = add_const(g, "big", AGLM_F32, 1, d17, data);
    aglm_value *small = add_const(g, "small", AGLM_F32, 1, d16, data);
    aglm_value *y = typed(g, "y", AGLM_F32, -1, NULL);
    aglm_value *in[2] = {big, small};
    aglm_node *n = add(g, "Add", NULL, "add", 2, in, 1, &y);
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 1, d17, data);
    aglm_node_set_tensor(n, "value", &t);
    aglm_graph_add_output(g, y);
    char *text = aglm_graph_to_text(g, AGLM_PRINT_ELIDE_CONSTANTS);
    assert_non_null(strstr(text, "const %big: f32[17] = <17 elements>\n"));
    assert_non_null(
        strstr(text, "const %small: f32[16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"));
    assert_non_null(strstr(text, "value=tensor f32[17] <17 elements>"));
    aglm_graph *back = NULL;
    assert_int_equal(aglm_graph_parse(text, &back), AGLM_ERR_PARSE);
    assert_null(back);
    assert_non_null(
        strstr(aglm_last_error(), "line 2, column 25: the data of constant %big was elided"));
    free(text);
    text = aglm_graph_to_text(g, 0);
    assert_null(strstr(text, "elements>"));
    back = parse_ok(text);
    aglm_graph_free(back);
    free(text);
    aglm_graph_free(g);
}

static void test_hand_written_text(void **state)
{
    (void)state;
    /* Types may be left out; such a graph prints back as written. Nodes in any order parse. */
    const char *text = "graph g(%x) -> (%y) {\n"
                       "  %y = Add(%a, %b)\n"
                       "  %b = Neg(%a) @neg\n"
                       "  %a = Relu(%x) # a comment\n"
                       "}\n";
    aglm_graph *g = parse_ok(text);
    char *out = aglm_graph_to_text(g, 0);
    const char *expect = "graph g(%x) -> (%y) {\n"
                         "  %y = Add(%a, %b)\n"
                         "  %b = Neg(%a) @neg\n"
                         "  %a = Relu(%x)\n"
                         "}\n";
    assert_string_equal(out, expect);
    free(out);
    assert_int_equal(aglm_graph_verify(g), AGLM_ERR_INVALID);
    assert_int_equal(aglm_graph_toposort(g), AGLM_OK);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    assert_string_equal(aglm_node_op(aglm_graph_node(g, 0)), "Relu");
    assert_string_equal(aglm_node_name(aglm_graph_node(g, 1)), "neg");
    aglm_graph_free(g);

    /* An unnamed graph prints with an empty quoted name and reads back the same. */
    g = parse_ok("graph \"\"() -> () {\n}\n");
    assert_string_equal(aglm_graph_name(g), "");
    out = aglm_graph_to_text(g, 0);
    assert_string_equal(out, "graph \"\"() -> () {\n}\n");
    free(out);
    aglm_graph_free(g);

    /* Lenient forms: ints in a float list, typed non-empty lists, 0/1 for bool. */
    g = parse_ok("graph g() -> () {\n  const %b: bool[2] = [1, 0]\n"
                 "  X() {f=[1, 2.5], i=ints[1, 2], s=strings[\"a\"]}\n}");
    const aglm_node *n = aglm_graph_node(g, 0);
    size_t cnt;
    assert_float_equal(aglm_node_get_floats(n, "f", &cnt)[0], 1.0f, 0);
    assert_int_equal(cnt, 2);
    assert_int_equal(aglm_node_get_ints(n, "i", &cnt)[1], 2);
    assert_int_equal(((const uint8_t *)aglm_value_const(aglm_graph_find_value(g, "b"))->data)[0],
                     1);
    aglm_graph_free(g);
}

typedef struct bad_case {
    const char *text;
    const char *message;
} bad_case;

static void test_parse_errors(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {"", "line 1, column 1: expected 'graph' but found end of input"},
        {"graph g(%x: f32) -> (%x) {\n  %y = Relu(%x,\n}\n",
         "line 3, column 1: expected an input (%name or '_') but found '}'"},
        {"graph g(%x: f33[2]) -> () {\n}", "line 1, column 13: unknown dtype 'f33'"},
        {"graph g(%x: f32) -> (%x) {\n  %x = Relu(%x)\n}",
         "line 2, column 3: value %x is already defined"},
        {"graph g(%x: f32) -> (%x, %y) {\n}", "line 1, column 26: output %y is never defined"},
        {"graph g(%x: f32) -> (%y) {\n  %y = Relu(%z)\n}",
         "line 2, column 13: value %z is used but never defined"},
        {"graph g(%x: f32[2]) -> (%y: f32[3]) {\n  %y: f32[2] = Relu(%x)\n}",
         "line 1, column 25: output %y is declared f32[3] but defined as f32[2]"},
        {"graph g() -> () {\n  const %k: u8[2] = [1, 300]\n}",
         "line 2, column 25: 300 is out of range for u8"},
        {"graph g() -> () {\n  const %k: f32[3] = [1, 2]\n}",
         "line 2, column 22: constant %k: 2 elements given but its type holds 3"},
        {"graph g() -> () {\n  const %k: f32[1] = [1, 2]\n}",
         "line 2, column 26: constant %k: more than the 1 elements"},
        {"graph g() -> () {\n  const %k: f32[N] = [1]\n}",
         "line 2, column 22: constant %k needs a static shape"},
        {"graph g() -> () {\n  const %k: i32[1] = [1.5]\n}",
         "line 2, column 23: expected an integer but found number 1.5"},
        {"graph g() -> () {\n  X() {a=1, a=2}\n}",
         "line 2, column 13: attribute 'a' is given twice"},
        {"graph g() -> () {\n  X() {a=[]}\n}", "line 2, column 10: an empty list needs its kind"},
        {"graph g() -> () {\n  X() {a=[1, \"s\"]}\n}",
         "line 2, column 14: a list cannot mix kinds: expected an integer"},
        {"graph g() -> () {\n  X() {a=\"abc\n}\n}", "line 2, column 10: unterminated string"},
        {"graph g() -> () {\n  X() {a=\"\\q\"}\n}", "line 2, column 10: bad escape"},
        {"graph g() -> () {\n  X() $\n}", "line 2, column 7: unexpected character '$'"},
        {"graph g() -> () {\n  X() {a=1}\n}\ngraph h() -> () {}",
         "line 4, column 1: expected end of input but found 'graph'"},
        {"graph g() -> () {\n  opset ai.onnx 0\n}",
         "line 2, column 17: opset version must be positive"},
        {"graph g() -> () {\n  X() {a=99999999999999999999}\n}",
         "line 2, column 10: integer 99999999999999999999 does not fit"},
        {"graph g(%x: f32[1,2,3,4,5,6,7,8,9]) -> () {\n}",
         "line 1, column 33: rank exceeds the maximum of 8"},
        {"graph g() -> () {\n  X() {g=graph s() -> (%q) {\n      %q = Neg(%later)\n    }}\n  "
         "%later = Y()\n}",
         "line 3, column 16: value %later is used but never defined"},
        {"graph g() -> () {\n  X() @\"\"\n}", "line 2, column 8: a node name cannot be empty"},
        {"graph g(%\"\": f32) -> () {\n}", "line 1, column 9: a value name cannot be empty"},
        {"graph g(%\"a\\x00b\": f32) -> () {\n}",
         "line 1, column 9: a value name cannot contain a NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        aglm_graph *g = (aglm_graph *)&g; /* must be reset to NULL on failure */
        aglm_status st = aglm_graph_parse(cases[i].text, &g);
        if (st == AGLM_OK)
            fail_msg("case %zu parsed but should not:\n%s", i, cases[i].text);
        assert_null(g);
        if (!strstr(aglm_last_error(), cases[i].message))
            fail_msg("case %zu: wanted '%s', got '%s'", i, cases[i].message, aglm_last_error());
    }
    assert_int_equal(aglm_graph_parse(NULL, NULL), AGLM_ERR_INVALID);
}

/* Every prefix that cuts off the closing brace is an error with a location, never a crash. */
static void test_truncated_input(void **state)
{
    (void)state;
    aglm_graph *g = full_graph();
    char *text = aglm_graph_to_text(g, 0);
    size_t len = strlen(text), last_brace = (size_t)(strrchr(text, '}') - text);
    char *buf = malloc(len + 1);
    for (size_t cut = 0; cut <= last_brace; cut++) {
        memcpy(buf, text, cut);
        buf[cut] = '\0';
        aglm_graph *back = NULL;
        aglm_status st = aglm_graph_parse(buf, &back);
        if (st == AGLM_OK)
            fail_msg("prefix of %zu bytes parsed", cut);
        assert_null(back);
        assert_non_null(strstr(aglm_last_error(), "line "));
    }
    free(buf);
    free(text);
    aglm_graph_free(g);
}

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Mangled text either fails cleanly or yields a graph that prints and verifies without harm. */
static void test_mangled_input(void **state)
{
    (void)state;
    aglm_graph *g = full_graph();
    char *text = aglm_graph_to_text(g, 0);
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    static const char interesting[] = "%\"\\[](){},:=.@<>?_-#0123456789 \nabcxyzgraphconstvalue";
    int parsed = 0;
    for (int iter = 0; iter < 1500; iter++) {
        memcpy(buf, text, len + 1);
        int edits = 1 + (int)(rnd() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rnd() % len;
            uint32_t kind = rnd() % 3;
            if (kind == 0)
                buf[at] = interesting[rnd() % (sizeof interesting - 1)];
            else if (kind == 1)
                buf[at] = (char)(1 + rnd() % 255);
            else /* cut here */
                buf[at] = '\0';
        }
        aglm_graph *back = NULL;
        if (aglm_graph_parse(buf, &back) == AGLM_OK) {
            parsed++;
            char *again = aglm_graph_to_text(back, 0);
            assert_non_null(again);
            (void)aglm_graph_verify(back);
            (void)aglm_graph_toposort(back);
            free(again);
            aglm_graph_free(back);
        } else {
            assert_null(back);
            assert_non_null(strstr(aglm_last_error(), "line "));
        }
    }
    /* Pure noise, too. */
    for (int iter = 0; iter < 500; iter++) {
        size_t n = rnd() % 200;
        for (size_t i = 0; i < n; i++)
            buf[i] = interesting[rnd() % (sizeof interesting - 1)];
        buf[n] = '\0';
        aglm_graph *back = NULL;
        if (aglm_graph_parse(buf, &back) == AGLM_OK)
            aglm_graph_free(back);
    }
    print_message("%d of 1500 mangled texts still parsed\n", parsed);
    free(buf);
    free(text);
    aglm_graph_free(g);
}

static void test_deep_nesting_refused(void **state)
{
    (void)state;
    size_t depth = 200, cap = depth * 64 + 64, len = 0;
    char *buf = malloc(cap);
    len += (size_t)snprintf(buf + len, cap - len, "graph g() -> () {\n");
    for (size_t i = 0; i < depth; i++)
        len += (size_t)snprintf(buf + len, cap - len, "X() {a=graph s() -> () {\n");
    for (size_t i = 0; i < depth; i++)
        len += (size_t)snprintf(buf + len, cap - len, "}}\n");
    snprintf(buf + len, cap - len, "}\n");
    aglm_graph *g = NULL;
    assert_int_equal(aglm_graph_parse(buf, &g), AGLM_ERR_PARSE);
    assert_non_null(strstr(aglm_last_error(), "nested more than 64 deep"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_everything), cmocka_unit_test(test_elided_constants),
        cmocka_unit_test(test_hand_written_text),     cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_truncated_input),       cmocka_unit_test(test_mangled_input),
        cmocka_unit_test(test_deep_nesting_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
