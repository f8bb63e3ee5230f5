/* Helpers for the cpu backend tests: the backend loaded through the registry (as the host loads
 * it), one-node graphs, tensors, random data and comparison. */
#ifndef AGLM_TEST_CPU_FIXTURE_H
#define AGLM_TEST_CPU_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aglm/aglm.h"
#include "config.h"
#include "registry.h"

typedef struct cpu_fx {
    host_config cfg;
    host_section section;
    host_kv kv;
    char key[16], value[16];
    host_registry *reg;
    aglm_plugin_ref *ref;
    const aglm_backend_ops *ops;
    void *state;
} cpu_fx;

/* Loads build/plugins/backend-cpu.so with [plugin.cpu] threads = `threads` (NULL: unset). */
static inline aglm_status cpu_fx_load(cpu_fx *f, const char *threads)
{
    memset(f, 0, sizeof *f);
    if (threads) {
        snprintf(f->key, sizeof f->key, "threads");
        snprintf(f->value, sizeof f->value, "%s", threads);
        f->kv.key = f->key;
        f->kv.value = f->value;
        f->section.name = (char *)"cpu";
        f->section.items = &f->kv;
        f->section.count = 1;
        f->cfg.plugins = &f->section;
        f->cfg.num_plugins = 1;
    }
    f->cfg.log_level = -1;
    aglm_status st = host_registry_new(&f->cfg, &f->reg);
    if (st != AGLM_OK)
        return st;
    char name[64] = "";
    st = host_registry_load(f->reg, AGLM_PLUGIN_DIR "/backend-cpu.so", name);
    if (st != AGLM_OK)
        return st;
    f->ref = host_registry_acquire(f->reg, "cpu", AGLM_KIND_BACKEND);
    if (!f->ref)
        return AGLM_ERR_NOT_FOUND;
    f->ops = host_ref_desc(f->ref)->ops;
    f->state = host_ref_state(f->ref);
    return AGLM_OK;
}

static inline void cpu_fx_unload(cpu_fx *f)
{
    if (f->ref)
        host_registry_release(f->ref);
    if (f->reg)
        host_registry_free(f->reg);
    memset(f, 0, sizeof *f);
}

static inline int cpu_fx_setup(void **state)
{
    cpu_fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    if (cpu_fx_load(f, "3") != AGLM_OK) {
        fprintf(stderr, "loading backend-cpu.so: %s\n", aglm_last_error());
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int cpu_fx_teardown(void **state)
{
    cpu_fx_unload(*state);
    free(*state);
    return 0;
}

/* ---- tensors --------------------------------------------------------------------------- */

/* A tensor of dtype dt and shape dims owning a copy of `values` (as doubles, converted). */
static inline aglm_tensor tensor_of(aglm_dtype dt, int rank, const int64_t *dims, const double *values)
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
static inline void assert_close(const aglm_tensor *got, const aglm_tensor *want, double atol, double rtol)
{
    char gs[96], ws[96];
    aglm_shape_str(got->rank, got->dims, gs, sizeof gs);
    aglm_shape_str(want->rank, want->dims, ws, sizeof ws);
    if (!aglm_tensor_same_shape(got, want))
        fail_msg("shape %s, expected %s", gs, ws);
    if (got->dtype != want->dtype)
        fail_msg("dtype %s, expected %s", aglm_dtype_name(got->dtype), aglm_dtype_name(want->dtype));
    for (int64_t i = 0; i < aglm_tensor_numel(want); i++) {
        double g = aglm_tensor_get_f64(got, i), w = aglm_tensor_get_f64(want, i);
        if (isnan(w) ? !isnan(g) : !(fabs(g - w) <= atol + rtol * fabs(w)))
            fail_msg("element %lld of %s: got %.9g, expected %.9g", (long long)i, gs, g, w);
    }
}

/* Asserts got equals shape dims and the listed values (within 1e-5 relative). */
static inline void assert_values(const aglm_tensor *got, int rank, const int64_t *dims, const double *values)
{
    aglm_tensor want = tensor_of(got->dtype, rank, dims, values);
    assert_close(got, &want, 1e-5, 1e-5);
    aglm_tensor_free(&want);
}

/* ---- graphs ---------------------------------------------------------------------------- */

/* A graph of one node `op` over inputs x0..: each present input is a graph input with the
 * tensor's static type, or an initialiser when is_const[i] (NULL: none are); outputs y0.. of
 * unknown type, left to inference. *node gets the node for setting attributes. */
static inline aglm_graph *op_graph(const char *op, int64_t opset, size_t n_in, const aglm_tensor *const *ins,
                                   const int *is_const, size_t n_out, aglm_node **node)
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
static inline aglm_status compile_run(cpu_fx *f, const aglm_graph *g, const aglm_options *opts, size_t n_in,
                                      const aglm_tensor *const *ins, const int *is_const, size_t n_out,
                                      aglm_tensor *outs)
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
static inline void run_op(cpu_fx *f, aglm_graph *g, size_t n_in, const aglm_tensor *const *ins, const int *is_const,
                          size_t n_out, aglm_tensor *outs)
{
    aglm_status st = compile_run(f, g, NULL, n_in, ins, is_const, n_out, outs);
    aglm_graph_free(g);
    if (st != AGLM_OK)
        fail_msg("%s", aglm_last_error());
}

#endif
