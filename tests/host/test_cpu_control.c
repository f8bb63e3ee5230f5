/* Control flow on the backend under test: If, Loop and Scan with bodies that read outer values,
 * nested subgraphs, loop-carried values, scan outputs, directions and axes, the opset 8 Scan form,
 * and errors. Graphs are written in the IR text form (docs/ir-text.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>

#include "backend_fixture.h"

static aglm_graph *parse(const char *text)
{
    aglm_graph *g = NULL;
    if (aglm_graph_parse(text, &g) != AGLM_OK)
        fail_msg("parse: %s", aglm_last_error());
    return g;
}

/* Compiles text, runs it on n_in inputs and returns the status; outputs filled on success. */
static aglm_status run_text(backend_fx *f, const char *text, size_t n_in, const aglm_tensor *in,
                            size_t n_out, aglm_tensor *out)
{
    aglm_graph *g = parse(text);
    aglm_exec *x = NULL;
    aglm_status st = f->ops->compile(f->state, g, NULL, &x);
    aglm_graph_free(g);
    if (st != AGLM_OK)
        return st;
    st = f->ops->run(f->state, x, n_in, in, n_out, out);
    f->ops->release(f->state, x);
    return st;
}

static void run_ok(backend_fx *f, const char *text, size_t n_in, const aglm_tensor *in,
                   size_t n_out, aglm_tensor *out)
{
    if (run_text(f, text, n_in, in, n_out, out) != AGLM_OK)
        fail_msg("%s", aglm_last_error());
}

static aglm_tensor bool_scalar(int v)
{
    return tensor_of(AGLM_BOOL, 0, NULL, (const double[]){v});
}

/* ---- If ---------------------------------------------------------------------------------- */

/* Each branch reads the outer inputs; the else branch hands an outer value straight out. */
static const char *if_text = "graph main(%c: bool[], %x: f32[2], %y: f32[2]) -> (%r, %s) {\n"
                             "  opset ai.onnx 17\n"
                             "  %r, %s = If(%c) {then_branch=graph then() -> (%a, %b) {\n"
                             "      %a = Add(%x, %y)\n"
                             "      %b = Mul(%x, %y)\n"
                             "    }, else_branch=graph else() -> (%d, %x) {\n"
                             "      %d = Sub(%x, %y)\n"
                             "    }}\n"
                             "}\n";

static void test_if_branches_read_outer_values(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {2};
    aglm_tensor in[3] = {bool_scalar(1), tensor_of(AGLM_F32, 1, d, (const double[]){1, 2}),
                         tensor_of(AGLM_F32, 1, d, (const double[]){10, 20})};
    aglm_tensor out[2];
    run_ok(f, if_text, 3, in, 2, out);
    assert_values(&out[0], 1, d, (const double[]){11, 22});
    assert_values(&out[1], 1, d, (const double[]){10, 40});
    aglm_tensor_free(&out[0]);
    aglm_tensor_free(&out[1]);

    aglm_tensor_free(&in[0]);
    in[0] = bool_scalar(0);
    run_ok(f, if_text, 3, in, 2, out);
    assert_values(&out[0], 1, d, (const double[]){-9, -18});
    assert_values(&out[1], 1, d, (const double[]){1, 2});
    for (int i = 0; i < 2; i++)
        aglm_tensor_free(&out[i]);
    for (int i = 0; i < 3; i++)
        aglm_tensor_free(&in[i]);
}

static void test_if_condition_must_be_one_element(void **state)
{
    backend_fx *f = *state;
    const char *text = "graph main(%c: bool[2], %x: f32[2]) -> (%r) {\n"
                       "  %r = If(%c) {then_branch=graph t() -> (%a) {\n"
                       "      %a = Relu(%x)\n"
                       "    }, else_branch=graph e() -> (%x) {\n"
                       "    }} @choose\n"
                       "}\n";
    int64_t d[1] = {2};
    aglm_tensor in[2] = {tensor_of(AGLM_BOOL, 1, d, (const double[]){1, 0}),
                         tensor_of(AGLM_F32, 1, d, (const double[]){1, 2})};
    aglm_tensor out[1];
    assert_int_not_equal(run_text(f, text, 2, in, 1, out), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "'choose' (If)"));
    assert_non_null(strstr(aglm_last_error(), "condition"));
    assert_null(out[0].data);
    aglm_tensor_free(&in[0]);
    aglm_tensor_free(&in[1]);
}

