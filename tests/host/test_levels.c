/* Optimisation levels (levels.h) and the pass driver (pass_runner.h): the built-in table,
 * [levels] of aglm.ini and its errors, and running lists and levels with the dce pass loaded
 * through the registry, a missing pass skipped or refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aglm/aglm.h"
#include "levels.h"
#include "pass_runner.h"
#include "registry.h"

static void assert_level(const host_level *lv, const char *const *want, size_t n)
{
    assert_int_equal(lv->count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(lv->passes[i], want[i]);
}

static void test_builtin_table(void **state)
{
    (void)state;
    host_levels l;
    host_levels_defaults(&l);
    static const char *const o1[] = {"fold-constants", "dce"};
    static const char *const o2[] = {
        "fold-constants", "dce", "fold-batchnorm", "fuse", "simplify", "cse", "dce"};
    assert_level(&l.level[0], NULL, 0);
    assert_level(&l.level[1], o1, 2);
    assert_level(&l.level[2], o2, 7);
    assert_level(&l.level[3], o2, 7);
    assert_false(l.level[2].iterate);
    assert_true(l.level[3].iterate);
    assert_false(l.from_config);
}

/* Writes text to a fresh temporary ini and returns its path (static buffer). */
static const char *ini(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/aglm-levels-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_config_levels(void **state)
{
    (void)state;
    const char *path =
        ini("[host]\nlog_level = warn\n[levels]\nO1 = dce\nO2 = O1, cse none\niterate = O1\n");
    host_levels l;
    aglm_status st = host_levels_read(path, &l);
    unlink(path);
    if (st != AGLM_OK)
        fail_msg("%s", aglm_last_error());
    static const char *const o1[] = {"dce"};
    static const char *const o2[] = {"dce", "cse"};
    assert_level(&l.level[0], NULL, 0);
    assert_level(&l.level[1], o1, 1);
    assert_level(&l.level[2], o2, 2);
    assert_level(&l.level[3], o2, 2); /* left out: built from O2, as the built-in O3 is */
    assert_true(l.level[1].iterate);
    assert_false(l.level[3].iterate); /* iterate= replaces the built-in "O3" */
    assert_true(l.from_config);
}

static void expect_bad(const char *text, const char *const *needles)
{
    const char *path = ini(text);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", path);
    host_levels l;
    aglm_status st = host_levels_read(copy, &l);
    unlink(copy);
    assert_int_equal(st, AGLM_ERR_PARSE);
    assert_non_null(strstr(aglm_last_error(), copy));
    for (; *needles; needles++)
        if (!strstr(aglm_last_error(), *needles))
            fail_msg("'%s' lacks '%s'", aglm_last_error(), *needles);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const char *const higher[] = {":3:", "[levels] O2", "'O3' is not a level below O2",
                                         NULL};
    expect_bad("[levels]\nO1 = dce\nO2 = O3, dce\n", higher);
    static const char *const bad_name[] = {":2:", "[levels] O1", "'Fold!'", NULL};
    expect_bad("[levels]\nO1 = Fold!, dce\n", bad_name);
    static const char *const bad_key[] = {":2:", "key 'fast'", NULL};
    expect_bad("[levels]\nfast = dce\n", bad_key);
    static const char *const bad_iter[] = {"iterate", "'O9'", NULL};
    expect_bad("[levels]\niterate = O9\n", bad_iter);
}

static void test_parse_level(void **state)
{
    (void)state;
    assert_int_equal(host_level_parse("O0"), 0);
    assert_int_equal(host_level_parse("o3"), 3);
    assert_int_equal(host_level_parse("2"), 2);
    assert_int_equal(host_level_parse("O4"), -1);
    assert_int_equal(host_level_parse("O22"), -1);
    assert_int_equal(host_print_ir_parse("after-each"), 1);
    assert_int_equal(host_print_ir_parse("none"), 0);
    assert_int_equal(host_print_ir_parse("before"), -1);
}

/* ---- the driver, with dce loaded ------------------------------------------------------- */

typedef struct fixture {
    host_config cfg;
    host_registry *reg;
    aglm_graph *g;
} fixture;

static const char dead_branch[] = "graph dead_branch(%x: f32[2,3]) -> (%y: f32[2,3]) {\n"
                                  "  %y: f32[2,3] = Relu(%x) @relu\n"
                                  "  %s: f32[2,3] = Sigmoid(%x) @unused\n"
                                  "  %t: f32[2,3] = Tanh(%s) @unused2\n"
                                  "}\n";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(host_registry_new(&f->cfg, &f->reg), AGLM_OK);
    if (host_registry_load(f->reg, AGLM_PLUGIN_DIR "/pass-dce.so", NULL) != AGLM_OK)
        fail_msg("loading pass-dce.so: %s", aglm_last_error());
    if (aglm_graph_parse(dead_branch, &f->g) != AGLM_OK)
        fail_msg("parse: %s", aglm_last_error());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    aglm_graph_free(f->g);
    host_registry_free(f->reg);
    free(f);
    host_levels l;
    host_levels_defaults(&l);
    host_levels_set(&l);
    return 0;
}

