/* Served models: compile and run under a name, recompile with an atomic switch while requests
 * run, follow a replaced backend, keep serving through an unload or a failed replace, and the
 * admin infer's file contract. The counter fixture backend answers with its build's version,
 * so every output says which version ran it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "registry_fixtures.h"
#include "served.h"

typedef struct fixture_state {
    host_registry *reg;
    host_served *served;
    aglm_graph *g;
} fixture_state;

/* x: f32[1] in, x out: the counter backend ignores the graph but the signature is checked. */
static aglm_graph *tiny_graph(void)
{
    aglm_graph *g = aglm_graph_new("tiny");
    aglm_dim d = {1, NULL};
    aglm_value *x = aglm_graph_new_value(g, "x", AGLM_F32, 1, &d);
    aglm_graph_add_input(g, x);
    aglm_graph_add_output(g, x);
    return g;
}

static int setup(void **state)
{
    fixture_state *f = calloc(1, sizeof *f);
    if (host_registry_new(NULL, &f->reg) != AGLM_OK ||
        host_registry_load(f->reg, fixture("counter_v1"), NULL) ||
        host_served_new(f->reg, &f->served) != AGLM_OK)
        return -1;
    f->g = tiny_graph();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_state *f = *state;
    host_served_free(f->served);
    host_registry_free(f->reg);
    aglm_graph_free(f->g);
    free(f);
    return 0;
}

/* Runs model `name` once: the counter's output, -1 on failure. */
static float run_once(host_served *s, const char *name)
{
    float one = 1;
    int64_t dim = 1;
    aglm_tensor in, out;
    aglm_tensor_wrap(&in, AGLM_F32, 1, &dim, &one);
    memset(&out, 0, sizeof out);
    if (host_served_run(s, name, 1, &in, 1, &out) != AGLM_OK)
        return -1;
    float v = out.rank == 0 && out.dtype == AGLM_F32 ? *(float *)out.data : -2;
    aglm_tensor_free(&out);
    return v;
}

static host_served_info info_of(host_served *s, const char *name)
{
    host_served_info *rows, found;
    size_t n;
    memset(&found, 0, sizeof found);
    if (host_served_list(s, &rows, &n) == AGLM_OK) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].name, name) == 0)
                found = rows[i];
        free(rows);
    }
    return found;
}

static void test_serve_run_and_recompile(void **state)
{
    fixture_state *f = *state;
    assert_int_equal(host_served_add(f->served, "m", f->g, "counter", 0), AGLM_OK);
    aglm_graph_free(f->g); /* the model keeps its own copy */
    f->g = NULL;
    assert_true(run_once(f->served, "m") == 1.0f);
    host_served_info info;
    assert_int_equal(host_served_recompile(f->served, "m", NULL, 2, &info), AGLM_OK);
    assert_int_equal(info.level, 2);
    assert_int_equal(info.compiles, 2);
    assert_string_equal(info.backend, "counter");
    assert_true(run_once(f->served, "m") == 1.0f);
    info = info_of(f->served, "m");
    assert_int_equal(info.requests, 2);
    assert_int_equal(info.errors, 0);
    assert_true(info.p50_ms > 0 && info.p50_ms <= info.p99_ms && info.p99_ms <= info.max_ms);
    assert_string_equal(info.inputs, "x: f32[1]");
}

