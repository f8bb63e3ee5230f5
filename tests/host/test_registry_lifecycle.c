/* The lifecycle as a plugin sees it: callback order, rollback order, its config section reaching
 * init, deferred and refused unloads, directory scans in dependency order, look-ups by kind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include "config.h"
#include "host_services.h"
#include "log.h"
#include "registry_fixtures.h"

typedef struct ctx {
    char *tmp;
    char *trace;       /* lifecycle.so's trace file */
    char *start_trace; /* bad_start.so's */
    host_config cfg;
    host_registry *reg;
} ctx;

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof *c);
    c->tmp = make_temp_dir();
    assert_non_null(c->tmp);
    assert_true(asprintf(&c->trace, "%s/lifecycle.trace", c->tmp) > 0);
    assert_true(asprintf(&c->start_trace, "%s/bad_start.trace", c->tmp) > 0);
    char text[4096];
    snprintf(text, sizeof text,
             "[plugin.lifecycle]\n"
             "trace = %s\n"
             "greeting = hello world\n"
             "[plugin.bad_start]\n"
             "trace = %s\n",
             c->trace, c->start_trace);
    char *ini = write_file(c->tmp, "aglm.ini", text);
    assert_int_equal(host_config_load(ini, &c->cfg), AGLM_OK);
    free(ini);
    assert_int_equal(host_registry_new(&c->cfg, &c->reg), AGLM_OK);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    host_registry_free(c->reg);
    host_config_free(&c->cfg);
    remove_temp_dir(c->tmp);
    free(c->tmp);
    free(c->trace);
    free(c->start_trace);
    free(c);
    return 0;
}

static void assert_trace(const char *path, const char *want)
{
    char *got = read_text(path);
    assert_string_equal(got, want);
    free(got);
}

static void test_order_and_config(void **state)
{
    ctx *c = *state;
    char name[64];
    assert_int_equal(host_registry_load(c->reg, fixture("lifecycle"), name), AGLM_OK);
    assert_string_equal(name, "lifecycle");

    char want[4096];
    int n = snprintf(want, sizeof want,
                     "init\nconfig trace=%s\nconfig greeting=hello world\nstart\n", c->trace);
    assert_trace(c->trace, want);

    host_plugin_info row;
    assert_true(find_row(c->reg, "lifecycle", 1, &row));
    assert_int_equal(row.state, HOST_PLUGIN_STARTED);
    assert_int_equal(row.kind, AGLM_KIND_PASS);
    assert_int_equal(row.refs, 0);
    assert_string_equal(row.version, "1.0.0");
    assert_string_equal(row.file, fixture("lifecycle"));

    int deferred = -1;
    assert_int_equal(host_registry_unload(c->reg, "lifecycle", &deferred), AGLM_OK);
    assert_int_equal(deferred, 0);
    snprintf(want + n, sizeof want - (size_t)n, "stop\ndestroy\n");
    assert_trace(c->trace, want);
    assert_int_equal(num_rows(c->reg), 0);
    assert_null(host_registry_acquire(c->reg, "lifecycle", 0));
}

static void test_rollback_on_failing_start(void **state)
{
    ctx *c = *state;
    assert_int_equal(host_registry_load(c->reg, fixture("bad_start"), NULL), AGLM_ERR_STATE);
    assert_non_null(strstr(aglm_last_error(), "the device went away"));
    char want[4096];
    snprintf(want, sizeof want, "init\nconfig trace=%s\nstart-fail\ndestroy\n", c->start_trace);
    assert_trace(c->start_trace, want);
    assert_int_equal(num_rows(c->reg), 0);
}

static void test_host_services(void **state)
{
    ctx *c = *state;
    assert_int_equal(host_registry_load(c->reg, fixture("lifecycle"), NULL), AGLM_OK);
    host_metric *m;
    size_t n;
    assert_int_equal(host_registry_metrics(c->reg, "lifecycle", &m, &n), AGLM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].name, "inits");
    assert_true(m[0].value == 1.0);
    host_metrics_free(m, n);
    assert_int_equal(host_registry_metrics(c->reg, "nope", &m, &n), AGLM_ERR_NOT_FOUND);
}

