/* The backend under test as a plugin: loaded through the registry with its config, compiled and
 * run through its ops table exactly as the host does; the errors users see; several threads
 * running one executable. What only the cpu backend promises (its device, its threads setting
 * and compile option, its wording, the kernels it lacks) is skipped on other backends. Per-op
 * numerics live in test_cpu_{elementwise,matmul,conv_pool,shape_ops}.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <unistd.h>

#include "backend_fixture.h"

static aglm_value *value(aglm_graph *g, const char *name, aglm_dtype dt, int rank,
                         const int64_t *dims)
{
    aglm_dim d[AGLM_MAX_RANK];
    for (int i = 0; i < rank; i++)
        d[i] = (aglm_dim){dims[i], NULL};
    aglm_value *v = aglm_graph_new_value(g, name, dt, rank, d);
    assert_non_null(v);
    return v;
}

static aglm_value *unknown(aglm_graph *g, const char *name)
{
    aglm_value *v = aglm_graph_new_value(g, name, AGLM_UNDEFINED, -1, NULL);
    assert_non_null(v);
    return v;
}

static aglm_node *node(aglm_graph *g, const char *op, const char *domain, const char *name,
                       size_t n_in, aglm_value *const *in, aglm_value *out)
{
    aglm_node *n = aglm_graph_add_node(g, op, domain, name, n_in, in, 1, &out);
    if (!n)
        fail_msg("add_node %s: %s", name, aglm_last_error());
    return n;
}

static void test_query_and_config_threads(void **state)
{
    backend_fx *f = *state;
    aglm_backend_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    assert_int_equal(f->ops->query(f->state, &info), AGLM_OK);
    assert_true(info.num_devices >= 1);
    assert_true(info.device_name[0] != '\0');
    SKIP_UNLESS_BACKEND("cpu", "a cpu device, its memory size and threads in the device name");
    assert_int_equal(info.device, AGLM_DEVICE_CPU);
    assert_int_equal(info.num_devices, 1);
    /* the fixture's [plugin.cpu] threads = 3 reached init */
    if (!strstr(info.device_name, "3 threads"))
        fail_msg("device name '%s' does not say 3 threads", info.device_name);
    assert_true(info.memory_bytes > 0);

    /* no setting: one thread per online core */
    backend_fx other;
    assert_int_equal(backend_fx_load(&other, NULL), AGLM_OK);
    assert_int_equal(other.ops->query(other.state, &info), AGLM_OK);
    char want[32];
    snprintf(want, sizeof want, "%ld threads", sysconf(_SC_NPROCESSORS_ONLN));
    if (!strstr(info.device_name, want))
        fail_msg("device name '%s' does not say %s", info.device_name, want);
    backend_fx_unload(&other);
}

static void test_bad_threads_config_refused(void **state)
{
    SKIP_UNLESS_BACKEND("cpu", "the [plugin.cpu] threads setting");
    const char *bad[] = {"zero", "0", "-2", "4x"};
    for (size_t i = 0; i < 4; i++) {
        backend_fx other;
        assert_int_not_equal(backend_fx_load(&other, bad[i]), AGLM_OK);
        if (!strstr(aglm_last_error(), "threads") || !strstr(aglm_last_error(), bad[i]))
            fail_msg("message does not name the setting: %s", aglm_last_error());
        backend_fx_unload(&other);
    }
}

