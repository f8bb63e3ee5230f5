/* The cpu backend's SIMD paths ([plugin.cpu] simd, AGLM_CPU_SIMD): every path this CPU runs
 * gives MatMul, Gemm and Conv results within float rounding of a double reference and of the
 * portable path, on sizes that are not multiples of any path's register or cache blocks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

static const char *const paths[] = {"portable", "avx2"};
enum { NPATHS = 2 };

/* Whether this CPU should run the path (what the backend's own check must agree with). */
static int cpu_runs(const char *path)
{
    if (strcmp(path, "portable") == 0)
        return 1;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (strcmp(path, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return 0;
}

/* The cpu backend (whatever AGLM_TEST_BACKEND says: simd is its setting alone) loaded with
 * [plugin.cpu] threads and simd (either may be NULL). */
typedef struct simd_fx {
    backend_fx fx;
} simd_fx;

static aglm_status load(simd_fx *s, const char *threads, const char *simd)
{
    const char *keys[2] = {"threads", "simd"}, *values[2] = {threads, simd};
    return backend_fx_load_config(&s->fx, "cpu", 2, keys, values);
}

static void load_ok(simd_fx *s, const char *threads, const char *simd)
{
    if (load(s, threads, simd) != AGLM_OK)
        fail_msg("loading backend-cpu.so with simd = %s: %s", simd ? simd : "(unset)",
                 aglm_last_error());
}

static void device_name(simd_fx *s, char *out, size_t n)
{
    aglm_backend_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    assert_int_equal(s->fx.ops->query(s->fx.state, &info), AGLM_OK);
    snprintf(out, n, "%s", info.device_name);
}

/* ---- references ---------------------------------------------------------------------- */

static uint32_t rng = 1;

static int64_t rand_in(int64_t lo, int64_t hi)
{
    rng = rng * 1664525u + 1013904223u;
    return lo + (int64_t)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

/* Y = alpha * op(A) op(B) + beta * C in double; C is [m, n], [n] or absent. */
static aglm_tensor gemm_ref(const aglm_tensor *a, const aglm_tensor *b, const aglm_tensor *c,
                            int ta, int tb, double alpha, double beta)
{
    int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
    int64_t n = tb ? b->dims[0] : b->dims[1];
    const float *A = a->data, *B = b->data;
    aglm_tensor y = tensor_f32(2, (int64_t[]){m, n}, NULL);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++)
                s +=
                    (double)(ta ? A[p * m + i] : A[i * k + p]) * (tb ? B[j * k + p] : B[p * n + j]);
            s *= alpha;
            if (c)
                s += beta * ((const float *)c->data)[c->rank == 1 ? j : i * n + j];
            ((float *)y.data)[i * n + j] = (float)s;
        }
    return y;
}

/* 2-D Conv (NCHW, symmetric pads, stride, group) with bias in double. */
static aglm_tensor conv_ref(const aglm_tensor *x, const aglm_tensor *w, const aglm_tensor *b,
                            int64_t pad, int64_t stride, int64_t group)
{
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t M = w->dims[0], cg = w->dims[1], KH = w->dims[2], KW = w->dims[3];
    int64_t OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
    const float *X = x->data, *Wt = w->data, *B = b->data;
    aglm_tensor y = tensor_f32(4, (int64_t[]){N, M, OH, OW}, NULL);
    float *Y = y.data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++) {
            int64_t g = m / (M / group);
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double s = B[m];
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t kh = 0; kh < KH; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                s += (double)X[((n * C + g * cg + c) * H + ih) * W + iw] *
                                     Wt[((m * cg + c) * KH + kh) * KW + kw];
                            }
                    Y[((n * M + m) * OH + oh) * OW + ow] = (float)s;
                }
        }
    (void)C;
    return y;
}

/* ---- one case on one path ------------------------------------------------------------ */

typedef struct gemm_case {
    int64_t m, n, k;
    int ta, tb, c_rank; /* c_rank 0: no C */
    float alpha, beta;
} gemm_case;