static void test_unload_referenced_is_deferred(void **state)
{
    ctx *c = *state;
    assert_int_equal(host_registry_load(c->reg, fixture("lifecycle"), NULL), AGLM_OK);
    aglm_plugin_ref *ref = host_registry_acquire(c->reg, "lifecycle", AGLM_KIND_PASS);
    assert_non_null(ref);
    assert_int_equal(host_ref_generation(ref), 1);

    int deferred = -1;
    assert_int_equal(host_registry_unload(c->reg, "lifecycle", &deferred), AGLM_OK);
    assert_int_equal(deferred, 1);
    /* no new look-ups, but the holder's plugin is intact: not stopped yet */
    assert_null(host_registry_acquire(c->reg, "lifecycle", 0));
    assert_non_null(strstr(aglm_last_error(), "no plugin 'lifecycle'"));
    char *trace = read_text(c->trace);
    assert_null(strstr(trace, "stop"));
    free(trace);
    host_plugin_info row;
    assert_true(find_row(c->reg, "lifecycle", 1, &row));
    assert_int_equal(row.state, HOST_PLUGIN_DRAINING);
    assert_int_equal(row.refs, 1);
    assert_int_equal(host_registry_num_draining(c->reg), 1);
    int changed = -1;
    const aglm_pass_ops *ops = host_ref_desc(ref)->ops;
    assert_int_equal(ops->run(host_ref_state(ref), NULL, NULL, &changed), AGLM_OK);

    /* the name is free again while the old version drains */
    assert_int_equal(host_registry_load(c->reg, fixture("lifecycle"), NULL), AGLM_OK);
    assert_true(find_row(c->reg, "lifecycle", 2, &row));
    assert_int_equal(row.state, HOST_PLUGIN_STARTED);

    host_registry_release(ref);
    assert_int_equal(host_registry_num_draining(c->reg), 0);
    assert_false(find_row(c->reg, "lifecycle", 1, &row));
    trace = read_text(c->trace);
    const char *stop = strstr(trace, "stop\ndestroy\n");
    assert_non_null(stop);
    free(trace);
}

static void test_unload_required_is_refused(void **state)
{
    ctx *c = *state;
    assert_int_equal(host_registry_load(c->reg, fixture("needs_base"), NULL), AGLM_ERR_NOT_FOUND);
    assert_int_equal(host_registry_load(c->reg, fixture("base"), NULL), AGLM_OK);
    assert_int_equal(host_registry_load(c->reg, fixture("needs_base"), NULL), AGLM_OK);
    char *before = snapshot(c->reg);

    int deferred = -1;
    assert_int_equal(host_registry_unload(c->reg, "base", &deferred), AGLM_ERR_STATE);
    assert_non_null(strstr(aglm_last_error(), "cannot unload 'base': plugin 'needs_base'"));
    assert_non_null(strstr(aglm_last_error(), "requires it"));
    assert_int_equal(deferred, 0);
    char *after = snapshot(c->reg);
    assert_string_equal(before, after);
    free(before);
    free(after);

    assert_int_equal(host_registry_unload(c->reg, "nope", NULL), AGLM_ERR_NOT_FOUND);
    assert_non_null(strstr(aglm_last_error(), "no plugin 'nope'"));
    assert_int_equal(host_registry_unload(c->reg, "needs_base", NULL), AGLM_OK);
    assert_int_equal(host_registry_unload(c->reg, "base", NULL), AGLM_OK);
    assert_int_equal(num_rows(c->reg), 0);
}

/* Names sort the dependent first and a disabled plugin in between: the scan retries the one
 * whose requirement comes later, skips the disabled one without running its init, and counts
 * the broken file. */
static void test_scan_in_dependency_order(void **state)
{
    ctx *c = *state;
    char *dir = make_temp_dir();
    const char *links[][2] = {
        {"needs_base", "a_needs_base.so"},
        {"lifecycle", "b_lifecycle.so"},
        {"not_elf", "c_not_elf.so"},
        {"base", "z_base.so"},
    };
    for (size_t i = 0; i < 4; i++) {
        char *p;
        assert_true(asprintf(&p, "%s/%s", dir, links[i][1]) > 0);
        assert_int_equal(symlink(fixture(links[i][0]), p), 0);
        free(p);
    }
    char *notes = write_file(dir, "README.txt", "not a plugin, not even named like one\n");
    free(notes);

    host_config cfg;
    char *ini = write_file(c->tmp, "disabled.ini", "[plugin.lifecycle]\nenabled = false\n");
    assert_int_equal(host_config_load(ini, &cfg), AGLM_OK);
    free(ini);
    host_registry *r;
    assert_int_equal(host_registry_new(&cfg, &r), AGLM_OK);

    int loaded = -1, failed = -1;
    assert_int_equal(host_registry_load_dir(r, dir, &loaded, &failed), AGLM_OK);
    assert_int_equal(loaded, 2);
    assert_int_equal(failed, 1);
    host_plugin_info row;
    assert_true(find_row(r, "base", 1, &row));
    assert_true(find_row(r, "needs_base", 1, &row));
    assert_false(find_row(r, "lifecycle", 1, &row));
    assert_int_equal(num_rows(r), 2);
    assert_trace(c->trace, ""); /* disabled: init never ran */

    host_registry_free(r);
    host_config_free(&cfg);
    remove_temp_dir(dir);
    free(dir);
}