/* One error lists every node the backend cannot run; supports() agrees node by node. */
static void test_unsupported_nodes_listed(void **state)
{
    backend_fx *f = *state;
    int64_t d[2] = {2, 3};
    aglm_graph *g = aglm_graph_new("unsupported");
    aglm_value *x = value(g, "x", AGLM_F32, 2, d);
    aglm_value *a = value(g, "a", AGLM_F32, 2, d), *b = value(g, "b", AGLM_F32, 2, d);
    aglm_value *y = value(g, "y", AGLM_F32, 2, d);
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    aglm_node *n1 = node(g, "Foo", NULL, "n1", 1, &x, a);
    aglm_node *n2 = node(g, "Relu", NULL, "n2", 1, &a, b);
    aglm_node *n7 = node(g, "baz", "Bar", "n7", 1, &b, y);
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);

    assert_false(f->ops->supports(f->state, g, n1));
    assert_true(f->ops->supports(f->state, g, n2));
    assert_false(f->ops->supports(f->state, g, n7));
    aglm_exec *e = (aglm_exec *)&e;
    assert_int_equal(f->ops->compile(f->state, g, NULL, &e), AGLM_ERR_UNSUPPORTED);
    /* every backend names each node and its op; the words around them are its own */
    const char *err = aglm_last_error();
    if (!strstr(err, "n1") || !strstr(err, "Foo") || !strstr(err, "n7") || !strstr(err, "baz"))
        fail_msg("message does not list both nodes and their ops: %s", err);
    if (backend_is("cpu"))
        assert_string_equal(aglm_last_error(),
                            "backend cpu cannot run 2 nodes: 'n1' (Foo), 'n7' (Bar.baz)");
    assert_null(e);
    aglm_graph_free(g);
    SKIP_UNLESS_BACKEND("cpu", "to have no f64 Conv");

    /* a known op on a dtype it has no kernel for */
    g = aglm_graph_new("f64conv");
    int64_t xd[4] = {1, 1, 3, 3};
    x = value(g, "x", AGLM_F64, 4, xd);
    aglm_value *w = value(g, "w", AGLM_F64, 4, xd);
    y = unknown(g, "y");
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    assert_int_equal(aglm_graph_add_input(g, w), AGLM_OK);
    aglm_value *in[2] = {x, w};
    aglm_node *conv = node(g, "Conv", NULL, "c", 2, in, y);
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    assert_false(f->ops->supports(f->state, g, conv));
    assert_int_equal(f->ops->compile(f->state, g, NULL, &e), AGLM_ERR_UNSUPPORTED);
    assert_string_equal(aglm_last_error(), "backend cpu cannot run 1 node: 'c' (Conv on f64)");
    aglm_graph_free(g);
}

/* x[N,4] -> MatMul(W) -> Add(bias) -> Relu -> y, with a symbolic batch. */
static aglm_graph *dense_graph(void)
{
    aglm_graph *g = aglm_graph_new("dense");
    assert_int_equal(aglm_graph_set_opset(g, "", 17), AGLM_OK);
    aglm_dim xd[2] = {{AGLM_DIM_DYNAMIC, "N"}, {4, NULL}};
    aglm_value *x = aglm_graph_new_value(g, "x", AGLM_F32, 2, xd);
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    float wv[12], bv[3] = {0.5f, -1.0f, 0.25f};
    for (int i = 0; i < 12; i++)
        wv[i] = (float)(i % 5) - 2.0f;
    aglm_tensor wt = tensor_f32(2, (int64_t[]){4, 3}, wv), bt = tensor_f32(1, (int64_t[]){3}, bv);
    aglm_value *w = aglm_graph_add_initializer(g, "w", &wt),
               *b = aglm_graph_add_initializer(g, "b", &bt);
    aglm_tensor_free(&wt);
    aglm_tensor_free(&bt);
    aglm_value *m = unknown(g, "m"), *s = unknown(g, "s"), *y = unknown(g, "y");
    /* added out of order: compile sorts them */
    node(g, "Relu", NULL, "relu", 1, &s, y);
    node(g, "Add", NULL, "add", 2, (aglm_value *[]){m, b}, s);
    node(g, "MatMul", NULL, "mm", 2, (aglm_value *[]){x, w}, m);
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    return g;
}

static void dense_ref(const aglm_tensor *x, float *out)
{
    const float *xv = x->data, bv[3] = {0.5f, -1.0f, 0.25f};
    for (int64_t n = 0; n < x->dims[0]; n++)
        for (int j = 0; j < 3; j++) {
            double s = bv[j];
            for (int k = 0; k < 4; k++)
                s += xv[n * 4 + k] * (double)((float)((k * 3 + j) % 5) - 2.0f);
            out[n * 3 + j] = s > 0 ? (float)s : 0.0f;
        }
}

