/* Memory planning in the cpu backend (the runtime layer: aglm/memplan.h), as a user sees it:
 * outputs stay right whether an element-wise step runs in place or must not (its input is read
 * again, or is a graph output), when the input shapes change between runs, when two threads run one
 * executable, and when a data-dependent output outgrows its planned region; and the profile's
 * peak bytes shrink as planning says they should. The planner itself is checked directly on
 * lifetimes worked out by hand. */
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
        fail_msg("%s", aglm_last_error());
    return g;
}

static aglm_exec *compile_text(backend_fx *f, const char *text, int profile)
{
    aglm_graph *g = parse(text);
    aglm_kv kv = {"profile", "1"};
    aglm_options opts = {profile ? 1u : 0u, &kv};
    aglm_exec *x = NULL;
    if (f->ops->compile(f->state, g, &opts, &x) != AGLM_OK)
        fail_msg("compile: %s", aglm_last_error());
    aglm_graph_free(g);
    return x;
}

static uint64_t peak_bytes(backend_fx *f, aglm_exec *x)
{
    aglm_profile p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    if (f->ops->profile(f->state, x, &p) != AGLM_OK)
        fail_msg("profile: %s", aglm_last_error());
    return p.peak_bytes;
}

static double sigmoid(double v)
{
    return 1 / (1 + exp(-v));
}

/* ---- in place ---------------------------------------------------------------------------- */

/* A chain of element-wise steps, each the only reader of the one before: every step may take
 * over its input's region, so the arena holds one [n] tensor. */
static const char *const chain_text = "graph chain(%x: f32[N]) -> (%y) {\n"
                                      "  opset ai.onnx 17\n"
                                      "  %a = Neg(%x) @neg\n"
                                      "  %b = Relu(%a) @relu\n"
                                      "  %c = Sigmoid(%b) @sigmoid\n"
                                      "  %d = Abs(%c) @abs\n"
                                      "  %y = Add(%d, %x) @add\n"
                                      "}\n";

static double chain_ref(double x)
{
    double a = -x, b = a > 0 ? a : 0;
    return fabs(sigmoid(b)) + x;
}

static void run_chain(backend_fx *f, aglm_exec *x, int64_t n, uint32_t seed)
{
    aglm_tensor in = tensor_random(1, &n, seed), out;
    if (f->ops->run(f->state, x, 1, &in, 1, &out) != AGLM_OK)
        fail_msg("run [%lld]: %s", (long long)n, aglm_last_error());
    assert_int_equal(out.rank, 1);
    assert_int_equal(out.dims[0], n);
    assert_true(out.flags & AGLM_TENSOR_OWNS_DATA); /* the caller owns a graph output */
    for (int64_t i = 0; i < n; i++) {
        double want = chain_ref(((float *)in.data)[i]);
        if (fabs(((float *)out.data)[i] - want) > 1e-6)
            fail_msg("[%lld] element %lld: got %.9g, expected %.9g", (long long)n, (long long)i,
                     ((float *)out.data)[i], want);
    }
    aglm_tensor_free(&out);
    aglm_tensor_free(&in);
}

/* The first run sizes the plan; later runs go through it. Peak: one arena region of 256 bytes
 * (a, b, c, d all in place) + the 256-byte graph output on the heap. Without in-place a and b
 * would be alive together: 512 + 256. */
static void test_inplace_chain(void **state)
{
    backend_fx *f = *state;
    aglm_exec *x = compile_text(f, chain_text, 1);
    for (int r = 0; r < 3; r++)
        run_chain(f, x, 64, (uint32_t)r + 1);
    assert_int_equal(peak_bytes(f, x), 256 + 256);
    f->ops->release(f->state, x);
}

/* %a is read by two steps: Relu must not overwrite it (Sigmoid reads it after), while Sigmoid,
 * its last reader, may. Were Relu in place, Sigmoid would see max(a, 0) and the output would be
 * off wherever x > 0. Peak: a+c share one region, b another, + y on the heap. */