static void test_bad_requests(void **state)
{
    fixture_state *f = *state;
    assert_int_equal(host_served_add(f->served, "m", f->g, "counter", 0), AGLM_OK);
    assert_int_equal(host_served_add(f->served, "m", f->g, "counter", 0), AGLM_ERR_EXISTS);
    assert_non_null(strstr(aglm_last_error(), "model name 'm' is already served"));
    assert_int_not_equal(host_served_add(f->served, "a b", f->g, "counter", 0), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "model name 'a b'"));
    assert_int_not_equal(host_served_add(f->served, "n", f->g, "nope", 0), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "model 'n': compile for 'nope': no plugin 'nope'"));
    assert_int_not_equal(host_served_add(f->served, "n", f->g, "counter", 7), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "level 7"));
    assert_int_equal(host_served_count(f->served), 1);
    assert_int_equal(host_served_recompile(f->served, "zz", NULL, -1, NULL), AGLM_ERR_NOT_FOUND);
    assert_non_null(strstr(aglm_last_error(), "no served model 'zz'"));
    assert_int_not_equal(host_served_recompile(f->served, "m", "nope", -1, NULL), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "model 'm': compile for 'nope'"));
    assert_true(run_once(f->served, "m") == 1.0f); /* a failed recompile changes nothing */
    assert_string_equal(info_of(f->served, "m").backend, "counter");

    /* wrong input shape: the error names the input; it counts as an error */
    float two[2] = {1, 2};
    int64_t dim = 2;
    aglm_tensor in, out;
    aglm_tensor_wrap(&in, AGLM_F32, 1, &dim, two);
    memset(&out, 0, sizeof out);
    assert_int_not_equal(host_served_run(f->served, "m", 1, &in, 1, &out), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "'x'"));
    assert_int_equal(info_of(f->served, "m").errors, 1);
    assert_int_equal(host_served_parse_level("O3"), 3);
    assert_int_equal(host_served_parse_level("2"), 2);
    assert_int_equal(host_served_parse_level("O4"), -1);
    assert_int_equal(host_served_parse_level("fast"), -1);
}

static void test_follows_a_replaced_backend(void **state)
{
    fixture_state *f = *state;
    assert_int_equal(host_served_add(f->served, "m", f->g, "counter", 0), AGLM_OK);
    assert_true(run_once(f->served, "m") == 1.0f);
    aglm_plugin_ref *old = host_registry_acquire(f->reg, "counter", 0);
    char *old_copy = mapped_file_of(old);
    host_registry_release(old);

    assert_int_equal(host_registry_replace(f->reg, "counter", fixture("counter_v2")), AGLM_OK);
    /* the follower thread may get there first; either way the model is on v2 after this */
    host_served_follow(f->served, NULL, NULL);
    assert_true(run_once(f->served, "m") == 2.0f);
    assert_int_equal(info_of(f->served, "m").generation, 2);
    /* whichever thread dropped v1's last reference finishes it (stop, destroy, dlclose) */
    for (int i = 0; i < 200 && host_registry_num_draining(f->reg) > 0; i++)
        usleep(10 * 1000);
    assert_int_equal(host_registry_num_draining(f->reg), 0);
    assert_int_equal(is_mapped(old_copy), 0); /* v1 is gone from the process */
    free(old_copy);
    assert_int_equal(host_served_follow(f->served, NULL, NULL), 0); /* nothing left to follow */

    /* a failing replacement: the old version keeps serving, nothing to follow */
    assert_int_not_equal(host_registry_replace(f->reg, "counter", fixture("counter_bad_init")),
                         AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "cannot open its device"));
    assert_int_equal(host_served_follow(f->served, NULL, NULL), 0);
    assert_true(run_once(f->served, "m") == 2.0f);

    /* unload: the model keeps its version (draining) until a recompile names another backend */
    int deferred = 0;
    assert_int_equal(host_registry_unload(f->reg, "counter", &deferred), AGLM_OK);
    assert_int_equal(deferred, 1);
    assert_true(run_once(f->served, "m") == 2.0f);
    assert_int_equal(host_served_follow(f->served, NULL, NULL), 0);
    assert_int_not_equal(host_served_recompile(f->served, "m", NULL, -1, NULL), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "no plugin 'counter'"));
    assert_true(run_once(f->served, "m") == 2.0f);
}

