/* The backend runtime layer (aglm/schedule.h, memplan.h, executor.h) through its public API,
 * driven by a toy backend of a few lines, as a third party's would be: the one error listing
 * every node a backend cannot run, planned memory lent to steps (from inference when the graph
 * is static, from a recording run when it is not), in-place reuse, a graph output never in the
 * arena, the profile with FLOPs, a subgraph's steps as entries of their own, and the Chrome
 * trace file. */
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

/* ---- a toy backend: Neg, Add (same shapes), MatMul 2-D, If on a bool scalar ---------------- */

typedef struct toy {
    int steps;          /* steps run */
    int lent;           /* outputs that were lent planned memory */
    int inplace;        /* outputs lent an input's own region */
    int bound, unbound; /* bind and unbind calls */
} toy;

static int toy_supports(void *ctx, const aglm_node *n, char *why, size_t len)
{
    (void)ctx;
    const char *op = aglm_node_op(n);
    if (aglm_node_num_inputs(n) && aglm_value_dtype(aglm_node_input(n, 0)) == AGLM_F64) {
        snprintf(why, len, "on f64");
        return 0;
    }
    return aglm_node_is(n, "", "Neg") || aglm_node_is(n, "", "Add") ||
           aglm_node_is(n, "", "MatMul") || aglm_node_is(n, "", "If") ||
           (op && strcmp(op, "Identity") == 0);
}

static aglm_status toy_bind(void *ctx, aglm_sched *s, aglm_step *step)
{
    (void)s;
    toy *t = ctx;
    t->bound++;
    step->user = t; /* anything non-NULL, so unbind is called */
    return AGLM_OK;
}

static void toy_unbind(void *ctx, aglm_step *step)
{
    toy *t = ctx;
    t->unbound++;
    step->user = NULL;
}

static aglm_status toy_step(void *ctx, const aglm_step_io *io)
{
    toy *t = ctx;
    const aglm_node *n = io->step->node;
    const aglm_tensor *a = io->in[0];
    t->steps++;
    if (io->out_mem[0].data) {
        t->lent++;
        for (size_t i = 0; i < io->step->n_in; i++)
            if (io->in[i] && io->in[i]->data == io->out_mem[0].data)
                t->inplace++;
    }
    if (aglm_node_is(n, "", "If")) {
        int c = *(const unsigned char *)a->data;
        return aglm_run_sub(io, c ? "then_branch" : "else_branch", 0, NULL, 1, io->out);
    }
    if (aglm_node_is(n, "", "MatMul")) {
        const aglm_tensor *b = io->in[1];
        int64_t m = a->dims[0], k = a->dims[1], nn = b->dims[1], dims[2] = {m, nn};
        aglm_status st = aglm_tensor_alloc_in(&io->out[0], &io->out_mem[0], AGLM_F32, 2, dims);
        if (st != AGLM_OK)
            return st;
        const float *x = a->data, *w = b->data;
        float *y = io->out[0].data;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < nn; j++) {
                float acc = 0;
                for (int64_t p = 0; p < k; p++)
                    acc += x[i * k + p] * w[p * nn + j];
                y[i * nn + j] = acc;
            }
        return AGLM_OK;
    }
    /* Element-wise: read element i of every input before writing element i (in place is
     * safe). */
    const float *x = a->data, *z = io->step->n_in > 1 ? io->in[1]->data : NULL;
    float xs[64];
    int64_t count = aglm_tensor_numel(a);
    if (count > 64)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "toy: at most 64 elements");
    memcpy(xs, x, (size_t)count * sizeof *xs);
    aglm_status st = aglm_tensor_alloc_in(&io->out[0], &io->out_mem[0], AGLM_F32, a->rank, a->dims);
    if (st != AGLM_OK)
        return st;
    float *y = io->out[0].data;
    for (int64_t i = 0; i < count; i++)
        y[i] = aglm_node_is(n, "", "Neg")   ? -xs[i]
               : aglm_node_is(n, "", "Add") ? xs[i] + z[i]
                                            : xs[i];
    return AGLM_OK;
}

static aglm_executor_desc toy_desc(toy *t)
{
    aglm_executor_desc d;
    memset(&d, 0, sizeof d);
    d.sched.name = "toy";
    d.sched.supports = toy_supports;
    d.sched.bind = toy_bind;
    d.sched.unbind = toy_unbind;
    d.sched.ctx = t;
    d.step = toy_step;
    return d;
}

static aglm_graph *parse(const char *text)
{
    aglm_graph *g = NULL;
    if (aglm_graph_parse(text, &g) != AGLM_OK)
        fail_msg("parse: %s", aglm_last_error());
    return g;
}

