/* The plugin directory watcher: files renamed or written into a watched folder load or replace
 * their plugin; half-written, broken and failing files change nothing; removals unload only when
 * the config says so; the thread stops promptly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "log.h"
#include "watch_fixtures.h"

typedef struct ctx {
    char *dir;
    host_config cfg;
    host_registry *reg;
    host_watch *watch;
    char path[2048]; /* dir/counter.so */
} ctx;

static int start(void **state, const char *unload_on_remove)
{
    ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->dir = make_temp_dir();
    assert_non_null(c->dir);
    c->cfg.log_level = -1;
    assert_int_equal(host_config_add_dir(&c->cfg, c->dir), AGLM_OK);
    if (unload_on_remove) {
        c->cfg.host_items = calloc(1, sizeof *c->cfg.host_items);
        c->cfg.host_items[0].key = strdup("unload_on_remove");
        c->cfg.host_items[0].value = strdup(unload_on_remove);
        c->cfg.num_host_items = 1;
    }
    assert_int_equal(host_registry_new(&c->cfg, &c->reg), AGLM_OK);
    c->watch = host_watch_start(c->reg, &c->cfg);
    assert_non_null(c->watch);
    snprintf(c->path, sizeof c->path, "%s/counter.so", c->dir);
    *state = c;
    return 0;
}

static int setup(void **state)
{
    return start(state, NULL);
}

static int setup_unload(void **state)
{
    return start(state, "true");
}