static aglm_tensor run_gemm(simd_fx *s, const gemm_case *gc, uint32_t seed, aglm_tensor *want)
{
    aglm_tensor a =
        tensor_random(2, gc->ta ? (int64_t[]){gc->k, gc->m} : (int64_t[]){gc->m, gc->k}, seed);
    aglm_tensor b =
        tensor_random(2, gc->tb ? (int64_t[]){gc->n, gc->k} : (int64_t[]){gc->k, gc->n}, seed + 1);
    aglm_tensor c =
        tensor_random(gc->c_rank ? gc->c_rank : 1,
                      gc->c_rank == 2 ? (int64_t[]){gc->m, gc->n} : (int64_t[]){gc->n}, seed + 2);
    const aglm_tensor *ins[3] = {&a, &b, gc->c_rank ? &c : NULL};
    size_t n_in = gc->c_rank ? 3 : 2;
    aglm_node *node;
    aglm_graph *g = op_graph("Gemm", 13, n_in, ins, NULL, 1, &node);
    assert_int_equal(aglm_node_set_int(node, "transA", gc->ta), AGLM_OK);
    assert_int_equal(aglm_node_set_int(node, "transB", gc->tb), AGLM_OK);
    assert_int_equal(aglm_node_set_float(node, "alpha", gc->alpha), AGLM_OK);
    assert_int_equal(aglm_node_set_float(node, "beta", gc->beta), AGLM_OK);
    aglm_tensor y;
    run_op(&s->fx, g, n_in, ins, NULL, 1, &y);
    if (want)
        *want = gemm_ref(&a, &b, gc->c_rank ? &c : NULL, gc->ta, gc->tb, gc->alpha, gc->beta);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&c);
    return y;
}