static aglm_executor *compile(const char *text, toy *t, const aglm_options *opts)
{
    aglm_graph *g = parse(text);
    aglm_executor_desc d = toy_desc(t);
    aglm_executor *x = NULL;
    if (aglm_executor_new(g, opts, &d, &x) != AGLM_OK)
        fail_msg("compile: %s", aglm_last_error());
    aglm_graph_free(g);
    return x;
}

static aglm_tensor f32(int rank, const int64_t *dims, const float *v)
{
    aglm_tensor t;
    aglm_tensor_wrap(&t, AGLM_F32, rank, dims, (void *)v);
    return t;
}

/* ---- scheduling ------------------------------------------------------------------------- */

static void test_unsupported_nodes_listed_once(void **state)
{
    (void)state;
    toy t = {0};
    aglm_graph *g = parse("graph g(%x: f32[2], %d: f64[2]) -> (%y, %e) {\n"
                          "  opset ai.onnx 17\n"
                          "  %a = Relu(%x) @r1\n"
                          "  %y = Sigmoid(%a) @s1\n"
                          "  %e = Neg(%d) @n64\n"
                          "}\n");
    aglm_executor_desc d = toy_desc(&t);
    aglm_executor *x = NULL;
    assert_int_equal(aglm_executor_new(g, NULL, &d, &x), AGLM_ERR_UNSUPPORTED);
    assert_null(x);
    assert_string_equal(aglm_last_error(), "backend toy cannot run 3 nodes: 'r1' (Relu), 's1' "
                                           "(Sigmoid), 'n64' (Neg on f64)");
    assert_int_equal(t.bound, 0); /* nothing bound when the check fails */
    aglm_graph_free(g);
}

static void test_schedule_slots_and_frees(void **state)
{
    (void)state;
    toy t = {0};
    aglm_executor *x = compile("graph g(%x: f32[4]) -> (%y) {\n"
                               "  opset ai.onnx 17\n"
                               "  %a = Neg(%x) @n1\n"
                               "  %b = Neg(%a) @n2\n"
                               "  %y = Add(%a, %b) @add\n"
                               "}\n",
                               &t, NULL);
    const aglm_sched *s = aglm_executor_sched(x);
    assert_int_equal(s->n_steps, 3);
    assert_int_equal(t.bound, 3);
    /* %a is read last by the Add, which frees it and %b; %y is a graph output: never freed. */
    const aglm_step *add = &s->steps[2];
    assert_int_equal(add->n_free, 2);
    assert_int_equal(s->slots[s->out_slot[0]].last_reader, -1);
    assert_non_null(add->schema);
    assert_true(add->schema->flags & AGLM_OPF_INPLACE);
    aglm_executor_free(x);
    assert_int_equal(t.unbound, 3);
}

/* ---- precomputed steps ------------------------------------------------------------------ */

/* %c = Neg(Neg(%w)) reads constants only: it runs once, when the executor is built, and runs
 * then do the Add alone; a constant-only step making a graph output still runs every time. */
static const char *const const_text = "graph g(%x: f32[4]) -> (%y, %k) {\n"
                                      "  opset ai.onnx 17\n"
                                      "  const %w: f32[4] = [1, 2, 3, 4]\n"
                                      "  %b = Neg(%w) @n1\n"
                                      "  %c = Neg(%b) @n2\n"
                                      "  %k = Neg(%w) @n3\n"
                                      "  %y = Add(%x, %c) @add\n"
                                      "}\n";

static void run_const(aglm_executor *x)
{
    float v[4] = {10, 20, 30, 40};
    int64_t four = 4;
    aglm_tensor in = f32(1, &four, v), out[2];
    if (aglm_executor_run(x, 1, &in, 2, out) != AGLM_OK)
        fail_msg("run: %s", aglm_last_error());
    const float *y = out[0].data, *k = out[1].data;
    for (int i = 0; i < 4; i++) {
        assert_true(y[i] == v[i] + (float)(i + 1));
        assert_true(k[i] == -(float)(i + 1));
    }
    aglm_tensor_free(&out[0]);
    aglm_tensor_free(&out[1]);
}

static void test_constant_steps_run_once(void **state)
{
    (void)state;
    toy t = {0};
    aglm_executor *x = compile(const_text, &t, NULL);
    assert_int_equal(t.steps, 2); /* n1, n2 at compile time */
    const aglm_sched *s = aglm_executor_sched(x);
    assert_true(s->steps[0].precomputed && s->steps[1].precomputed);
    assert_false(s->steps[2].precomputed); /* n3 makes a graph output */
    assert_int_equal(t.bound, 4 + 1);      /* the Add bound again, seeing %c as a constant */
    run_const(x);
    run_const(x);
    assert_int_equal(t.steps, 2 + 2 * 2); /* n3 and add per run */
    aglm_executor_free(x);
    assert_int_equal(t.unbound, t.bound); /* every binding undone, the replaced one at once */

    toy u = {0};
    aglm_kv kv = {"precompute", "0"};
    aglm_options opts = {1, &kv};
    x = compile(const_text, &u, &opts);
    assert_int_equal(u.steps, 0);
    run_const(x);
    assert_int_equal(u.steps, 4);
    aglm_executor_free(x);
}

