/* Key=value options and their typed look-ups. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "aglm/aglm.h"

#define OPTS(...)                                                                                  \
    static const aglm_kv items_[] = {__VA_ARGS__};                                                 \
    const aglm_options opts = {sizeof items_ / sizeof items_[0], items_}

static void test_get_last_wins(void **state)
{
    (void)state;
    OPTS({"model", "a.yaml"}, {"threads", "2"}, {NULL, "stray"}, {"model", "b.yaml"});
    assert_string_equal(aglm_options_get(&opts, "model"), "b.yaml");
    assert_string_equal(aglm_options_get(&opts, "threads"), "2");
    assert_null(aglm_options_get(&opts, "absent"));
    assert_null(aglm_options_get(&opts, "Model")); /* keys are case-sensitive */
    assert_null(aglm_options_get(NULL, "model"));
    const aglm_options empty = {3, NULL};
    assert_null(aglm_options_get(&empty, "model"));
}

static void test_get_int(void **state)
{
    (void)state;
    OPTS({"a", "42"}, {"b", "-7"}, {"c", "12abc"}, {"d", ""}, {"e", "0x10"}, {"f", "010"},
         {"g", "99999999999999999999"}, {"h", "-9223372036854775808"}, {"i", "1.5"}, {"j", "+3"});
    assert_int_equal(aglm_options_get_int(&opts, "a", -1), 42);
    assert_int_equal(aglm_options_get_int(&opts, "b", -1), -7);
    assert_int_equal(aglm_options_get_int(&opts, "c", -1), -1);
    assert_int_equal(aglm_options_get_int(&opts, "d", -1), -1);
    assert_int_equal(aglm_options_get_int(&opts, "e", -1), -1);
    assert_int_equal(aglm_options_get_int(&opts, "f", -1), 10);
    assert_int_equal(aglm_options_get_int(&opts, "g", -1), -1);
    assert_true(aglm_options_get_int(&opts, "h", -1) == INT64_MIN);
    assert_int_equal(aglm_options_get_int(&opts, "i", -1), -1);
    assert_int_equal(aglm_options_get_int(&opts, "j", -1), 3);
    assert_int_equal(aglm_options_get_int(&opts, "absent", 99), 99);
}

static void test_get_float(void **state)
{
    (void)state;
    OPTS({"a", "2.5"}, {"b", "1e3"}, {"c", "abc"}, {"d", "1.5x"}, {"e", "1e999"}, {"f", "-4"},
         {"g", ""});
    assert_true(aglm_options_get_float(&opts, "a", -1) == 2.5);
    assert_true(aglm_options_get_float(&opts, "b", -1) == 1000.0);
    assert_true(aglm_options_get_float(&opts, "c", -1) == -1);
    assert_true(aglm_options_get_float(&opts, "d", -1) == -1);
    assert_true(aglm_options_get_float(&opts, "e", -1) == -1);
    assert_true(aglm_options_get_float(&opts, "f", -1) == -4.0);
    assert_true(aglm_options_get_float(&opts, "g", -1) == -1);
    assert_true(aglm_options_get_float(&opts, "absent", 0.25) == 0.25);
}

static void test_get_bool(void **state)
{
    (void)state;
    OPTS({"t1", "1"}, {"t2", "TRUE"}, {"t3", "Yes"}, {"t4", "on"}, {"f1", "0"}, {"f2", "false"},
         {"f3", "NO"}, {"f4", "Off"}, {"x", "maybe"}, {"y", ""}, {"z", "2"});
    const char *yes[] = {"t1", "t2", "t3", "t4"}, *no[] = {"f1", "f2", "f3", "f4"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(aglm_options_get_bool(&opts, yes[i], 0), 1);
        assert_int_equal(aglm_options_get_bool(&opts, no[i], 1), 0);
    }
    assert_int_equal(aglm_options_get_bool(&opts, "x", 7), 7);
    assert_int_equal(aglm_options_get_bool(&opts, "y", 7), 7);
    assert_int_equal(aglm_options_get_bool(&opts, "z", 7), 7);
    assert_int_equal(aglm_options_get_bool(&opts, "absent", 1), 1);
    assert_int_equal(aglm_options_get_bool(NULL, "t1", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_last_wins),
        cmocka_unit_test(test_get_int),
        cmocka_unit_test(test_get_float),
        cmocka_unit_test(test_get_bool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
