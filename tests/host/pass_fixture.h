/* Helpers for the pass tests that also run graphs: the cpu backend and one pass plugin loaded
 * into one registry (as the host loads them), graphs from IR text with random constants, and the
 * check that a pass keeps what a graph computes. Uses backend_fixture.h; include cmocka first.
 * The backend is always cpu, whatever AGLM_TEST_BACKEND says: these tests are about the passes,
 * and cpu is the reference that runs the graphs before and after. */
#ifndef AGLM_TEST_PASS_FIXTURE_H
#define AGLM_TEST_PASS_FIXTURE_H

#include "backend_fixture.h"
#include "ir_pass_fixture.h"

#ifndef D
#define D(...) ((const int64_t[]){__VA_ARGS__})
#endif

typedef struct pass_fx {
    backend_fx cpu;
    aglm_plugin_ref *ref;
    const aglm_pass_ops *ops;
    void *state;
} pass_fx;

/* Loads the cpu backend and build/plugins/pass-NAME.so. */
static inline int pass_fx_setup(void **state, const char *name)
{
    pass_fx *f = calloc(1, sizeof *f);
    if (!f || backend_fx_load_named(&f->cpu, "cpu", "2") != AGLM_OK) {
        fprintf(stderr, "loading backend-cpu.so: %s\n", aglm_last_error());
        free(f);
        return -1;
    }
    char path[512], got[64] = "";
    snprintf(path, sizeof path, "%s/pass-%s.so", AGLM_PLUGIN_DIR, name);
    if (host_registry_load(f->cpu.reg, path, got) != AGLM_OK ||
        !(f->ref = host_registry_acquire(f->cpu.reg, name, AGLM_KIND_PASS))) {
        fprintf(stderr, "loading %s: %s\n", path, aglm_last_error());
        backend_fx_unload(&f->cpu);
        free(f);
        return -1;
    }
    f->ops = host_ref_desc(f->ref)->ops;
    f->state = host_ref_state(f->ref);
    *state = f;
    return 0;
}

static inline int pass_fx_teardown(void **state)
{
    pass_fx *f = *state;
    host_registry_release(f->ref);
    backend_fx_unload(&f->cpu);
    free(f);
    return 0;
}

/* Runs the pass on g, which must verify afterwards; returns *changed. */
static inline int pass_run(pass_fx *f, aglm_graph *g)
{
    return ir_pass_run_ops(f->ops, f->state, "the pass", g, NULL);
}

static inline aglm_graph *parse_ir(const char *text)
{
    return ir_pass_parse(text);
}

/* Asserts g prints as `want`. */
static inline void assert_ir(const aglm_graph *g, const char *want)
{
    char *got = aglm_graph_to_text(g, 0);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("IR after the pass:\n%s\nexpected:\n%s", got, want);
    free(got);
}

/* Appends "const %name: f32[dims] = [...]" with values from tensor_random(seed) scaled by
 * `scale` and shifted by `shift` (positive variances need a shift). */
static inline void ir_const(char *buf, size_t cap, const char *name, int rank, const int64_t *dims,
                            uint32_t seed, float scale, float shift)
{
    aglm_tensor t = tensor_random(rank, dims, seed);
    size_t len = strlen(buf);
    len += (size_t)snprintf(buf + len, cap - len, "  const %%%s: f32[", name);
    for (int i = 0; i < rank; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? "," : "", (long long)dims[i]);
    len += (size_t)snprintf(buf + len, cap - len, "] = [");
    for (int64_t i = 0; i < aglm_tensor_numel(&t); i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%.9g", i ? ", " : "",
                                (double)(((float *)t.data)[i] * scale + shift));
    snprintf(buf + len, cap - len, "]\n");
    assert_true(strlen(buf) + 1 < cap);
    aglm_tensor_free(&t);
}

/* Runs `before` and `after` on the same random inputs (one per graph input, of its static
 * type) and asserts every output agrees within atol + rtol * |want|. */
static inline void assert_same_results(pass_fx *f, const aglm_graph *before,
                                       const aglm_graph *after, double atol, double rtol)
{
    size_t n_in = aglm_graph_num_inputs(before), n_out = aglm_graph_num_outputs(before);
    assert_int_equal(aglm_graph_num_inputs(after), n_in);
    assert_int_equal(aglm_graph_num_outputs(after), n_out);
    assert_true(n_in <= 8 && n_out <= 4);
    aglm_tensor ins[8], want[4], got[4];
    const aglm_tensor *ptrs[8];
    memset(want, 0, sizeof want);
    memset(got, 0, sizeof got);
    for (size_t i = 0; i < n_in; i++) {
        aglm_value *v = aglm_graph_input(before, i);
        int64_t dims[AGLM_MAX_RANK];
        for (int d = 0; d < aglm_value_rank(v); d++)
            dims[d] = aglm_value_dim(v, d).value;
        ins[i] = tensor_random(aglm_value_rank(v), dims, 101 + (uint32_t)i);
        ptrs[i] = &ins[i];
    }
    if (compile_run(&f->cpu, before, NULL, n_in, ptrs, NULL, n_out, want) != AGLM_OK)
        fail_msg("running the graph before the pass: %s", aglm_last_error());
    if (compile_run(&f->cpu, after, NULL, n_in, ptrs, NULL, n_out, got) != AGLM_OK)
        fail_msg("running the graph after the pass: %s", aglm_last_error());
    for (size_t i = 0; i < n_out; i++) {
        assert_close(&got[i], &want[i], atol, rtol);
        aglm_tensor_free(&got[i]);
        aglm_tensor_free(&want[i]);
    }
    for (size_t i = 0; i < n_in; i++)
        aglm_tensor_free(&ins[i]);
}

#endif
