/* Helpers for the backend kernel tests: the backend under test loaded through the registry (as
 * the host loads it), one-node graphs, tensors, random data and comparison. The backend is the
 * one AGLM_TEST_BACKEND names ("cpu" when unset), so one test program checks every backend:
 * tests/CMakeLists.txt registers it once per name in AGLM_TEST_BACKENDS. */
#ifndef AGLM_TEST_BACKEND_FIXTURE_H
#define AGLM_TEST_BACKEND_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aglm/aglm.h"
#include "config.h"
#include "registry.h"

enum { BACKEND_FX_MAX_KEYS = 4 };

typedef struct backend_fx {
    host_config cfg;
    host_section section;
    host_kv kv[BACKEND_FX_MAX_KEYS];
    char key[BACKEND_FX_MAX_KEYS][16], value[BACKEND_FX_MAX_KEYS][16];
    char name[64]; /* the backend loaded: its registry name and its [plugin.NAME] section */
    host_registry *reg;
    aglm_plugin_ref *ref;
    const aglm_backend_ops *ops;
    void *state;
} backend_fx;

/* The backend the kernel tests run against: AGLM_TEST_BACKEND, or "cpu" when unset or empty. */
static inline const char *backend_under_test(void)
{
    const char *name = getenv("AGLM_TEST_BACKEND");
    return name && *name ? name : "cpu";
}

/* 1 when the backend under test is `name`. */
static inline int backend_is(const char *name)
{
    return strcmp(backend_under_test(), name) == 0;
}

/* Skips the rest of the running test unless the backend under test is `name`, printing "skipped
 * on backend B: only NAME promises WHAT": for what only that backend promises (its device name,
 * its config keys and options, its own wording, the kernels it lacks), so another backend sees
 * the test skipped rather than failed. Free what the test holds first: skip() does not return. */
#define SKIP_UNLESS_BACKEND(name, what)                                                            \
    do {                                                                                           \
        if (!backend_is(name)) {                                                                   \
            print_message("skipped on backend %s: only %s promises %s\n", backend_under_test(),    \
                          (name), (what));                                                         \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* Loads AGLM_PLUGIN_DIR/backend-NAME.so and acquires NAME, with [plugin.NAME] holding keys[i] =
 * values[i] for the n settings whose value is not NULL. */
static inline aglm_status backend_fx_load_config(backend_fx *f, const char *name, size_t n,
                                                 const char *const *keys, const char *const *values)
{
    memset(f, 0, sizeof *f);
    if (strlen(name) >= sizeof f->name || n > BACKEND_FX_MAX_KEYS)
        return aglm_error(AGLM_ERR_INVALID,
                          "backend fixture: name '%s' over 63 characters or over 4 settings", name);
    snprintf(f->name, sizeof f->name, "%s", name);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!values[i])
            continue;
        snprintf(f->key[count], sizeof f->key[count], "%s", keys[i]);
        snprintf(f->value[count], sizeof f->value[count], "%s", values[i]);
        f->kv[count].key = f->key[count];
        f->kv[count].value = f->value[count];
        count++;
    }
    if (count) {
        f->section.name = f->name;
        f->section.items = f->kv;
        f->section.count = count;
        f->cfg.plugins = &f->section;
        f->cfg.num_plugins = 1;
    }
    f->cfg.log_level = -1;
    aglm_status st = host_registry_new(&f->cfg, &f->reg);
    if (st != AGLM_OK)
        return st;
    char path[512], got[64] = "";
    snprintf(path, sizeof path, "%s/backend-%s.so", AGLM_PLUGIN_DIR, name);
    st = host_registry_load(f->reg, path, got);
    if (st != AGLM_OK)
        return st;
    f->ref = host_registry_acquire(f->reg, name, AGLM_KIND_BACKEND);
    if (!f->ref)
        return AGLM_ERR_NOT_FOUND;
    f->ops = host_ref_desc(f->ref)->ops;
    f->state = host_ref_state(f->ref);
    return AGLM_OK;
}

/* Loads backend `name` with [plugin.NAME] threads = `threads` (NULL: unset). */
static inline aglm_status backend_fx_load_named(backend_fx *f, const char *name,
                                                const char *threads)
{
    const char *keys[1] = {"threads"}, *values[1] = {threads};
    return backend_fx_load_config(f, name, 1, keys, values);
}