static aglm_tensor run_matmul(simd_fx *s, int64_t batch, int64_t m, int64_t n, int64_t k,
                              uint32_t seed)
{
    aglm_tensor a = tensor_random(3, (int64_t[]){batch, m, k}, seed);
    aglm_tensor b = tensor_random(3, (int64_t[]){batch, k, n}, seed + 1);
    const aglm_tensor *ins[2] = {&a, &b};
    aglm_graph *g = op_graph("MatMul", 17, 2, ins, NULL, 1, NULL);
    aglm_tensor y;
    run_op(&s->fx, g, 2, ins, NULL, 1, &y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    return y;
}

typedef struct conv_case {
    int64_t n, c, h, w, m, kh, pad, stride, group;
} conv_case;

static aglm_tensor run_conv(simd_fx *s, const conv_case *cc, uint32_t seed, aglm_tensor *want)
{
    aglm_tensor x = tensor_random(4, (int64_t[]){cc->n, cc->c, cc->h, cc->w}, seed);
    aglm_tensor w =
        tensor_random(4, (int64_t[]){cc->m, cc->c / cc->group, cc->kh, cc->kh}, seed + 1);
    aglm_tensor b = tensor_random(1, (int64_t[]){cc->m}, seed + 2);
    const aglm_tensor *ins[3] = {&x, &w, &b};
    const int is_const[3] = {0, 1, 1};
    aglm_node *node;
    aglm_graph *g = op_graph("Conv", 17, 3, ins, is_const, 1, &node);
    int64_t pads[4] = {cc->pad, cc->pad, cc->pad, cc->pad}, strides[2] = {cc->stride, cc->stride};
    assert_int_equal(aglm_node_set_ints(node, "pads", pads, 4), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(node, "strides", strides, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(node, "group", cc->group), AGLM_OK);
    aglm_tensor y;
    run_op(&s->fx, g, 3, ins, is_const, 1, &y);
    if (want)
        *want = conv_ref(&x, &w, &b, cc->pad, cc->stride, cc->group);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
    aglm_tensor_free(&b);
    return y;
}

/* ---- tests --------------------------------------------------------------------------- */

/* Each available path's device name says it is active; paths this CPU lacks are refused. */
static void test_paths_load_and_report(void **state)
{
    for (int p = 0; p < NPATHS; p++) {
        simd_fx s;
        aglm_status st = load(&s, "2", paths[p]);
        if (!cpu_runs(paths[p])) {
            assert_int_equal(st, AGLM_ERR_UNSUPPORTED);
            assert_non_null(strstr(aglm_last_error(), "simd"));
            assert_non_null(strstr(aglm_last_error(), paths[p]));
            backend_fx_unload(&s.fx);
            continue;
        }
        if (st != AGLM_OK)
            fail_msg("simd = %s: %s", paths[p], aglm_last_error());
        char name[128], want[32];
        device_name(&s, name, sizeof name);
        snprintf(want, sizeof want, "simd %s", paths[p]);
        if (!strstr(name, want))
            fail_msg("device name '%s' does not say '%s'", name, want);
        backend_fx_unload(&s.fx);
    }
    /* auto picks the fastest this CPU runs */
    simd_fx s;
    load_ok(&s, "2", "auto");
    char name[128];
    device_name(&s, name, sizeof name);
    const char *best = cpu_runs("avx2") ? "simd avx2" : "simd portable";
    if (!strstr(name, best))
        fail_msg("simd = auto: device name '%s' does not say '%s'", name, best);
    backend_fx_unload(&s.fx);
}

static void test_bad_setting_refused(void **state)
{
    simd_fx s;
    assert_int_equal(load(&s, NULL, "sse9"), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "[plugin.cpu] simd"));
    assert_non_null(strstr(aglm_last_error(), "sse9"));
    backend_fx_unload(&s.fx);

    /* the environment overrides the config file, and is checked the same way */
    setenv("AGLM_CPU_SIMD", "neon-ish", 1);
    assert_int_equal(load(&s, NULL, "portable"), AGLM_ERR_INVALID);
    assert_non_null(strstr(aglm_last_error(), "AGLM_CPU_SIMD"));
    assert_non_null(strstr(aglm_last_error(), "neon-ish"));
    backend_fx_unload(&s.fx);
    setenv("AGLM_CPU_SIMD", "portable", 1);
    load_ok(&s, NULL, "auto");
    char name[128];
    device_name(&s, name, sizeof name);
    unsetenv("AGLM_CPU_SIMD");
    if (!strstr(name, "simd portable"))
        fail_msg("AGLM_CPU_SIMD=portable over simd = auto: device name '%s'", name);
    backend_fx_unload(&s.fx);
}

/* Gemm on random and edge sizes (K crossing the 256 cache block, so later K slices add into C;
 * M, N one off the 4/6-row and 8/16-column register blocks), every transpose, alpha, beta and
 * C form, on every path: each within rounding of the double reference, and of portable. */
static void test_gemm_every_path(void **state)
{
    gemm_case cases[24] = {
        {1, 1, 1, 0, 0, 0, 1.0f, 0.0f},
        {6, 16, 256, 0, 0, 2, 1.0f, 1.0f},
        {7, 17, 257, 1, 0, 2, 0.5f, 2.0f},
        {5, 15, 513, 0, 1, 1, -1.5f, 0.25f},
        {73, 257, 300, 1, 1, 2, 1.0f, 1.0f},
        {150, 33, 9, 0, 0, 1, 2.0f, 0.0f},
        {3, 300, 1, 1, 1, 0, 1.0f, 0.0f},
        /* one row (gemv.c): B as it lies, every transpose, blocks of 512 columns, threaded */
        {1, 7, 300, 0, 0, 1, 1.0f, 1.0f},
        {1, 1100, 77, 1, 0, 2, 0.5f, 2.0f},
        {1, 513, 2400, 0, 1, 0, 1.0f, 0.0f},
        {1, 33, 17, 1, 1, 1, -1.5f, 0.25f},
        {1, 40, 301, 0, 1, 2, 1.0f, 0.5f},
    };
    rng = 7;
    for (int i = 12; i < 24; i++)
        cases[i] = (gemm_case){rand_in(1, 100),
                               rand_in(1, 140),
                               rand_in(1, 300),
                               (int)rand_in(0, 1),
                               (int)rand_in(0, 1),
                               (int)rand_in(0, 2),
                               (float)rand_in(1, 4) * 0.5f,
                               (float)rand_in(0, 3) * 0.5f};
    aglm_tensor base[24], want[24];
    for (int p = 0; p < NPATHS; p++) {
        if (!cpu_runs(paths[p]))
            continue;
        simd_fx s;
        load_ok(&s, "2", paths[p]);
        for (int i = 0; i < 24; i++) {
            const gemm_case *gc = &cases[i];
            aglm_tensor y = run_gemm(&s, gc, 100 + (uint32_t)i, p == 0 ? &want[i] : NULL);
            /* |terms| < 1, so a float sum of k of them is off by at most ~k ulps of k */
            double tol = 4e-7 * (double)gc->k * fabs(gc->alpha) + 1e-6;
            assert_close(&y, &want[i], tol, 1e-6);
            if (p == 0)
                base[i] = y;
            else {
                assert_close(&y, &base[i], tol, 1e-6);
                aglm_tensor_free(&y);
            }
        }
        backend_fx_unload(&s.fx);
    }
    for (int i = 0; i < 24; i++) {
        aglm_tensor_free(&base[i]);
        aglm_tensor_free(&want[i]);
    }
}

/* Batched MatMul (one multiply per worker, each on its own scratch) agrees across paths. */
static void test_matmul_batched_every_path(void **state)
{
    aglm_tensor base;
    for (int p = 0; p < NPATHS; p++) {
        if (!cpu_runs(paths[p]))
            continue;
        simd_fx s;
        load_ok(&s, "3", paths[p]);
        aglm_tensor y = run_matmul(&s, 5, 37, 45, 131, 9);
        if (p == 0)
            base = y;
        else {
            assert_close(&y, &base, 1e-4, 1e-6);
            aglm_tensor_free(&y);
        }
        backend_fx_unload(&s.fx);
    }
    /* and the batched result is the per-batch product */
    aglm_tensor a = tensor_random(3, (int64_t[]){5, 37, 131}, 9);
    aglm_tensor b = tensor_random(3, (int64_t[]){5, 131, 45}, 10);
    for (int64_t bi = 0; bi < 5; bi++) {
        aglm_tensor ab = tensor_f32(2, (int64_t[]){37, 131}, (float *)a.data + bi * 37 * 131);
        aglm_tensor bb = tensor_f32(2, (int64_t[]){131, 45}, (float *)b.data + bi * 131 * 45);
        aglm_tensor want = gemm_ref(&ab, &bb, NULL, 0, 0, 1.0, 0.0);
        aglm_tensor got = tensor_f32(2, (int64_t[]){37, 45}, (float *)base.data + bi * 37 * 45);
        assert_close(&got, &want, 1e-4, 1e-6);
        aglm_tensor_free(&ab);
        aglm_tensor_free(&bb);
        aglm_tensor_free(&want);
        aglm_tensor_free(&got);
    }
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&base);
}

