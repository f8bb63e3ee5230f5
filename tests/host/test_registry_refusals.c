/* Every plugin the registry must refuse: the status, a message naming the file and the reason,
 * and afterwards the registry as it was, the plugin already loaded still serving, and no private
 * copy left behind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "registry_fixtures.h"

typedef struct ctx {
    char *tmp;
    char *ini;
    host_config cfg;
    host_registry *reg;
    char *private_dir; /* where the registry keeps its copies */
} ctx;

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof *c);
    c->tmp = make_temp_dir();
    assert_non_null(c->tmp);
    char text[2048];
    snprintf(text, sizeof text, "[plugin.bad_start]\ntrace = %s/bad_start.trace\n", c->tmp);
    c->ini = write_file(c->tmp, "aglm.ini", text);
    assert_int_equal(host_config_load(c->ini, &c->cfg), AGLM_OK);
    assert_int_equal(host_registry_new(&c->cfg, &c->reg), AGLM_OK);
    assert_int_equal(host_registry_load(c->reg, fixture("counter_v1"), NULL), AGLM_OK);

    aglm_plugin_ref *ref = host_registry_acquire(c->reg, "counter", AGLM_KIND_BACKEND);
    assert_non_null(ref);
    char *copy = mapped_file_of(ref);
    assert_non_null(copy);
    host_registry_release(ref);
    c->private_dir = folder_of(copy);
    free(copy);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    host_registry_free(c->reg);
    struct stat sb;
    /* the registry removes its private folder once nothing is loaded */
    assert_int_not_equal(stat(c->private_dir, &sb), 0);
    host_config_free(&c->cfg);
    remove_temp_dir(c->tmp);
    free(c->ini);
    free(c->tmp);
    free(c->private_dir);
    free(c);
    return 0;
}

/* Loads `path`, expects status `want` and a message with the path and `reason`, and checks that
 * nothing changed. */
static void expect_refusal(ctx *c, const char *path, aglm_status want, const char *reason)
{
    char *before = snapshot(c->reg);
    int files_before = count_files(c->private_dir);
    char name[64] = "untouched";

    aglm_status st = host_registry_load(c->reg, path, name);
    const char *msg = aglm_last_error();
    print_message("refused: %s\n", msg);
    assert_int_equal(st, want);
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, reason));
    assert_string_equal(name, "untouched");

    char *after = snapshot(c->reg);
    assert_string_equal(before, after);
    assert_int_equal(count_files(c->private_dir), files_before);
    assert_true(serve_once(c->reg, "counter") == 1.0f);
    free(before);
    free(after);
}

static void test_not_elf(void **state)
{
    expect_refusal(*state, fixture("not_elf"), AGLM_ERR_INVALID, ": not an ELF shared object");
}

static void test_relocatable_object(void **state)
{
    expect_refusal(*state, fixture("relocatable"), AGLM_ERR_INVALID,
                   "not an ELF shared object (it is a relocatable object");
}

static void test_directory(void **state)
{
    expect_refusal(*state, AGLM_TEST_PLUGIN_DIR, AGLM_ERR_INVALID, "not a regular file");
}

static void test_missing_file(void **state)
{
    expect_refusal(*state, fixture("no_such_plugin"), AGLM_ERR_NOT_FOUND,
                   "cannot open: No such file");
}

static void test_no_entry(void **state)
{
    expect_refusal(*state, fixture("no_entry"), AGLM_ERR_INVALID,
                   ": no aglm_plugin_entry symbol (not an aglm plugin?)");
}

/* dlopen's own message names the private copy; the user must see the file they gave */
static void test_unresolved_symbol(void **state)
{
    ctx *c = *state;
    expect_refusal(c, fixture("unresolved"), AGLM_ERR_INVALID,
                   "undefined symbol: aglm_fixture_symbol_nobody_defines");
    assert_null(strstr(aglm_last_error(), c->private_dir));
}

static void test_abi_major(void **state)
{
    expect_refusal(*state, fixture("abi_major"), AGLM_ERR_ABI, ": ABI 2.0, this host speaks 1.1");
    assert_null(host_registry_acquire(((ctx *)*state)->reg, "abi_major", 0));
}

