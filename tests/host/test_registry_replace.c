/* Hot replace: an executable compiled by version 1 keeps running version 1's code while version 2
 * serves new look-ups; version 1 is dlclosed and its private copy deleted when the executable and
 * its reference are released. Failed replacements leave the old version serving. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "log.h"
#include "registry_fixtures.h"

static int setup(void **state)
{
    host_registry *r;
    assert_int_equal(host_registry_new(NULL, &r), AGLM_OK);
    assert_int_equal(host_registry_load(r, fixture("counter_v1"), NULL), AGLM_OK);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    host_registry_free(*state);
    return 0;
}

static void test_replace_while_referenced(void **state)
{
    host_registry *r = *state;
    aglm_plugin_ref *old = host_registry_acquire(r, "counter", AGLM_KIND_BACKEND);
    assert_non_null(old);
    assert_int_equal(host_ref_generation(old), 1);
    aglm_exec *old_exec = counter_compile(old);
    assert_non_null(old_exec);
    char *old_copy = mapped_file_of(old);
    assert_non_null(old_copy);
    assert_string_not_equal(old_copy,
                            fixture("counter_v1")); /* a private copy is what got mapped */
    assert_int_equal(is_mapped(old_copy), 1);

    assert_int_equal(host_registry_replace(r, "counter", fixture("counter_v2")), AGLM_OK);

    /* work in flight stays on version 1 */
    assert_true(counter_run(old, old_exec) == 1.0f);
    /* new look-ups get version 2 */
    aglm_plugin_ref *cur = host_registry_acquire(r, "counter", AGLM_KIND_BACKEND);
    assert_non_null(cur);
    assert_int_equal(host_ref_generation(cur), 2);
    assert_ptr_not_equal(host_ref_desc(cur), host_ref_desc(old));
    aglm_exec *cur_exec = counter_compile(cur);
    assert_non_null(cur_exec);
    assert_true(counter_run(cur, cur_exec) == 2.0f);
    assert_true(counter_run(old, old_exec) == 1.0f);

    host_plugin_info row;
    assert_int_equal(num_rows(r), 2);
    assert_true(find_row(r, "counter", 2, &row));
    assert_int_equal(row.state, HOST_PLUGIN_STARTED);
    assert_int_equal(row.refs, 1);
    assert_string_equal(row.file, fixture("counter_v2"));
    assert_string_equal(row.version, "2.0.0");
    assert_true(find_row(r, "counter", 1, &row));
    assert_int_equal(row.state, HOST_PLUGIN_DRAINING);
    assert_int_equal(row.refs, 1);
    assert_string_equal(row.file, fixture("counter_v1"));
    assert_int_equal(host_registry_num_draining(r), 1);

    /* the last reference goes: version 1 is stopped, unmapped and its copy deleted */
    counter_release(old, old_exec);
    assert_int_equal(is_mapped(old_copy), 1);
    host_registry_release(old);
    assert_int_equal(is_mapped(old_copy), 0);
    assert_null(dlopen(old_copy, RTLD_NOLOAD | RTLD_NOW));
    assert_int_equal(access(old_copy, F_OK), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(host_registry_num_draining(r), 0);
    assert_int_equal(num_rows(r), 1);
    assert_false(find_row(r, "counter", 1, &row));

    /* version 2 carries on */
    assert_true(counter_run(cur, cur_exec) == 2.0f);
    counter_release(cur, cur_exec);
    host_registry_release(cur);
    assert_true(serve_once(r, "counter") == 2.0f);
    free(old_copy);
}

static void expect_failed_replace(host_registry *r, const char *path, const char *reason)
{
    char *before = snapshot(r);
    aglm_status st = host_registry_replace(r, "counter", path);
    print_message("refused: %s\n", aglm_last_error());
    assert_int_not_equal(st, AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), path));
    assert_non_null(strstr(aglm_last_error(), reason));
    char *after = snapshot(r);
    assert_string_equal(before, after);
    assert_true(serve_once(r, "counter") == 1.0f);
    free(before);
    free(after);
}

static void test_failed_replace_keeps_old(void **state)
{
    host_registry *r = *state;
    aglm_plugin_ref *ref = host_registry_acquire(r, "counter", 0);
    char *copy = mapped_file_of(ref);
    char *dir = folder_of(copy);
    host_registry_release(ref);

    expect_failed_replace(r, fixture("counter_bad_init"),
                          "init of 'counter' failed: counter: cannot open its device");
    expect_failed_replace(r, fixture("not_elf"), "not an ELF shared object");
    expect_failed_replace(r, fixture("abi_major"), "ABI 2.0, this host speaks 1.1");
    expect_failed_replace(r, fixture("base"),
                          "holds plugin 'base', which cannot replace 'counter'");
    assert_int_equal(count_files(dir), 1); /* no private copy left behind */
    assert_int_equal(is_mapped(copy), 1);

    assert_int_equal(host_registry_replace(r, "nope", fixture("counter_v2")), AGLM_ERR_NOT_FOUND);
    assert_non_null(strstr(aglm_last_error(), "no plugin 'nope'"));
    free(copy);
    free(dir);
}

