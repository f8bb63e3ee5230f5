/* The YAML frontend, loaded through the registry and called through its ops table as the host
 * calls it: probe, good models (structure, constants, inferred shapes), one model per error, and
 * the hand-computed models run end to end on the cpu backend. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aglm/aglm.h"
#include "config.h"
#include "registry.h"

#define MODELS AGLM_SOURCE_DIR "/tests/models/"

typedef struct fixture {
    host_config cfg;
    host_registry *reg;
    aglm_plugin_ref *ref;
    const aglm_frontend_ops *ops;
    void *state;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(host_registry_new(&f->cfg, &f->reg), AGLM_OK);
    char name[64] = "";
    aglm_status st = host_registry_load(f->reg, AGLM_PLUGIN_DIR "/frontend-yaml.so", name);
    if (st != AGLM_OK)
        fail_msg("loading frontend-yaml.so: %s", aglm_last_error());
    assert_string_equal(name, "yaml");
    f->ref = host_registry_acquire(f->reg, "yaml", AGLM_KIND_FRONTEND);
    assert_non_null(f->ref);
    f->ops = host_ref_desc(f->ref)->ops;
    assert_true(f->ops->struct_size >= sizeof(aglm_frontend_ops));
    f->state = host_ref_state(f->ref);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    host_registry_release(f->ref);
    host_registry_free(f->reg);
    free(f);
    return 0;
}

static aglm_graph *load_ok(fixture *f, const char *path)
{
    aglm_graph *g = NULL;
    aglm_status st = f->ops->load(f->state, path, NULL, &g);
    if (st != AGLM_OK)
        fail_msg("%s: %s", path, aglm_last_error());
    assert_non_null(g);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    return g;
}

/* Loading must fail with `want`, leave *out NULL, and name every fragment in the message. */
static void load_fails(fixture *f, const char *path, aglm_status want, ...)
{
    aglm_graph *g = (aglm_graph *)&g; /* not NULL: load must clear it */
    aglm_status st = f->ops->load(f->state, path, NULL, &g);
    const char *msg = aglm_last_error();
    if (st != want)
        fail_msg("%s: status %s, want %s (message: %s)", path, aglm_status_str(st),
                 aglm_status_str(want), msg);
    assert_null(g);
    va_list ap;
    va_start(ap, want);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        if (!strstr(msg, frag))
            fail_msg("%s: message '%s' lacks '%s'", path, msg, frag);
    va_end(ap);
}

static const aglm_node *find_node(const aglm_graph *g, const char *op)
{
    for (size_t i = 0; i < aglm_graph_num_nodes(g); i++)
        if (strcmp(aglm_node_op(aglm_graph_node(g, i)), op) == 0)
            return aglm_graph_node(g, i);
    return NULL;
}

static void assert_type(const aglm_value *v, const char *want)
{
    char buf[128];
    assert_non_null(v);
    assert_string_equal(aglm_value_type_str(v, buf, sizeof buf), want);
}

static void assert_const(const aglm_graph *g, const char *name, const char *type, size_t n,
                         const double *want)
{
    const aglm_value *v = aglm_graph_find_value(g, name);
    assert_type(v, type);
    const aglm_tensor *t = aglm_value_const(v);
    assert_non_null(t);
    assert_int_equal(aglm_tensor_numel(t), n);
    for (size_t i = 0; i < n; i++)
        assert_true(aglm_tensor_get_f64(t, (int64_t)i) == want[i]);
}

/* ---- probe ------------------------------------------------------------------------------ */

static void test_probe(void **state)
{
    fixture *f = *state;
    const unsigned char model[] = "inputs: []\nnodes:\n  - {op: Relu}\n";
    const unsigned char other[] = "key: value\n";
    assert_int_equal(f->ops->probe(f->state, "m.yaml", model, sizeof model - 1), 90);
    assert_int_equal(f->ops->probe(f->state, "dir/m.YML", model, sizeof model - 1), 90);
    assert_int_equal(f->ops->probe(f->state, "m.yml", other, sizeof other - 1), 40);
    assert_int_equal(f->ops->probe(f->state, "m.yaml", NULL, 0), 40);
    assert_int_equal(f->ops->probe(f->state, "m.onnx", model, sizeof model - 1), 0);
    assert_int_equal(f->ops->probe(f->state, "m.yaml.bak", model, sizeof model - 1), 0);
    assert_int_equal(f->ops->probe(f->state, "a.yaml/model", model, sizeof model - 1), 0);
}