/* Conv through the packed-weight driver (3x3, strided, grouped, K over one block, output
 * channels split), the flat 1x1 and depthwise, on every path. */
static void test_conv_every_path(void **state)
{
    const conv_case cases[] = {
        {1, 5, 13, 11, 7, 3, 1, 1, 1},   /* 3x3 im2col, ragged everywhere */
        {2, 8, 9, 17, 12, 3, 1, 2, 2},   /* strided, 2 groups */
        {1, 19, 10, 10, 23, 1, 0, 1, 1}, /* 1x1: the input is the GEMM's B as is */
        {1, 6, 12, 20, 6, 3, 1, 1, 6},   /* depthwise */
        {1, 4, 15, 9, 8, 5, 2, 2, 4},    /* depthwise 5x5 strided, 2 outputs per channel */
        {1, 32, 10, 35, 20, 3, 1, 1, 1}, /* K = 288: two K blocks; runs in place and ragged */
        {2, 270, 3, 9, 130, 1, 0, 1, 1}, /* 1x1, K over a block, channels split into tiles */
        {1, 3, 31, 33, 16, 3, 1, 2, 1},  /* stride 2: every run gathered */
        {1, 3, 9, 41, 3, 3, 1, 2, 3},    /* depthwise stride 2, rows wide enough for vectors */
    };
    enum { NC = sizeof cases / sizeof cases[0] };
    aglm_tensor base[NC], want[NC];
    for (int p = 0; p < NPATHS; p++) {
        if (!cpu_runs(paths[p]))
            continue;
        simd_fx s;
        load_ok(&s, "2", paths[p]);
        for (int i = 0; i < NC; i++) {
            aglm_tensor y = run_conv(&s, &cases[i], 40 + (uint32_t)i, p == 0 ? &want[i] : NULL);
            double tol = 1e-6 * (double)(cases[i].c * cases[i].kh * cases[i].kh) + 1e-6;
            assert_close(&y, &want[i], tol, 1e-6);
            if (p == 0)
                base[i] = y;
            else {
                assert_close(&y, &base[i], tol, 1e-6);
                aglm_tensor_free(&y);
            }
        }
        backend_fx_unload(&s.fx);
    }
    for (int i = 0; i < NC; i++) {
        aglm_tensor_free(&base[i]);
        aglm_tensor_free(&want[i]);
    }
}

/* ---- constant B, packed at compile time ---------------------------------------------- */

/* One node `op` of `domain` (NULL: ai.onnx) over x0.. (absent where ins[i] is NULL), B (x1) an
 * initialiser when const_b, else a graph input; output y0. */
