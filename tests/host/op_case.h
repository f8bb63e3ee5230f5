/* One-node cases for the backend kernel tests: build a node with attributes, run it on the
 * backend under test, compare. Uses backend_fixture.h; include cmocka first. */
#ifndef AGLM_TEST_OP_CASE_H
#define AGLM_TEST_OP_CASE_H

#include "backend_fixture.h"

/* An attribute of a test node: kind 'i' (int), 'f' (float), 's' (string), 'l' (ints). */
typedef struct op_attr {
    const char *name;
    char kind;
    int64_t i;
    float f;
    const char *s;
    int64_t v[16];
    size_t n;
} op_attr;

#define A_INT(nm, x)                                                                               \
    {                                                                                              \
        .name = (nm), .kind = 'i', .i = (x)                                                        \
    }
#define A_FLOAT(nm, x)                                                                             \
    {                                                                                              \
        .name = (nm), .kind = 'f', .f = (x)                                                        \
    }
#define A_STR(nm, x)                                                                               \
    {                                                                                              \
        .name = (nm), .kind = 's', .s = (x)                                                        \
    }
#define A_INTS(nm, ...)                                                                            \
    {                                                                                              \
        .name = (nm), .kind = 'l', .v = {__VA_ARGS__},                                             \
        .n = sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)                                    \
    }
#define A_END                                                                                      \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* A tensor from a literal list: T(AGLM_F32, 2, D(2, 2), V(1, 2, 3, 4)). */
#define D(...) ((const int64_t[]){__VA_ARGS__})
#define V(...) ((const double[]){__VA_ARGS__})
#define T(dt, rank, dims, vals) tensor_of((dt), (rank), (dims), (vals))

static inline void set_attrs(aglm_node *n, const op_attr *a)
{
    for (; a && a->name; a++) {
        aglm_status st = AGLM_OK;
        switch (a->kind) {
        case 'i': st = aglm_node_set_int(n, a->name, a->i); break;
        case 'f': st = aglm_node_set_float(n, a->name, a->f); break;
        case 's': st = aglm_node_set_string(n, a->name, a->s, strlen(a->s)); break;
        default: st = aglm_node_set_ints(n, a->name, a->v, a->n); break;
        }
        assert_int_equal(st, AGLM_OK);
    }
}

/* Runs `op` at `opset` on ins (those with is_const[i] become initialisers; NULL: none are);
 * returns the status, outs filled on success. */
static inline aglm_status op_run(backend_fx *f, const char *op, int64_t opset, size_t n_in,
                                 const aglm_tensor *const *ins, const int *is_const,
                                 const op_attr *attrs, size_t n_out, aglm_tensor *outs)
{
    aglm_node *node;
    aglm_graph *g = op_graph(op, opset, n_in, ins, is_const, n_out, &node);
    set_attrs(node, attrs);
    aglm_status st = compile_run(f, g, NULL, n_in, ins, is_const, n_out, outs);
    aglm_graph_free(g);
    return st;
}

/* op_run that must succeed. */
static inline void op_ok(backend_fx *f, const char *op, int64_t opset, size_t n_in,
                         const aglm_tensor *const *ins, const int *is_const, const op_attr *attrs,
                         size_t n_out, aglm_tensor *outs)
{
    if (op_run(f, op, opset, n_in, ins, is_const, attrs, n_out, outs) != AGLM_OK)
        fail_msg("%s: %s", op, aglm_last_error());
}

/* Asserts dtype, shape and values (exact for integers, 1e-5 for floats), then frees got. */
static inline void expect(aglm_tensor *got, aglm_dtype dt, int rank, const int64_t *dims,
                          const double *values)
{
    if (got->dtype != dt)
        fail_msg("dtype %s, expected %s", aglm_dtype_name(got->dtype), aglm_dtype_name(dt));
    aglm_tensor want = tensor_of(dt, rank, dims, values);
    assert_close(got, &want, aglm_dtype_is_float(dt) ? 1e-5 : 0,
                 aglm_dtype_is_float(dt) ? 1e-5 : 0);
    aglm_tensor_free(&want);
    aglm_tensor_free(got);
}

/* Asserts the last error contains `part`. */
static inline void expect_error(const char *part)
{
    if (!strstr(aglm_last_error(), part))
        fail_msg("error '%s' does not mention '%s'", aglm_last_error(), part);
}

static inline void free_all(aglm_tensor *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aglm_tensor_free(&t[i]);
}

#endif
