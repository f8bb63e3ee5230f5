/* Status codes and the thread-local error message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "aglm/aglm.h"

static void test_error_sets_message_and_returns_status(void **state)
{
    (void)state;
    aglm_clear_error();
    assert_string_equal(aglm_last_error(), "");
    assert_int_equal(
        aglm_error(AGLM_ERR_SHAPE, "node %s: input %d has shape %s", "conv1", 2, "[1,3]"),
        AGLM_ERR_SHAPE);
    assert_string_equal(aglm_last_error(), "node conv1: input 2 has shape [1,3]");
    aglm_clear_error();
    assert_string_equal(aglm_last_error(), "");
}

static void test_wrap_prefixes_context(void **state)
{
    (void)state;
    aglm_error(AGLM_ERR_PARSE, "unknown op 'Foo'");
    assert_int_equal(aglm_error_wrap(AGLM_ERR_PARSE, "model.yaml: node %d", 3), AGLM_ERR_PARSE);
    assert_string_equal(aglm_last_error(), "model.yaml: node 3: unknown op 'Foo'");
    aglm_error_wrap(AGLM_ERR_PARSE, "load");
    assert_string_equal(aglm_last_error(), "load: model.yaml: node 3: unknown op 'Foo'");
}

static void test_wrap_of_empty_message_is_the_prefix(void **state)
{
    (void)state;
    aglm_clear_error();
    aglm_error_wrap(AGLM_ERR_IO, "x.npy");
    assert_string_equal(aglm_last_error(), "x.npy");
}

/* Callers may pass the current message as an argument: the buffer must not overlap itself. */
static void test_message_may_be_its_own_argument(void **state)
{
    (void)state;
    aglm_error(AGLM_ERR_IO, "disk full");
    aglm_error(AGLM_ERR_IO, "save failed (%s), retry said: %s", aglm_last_error(),
               aglm_last_error());
    assert_string_equal(aglm_last_error(), "save failed (disk full), retry said: disk full");
    aglm_error_wrap(AGLM_ERR_IO, "[%s]", aglm_last_error());
    assert_string_equal(aglm_last_error(), "[save failed (disk full), retry said: disk full]: save "
                                           "failed (disk full), retry said: disk full");
}

static void test_long_message_is_truncated_and_terminated(void **state)
{
    (void)state;
    static char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    aglm_error(AGLM_ERR_INVALID, "start %s end", big);
    size_t len = strlen(aglm_last_error());
    assert_true(len > 1000 && len < sizeof big);
    assert_memory_equal(aglm_last_error(), "start aaa", 9);
    /* Wrapping a full buffer keeps the new context at the front. */
    aglm_error_wrap(AGLM_ERR_INVALID, "ctx");
    assert_memory_equal(aglm_last_error(), "ctx: start aaa", 14);
    assert_int_equal(strlen(aglm_last_error()), len);
}

/* A cut never leaves half a UTF-8 character at the end. */
static void test_truncation_keeps_utf8_whole(void **state)
{
    (void)state;
    static char big[6001];
    for (size_t i = 0; i + 1 < sizeof big; i += 2)
        memcpy(big + i, "\xC3\xA9", 2); /* é */
    big[sizeof big - 1] = '\0';
    for (int odd = 0; odd < 2; odd++) {
        aglm_error(AGLM_ERR_INVALID, "%s%s", odd ? "x" : "", big);
        const char *m = aglm_last_error();
        size_t len = strlen(m);
        assert_true(len > 1000);
        assert_int_equal((len - (size_t)odd) % 2, 0);
        assert_int_equal((unsigned char)m[len - 1], 0xA9);
    }
}

static void *other_thread(void *arg)
{
    char *seen = arg;
    strcpy(seen, aglm_last_error()); /* a fresh thread starts with no message */
    aglm_error(AGLM_ERR_IO, "thread message");
    strcat(seen, "|");
    strcat(seen, aglm_last_error());
    return NULL;
}

static void test_message_is_per_thread(void **state)
{
    (void)state;
    char seen[128] = "";
    pthread_t th;
    aglm_error(AGLM_ERR_NOMEM, "main message");
    assert_int_equal(pthread_create(&th, NULL, other_thread, seen), 0);
    pthread_join(th, NULL);
    assert_string_equal(seen, "|thread message");
    assert_string_equal(aglm_last_error(), "main message");
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(aglm_status_str(AGLM_OK), "ok");
    assert_string_equal(aglm_status_str(AGLM_ERR_NOMEM), "out of memory");
    assert_string_equal(aglm_status_str(AGLM_ERR_NOT_FOUND), "not found");
    assert_string_equal(aglm_status_str((aglm_status)999), "unknown status");
    /* Every code has its own name. */
    for (int a = AGLM_OK; a <= AGLM_ERR_INTERNAL; a++) {
        assert_string_not_equal(aglm_status_str((aglm_status)a), "unknown status");
        for (int b = a + 1; b <= AGLM_ERR_INTERNAL; b++)
            assert_string_not_equal(aglm_status_str((aglm_status)a),
                                    aglm_status_str((aglm_status)b));
    }
}

static void test_version_and_kind_names(void **state)
{
    (void)state;
    assert_string_equal(aglm_version(), AGLM_VERSION_STRING);
    assert_string_equal(aglm_plugin_kind_name(AGLM_KIND_FRONTEND), "frontend");
    assert_string_equal(aglm_plugin_kind_name(AGLM_KIND_PASS), "pass");
    assert_string_equal(aglm_plugin_kind_name(AGLM_KIND_QUANTIZER), "quantizer");
    assert_string_equal(aglm_plugin_kind_name(AGLM_KIND_BACKEND), "backend");
    assert_string_equal(aglm_plugin_kind_name((aglm_plugin_kind)0), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_sets_message_and_returns_status),
        cmocka_unit_test(test_wrap_prefixes_context),
        cmocka_unit_test(test_wrap_of_empty_message_is_the_prefix),
        cmocka_unit_test(test_message_may_be_its_own_argument),
        cmocka_unit_test(test_long_message_is_truncated_and_terminated),
        cmocka_unit_test(test_truncation_keeps_utf8_whole),
        cmocka_unit_test(test_message_is_per_thread),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_version_and_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