static void test_run_reports_each_pass(void **state)
{
    fixture *f = *state;
    const char *names[] = {"dce", "no-such-pass"};
    host_pass_run_opts o = {.skip_missing = 1, .iterate = 1, .label = "test"};
    host_pass_report r;
    if (host_pass_run(f->reg, f->g, names, 2, &o, &r) != AGLM_OK)
        fail_msg("%s", aglm_last_error());
    assert_int_equal(aglm_graph_num_nodes(f->g), 1);
    assert_int_equal(r.nodes_before, 3);
    assert_int_equal(r.nodes_after, 1);
    assert_int_equal(r.rounds, 2); /* dce changed the graph in round 1; round 2 changed nothing */
    assert_int_equal(r.num_passes, 2);
    assert_string_equal(r.passes[0].name, "dce");
    assert_int_equal(r.passes[0].round, 1);
    assert_int_equal(r.passes[0].nodes_before, 3);
    assert_int_equal(r.passes[0].nodes_after, 1);
    assert_true(r.passes[0].changed);
    assert_true(r.passes[0].ms >= 0);
    assert_int_equal(r.passes[1].round, 2);
    assert_false(r.passes[1].changed);
    assert_int_equal(r.num_missing, 1);
    assert_string_equal(r.missing[0], "no-such-pass");
    assert_string_equal(r.label, "test");
    host_pass_report_free(&r);
}

static void test_missing_pass_refused_in_a_list(void **state)
{
    fixture *f = *state;
    const char *names[] = {"no-such-pass", "dce"};
    host_pass_report r;
    assert_int_equal(host_pass_run(f->reg, f->g, names, 2, NULL, &r), AGLM_ERR_NOT_FOUND);
    assert_non_null(strstr(aglm_last_error(), "pass 'no-such-pass'"));
    assert_int_equal(aglm_graph_num_nodes(f->g), 3); /* dce after it never ran */
    assert_int_equal(r.num_passes, 0);
    host_pass_report_free(&r);
}

static void test_level_from_the_table(void **state)
{
    fixture *f = *state;
    host_levels l;
    host_levels_defaults(&l);
    snprintf(l.level[2].passes[0], 64, "dce");
    snprintf(l.level[2].passes[1], 64, "absent-pass");
    l.level[2].count = 2;
    host_levels_set(&l);
    host_pass_report r;
    if (host_pass_run_level(f->reg, f->g, 2, NULL, &r) != AGLM_OK)
        fail_msg("%s", aglm_last_error());
    assert_string_equal(r.label, "O2");
    assert_int_equal(r.num_passes, 1); /* not iterated: O2 runs its list once */
    assert_int_equal(r.nodes_after, 1);
    assert_int_equal(r.num_missing, 1);
    assert_string_equal(r.missing[0], "absent-pass");
    host_pass_report_free(&r);

    assert_int_equal(host_pass_run_level(f->reg, f->g, 0, NULL, &r), AGLM_OK);
    assert_int_equal(r.num_passes, 0);
    host_pass_report_free(&r);
    assert_int_equal(host_pass_run_level(f->reg, f->g, 4, NULL, &r), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "level 4"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_table),
        cmocka_unit_test(test_config_levels),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_parse_level),
        cmocka_unit_test_setup_teardown(test_run_reports_each_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_pass_refused_in_a_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_from_the_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
