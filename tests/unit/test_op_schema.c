/* The op schema (aglm/op_schema.h) and the window geometry (aglm/window.h): lookups across the
 * ai.onnx spellings and the aglm domain, node tests, flags, arity errors, the table's order, that
 * every op shape inference has a rule for has an entry, and window output sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

static aglm_graph *g;

static int setup(void **state)
{
    (void)state;
    g = aglm_graph_new("t");
    return g ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    aglm_graph_free(g);
    g = NULL;
    return 0;
}

static aglm_value *val(void)
{
    aglm_dim d[4] = {{1, NULL}, {3, NULL}, {8, NULL}, {8, NULL}};
    aglm_value *v = aglm_graph_new_value(g, NULL, AGLM_F32, 4, d);
    assert_non_null(v);
    return v;
}

/* A node of n_in inputs (NULL where `absent` has a 1) and n_out outputs. */
static aglm_node *node(const char *op, const char *domain, const char *name, size_t n_in,
                       const char *absent, size_t n_out)
{
    aglm_value *in[8], *out[4];
    for (size_t i = 0; i < n_in; i++)
        in[i] = absent && absent[i] == '1' ? NULL : val();
    for (size_t i = 0; i < n_out; i++)
        out[i] = val();
    aglm_node *n = aglm_graph_add_node(g, op, domain, name, n_in, in, n_out, out);
    assert_non_null(n);
    return n;
}

/* Checks that n fails its arity check with exactly `msg`. */
static void arity_fails(const aglm_node *n, aglm_status st, const char *msg)
{
    assert_int_equal(aglm_node_check_arity(n), st);
    assert_string_equal(aglm_last_error(), msg);
}

static void test_lookup(void **state)
{
    (void)state;
    const aglm_op_schema *conv = aglm_op_schema_find("", "Conv");
    assert_non_null(conv);
    assert_ptr_equal(aglm_op_schema_find("ai.onnx", "Conv"), conv);
    assert_ptr_equal(aglm_op_schema_find(NULL, "Conv"), conv);
    assert_string_equal(conv->domain, "");
    assert_string_equal(conv->op, "Conv");
    assert_int_equal(conv->min_inputs, 2);
    assert_int_equal(conv->max_inputs, 3);
    assert_int_equal(conv->min_outputs, 1);
    assert_int_equal(conv->max_outputs, 1);

    const aglm_op_schema *fc = aglm_op_schema_find(AGLM_DOMAIN, AGLM_OP_FUSED_CONV);
    assert_non_null(fc);
    assert_string_equal(fc->domain, "aglm");
    assert_int_equal(fc->max_inputs, 4);
    assert_null(aglm_op_schema_find("", "FusedConv"));
    assert_null(aglm_op_schema_find("aglm", "Conv"));
    assert_non_null(aglm_op_schema_find("ai.onnx.preview", "FlexAttention"));
    assert_null(aglm_op_schema_find("", "FlexAttention"));
    assert_null(aglm_op_schema_find("", "NoSuchOp"));
    assert_null(aglm_op_schema_find("com.example", "Conv"));
    assert_null(aglm_op_schema_find("", NULL));
    assert_int_equal(aglm_op_schema_find("", "Concat")->max_inputs, AGLM_OP_VARIADIC);
    assert_int_equal(aglm_op_schema_find("", "Split")->max_outputs, AGLM_OP_VARIADIC);
}

