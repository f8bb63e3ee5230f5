/* Shape and type inference: every op family, broadcasting, symbolic dims, opset differences and
 * the errors a user sees. Graphs are built with the graph API; types are read back as the IR text
 * spells them ("f32[N,3]"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

static aglm_graph *g;

static int setup(void **state)
{
    (void)state;
    g = aglm_graph_new("t");
    if (!g)
        return -1;
    return aglm_graph_set_opset(g, "", 17) == AGLM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    aglm_graph_free(g);
    g = NULL;
    return 0;
}

static void opset(int64_t v)
{
    assert_int_equal(aglm_graph_set_opset(g, "", v), AGLM_OK);
}

/* A value of type "2,N,?" ("*": unknown shape, "": scalar). */
static aglm_value *val(const char *name, aglm_dtype dt, const char *shape)
{
    aglm_dim dims[AGLM_MAX_RANK];
    int rank = 0;
    if (strcmp(shape, "*") == 0) {
        rank = -1;
    } else if (shape[0]) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", shape);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            aglm_dim d = {AGLM_DIM_DYNAMIC, NULL};
            if (tok[0] >= '0' && tok[0] <= '9')
                d.value = strtoll(tok, NULL, 10);
            else if (strcmp(tok, "?") != 0)
                d.sym = tok;
            dims[rank++] = d;
        }
        aglm_value *v = aglm_graph_new_value(g, name, dt, rank, dims);
        assert_non_null(v);
        return v;
    }
    aglm_value *v = aglm_graph_new_value(g, name, dt, rank, NULL);
    assert_non_null(v);
    return v;
}

/* A fresh output value of unknown type. */
static aglm_value *out(void)
{
    return val(NULL, AGLM_UNDEFINED, "*");
}

static aglm_value *init_i64(const char *name, int n, const int64_t *vals)
{
    aglm_tensor t;
    int64_t dim = n;
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_I64, 1, &dim), AGLM_OK);
    if (n)
        memcpy(t.data, vals, (size_t)n * sizeof *vals);
    aglm_value *v = aglm_graph_add_initializer(g, name, &t);
    aglm_tensor_free(&t);
    assert_non_null(v);
    return v;
}

static aglm_node *node(const char *op, const char *name, size_t n_in, aglm_value *const *in,
                       size_t n_out, aglm_value *const *outs)
{
    aglm_node *n = aglm_graph_add_node(g, op, "", name, n_in, in, n_out, outs);
    assert_non_null(n);
    return n;
}

/* Adds a one-output node and returns its output. */
static aglm_value *op1(const char *op, const char *name, size_t n_in, aglm_value *const *in,
                       aglm_node **n_out)
{
    aglm_value *y = out();
    aglm_node *n = node(op, name, n_in, in, 1, &y);
    if (n_out)
        *n_out = n;
    return y;
}

static const char *ty(const aglm_value *v)
{
    static char buf[8][128];
    static int k;
    k = (k + 1) % 8;
    return aglm_value_type_str(v, buf[k], sizeof buf[k]);
}

static void ints(aglm_node *n, const char *name, size_t count, const int64_t *v)
{
    assert_int_equal(aglm_node_set_ints(n, name, v, count), AGLM_OK);
}

static void str(aglm_node *n, const char *name, const char *s)
{
    assert_int_equal(aglm_node_set_string(n, name, s, strlen(s)), AGLM_OK);
}

/* Infers one node and expects success. */
static void ok(aglm_node *n)
{
    aglm_status st = aglm_infer_node(n);
    if (st != AGLM_OK)
        fail_msg("inference failed: %s", aglm_last_error());
}

/* Infers one node and expects status st with every needle in the message. */
static void fails(aglm_node *n, aglm_status st, const char *needle1, const char *needle2)
{
    assert_int_equal(aglm_infer_node(n), st);
    const char *msg = aglm_last_error();
    if (needle1 && !strstr(msg, needle1))
        fail_msg("'%s' not in '%s'", needle1, msg);
    if (needle2 && !strstr(msg, needle2))
        fail_msg("'%s' not in '%s'", needle2, msg);
}

/* Binary op of two typed inputs: returns the inferred type string, or NULL with the status in *st.
 */
static const char *binary(const char *op, aglm_dtype da, const char *a, aglm_dtype db,
                          const char *b)
{
    aglm_value *in[2] = {val(NULL, da, a), val(NULL, db, b)};
    aglm_node *n;
    aglm_value *y = op1(op, NULL, 2, in, &n);
    ok(n);
    return ty(y);
}

/* ---- element-wise ------------------------------------------------------------------------ */

static void test_unary_keeps_type_and_symbols(void **state)
{
    (void)state;
    const char *ops[] = {"Relu", "Sigmoid", "Tanh", "Exp",       "Log",     "Sqrt",
                         "Neg",  "Abs",     "Erf",  "LeakyRelu", "Identity"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        aglm_value *x = val(NULL, AGLM_F32, "N,3");
        aglm_node *n;
        aglm_value *y = op1(ops[i], NULL, 1, &x, &n);
        ok(n);
        assert_string_equal(ty(y), "f32[N,3]");
    }
}

static void test_unary_float_only_rejects_int(void **state)
{
    (void)state;
    aglm_value *x = val("x", AGLM_I64, "2");
    aglm_node *n;
    op1("Exp", "exp1", 1, &x, &n);
    fails(n, AGLM_ERR_TYPE, "node 'exp1' (Exp)", "i64[2]");
}

static void test_unknown_input_gives_unknown_shape(void **state)
{
    (void)state;
    aglm_value *in[2] = {val(NULL, AGLM_F32, "*"), val(NULL, AGLM_F32, "3")};
    aglm_node *n;
    aglm_value *y = op1("Add", NULL, 2, in, &n);
    ok(n);
    assert_string_equal(ty(y), "f32");
    assert_int_equal(aglm_value_rank(y), -1);
}

static void test_broadcasting(void **state)
{
    (void)state;
    assert_string_equal(binary("Add", AGLM_F32, "N,1", AGLM_F32, "1,5"), "f32[N,5]");
    assert_string_equal(binary("Add", AGLM_F32, "2,3", AGLM_F32, "3"), "f32[2,3]");
    assert_string_equal(binary("Mul", AGLM_F32, "", AGLM_F32, "2,3"), "f32[2,3]");
    assert_string_equal(binary("Sub", AGLM_F32, "4,1,3", AGLM_F32, "2,1"), "f32[4,2,3]");
    assert_string_equal(binary("Div", AGLM_F32, "0,3", AGLM_F32, "1,3"), "f32[0,3]");
    assert_string_equal(binary("Add", AGLM_F32, "0", AGLM_F32, "1"), "f32[0]");
    assert_string_equal(binary("Add", AGLM_F32, "N,3", AGLM_F32, "N,3"), "f32[N,3]");
    assert_string_equal(binary("Add", AGLM_F32, "N", AGLM_F32, "M"), "f32[?]");
    assert_string_equal(binary("Add", AGLM_F32, "N", AGLM_F32, "4"), "f32[4]");
    assert_string_equal(binary("Add", AGLM_F32, "", AGLM_F32, ""), "f32[]");
    assert_string_equal(binary("Add", AGLM_I32, "?,1", AGLM_I32, "1,7"), "i32[?,7]");
}