/* ---- good models ------------------------------------------------------------------------ */

static void test_add_relu(void **state)
{
    fixture *f = *state;
    aglm_graph *g = load_ok(f, MODELS "add_relu.yaml");
    assert_string_equal(aglm_graph_name(g), "add_relu");
    assert_int_equal(aglm_graph_opset(g, ""), 17);
    assert_int_equal(aglm_graph_num_inputs(g), 1);
    assert_int_equal(aglm_graph_num_outputs(g), 1);
    assert_string_equal(aglm_value_name(aglm_graph_input(g, 0)), "x");
    assert_type(aglm_graph_input(g, 0), "f32[2,3]");
    assert_string_equal(aglm_value_name(aglm_graph_output(g, 0)), "y");
    assert_type(aglm_graph_output(g, 0), "f32[2,3]");
    assert_int_equal(aglm_graph_num_nodes(g), 2);
    assert_string_equal(aglm_node_op(aglm_graph_node(g, 0)), "Add");
    assert_string_equal(aglm_node_name(aglm_graph_node(g, 0)), "add");
    assert_string_equal(aglm_node_op(aglm_graph_node(g, 1)), "Relu");
    assert_ptr_equal(aglm_node_input(aglm_graph_node(g, 1), 0),
                     aglm_node_output(aglm_graph_node(g, 0), 0));
    assert_const(g, "b", "f32[2,3]", 6, (const double[]){0.5, 0.5, -4, 1, -1, 10});
    aglm_graph_free(g);
}

static void test_conv_nested_data_and_fill(void **state)
{
    fixture *f = *state;
    aglm_graph *g = load_ok(f, MODELS "conv_1ch.yaml");
    /* y's type was not declared: inference gives it. */
    assert_type(aglm_graph_output(g, 0), "f32[1,1,2,2]");
    assert_const(g, "w", "f32[1,1,2,2]", 4, (const double[]){1, 2, 3, 4});
    assert_const(g, "b", "f32[1]", 1, (const double[]){0.5});
    const aglm_node *conv = find_node(g, "Conv");
    assert_non_null(conv);
    size_t n = 0;
    const int64_t *ks = aglm_node_get_ints(conv, "kernel_shape", &n);
    assert_int_equal(n, 2);
    assert_int_equal(ks[0], 2);
    assert_int_equal(ks[1], 2);
    assert_non_null(aglm_node_get_ints(conv, "pads", &n));
    assert_int_equal(n, 4);
    aglm_graph_free(g);
}

static void test_matmul_softmax(void **state)
{
    fixture *f = *state;
    aglm_graph *g = load_ok(f, MODELS "matmul_add_softmax.yaml");
    assert_type(aglm_graph_find_value(g, "xw"), "f32[2,3]");
    assert_type(aglm_graph_output(g, 0), "f32[2,3]");
    const aglm_node *sm = find_node(g, "Softmax");
    assert_non_null(sm);
    assert_int_equal(aglm_attr_kind(aglm_node_attr(sm, "axis")), AGLM_ATTR_INT);
    assert_int_equal(aglm_node_get_int(sm, "axis", 0), -1);
    aglm_graph_free(g);
}

static void test_gemm_int_where_float(void **state)
{
    fixture *f = *state;
    aglm_graph *g = load_ok(f, MODELS "gemm_transb.yaml");
    const aglm_node *gemm = find_node(g, "Gemm");
    assert_non_null(gemm);
    assert_int_equal(aglm_attr_kind(aglm_node_attr(gemm, "alpha")), AGLM_ATTR_INT);
    assert_true(aglm_node_get_float(gemm, "alpha", 1.0f) == 2.0f);
    assert_int_equal(aglm_attr_kind(aglm_node_attr(gemm, "beta")), AGLM_ATTR_FLOAT);
    assert_true(aglm_node_get_float(gemm, "beta", 1.0f) == 0.5f);
    assert_int_equal(aglm_node_get_int(gemm, "transB", 0), 1);
    assert_type(aglm_graph_output(g, 0), "f32[2,2]");
    aglm_graph_free(g);
}

