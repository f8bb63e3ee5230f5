/* The admin command parser: words, quotes, options, and every malformed line refused with a
 * message that names what is wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_parse.h"

static host_admin_request req;

static aglm_status parse(const char *line)
{
    return host_admin_parse(line, strlen(line), &req);
}

static void expect_error(const char *line, const char *needle)
{
    aglm_status st = parse(line);
    if (st == AGLM_OK || !strstr(aglm_last_error(), needle))
        fail_msg("'%s': status %d, message '%s', expected one naming '%s'", line, st,
                 aglm_last_error(), needle);
}

static void test_every_command_parses(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        host_admin_op op;
        int npos, nopt;
    } cases[] = {
        {"help", HOST_ADMIN_HELP, 0, 0},
        {"help infer", HOST_ADMIN_HELP, 1, 0},
        {"plugins", HOST_ADMIN_PLUGINS, 0, 0},
        {"load /p/x.so", HOST_ADMIN_LOAD, 1, 0},
        {"unload cpu", HOST_ADMIN_UNLOAD, 1, 0},
        {"replace cpu", HOST_ADMIN_REPLACE, 1, 0},
        {"replace cpu /p/cpu.so", HOST_ADMIN_REPLACE, 2, 0},
        {"models", HOST_ADMIN_MODELS, 0, 0},
        {"infer m inputs=/in outdir=/out", HOST_ADMIN_INFER, 1, 2},
        {"infer m outdir=/out inputs=/in", HOST_ADMIN_INFER, 1, 2},
        {"recompile m", HOST_ADMIN_RECOMPILE, 1, 0},
        {"recompile m backend=cpu level=O2", HOST_ADMIN_RECOMPILE, 1, 2},
        {"run s.lua", HOST_ADMIN_RUN, 1, 0},
        {"run s.lua a=1 b=x=y", HOST_ADMIN_RUN, 1, 2},
        {"stats", HOST_ADMIN_STATS, 0, 0},
        {"log-level", HOST_ADMIN_LOG_LEVEL, 0, 0},
        {"log-level debug", HOST_ADMIN_LOG_LEVEL, 1, 0},
        {"shutdown", HOST_ADMIN_SHUTDOWN, 0, 0},
        {"  \tstats \t ", HOST_ADMIN_STATS, 0, 0},
        {"stats\r", HOST_ADMIN_STATS, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (parse(cases[i].line) != AGLM_OK)
            fail_msg("'%s': %s", cases[i].line, aglm_last_error());
        assert_int_equal(req.cmd->op, cases[i].op);
        assert_int_equal(req.npos, cases[i].npos);
        assert_int_equal(req.nopt, cases[i].nopt);
    }
    assert_int_equal(parse("run s.lua a=1 b=x=y"), AGLM_OK);
    assert_string_equal(host_admin_option(&req, "b"), "x=y");
    assert_string_equal(req.pos[0], "s.lua");
}

static void test_quotes(void **state)
{
    (void)state;
    assert_int_equal(parse("load \"/my plugins/a.so\""), AGLM_OK);
    assert_string_equal(req.pos[0], "/my plugins/a.so");
    assert_int_equal(parse("run \"a \\\"b\\\" \\\\ c.lua\" \"x=1 2\""), AGLM_OK);
    assert_string_equal(req.pos[0], "a \"b\" \\ c.lua");
    assert_string_equal(host_admin_option(&req, "x"), "1 2");
    /* a backslash outside quotes, or before another character, is itself */
    assert_int_equal(parse("load a\\b.so"), AGLM_OK);
    assert_string_equal(req.pos[0], "a\\b.so");
    /* the request keeps its words after the line is gone */
    char *line = strdup("unload cpu");
    assert_int_equal(host_admin_parse(line, strlen(line), &req), AGLM_OK);
    memset(line, 'x', strlen(line));
    free(line);
    assert_string_equal(req.pos[0], "cpu");
}

static void test_malformed_lines(void **state)
{
    (void)state;
    expect_error("", "empty command");
    expect_error("   \t ", "empty command");
    expect_error("frobnicate now", "unknown command 'frobnicate'");
    expect_error("HELP", "unknown command 'HELP'");
    expect_error("load", "load: missing argument (usage: load PATH)");
    expect_error("unload", "missing argument");
    expect_error("plugins all", "plugins: extra argument 'all'");
    expect_error("unload a b", "unload: extra argument 'b'");
    expect_error("replace a b c", "replace: extra argument 'c'");
    expect_error("shutdown now", "shutdown: extra argument 'now'");
    expect_error("infer m", "infer: missing option inputs=");
    expect_error("infer m inputs=/in", "infer: missing option outdir=");
    expect_error("infer inputs=/in outdir=/o", "infer: missing argument");
    expect_error("infer m inputs=/in outdir=/o color=red", "infer: unknown option 'color'");
    expect_error("infer m inputs=/in inputs=/x outdir=/o", "option 'inputs' given twice");
    expect_error("infer m inputs= outdir=/o", "option inputs= has no value");
    expect_error("infer m /in /out", "infer: extra argument '/in'");
    expect_error("recompile m level", "recompile: extra argument 'level'");
    expect_error("run s.lua loose", "run: extra argument 'loose'");
    expect_error("load \"/a b.so", "unterminated quote");
    expect_error("load a\x01.so", "control character 0x01 at column 7");
    expect_error("load a\x7f.so", "control character 0x7f");
    expect_error("help\nshutdown", "control character 0x0a");
}

static void test_embedded_nul_and_limits(void **state)
{
    (void)state;
    const char with_nul[] = "load a\0b.so";
    assert_int_not_equal(host_admin_parse(with_nul, sizeof with_nul - 1, &req), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "control character 0x00"));

    char *line = malloc(HOST_ADMIN_LINE_MAX + 2);
    memset(line, 'a', HOST_ADMIN_LINE_MAX + 1);
    memcpy(line, "load ", 5);
    assert_int_equal(host_admin_parse(line, HOST_ADMIN_LINE_MAX, &req),
                     AGLM_OK); /* exactly 4 KiB */
    assert_int_equal(strlen(req.pos[0]), HOST_ADMIN_LINE_MAX - 5);
    assert_int_not_equal(host_admin_parse(line, HOST_ADMIN_LINE_MAX + 1, &req), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "line too long (4097 bytes, at most 4096)"));

    /* 64 words are fine (run SCRIPT and 62 options), 65 are not */
    size_t len = 0;
    len += (size_t)sprintf(line + len, "run s.lua");
    for (int i = 0; i < 62; i++)
        len += (size_t)sprintf(line + len, " k%d=v", i);
    assert_int_equal(host_admin_parse(line, len, &req), AGLM_OK);
    assert_int_equal(req.nopt, 62);
    len += (size_t)sprintf(line + len, " k62=v");
    assert_int_not_equal(host_admin_parse(line, len, &req), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "too many words (at most 64)"));
    free(line);
}

static void test_quoted_words_fill_the_buffer(void **state)
{
    (void)state;
    /* 64 empty quoted words: the most terminators a line can ask for */
    char line[HOST_ADMIN_LINE_MAX];
    size_t len = (size_t)sprintf(line, "run \"\"");
    for (int i = 0; i < 62; i++)
        len += (size_t)sprintf(line + len, " \"k%d=v\"", i);
    assert_int_equal(host_admin_parse(line, len, &req), AGLM_OK);
    assert_string_equal(req.pos[0], "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_command_parses),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_embedded_nul_and_limits),
        cmocka_unit_test(test_quoted_words_fill_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