static void test_abi_minor(void **state)
{
    expect_refusal(*state, fixture("abi_minor"), AGLM_ERR_ABI,
                   ": ABI 1.99 is newer than this host's 1.1");
}

static void test_bad_name(void **state)
{
    expect_refusal(*state, fixture("bad_name"), AGLM_ERR_INVALID,
                   "plugin name 'Bad Name' is not valid");
}

static void test_name_taken(void **state)
{
    ctx *c = *state;
    char name[64];
    assert_int_equal(host_registry_load(c->reg, fixture("base"), name), AGLM_OK);
    assert_string_equal(name, "base");
    char reason[2048];
    snprintf(reason, sizeof reason, ": plugin name 'base' is taken by %s", fixture("base"));
    expect_refusal(c, fixture("dup_name"), AGLM_ERR_EXISTS, reason);
    /* the first one still answers, and it is still version 1.0.0 */
    aglm_plugin_ref *ref = host_registry_acquire(c->reg, "base", AGLM_KIND_PASS);
    assert_non_null(ref);
    assert_string_equal(host_ref_desc(ref)->version, "1.0.0");
    host_registry_release(ref);
    /* the same file twice is a taken name too */
    expect_refusal(c, fixture("base"), AGLM_ERR_EXISTS, "plugin name 'base' is taken");
}

static void test_missing_requirement(void **state)
{
    expect_refusal(*state, fixture("requires_missing"), AGLM_ERR_NOT_FOUND,
                   ": requires plugin 'nonexistent', which is not loaded");
}

static void test_failing_init(void **state)
{
    expect_refusal(*state, fixture("bad_init"), AGLM_ERR_UNSUPPORTED,
                   ": init of 'bad_init' failed: bad_init: no licence key configured");
    assert_null(host_registry_acquire(((ctx *)*state)->reg, "bad_init", 0));
    assert_non_null(strstr(aglm_last_error(), "no plugin 'bad_init'"));
}

static void test_failing_start(void **state)
{
    expect_refusal(*state, fixture("bad_start"), AGLM_ERR_STATE,
                   ": start of 'bad_start' failed: bad_start: the device went away");
}

static void test_unreadable_directory(void **state)
{
    ctx *c = *state;
    int loaded = -1, failed = -1;
    const char *dir = AGLM_TEST_PLUGIN_DIR "/no/such/dir";
    assert_int_equal(host_registry_load_dir(c->reg, dir, &loaded, &failed), AGLM_ERR_IO);
    assert_non_null(strstr(aglm_last_error(), dir));
    assert_int_equal(loaded, 0);
    assert_int_equal(failed, 0);
}

/* A refusal in the middle of a scan: the rest of the folder still loads. */
static void test_scan_carries_on(void **state)
{
    ctx *c = *state;
    char *dir = make_temp_dir();
    const char *links[][2] = {
        {"bad_init", "a.so"}, {"base", "b.so"}, {"not_elf", "c.so"}, {"abi_major", "d.so"}};
    for (size_t i = 0; i < 4; i++) {
        char *p;
        assert_true(asprintf(&p, "%s/%s", dir, links[i][1]) > 0);
        assert_int_equal(symlink(fixture(links[i][0]), p), 0);
        free(p);
    }
    int loaded = -1, failed = -1;
    assert_int_equal(host_registry_load_dir(c->reg, dir, &loaded, &failed), AGLM_OK);
    assert_int_equal(loaded, 1);
    assert_int_equal(failed, 3);
    assert_int_equal(num_rows(c->reg), 2); /* counter and base */
    aglm_plugin_ref *ref = host_registry_acquire(c->reg, "base", 0);
    assert_non_null(ref);
    host_registry_release(ref);
    remove_temp_dir(dir);
    free(dir);
}

int main(void)
{
    host_log_set_level(AGLM_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_elf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relocatable_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unresolved_symbol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_major, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_minor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_requirement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_carries_on, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