/* A branch that cannot be typed for these inputs (it reshapes 2 elements into 3) does not stop
 * the graph compiling; it only fails if it runs. */
static void test_if_untakeable_branch(void **state)
{
    backend_fx *f = *state;
    const char *text = "graph main(%c: bool[], %x: f32[2]) -> (%r) {\n"
                       "  const %s: i64[1] = [3]\n"
                       "  %r = If(%c) {then_branch=graph t() -> (%a) {\n"
                       "      %a = Neg(%x)\n"
                       "    }, else_branch=graph e() -> (%b) {\n"
                       "      %b = Reshape(%x, %s)\n"
                       "    }} @pick\n"
                       "}\n";
    aglm_tensor in[2] = {bool_scalar(1),
                         tensor_of(AGLM_F32, 1, (const int64_t[]){2}, (const double[]){1, -2})};
    aglm_tensor out[1];
    run_ok(f, text, 2, in, 1, out);
    assert_values(&out[0], 1, (const int64_t[]){2}, (const double[]){-1, 2});
    aglm_tensor_free(&out[0]);
    aglm_tensor_free(&in[0]);
    in[0] = bool_scalar(0);
    assert_int_not_equal(run_text(f, text, 2, in, 1, out), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "'pick' (If)"));
    assert_non_null(strstr(aglm_last_error(), "else_branch"));
    aglm_tensor_free(&in[0]);
    aglm_tensor_free(&in[1]);
}

static void test_unsupported_node_in_body_is_listed(void **state)
{
    backend_fx *f = *state;
    const char *text = "graph main(%c: bool[], %x: f32[2]) -> (%r) {\n"
                       "  %r = If(%c) {then_branch=graph t() -> (%a) {\n"
                       "      %a = NoSuchOp(%x) @inner\n"
                       "    }, else_branch=graph e() -> (%x) {\n"
                       "    }}\n"
                       "}\n";
    aglm_graph *g = parse(text);
    aglm_exec *x = NULL;
    assert_int_equal(f->ops->compile(f->state, g, NULL, &x), AGLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(aglm_last_error(), "'inner' (NoSuchOp)"));
    assert_null(x);
    aglm_graph_free(g);
}

/* ---- Loop -------------------------------------------------------------------------------- */

/* sum += float(i) + x over M iterations; each iteration's sum is a scan output. */
static const char *loop_text =
    "graph main(%m: i64[], %c: bool[], %s0: f32[], %x: f32[]) -> (%s, %all) {\n"
    "  opset ai.onnx 16\n"
    "  %s, %all = Loop(%m, %c, %s0) {body=graph body(%i: i64[], %ci: bool[], %si: f32[]) -> (%ci, "
    "%so, %so2) {\n"
    "      %fi = Cast(%i) {to=1}\n"
    "      %t = Add(%fi, %x)\n"
    "      %so = Add(%si, %t)\n"
    "      %so2 = Identity(%so)\n"
    "    }}\n"
    "}\n";

static void test_loop_trip_count_and_scan_outputs(void **state)
{
    backend_fx *f = *state;
    aglm_tensor in[4] = {tensor_of(AGLM_I64, 0, NULL, (const double[]){5}), bool_scalar(1),
                         tensor_of(AGLM_F32, 0, NULL, (const double[]){100}),
                         tensor_of(AGLM_F32, 0, NULL, (const double[]){0.5})};
    aglm_tensor out[2];
    run_ok(f, loop_text, 4, in, 2, out);
    /* adds 0.5, 1.5, 2.5, 3.5, 4.5 */
    assert_values(&out[0], 0, NULL, (const double[]){112.5});
    assert_values(&out[1], 1, (const int64_t[]){5},
                  (const double[]){100.5, 102, 104.5, 108, 112.5});
    aglm_tensor_free(&out[0]);
    aglm_tensor_free(&out[1]);

    /* a false condition runs nothing: the initial value comes back and the scan output is empty */
    aglm_tensor_free(&in[1]);
    in[1] = bool_scalar(0);
    run_ok(f, loop_text, 4, in, 2, out);
    assert_values(&out[0], 0, NULL, (const double[]){100});
    assert_int_equal(out[1].rank, 1);
    assert_int_equal(out[1].dims[0], 0);
    for (int i = 0; i < 2; i++)
        aglm_tensor_free(&out[i]);
    for (int i = 0; i < 4; i++)
        aglm_tensor_free(&in[i]);
}