static void test_broadcast_error_names_node_and_shapes(void **state)
{
    (void)state;
    aglm_value *in[2] = {val("a", AGLM_F32, "2,3"), val("b", AGLM_F32, "4")};
    aglm_node *n;
    op1("Add", "add1", 2, in, &n);
    assert_int_equal(aglm_infer_node(n), AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(),
                        "node 'add1' (Add): cannot broadcast f32[2,3] with f32[4]");

    aglm_value *z[2] = {val("z0", AGLM_F32, "0"), val("z3", AGLM_F32, "3")};
    op1("Mul", "mul0", 2, z, &n);
    fails(n, AGLM_ERR_SHAPE, "node 'mul0' (Mul)", "f32[0] with f32[3]");
}

static void test_type_mismatch_names_both_dtypes(void **state)
{
    (void)state;
    aglm_value *in[2] = {val("a", AGLM_F32, "2"), val("b", AGLM_I64, "2")};
    aglm_node *n;
    op1("Add", "add1", 2, in, &n);
    fails(n, AGLM_ERR_TYPE, "node 'add1' (Add)", "f32[2] and i64[2]");
}

static void test_public_broadcast_shapes(void **state)
{
    (void)state;
    int64_t a[] = {4, 1, 3}, b[] = {2, 1}, out_dims[AGLM_MAX_RANK];
    int rank = 0;
    assert_int_equal(aglm_broadcast_shapes(3, a, 2, b, &rank, out_dims), AGLM_OK);
    assert_int_equal(rank, 3);
    assert_int_equal(out_dims[0], 4);
    assert_int_equal(out_dims[1], 2);
    assert_int_equal(out_dims[2], 3);
    assert_int_equal(aglm_broadcast_shapes(0, NULL, 2, b, &rank, out_dims), AGLM_OK);
    assert_int_equal(rank, 2);
    int64_t c[] = {2, 3}, d[] = {4};
    assert_int_equal(aglm_broadcast_shapes(2, c, 1, d, &rank, out_dims), AGLM_ERR_SHAPE);
    assert_non_null(strstr(aglm_last_error(), "[2,3]"));
    assert_non_null(strstr(aglm_last_error(), "[4]"));
    int64_t neg[] = {-1};
    assert_int_equal(aglm_broadcast_shapes(1, neg, 1, d, &rank, out_dims), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "negative"));
}

static void test_compare_where_pow(void **state)
{
    (void)state;
    assert_string_equal(binary("Equal", AGLM_I64, "N,1", AGLM_I64, "3"), "bool[N,3]");
    assert_string_equal(binary("Pow", AGLM_F32, "2,3", AGLM_I64, ""), "f32[2,3]");

    aglm_value *in[3] = {val(NULL, AGLM_BOOL, "N,1"), val(NULL, AGLM_F16, "1,4"),
                         val(NULL, AGLM_F16, "")};
    aglm_node *n;
    aglm_value *y = op1("Where", NULL, 3, in, &n);
    ok(n);
    assert_string_equal(ty(y), "f16[N,4]");

    /* before opset 12 the exponent must have the base's type */
    opset(11);
    aglm_value *p[2] = {val(NULL, AGLM_F32, "2"), val(NULL, AGLM_I64, "2")};
    op1("Pow", "pow1", 2, p, &n);
    fails(n, AGLM_ERR_TYPE, "node 'pow1' (Pow)", "i64");
}

static void test_clip_dropout_cast(void **state)
{
    (void)state;
    aglm_value *c[3] = {val(NULL, AGLM_F32, "N,8"), val(NULL, AGLM_F32, ""),
                        val(NULL, AGLM_F32, "")};
    aglm_node *n;
    aglm_value *y = op1("Clip", NULL, 3, c, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,8]");
    aglm_value *bad[2] = {val(NULL, AGLM_F32, "4"), val(NULL, AGLM_I32, "")};
    op1("Clip", "clip1", 2, bad, &n);
    fails(n, AGLM_ERR_TYPE, "node 'clip1' (Clip)", "i32[]");

    aglm_value *x = val(NULL, AGLM_F32, "2,3");
    aglm_value *outs[2] = {out(), out()};
    n = node("Dropout", NULL, 1, &x, 2, outs);
    ok(n);
    assert_string_equal(ty(outs[0]), "f32[2,3]");
    assert_string_equal(ty(outs[1]), "bool[2,3]");

    aglm_value *xc = val(NULL, AGLM_F32, "N,3");
    y = op1("Cast", NULL, 1, &xc, &n);
    assert_int_equal(aglm_node_set_int(n, "to", AGLM_I64), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "i64[N,3]");
    op1("Cast", "cast_noto", 1, &xc, &n);
    fails(n, AGLM_ERR_INVALID, "node 'cast_noto' (Cast)", "'to'");
}

static void test_dropout_mask_before_opset_10(void **state)
{
    (void)state;
    opset(7);
    aglm_value *x = val(NULL, AGLM_F32, "2,3");
    aglm_value *outs[2] = {out(), out()};
    ok(node("Dropout", NULL, 1, &x, 2, outs));
    assert_string_equal(ty(outs[1]), "f32[2,3]");
}

static void test_arity_errors(void **state)
{
    (void)state;
    aglm_value *in[2] = {val(NULL, AGLM_F32, "2"), NULL};
    aglm_node *n;
    op1("Add", "half_add", 2, in, &n);
    fails(n, AGLM_ERR_INVALID, "node 'half_add' (Add)", "input 1 is missing");
    aglm_value *three[3] = {val(NULL, AGLM_F32, "2"), val(NULL, AGLM_F32, "2"),
                            val(NULL, AGLM_F32, "2")};
    op1("Relu", "relu3", 3, three, &n);
    fails(n, AGLM_ERR_INVALID, "node 'relu3' (Relu)", "3 inputs");
}

static void test_unsupported_results(void **state)
{
    (void)state;
    int64_t ax0[] = {0};
    aglm_value *in[2] = {val(NULL, AGLM_F32, "1,1,1,1,1,1,1,2"), init_i64(NULL, 1, ax0)};
    aglm_node *n;
    op1("Unsqueeze", "us9", 2, in, &n);
    fails(n, AGLM_ERR_UNSUPPORTED, "node 'us9' (Unsqueeze)", "rank 9");
    op1("Cast", "cast_str", 1, in, &n);
    assert_int_equal(aglm_node_set_int(n, "to", AGLM_STRING), AGLM_OK);
    fails(n, AGLM_ERR_UNSUPPORTED, "node 'cast_str' (Cast)", "dtype 8");
}

/* ---- math -------------------------------------------------------------------------------- */

static void test_matmul(void **state)
{
    (void)state;
    assert_string_equal(binary("MatMul", AGLM_F32, "2,3", AGLM_F32, "3,4"), "f32[2,4]");
    assert_string_equal(binary("MatMul", AGLM_F32, "3", AGLM_F32, "3,4"), "f32[4]");
    assert_string_equal(binary("MatMul", AGLM_F32, "2,3", AGLM_F32, "3"), "f32[2]");
    assert_string_equal(binary("MatMul", AGLM_F32, "3", AGLM_F32, "3"), "f32[]");
    assert_string_equal(binary("MatMul", AGLM_F32, "5,1,2,3", AGLM_F32, "4,3,6"), "f32[5,4,2,6]");
    assert_string_equal(binary("MatMul", AGLM_F32, "B,S,64", AGLM_F32, "64,128"), "f32[B,S,128]");
    assert_string_equal(binary("MatMul", AGLM_F32, "7,2,3", AGLM_F32, "3"), "f32[7,2]");

    aglm_value *in[2] = {val(NULL, AGLM_F32, "2,3"), val(NULL, AGLM_F32, "4,5")};
    aglm_node *n;
    op1("MatMul", "mm1", 2, in, &n);
    fails(n, AGLM_ERR_SHAPE, "node 'mm1' (MatMul)", "f32[2,3] and f32[4,5]");
    aglm_value *b[2] = {val(NULL, AGLM_F32, "2,2,3"), val(NULL, AGLM_F32, "3,3,4")};
    op1("MatMul", "mm2", 2, b, &n);
    fails(n, AGLM_ERR_SHAPE, "node 'mm2' (MatMul)", "f32[2,2,3] and f32[3,3,4]");
}