/* The follower thread does it without being asked. */
static void test_follower_thread(void **state)
{
    fixture_state *f = *state;
    assert_int_equal(host_served_add(f->served, "m", f->g, "counter", 0), AGLM_OK);
    assert_int_equal(host_registry_replace(f->reg, "counter", fixture("counter_v2")), AGLM_OK);
    float v = 0;
    for (int i = 0; i < 200 && (v = run_once(f->served, "m")) != 2.0f; i++)
        usleep(10 * 1000);
    assert_true(v == 2.0f);
    for (int i = 0; i < 200 && host_registry_num_draining(f->reg) > 0; i++)
        usleep(10 * 1000);
    assert_int_equal(host_registry_num_draining(f->reg), 0);
}

typedef struct load {
    host_served *served;
    atomic_int stop;
    atomic_long requests, failures;
} load;

static void *client(void *arg)
{
    load *l = arg;
    while (!atomic_load(&l->stop)) {
        float v = run_once(l->served, "m");
        atomic_fetch_add(&l->requests, 1);
        if (v != 1.0f && v != 2.0f)
            atomic_fetch_add(&l->failures, 1);
    }
    return NULL;
}

/* Four clients run without pause while the backend is replaced and the model recompiled: no
 * request fails, and at the end one version is left. */
static void test_swaps_under_load(void **state)
{
    fixture_state *f = *state;
    assert_int_equal(host_served_add(f->served, "m", f->g, "counter", 0), AGLM_OK);
    load l = {.served = f->served};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, client, &l), 0);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(
            host_registry_replace(f->reg, "counter", fixture(i % 2 ? "counter_v1" : "counter_v2")),
            AGLM_OK);
        if (i % 3 == 0)
            assert_int_equal(host_served_recompile(f->served, "m", NULL, i % 4, NULL), AGLM_OK);
        else
            host_served_follow(f->served, NULL, NULL);
    }
    host_served_follow(f->served, NULL, NULL);
    atomic_store(&l.stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&l.failures), 0);
    assert_true(atomic_load(&l.requests) > 0);
    assert_true(run_once(f->served, "m") == 1.0f); /* the last replace (i = 19) put v1 */
    for (int i = 0; i < 200 && host_registry_num_draining(f->reg) > 0; i++)
        usleep(10 * 1000);
    assert_int_equal(host_registry_num_draining(f->reg), 0);
    host_served_info info = info_of(f->served, "m");
    assert_int_equal(info.errors, 0);
    assert_int_equal(info.generation, 21);
}

static void test_infer_files(void **state)
{
    fixture_state *f = *state;
    assert_int_equal(host_served_add(f->served, "m", f->g, "counter", 0), AGLM_OK);
    char *dir = make_temp_dir();
    char in_dir[1024], out_dir[1024], path[1200];
    snprintf(in_dir, sizeof in_dir, "%s/in", dir);
    snprintf(out_dir, sizeof out_dir, "%s/out/deeper", dir);
    mkdir(in_dir, 0700);

    assert_int_not_equal(host_served_infer_files(f->served, "m", in_dir, out_dir, NULL, NULL),
                         AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "missing input file"));
    assert_non_null(strstr(aglm_last_error(), "in/x.npy"));
    assert_int_not_equal(
        host_served_infer_files(f->served, "m", "/nonexistent/in", out_dir, NULL, NULL), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "/nonexistent/in"));

    float one = 1;
    int64_t d = 1;
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, 1, &d, &one);
    snprintf(path, sizeof path, "%s/x.npy", in_dir);
    assert_int_equal(aglm_npy_save(path, &t), AGLM_OK);
    assert_int_equal(host_served_infer_files(f->served, "m", in_dir, out_dir, NULL, NULL), AGLM_OK);
    snprintf(path, sizeof path, "%s/x.npy", out_dir);
    aglm_tensor got;
    assert_int_equal(aglm_npy_load(path, &got), AGLM_OK);
    assert_true(got.rank == 0 && *(float *)got.data == 1.0f);
    aglm_tensor_free(&got);
    assert_int_equal(count_files(out_dir), 1); /* no temporary left behind */
    host_served_info info = info_of(f->served, "m");
    assert_int_equal(info.requests, 3);
    assert_int_equal(info.errors, 2);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serve_run_and_recompile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follows_a_replaced_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follower_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swaps_under_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