/* Loads the backend under test with [plugin.NAME] threads = `threads` (NULL: unset). */
static inline aglm_status backend_fx_load(backend_fx *f, const char *threads)
{
    return backend_fx_load_named(f, backend_under_test(), threads);
}

static inline void backend_fx_unload(backend_fx *f)
{
    if (f->ref)
        host_registry_release(f->ref);
    if (f->reg)
        host_registry_free(f->reg);
    memset(f, 0, sizeof *f);
}

/* A group or test setup loading backend `name` with [plugin.NAME] threads = 3: more than one, so
 * kernels that split work over a pool do. */
static inline int backend_fx_setup_named(void **state, const char *name)
{
    backend_fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    if (backend_fx_load_named(f, name, "3") != AGLM_OK) {
        fprintf(stderr, "loading backend-%s.so: %s\n", name, aglm_last_error());
        backend_fx_unload(f);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* The setup of the kernel tests: the backend under test. */
static inline int backend_fx_setup(void **state)
{
    return backend_fx_setup_named(state, backend_under_test());
}

/* The setup of the tests of the cpu backend's own internals, which no other backend shares. */
static inline int backend_fx_setup_cpu(void **state)
{
    return backend_fx_setup_named(state, "cpu");
}

/* cmocka runs a group's teardown even when its setup failed, leaving *state NULL. */
static inline int backend_fx_teardown(void **state)
{
    if (!*state)
        return 0;
    backend_fx_unload(*state);
    free(*state);
    return 0;
}

/* ---- tensors --------------------------------------------------------------------------- */

/* A tensor of dtype dt and shape dims owning a copy of `values` (as doubles, converted). */
static inline aglm_tensor tensor_of(aglm_dtype dt, int rank, const int64_t *dims,
                                    const double *values)
{
    aglm_tensor t;
    if (aglm_tensor_alloc(&t, dt, rank, dims) != AGLM_OK)
        fail_msg("tensor_alloc: %s", aglm_last_error());
    for (int64_t i = 0; values && i < aglm_tensor_numel(&t); i++)
        aglm_tensor_set_f64(&t, i, values[i]);
    return t;
}

static inline aglm_tensor tensor_f32(int rank, const int64_t *dims, const float *values)
{
    aglm_tensor t;
    if (aglm_tensor_alloc(&t, AGLM_F32, rank, dims) != AGLM_OK)
        fail_msg("tensor_alloc: %s", aglm_last_error());
    if (values)
        memcpy(t.data, values, aglm_tensor_nbytes(&t));
    return t;
}

/* Uniform values in [-1, 1) from a fixed-seed generator, so failures reproduce. */
static inline aglm_tensor tensor_random(int rank, const int64_t *dims, uint32_t seed)
{
    aglm_tensor t = tensor_f32(rank, dims, NULL);
    uint32_t s = seed * 2654435761u + 12345u;
    float *p = t.data;
    for (int64_t i = 0; i < aglm_tensor_numel(&t); i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) / (float)(1u << 23) - 1.0f;
    }
    return t;
}

/* Asserts shape and every element within atol + rtol * |want|. */
static inline void assert_close(const aglm_tensor *got, const aglm_tensor *want, double atol,
                                double rtol)
{
    char gs[96], ws[96];
    aglm_shape_str(got->rank, got->dims, gs, sizeof gs);
    aglm_shape_str(want->rank, want->dims, ws, sizeof ws);
    if (!aglm_tensor_same_shape(got, want))
        fail_msg("shape %s, expected %s", gs, ws);
    if (got->dtype != want->dtype)
        fail_msg("dtype %s, expected %s", aglm_dtype_name(got->dtype),
                 aglm_dtype_name(want->dtype));
    for (int64_t i = 0; i < aglm_tensor_numel(want); i++) {
        double g = aglm_tensor_get_f64(got, i), w = aglm_tensor_get_f64(want, i);
        if (isnan(w) ? !isnan(g) : !(fabs(g - w) <= atol + rtol * fabs(w)))
            fail_msg("element %lld of %s: got %.9g, expected %.9g", (long long)i, gs, g, w);
    }
}

/* Asserts got equals shape dims and the listed values (within 1e-5 relative). */
static inline void assert_values(const aglm_tensor *got, int rank, const int64_t *dims,
                                 const double *values)
{
    aglm_tensor want = tensor_of(got->dtype, rank, dims, values);
    assert_close(got, &want, 1e-5, 1e-5);
    aglm_tensor_free(&want);
}

/* ---- graphs ---------------------------------------------------------------------------- */

/* A graph of one node `op` over inputs x0..: each present input is a graph input with the
 * tensor's static type, or an initialiser when is_const[i] (NULL: none are); outputs y0.. of
 * unknown type, left to inference. *node gets the node for setting attributes. */
static inline aglm_graph *op_graph(const char *op, int64_t opset, size_t n_in,
                                   const aglm_tensor *const *ins, const int *is_const, size_t n_out,
                                   aglm_node **node)
{
    aglm_graph *g = aglm_graph_new(op);
    assert_non_null(g);
    assert_int_equal(aglm_graph_set_opset(g, "", opset), AGLM_OK);
    aglm_value *in_vals[16] = {0}, *out_vals[4] = {0};
    for (size_t i = 0; i < n_in; i++) {
        if (!ins[i])
            continue;
        char name[32];
        snprintf(name, sizeof name, "x%zu", i);
        if (is_const && is_const[i]) {
            in_vals[i] = aglm_graph_add_initializer(g, name, ins[i]);
        } else {
            aglm_dim dims[AGLM_MAX_RANK];
            for (int d = 0; d < ins[i]->rank; d++)
                dims[d] = (aglm_dim){ins[i]->dims[d], NULL};
            in_vals[i] = aglm_graph_new_value(g, name, ins[i]->dtype, ins[i]->rank, dims);
            assert_int_equal(aglm_graph_add_input(g, in_vals[i]), AGLM_OK);
        }
        assert_non_null(in_vals[i]);
    }
    for (size_t i = 0; i < n_out; i++) {
        char name[32];
        snprintf(name, sizeof name, "y%zu", i);
        out_vals[i] = aglm_graph_new_value(g, name, AGLM_UNDEFINED, -1, NULL);
        assert_non_null(out_vals[i]);
    }
    aglm_node *n = aglm_graph_add_node(g, op, NULL, "node", n_in, in_vals, n_out, out_vals);
    if (!n)
        fail_msg("add_node %s: %s", op, aglm_last_error());
    for (size_t i = 0; i < n_out; i++)
        assert_int_equal(aglm_graph_add_output(g, out_vals[i]), AGLM_OK);
    if (node)
        *node = n;
    return g;
}

/* Compiles g, runs it on the graph inputs in `ins` (skipping absent and constant ones, in the
 * order op_graph declared them) and releases the executable. Returns the status of the first
 * failing step; outputs are filled on success. */
static inline aglm_status compile_run(backend_fx *f, const aglm_graph *g, const aglm_options *opts,
                                      size_t n_in, const aglm_tensor *const *ins,
                                      const int *is_const, size_t n_out, aglm_tensor *outs)
{
    aglm_exec *x = NULL;
    aglm_status st = f->ops->compile(f->state, g, opts, &x);
    if (st != AGLM_OK)
        return st;
    aglm_tensor feed[16];
    size_t n = 0;
    for (size_t i = 0; i < n_in; i++)
        if (ins[i] && !(is_const && is_const[i]))
            feed[n++] = *ins[i];
    st = f->ops->run(f->state, x, n, feed, n_out, outs);
    f->ops->release(f->state, x);
    return st;
}

/* op_graph + compile_run + graph free; fails the test with the error on failure. */
static inline void run_op(backend_fx *f, aglm_graph *g, size_t n_in, const aglm_tensor *const *ins,
                          const int *is_const, size_t n_out, aglm_tensor *outs)
{
    aglm_status st = compile_run(f, g, NULL, n_in, ins, is_const, n_out, outs);
    aglm_graph_free(g);
    if (st != AGLM_OK)
        fail_msg("%s", aglm_last_error());
}

#endif