static void test_node_is(void **state)
{
    (void)state;
    aglm_node *relu = node("Relu", NULL, "r", 1, NULL, 1);
    aglm_node *relu2 = node("Relu", "ai.onnx", "r2", 1, NULL, 1);
    aglm_node *fc = node(AGLM_OP_FUSED_CONV, AGLM_DOMAIN, "fc", 2, NULL, 1);
    assert_true(aglm_node_is(relu, "", "Relu"));
    assert_true(aglm_node_is(relu, NULL, "Relu"));
    assert_true(aglm_node_is(relu, "ai.onnx", "Relu"));
    assert_true(aglm_node_is(relu2, "", "Relu"));
    assert_false(aglm_node_is(relu, "", "Sigmoid"));
    assert_false(aglm_node_is(relu, "aglm", "Relu"));
    assert_true(aglm_node_is(fc, "aglm", "FusedConv"));
    assert_false(aglm_node_is(fc, "", "FusedConv"));
    assert_false(aglm_node_is(NULL, "", "Relu"));
    assert_ptr_equal(aglm_node_schema(relu), aglm_op_schema_find("", "Relu"));
    assert_ptr_equal(aglm_node_schema(relu2), aglm_op_schema_find("", "Relu"));
    assert_ptr_equal(aglm_node_schema(fc), aglm_op_schema_find("aglm", "FusedConv"));
    assert_null(aglm_node_schema(node("Frob", "com.example", "x", 1, NULL, 1)));
}

static void test_flags(void **state)
{
    (void)state;
    const uint32_t ew_all = AGLM_OPF_ELEMENTWISE | AGLM_OPF_INPLACE | AGLM_OPF_WRITES_ALL;
    assert_int_equal(aglm_op_schema_find("", "Add")->flags, ew_all);
    assert_int_equal(aglm_op_schema_find("", "Sigmoid")->flags, ew_all);
    assert_int_equal(aglm_op_schema_find("", "Clip")->flags, ew_all);
    /* element-wise, but the kernel copies input 0 into the output first: not in place */
    assert_int_equal(aglm_op_schema_find("", "Max")->flags, AGLM_OPF_ELEMENTWISE);
    assert_int_equal(aglm_op_schema_find("", "Where")->flags, AGLM_OPF_ELEMENTWISE);
    assert_int_equal(aglm_op_schema_find("", "Cast")->flags, AGLM_OPF_ELEMENTWISE);
    assert_int_equal(aglm_op_schema_find("", "Concat")->flags, AGLM_OPF_WRITES_ALL);
    assert_int_equal(aglm_op_schema_find("", "Resize")->flags, AGLM_OPF_WRITES_ALL);
    assert_int_equal(aglm_op_schema_find("", "ConvTranspose")->flags, 0);
    assert_int_equal(aglm_op_schema_find("aglm", "FusedMatMul")->flags, AGLM_OPF_WRITES_ALL);
    assert_int_equal(aglm_op_schema_find("", "Loop")->flags, AGLM_OPF_SUBGRAPHS);
    assert_int_equal(aglm_op_schema_find("", "If")->flags, AGLM_OPF_SUBGRAPHS);
    assert_int_equal(aglm_op_schema_find("", "Dropout")->flags, AGLM_OPF_NONDETERMINISTIC);
    assert_int_equal(aglm_op_schema_find("", "RandomNormal")->flags, AGLM_OPF_NONDETERMINISTIC);

    assert_int_equal(aglm_op_schema_find("", "Conv")->flops, AGLM_FLOPS_CONV);
    assert_int_equal(aglm_op_schema_find("aglm", "FusedConv")->flops, AGLM_FLOPS_CONV);
    assert_int_equal(aglm_op_schema_find("", "ConvTranspose")->flops, AGLM_FLOPS_CONV_TRANSPOSE);
    assert_int_equal(aglm_op_schema_find("", "MatMul")->flops, AGLM_FLOPS_MATMUL);
    assert_int_equal(aglm_op_schema_find("", "Gemm")->flops, AGLM_FLOPS_MATMUL);
    assert_int_equal(aglm_op_schema_find("aglm", "FusedMatMul")->flops, AGLM_FLOPS_MATMUL);
    assert_int_equal(aglm_op_schema_find("", "Relu")->flops, AGLM_FLOPS_NONE);

    aglm_node *mul = node("Mul", NULL, "m", 2, NULL, 1);
    assert_true(aglm_node_has_flags(mul, AGLM_OPF_INPLACE | AGLM_OPF_WRITES_ALL));
    assert_false(aglm_node_has_flags(mul, AGLM_OPF_SUBGRAPHS));
    assert_false(aglm_node_has_flags(node("Frob", NULL, "f", 1, NULL, 1), 0));

    /* in place implies element-wise and writing everything, for every op */
    for (size_t i = 0; i < aglm_op_schema_count(); i++) {
        const aglm_op_schema *s = aglm_op_schema_at(i);
        if (s->flags & AGLM_OPF_INPLACE)
            assert_int_equal(s->flags & ew_all, ew_all);
    }
}