static void test_npy_initializer(void **state)
{
    fixture *f = *state;
    aglm_graph *g = load_ok(f, MODELS "npy_bias.yaml");
    assert_const(g, "b", "f32[3]", 3, (const double[]){1, 2, 3});
    assert_const(g, "two", "f32[]", 1, (const double[]){2});
    assert_type(aglm_graph_output(g, 0), "f32[3]");
    /* Unnamed nodes get names of their own, distinct from each other. */
    assert_int_equal(aglm_graph_num_nodes(g), 2);
    assert_string_not_equal(aglm_node_name(aglm_graph_node(g, 0)),
                            aglm_node_name(aglm_graph_node(g, 1)));
    aglm_graph_free(g);
}

static void test_symbolic_dims_and_tensor_attr(void **state)
{
    fixture *f = *state;
    aglm_graph *g = load_ok(f, MODELS "symbolic_batch.yaml");
    assert_type(aglm_graph_input(g, 0), "f32[N,4]");
    assert_type(aglm_graph_output(g, 0), "f32[N,2]");
    assert_string_equal(aglm_value_dim(aglm_graph_output(g, 0), 0).sym, "N");
    assert_string_equal(aglm_graph_meta(g, "producer"), "hand");
    assert_int_equal(aglm_graph_opset(g, ""), 17);
    const aglm_node *k = find_node(g, "Constant");
    assert_non_null(k);
    const aglm_attr *a = aglm_node_attr(k, "value");
    assert_int_equal(aglm_attr_kind(a), AGLM_ATTR_TENSOR);
    const aglm_tensor *t = aglm_attr_tensor(a);
    assert_int_equal(t->dtype, AGLM_F32);
    assert_int_equal(t->rank, 1);
    assert_int_equal(t->dims[0], 2);
    assert_true(aglm_tensor_get_f64(t, 0) == 0.25 && aglm_tensor_get_f64(t, 1) == -0.25);
    aglm_graph_free(g);
}

static void test_subgraphs_read_outer_values(void **state)
{
    fixture *f = *state;
    aglm_graph *g = load_ok(f, MODELS "if_subgraph.yaml");
    const aglm_node *n = find_node(g, "If");
    assert_non_null(n);
    const aglm_attr *then_a = aglm_node_attr(n, "then_branch"),
                    *else_a = aglm_node_attr(n, "else_branch");
    assert_int_equal(aglm_attr_kind(then_a), AGLM_ATTR_GRAPH);
    assert_int_equal(aglm_attr_kind(else_a), AGLM_ATTR_GRAPH);
    aglm_graph *then_g = aglm_attr_graph(then_a);
    assert_ptr_equal(aglm_graph_parent(then_g), g);
    assert_int_equal(aglm_graph_num_nodes(then_g), 1);
    const aglm_node *add = aglm_graph_node(then_g, 0);
    assert_string_equal(aglm_node_op(add), "Add");
    /* The branch reads x and `one` of the enclosing graph, not copies of them. */
    assert_ptr_equal(aglm_node_input(add, 0), aglm_graph_find_value(g, "x"));
    assert_ptr_equal(aglm_node_input(add, 1), aglm_graph_find_value(g, "one"));
    assert_type(aglm_graph_output(then_g, 0), "f32[2]");
    assert_string_equal(aglm_node_op(aglm_graph_node(aglm_attr_graph(else_a), 0)), "Sub");
    aglm_graph_free(g);
}

/* ---- errors ----------------------------------------------------------------------------- */

static void test_missing_file(void **state)
{
    fixture *f = *state;
    load_fails(f, MODELS "no_such_model.yaml", AGLM_ERR_NOT_FOUND, "no_such_model.yaml",
               "cannot open", NULL);
    load_fails(f, MODELS, AGLM_ERR_IO, "not a regular file", NULL);
}

static void test_empty_file(void **state)
{
    load_fails(*state, MODELS "bad_empty.yaml", AGLM_ERR_PARSE, "bad_empty.yaml: empty file", NULL);
}

static void test_malformed_yaml(void **state)
{
    /* libyaml reports where the flow list should have closed; the message carries its line. */
    load_fails(*state, MODELS "bad_syntax.yaml", AGLM_ERR_PARSE,
               "bad_syntax.yaml:5:", "malformed yaml", NULL);
}