/* A while loop (no trip count): doubles v until the body's condition (v < limit, computed as
 * Relu(limit - v) > 0 through a Cast to bool) turns false. The body holds an If reading a value
 * of the top graph two levels up. */
static const char *while_text =
    "graph main(%c: bool[], %v0: f32[], %limit: f32[], %two: f32[]) -> (%v) {\n"
    "  opset ai.onnx 16\n"
    "  %v = Loop(_, %c, %v0) {body=graph body(%i: i64[], %ci: bool[], %vi: f32[]) -> (%co, %vo) {\n"
    "      %vo = If(%ci) {then_branch=graph t() -> (%dbl) {\n"
    "          %dbl = Mul(%vi, %two)\n"
    "        }, else_branch=graph e() -> (%vi) {\n"
    "        }}\n"
    "      %gap = Sub(%limit, %vo)\n"
    "      %pos = Relu(%gap)\n"
    "      %co = Cast(%pos) {to=9}\n"
    "    }}\n"
    "}\n";

static void test_while_loop_with_nested_if(void **state)
{
    backend_fx *f = *state;
    aglm_tensor in[4] = {bool_scalar(1), tensor_of(AGLM_F32, 0, NULL, (const double[]){3}),
                         tensor_of(AGLM_F32, 0, NULL, (const double[]){50}),
                         tensor_of(AGLM_F32, 0, NULL, (const double[]){2})};
    aglm_tensor out[1];
    run_ok(f, while_text, 4, in, 1, out);
    /* 3, 6, 12, 24, 48, 96: stops at the first value not below 50 */
    assert_values(&out[0], 0, NULL, (const double[]){96});
    aglm_tensor_free(&out[0]);
    for (int i = 0; i < 4; i++)
        aglm_tensor_free(&in[i]);
}

/* M = INT64_MAX is the usual "no limit": the loop still ends when the body's condition does. */
static void test_loop_unbounded_trip_count(void **state)
{
    backend_fx *f = *state;
    const char *text =
        "graph main(%m: i64[], %c: bool[], %v0: f32[], %limit: f32[], %two: f32[]) -> (%v) {\n"
        "  opset ai.onnx 16\n"
        "  %v = Loop(%m, %c, %v0) {body=graph body(%i: i64[], %ci: bool[], %vi: f32[]) -> (%co, "
        "%vo) {\n"
        "      %vo = Mul(%vi, %two)\n"
        "      %gap = Sub(%limit, %vo)\n"
        "      %pos = Relu(%gap)\n"
        "      %co = Cast(%pos) {to=9}\n"
        "    }}\n"
        "}\n";
    aglm_tensor in[5] = {tensor_of(AGLM_I64, 0, NULL, NULL), bool_scalar(1),
                         tensor_of(AGLM_F32, 0, NULL, (const double[]){1}),
                         tensor_of(AGLM_F32, 0, NULL, (const double[]){100}),
                         tensor_of(AGLM_F32, 0, NULL, (const double[]){2})};
    *(int64_t *)in[0].data = INT64_MAX;
    aglm_tensor out[1];
    run_ok(f, text, 5, in, 1, out);
    assert_values(&out[0], 0, NULL, (const double[]){128});
    aglm_tensor_free(&out[0]);
    for (int i = 0; i < 5; i++)
        aglm_tensor_free(&in[i]);
}

/* ---- Scan -------------------------------------------------------------------------------- */

