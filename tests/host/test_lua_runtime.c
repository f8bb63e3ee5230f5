/* The Lua runtime driven directly: exit statuses, the FILE:LINE report, and that executables give
 * their backend references back, whether released, collected, or abandoned by a failing script,
 * so nothing is left draining when host_lua_run_pipeline returns. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "lua_runtime.h"
#include "registry.h"

typedef struct fx {
    host_config cfg;
    host_registry *reg;
    char script[64];
    char err[4096]; /* what the run wrote to stderr */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->cfg.log_level = -1;
    host_log_set_level(AGLM_LOG_ERROR);
    if (host_registry_new(&f->cfg, &f->reg) != AGLM_OK)
        return -1;
    int loaded = 0;
    if (host_registry_load_dir(f->reg, AGLM_PLUGIN_DIR, &loaded, NULL) != AGLM_OK || loaded < 3)
        return -1;
    snprintf(f->script, sizeof f->script, "/tmp/aglm-lua-test-XXXXXX");
    int fd = mkstemp(f->script);
    if (fd < 0)
        return -1;
    close(fd);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    unlink(f->script);
    host_registry_free(f->reg);
    free(f);
    return 0;
}

/* Writes `source` to the script file and runs it with stderr captured in f->err. */
static int run_script(fx *f, const char *source, int argc, char *const *argv)
{
    FILE *s = fopen(f->script, "w");
    assert_non_null(s);
    fputs(source, s);
    fclose(s);

    fflush(stderr);
    int saved = dup(2);
    FILE *cap = tmpfile();
    assert_non_null(cap);
    dup2(fileno(cap), 2);
    int rc = host_lua_run_pipeline(f->reg, f->script, argc, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(cap);
    size_t n = fread(f->err, 1, sizeof f->err - 1, cap);
    f->err[n] = '\0';
    fclose(cap);
    return rc;
}

/* Sum of the references held on every plugin, draining versions included. */
static long total_refs(host_registry *reg)
{
    host_plugin_info *rows = NULL;
    size_t count = 0;
    assert_int_equal(host_registry_list(reg, &rows, &count), AGLM_OK);
    long refs = 0;
    for (size_t i = 0; i < count; i++)
        refs += rows[i].refs;
    free(rows);
    return refs;
}

static void test_success_is_zero(void **state)
{
    fx *f = *state;
    char *argv[] = {"model=m.yaml", "n=3"};
    assert_int_equal(run_script(f,
                                "assert(aglm.args.model == 'm.yaml')\n"
                                "assert((...).n == '3')\n",
                                2, argv),
                     0);
    assert_string_equal(f->err, "");
}

static void test_runtime_error_reports_file_line(void **state)
{
    fx *f = *state;
    assert_int_equal(run_script(f, "local a = 1\n\nerror('it broke')\n", 0, NULL), 1);
    char want[160];
    snprintf(want, sizeof want, "aglm-host: %s:3: it broke\n", f->script);
    assert_string_equal(f->err, want);
}

static void test_syntax_error_reports_file_line(void **state)
{
    fx *f = *state;
    assert_int_equal(run_script(f, "local a = 1\nlocal = 2\n", 0, NULL), 1);
    char want[160];
    snprintf(want, sizeof want, "aglm-host: %s:2: ", f->script);
    assert_non_null(strstr(f->err, want));
}

static void test_aglm_error_names_script_line(void **state)
{
    fx *f = *state;
    assert_int_equal(run_script(f,
                                "\naglm.compile(aglm.load('" AGLM_SOURCE_DIR
                                "/tests/models/add_relu.yaml'), 'nope')\n",
                                0, NULL),
                     1);
    char want[160];
    snprintf(want, sizeof want, "aglm-host: %s:2: compile for 'nope': ", f->script);
    assert_non_null(strstr(f->err, want));
}

/* A script that dies holding executables on a replaced backend: closing the state must release
 * both, so the old version finishes draining and no reference is left. */
static void test_failing_script_releases_executables(void **state)
{
    fx *f = *state;
    int rc = run_script(f,
                        "local g = aglm.load('" AGLM_SOURCE_DIR "/tests/models/add_relu.yaml')\n"
                        "local old = aglm.compile(g, 'cpu')\n"
                        "aglm.replace_plugin('cpu')\n"
                        "local new = aglm.compile(g, 'cpu')\n"
                        "local draining = 0\n"
                        "for _, p in ipairs(aglm.plugins()) do\n"
                        "  if p.state == 'draining' then draining = draining + 1 end\n"
                        "end\n"
                        "assert(draining == 1, 'expected one draining version')\n"
                        "error('stop with both held')\n",
                        0, NULL);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(f->err, "stop with both held"));
    assert_int_equal(host_registry_num_draining(f->reg), 0);
    assert_int_equal(total_refs(f->reg), 0);
}

/* Executables that are neither released nor kept are collected, and their references go. */
static void test_collector_releases_executables(void **state)
{
    fx *f = *state;
    int rc = run_script(f,
                        "local g = aglm.load('" AGLM_SOURCE_DIR "/tests/models/add_relu.yaml')\n"
                        "for i = 1, 50 do aglm.compile(g, 'cpu') end\n"
                        "collectgarbage(); collectgarbage()\n"
                        "for _, p in ipairs(aglm.plugins()) do\n"
                        "  assert(p.refs == 0, p.name .. ' still has ' .. p.refs .. ' refs')\n"
                        "end\n",
                        0, NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(f->err, "");
    assert_int_equal(total_refs(f->reg), 0);
}

/* Released objects raise a clear error rather than touching freed memory. */
static void test_use_after_release_raises(void **state)
{
    fx *f = *state;
    int rc = run_script(f,
                        "local g = aglm.load('" AGLM_SOURCE_DIR "/tests/models/add_relu.yaml')\n"
                        "local x = aglm.compile(g, 'cpu')\n"
                        "x:release(); x:release()\n"
                        "local ok, e = pcall(x.run, x, {})\n"
                        "assert(not ok and e:find('executable was released'), e)\n"
                        "g:release()\n"
                        "ok, e = pcall(g.num_nodes, g)\n"
                        "assert(not ok and e:find('graph was released'), e)\n"
                        "local t = aglm.tensor('f32', {2})\n"
                        "t:release()\n"
                        "t:get(1)\n",
                        0, NULL);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(f->err, ":11: tensor was released"));
    assert_int_equal(total_refs(f->reg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_success_is_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_error_reports_file_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_reports_file_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aglm_error_names_script_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_script_releases_executables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collector_releases_executables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_use_after_release_raises, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