static void test_acquire_by_kind(void **state)
{
    ctx *c = *state;
    assert_int_equal(host_registry_load(c->reg, fixture("lifecycle"), NULL), AGLM_OK);
    assert_int_equal(host_registry_load(c->reg, fixture("base"), NULL), AGLM_OK);
    assert_int_equal(host_registry_load(c->reg, fixture("needs_base"), NULL), AGLM_OK);
    assert_int_equal(host_registry_load(c->reg, fixture("counter_v1"), NULL), AGLM_OK);

    assert_null(host_registry_acquire(c->reg, "lifecycle", AGLM_KIND_BACKEND));
    assert_non_null(strstr(aglm_last_error(), "plugin 'lifecycle' is a pass, not a backend"));

    aglm_plugin_ref **refs;
    size_t n;
    assert_int_equal(host_registry_acquire_all(c->reg, AGLM_KIND_PASS, &refs, &n), AGLM_OK);
    assert_int_equal(n, 3);
    assert_string_equal(host_ref_desc(refs[0])->name, "base");
    assert_string_equal(host_ref_desc(refs[1])->name, "lifecycle");
    assert_string_equal(host_ref_desc(refs[2])->name, "needs_base");
    host_plugin_info row;
    assert_true(find_row(c->reg, "needs_base", 1, &row));
    assert_int_equal(row.refs, 1);
    for (size_t i = 0; i < n; i++)
        host_registry_release(refs[i]);
    free(refs);
    assert_true(find_row(c->reg, "needs_base", 1, &row));
    assert_int_equal(row.refs, 0);

    assert_int_equal(host_registry_acquire_all(c->reg, AGLM_KIND_BACKEND, &refs, &n), AGLM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(host_ref_desc(refs[0])->name, "counter");
    host_registry_release(refs[0]);
    free(refs);
    assert_int_equal(host_registry_acquire_all(c->reg, AGLM_KIND_QUANTIZER, &refs, &n), AGLM_OK);
    assert_int_equal(n, 0);
    free(refs);
}

/* Freeing the registry while a reference is held leaves that version loaded; it finishes when
 * the holder lets go. */
static void test_reference_outlives_registry(void **state)
{
    ctx *c = *state;
    assert_int_equal(host_registry_load(c->reg, fixture("lifecycle"), NULL), AGLM_OK);
    assert_int_equal(host_registry_load(c->reg, fixture("counter_v1"), NULL), AGLM_OK);
    aglm_plugin_ref *ref = host_registry_acquire(c->reg, "counter", AGLM_KIND_BACKEND);
    assert_non_null(ref);
    char *copy = mapped_file_of(ref);
    char *dir = folder_of(copy);

    host_registry_free(c->reg);
    c->reg = NULL;
    char *trace = read_text(c->trace);
    assert_non_null(strstr(trace, "stop\ndestroy\n")); /* the unreferenced plugin finished */
    free(trace);
    assert_int_equal(is_mapped(copy), 1);
    aglm_exec *e = counter_compile(ref);
    assert_non_null(e);
    assert_true(counter_run(ref, e) == 1.0f);
    counter_release(ref, e);

    host_registry_release(ref);
    assert_int_equal(is_mapped(copy), 0);
    assert_int_equal(access(copy, F_OK), -1);
    assert_int_equal(access(dir, F_OK), -1); /* the last one out removed the private folder */
    free(copy);
    free(dir);
}

/* Private folders of processes that died without freeing their registry are swept when a
 * registry starts; those of live processes, and anything not made of plugin copies, are not. */
static void test_stale_private_folders_swept(void **state)
{
    ctx *c = *state;
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    assert_true(dead > 0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);

    char *stale, *alive, *foreign;
    assert_true(asprintf(&stale, "%s/aglm-%ld-AbC123", c->tmp, (long)dead) > 0);
    assert_true(asprintf(&alive, "%s/aglm-%ld-XyZ789", c->tmp, (long)getppid()) > 0);
    assert_true(asprintf(&foreign, "%s/aglm-%ld-NotOur", c->tmp, (long)dead) > 0);
    char *dirs[] = {stale, alive, foreign};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mkdir(dirs[i], 0700), 0);
        free(write_file(dirs[i], "old-1.so", "a copy\n"));
    }
    free(write_file(foreign, "notes.txt", "someone else's\n"));

    char *saved = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", c->tmp, 1);
    host_registry *r;
    aglm_status st = host_registry_new(NULL, &r);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    assert_int_equal(st, AGLM_OK);

    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(count_files(alive), 1);
    assert_int_equal(count_files(foreign), 1); /* notes.txt stays, so the folder does */
    /* and the new registry keeps its copies under that TMPDIR */
    assert_int_equal(host_registry_load(r, fixture("counter_v1"), NULL), AGLM_OK);
    aglm_plugin_ref *ref = host_registry_acquire(r, "counter", 0);
    char *copy = mapped_file_of(ref);
    assert_memory_equal(copy, c->tmp, strlen(c->tmp));
    host_registry_release(ref);
    host_registry_free(r);
    assert_int_equal(access(copy, F_OK), -1);
    free(copy);

    for (int i = 1; i < 3; i++) {
        remove_temp_dir(dirs[i]);
        free(dirs[i]);
    }
    free(stale);
}

int main(void)
{
    host_log_set_level(AGLM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_on_failing_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_services, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unload_referenced_is_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unload_required_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_in_dependency_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acquire_by_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_outlives_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_private_folders_swept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