static void test_no_inplace_when_read_again(void **state)
{
    backend_fx *f = *state;
    aglm_exec *x = compile_text(f,
                                "graph twice(%x: f32[64]) -> (%y) {\n"
                                "  opset ai.onnx 17\n"
                                "  %a = Neg(%x) @neg\n"
                                "  %b = Relu(%a) @relu\n"
                                "  %c = Sigmoid(%a) @sigmoid\n"
                                "  %y = Add(%b, %c) @add\n"
                                "}\n",
                                1);
    int64_t n = 64;
    for (int r = 0; r < 3; r++) {
        aglm_tensor in = tensor_random(1, &n, 11 + (uint32_t)r), out;
        assert_int_equal(f->ops->run(f->state, x, 1, &in, 1, &out), AGLM_OK);
        for (int64_t i = 0; i < n; i++) {
            double a = -((float *)in.data)[i];
            assert_float_equal(((float *)out.data)[i], (a > 0 ? a : 0) + sigmoid(a), 1e-6);
        }
        aglm_tensor_free(&out);
        aglm_tensor_free(&in);
    }
    assert_int_equal(peak_bytes(f, x), 2 * 256 + 256);
    f->ops->release(f->state, x);
}

/* A graph output read by a later element-wise step is the caller's: it stays on the heap and
 * keeps its values, and the step reading it does not run over it. */
static void test_no_inplace_on_graph_output(void **state)
{
    backend_fx *f = *state;
    aglm_exec *x = compile_text(f,
                                "graph outs(%x: f32[64]) -> (%a, %b) {\n"
                                "  opset ai.onnx 17\n"
                                "  %a = Neg(%x) @neg\n"
                                "  %b = Relu(%a) @relu\n"
                                "}\n",
                                0);
    int64_t n = 64;
    for (int r = 0; r < 3; r++) {
        aglm_tensor in = tensor_random(1, &n, 21 + (uint32_t)r), out[2];
        assert_int_equal(f->ops->run(f->state, x, 1, &in, 2, out), AGLM_OK);
        assert_true(out[0].flags & AGLM_TENSOR_OWNS_DATA);
        assert_true(out[1].flags & AGLM_TENSOR_OWNS_DATA);
        assert_ptr_not_equal(out[0].data, out[1].data);
        for (int64_t i = 0; i < n; i++) {
            float a = -((float *)in.data)[i];
            assert_true(((float *)out[0].data)[i] == a);
            assert_true(((float *)out[1].data)[i] == (a > 0 ? a : 0));
        }
        aglm_tensor_free(&out[0]);
        aglm_tensor_free(&out[1]);
        aglm_tensor_free(&in);
    }
    f->ops->release(f->state, x);
}

/* ---- replanning -------------------------------------------------------------------------- */

/* New input shapes get a plan of their own (sized by their first run); going back to earlier
 * shapes finds theirs again. The profile's peak follows the latest run's shapes. */
static void test_replans_on_new_shapes(void **state)
{
    backend_fx *f = *state;
    aglm_exec *x = compile_text(f, chain_text, 1);
    const int64_t sizes[] = {64, 64, 128, 128, 1000, 1000, 64, 128};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        run_chain(f, x, sizes[i], 30 + (uint32_t)i);
    assert_int_equal(peak_bytes(f, x), 512 + 512); /* [128]: arena 512, output 512 */
    run_chain(f, x, 1000, 40);
    assert_int_equal(peak_bytes(f, x), 4032 + 4000); /* 4000 rounded up to 64 in the arena */
    f->ops->release(f->state, x);
}

/* ---- threads ----------------------------------------------------------------------------- */

typedef struct worker {
    backend_fx *f;
    aglm_exec *x;
    int64_t n;
    uint32_t seed;
    int bad;
} worker;

/* Runs the chain many times on its own shape and data; counts wrong or failed runs. */
static void *work(void *arg)
{
    worker *w = arg;
    for (int r = 0; r < 200; r++) {
        aglm_tensor in = tensor_random(1, &w->n, w->seed + (uint32_t)r), out;
        if (w->f->ops->run(w->f->state, w->x, 1, &in, 1, &out) != AGLM_OK) {
            w->bad++;
            aglm_tensor_free(&in);
            continue;
        }
        for (int64_t i = 0; i < w->n; i++)
            if (fabs(((float *)out.data)[i] - chain_ref(((float *)in.data)[i])) > 1e-6) {
                w->bad++;
                break;
            }
        aglm_tensor_free(&out);
        aglm_tensor_free(&in);
    }
    return NULL;
}