static aglm_graph *node_graph(const char *op, const char *domain, size_t n_in,
                              const aglm_tensor *const *ins, int const_b, aglm_node **node)
{
    aglm_graph *g = aglm_graph_new(op);
    assert_non_null(g);
    assert_int_equal(aglm_graph_set_opset(g, "", 17), AGLM_OK);
    if (domain)
        assert_int_equal(aglm_graph_set_opset(g, domain, 1), AGLM_OK);
    aglm_value *in_vals[4] = {0};
    for (size_t i = 0; i < n_in; i++) {
        if (!ins[i])
            continue;
        char name[32];
        snprintf(name, sizeof name, "x%zu", i);
        if (i == 1 && const_b) {
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
    aglm_value *y = aglm_graph_new_value(g, "y0", AGLM_UNDEFINED, -1, NULL);
    assert_non_null(y);
    *node = aglm_graph_add_node(g, op, domain, "node", n_in, in_vals, 1, &y);
    if (!*node)
        fail_msg("add_node %s: %s", op, aglm_last_error());
    assert_int_equal(aglm_graph_add_output(g, y), AGLM_OK);
    return g;
}

typedef struct constb_case {
    const char *op, *domain;
    int ra;
    int64_t da[3], db[2];
    int64_t c_len; /* 0: no bias / C; else a vector of this length */
    int tb;        /* transB, set on the node when not MatMul */
} constb_case;

static aglm_tensor run_constb(simd_fx *s, const constb_case *cc, int const_b, uint32_t seed)
{
    aglm_tensor a = tensor_random(cc->ra, cc->da, seed), b = tensor_random(2, cc->db, seed + 1);
    aglm_tensor c = tensor_random(1, (int64_t[]){cc->c_len ? cc->c_len : 1}, seed + 2);
    const aglm_tensor *ins[3] = {&a, &b, cc->c_len ? &c : NULL};
    aglm_node *node;
    aglm_graph *g = node_graph(cc->op, cc->domain, cc->c_len ? 3 : 2, ins, const_b, &node);
    if (strcmp(cc->op, "MatMul") != 0 && cc->ra == 2) {
        assert_int_equal(aglm_node_set_int(node, "transB", cc->tb), AGLM_OK);
        assert_int_equal(aglm_node_set_float(node, "alpha", 0.5f), AGLM_OK);
    }
    aglm_tensor y;
    run_op(&s->fx, g, cc->c_len ? 3 : 2, ins, (const int[]){0, const_b, 0}, 1, &y);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&c);
    return y;
}

/* A constant B (packed once when the graph compiles) gives bit for bit what the same B fed as
 * an input gives (packed per call), on every path: K over one 256-deep block, N off the panel
 * width and over one 256-wide tile, batched MatMul sharing one B (split per batch and one
 * multiply per worker), Gemm with transB 0/1 and C, and aglm.FusedMatMul on both its routes.
 * A packed layout read at a wrong offset differs. */
static void test_const_b_every_path(void **state)
{
    const constb_case cases[] = {
        {"MatMul", NULL, 2, {40, 300}, {300, 100}, 0, 0},
        {"MatMul", NULL, 2, {150, 270}, {270, 300}, 0, 0},
        {"MatMul", NULL, 3, {3, 37, 300}, {300, 45}, 0, 0},
        {"MatMul", NULL, 3, {5, 20, 270}, {270, 33}, 0, 0},
        {"Gemm", NULL, 2, {30, 300}, {300, 70}, 70, 0},
        {"Gemm", NULL, 2, {30, 513}, {270, 513}, 270, 1},
        {"Gemm", NULL, 2, {1, 300}, {77, 300}, 77, 1}, /* one row: gemv, never packed */
        {"FusedMatMul", "aglm", 3, {1, 40, 300}, {300, 77}, 77, 0},
        {"FusedMatMul", "aglm", 2, {33, 300}, {77, 300}, 77, 1},
    };
    enum { NC = sizeof cases / sizeof cases[0] };
    for (int p = 0; p < NPATHS; p++) {
        if (!cpu_runs(paths[p]))
            continue;
        simd_fx s;
        load_ok(&s, "2", paths[p]);
        for (int i = 0; i < NC; i++) {
            aglm_tensor yc = run_constb(&s, &cases[i], 1, 70 + (uint32_t)i);
            aglm_tensor yi = run_constb(&s, &cases[i], 0, 70 + (uint32_t)i);
            assert_int_equal(yc.rank, yi.rank);
            int64_t numel = aglm_tensor_numel(&yi);
            assert_int_equal(aglm_tensor_numel(&yc), numel);
            if (memcmp(yc.data, yi.data, (size_t)numel * sizeof(float)) != 0)
                fail_msg("%s case %d on %s: constant B differs from input B", cases[i].op, i,
                         paths[p]);
            aglm_tensor_free(&yc);
            aglm_tensor_free(&yi);
        }
        backend_fx_unload(&s.fx);
    }
}

int main(void)
{
    unsetenv("AGLM_CPU_SIMD");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_load_and_report),
        cmocka_unit_test(test_bad_setting_refused),
        cmocka_unit_test(test_gemm_every_path),
        cmocka_unit_test(test_matmul_batched_every_path),
        cmocka_unit_test(test_conv_every_path),
        cmocka_unit_test(test_const_b_every_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