static aglm_node *gemm(const char *name, const char *a, const char *b, const char *c, int ta,
                       int tb, aglm_value **y)
{
    aglm_value *in[3] = {val(NULL, AGLM_F32, a), val(NULL, AGLM_F32, b),
                         c ? val(NULL, AGLM_F32, c) : NULL};
    aglm_node *n;
    *y = op1("Gemm", name, c ? 3 : 2, in, &n);
    if (ta)
        assert_int_equal(aglm_node_set_int(n, "transA", 1), AGLM_OK);
    if (tb)
        assert_int_equal(aglm_node_set_int(n, "transB", 1), AGLM_OK);
    return n;
}

static void test_gemm(void **state)
{
    (void)state;
    aglm_value *y;
    ok(gemm(NULL, "N,4", "4,5", "5", 0, 0, &y));
    assert_string_equal(ty(y), "f32[N,5]");
    ok(gemm(NULL, "4,3", "5,4", "3,1", 1, 1, &y));
    assert_string_equal(ty(y), "f32[3,5]");
    ok(gemm(NULL, "4,3", "4,5", NULL, 1, 0, &y));
    assert_string_equal(ty(y), "f32[3,5]");
    fails(gemm("g_k", "2,3", "4,5", NULL, 0, 0, &y), AGLM_ERR_SHAPE, "node 'g_k' (Gemm)",
          "f32[2,3] and f32[4,5]");
    fails(gemm("g_c", "2,3", "3,5", "2,4", 0, 0, &y), AGLM_ERR_SHAPE, "node 'g_c' (Gemm)",
          "f32[2,4]");
    fails(gemm("g_r", "2,3,1", "3,5", NULL, 0, 0, &y), AGLM_ERR_SHAPE, "node 'g_r' (Gemm)",
          "f32[2,3,1]");
}