/* ---- memory ----------------------------------------------------------------------------- */

static const char *const chain_static = "graph g(%x: f32[8]) -> (%y) {\n"
                                        "  opset ai.onnx 17\n"
                                        "  %a = Neg(%x) @n1\n"
                                        "  %b = Neg(%a) @n2\n"
                                        "  %c = Neg(%b) @n3\n"
                                        "  %y = Neg(%c) @n4\n"
                                        "}\n";

static void run_chain(aglm_executor *x, int64_t n)
{
    float v[8] = {1, -2, 3, -4, 5, -6, 7, -8};
    aglm_tensor in = f32(1, &n, v), out;
    if (aglm_executor_run(x, 1, &in, 1, &out) != AGLM_OK)
        fail_msg("run: %s", aglm_last_error());
    for (int64_t i = 0; i < n; i++)
        assert_true(((float *)out.data)[i] == v[i]); /* four negations */
    assert_true(out.flags & AGLM_TENSOR_OWNS_DATA);  /* the caller owns outputs */
    aglm_tensor_free(&out);
}

/* A static graph is planned before it runs: the first run's intermediates are already lent
 * (n1..n3; n4 makes the graph output, which stays off the plan), and each step after the first
 * takes over its input's region. */
static void test_static_plan_from_inference(void **state)
{
    (void)state;
    toy t = {0};
    aglm_executor *x = compile(chain_static, &t, NULL);
    run_chain(x, 8);
    assert_int_equal(t.lent, 3);
    assert_int_equal(t.inplace, 2);
    aglm_executor_free(x);
}

/* A symbolic graph is planned from its first run with those input shapes; the second is lent. */
static void test_recorded_plan_for_symbolic_shapes(void **state)
{
    (void)state;
    toy t = {0};
    char text[512];
    snprintf(text, sizeof text, "%s", chain_static);
    char *p = strstr(text, "f32[8]");
    memcpy(p, "f32[N]", 6);
    aglm_executor *x = compile(text, &t, NULL);
    run_chain(x, 8);
    assert_int_equal(t.lent, 0);
    run_chain(x, 8);
    assert_int_equal(t.lent, 3);
    run_chain(x, 5); /* new shapes: recorded again, then planned */
    assert_int_equal(t.lent, 3);
    run_chain(x, 5);
    assert_int_equal(t.lent, 6);
    aglm_executor_free(x);
}

static void test_plan_off(void **state)
{
    (void)state;
    toy t = {0};
    aglm_kv kv = {"plan", "0"};
    aglm_options opts = {1, &kv};
    aglm_executor *x = compile(chain_static, &t, &opts);
    run_chain(x, 8);
    run_chain(x, 8);
    assert_int_equal(t.lent, 0);
    aglm_executor_free(x);
}

/* The planner on lifetimes worked out by hand: a and c never live together, so they share. */
static void test_plan_assign(void **state)
{
    (void)state;
    const aglm_plan_value v[] = {
        {0, 1, 100, -1}, /* a */
        {1, 2, 64, -1},  /* b */
        {2, 3, 100, -1}, /* c */
        {-1, -1, 0, -1}, /* not planned */
    };
    uint64_t off[4], arena;
    assert_int_equal(aglm_plan_assign(4, v, off, &arena), AGLM_OK);
    assert_int_equal(off[0], off[2]);
    assert_true(off[1] >= 128 || off[1] + 64 <= off[0]);
    assert_int_equal(arena, 192);
    assert_true(off[3] == AGLM_PLAN_NONE);
}

/* ---- profile and trace ------------------------------------------------------------------ */

static const char *const if_text = "graph g(%c: bool[], %a: f32[2,3], %b: f32[3,2]) -> (%y) {\n"
                                   "  opset ai.onnx 17\n"
                                   "  %m = MatMul(%a, %b) @mm\n"
                                   "  %y = If(%c) {then_branch=graph then() -> (%t) {\n"
                                   "      %t = Neg(%m) @neg_in_then\n"
                                   "    }, else_branch=graph else() -> (%e) {\n"
                                   "      %e = Identity(%m) @id_in_else\n"
                                   "    }} @branch\n"
                                   "}\n";