static void test_arity(void **state)
{
    (void)state;
    assert_int_equal(aglm_node_check_arity(node("Conv", NULL, "c", 2, NULL, 1)), AGLM_OK);
    assert_int_equal(aglm_node_check_arity(node("Conv", NULL, "c", 3, "001", 1)), AGLM_OK);
    assert_int_equal(aglm_node_check_arity(node("Loop", NULL, "l", 2, "11", 1)), AGLM_OK);
    assert_int_equal(aglm_node_check_arity(node("RNN", NULL, "r", 3, NULL, 0)), AGLM_OK);

    arity_fails(node("Add", NULL, "add1", 1, NULL, 1), AGLM_ERR_INVALID,
                "node 'add1' (Add): 1 input; Add takes 2");
    arity_fails(node("Add", NULL, "half", 2, "01", 1), AGLM_ERR_INVALID,
                "node 'half' (Add): required input 1 is missing; Add takes 2");
    arity_fails(node("Conv", NULL, "c4", 4, NULL, 1), AGLM_ERR_INVALID,
                "node 'c4' (Conv): 4 inputs; Conv takes 2 to 3");
    arity_fails(node("Concat", NULL, "cat", 0, NULL, 1), AGLM_ERR_INVALID,
                "node 'cat' (Concat): 0 inputs; Concat takes 1 or more");
    arity_fails(node("MaxPool", NULL, "mp", 1, NULL, 3), AGLM_ERR_INVALID,
                "node 'mp' (MaxPool): 3 outputs; MaxPool gives 1 to 2");
    arity_fails(node("Frob", "com.example", "mystery", 1, NULL, 1), AGLM_ERR_UNSUPPORTED,
                "node 'mystery': unknown op 'com.example.Frob'");
    arity_fails(node("Frob", "ai.onnx", "plain", 1, NULL, 1), AGLM_ERR_UNSUPPORTED,
                "node 'plain': unknown op 'Frob'");

    /* shape inference checks the same way, before the rule runs */
    aglm_node *n = node("Add", NULL, "inferred", 2, "01", 1);
    assert_int_equal(aglm_infer_node(n), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "node 'inferred' (Add): required input 1"));
}

static void test_table_sorted(void **state)
{
    (void)state;
    size_t count = aglm_op_schema_count();
    assert_true(count > 180);
    assert_null(aglm_op_schema_at(count));
    for (size_t i = 0; i < count; i++) {
        const aglm_op_schema *s = aglm_op_schema_at(i);
        assert_true(strcmp(s->domain, "") == 0 || strcmp(s->domain, "aglm") == 0 ||
                    strcmp(s->domain, "ai.onnx.preview") == 0);
        assert_true(s->min_inputs <= s->max_inputs);
        assert_true(s->min_outputs <= s->max_outputs);
        assert_ptr_equal(aglm_op_schema_find(s->domain, s->op), s);
        if (i == 0)
            continue;
        const aglm_op_schema *p = aglm_op_schema_at(i - 1);
        int c = strcmp(p->domain, s->domain);
        if (c == 0 && strcmp(p->op, s->op) >= 0)
            fail_msg("'%s' after '%s' in domain '%s'", s->op, p->op, s->domain);
        assert_true(c <= 0);
    }
}

