/* fold-constants on big results: whatever is computable from constants is computed once at
 * compile time, whatever its size, except an expansion (an output over max_expand_bytes and
 * bigger than the node's inputs) whose value nothing needs ahead of a run. Big constants are
 * compared in the printer's elided form. */
#include <math.h>
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

static int teardown(void **state)
{
    return ir_pass_close(state);
}

/* Runs the pass with `max_expand_bytes` (NULL: the default) and asserts the graph then prints,
 * constants elided, as `want`; a second run changes nothing. */
static void check_elided(ir_pass_fx *f, aglm_graph *g, const char *limit, const char *want,
                         int want_changed)
{
    const aglm_kv kv[] = {{"max_expand_bytes", limit}};
    const aglm_options opts = {1, kv};
    assert_int_equal(ir_pass_run(f, g, limit ? &opts : NULL), want_changed);
    char *got = aglm_graph_to_text(g, AGLM_PRINT_ELIDE_CONSTANTS);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("after fold-constants:\n%s\nexpected:\n%s", got, want);
    free(got);
    assert_int_equal(ir_pass_run(f, g, limit ? &opts : NULL), 0);
}

/* 2 MiB of ConstantOfShape feeding an Add is computed once, not on every run. */
static void test_big_constant_of_shape_folds(void **state)
{
    aglm_graph *g = ir_pass_parse("graph g(%x: f32[512,1024]) -> (%y: f32[512,1024]) {\n"
                                  "  opset ai.onnx 17\n"
                                  "  const %s: i64[2] = [512, 1024]\n"
                                  "  %c: f32[512,1024] = ConstantOfShape(%s) "
                                  "{value=tensor f32[1] [1.5]} @fill\n"
                                  "  %y: f32[512,1024] = Add(%x, %c) @add\n"
                                  "}\n");
    check_elided(*state, g, NULL,
                 "graph g(%x: f32[512,1024]) -> (%y: f32[512,1024]) {\n"
                 "  opset ai.onnx 17\n"
                 "  const %c: f32[512,1024] = <524288 elements>\n"
                 "  %y: f32[512,1024] = Add(%x, %c) @add\n"
                 "}\n",
                 1);
    const aglm_tensor *c = aglm_value_const(aglm_graph_find_value(g, "c"));
    assert_non_null(c);
    assert_true(aglm_tensor_get_f64(c, 0) == 1.5 && aglm_tensor_get_f64(c, 524287) == 1.5);
    aglm_graph_free(g);
}