static void test_symbolic_batch_and_wrong_inputs(void **state)
{
    backend_fx *f = *state;
    aglm_graph *g = dense_graph();
    aglm_exec *e = NULL;
    if (f->ops->compile(f->state, g, NULL, &e) != AGLM_OK)
        fail_msg("compile: %s", aglm_last_error());
    aglm_graph_free(g); /* the executable keeps its own copy */

    for (int64_t batch = 1; batch <= 5; batch += 2) {
        aglm_tensor x = tensor_random(2, (int64_t[]){batch, 4}, (uint32_t)batch), y;
        assert_int_equal(f->ops->run(f->state, e, 1, &x, 1, &y), AGLM_OK);
        assert_int_equal(y.rank, 2);
        assert_int_equal(y.dims[0], batch);
        assert_int_equal(y.dims[1], 3);
        assert_true(y.flags & AGLM_TENSOR_OWNS_DATA);
        float want[15];
        dense_ref(&x, want);
        for (int64_t i = 0; i < batch * 3; i++)
            assert_float_equal(((float *)y.data)[i], want[i], 1e-5);
        aglm_tensor_free(&y);
        aglm_tensor_free(&x);
    }

    /* wrong shape and wrong dtype name the input; outputs stay empty */
    aglm_tensor bad = tensor_random(2, (int64_t[]){2, 5}, 1), y;
    memset(&y, 0x5a, sizeof y);
    assert_int_equal(f->ops->run(f->state, e, 1, &bad, 1, &y), AGLM_ERR_SHAPE);
    if (!strstr(aglm_last_error(), "'x'") || !strstr(aglm_last_error(), "[2,5]"))
        fail_msg("message does not name the input and its shape: %s", aglm_last_error());
    assert_null(y.data);
    aglm_tensor_free(&bad);
    bad = tensor_of(AGLM_I32, 2, (int64_t[]){2, 4}, NULL);
    assert_int_equal(f->ops->run(f->state, e, 1, &bad, 1, &y), AGLM_ERR_TYPE);
    if (!strstr(aglm_last_error(), "'x'") || !strstr(aglm_last_error(), "i32"))
        fail_msg("message does not name the input and its dtype: %s", aglm_last_error());
    aglm_tensor_free(&bad);
    /* wrong number of inputs or outputs */
    assert_int_not_equal(f->ops->run(f->state, e, 0, NULL, 1, &y), AGLM_OK);
    aglm_tensor x = tensor_random(2, (int64_t[]){1, 4}, 3), two[2];
    assert_int_not_equal(f->ops->run(f->state, e, 1, &x, 2, two), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "outputs"));
    aglm_tensor_free(&x);
    f->ops->release(f->state, e);
}

/* Graph outputs may be a graph input, a constant, or a value other nodes also read: each comes
 * back as a tensor the caller owns. */
static void test_outputs_are_owned_copies(void **state)
{
    backend_fx *f = *state;
    int64_t d[1] = {3};
    aglm_graph *g = aglm_graph_new("passthrough");
    aglm_value *x = value(g, "x", AGLM_F32, 1, d);
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    aglm_tensor ct = tensor_f32(1, d, (const float[]){10, 20, 30});
    aglm_value *c = aglm_graph_add_initializer(g, "c", &ct);
    aglm_tensor_free(&ct);
    aglm_value *r = unknown(g, "r"), *s = unknown(g, "s");
    node(g, "Relu", NULL, "relu", 1, &x, r);
    node(g, "Add", NULL, "add", 2, (aglm_value *[]){r, c}, s);
    assert_int_equal(aglm_graph_add_output(g, x), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(g, c), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(g, r), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(g, s), AGLM_OK);
    aglm_tensor in = tensor_f32(1, d, (const float[]){-1, 2, -3}), out[4];
    const aglm_tensor *ins[1] = {&in};
    assert_int_equal(compile_run(f, g, NULL, 1, ins, NULL, 4, out), AGLM_OK);
    aglm_graph_free(g);
    assert_values(&out[0], 1, d, (const double[]){-1, 2, -3});
    assert_values(&out[1], 1, d, (const double[]){10, 20, 30});
    assert_values(&out[2], 1, d, (const double[]){0, 2, 0});
    assert_values(&out[3], 1, d, (const double[]){10, 22, 30});
    assert_ptr_not_equal(out[0].data, in.data);
    for (int i = 0; i < 4; i++) {
        assert_true(out[i].flags & AGLM_TENSOR_OWNS_DATA);
        aglm_tensor_free(&out[i]);
    }
    aglm_tensor_free(&in);
}