/* Each string literal in `path` that names an op with an inference rule of domain "" has a
 * schema entry; returns how many such ops were found. */
static size_t check_rule_names(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t found = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        for (char *q = strchr(line, '"'); q; q = strchr(q, '"')) {
            char *end = strchr(q + 1, '"');
            if (!end)
                break;
            *end = '\0';
            if (isupper((unsigned char)q[1]) && aglm_infer_has_rule(q + 1, "")) {
                if (!aglm_op_schema_find("", q + 1))
                    fail_msg("%s: op %s has an inference rule but no schema", path, q + 1);
                found++;
            }
            q = end + 1;
        }
    }
    fclose(f);
    return found;
}

static void test_inference_ops_have_schema(void **state)
{
    (void)state;
    glob_t gl;
    assert_int_equal(glob(AGLM_SOURCE_DIR "/plugin-api/src/infer_ops_*.c", 0, NULL, &gl), 0);
    size_t found = 0;
    for (size_t i = 0; i < gl.gl_pathc; i++)
        found += check_rule_names(gl.gl_pathv[i]);
    globfree(&gl);
    assert_true(found > 150);
    static const char *const aglm_ops[] = {
        AGLM_OP_FUSED_CONV, AGLM_OP_FUSED_MATMUL, AGLM_OP_LAYER_NORM,
        AGLM_OP_GELU,       AGLM_OP_ELEMENTWISE,
    };
    for (size_t i = 0; i < sizeof aglm_ops / sizeof aglm_ops[0]; i++) {
        assert_true(aglm_infer_has_rule(aglm_ops[i], AGLM_DOMAIN));
        assert_non_null(aglm_op_schema_find(AGLM_DOMAIN, aglm_ops[i]));
    }
}

/* The cpu kernel tables are out of a unit test's reach: a few of each family, and each domain. */
static void test_kernel_ops_spot_check(void **state)
{
    (void)state;
    static const char *const onnx_ops[] = {
        "Abs",
        "Add",
        "And",
        "Attention",
        "BitShift",
        "CastLike",
        "CausalConvWithState",
        "Col2Im",
        "Concat",
        "ConvInteger",
        "CumProd",
        "DeformConv",
        "DynamicQuantizeLinear",
        "Einsum",
        "GatherND",
        "GridSample",
        "LinearAttention",
        "Loop",
        "LpPool",
        "MelWeightMatrix",
        "NonMaxSuppression",
        "QLinearConv",
        "ReduceLogSumExp",
        "RotaryEmbedding",
        "STFT",
        "Scatter",
        "SoftmaxCrossEntropyLoss",
        "TensorScatter",
        "Trilu",
        "Unique",
        "Upsample",
    };
    for (size_t i = 0; i < sizeof onnx_ops / sizeof onnx_ops[0]; i++)
        if (!aglm_op_schema_find("", onnx_ops[i]))
            fail_msg("no schema for %s", onnx_ops[i]);
    assert_non_null(aglm_op_schema_find("ai.onnx.preview", "FlexAttention"));
    assert_int_equal(aglm_op_schema_find("aglm", AGLM_OP_ELEMENTWISE)->max_inputs,
                     1 + AGLM_ELEMENTWISE_MAX_OPERANDS);
    assert_int_equal(aglm_op_schema_find("", "BatchNormalization")->max_outputs, 5);
}

/* aglm_window_axis's output size, and the pads it used. */
static void axis(int64_t in, int64_t k, int64_t s, int64_t d, aglm_auto_pad pad, int ceil_mode,
                 int64_t pb, int64_t pe, int64_t want, int64_t want_pb, int64_t want_pe)
{
    int64_t o = -1;
    assert_int_equal(aglm_window_axis(in, k, s, d, pad, ceil_mode, &pb, &pe, &o), AGLM_OK);
    assert_int_equal(o, want);
    assert_int_equal(pb, want_pb);
    assert_int_equal(pe, want_pe);
}