static void test_undefined_input(void **state)
{
    load_fails(*state, MODELS "bad_undefined_input.yaml", AGLM_ERR_NOT_FOUND,
               "bad_undefined_input.yaml:9:41: node 'conv1' (Conv): input 'w2' is not defined",
               NULL);
}

static void test_unknown_op(void **state)
{
    load_fails(*state, MODELS "bad_unknown_op.yaml", AGLM_ERR_UNSUPPORTED,
               "bad_unknown_op.yaml:8:10: node 'n3': unknown op 'Convv'", NULL);
}

static void test_shape_not_a_list(void **state)
{
    load_fails(*state, MODELS "bad_shape_not_list.yaml", AGLM_ERR_PARSE,
               "bad_shape_not_list.yaml:3:", "input 'x': shape must be a list, not an integer",
               NULL);
}

static void test_data_count_mismatch(void **state)
{
    load_fails(*state, MODELS "bad_data_count.yaml", AGLM_ERR_SHAPE, "bad_data_count.yaml:7:",
               "initializer 'b': data has 5 values but shape [2,3] needs 6", NULL);
}

static void test_npy_missing(void **state)
{
    load_fails(*state, MODELS "bad_npy_missing.yaml", AGLM_ERR_NOT_FOUND,
               "bad_npy_missing.yaml:7:", "npy file 'weights/missing.npy' cannot be read", NULL);
}

static void test_npy_path_escapes(void **state)
{
    load_fails(*state, MODELS "bad_npy_escape.yaml", AGLM_ERR_INVALID, "bad_npy_escape.yaml:7:",
               "npy path 'weights/../../secret.npy' leaves the model's folder", NULL);
}

/* A path that stays inside as written but leads outside through a symbolic link is refused too. */
static void test_npy_symlink_escapes(void **state)
{
    fixture *f = *state;
    char dir[] = "/tmp/aglm-yaml-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char model[256], link[256];
    snprintf(model, sizeof model, "%s/m.yaml", dir);
    snprintf(link, sizeof link, "%s/b.npy", dir);
    assert_int_equal(symlink(MODELS "weights/bias3.npy", link), 0);
    FILE *fp = fopen(model, "w");
    assert_non_null(fp);
    fputs("inputs: [{name: x, dtype: f32, shape: [3]}]\n"
          "outputs: [{name: y}]\n"
          "initializers: [{name: b, npy: b.npy}]\n"
          "nodes: [{op: Add, inputs: [x, b], outputs: [y]}]\n",
          fp);
    fclose(fp);
    load_fails(f, model, AGLM_ERR_INVALID,
               "m.yaml:3:", "npy path 'b.npy' leaves the model's folder", NULL);
    /* The same file copied in is accepted, so the refusal is about the link alone. */
    unlink(link);
    aglm_tensor t;
    assert_int_equal(aglm_npy_load(MODELS "weights/bias3.npy", &t), AGLM_OK);
    assert_int_equal(aglm_npy_save(link, &t), AGLM_OK);
    aglm_tensor_free(&t);
    aglm_graph *g = load_ok(f, model);
    assert_string_equal(aglm_graph_name(g), "m");
    aglm_graph_free(g);
    unlink(link);
    unlink(model);
    rmdir(dir);
}

static void test_unknown_key(void **state)
{
    load_fails(*state, MODELS "bad_unknown_key.yaml", AGLM_ERR_PARSE,
               "bad_unknown_key.yaml:7:16: unknown key 'input' in node #0", NULL);
}

static void test_unknown_dtype(void **state)
{
    load_fails(*state, MODELS "bad_dtype.yaml", AGLM_ERR_PARSE,
               "bad_dtype.yaml:3:", "input 'x': unknown dtype 'f33'", NULL);
}

static void test_value_defined_twice(void **state)
{
    load_fails(*state, MODELS "bad_duplicate_value.yaml", AGLM_ERR_EXISTS,
               "bad_duplicate_value.yaml:8:",
               "node 'second' (Sigmoid): output 'h' is already defined", NULL);
}

static void test_output_not_defined(void **state)
{
    load_fails(*state, MODELS "bad_output_undefined.yaml", AGLM_ERR_NOT_FOUND,
               "bad_output_undefined.yaml:5:", "output 'z' is not defined", NULL);
}