/* A small CNN: Conv -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax. */
static aglm_graph *cnn_graph(void)
{
    aglm_graph *g = aglm_graph_new("cnn");
    assert_int_equal(aglm_graph_set_opset(g, "", 13), AGLM_OK);
    aglm_value *x = value(g, "image", AGLM_F32, 4, (int64_t[]){2, 3, 16, 16});
    assert_int_equal(aglm_graph_add_input(g, x), AGLM_OK);
    aglm_tensor w = tensor_random(4, (int64_t[]){8, 3, 3, 3}, 100),
                b = tensor_random(1, (int64_t[]){8}, 101);
    aglm_tensor fw = tensor_random(2, (int64_t[]){10, 8 * 8 * 8}, 102),
                fb = tensor_random(1, (int64_t[]){10}, 103);
    aglm_value *wv = aglm_graph_add_initializer(g, "conv.w", &w),
               *bv = aglm_graph_add_initializer(g, "conv.b", &b);
    aglm_value *fwv = aglm_graph_add_initializer(g, "fc.w", &fw),
               *fbv = aglm_graph_add_initializer(g, "fc.b", &fb);
    aglm_tensor_free(&w);
    aglm_tensor_free(&b);
    aglm_tensor_free(&fw);
    aglm_tensor_free(&fb);
    aglm_value *c = unknown(g, "c"), *r = unknown(g, "r"), *p = unknown(g, "p"),
               *fl = unknown(g, "fl");
    aglm_value *logits = unknown(g, "logits"), *prob = unknown(g, "prob");
    aglm_node *conv = node(g, "Conv", NULL, "conv", 3, (aglm_value *[]){x, wv, bv}, c);
    assert_int_equal(aglm_node_set_ints(conv, "pads", (const int64_t[]){1, 1, 1, 1}, 4), AGLM_OK);
    node(g, "Relu", NULL, "relu", 1, &c, r);
    aglm_node *pool = node(g, "MaxPool", NULL, "pool", 1, &r, p);
    assert_int_equal(aglm_node_set_ints(pool, "kernel_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(pool, "strides", (const int64_t[]){2, 2}, 2), AGLM_OK);
    node(g, "Flatten", NULL, "flatten", 1, &p, fl);
    aglm_node *fc = node(g, "Gemm", NULL, "fc", 3, (aglm_value *[]){fl, fwv, fbv}, logits);
    assert_int_equal(aglm_node_set_int(fc, "transB", 1), AGLM_OK);
    node(g, "Softmax", NULL, "softmax", 1, &logits, prob);
    assert_int_equal(aglm_graph_add_output(g, prob), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(g, logits), AGLM_OK);
    return g;
}

typedef struct runner {
    backend_fx *f;
    aglm_exec *e;
    const aglm_tensor *x;
    const aglm_tensor *want; /* [2] */
    int mismatches, failures;
} runner;

static void *run_many(void *arg)
{
    runner *r = arg;
    for (int i = 0; i < 8; i++) {
        aglm_tensor out[2];
        if (r->f->ops->run(r->f->state, r->e, 1, r->x, 2, out) != AGLM_OK) {
            r->failures++;
            continue;
        }
        for (int o = 0; o < 2; o++) {
            if (!aglm_tensor_same_shape(&out[o], &r->want[o]) ||
                memcmp(out[o].data, r->want[o].data, aglm_tensor_nbytes(&out[o])) != 0)
                r->mismatches++;
            aglm_tensor_free(&out[o]);
        }
    }
    return NULL;
}

/* Threads sharing one executable get exactly the single-threaded results. */
static void test_concurrent_runs_on_one_exec(void **state)
{
    backend_fx *f = *state;
    aglm_graph *g = cnn_graph();
    aglm_exec *e = NULL;
    if (f->ops->compile(f->state, g, NULL, &e) != AGLM_OK)
        fail_msg("compile: %s", aglm_last_error());
    aglm_graph_free(g);
    aglm_tensor x = tensor_random(4, (int64_t[]){2, 3, 16, 16}, 7), want[2];
    assert_int_equal(f->ops->run(f->state, e, 1, &x, 2, want), AGLM_OK);
    assert_int_equal(want[0].dims[0], 2);
    assert_int_equal(want[0].dims[1], 10);
    for (int n = 0; n < 2; n++) {
        double s = 0;
        for (int j = 0; j < 10; j++)
            s += ((float *)want[0].data)[n * 10 + j];
        assert_float_equal(s, 1.0, 1e-5);
    }

    enum { THREADS = 4 };
    pthread_t th[THREADS];
    runner rs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        rs[i] = (runner){f, e, &x, want, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, run_many, &rs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(rs[i].failures, 0);
        assert_int_equal(rs[i].mismatches, 0);
    }
    f->ops->release(f->state, e);
    aglm_tensor_free(&want[0]);
    aglm_tensor_free(&want[1]);
    aglm_tensor_free(&x);
}

/* The compile option threads gives an executable its own pool; results do not depend on it. */
static void test_compile_option_threads(void **state)
{
    SKIP_UNLESS_BACKEND("cpu", "the compile option threads");
    backend_fx *f = *state;
    aglm_graph *g = cnn_graph();
    aglm_tensor x = tensor_random(4, (int64_t[]){2, 3, 16, 16}, 8);
    const aglm_tensor *ins[1] = {&x};
    aglm_tensor base[2];
    assert_int_equal(compile_run(f, g, NULL, 1, ins, NULL, 2, base), AGLM_OK);
    const char *counts[] = {"1", "2", "5"};
    for (int i = 0; i < 3; i++) {
        aglm_kv kv = {"threads", counts[i]};
        aglm_options opts = {1, &kv};
        aglm_tensor out[2];
        assert_int_equal(compile_run(f, g, &opts, 1, ins, NULL, 2, out), AGLM_OK);
        for (int o = 0; o < 2; o++) {
            assert_close(&out[o], &base[o], 1e-6, 1e-5);
            aglm_tensor_free(&out[o]);
        }
    }
    aglm_kv kv = {"threads", "many"};
    aglm_options opts = {1, &kv};
    aglm_exec *e = NULL;
    assert_int_equal(f->ops->compile(f->state, g, &opts, &e), AGLM_ERR_INVALID);
    if (!strstr(aglm_last_error(), "threads") || !strstr(aglm_last_error(), "many"))
        fail_msg("message does not name the option: %s", aglm_last_error());
    aglm_graph_free(g);
    aglm_tensor_free(&base[0]);
    aglm_tensor_free(&base[1]);
    aglm_tensor_free(&x);
}

/* A kernel failing at run time (integer division by zero) reports the node and leaves every
 * output empty, and the executable keeps working. */
static void test_run_time_failure_leaves_nothing(void **state)
{
    SKIP_UNLESS_BACKEND("cpu", "an error on integer division by zero (ONNX leaves it undefined)");
    backend_fx *f = *state;
    int64_t d[1] = {2};
    aglm_graph *g = aglm_graph_new("div");
    aglm_value *a = value(g, "a", AGLM_I64, 1, d), *b = value(g, "b", AGLM_I64, 1, d);
    assert_int_equal(aglm_graph_add_input(g, a), AGLM_OK);
    assert_int_equal(aglm_graph_add_input(g, b), AGLM_OK);
    aglm_value *s = unknown(g, "s"), *q = unknown(g, "q");
    node(g, "Add", NULL, "sum", 2, (aglm_value *[]){a, b}, s);
    node(g, "Div", NULL, "quotient", 2, (aglm_value *[]){a, b}, q);
    assert_int_equal(aglm_graph_add_output(g, s), AGLM_OK);
    assert_int_equal(aglm_graph_add_output(g, q), AGLM_OK);
    aglm_exec *e = NULL;
    assert_int_equal(f->ops->compile(f->state, g, NULL, &e), AGLM_OK);
    aglm_graph_free(g);
    aglm_tensor in[2] = {tensor_of(AGLM_I64, 1, d, (const double[]){6, 9}),
                         tensor_of(AGLM_I64, 1, d, (const double[]){3, 0})};
    aglm_tensor out[2];
    assert_int_equal(f->ops->run(f->state, e, 2, in, 2, out), AGLM_ERR_INVALID);
    if (!strstr(aglm_last_error(), "node 'quotient' (Div)"))
        fail_msg("message does not name the node: %s", aglm_last_error());
    assert_null(out[0].data);
    assert_null(out[1].data);
    aglm_tensor_set_f64(&in[1], 1, -3);
    assert_int_equal(f->ops->run(f->state, e, 2, in, 2, out), AGLM_OK);
    assert_values(&out[0], 1, d, (const double[]){9, 6});
    assert_values(&out[1], 1, d, (const double[]){2, -3});
    for (int i = 0; i < 2; i++) {
        aglm_tensor_free(&out[i]);
        aglm_tensor_free(&in[i]);
    }
    f->ops->release(f->state, e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_and_config_threads),
        cmocka_unit_test(test_bad_threads_config_refused),
        cmocka_unit_test(test_unsupported_nodes_listed),
        cmocka_unit_test(test_symbolic_batch_and_wrong_inputs),
        cmocka_unit_test(test_outputs_are_owned_copies),
        cmocka_unit_test(test_concurrent_runs_on_one_exec),
        cmocka_unit_test(test_compile_option_threads),
        cmocka_unit_test(test_run_time_failure_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