static void test_window_axis(void **state)
{
    (void)state;
    /* SAME: ceil(in / stride), the odd pad at the end (UPPER) or the beginning (LOWER) */
    axis(7, 3, 2, 1, AGLM_AUTO_PAD_SAME_UPPER, 0, 0, 0, 4, 1, 1);
    axis(8, 3, 2, 1, AGLM_AUTO_PAD_SAME_UPPER, 0, 0, 0, 4, 0, 1);
    axis(8, 3, 2, 1, AGLM_AUTO_PAD_SAME_LOWER, 0, 0, 0, 4, 1, 0);
    axis(8, 4, 1, 1, AGLM_AUTO_PAD_SAME_UPPER, 0, 9, 9, 8, 1, 2); /* pads ignored */
    /* explicit pads */
    axis(5, 3, 1, 1, AGLM_AUTO_PAD_NOTSET, 0, 1, 1, 5, 1, 1);
    axis(6, 3, 3, 1, AGLM_AUTO_PAD_NOTSET, 0, 1, 1, 2, 1, 1);
    /* dilation 2 makes a window of 5 */
    axis(7, 3, 1, 2, AGLM_AUTO_PAD_NOTSET, 0, 0, 0, 3, 0, 0);
    axis(7, 3, 2, 2, AGLM_AUTO_PAD_NOTSET, 0, 2, 2, 4, 2, 2);
    /* ceil_mode rounds up, but drops a last window that would start in the end padding */
    axis(6, 3, 3, 1, AGLM_AUTO_PAD_NOTSET, 1, 1, 1, 3, 1, 1);
    axis(5, 2, 2, 1, AGLM_AUTO_PAD_NOTSET, 1, 1, 1, 3, 1, 1);
    axis(5, 2, 2, 1, AGLM_AUTO_PAD_NOTSET, 0, 1, 1, 3, 1, 1);
    axis(4, 2, 3, 1, AGLM_AUTO_PAD_NOTSET, 1, 0, 0, 2, 0, 0);
    /* VALID pads nothing and keeps ONNX's floor formula */
    axis(7, 3, 2, 1, AGLM_AUTO_PAD_VALID, 1, 5, 5, 3, 0, 0);

    int64_t pb = 0, pe = 0, o = 0;
    assert_int_equal(aglm_window_axis(2, 3, 1, 1, AGLM_AUTO_PAD_NOTSET, 0, &pb, &pe, &o),
                     AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(),
                        "window of 3 (kernel 3, dilation 1) is larger than the padded size 2");
    assert_int_equal(aglm_window_axis(4, 0, 1, 1, AGLM_AUTO_PAD_NOTSET, 0, &pb, &pe, &o),
                     AGLM_ERR_INVALID);

    /* ConvTranspose: stride * (in - 1) + output_padding + dilated kernel, less the pads */
    pb = pe = 1;
    assert_int_equal(
        aglm_window_transpose_axis(3, 3, 2, 1, 1, -1, AGLM_AUTO_PAD_NOTSET, &pb, &pe, &o), AGLM_OK);
    assert_int_equal(o, 6);
    assert_int_equal(
        aglm_window_transpose_axis(3, 3, 2, 1, 0, -1, AGLM_AUTO_PAD_SAME_UPPER, &pb, &pe, &o),
        AGLM_OK);
    assert_int_equal(o, 6);
    assert_int_equal(pb + pe, 1);
    assert_int_equal(
        aglm_window_transpose_axis(3, 3, 2, 1, 0, 10, AGLM_AUTO_PAD_NOTSET, &pb, &pe, &o), AGLM_OK);
    assert_int_equal(o, 10);
    pb = pe = 5;
    assert_int_equal(
        aglm_window_transpose_axis(1, 1, 1, 1, 0, -1, AGLM_AUTO_PAD_NOTSET, &pb, &pe, &o),
        AGLM_ERR_SHAPE);
}