/* Running sum over the rows of x (the ONNX Scan example), with the sums also stacked. */
static const char *scan_text =
    "graph main(%s0: f32[2], %x: f32[3,2]) -> (%s, %ys) {\n"
    "  opset ai.onnx 16\n"
    "  %s, %ys = Scan(%s0, %x) {body=graph body(%si: f32[2], %xi: f32[2]) -> (%so, %y) {\n"
    "      %so = Add(%si, %xi)\n"
    "      %y = Identity(%so)\n"
    "    }, num_scan_inputs=1}\n"
    "}\n";

static void test_scan_running_sum(void **state)
{
    backend_fx *f = *state;
    aglm_tensor in[2] = {
        tensor_of(AGLM_F32, 1, (const int64_t[]){2}, (const double[]){0, 0}),
        tensor_of(AGLM_F32, 2, (const int64_t[]){3, 2}, (const double[]){1, 2, 3, 4, 5, 6})};
    aglm_tensor out[2];
    run_ok(f, scan_text, 2, in, 2, out);
    assert_values(&out[0], 1, (const int64_t[]){2}, (const double[]){9, 12});
    assert_values(&out[1], 2, (const int64_t[]){3, 2}, (const double[]){1, 2, 4, 6, 9, 12});
    for (int i = 0; i < 2; i++) {
        aglm_tensor_free(&out[i]);
        aglm_tensor_free(&in[i]);
    }
}

/* Scanning x [2,3] along axis 1 backwards, stacking along axis 1 in reverse order too: the
 * sums come out against the columns they belong to. */
static void test_scan_axes_and_directions(void **state)
{
    backend_fx *f = *state;
    const char *text =
        "graph main(%s0: f32[2], %x: f32[2,3]) -> (%s, %ys) {\n"
        "  opset ai.onnx 16\n"
        "  %s, %ys = Scan(%s0, %x) {body=graph body(%si: f32[2], %xi: f32[2]) -> (%so, %y) {\n"
        "      %so = Add(%si, %xi)\n"
        "      %y = Identity(%so)\n"
        "    }, num_scan_inputs=1, scan_input_axes=[1], scan_input_directions=[1],\n"
        "       scan_output_axes=[-1], scan_output_directions=[1]}\n"
        "}\n";
    aglm_tensor in[2] = {
        tensor_of(AGLM_F32, 1, (const int64_t[]){2}, (const double[]){0, 0}),
        tensor_of(AGLM_F32, 2, (const int64_t[]){2, 3}, (const double[]){1, 2, 3, 4, 5, 6})};
    aglm_tensor out[2];
    run_ok(f, text, 2, in, 2, out);
    /* columns visited 2, 1, 0: sums [3,6], [5,11], [6,15]; written at positions 0, 1, 2 reversed */
    assert_values(&out[0], 1, (const int64_t[]){2}, (const double[]){6, 15});
    assert_values(&out[1], 2, (const int64_t[]){2, 3}, (const double[]){6, 5, 3, 15, 11, 6});
    for (int i = 0; i < 2; i++) {
        aglm_tensor_free(&out[i]);
        aglm_tensor_free(&in[i]);
    }
}

/* Opset 8: a batch axis in front, optional sequence lengths first. */
static void test_scan_opset8_batches(void **state)
{
    backend_fx *f = *state;
    const char *text =
        "graph main(%s0: f32[2,1], %x: f32[2,3,1]) -> (%s, %ys) {\n"
        "  opset ai.onnx 8\n"
        "  %s, %ys = Scan(_, %s0, %x) {body=graph body(%si: f32[1], %xi: f32[1]) -> (%so, %y) {\n"
        "      %so = Add(%si, %xi)\n"
        "      %y = Identity(%so)\n"
        "    }, num_scan_inputs=1}\n"
        "}\n";
    aglm_tensor in[2] = {
        tensor_of(AGLM_F32, 2, (const int64_t[]){2, 1}, (const double[]){0, 100}),
        tensor_of(AGLM_F32, 3, (const int64_t[]){2, 3, 1}, (const double[]){1, 2, 3, 4, 5, 6})};
    aglm_tensor out[2];
    run_ok(f, text, 2, in, 2, out);
    assert_values(&out[0], 2, (const int64_t[]){2, 1}, (const double[]){6, 115});
    assert_values(&out[1], 3, (const int64_t[]){2, 3, 1}, (const double[]){1, 3, 6, 104, 109, 115});
    for (int i = 0; i < 2; i++) {
        aglm_tensor_free(&out[i]);
        aglm_tensor_free(&in[i]);
    }
}

