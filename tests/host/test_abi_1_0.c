/* ABI 1.1 is append-only: a backend built against the 1.0 headers (tests/abi/backend_v1_0.c)
 * loads into this host, its short ops table is read without touching the fields 1.1 appended
 * (the device-memory table), and it compiles and runs a graph, lending its output a buffer with
 * the 1.0 descriptor flags. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "aglm/aglm.h"
#include "config.h"
#include "registry.h"

static void test_v1_0_backend_loads_and_runs(void **state)
{
    (void)state;
    host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log_level = -1;
    host_registry *reg = NULL;
    assert_int_equal(host_registry_new(&cfg, &reg), AGLM_OK);
    char name[64] = "";
    if (host_registry_load(reg, AGLM_TEST_PLUGIN_DIR "/backend_v1_0.so", name) != AGLM_OK)
        fail_msg("load: %s", aglm_last_error());
    assert_string_equal(name, "abi10");
    aglm_plugin_ref *ref = host_registry_acquire(reg, "abi10", AGLM_KIND_BACKEND);
    assert_non_null(ref);
    const aglm_plugin_desc *d = host_ref_desc(ref);
    assert_int_equal(d->abi_minor, 0);
    const aglm_backend_ops *ops = d->ops;
    /* The table stops before 1.1's field: a reader must not look past struct_size. */
    assert_false(AGLM_HAS_MEMBER(aglm_backend_ops, ops, memory));
    assert_true(AGLM_HAS_MEMBER(aglm_backend_ops, ops, profile));

    aglm_graph *g = NULL;
    if (aglm_graph_parse("graph g(%x: f32[2,3]) -> (%y) {\n  opset ai.onnx 17\n"
                         "  %y = Relu(%x) @relu\n}\n",
                         &g) != AGLM_OK)
        fail_msg("parse: %s", aglm_last_error());
    aglm_exec *x = NULL;
    if (ops->compile(host_ref_state(ref), g, NULL, &x) != AGLM_OK)
        fail_msg("compile: %s", aglm_last_error());
    const float in[6] = {-1, 2, -3, 4, 0, 5.5f};
    aglm_tensor t, out;
    aglm_tensor_wrap(&t, AGLM_F32, 2, (const int64_t[]){2, 3}, (void *)in);
    if (ops->run(host_ref_state(ref), x, 1, &t, 1, &out) != AGLM_OK)
        fail_msg("run: %s", aglm_last_error());
    const float want[6] = {0, 2, 0, 4, 0, 5.5f};
    assert_memory_equal(out.data, want, sizeof want);
    aglm_tensor_free(&out);
    ops->release(host_ref_state(ref), x);
    aglm_graph_free(g);
    host_registry_release(ref);
    host_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_0_backend_loads_and_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