static void test_window_init(void **state)
{
    (void)state;
    aglm_node *n = node("MaxPool", NULL, "mp", 1, NULL, 1);
    int64_t k[] = {3, 3}, s[] = {2, 2}, p[] = {1, 1, 1, 1}, in[] = {7, 8};
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", k, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", s, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "pads", p, 4), AGLM_OK);
    aglm_window w;
    assert_int_equal(aglm_window_init(&w, n, 2, in, NULL, 0), AGLM_OK);
    assert_int_equal(w.nd, 2);
    assert_int_equal(w.out[0], 1); /* the unit leading dim */
    assert_int_equal(w.out[1], 4);
    assert_int_equal(w.out[2], 4);
    assert_int_equal(aglm_window_out_size(&w), 16);
    assert_int_equal(aglm_window_in_size(&w), 56);
    assert_int_equal(aglm_window_kernel_size(&w), 9);
    /* ceil_mode: (8 + 2 - 3 + 1) / 2 + 1 = 5 on the width, whose last window starts at padded
     * position 8, inside the input; the height stays 4 */
    assert_int_equal(aglm_window_init(&w, n, 2, in, NULL, 1), AGLM_OK);
    assert_int_equal(w.out[1], 4);
    assert_int_equal(w.out[2], 5);

    /* a weight's kernel must agree with kernel_shape */
    int64_t wk[] = {3, 5};
    assert_int_equal(aglm_window_init(&w, n, 2, in, wk, 0), AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(), "kernel_shape[1] = 3 but the weight has 5");

    aglm_node *bad = node("AveragePool", NULL, "ap", 1, NULL, 1);
    assert_int_equal(aglm_window_init(&w, bad, 2, in, NULL, 0), AGLM_ERR_INVALID);
    assert_string_equal(aglm_last_error(), "attribute kernel_shape is required");
    assert_int_equal(aglm_node_set_ints(bad, "kernel_shape", k, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_string(bad, "auto_pad", "SAME", 4), AGLM_OK);
    assert_int_equal(aglm_window_init(&w, bad, 2, in, NULL, 0), AGLM_ERR_INVALID);
    assert_string_equal(aglm_last_error(), "attribute auto_pad 'SAME' is not NOTSET, SAME_UPPER, "
                                           "SAME_LOWER or VALID");
    int64_t tiny[] = {2, 2};
    assert_int_equal(aglm_node_set_string(bad, "auto_pad", "NOTSET", 6), AGLM_OK);
    assert_int_equal(aglm_window_init(&w, bad, 2, tiny, NULL, 0), AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(), "spatial dim 0: window of 3 (kernel 3, dilation 1) is "
                                           "larger than the padded size 2");

    aglm_node *ct = node("ConvTranspose", NULL, "ct", 2, NULL, 1);
    int64_t ct_s[] = {2}, ct_shape[] = {1, 4, 9}, ct_in[] = {4}, ct_k[] = {3};
    assert_int_equal(aglm_node_set_ints(ct, "strides", ct_s, 1), AGLM_OK);
    assert_int_equal(aglm_window_init_transpose(&w, ct, 1, ct_in, ct_k), AGLM_OK);
    assert_int_equal(w.out[2], 9);
    assert_int_equal(aglm_node_set_ints(ct, "output_shape", ct_shape, 3), AGLM_OK);
    assert_int_equal(aglm_window_init_transpose(&w, ct, 1, ct_in, ct_k), AGLM_OK);
    assert_int_equal(w.out[2], 9);
    assert_int_equal(w.pb[2] + w.pe[2], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test_setup_teardown(test_node_is, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arity, setup, teardown),
        cmocka_unit_test(test_table_sorted),
        cmocka_unit_test(test_inference_ops_have_schema),
        cmocka_unit_test(test_kernel_ops_spot_check),
        cmocka_unit_test(test_window_axis),
        cmocka_unit_test_setup_teardown(test_window_init, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
