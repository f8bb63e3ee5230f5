/* SIGHUP's reload (host_config_reload): a changed [plugin.NAME] section re-initialises that plugin
 * and only it, the log level and the watched folders follow the file, unload_on_remove changes
 * live, and a broken file or a failing re-init changes nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "log.h"
#include "reload.h"
#include "watch_fixtures.h"

typedef struct ctx {
    char *dir; /* the ini, the trace and two plugin folders */
    char ini[2048], trace[2048], d1[2048], d2[2048];
    host_config base; /* the caller's original config */
    host_config *cfg; /* the current one */
    host_registry *reg;
    host_watch *watch;
} ctx;

static void write_ini(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void write_ini(ctx *c, const char *fmt, ...)
{
    FILE *f = fopen(c->ini, "w");
    assert_non_null(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->dir = make_temp_dir();
    assert_non_null(c->dir);
    snprintf(c->ini, sizeof c->ini, "%s/aglm.ini", c->dir);
    snprintf(c->trace, sizeof c->trace, "%s/trace.txt", c->dir);
    snprintf(c->d1, sizeof c->d1, "%s/d1", c->dir);
    snprintf(c->d2, sizeof c->d2, "%s/d2", c->dir);
    assert_int_equal(mkdir(c->d1, 0700), 0);
    assert_int_equal(mkdir(c->d2, 0700), 0);
    write_ini(c,
              "[host]\nplugin_dirs = d1\nlog_level = info\n[plugin.lifecycle]\ntrace = %s\nx = 1\n",
              c->trace);
    assert_int_equal(host_config_load(c->ini, &c->base), AGLM_OK);
    c->cfg = &c->base;
    host_log_set_level(AGLM_LOG_INFO);
    assert_int_equal(host_registry_new(c->cfg, &c->reg), AGLM_OK);
    assert_int_equal(host_registry_load(c->reg, fixture("lifecycle"), NULL), AGLM_OK);
    assert_int_equal(host_registry_load(c->reg, fixture("counter_v1"), NULL), AGLM_OK);
    c->watch = host_watch_start(c->reg, c->cfg);
    assert_non_null(c->watch);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    host_watch_stop(c->watch);
    host_registry_free(c->reg);
    host_config_reload_fini();
    host_config_free(&c->base);
    remove_temp_dir(c->d1);
    remove_temp_dir(c->d2);
    remove_temp_dir(c->dir);
    free(c->dir);
    free(c);
    host_log_set_level(AGLM_LOG_INFO);
    return 0;
}

static void test_changed_section_reinitialises_that_plugin(void **state)
{
    ctx *c = *state;
    write_ini(c,
              "[host]\nplugin_dirs = d1\nlog_level = info\n[plugin.lifecycle]\ntrace = %s\nx = 2\n",
              c->trace);
    assert_int_equal(host_config_reload(c->reg, &c->cfg, NULL), AGLM_OK);
    assert_ptr_not_equal(c->cfg, &c->base);
    assert_string_equal(host_section_get(host_config_plugin(c->cfg, "lifecycle"), "x"), "2");
    assert_int_equal(started_gen(c->reg, "lifecycle"), 2);
    assert_int_equal(started_gen(c->reg, "counter"), 1); /* its (absent) section did not change */
    char *trace = read_text(c->trace);
    char want[8192];
    snprintf(want, sizeof want,
             "init\nconfig trace=%s\nconfig x=1\nstart\n" /* first load */
             "init\nconfig trace=%s\nconfig x=2\nstart\n" /* the new version sees the new section */
             "stop\ndestroy\n",                           /* then the old one drains */
             c->trace, c->trace);
    assert_string_equal(trace, want);
    free(trace);

    /* the same file again: nothing changed, nothing is re-initialised */
    assert_int_equal(host_config_reload(c->reg, &c->cfg, NULL), AGLM_OK);
    assert_int_equal(started_gen(c->reg, "lifecycle"), 2);
}

static void test_broken_file_changes_nothing(void **state)
{
    ctx *c = *state;
    char *before = snapshot(c->reg);
    write_ini(c, "[host]\nlog_level = debug\n[plugin.lifecycle\ntrace = %s\n", c->trace);
    assert_int_equal(host_config_reload(c->reg, &c->cfg, NULL), AGLM_ERR_PARSE);
    assert_non_null(strstr(aglm_last_error(), "aglm.ini:3"));
    assert_ptr_equal(c->cfg, &c->base);
    assert_int_equal(host_log_level(), AGLM_LOG_INFO);
    char *after = snapshot(c->reg);
    assert_string_equal(after, before);
    free(before);
    free(after);

    write_ini(c, "[host]\nlog_level = loud\n");
    assert_int_equal(host_config_reload(c->reg, &c->cfg, NULL), AGLM_ERR_PARSE);
    assert_non_null(strstr(aglm_last_error(), "loud"));
    assert_ptr_equal(c->cfg, &c->base);

    char missing[2100];
    snprintf(missing, sizeof missing, "%s/gone.ini", c->dir);
    assert_int_equal(host_config_reload(c->reg, &c->cfg, missing), AGLM_ERR_IO);
    assert_non_null(strstr(aglm_last_error(), "gone.ini"));
}

static void test_log_level_follows_the_file(void **state)
{
    ctx *c = *state;
    /* set at run time (--log-level, the admin socket): an unchanged file leaves it alone */
    host_log_set_level(AGLM_LOG_ERROR);
    assert_int_equal(host_config_reload(c->reg, &c->cfg, NULL), AGLM_OK);
    assert_int_equal(host_log_level(), AGLM_LOG_ERROR);
    write_ini(
        c, "[host]\nplugin_dirs = d1\nlog_level = debug\n[plugin.lifecycle]\ntrace = %s\nx = 1\n",
        c->trace);
    assert_int_equal(host_config_reload(c->reg, &c->cfg, NULL), AGLM_OK);
    assert_int_equal(host_log_level(), AGLM_LOG_DEBUG);
    assert_int_equal(started_gen(c->reg, "lifecycle"), 1);
}

static void test_plugin_dirs_follow_the_file(void **state)
{
    ctx *c = *state;
    assert_int_equal(host_registry_unload(c->reg, "counter", NULL), AGLM_OK);
    char in_d2[2100];
    snprintf(in_d2, sizeof in_d2, "%s/counter.so", c->d2);
    assert_int_equal(copy_file(fixture("counter_v1"), in_d2), 0);

    /* d2 added: scanned now, and watched from now on */
    write_ini(
        c, "[host]\nplugin_dirs = d1:d2\nlog_level = info\n[plugin.lifecycle]\ntrace = %s\nx = 1\n",
        c->trace);
    assert_int_equal(host_config_reload_watched(c->reg, c->watch, &c->cfg, NULL), AGLM_OK);
    assert_int_equal(started_gen(c->reg, "counter"), 2);
    assert_string_equal(started_file(c->reg, "counter"), in_d2);
    assert_int_equal(deploy_file(fixture("counter_v2"), c->d2, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 3));
    assert_true(serve_once(c->reg, "counter") == 2.0f);

    /* d1 dropped: no longer watched (d2's sentinel proves the drop into d1 was seen and ignored) */
    write_ini(c,
              "[host]\nplugin_dirs = d2\nlog_level = info\n[plugin.lifecycle]\ntrace = %s\nx = 1\n",
              c->trace);
    assert_int_equal(host_config_reload_watched(c->reg, c->watch, &c->cfg, NULL), AGLM_OK);
    assert_int_equal(deploy_file(fixture("counter_v1"), c->d1, "counter.so"), 0);
    assert_true(sync_watcher(c->reg, c->d2));
    assert_int_equal(started_gen(c->reg, "counter"), 3);
    assert_true(serve_once(c->reg, "counter") == 2.0f);
}

static void test_unload_on_remove_changes_live(void **state)
{
    ctx *c = *state;
    assert_int_equal(deploy_file(fixture("counter_v2"), c->d1, "counter.so"), 0);
    assert_true(wait_gen(c->reg, "counter", 2));
    write_ini(c,
              "[host]\nplugin_dirs = d1\nunload_on_remove = true\n[plugin.lifecycle]\ntrace = "
              "%s\nx = 1\n",
              c->trace);
    assert_int_equal(host_config_reload_watched(c->reg, c->watch, &c->cfg, NULL), AGLM_OK);
    char path[2100];
    snprintf(path, sizeof path, "%s/counter.so", c->d1);
    assert_int_equal(unlink(path), 0);
    assert_true(wait_gen(c->reg, "counter", 0));
}

static void test_disabled_section_unloads(void **state)
{
    ctx *c = *state;
    write_ini(c, "[host]\nplugin_dirs = d1\n[plugin.lifecycle]\ntrace = %s\nenabled = false\n",
              c->trace);
    assert_int_equal(host_config_reload(c->reg, &c->cfg, NULL), AGLM_OK);
    assert_int_equal(started_gen(c->reg, "lifecycle"), 0);
    assert_int_equal(started_gen(c->reg, "counter"), 1);
}

static void test_failed_reinit_keeps_old_version(void **state)
{
    ctx *c = *state;
    /* without its trace key the fixture's init fails */
    write_ini(c, "[host]\nplugin_dirs = d1\n[plugin.lifecycle]\nx = 3\n");
    assert_int_equal(host_config_reload(c->reg, &c->cfg, NULL), AGLM_OK);
    assert_int_equal(started_gen(c->reg, "lifecycle"), 1);
    assert_int_equal(num_rows(c->reg), 2);
    char *trace = read_text(c->trace);
    assert_null(strstr(trace, "stop")); /* the old version never stopped */
    free(trace);
}

static void test_refuses_null(void **state)
{
    ctx *c = *state;
    assert_int_equal(host_config_reload(NULL, &c->cfg, NULL), AGLM_ERR_INVALID);
    assert_int_equal(host_config_reload(c->reg, NULL, NULL), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "host_config_reload"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changed_section_reinitialises_that_plugin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_broken_file_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_level_follows_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_dirs_follow_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unload_on_remove_changes_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_section_unloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_reinit_keeps_old_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_null, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