static int teardown(void **state)
{
    ctx *c = *state;
    host_watch_stop(c->watch);
    host_registry_free(c->reg);
    host_config_free(&c->cfg);
    remove_temp_dir(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

static void test_renamed_in_loads(void **state)
{
    ctx *c = *state;
    assert_int_equal(started_gen(c->reg, "counter"), 0);
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    assert_string_equal(started_file(c->reg, "counter"), c->path);
    assert_true(serve_once(c->reg, "counter") == 1.0f);
}

static void test_written_in_place_replaces(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    /* cp over the loaded file: safe, the running version is mapped from a private copy */
    assert_int_equal(copy_file(fixture("counter_v2"), c->path), 0);
    assert_true(wait_gen(c->reg, "counter", 2));
    assert_true(serve_once(c->reg, "counter") == 2.0f);
    assert_true(wait_no_draining(c->reg));
}

static void test_other_file_same_name_replaces(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    /* the plugin's name decides, not the file's */
    assert_int_equal(deploy_file(fixture("counter_v2"), c->dir, "counter-2.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 2));
    char want[2048];
    snprintf(want, sizeof want, "%s/counter-2.so", c->dir);
    assert_string_equal(started_file(c->reg, "counter"), want);
    assert_true(serve_once(c->reg, "counter") == 2.0f);
    assert_true(wait_no_draining(c->reg));
    assert_int_equal(num_rows(c->reg), 1);
}

static void test_slow_write_loads_only_when_closed(void **state)
{
    ctx *c = *state;
    size_t len = 0;
    char *data = slurp(fixture("counter_v1"), &len);
    assert_non_null(data);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    assert_true(fd >= 0);
    size_t chunk = len / 8 + 1, done = 0;
    for (int i = 0; i < 4; i++) {
        ssize_t w = write(fd, data + done, chunk);
        assert_true(w > 0);
        done += (size_t)w;
        sleep_ms(30);
    }
    /* half of it on disk, created and modified: nothing may load yet */
    assert_true(sync_watcher(c->reg, c->dir));
    assert_int_equal(started_gen(c->reg, "counter"), 0);
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        assert_true(w > 0);
        done += (size_t)w;
    }
    assert_int_equal(close(fd), 0);
    free(data);
    assert_true(wait_gen(c->reg, "counter", 1));
    assert_true(serve_once(c->reg, "counter") == 1.0f);
}

static void test_truncated_file_is_refused(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    char *before = snapshot(c->reg);
    /* a writer that closed half-way (a full disk, a killed copy) */
    size_t len = 0;
    char *data = slurp(fixture("counter_v2"), &len);
    assert_non_null(data);
    assert_int_equal(write_bytes(c->path, data, len / 2), 0);
    free(data);
    assert_true(sync_watcher(c->reg, c->dir));
    char *after = snapshot(c->reg);
    assert_string_equal(after, before);
    assert_true(serve_once(c->reg, "counter") == 1.0f);
    free(before);
    free(after);
}

static void test_bad_files_change_nothing(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    char *before = snapshot(c->reg);
    /* a replacement whose init fails, a text file, a plugin with a bad ABI */
    assert_int_equal(deploy_file(fixture("counter_bad_init"), c->dir, "counter.so"), 0);
    assert_int_equal(deploy_file(fixture("not_elf"), c->dir, "notes.so"), 0);
    assert_int_equal(deploy_file(fixture("abi_major"), c->dir, "abi.so"), 0);
    /* names the watcher ignores: not *.so, or hidden */
    assert_int_equal(deploy_file(fixture("counter_v2"), c->dir, "counter.so.bak"), 0);
    char hidden[2048];
    snprintf(hidden, sizeof hidden, "%s/.counter.so", c->dir);
    assert_int_equal(copy_file(fixture("counter_v2"), hidden), 0);
    assert_true(sync_watcher(c->reg, c->dir));
    char *after = snapshot(c->reg);
    assert_string_equal(after, before);
    assert_true(serve_once(c->reg, "counter") == 1.0f);
    free(before);
    free(after);
}

static void test_failed_replace_keeps_old_serving(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v2"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    assert_int_equal(deploy_file(fixture("counter_bad_init"), c->dir, "counter.so"), 0);
    assert_true(sync_watcher(c->reg, c->dir));
    assert_int_equal(started_gen(c->reg, "counter"), 1);
    assert_true(serve_once(c->reg, "counter") == 2.0f);
    assert_int_equal(num_rows(c->reg), 1);
}

static void test_removal_keeps_plugin_by_default(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    assert_int_equal(unlink(c->path), 0);
    assert_true(sync_watcher(c->reg, c->dir));
    assert_int_equal(started_gen(c->reg, "counter"), 1);
    assert_true(serve_once(c->reg, "counter") == 1.0f);
}

static void test_removal_unloads_when_configured(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    /* a file no plugin came from: nothing to unload */
    assert_int_equal(deploy_file(fixture("not_elf"), c->dir, "other.so"), 0);
    char other[2048];
    snprintf(other, sizeof other, "%s/other.so", c->dir);
    assert_int_equal(unlink(other), 0);
    assert_true(sync_watcher(c->reg, c->dir));
    assert_int_equal(started_gen(c->reg, "counter"), 1);

    /* held while it goes: the name disappears at once, the code stays until release */
    aglm_plugin_ref *ref = host_registry_acquire(c->reg, "counter", AGLM_KIND_BACKEND);
    assert_non_null(ref);
    assert_int_equal(unlink(c->path), 0);
    assert_true(wait_gen(c->reg, "counter", 0));
    assert_int_equal(host_registry_num_draining(c->reg), 1);
    aglm_exec *e = counter_compile(ref);
    assert_non_null(e);
    assert_true(counter_run(ref, e) == 1.0f);
    counter_release(ref, e);
    host_registry_release(ref);
    assert_int_equal(num_rows(c->reg), 0);
}

static void test_moved_away_unloads_when_configured(void **state)
{
    ctx *c = *state;
    char *elsewhere = make_temp_dir();
    assert_non_null(elsewhere);
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    char away[2048];
    snprintf(away, sizeof away, "%s/counter.so", elsewhere);
    assert_int_equal(rename(c->path, away), 0);
    assert_true(wait_gen(c->reg, "counter", 0));
    assert_true(wait_no_draining(c->reg));
    assert_int_equal(num_rows(c->reg), 0);
    remove_temp_dir(elsewhere);
    free(elsewhere);
}

static void test_rename_within_keeps_serving(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    /* even with unload_on_remove, a rename inside the folder is not a removal */
    char renamed[2048];
    snprintf(renamed, sizeof renamed, "%s/counter-renamed.so", c->dir);
    assert_int_equal(rename(c->path, renamed), 0);
    assert_true(wait_gen(c->reg, "counter", 2));
    assert_string_equal(started_file(c->reg, "counter"), renamed);
}

static void test_added_dir_is_watched(void **state)
{
    ctx *c = *state;
    char *extra = make_temp_dir();
    assert_non_null(extra);
    assert_int_equal(host_watch_add_dir(c->watch, extra), AGLM_OK);
    assert_int_equal(host_watch_add_dir(c->watch, extra), AGLM_OK); /* twice is once */
    assert_int_equal(deploy_file(fixture("counter_v1"), extra, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));

    char missing[2048];
    snprintf(missing, sizeof missing, "%s/no-such-dir", extra);
    assert_int_equal(host_watch_add_dir(c->watch, missing), AGLM_ERR_NOT_FOUND);
    assert_non_null(strstr(aglm_last_error(), "no-such-dir"));
    remove_temp_dir(extra);
    free(extra);
}

static void test_stop_is_prompt_and_repeatable(void **state)
{
    ctx *c = *state;
    struct timespec t0, t1;
    for (int i = 0; i < 3; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        host_watch_stop(c->watch);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        assert_true(s < 5.0);
        c->watch = host_watch_start(c->reg, &c->cfg);
        assert_non_null(c->watch);
    }
    /* the restarted watcher still works */
    assert_int_equal(deploy_file(fixture("counter_v1"), c->dir, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 1));
    host_watch_stop(NULL);
}

static void test_start_refuses_null(void **state)
{
    ctx *c = *state;
    assert_null(host_watch_start(NULL, &c->cfg));
    assert_non_null(strstr(aglm_last_error(), "host_watch_start"));
}

int main(void)
{
    host_log_set_level(AGLM_LOG_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_renamed_in_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_written_in_place_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_file_same_name_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_write_loads_only_when_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_replace_keeps_old_serving, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_keeps_plugin_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_unloads_when_configured, setup_unload,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_moved_away_unloads_when_configured, setup_unload,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rename_within_keeps_serving, setup_unload, teardown),
        cmocka_unit_test_setup_teardown(test_added_dir_is_watched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_is_prompt_and_repeatable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_refuses_null, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