/* Two threads on one executable, first on one shape (one plan, an arena each), then on two
 * shapes (two plans built while the other thread runs). Neither sees the other's values. */
static void test_concurrent_runs(void **state)
{
    backend_fx *f = *state;
    aglm_exec *x = compile_text(f, chain_text, 0);
    worker w[2] = {{f, x, 4096, 100, 0}, {f, x, 4096, 5000, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(w[0].bad, 0);
    assert_int_equal(w[1].bad, 0);
    /* Now with different shapes at the same time. */
    w[1].n = 333;
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(w[0].bad, 0);
    assert_int_equal(w[1].bad, 0);
    f->ops->release(f->state, x);
}

/* ---- heap fallback ----------------------------------------------------------------------- */

/* NonZero's output size depends on the data: planned from a first run with few positives, a
 * later run with more does not fit its region and goes to the heap, and still comes out right
 * (the profile's peak grows by the heap bytes). */
static void test_data_dependent_output_falls_back(void **state)
{
    backend_fx *f = *state;
    aglm_exec *x = compile_text(f,
                                "graph nz(%x: f32[256]) -> (%y) {\n"
                                "  opset ai.onnx 17\n"
                                "  %r = Relu(%x) @relu\n"
                                "  %i = NonZero(%r) @nonzero\n"
                                "  %y = Neg(%i) @neg\n"
                                "}\n",
                                1);
    int64_t n = 256;
    const int positives[] = {3, 3, 200, 3};
    uint64_t peaks[4];
    for (int r = 0; r < 4; r++) {
        aglm_tensor in = tensor_f32(1, &n, NULL), out;
        for (int64_t i = 0; i < n; i++)
            ((float *)in.data)[i] = i < positives[r] ? 1.0f + (float)i : -1.0f;
        assert_int_equal(f->ops->run(f->state, x, 1, &in, 1, &out), AGLM_OK);
        assert_int_equal(out.dtype, AGLM_I64);
        assert_int_equal(out.rank, 2);
        assert_int_equal(out.dims[1], positives[r]);
        for (int i = 0; i < positives[r]; i++)
            assert_int_equal(((int64_t *)out.data)[i], -i);
        aglm_tensor_free(&out);
        aglm_tensor_free(&in);
        peaks[r] = peak_bytes(f, x);
    }
    /* Planned: r [1024] and i [1,3] (24 bytes, one 64-byte region) in the arena; y on the
     * heap. The 200-index run puts its 1600-byte i on the heap as well. */
    assert_int_equal(peaks[1], 1024 + 64 + 24);
    assert_int_equal(peaks[2], 1024 + 64 + 1600 + 1600);
    assert_int_equal(peaks[3], peaks[1]);
    f->ops->release(f->state, x);
}

/* ---- subgraphs --------------------------------------------------------------------------- */

/* Scan builds its stacked output over its iterations (and tells a started output by its
 * descriptor): its outputs are intermediates here, read by Neg, and every run, planned or not,
 * gives the running sums. */
static void test_scan_outputs_stay_right(void **state)
{
    backend_fx *f = *state;
    aglm_exec *x =
        compile_text(f,
                     "graph main(%s0: f32[2], %x: f32[3,2]) -> (%ns, %nys) {\n"
                     "  opset ai.onnx 16\n"
                     "  %a = Neg(%x)\n"
                     "  %s, %ys = Scan(%s0, %a) {body=graph body(%si: f32[2], %xi: f32[2]) "
                     "-> (%so, %y) {\n"
                     "      %so = Add(%si, %xi)\n"
                     "      %y = Identity(%so)\n"
                     "    }, num_scan_inputs=1}\n"
                     "  %ns = Neg(%s)\n"
                     "  %nys = Neg(%ys)\n"
                     "}\n",
                     0);
    aglm_tensor in[2] = {
        tensor_of(AGLM_F32, 1, (const int64_t[]){2}, (const double[]){0, 0}),
        tensor_of(AGLM_F32, 2, (const int64_t[]){3, 2}, (const double[]){1, 2, 3, 4, 5, 6})};
    for (int r = 0; r < 3; r++) {
        aglm_tensor out[2];
        if (f->ops->run(f->state, x, 2, in, 2, out) != AGLM_OK)
            fail_msg("run %d: %s", r + 1, aglm_last_error());
        assert_values(&out[0], 1, (const int64_t[]){2}, (const double[]){9, 12});
        assert_values(&out[1], 2, (const int64_t[]){3, 2}, (const double[]){1, 2, 4, 6, 9, 12});
        aglm_tensor_free(&out[0]);
        aglm_tensor_free(&out[1]);
    }
    aglm_tensor_free(&in[0]);
    aglm_tensor_free(&in[1]);
    f->ops->release(f->state, x);
}

/* ---- the planner ------------------------------------------------------------------------- */

static int overlap(const aglm_plan_value *a, uint64_t oa, const aglm_plan_value *b, uint64_t ob)
{
    int in_time = a->first <= b->last && b->first <= a->last;
    int in_space = oa < ob + aglm_plan_round(b->bytes) && ob < oa + aglm_plan_round(a->bytes);
    return in_time && in_space;
}

static void test_planner_by_hand(void **state)
{
    (void)state;
    /* 0: [0,1] 1000 B, 1: [1,2] 100 B, 2: [2,3] 1000 B (fits where 0 was), 3: not planned,
     * 4: [3,4] shares 2's region in place, 5: [0,4] 10 B. */
    const aglm_plan_value v[] = {
        {0, 1, 1000, -1}, {1, 2, 100, -1}, {2, 3, 1000, -1},
        {-1, -1, 50, -1}, {3, 4, 1000, 2}, {0, 4, 10, -1},
    };
    enum { N = sizeof v / sizeof v[0] };
    uint64_t off[N], arena;
    assert_int_equal(aglm_plan_assign(N, v, off, &arena), AGLM_OK);
    assert_true(off[3] == AGLM_PLAN_NONE);
    assert_true(off[4] == off[2]);
    for (int i = 0; i < N; i++) {
        if (off[i] == AGLM_PLAN_NONE)
            continue;
        assert_int_equal(off[i] % AGLM_PLAN_ALIGN, 0);
        assert_true(off[i] + aglm_plan_round(v[i].bytes) <= arena);
        for (int j = 0; j < i; j++)
            if (off[j] != AGLM_PLAN_NONE && !(i == 4 && j == 2) &&
                overlap(&v[i], off[i], &v[j], off[j]))
                fail_msg("values %d and %d overlap", j, i);
    }
    /* 1024 (0, then 2 and 4) + 128 (1) + 64 (5): nothing wasted. */
    assert_int_equal(arena, 1024 + 128 + 64);

    /* Best fit: among the gaps left free while e lives (steps 5..9), [0, 2048) where a was and
     * [3072, 3584) where c was, e takes the tighter one. */
    const aglm_plan_value w[] = {
        {0, 0, 2048, -1}, {0, 9, 1024, -1}, {0, 0, 512, -1}, {0, 9, 256, -1}, {5, 9, 256, -1},
    };
    uint64_t woff[5];
    assert_int_equal(aglm_plan_assign(5, w, woff, &arena), AGLM_OK);
    assert_int_equal(arena, 2048 + 1024 + 512 + 256);
    assert_int_equal(woff[2], 3072);
    assert_int_equal(woff[4], 3072);

    /* No values: an empty arena. */
    assert_int_equal(aglm_plan_assign(0, NULL, NULL, &arena), AGLM_OK);
    assert_int_equal(arena, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planner_by_hand),
        cmocka_unit_test_setup_teardown(test_inplace_chain, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_inplace_when_read_again, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_inplace_on_graph_output, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_replans_on_new_shapes, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_runs, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_data_dependent_output_falls_back, backend_fx_setup_cpu,
                                        backend_fx_teardown),
        cmocka_unit_test_setup_teardown(test_scan_outputs_stay_right, backend_fx_setup_cpu,
                                        backend_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