/* Appends "  const %name: f32[rows,cols] = [...]" with small distinct values. */
static void append_const(char *buf, size_t cap, const char *name, int rows, int cols)
{
    size_t len = strlen(buf);
    len += (size_t)snprintf(buf + len, cap - len, "  const %%%s: f32[%d,%d] = [", name, rows, cols);
    for (int i = 0; i < rows * cols; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%d", i ? ", " : "", i % 97 - 48);
    snprintf(buf + len, cap - len, "]\n");
    assert_true(strlen(buf) + 1 < cap);
}

/* The size rule: with max_expand_bytes=4096, a 16 KiB ConstantOfShape and Expand read by an Add
 * and a Mul stay nodes (the fill is cheaper than holding it); an 8 KiB Transpose of an 8 KiB
 * constant, and the Relu after it, are no expansions and fold; a 144 KiB expansion that becomes a
 * Conv weight folds, the weight being what fold-batchnorm and the backend's pre-packing need. */
static void test_expansion_limit(void **state)
{
    static char text[65536];
    snprintf(text, sizeof text,
             "graph g(%%x: f32[64,64], %%v: f32[1,64,4,4]) -> (%%y: f32[64,64], %%z: f32[64,32], "
             "%%w: f32[64,64], %%o: f32[1,64,2,2]) {\n"
             "  opset ai.onnx 17\n"
             "  const %%s: i64[2] = [64, 64]\n"
             "  const %%ws: i64[4] = [64, 64, 3, 3]\n"
             "  const %%one: f32[1] = [2]\n");
    append_const(text, sizeof text, "t", 32, 64);
    strcat(text, "  %c: f32[64,64] = ConstantOfShape(%s) {value=tensor f32[1] [3]} @fill\n"
                 "  %y: f32[64,64] = Add(%x, %c) @add\n"
                 "  %e: f32[64,64] = Expand(%one, %s) @expand\n"
                 "  %w: f32[64,64] = Mul(%x, %e) @mul\n"
                 "  %tt: f32[64,32] = Transpose(%t) @transpose\n"
                 "  %z: f32[64,32] = Relu(%tt) @relu\n"
                 "  %k: f32[64,64,3,3] = ConstantOfShape(%ws) {value=tensor f32[1] [0.5]} @kfill\n"
                 "  %o: f32[1,64,2,2] = Conv(%v, %k) @conv\n"
                 "}\n");
    aglm_graph *g = ir_pass_parse(text);
    check_elided(*state, g, "4096",
                 "graph g(%x: f32[64,64], %v: f32[1,64,4,4]) -> (%y: f32[64,64], %z: f32[64,32], "
                 "%w: f32[64,64], %o: f32[1,64,2,2]) {\n"
                 "  opset ai.onnx 17\n"
                 "  const %s: i64[2] = [64, 64]\n"
                 "  const %one: f32[1] = [2]\n"
                 "  const %z: f32[64,32] = <2048 elements>\n"
                 "  const %k: f32[64,64,3,3] = <36864 elements>\n"
                 "  %c: f32[64,64] = ConstantOfShape(%s) {value=tensor f32[1] [3]} @fill\n"
                 "  %y: f32[64,64] = Add(%x, %c) @add\n"
                 "  %e: f32[64,64] = Expand(%one, %s) @expand\n"
                 "  %w: f32[64,64] = Mul(%x, %e) @mul\n"
                 "  %o: f32[1,64,2,2] = Conv(%v, %k) @conv\n"
                 "}\n",
                 1);
    const aglm_tensor *z = aglm_value_const(aglm_graph_find_value(g, "z"));
    assert_non_null(z);
    /* z[i][j] = max(t[j][i], 0), t[j][i] = (j*64 + i) % 97 - 48 */
    assert_true(aglm_tensor_get_f64(z, 20 * 32 + 1) == 36.0);
    assert_true(aglm_tensor_get_f64(z, 60 * 32 + 1) == 0.0);
    aglm_graph_free(g);
}

/* The default limit (64 MiB): an 80 MiB fill read by an Add stays a node, and nothing of it is
 * allocated; the option's older name max_bytes still sets the limit. */
static void test_default_limit_and_old_name(void **state)
{
    ir_pass_fx *f = *state;
    const char *ir = "graph g(%x: f32[20,1024,1024]) -> (%y: f32[20,1024,1024]) {\n"
                     "  opset ai.onnx 17\n"
                     "  const %s: i64[3] = [20, 1024, 1024]\n"
                     "  %c: f32[20,1024,1024] = ConstantOfShape(%s) {value=tensor f32[1] [1]} @f\n"
                     "  %y: f32[20,1024,1024] = Add(%x, %c) @add\n"
                     "}\n";
    ir_pass_check(f, ir, ir, 0);

    const char *small = "graph g(%x: f32[64]) -> (%y: f32[64]) {\n"
                        "  opset ai.onnx 17\n"
                        "  const %s: i64[1] = [64]\n"
                        "  %c: f32[64] = ConstantOfShape(%s) {value=tensor f32[1] [1]} @f\n"
                        "  %y: f32[64] = Add(%x, %c) @add\n"
                        "}\n";
    const aglm_kv old[] = {{"max_bytes", "100"}};
    const aglm_options old_opts = {1, old};
    ir_pass_check_opts(f, small, small, &old_opts, 0);
    const aglm_kv both[] = {{"max_bytes", "100"}, {"max_expand_bytes", "256"}};
    const aglm_options both_opts = {2, both};
    aglm_graph *g = ir_pass_parse(small);
    assert_int_equal(ir_pass_run(f, g, &both_opts), 1);
    assert_non_null(aglm_value_const(aglm_graph_find_value(g, "c")));
    aglm_graph_free(g);
}

static void test_bad_limit(void **state)
{
    ir_pass_fx *f = *state;
    aglm_graph *g = ir_pass_parse("graph g(%x: f32[2]) -> (%x: f32[2]) {\n}\n");
    const char *bad[] = {"-1", "1k", "", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const aglm_kv kv[] = {{"max_expand_bytes", bad[i]}};
        const aglm_options opts = {1, kv};
        int changed = -1;
        assert_int_equal(f->ops->run(f->state, g, &opts, &changed), AGLM_ERR_INVALID);
        assert_non_null(strstr(aglm_last_error(), "option max_expand_bytes="));
    }
    aglm_graph_free(g);
}

/* Random ops draw anew on every run: never folded, whatever their size or inputs. */
static void test_random_never_folds(void **state)
{
    const char *ir = "graph g(%x: f32[512,1024]) -> (%y: f32[512,1024], %u: f32[4]) {\n"
                     "  opset ai.onnx 17\n"
                     "  const %k: f32[4] = [1, 2, 3, 4]\n"
                     "  %r: f32[512,1024] = RandomNormal() {dtype=1, shape=[512, 1024]} @rand\n"
                     "  %y: f32[512,1024] = Add(%x, %r) @add\n"
                     "  %u: f32[4] = RandomUniformLike(%k) @urand\n"
                     "}\n";
    ir_pass_check(*state, ir, ir, 0);
}

/* Runs g on the cpu backend of f's registry with one input; returns output 0. */
static void run_graph(ir_pass_fx *f, const aglm_graph *g, const aglm_tensor *in, aglm_tensor *out)
{
    aglm_plugin_ref *cpu = host_registry_acquire(f->reg, "cpu", AGLM_KIND_BACKEND);
    assert_non_null(cpu);
    const aglm_backend_ops *ops = host_ref_desc(cpu)->ops;
    aglm_exec *x = NULL;
    if (ops->compile(host_ref_state(cpu), g, NULL, &x) != AGLM_OK)
        fail_msg("compile: %s", aglm_last_error());
    if (ops->run(host_ref_state(cpu), x, 1, in, 1, out) != AGLM_OK)
        fail_msg("run: %s", aglm_last_error());
    ops->release(host_ref_state(cpu), x);
    host_registry_release(cpu);
}

/* A Conv whose 2.25 MiB weight comes from a constant-only subgraph (ConstantOfShape, Mul by a
 * per-channel scale): fold-constants computes the weight, so fold-batchnorm after it folds the
 * BatchNormalization into the Conv, and the graph computes what it did. */
static void test_batchnorm_after_big_weight(void **state)
{
    ir_pass_fx *f = *state;
    static char text[16384];
    size_t len = (size_t)snprintf(text, sizeof text,
                                  "graph g(%%x: f32[1,256,4,4]) -> (%%y: f32[1,256,2,2]) {\n"
                                  "  opset ai.onnx 17\n"
                                  "  const %%ws: i64[4] = [256, 256, 3, 3]\n"
                                  "  const %%k: f32[256,1,1,1] = [");
    for (int i = 0; i < 256; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%g", i ? ", " : "",
                                0.001 * (i % 13 - 6));
    snprintf(text + len, sizeof text - len,
             "]\n"
             "  const %%scale: f32[256] = <fill>\n"
             "  %%w0: f32[256,256,3,3] = ConstantOfShape(%%ws) {value=tensor f32[1] [1]} @fill\n"
             "  %%w: f32[256,256,3,3] = Mul(%%w0, %%k) @scale_w\n"
             "  %%c: f32[1,256,2,2] = Conv(%%x, %%w) @conv\n"
             "  %%y: f32[1,256,2,2] = BatchNormalization(%%c, %%scale, %%scale, %%scale, "
             "%%scale) @bn\n"
             "}\n");
    /* The BN parameters: one constant of 0.5 .. 1.5 read four times (positive as a variance). */
    char params[4096] = "[";
    for (int i = 0; i < 256; i++)
        snprintf(params + strlen(params), sizeof params - strlen(params), "%s%g", i ? ", " : "",
                 0.5 + (i % 11) / 10.0);
    strcat(params, "]");
    char *at = strstr(text, "<fill>");
    assert_non_null(at);
    memmove(at + strlen(params), at + 6, strlen(at + 6) + 1);
    memcpy(at, params, strlen(params));

    aglm_graph *before = ir_pass_parse(text), *g = ir_pass_parse(text);
    assert_int_equal(ir_pass_run(f, g, NULL), 1);
    const aglm_tensor *w = aglm_value_const(aglm_graph_find_value(g, "w"));
    assert_non_null(w);
    assert_int_equal(aglm_tensor_numel(w), 256 * 256 * 9);

    char path[512];
    snprintf(path, sizeof path, "%s/pass-fold-batchnorm.so", AGLM_PLUGIN_DIR);
    assert_int_equal(host_registry_load(f->reg, path, NULL), AGLM_OK);
    aglm_plugin_ref *bn = host_registry_acquire(f->reg, "fold-batchnorm", AGLM_KIND_PASS);
    assert_non_null(bn);
    assert_int_equal(
        ir_pass_run_ops(host_ref_desc(bn)->ops, host_ref_state(bn), "fold-batchnorm", g, NULL), 1);
    host_registry_release(bn);
    assert_int_equal(aglm_graph_num_nodes(g), 1);
    assert_string_equal(aglm_node_op(aglm_graph_node(g, 0)), "Conv");

    float xs[256 * 16];
    for (int i = 0; i < 256 * 16; i++)
        xs[i] = (float)((i * 7) % 23 - 11) / 8.0f;
    aglm_tensor in, want, got;
    aglm_tensor_wrap(&in, AGLM_F32, 4, (const int64_t[]){1, 256, 4, 4}, xs);
    run_graph(f, before, &in, &want);
    run_graph(f, g, &in, &got);
    assert_int_equal(aglm_tensor_numel(&got), aglm_tensor_numel(&want));
    for (int64_t i = 0; i < aglm_tensor_numel(&want); i++) {
        double a = aglm_tensor_get_f64(&got, i), b = aglm_tensor_get_f64(&want, i);
        if (fabs(a - b) > 1e-4 + 1e-4 * fabs(b))
            fail_msg("output %lld: %g after the passes, %g before", (long long)i, a, b);
    }
    aglm_tensor_free(&want);
    aglm_tensor_free(&got);
    aglm_graph_free(before);
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_big_constant_of_shape_folds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expansion_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_limit_and_old_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_never_folds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batchnorm_after_big_weight, setup, teardown),
    };
    return cmocka_run_group_tests_name("pass fold-constants, big results", tests, NULL, NULL);
}