static void test_inference_error_names_file(void **state)
{
    /* Inference errors come from libaglm; the frontend puts the file in front. */
    load_fails(*state, MODELS "bad_broadcast.yaml", AGLM_ERR_SHAPE,
               "bad_broadcast.yaml:9:5: ", "add", "[2,3]", "[4]", NULL);
}

static void test_declared_output_clash(void **state)
{
    load_fails(*state, MODELS "bad_declared_output.yaml", AGLM_ERR_SHAPE,
               "bad_declared_output.yaml:5:",
               "output 'y' is declared f32[2,4] but the model computes f32[2,3]", NULL);
}

static void test_mixed_attr_list(void **state)
{
    load_fails(*state, MODELS "bad_attr_list.yaml", AGLM_ERR_PARSE, "bad_attr_list.yaml:7:",
               "node 'pool' (MaxPool): attribute 'kernel_shape': a list must hold only numbers or "
               "only strings",
               NULL);
}

/* Errors that need no file of their own: written to a temporary folder. */
static void load_text_fails(fixture *f, const char *text, aglm_status want, const char *frag)
{
    char path[] = "/tmp/aglm-yaml-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    load_fails(f, path, want, frag, NULL);
    unlink(path);
}

static void test_more_errors(void **state)
{
    fixture *f = *state;
    const char *head = "inputs: [{name: x, dtype: f32, shape: [2]}]\noutputs: [{name: y}]\n";
    char text[1024];
#define WITH(body) (snprintf(text, sizeof text, "%s%s", head, body), text)
    load_text_fails(f, "- just\n- a list\n", AGLM_ERR_PARSE,
                    "the model must be a mapping, not a list");
    load_text_fails(f, "inputs: [{name: x, dtype: f32}]\nnodes: []\n", AGLM_ERR_PARSE,
                    "the model has no outputs");
    load_text_fails(f, WITH("nodes: [{op: Relu, inputs: [x], outputs: [y]}]\n---\nnodes: []\n"),
                    AGLM_ERR_PARSE, "a second yaml document");
    load_text_fails(f, WITH("nodes: [{inputs: [x], outputs: [y]}]\n"), AGLM_ERR_PARSE,
                    "node #0 has no op");
    load_text_fails(f, WITH("nodes: [{op: Relu, inputs: [x]}]\n"), AGLM_ERR_PARSE,
                    "node #0 (Relu) has no outputs");
    load_text_fails(f, WITH("nodes: [{op: Relu, name: r, inputs: x, outputs: [y]}]\n"),
                    AGLM_ERR_PARSE, "node 'r' (Relu): inputs must be a list, not a string");
    load_text_fails(f, WITH("initializers: [{name: c, dtype: f32, shape: [2]}]\n"), AGLM_ERR_PARSE,
                    "initializer 'c' needs exactly one of data, fill or npy");
    load_text_fails(f, WITH("initializers: [{name: c, dtype: i8, shape: [1], data: [300]}]\n"),
                    AGLM_ERR_PARSE, "300 does not fit in i8");
    load_text_fails(f, WITH("initializers: [{name: c, dtype: i32, shape: [1], data: [1.5]}]\n"),
                    AGLM_ERR_PARSE, "must be an integer, not a float");
    load_text_fails(f, WITH("initializers: [{name: c, dtype: f32, shape: [N], fill: 1}]\n"),
                    AGLM_ERR_PARSE, "a constant's dims must be integers");
    load_text_fails(f, WITH("initializers: [{name: x, dtype: f32, shape: [1], fill: 1}]\n"),
                    AGLM_ERR_EXISTS, "initializer 'x' is already defined");
    load_text_fails(f, WITH("nodes: [{op: Foo, domain: com.example, inputs: [x], outputs: [y]}]\n"),
                    AGLM_ERR_UNSUPPORTED, "unknown op 'Foo' in domain 'com.example'");
    load_text_fails(f,
                    WITH("nodes: [{op: Relu, inputs: [x], outputs: [y], attrs: {a: {tensor: {}, "
                         "graph: {}}}}]\n"),
                    AGLM_ERR_PARSE, "holds exactly one of tensor, tensors, graph, graphs");
    load_text_fails(f, WITH("nodes: [{op: Relu, inputs: [x], outputs: [y], attrs: {a: ~}}]\n"),
                    AGLM_ERR_PARSE, "attribute 'a' has no value");
    load_text_fails(f, "opset: 17\nopsets: {\"\": 17}\noutputs: [{name: y}]\n", AGLM_ERR_PARSE,
                    "either opset or opsets");
    load_text_fails(f,
                    WITH("nodes: [{op: Relu, inputs: [x], outputs: [y], attrs: {a: 1, a: 2}}]\n"),
                    AGLM_ERR_PARSE, "attribute 'a' is given twice");
    /* An alias cycle would make a graph contain itself. */
    load_text_fails(
        f,
        WITH("nodes: &n [{op: If, inputs: [x], outputs: [\"\"], attrs: {then_branch: {graph: "
             "{outputs: [{name: x}], nodes: *n}}}}]\n"),
        AGLM_ERR_PARSE, "subgraphs nest deeper than");
    load_text_fails(f, WITH("initializers: [{name: c, dtype: f32, shape: [2], data: &d [*d]}]\n"),
                    AGLM_ERR_PARSE, "nest");
#undef WITH
}