static void test_scan_inputs_must_agree_in_length(void **state)
{
    backend_fx *f = *state;
    const char *text = "graph main(%x: f32[3], %z: f32[4]) -> (%ys) {\n"
                       "  %ys = Scan(%x, %z) {body=graph body(%xi: f32[], %zi: f32[]) -> (%y) {\n"
                       "      %y = Add(%xi, %zi)\n"
                       "    }, num_scan_inputs=2} @sc\n"
                       "}\n";
    aglm_graph *g = parse(text);
    aglm_exec *x = NULL;
    aglm_status st = f->ops->compile(f->state, g, NULL, &x);
    if (st == AGLM_OK) {
        aglm_tensor in[2] = {tensor_of(AGLM_F32, 1, (const int64_t[]){3}, NULL),
                             tensor_of(AGLM_F32, 1, (const int64_t[]){4}, NULL)};
        aglm_tensor out[1];
        st = f->ops->run(f->state, x, 2, in, 1, out);
        f->ops->release(f->state, x);
        aglm_tensor_free(&in[0]);
        aglm_tensor_free(&in[1]);
    }
    aglm_graph_free(g);
    assert_int_not_equal(st, AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "'sc' (Scan)"));
}

/* ---- concurrency ------------------------------------------------------------------------- */

typedef struct race {
    backend_fx *f;
    aglm_exec *x;
    double m;
    int bad;
} race;

static void *race_run(void *arg)
{
    race *r = arg;
    for (int rep = 0; rep < 20; rep++) {
        aglm_tensor in[4] = {tensor_of(AGLM_I64, 0, NULL, (const double[]){r->m}), bool_scalar(1),
                             tensor_of(AGLM_F32, 0, NULL, (const double[]){0}),
                             tensor_of(AGLM_F32, 0, NULL, (const double[]){0})};
        aglm_tensor out[2];
        if (r->f->ops->run(r->f->state, r->x, 4, in, 2, out) != AGLM_OK ||
            aglm_tensor_get_f64(&out[0], 0) != r->m * (r->m - 1) / 2 ||
            out[1].dims[0] != (int64_t)r->m)
            r->bad = 1;
        for (int i = 0; i < 4; i++)
            aglm_tensor_free(&in[i]);
        aglm_tensor_free(&out[0]);
        aglm_tensor_free(&out[1]);
    }
    return NULL;
}

/* Runs of one executable on several threads keep their loop state apart. */
static void test_concurrent_loops(void **state)
{
    backend_fx *f = *state;
    aglm_graph *g = parse(loop_text);
    aglm_exec *x = NULL;
    assert_int_equal(f->ops->compile(f->state, g, NULL, &x), AGLM_OK);
    race r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (race){f, x, 3 + 7 * i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, race_run, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].bad, 0);
    }
    f->ops->release(f->state, x);
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_if_branches_read_outer_values),
        cmocka_unit_test(test_if_condition_must_be_one_element),
        cmocka_unit_test(test_if_untakeable_branch),
        cmocka_unit_test(test_unsupported_node_in_body_is_listed),
        cmocka_unit_test(test_loop_trip_count_and_scan_outputs),
        cmocka_unit_test(test_while_loop_with_nested_if),
        cmocka_unit_test(test_loop_unbounded_trip_count),
        cmocka_unit_test(test_scan_running_sum),
        cmocka_unit_test(test_scan_axes_and_directions),
        cmocka_unit_test(test_scan_opset8_batches),
        cmocka_unit_test(test_scan_inputs_must_agree_in_length),
        cmocka_unit_test(test_concurrent_loops),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