static void run_if(aglm_executor *x, int cond)
{
    unsigned char c = (unsigned char)cond;
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
    aglm_tensor in[3], out;
    aglm_tensor_wrap(&in[0], AGLM_BOOL, 0, NULL, &c);
    in[1] = f32(2, (const int64_t[]){2, 3}, a);
    in[2] = f32(2, (const int64_t[]){3, 2}, b);
    if (aglm_executor_run(x, 3, in, 1, &out) != AGLM_OK)
        fail_msg("run: %s", aglm_last_error());
    float want = cond ? -4 : 4; /* y[0][0] = 1*1 + 2*0 + 3*1 */
    assert_true(((float *)out.data)[0] == want);
    aglm_tensor_free(&out);
}

static int read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (int)n;
}

static void test_profile_and_trace(void **state)
{
    (void)state;
    char dir[] = "/tmp/aglm-exec-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/run.json", dir);
    toy t = {0};
    aglm_kv kv[] = {{"profile", "1"}, {"trace", path}};
    aglm_options opts = {2, kv};
    aglm_executor *x = compile(if_text, &t, &opts);
    run_if(x, 1);
    run_if(x, 0);
    run_if(x, 1);
    aglm_profile p;
    memset(&p, 0, sizeof p);
    assert_int_equal(aglm_executor_profile(x, &p), AGLM_OK);
    assert_int_equal(p.runs, 3);
    /* mm, branch, then its branches' nodes nested after it. */
    assert_int_equal(p.count, 4);
    assert_string_equal(p.entries[0].node, "mm");
    assert_string_equal(p.entries[1].node, "branch");
    assert_string_equal(p.entries[2].node, "branch::then_branch::neg_in_then");
    assert_string_equal(p.entries[3].node, "branch::else_branch::id_in_else");
    assert_int_equal(p.entries[0].calls, 3);
    assert_int_equal(p.entries[2].calls, 2);
    assert_int_equal(p.entries[3].calls, 1);
    assert_int_equal(p.flops, 3 * 2 * 2 * 2 * 3); /* 3 runs of [2,3]x[3,2]: 12 MACs each */

    static char json[1 << 16];
    assert_true(read_file(path, json, sizeof json) > 0);
    assert_non_null(strstr(json, "{\"traceEvents\":["));
    assert_non_null(strstr(json, "\"name\":\"branch::then_branch::neg_in_then\",\"cat\":\"Neg\""));
    assert_non_null(strstr(json, "\"input_shapes\":\"[2,3] [3,2]\",\"flops\":24"));
    assert_non_null(strstr(json, "\"name\":\"run\""));
    aglm_executor_free(x);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_profile_refused_without_option(void **state)
{
    (void)state;
    toy t = {0};
    aglm_executor *x = compile(chain_static, &t, NULL);
    aglm_profile p;
    assert_int_equal(aglm_executor_profile(x, &p), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "compiled without option profile=1"));
    aglm_executor_free(x);

    aglm_kv kv = {"trace", "/nonexistent-dir/run.json"};
    aglm_options opts = {1, &kv};
    aglm_graph *g = parse(chain_static);
    aglm_executor_desc d = toy_desc(&t);
    assert_int_equal(aglm_executor_new(g, &opts, &d, &x), AGLM_ERR_IO);
    assert_string_equal(aglm_last_error(),
                        "backend toy: trace file '/nonexistent-dir/run.json' cannot be written");
    aglm_graph_free(g);
}

static void test_run_checks(void **state)
{
    (void)state;
    toy t = {0};
    aglm_executor *x = compile(chain_static, &t, NULL);
    float v[4] = {0};
    int64_t four = 4;
    aglm_tensor in = f32(1, &four, v), out;
    assert_int_equal(aglm_executor_run(x, 1, &in, 1, &out), AGLM_ERR_SHAPE);
    assert_null(out.data);
    in.device = AGLM_DEVICE_CUDA;
    in.dims[0] = 8;
    float w[8] = {0};
    in.data = w;
    assert_int_equal(aglm_executor_run(x, 1, &in, 1, &out), AGLM_ERR_INVALID);
    assert_string_equal(aglm_last_error(), "input 'x': tensor is in device memory; backend toy "
                                           "takes host tensors");
    aglm_executor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsupported_nodes_listed_once),
        cmocka_unit_test(test_schedule_slots_and_frees),
        cmocka_unit_test(test_constant_steps_run_once),
        cmocka_unit_test(test_static_plan_from_inference),
        cmocka_unit_test(test_recorded_plan_for_symbolic_shapes),
        cmocka_unit_test(test_plan_off),
        cmocka_unit_test(test_plan_assign),
        cmocka_unit_test(test_profile_and_trace),
        cmocka_unit_test(test_profile_refused_without_option),
        cmocka_unit_test(test_run_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