/* ---- end to end on the cpu backend ------------------------------------------------------- */

typedef struct cpu_run {
    const char *model;
    size_t n_in;
    const char *const *in_names;
    const float *const *in_data;
    const float *expected; /* the first output, computed by hand in the model's comments */
    size_t n_expected;
} cpu_run;

static void run_on_cpu(fixture *f, aglm_plugin_ref *cpu, const cpu_run *r)
{
    const aglm_backend_ops *be = host_ref_desc(cpu)->ops;
    void *bs = host_ref_state(cpu);
    aglm_graph *g = load_ok(f, r->model);
    aglm_exec *x = NULL;
    if (be->compile(bs, g, NULL, &x) != AGLM_OK)
        fail_msg("%s: compile: %s", r->model, aglm_last_error());
    aglm_tensor in[4];
    assert_true(r->n_in <= 4);
    for (size_t i = 0; i < r->n_in; i++) {
        const aglm_value *v = aglm_graph_input(g, i);
        assert_string_equal(aglm_value_name(v), r->in_names[i]);
        int64_t dims[AGLM_MAX_RANK];
        for (int d = 0; d < aglm_value_rank(v); d++)
            dims[d] = aglm_value_dim(v, d).value;
        aglm_tensor_wrap(&in[i], AGLM_F32, aglm_value_rank(v), dims, (void *)r->in_data[i]);
    }
    aglm_tensor out = {0};
    if (be->run(bs, x, r->n_in, in, 1, &out) != AGLM_OK)
        fail_msg("%s: run: %s", r->model, aglm_last_error());
    assert_int_equal(out.dtype, AGLM_F32);
    assert_int_equal(aglm_tensor_numel(&out), r->n_expected);
    for (size_t i = 0; i < r->n_expected; i++) {
        double got = aglm_tensor_get_f64(&out, (int64_t)i);
        if (fabs(got - r->expected[i]) > 1e-5)
            fail_msg("%s: output[%zu] = %.8g, computed by hand %.8g", r->model, i, got,
                     r->expected[i]);
    }
    aglm_tensor_free(&out);
    be->release(bs, x);
    aglm_graph_free(g);
}