static void test_softmax_axis_by_opset(void **state)
{
    (void)state;
    aglm_value *x = val(NULL, AGLM_F32, "N,10");
    aglm_node *n;
    aglm_value *y = op1("Softmax", NULL, 1, &x, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,10]");
    y = op1("LogSoftmax", NULL, 1, &x, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,10]");

    /* opset 11 coerces to 2-D at axis: the default axis 1 is valid even for a 1-D input */
    opset(11);
    aglm_value *v = val(NULL, AGLM_F32, "5");
    y = op1("Softmax", NULL, 1, &v, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[5]");
    /* opset 13 works on one axis: axis 1 of a 1-D input is out of range */
    opset(13);
    op1("Softmax", "sm13", 1, &v, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    fails(n, AGLM_ERR_INVALID, "node 'sm13' (Softmax)", "axis 1 is out of range for f32[5]");
    /* and the default, -1, is fine */
    y = op1("Softmax", NULL, 1, &v, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[5]");
}

static aglm_value *reduce(const char *op, const char *shape, int nax, const int64_t *axes,
                          int as_input, int keep, aglm_node **np)
{
    aglm_value *in[2] = {val(NULL, AGLM_F32, shape), as_input ? init_i64(NULL, nax, axes) : NULL};
    aglm_node *n;
    aglm_value *y = op1(op, NULL, as_input ? 2 : 1, in, &n);
    if (!as_input && axes)
        ints(n, "axes", (size_t)nax, axes);
    if (keep >= 0)
        assert_int_equal(aglm_node_set_int(n, "keepdims", keep), AGLM_OK);
    *np = n;
    return y;
}

static void test_reduce(void **state)
{
    (void)state;
    aglm_node *n;
    int64_t ax1[] = {1}, axm1[] = {-1}, ax02[] = {0, 2};
    opset(13);
    aglm_value *y = reduce("ReduceMean", "2,3,4", 1, ax1, 0, -1, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[2,1,4]");
    y = reduce("ReduceMax", "N,3,4", 2, ax02, 0, 0, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[3]");
    /* ReduceSum takes axes as an input from opset 13 */
    y = reduce("ReduceSum", "N,3,4", 1, axm1, 1, -1, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,3,1]");
    y = reduce("ReduceSum", "2,3", 0, NULL, 0, 0, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[]");
    y = reduce("ReduceMean", "2,3", 1, axm1, 0, 1, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[2,1]");
    /* ReduceMean takes axes as an input only from opset 18 */
    opset(18);
    y = reduce("ReduceMean", "2,3,5", 1, ax1, 1, 0, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[2,5]");
    y = reduce("ReduceMax", "2,3", 0, NULL, 0, -1, &n);
    assert_int_equal(aglm_node_set_int(n, "noop_with_empty_axes", 1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[2,3]");
    int64_t bad[] = {3};
    reduce("ReduceMean", "2,3", 1, bad, 1, 1, &n);
    fails(n, AGLM_ERR_INVALID, "(ReduceMean)", "axis 3 is out of range for f32[2,3]");
}

/* ---- nn ---------------------------------------------------------------------------------- */

static aglm_node *conv(const char *name, const char *x, const char *w, const char *b,
                       aglm_value **y)
{
    aglm_value *in[3] = {val(NULL, AGLM_F32, x), val(NULL, AGLM_F32, w),
                         b ? val(NULL, AGLM_F32, b) : NULL};
    aglm_node *n;
    *y = op1("Conv", name, b ? 3 : 2, in, &n);
    return n;
}

static void test_conv(void **state)
{
    (void)state;
    aglm_value *y;
    int64_t p1[] = {1, 1, 1, 1}, s2[] = {2, 2}, d2[] = {2, 2};
    aglm_node *n = conv(NULL, "1,3,32,32", "8,3,3,3", "8", &y);
    ints(n, "pads", 4, p1);
    ok(n);
    assert_string_equal(ty(y), "f32[1,8,32,32]");

    n = conv(NULL, "N,3,32,32", "8,3,3,3", NULL, &y);
    ints(n, "pads", 4, p1);
    ints(n, "strides", 2, s2);
    ok(n);
    assert_string_equal(ty(y), "f32[N,8,16,16]");

    n = conv(NULL, "1,3,32,32", "8,3,3,3", NULL, &y);
    ints(n, "dilations", 2, d2);
    ok(n);
    assert_string_equal(ty(y), "f32[1,8,28,28]");

    /* grouped: 4 input channels in 2 groups of 2 */
    n = conv(NULL, "1,4,8,8", "6,2,3,3", NULL, &y);
    assert_int_equal(aglm_node_set_int(n, "group", 2), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[1,6,6,6]");

    /* asymmetric pads on a 1-D conv */
    int64_t pa[] = {2, 0};
    n = conv(NULL, "1,1,10", "1,1,3", NULL, &y);
    ints(n, "pads", 2, pa);
    ok(n);
    assert_string_equal(ty(y), "f32[1,1,10]");
}

static void test_conv_auto_pad(void **state)
{
    (void)state;
    aglm_value *y;
    int64_t s2[] = {2, 2};
    aglm_node *n = conv(NULL, "1,3,7,7", "4,3,3,3", NULL, &y);
    str(n, "auto_pad", "SAME_UPPER");
    ints(n, "strides", 2, s2);
    ok(n);
    assert_string_equal(ty(y), "f32[1,4,4,4]");

    n = conv(NULL, "1,3,7,8", "4,3,3,3", NULL, &y);
    str(n, "auto_pad", "SAME_LOWER");
    ints(n, "strides", 2, s2);
    ok(n);
    assert_string_equal(ty(y), "f32[1,4,4,4]");

    n = conv(NULL, "1,3,7,7", "4,3,3,3", NULL, &y);
    str(n, "auto_pad", "VALID");
    ints(n, "strides", 2, s2);
    ok(n);
    assert_string_equal(ty(y), "f32[1,4,3,3]");

    /* stride 1 SAME keeps even a symbolic size */
    n = conv(NULL, "N,3,H,W", "4,3,5,5", NULL, &y);
    str(n, "auto_pad", "SAME_UPPER");
    ok(n);
    assert_string_equal(ty(y), "f32[N,4,H,W]");

    n = conv("c_bad", "1,3,7,7", "4,3,3,3", NULL, &y);
    str(n, "auto_pad", "SAME");
    fails(n, AGLM_ERR_INVALID, "node 'c_bad' (Conv)", "auto_pad 'SAME'");
}

static void test_conv_errors(void **state)
{
    (void)state;
    aglm_value *y;
    fails(conv("c1", "1,4,8,8", "8,3,3,3", NULL, &y), AGLM_ERR_SHAPE, "node 'c1' (Conv)",
          "input f32[1,4,8,8] has 4 channels but weight f32[8,3,3,3] expects 3");
    fails(conv("c2", "1,3,8,8", "8,3,3,3", "4", &y), AGLM_ERR_SHAPE, "node 'c2' (Conv)",
          "bias f32[4]");
    fails(conv("c3", "1,3,2,2", "8,3,3,3", NULL, &y), AGLM_ERR_SHAPE, "node 'c3' (Conv)",
          "f32[1,3,2,2]");
    fails(conv("c4", "1,3,8", "8,3,3,3", NULL, &y), AGLM_ERR_SHAPE, "node 'c4' (Conv)",
          "f32[8,3,3,3]");
    aglm_node *n = conv("c5", "1,4,8,8", "6,2,3,3", NULL, &y);
    assert_int_equal(aglm_node_set_int(n, "group", 4), AGLM_OK);
    fails(n, AGLM_ERR_SHAPE, "node 'c5' (Conv)", "group 4");
    aglm_value *in[2] = {val(NULL, AGLM_F32, "1,3,8,8"), val(NULL, AGLM_F16, "8,3,3,3")};
    op1("Conv", "c6", 2, in, &n);
    fails(n, AGLM_ERR_TYPE, "node 'c6' (Conv)", "f16[8,3,3,3]");
}

static aglm_node *pool(const char *op, const char *name, const char *x, int64_t k, int64_t s,
                       const int64_t *pads, int ceil, aglm_value **outs, size_t n_out)
{
    aglm_value *in = val(NULL, AGLM_F32, x);
    for (size_t i = 0; i < n_out; i++)
        outs[i] = out();
    aglm_node *n = node(op, name, 1, &in, n_out, outs);
    int64_t ks[] = {k, k}, ss[] = {s, s};
    ints(n, "kernel_shape", 2, ks);
    ints(n, "strides", 2, ss);
    if (pads)
        ints(n, "pads", 4, pads);
    if (ceil)
        assert_int_equal(aglm_node_set_int(n, "ceil_mode", 1), AGLM_OK);
    return n;
}

static void test_pool(void **state)
{
    (void)state;
    aglm_value *y[2];
    ok(pool("MaxPool", NULL, "1,1,5,5", 2, 2, NULL, 0, y, 2));
    assert_string_equal(ty(y[0]), "f32[1,1,2,2]");
    assert_string_equal(ty(y[1]), "i64[1,1,2,2]");
    ok(pool("MaxPool", NULL, "N,C,5,5", 2, 2, NULL, 1, y, 1));
    assert_string_equal(ty(y[0]), "f32[N,C,3,3]");
    /* ceil_mode: a last window that would start in the right padding is dropped (7 -> 3, not 4) */
    int64_t p1[] = {1, 1, 1, 1};
    ok(pool("MaxPool", NULL, "1,1,5,5", 2, 2, p1, 1, y, 1));
    assert_string_equal(ty(y[0]), "f32[1,1,3,3]");
    ok(pool("AveragePool", NULL, "1,2,6,6", 3, 3, p1, 1, y, 1));
    assert_string_equal(ty(y[0]), "f32[1,2,3,3]");
    ok(pool("AveragePool", NULL, "1,2,6,6", 3, 1, p1, 0, y, 1));
    assert_string_equal(ty(y[0]), "f32[1,2,6,6]");

    aglm_node *n = pool("AveragePool", NULL, "1,2,7,7", 3, 2, NULL, 0, y, 1);
    str(n, "auto_pad", "SAME_UPPER");
    ok(n);
    assert_string_equal(ty(y[0]), "f32[1,2,4,4]");

    fails(pool("MaxPool", "mp_big", "1,1,2,2", 3, 1, NULL, 0, y, 1), AGLM_ERR_SHAPE,
          "node 'mp_big' (MaxPool)", "f32[1,1,2,2]");
    aglm_value *x = val(NULL, AGLM_F32, "1,1,4,4");
    op1("MaxPool", "mp_nok", 1, &x, &n);
    fails(n, AGLM_ERR_INVALID, "node 'mp_nok' (MaxPool)", "kernel_shape");
}

static void test_global_pool_and_batchnorm(void **state)
{
    (void)state;
    aglm_value *x = val(NULL, AGLM_F32, "N,C,7,7");
    aglm_node *n;
    aglm_value *y = op1("GlobalAveragePool", NULL, 1, &x, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,C,1,1]");
    y = op1("GlobalMaxPool", NULL, 1, &x, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,C,1,1]");

    aglm_value *bn[5] = {val(NULL, AGLM_F32, "N,3,4,4"), val(NULL, AGLM_F32, "3"),
                         val(NULL, AGLM_F32, "3"), val(NULL, AGLM_F32, "3"),
                         val(NULL, AGLM_F32, "3")};
    y = op1("BatchNormalization", NULL, 5, bn, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,3,4,4]");

    aglm_value *bad[5] = {val(NULL, AGLM_F32, "1,3,4,4"), val(NULL, AGLM_F32, "4"),
                          val(NULL, AGLM_F32, "3"), val(NULL, AGLM_F32, "3"),
                          val(NULL, AGLM_F32, "3")};
    op1("BatchNormalization", "bn1", 5, bad, &n);
    fails(n, AGLM_ERR_SHAPE, "node 'bn1' (BatchNormalization)", "scale f32[4]");
}

/* ---- tensor ------------------------------------------------------------------------------ */

static aglm_node *reshape(const char *name, const char *x, int n, const int64_t *shape,
                          aglm_value **y)
{
    aglm_value *in[2] = {val(NULL, AGLM_F32, x), init_i64(NULL, n, shape)};
    aglm_node *node_;
    *y = op1("Reshape", name, 2, in, &node_);
    return node_;
}

static void test_reshape(void **state)
{
    (void)state;
    aglm_value *y;
    int64_t s0m1[] = {0, -1}, m1[] = {-1}, s4m12[] = {4, -1, 2}, s42[] = {4, 2},
            s2m1m1[] = {2, -1, -1};
    ok(reshape(NULL, "2,3,4", 2, s0m1, &y));
    assert_string_equal(ty(y), "f32[2,12]");
    ok(reshape(NULL, "N,3,4", 2, s0m1, &y));
    assert_string_equal(ty(y), "f32[N,12]");
    ok(reshape(NULL, "2,3,4", 1, m1, &y));
    assert_string_equal(ty(y), "f32[24]");
    ok(reshape(NULL, "2,3,4", 3, s4m12, &y));
    assert_string_equal(ty(y), "f32[4,3,2]");
    int64_t s00m1[] = {0, 0, -1};
    ok(reshape(NULL, "B,S,12,64", 3, s00m1, &y));
    assert_string_equal(ty(y), "f32[B,S,768]");
    int64_t sm1_4[] = {-1, 4};
    ok(reshape(NULL, "N,4", 2, sm1_4, &y));
    assert_string_equal(ty(y), "f32[N,4]");

    fails(reshape("r1", "2,3", 2, s42, &y), AGLM_ERR_SHAPE, "node 'r1' (Reshape)",
          "cannot reshape f32[2,3]");
    fails(reshape("r2", "2,3", 3, s2m1m1, &y), AGLM_ERR_INVALID, "node 'r2' (Reshape)",
          "more than one -1");
    int64_t s5m1[] = {5, -1};
    fails(reshape("r3", "2,3", 2, s5m1, &y), AGLM_ERR_SHAPE, "node 'r3' (Reshape)", "f32[2,3]");
    int64_t s000[] = {0, 0, 0};
    fails(reshape("r4", "2,3", 3, s000, &y), AGLM_ERR_SHAPE, "node 'r4' (Reshape)", "f32[2,3]");
}

static void test_reshape_allowzero(void **state)
{
    (void)state;
    aglm_value *y;
    int64_t s30[] = {3, 0}, s0m1[] = {0, -1};
    opset(14);
    aglm_node *n = reshape(NULL, "0,3", 2, s30, &y);
    assert_int_equal(aglm_node_set_int(n, "allowzero", 1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[3,0]");
    /* without allowzero, 0 copies the input dim */
    ok(reshape(NULL, "3,3", 2, s30, &y));
    assert_string_equal(ty(y), "f32[3,3]");
    n = reshape("rz", "2,3", 2, s0m1, &y);
    assert_int_equal(aglm_node_set_int(n, "allowzero", 1), AGLM_OK);
    fails(n, AGLM_ERR_INVALID, "node 'rz' (Reshape)", "allowzero");
    /* allowzero did not exist before opset 14: ignored there */
    opset(13);
    n = reshape(NULL, "3,3", 2, s30, &y);
    assert_int_equal(aglm_node_set_int(n, "allowzero", 1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[3,3]");
}

static void test_reshape_shape_sources(void **state)
{
    (void)state;
    /* a shape computed at run time: only the rank is known */
    aglm_value *in[2] = {val(NULL, AGLM_F32, "2,3,4"), val(NULL, AGLM_I64, "3")};
    aglm_node *n;
    aglm_value *y = op1("Reshape", NULL, 2, in, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[?,?,?]");

    /* a shape from a Constant node */
    aglm_value *shp = out();
    aglm_node *cn = node("Constant", NULL, 0, NULL, 1, &shp);
    int64_t v[] = {-1, 6};
    ints(cn, "value_ints", 2, v);
    aglm_value *in2[2] = {val(NULL, AGLM_F32, "N,2,3"), shp};
    y = op1("Reshape", NULL, 2, in2, &n);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_string_equal(ty(shp), "i64[2]");
    assert_string_equal(ty(y), "f32[N,6]");

    /* a shape from Shape of a static tensor */
    aglm_value *src = val(NULL, AGLM_F32, "4,6");
    aglm_value *s = op1("Shape", NULL, 1, &src, NULL);
    aglm_value *in3[2] = {val(NULL, AGLM_F32, "24"), s};
    y = op1("Reshape", NULL, 2, in3, NULL);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_string_equal(ty(y), "f32[4,6]");

    /* a float shape is a type error */
    aglm_value *in4[2] = {val(NULL, AGLM_F32, "6"), val(NULL, AGLM_F32, "2")};
    op1("Reshape", "rf", 2, in4, &n);
    fails(n, AGLM_ERR_TYPE, "node 'rf' (Reshape)", "f32[2]");
}

static void test_flatten_transpose(void **state)
{
    (void)state;
    aglm_value *x = val(NULL, AGLM_F32, "N,3,4");
    aglm_node *n;
    aglm_value *y = op1("Flatten", NULL, 1, &x, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,12]");
    y = op1("Flatten", NULL, 1, &x, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", -1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[?,4]");
    aglm_value *s = val(NULL, AGLM_F32, "2,3,4");
    y = op1("Flatten", NULL, 1, &s, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 0), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[1,24]");

    y = op1("Transpose", NULL, 1, &x, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[4,3,N]");
    int64_t perm[] = {0, 2, 1}, bad[] = {0, 0, 1};
    y = op1("Transpose", NULL, 1, &x, &n);
    ints(n, "perm", 3, perm);
    ok(n);
    assert_string_equal(ty(y), "f32[N,4,3]");
    op1("Transpose", "tp", 1, &x, &n);
    ints(n, "perm", 3, bad);
    fails(n, AGLM_ERR_INVALID, "node 'tp' (Transpose)", "[0,0,1]");
}

static void test_concat(void **state)
{
    (void)state;
    aglm_value *in[3] = {val(NULL, AGLM_F32, "N,2"), val(NULL, AGLM_F32, "N,3"),
                         val(NULL, AGLM_F32, "?,1")};
    aglm_node *n;
    aglm_value *y = op1("Concat", NULL, 3, in, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", -1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[N,6]");
    aglm_value *sy[2] = {val(NULL, AGLM_F32, "N,2"), val(NULL, AGLM_F32, "M,2")};
    y = op1("Concat", NULL, 2, sy, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 0), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[?,2]");

    aglm_value *bad[2] = {val(NULL, AGLM_F32, "2,3"), val(NULL, AGLM_F32, "4,4")};
    op1("Concat", "cat1", 2, bad, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 0), AGLM_OK);
    fails(n, AGLM_ERR_SHAPE, "node 'cat1' (Concat)", "f32[2,3] with f32[4,4]");
    aglm_value *rk[2] = {val(NULL, AGLM_F32, "2,3"), val(NULL, AGLM_F32, "3")};
    op1("Concat", "cat2", 2, rk, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 0), AGLM_OK);
    fails(n, AGLM_ERR_SHAPE, "node 'cat2' (Concat)", "ranks differ");
    aglm_value *tp[2] = {val(NULL, AGLM_F32, "2"), val(NULL, AGLM_I32, "3")};
    op1("Concat", "cat3", 2, tp, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 0), AGLM_OK);
    fails(n, AGLM_ERR_TYPE, "node 'cat3' (Concat)", "i32[3]");
}

static void test_squeeze_unsqueeze_by_opset(void **state)
{
    (void)state;
    int64_t ax0[] = {0}, ax02[] = {0, -1}, ax1[] = {1};
    aglm_node *n;
    opset(11);
    aglm_value *x = val(NULL, AGLM_F32, "1,N,1");
    aglm_value *y = op1("Squeeze", NULL, 1, &x, &n);
    ints(n, "axes", 1, ax0);
    ok(n);
    assert_string_equal(ty(y), "f32[N,1]");
    aglm_value *u = val(NULL, AGLM_F32, "3");
    y = op1("Unsqueeze", NULL, 1, &u, &n);
    ints(n, "axes", 2, ax02);
    ok(n);
    assert_string_equal(ty(y), "f32[1,3,1]");

    opset(13);
    aglm_value *sq[2] = {x, init_i64(NULL, 2, ax02)};
    y = op1("Squeeze", NULL, 2, sq, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N]");
    y = op1("Squeeze", NULL, 1, &x, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N]");
    aglm_value *us[2] = {u, init_i64(NULL, 1, ax1)};
    y = op1("Unsqueeze", NULL, 2, us, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[3,1]");

    aglm_value *bad[2] = {val(NULL, AGLM_F32, "2,3"), init_i64(NULL, 1, ax0)};
    op1("Squeeze", "sq1", 2, bad, &n);
    fails(n, AGLM_ERR_SHAPE, "node 'sq1' (Squeeze)", "f32[2,3]");
    int64_t dup[] = {0, 0};
    aglm_value *ud[2] = {u, init_i64(NULL, 2, dup)};
    op1("Unsqueeze", "us1", 2, ud, &n);
    fails(n, AGLM_ERR_INVALID, "node 'us1' (Unsqueeze)", "twice");
    op1("Unsqueeze", "us2", 1, &u, &n);
    fails(n, AGLM_ERR_INVALID, "node 'us2' (Unsqueeze)", "axes");
}

static void test_shape_constant_gather(void **state)
{
    (void)state;
    aglm_value *x = val(NULL, AGLM_F32, "N,3,5");
    aglm_node *n;
    aglm_value *y = op1("Shape", NULL, 1, &x, &n);
    ok(n);
    assert_string_equal(ty(y), "i64[3]");
    opset(15);
    y = op1("Shape", NULL, 1, &x, &n);
    assert_int_equal(aglm_node_set_int(n, "start", 1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "i64[2]");

    aglm_tensor t;
    int64_t dims[] = {2, 3};
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F16, 2, dims), AGLM_OK);
    y = op1("Constant", NULL, 0, NULL, &n);
    assert_int_equal(aglm_node_set_tensor(n, "value", &t), AGLM_OK);
    aglm_tensor_free(&t);
    ok(n);
    assert_string_equal(ty(y), "f16[2,3]");
    float fl[] = {1, 2, 3, 4};
    y = op1("Constant", NULL, 0, NULL, &n);
    assert_int_equal(aglm_node_set_floats(n, "value_floats", fl, 4), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[4]");
    y = op1("Constant", NULL, 0, NULL, &n);
    assert_int_equal(aglm_node_set_int(n, "value_int", 7), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "i64[]");
    y = op1("Constant", NULL, 0, NULL, &n);
    assert_int_equal(aglm_node_set_float(n, "value_float", 7), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[]");
    op1("Constant", "k0", 0, NULL, &n);
    fails(n, AGLM_ERR_INVALID, "node 'k0' (Constant)", "value");

    aglm_value *gi[2] = {val(NULL, AGLM_F32, "5,4,3"), val(NULL, AGLM_I64, "B,2")};
    y = op1("Gather", NULL, 2, gi, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[5,B,2,3]");
    aglm_value *gs[2] = {val(NULL, AGLM_F32, "V,16"), val(NULL, AGLM_I32, "")};
    y = op1("Gather", NULL, 2, gs, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[16]");
    aglm_value *gf[2] = {val(NULL, AGLM_F32, "5"), val(NULL, AGLM_F32, "2")};
    op1("Gather", "g1", 2, gf, &n);
    fails(n, AGLM_ERR_TYPE, "node 'g1' (Gather)", "f32[2]");
    aglm_value *ga[2] = {val(NULL, AGLM_F32, "5"), val(NULL, AGLM_I64, "2")};
    op1("Gather", "g2", 2, ga, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    fails(n, AGLM_ERR_INVALID, "node 'g2' (Gather)", "axis 1");
}

static aglm_node *slice(const char *name, const char *x, int n, const int64_t *starts,
                        const int64_t *ends, const int64_t *axes, const int64_t *steps,
                        aglm_value **y)
{
    aglm_value *in[5] = {val(NULL, AGLM_F32, x), init_i64(NULL, n, starts), init_i64(NULL, n, ends),
                         axes ? init_i64(NULL, n, axes) : NULL,
                         steps ? init_i64(NULL, n, steps) : NULL};
    aglm_node *node_;
    *y = op1("Slice", name, steps ? 5 : axes ? 4 : 3, in, &node_);
    return node_;
}

static void test_slice(void **state)
{
    (void)state;
    aglm_value *y;
    int64_t s1[] = {1}, emax[] = {INT64_MAX}, a1[] = {1}, st1[] = {1};
    ok(slice(NULL, "4,10", 1, s1, emax, a1, st1, &y));
    assert_string_equal(ty(y), "f32[4,9]");
    int64_t sm1[] = {-1}, emin[] = {INT64_MIN}, stm1[] = {-1};
    ok(slice(NULL, "4,10", 1, sm1, emin, a1, stm1, &y));
    assert_string_equal(ty(y), "f32[4,10]");
    int64_t s0[] = {0}, e10[] = {10}, st3[] = {3};
    ok(slice(NULL, "4,10", 1, s0, e10, a1, st3, &y));
    assert_string_equal(ty(y), "f32[4,4]");
    int64_t s2[] = {1, -3}, e2[] = {3, -1};
    ok(slice(NULL, "N,5,7", 2, s2, e2, NULL, NULL, &y));
    assert_string_equal(ty(y), "f32[?,2,7]");
    ok(slice(NULL, "N,5,7", 1, s0, emax, NULL, NULL, &y));
    assert_string_equal(ty(y), "f32[N,5,7]");
    int64_t s5[] = {5}, e2b[] = {2};
    ok(slice(NULL, "4,10", 1, s5, e2b, a1, NULL, &y));
    assert_string_equal(ty(y), "f32[4,0]");
    int64_t st0[] = {0};
    fails(slice("sl0", "4,10", 1, s0, e10, a1, st0, &y), AGLM_ERR_INVALID, "node 'sl0' (Slice)",
          "step");
    int64_t a5[] = {5};
    fails(slice("sl1", "4,10", 1, s0, e10, a5, NULL, &y), AGLM_ERR_INVALID, "node 'sl1' (Slice)",
          "axis 5");

    /* before opset 10: attributes */
    opset(9);
    aglm_value *x = val(NULL, AGLM_F32, "6,8");
    aglm_node *n;
    y = op1("Slice", NULL, 1, &x, &n);
    int64_t as[] = {2}, ae[] = {-1}, aa[] = {1};
    ints(n, "starts", 1, as);
    ints(n, "ends", 1, ae);
    ints(n, "axes", 1, aa);
    ok(n);
    assert_string_equal(ty(y), "f32[6,5]");
}

static void test_expand_split(void **state)
{
    (void)state;
    int64_t shp[] = {3, 1, 4};
    aglm_value *in[2] = {val(NULL, AGLM_F32, "N,1"), init_i64(NULL, 3, shp)};
    aglm_node *n;
    aglm_value *y = op1("Expand", NULL, 2, in, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[3,N,4]");

    aglm_value *x = val(NULL, AGLM_F32, "2,10");
    aglm_value *outs[3] = {out(), out(), out()};
    int64_t sizes[] = {2, 3, 5};
    aglm_value *sin[2] = {x, init_i64(NULL, 3, sizes)};
    n = node("Split", NULL, 2, sin, 3, outs);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(outs[0]), "f32[2,2]");
    assert_string_equal(ty(outs[2]), "f32[2,5]");
    aglm_value *eq[2] = {out(), out()};
    n = node("Split", NULL, 1, &x, 2, eq);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    ok(n);
    assert_string_equal(ty(eq[1]), "f32[2,5]");
    int64_t bad[] = {2, 3, 4};
    aglm_value *bin[2] = {x, init_i64(NULL, 3, bad)};
    aglm_value *bo[3] = {out(), out(), out()};
    n = node("Split", "sp1", 2, bin, 3, bo);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    fails(n, AGLM_ERR_SHAPE, "node 'sp1' (Split)", "f32[2,10]");
}

/* ---- less common ops --------------------------------------------------------------------- */

static void test_conv_transpose_and_layer_norm(void **state)
{
    (void)state;
    aglm_value *in[2] = {val(NULL, AGLM_F32, "1,4,5,5"), val(NULL, AGLM_F32, "4,2,3,3")};
    aglm_node *n;
    aglm_value *y = op1("ConvTranspose", NULL, 2, in, &n);
    int64_t s2[] = {2, 2}, p1[] = {1, 1, 1, 1}, op[] = {1, 1};
    ints(n, "strides", 2, s2);
    ok(n);
    assert_string_equal(ty(y), "f32[1,2,11,11]");
    y = op1("ConvTranspose", NULL, 2, in, &n);
    ints(n, "strides", 2, s2);
    ints(n, "pads", 4, p1);
    ints(n, "output_padding", 2, op);
    assert_int_equal(aglm_node_set_int(n, "group", 2), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "f32[1,4,10,10]");

    aglm_value *ln[2] = {val(NULL, AGLM_F16, "N,S,64"), val(NULL, AGLM_F16, "64")};
    aglm_value *outs[3] = {out(), out(), out()};
    ok(node("LayerNormalization", NULL, 2, ln, 3, outs));
    assert_string_equal(ty(outs[0]), "f16[N,S,64]");
    assert_string_equal(ty(outs[1]), "f32[N,S,1]");
    assert_string_equal(ty(outs[2]), "f32[N,S,1]");
}

static void test_tile_pad_constant_of_shape(void **state)
{
    (void)state;
    int64_t r21[] = {2, 1}, r22[] = {2, 2}, pads[] = {0, 1, 0, 2}, shp[] = {2, 3};
    aglm_value *t1[2] = {val(NULL, AGLM_F32, "N,3"), init_i64(NULL, 2, r21)};
    aglm_node *n;
    aglm_value *y = op1("Tile", NULL, 2, t1, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[?,3]");
    aglm_value *t2[2] = {val(NULL, AGLM_F32, "2,3"), init_i64(NULL, 2, r22)};
    y = op1("Tile", NULL, 2, t2, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[4,6]");

    aglm_value *p[2] = {val(NULL, AGLM_F32, "2,3"), init_i64(NULL, 4, pads)};
    y = op1("Pad", NULL, 2, p, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[2,6]");

    aglm_value *cs = init_i64(NULL, 2, shp);
    y = op1("ConstantOfShape", NULL, 1, &cs, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[2,3]");
    aglm_tensor v;
    int64_t one = 1;
    assert_int_equal(aglm_tensor_alloc(&v, AGLM_I64, 1, &one), AGLM_OK);
    y = op1("ConstantOfShape", NULL, 1, &cs, &n);
    assert_int_equal(aglm_node_set_tensor(n, "value", &v), AGLM_OK);
    aglm_tensor_free(&v);
    ok(n);
    assert_string_equal(ty(y), "i64[2,3]");
}

static void test_qdq_and_argmax(void **state)
{
    (void)state;
    aglm_value *q[3] = {val(NULL, AGLM_F32, "N,8"), val(NULL, AGLM_F32, ""),
                        val(NULL, AGLM_I8, "")};
    aglm_node *n;
    aglm_value *y = op1("QuantizeLinear", NULL, 3, q, &n);
    ok(n);
    assert_string_equal(ty(y), "i8[N,8]");
    y = op1("QuantizeLinear", NULL, 2, q, &n);
    ok(n);
    assert_string_equal(ty(y), "u8[N,8]");
    aglm_value *dq[3] = {val(NULL, AGLM_I8, "N,8"), val(NULL, AGLM_F32, ""),
                         val(NULL, AGLM_I8, "")};
    y = op1("DequantizeLinear", NULL, 3, dq, &n);
    ok(n);
    assert_string_equal(ty(y), "f32[N,8]");

    aglm_value *x = val(NULL, AGLM_F32, "2,3,4");
    y = op1("ArgMax", NULL, 1, &x, &n);
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "keepdims", 0), AGLM_OK);
    ok(n);
    assert_string_equal(ty(y), "i64[2,4]");
}

static void test_loop_outputs(void **state)
{
    (void)state;
    aglm_value *a = val("a", AGLM_F32, "3");
    aglm_graph *body = aglm_graph_new_subgraph(g, "body");
    assert_non_null(body);
    aglm_value *it = aglm_graph_new_value(body, "it", AGLM_I64, 0, NULL);
    aglm_value *cond = aglm_graph_new_value(body, "cond", AGLM_BOOL, 0, NULL);
    aglm_value *v = aglm_graph_new_value(body, "v", AGLM_UNDEFINED, -1, NULL);
    aglm_value *cond_out = aglm_graph_new_value(body, "cond_out", AGLM_UNDEFINED, -1, NULL);
    aglm_value *v_out = aglm_graph_new_value(body, "v_out", AGLM_UNDEFINED, -1, NULL);
    aglm_value *scan = aglm_graph_new_value(body, "scan", AGLM_UNDEFINED, -1, NULL);
    assert_int_equal(aglm_graph_add_input(body, it), AGLM_OK);
    assert_int_equal(aglm_graph_add_input(body, cond), AGLM_OK);
    assert_int_equal(aglm_graph_add_input(body, v), AGLM_OK);
    aglm_value *vv[2] = {v, v};
    assert_non_null(aglm_graph_add_node(body, "Identity", "", NULL, 1, &cond, 1, &cond_out));
    assert_non_null(aglm_graph_add_node(body, "Add", "", NULL, 2, vv, 1, &v_out));
    assert_non_null(aglm_graph_add_node(body, "Relu", "", NULL, 1, &a, 1, &scan));
    assert_int_equal(aglm_graph_add_output(body, cond_out), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(body, v_out), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(body, scan), AGLM_OK);

    aglm_value *in[3] = {val("m", AGLM_I64, ""), val("c", AGLM_BOOL, ""),
                         val("v0", AGLM_F32, "B,2")};
    aglm_value *outs[2] = {out(), out()};
    aglm_node *n = node("Loop", "loop1", 3, in, 2, outs);
    assert_int_equal(aglm_node_set_graph(n, "body", body), AGLM_OK);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_string_equal(ty(v), "f32[B,2]");
    assert_string_equal(ty(outs[0]), "f32[B,2]");
    assert_string_equal(ty(outs[1]), "f32[?,3]");
}

/* ---- graphs ------------------------------------------------------------------------------ */

static void test_symbolic_chain(void **state)
{
    (void)state;
    aglm_value *x = val("x", AGLM_F32, "N,3");
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    aglm_value *w = val("w", AGLM_F32, "3,5"), *b = val("b", AGLM_F32, "5");
    aglm_value *mm[2] = {x, w};
    aglm_value *h = op1("MatMul", "mm", 2, mm, NULL);
    aglm_value *ad[2] = {h, b};
    aglm_value *s = op1("Add", "add", 2, ad, NULL);
    aglm_value *y = op1("Relu", "relu", 1, &s, NULL);
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_string_equal(ty(h), "f32[N,5]");
    assert_string_equal(ty(y), "f32[N,5]");
}

static void test_failed_inference_changes_nothing(void **state)
{
    (void)state;
    aglm_value *x = val("x", AGLM_F32, "2,3");
    aglm_value *r = op1("Relu", "relu", 1, &x, NULL);
    aglm_value *ad[2] = {r, val("z", AGLM_F32, "4")};
    aglm_value *y = op1("Add", "add1", 2, ad, NULL);
    assert_int_equal(aglm_infer_shapes(g), AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(),
                        "node 'add1' (Add): cannot broadcast f32[2,3] with f32[4]");
    assert_int_equal(aglm_value_rank(r), -1);
    assert_int_equal(aglm_value_dtype(r), AGLM_UNDEFINED);
    assert_int_equal(aglm_value_rank(y), -1);
}

static void test_declared_output_kept_where_rule_knows_less(void **state)
{
    (void)state;
    /* a Reshape with a run-time shape knows only the rank; the model's declared dims stay */
    aglm_value *in[2] = {val(NULL, AGLM_F32, "N,6"), val(NULL, AGLM_I64, "2")};
    aglm_value *y = val("y", AGLM_F32, "N,?");
    aglm_node *n = node("Reshape", NULL, 2, in, 1, &y);
    ok(n);
    assert_string_equal(ty(y), "f32[N,?]");
}

static void test_rules_and_unknown_ops(void **state)
{
    (void)state;
    const char *ops[] = {"Add",
                         "Sub",
                         "Mul",
                         "Div",
                         "Pow",
                         "Relu",
                         "Sigmoid",
                         "Tanh",
                         "Exp",
                         "Log",
                         "Sqrt",
                         "Neg",
                         "Abs",
                         "Erf",
                         "LeakyRelu",
                         "Clip",
                         "Identity",
                         "Dropout",
                         "Cast",
                         "MatMul",
                         "Gemm",
                         "Conv",
                         "MaxPool",
                         "AveragePool",
                         "GlobalAveragePool",
                         "GlobalMaxPool",
                         "BatchNormalization",
                         "Reshape",
                         "Flatten",
                         "Transpose",
                         "Concat",
                         "Softmax",
                         "LogSoftmax",
                         "Squeeze",
                         "Unsqueeze",
                         "Shape",
                         "Constant",
                         "Gather",
                         "Slice",
                         "ReduceMean",
                         "ReduceSum",
                         "ReduceMax"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (!aglm_infer_has_rule(ops[i], ""))
            fail_msg("no rule for %s", ops[i]);
        assert_true(aglm_infer_has_rule(ops[i], NULL));
    }
    assert_false(aglm_infer_has_rule("NoSuchOp", ""));
    assert_false(aglm_infer_has_rule("Add", "aglm"));
    assert_false(aglm_infer_has_rule(NULL, ""));

    /* an op with no rule leaves its outputs alone */
    aglm_value *x = val(NULL, AGLM_F32, "2");
    aglm_value *y = val("y", AGLM_I8, "7");
    aglm_graph_add_node(g, "FusedThing", "aglm", NULL, 1, &x, 1, &y);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_string_equal(ty(y), "i8[7]");
    assert_int_equal(aglm_infer_node(NULL), AGLM_ERR_INVALID);
    assert_int_equal(aglm_infer_shapes(NULL), AGLM_ERR_INVALID);
}

static void test_default_opset_is_newest(void **state)
{
    (void)state;
    aglm_graph *h = aglm_graph_new("no_opset");
    assert_non_null(h);
    aglm_value *x = aglm_graph_new_value(h, "x", AGLM_F32, 1, (aglm_dim[]){{5, NULL}});
    aglm_value *y = aglm_graph_new_value(h, "y", AGLM_UNDEFINED, -1, NULL);
    aglm_node *n = aglm_graph_add_node(h, "Softmax", "", "sm", 1, &x, 1, &y);
    assert_non_null(n);
    /* opset-13 rules: axis 1 is out of range for a 1-D input */
    assert_int_equal(aglm_node_set_int(n, "axis", 1), AGLM_OK);
    assert_int_equal(aglm_infer_shapes(h), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "node 'sm' (Softmax)"));
    aglm_graph_free(h);
}

static void test_if_merges_branches(void **state)
{
    (void)state;
    aglm_value *c = val("c", AGLM_BOOL, "");
    aglm_value *a = val("a", AGLM_F32, "2,3"), *b = val("b", AGLM_F32, "2,5");
    aglm_graph *then_g = aglm_graph_new_subgraph(g, "then");
    aglm_graph *else_g = aglm_graph_new_subgraph(g, "else");
    assert_non_null(then_g);
    assert_non_null(else_g);
    aglm_value *t = aglm_graph_new_value(then_g, "t", AGLM_UNDEFINED, -1, NULL);
    aglm_value *e = aglm_graph_new_value(else_g, "e", AGLM_UNDEFINED, -1, NULL);
    assert_non_null(aglm_graph_add_node(then_g, "Relu", "", NULL, 1, &a, 1, &t));
    assert_non_null(aglm_graph_add_node(else_g, "Sigmoid", "", NULL, 1, &b, 1, &e));
    assert_int_equal(aglm_graph_add_output(then_g, t), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(else_g, e), AGLM_OK);
    aglm_node *n;
    aglm_value *y = op1("If", "if1", 1, &c, &n);
    assert_int_equal(aglm_node_set_graph(n, "then_branch", then_g), AGLM_OK);
    assert_int_equal(aglm_node_set_graph(n, "else_branch", else_g), AGLM_OK);
    assert_int_equal(aglm_infer_shapes(g), AGLM_OK);
    assert_string_equal(ty(t), "f32[2,3]");
    assert_string_equal(ty(y), "f32[2,?]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unary_keeps_type_and_symbols, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_float_only_rejects_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_input_gives_unknown_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcasting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_error_names_node_and_shapes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_type_mismatch_names_both_dtypes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_public_broadcast_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare_where_pow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clip_dropout_cast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropout_mask_before_opset_10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arity_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matmul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gemm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_softmax_axis_by_opset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reduce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_auto_pad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_global_pool_and_batchnorm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshape_allowzero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshape_shape_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flatten_transpose, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_squeeze_unsqueeze_by_opset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shape_constant_gather, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_transpose_and_layer_norm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tile_pad_constant_of_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qdq_and_argmax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symbolic_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_inference_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_output_kept_where_rule_knows_less, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rules_and_unknown_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_opset_is_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_if_merges_branches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