/* The same file twice, then the file it was loaded from (path NULL): each a fresh mapping. */
static void test_replace_same_path_twice(void **state)
{
    host_registry *r = *state;
    aglm_plugin_ref *a = host_registry_acquire(r, "counter", 0);
    assert_int_equal(host_registry_replace(r, "counter", fixture("counter_v2")), AGLM_OK);
    aglm_plugin_ref *b = host_registry_acquire(r, "counter", 0);
    assert_int_equal(host_registry_replace(r, "counter", fixture("counter_v2")), AGLM_OK);
    aglm_plugin_ref *c = host_registry_acquire(r, "counter", 0);
    assert_int_equal(host_registry_replace(r, "counter", NULL), AGLM_OK);
    aglm_plugin_ref *d = host_registry_acquire(r, "counter", 0);

    assert_int_equal(host_ref_generation(b), 2);
    assert_int_equal(host_ref_generation(c), 3);
    assert_int_equal(host_ref_generation(d), 4);
    aglm_plugin_ref *all[] = {a, b, c, d};
    char *copies[4];
    for (int i = 0; i < 4; i++) {
        copies[i] = mapped_file_of(all[i]);
        assert_int_equal(is_mapped(copies[i]), 1);
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(copies[i], copies[j]);
            assert_ptr_not_equal(host_ref_desc(all[i]), host_ref_desc(all[j]));
        }
    }
    const float want[] = {1, 2, 2, 2};
    for (int i = 0; i < 4; i++) {
        aglm_exec *e = counter_compile(all[i]);
        assert_true(counter_run(all[i], e) == want[i]);
        counter_release(all[i], e);
    }
    host_plugin_info row;
    assert_true(find_row(r, "counter", 4, &row));
    assert_string_equal(row.file, fixture("counter_v2"));
    assert_int_equal(host_registry_num_draining(r), 3);

    for (int i = 0; i < 4; i++)
        host_registry_release(all[i]);
    assert_int_equal(host_registry_num_draining(r), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(is_mapped(copies[i]), 0);
    assert_int_equal(is_mapped(copies[3]), 1);
    for (int i = 0; i < 4; i++)
        free(copies[i]);
}

/* Replace and unload of a referenced version both drain: the unload's completion waits for the
 * holder, the replace's new version is unaffected. */
static void test_unload_after_replace(void **state)
{
    host_registry *r = *state;
    aglm_plugin_ref *v1 = host_registry_acquire(r, "counter", 0);
    assert_int_equal(host_registry_replace(r, "counter", fixture("counter_v2")), AGLM_OK);
    aglm_plugin_ref *v2 = host_registry_acquire(r, "counter", 0);
    int deferred = -1;
    assert_int_equal(host_registry_unload(r, "counter", &deferred), AGLM_OK);
    assert_int_equal(deferred, 1);
    assert_int_equal(host_registry_num_draining(r), 2);
    assert_null(host_registry_acquire(r, "counter", 0));
    assert_int_equal(host_registry_replace(r, "counter", fixture("counter_v2")),
                     AGLM_ERR_NOT_FOUND);
    aglm_exec *e = counter_compile(v2);
    assert_true(counter_run(v2, e) == 2.0f);
    counter_release(v2, e);
    host_registry_release(v2);
    assert_int_equal(host_registry_num_draining(r), 1);
    host_registry_release(v1);
    assert_int_equal(num_rows(r), 0);
}

/* ---- threads --------------------------------------------------------------------------------- */

typedef struct worker {
    host_registry *reg;
    atomic_int *stop;
    long iterations;
    long failures; /* look-up failures and wrong results */
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    while ((!atomic_load(w->stop) || w->iterations == 0) && w->failures < 1000) {
        aglm_plugin_ref *ref = host_registry_acquire(w->reg, "counter", AGLM_KIND_BACKEND);
        if (!ref) {
            w->failures++;
            continue;
        }
        /* odd generations came from counter_v1.so, even ones from counter_v2.so */
        float want = host_ref_generation(ref) % 2 ? 1.0f : 2.0f;
        aglm_exec *e = counter_compile(ref);
        if (!e || counter_run(ref, e) != want)
            w->failures++;
        if (e)
            counter_release(ref, e);
        host_registry_release(ref);
        w->iterations++;
    }
    return NULL;
}

static void test_threads_replace_under_load(void **state)
{
    host_registry *r = *state;
    atomic_int stop = 0;
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.reg = r, .stop = &stop};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    int replaced = 0;
    for (int i = 0; i < 20; i++)
        replaced += host_registry_replace(r, "counter",
                                          fixture(i % 2 ? "counter_v1" : "counter_v2")) == AGLM_OK;
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(replaced, 20);
    for (int i = 0; i < 4; i++) {
        print_message("worker %d: %ld look-ups, %ld failures\n", i, w[i].iterations, w[i].failures);
        assert_true(w[i].iterations > 0);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(host_registry_num_draining(r), 0);
    host_plugin_info row;
    assert_int_equal(num_rows(r), 1);
    assert_true(find_row(r, "counter", 21, &row));
    assert_int_equal(row.refs, 0);
    assert_true(serve_once(r, "counter") == 1.0f);
}

int main(void)
{
    host_log_set_level(AGLM_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace_while_referenced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_replace_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_same_path_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unload_after_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_replace_under_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