static void test_models_on_cpu_backend(void **state)
{
    fixture *f = *state;
    if (host_registry_load(f->reg, AGLM_PLUGIN_DIR "/backend-cpu.so", NULL) != AGLM_OK)
        fail_msg("loading backend-cpu.so: %s", aglm_last_error());
    aglm_plugin_ref *cpu = host_registry_acquire(f->reg, "cpu", AGLM_KIND_BACKEND);
    assert_non_null(cpu);

    static const char *const x[] = {"x"}, *const a[] = {"A"};
    static const float add_x[] = {1, -2, 3, -4, 5, -6};
    static const float add_y[] = {1.5f, 0, 0, 0, 4, 4};
    static const float conv_x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const float conv_y[] = {37.5f, 47.5f, 67.5f, 77.5f};
    static const float sm_x[] = {1, 2, 0, -1};
    static const float sm_y[] = {0.21194156f, 0.21194156f, 0.57611688f,
                                 0.46831053f, 0.06337894f, 0.46831053f};
    static const float gemm_a[] = {1, 2, 3, 4, 5, 6};
    static const float gemm_y[] = {9, 1, 21, 1};
    static const float npy_x[] = {1, -1, 0.5f};
    static const float npy_y[] = {3, 0, 4};
    const cpu_run runs[] = {
        {MODELS "add_relu.yaml", 1, x, (const float *const[]){add_x}, add_y, 6},
        {MODELS "conv_1ch.yaml", 1, x, (const float *const[]){conv_x}, conv_y, 4},
        {MODELS "matmul_add_softmax.yaml", 1, x, (const float *const[]){sm_x}, sm_y, 6},
        {MODELS "gemm_transb.yaml", 1, a, (const float *const[]){gemm_a}, gemm_y, 4},
        {MODELS "npy_bias.yaml", 1, x, (const float *const[]){npy_x}, npy_y, 3},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        run_on_cpu(f, cpu, &runs[i]);

    /* The default model: no hand result, but ten class probabilities that sum to 1. */
    const aglm_backend_ops *be = host_ref_desc(cpu)->ops;
    aglm_graph *g = load_ok(f, AGLM_SOURCE_DIR "/scripts/models/default.yaml");
    aglm_exec *exec = NULL;
    if (be->compile(host_ref_state(cpu), g, NULL, &exec) != AGLM_OK)
        fail_msg("default.yaml: compile: %s", aglm_last_error());
    float image[64];
    for (int i = 0; i < 64; i++)
        image[i] = (float)((i * 5) % 9) / 8.0f;
    aglm_tensor in, out = {0};
    aglm_tensor_wrap(&in, AGLM_F32, 4, (const int64_t[]){1, 1, 8, 8}, image);
    if (be->run(host_ref_state(cpu), exec, 1, &in, 1, &out) != AGLM_OK)
        fail_msg("default.yaml: run: %s", aglm_last_error());
    assert_int_equal(aglm_tensor_numel(&out), 10);
    double sum = 0;
    for (int i = 0; i < 10; i++) {
        double p = aglm_tensor_get_f64(&out, i);
        assert_true(p > 0 && p < 1);
        sum += p;
    }
    assert_true(fabs(sum - 1) < 1e-5);
    aglm_tensor_free(&out);
    be->release(host_ref_state(cpu), exec);
    aglm_graph_free(g);
    host_registry_release(cpu);
}

/* The default model of scripts/cpu_fp32.lua loads, with the shapes its comment promises. */
static void test_default_model(void **state)
{
    fixture *f = *state;
    aglm_graph *g = load_ok(f, AGLM_SOURCE_DIR "/scripts/models/default.yaml");
    assert_type(aglm_graph_input(g, 0), "f32[1,1,8,8]");
    assert_type(aglm_graph_find_value(g, "pool_out"), "f32[1,4,4,4]");
    assert_type(aglm_graph_find_value(g, "flat"), "f32[1,64]");
    assert_type(aglm_graph_output(g, 0), "f32[1,10]");
    /* Spot checks of the weight formulas in the file's comment. */
    const aglm_tensor *w = aglm_value_const(aglm_graph_find_value(g, "conv.w"));
    const aglm_tensor *fc = aglm_value_const(aglm_graph_find_value(g, "fc.w"));
    assert_non_null(w);
    assert_non_null(fc);
    for (int o = 0; o < 4; o++)
        for (int k = 0; k < 9; k++)
            assert_true(fabs(aglm_tensor_get_f64(w, o * 9 + k) - ((9 * o + k) % 5 - 2) * 0.25) <
                        1e-6);
    for (int k = 0; k < 10; k++)
        for (int n = 0; n < 64; n++)
            assert_true(fabs(aglm_tensor_get_f64(fc, k * 64 + n) -
                             ((7 * k + 3 * n) % 11 - 5) * 0.02) < 1e-6);
    aglm_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_relu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_nested_data_and_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matmul_softmax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gemm_int_where_float, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npy_initializer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symbolic_dims_and_tensor_attr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subgraphs_read_outer_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_yaml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undefined_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_op, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shape_not_a_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_count_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npy_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npy_path_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npy_symlink_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_dtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_defined_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_not_defined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inference_error_names_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_output_clash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_attr_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_more_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models_on_cpu_backend, setup, teardown),
    };
    return cmocka_run_group_tests_name("yaml_frontend", tests, NULL, NULL);
}
