/* aglm.ini parsing (sections in order, plugin_dirs resolved against the file's folder, errors
 * naming file and line) and the host log's format and level. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "registry_fixtures.h"

static int setup(void **state)
{
    char *dir = make_temp_dir();
    assert_non_null(dir);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    remove_temp_dir(*state);
    free(*state);
    return 0;
}

static void test_full_file(void **state)
{
    const char *dir = *state;
    char *path = write_file(dir, "aglm.ini",
                            "; the host's settings\n"
                            "[host]\n"
                            "plugin_dirs = plugins:/opt/aglm/plugins::more/plugins\n"
                            "log_level = debug\n"
                            "admin_socket = /run/aglm.sock\n"
                            "\n"
                            "[plugin.cpu]\n"
                            "threads = 4   ; inline comment\n"
                            "enabled = true\n"
                            "# another comment\n"
                            "[plugin.dce]\n"
                            "enabled = no\n"
                            "[plugin.cpu]\n"
                            "mode = fast\n"
                            "threads = 8\n");
    host_config cfg;
    assert_int_equal(host_config_load(path, &cfg), AGLM_OK);
    assert_string_equal(cfg.path, path);

    char real[PATH_MAX], want[PATH_MAX + 32];
    assert_non_null(realpath(dir, real));
    assert_int_equal(cfg.num_plugin_dirs, 3);
    snprintf(want, sizeof want, "%s/plugins", real);
    assert_string_equal(cfg.plugin_dirs[0], want);
    assert_string_equal(cfg.plugin_dirs[1], "/opt/aglm/plugins");
    snprintf(want, sizeof want, "%s/more/plugins", real);
    assert_string_equal(cfg.plugin_dirs[2], want);

    assert_int_equal(cfg.log_level, AGLM_LOG_DEBUG);
    assert_string_equal(host_config_get(&cfg, "admin_socket"), "/run/aglm.sock");
    assert_string_equal(host_config_get(&cfg, "log_level"), "debug");
    assert_null(host_config_get(&cfg, "missing"));

    /* sections in the order met; a section opened twice is one section */
    assert_int_equal(cfg.num_plugins, 2);
    assert_string_equal(cfg.plugins[0].name, "cpu");
    assert_string_equal(cfg.plugins[1].name, "dce");
    const host_section *cpu = host_config_plugin(&cfg, "cpu");
    assert_ptr_equal(cpu, &cfg.plugins[0]);
    assert_int_equal(cpu->count, 3);
    assert_string_equal(cpu->items[0].key, "threads");
    assert_string_equal(cpu->items[1].key, "enabled");
    assert_string_equal(cpu->items[2].key, "mode");
    assert_string_equal(host_section_get(cpu, "threads"), "8"); /* the last one wins */
    assert_string_equal(host_section_get(cpu, "mode"), "fast");
    assert_string_equal(host_section_get(host_config_plugin(&cfg, "dce"), "enabled"), "no");
    assert_null(host_config_plugin(&cfg, "yaml"));
    assert_null(host_section_get(NULL, "x"));

    assert_int_equal(host_config_add_dir(&cfg, "build/plugins"), AGLM_OK);
    assert_int_equal(cfg.num_plugin_dirs, 4);
    assert_string_equal(cfg.plugin_dirs[3], "build/plugins");

    host_config_free(&cfg);
    assert_null(cfg.plugins);
    assert_int_equal(cfg.num_plugin_dirs, 0);
    free(path);
}

static void test_relative_ini_path(void **state)
{
    const char *dir = *state;
    char *sub;
    assert_true(asprintf(&sub, "%s/etc", dir) > 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    char *path = write_file(sub, "aglm.ini", "[host]\nplugin_dirs = ../build/plugins\n");
    char cwd[PATH_MAX], real[PATH_MAX], want[PATH_MAX + 32];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);

    host_config cfg;
    aglm_status st = host_config_load("etc/aglm.ini", &cfg);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, AGLM_OK);
    assert_int_equal(cfg.log_level, -1);
    assert_int_equal(cfg.num_plugin_dirs, 1);
    assert_non_null(realpath(sub, real));
    snprintf(want, sizeof want, "%s/../build/plugins", real);
    assert_string_equal(cfg.plugin_dirs[0], want); /* absolute: good after a chdir */
    host_config_free(&cfg);
    unlink(path);
    rmdir(sub);
    free(path);
    free(sub);
}

/* Loads text that must fail; checks the status and that the message has "FILE:LINE: " and
 * `reason`. */
static void expect_error(const char *dir, const char *text, aglm_status want, int line,
                         const char *reason)
{
    char *path = write_file(dir, "bad.ini", text);
    host_config cfg;
    aglm_status st = host_config_load(path, &cfg);
    print_message("error: %s\n", aglm_last_error());
    assert_int_equal(st, want);
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s:%d: ", path, line);
    assert_non_null(strstr(aglm_last_error(), where));
    assert_non_null(strstr(aglm_last_error(), reason));
    assert_null(cfg.plugins); /* nothing half-read is left */
    assert_null(cfg.plugin_dirs);
    free(path);
}

static void test_errors_name_file_and_line(void **state)
{
    const char *dir = *state;
    expect_error(dir, "[host]\nlog_level = info\nthis line has no equals sign\n", AGLM_ERR_PARSE, 3,
                 "syntax error");
    expect_error(dir, "[host]\n[plugin.cpu\nthreads = 2\n", AGLM_ERR_PARSE, 2, "syntax error");
    expect_error(dir, "\n[host]\nlog_level = loud\n", AGLM_ERR_PARSE, 3,
                 "log_level 'loud' is not one of error, warn, info, debug, trace");
    /* the first error wins, whoever found it */
    expect_error(dir, "[host]\nnonsense\nlog_level = loud\n", AGLM_ERR_PARSE, 2, "syntax error");
    expect_error(dir, "[host]\nlog_level = loud\nnonsense\n", AGLM_ERR_PARSE, 2,
                 "log_level 'loud'");
    expect_error(dir, "threads = 2\n[host]\n", AGLM_ERR_PARSE, 1,
                 "key 'threads' is outside any section");
    expect_error(dir, "[plugin.CPU]\nthreads = 2\n", AGLM_ERR_PARSE, 2,
                 "'CPU' is not a plugin name");
    expect_error(dir, "[plugin.cpu]\nenabled = maybe\n", AGLM_ERR_PARSE, 2,
                 "enabled = 'maybe' is not true or false");

    char long_line[1024];
    memset(long_line, 'x', sizeof long_line);
    memcpy(long_line, "[host]\nplugin_dirs = ", 21);
    memcpy(long_line + sizeof long_line - 21, "\n[plugin.cpu]\nx = 1\n", 21);
    expect_error(dir, long_line, AGLM_ERR_PARSE, 2, "line is longer than");
}

static void test_missing_file(void **state)
{
    char *path;
    assert_true(asprintf(&path, "%s/absent.ini", (const char *)*state) > 0);
    host_config cfg;
    assert_int_equal(host_config_load(path, &cfg), AGLM_ERR_IO);
    assert_non_null(strstr(aglm_last_error(), path));
    assert_non_null(strstr(aglm_last_error(), "cannot open"));
    free(path);
}

static void test_empty_and_unknown_sections(void **state)
{
    char *path =
        write_file(*state, "empty.ini", "; nothing but comments\n\n[future]\nkey = value\n");
    host_config cfg;
    assert_int_equal(host_config_load(path, &cfg), AGLM_OK);
    assert_int_equal(cfg.num_plugins, 0);
    assert_int_equal(cfg.num_plugin_dirs, 0);
    assert_int_equal(cfg.num_host_items, 0);
    assert_int_equal(cfg.log_level, -1);
    host_config_free(&cfg);
    free(path);
}

/* ---- log ---------------------------------------------------------------------------------------
 */

/* Runs fn with stderr redirected to a file and returns what it wrote. */
static char *capture_stderr(const char *dir, void (*fn)(void))
{
    char *path;
    assert_true(asprintf(&path, "%s/stderr.txt", dir) > 0);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    dup2(fd, 2);
    close(fd);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *text = read_text(path);
    unlink(path);
    free(path);
    return text;
}

static void log_some_lines(void)
{
    host_log_set_level(AGLM_LOG_INFO);
    host_log(AGLM_LOG_WARN, "cpu", "%d threads requested, %d available", 64, 16);
    host_log(AGLM_LOG_DEBUG, "cpu", "this is filtered out");
    host_log(AGLM_LOG_ERROR, NULL, "no plugin '%s'", "cuda");
    host_log_set_level(AGLM_LOG_TRACE);
    host_log(AGLM_LOG_TRACE, "dce", "now it shows");
    host_log_set_level(AGLM_LOG_ERROR);
    host_log(AGLM_LOG_WARN, "cpu", "quiet again");
    char big[3000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    host_log(AGLM_LOG_ERROR, "yaml", "%s!", big);
}

static void test_log_format_and_level(void **state)
{
    char *out = capture_stderr(*state, log_some_lines);
    char big[3000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *want;
    assert_true(asprintf(&want,
                         "aglm: warn: [cpu] 64 threads requested, 16 available\n"
                         "aglm: error: no plugin 'cuda'\n"
                         "aglm: trace: [dce] now it shows\n"
                         "aglm: error: [yaml] %s!\n",
                         big) > 0);
    assert_string_equal(out, want);
    assert_int_equal(host_log_level(), AGLM_LOG_ERROR);
    free(want);
    free(out);
}

static void test_log_level_names(void **state)
{
    (void)state;
    assert_int_equal(host_log_parse_level("error"), AGLM_LOG_ERROR);
    assert_int_equal(host_log_parse_level("warn"), AGLM_LOG_WARN);
    assert_int_equal(host_log_parse_level("WARNING"), AGLM_LOG_WARN);
    assert_int_equal(host_log_parse_level("info"), AGLM_LOG_INFO);
    assert_int_equal(host_log_parse_level("debug"), AGLM_LOG_DEBUG);
    assert_int_equal(host_log_parse_level("trace"), AGLM_LOG_TRACE);
    assert_int_equal(host_log_parse_level("loud"), -1);
    assert_int_equal(host_log_parse_level(""), -1);
    assert_int_equal(host_log_parse_level(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_ini_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_unknown_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_format_and_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_level_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
