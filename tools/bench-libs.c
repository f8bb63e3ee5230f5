/* One implementation of f32 convolution, timed on the real models' convolution shapes: the cpu
 * backend's Conv kernel, oneDNN (plain NCHW or its preferred blocked layouts) or OpenBLAS sgemm
 * on the im2col matrix. Each run is checked against a double-precision direct convolution at
 * sampled output points. Built and run by tools/bench-libs.sh, once per implementation and
 * thread count, so only one threading runtime (our pool, oneDNN's OpenMP, OpenBLAS's pthreads)
 * lives in a process: idle OpenMP and OpenBLAS workers spin after a call and would steal the
 * cores another runtime's threads need.
 *
 *   bench-libs shapes                      one line per shape: index, GFLOP, description
 *   bench-libs IMPL THREADS REPS           IMPL: ours, dnnl-nchw, dnnl-blocked, openblas, mixed
 *
 * Timing lines are tab-separated: "time IDX IMPL THREADS MS EXTRA_MS REL_ERR INFO", where MS is
 * the median per call, EXTRA_MS the part of it spent in im2col (openblas) or the time the
 * reorders of source and destination between NCHW and the blocked layout take (dnnl-blocked;
 * not part of MS), 0 elsewhere, and
 * REL_ERR the largest sampled |y - ref| / max |ref|. Exits 1 when an output is wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <dnnl.h>

#include "bench_util.h"
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "kernels/simd.h"
#include "threadpool.h"

/* OpenBLAS's thread control (cblas.h declares it in the pthread build; declared here too so
 * the file does not depend on which header variant is installed) and OpenMP's thread query. */
void openblas_set_num_threads(int num_threads);
int omp_get_max_threads(void);

/* A 2-D convolution of one image: x [c, h, w], weights [m, c / g, kh, kw], stride (sh, sw),
 * padding ph top and bottom, pw left and right (every conv of the real models pads each axis
 * symmetrically). */
typedef struct conv_shape {
    const char *what;
    int64_t c, h, w, m, kh, kw, sh, sw, ph, pw, g;
} conv_shape;

/* Picked from the models' IR (print_ir) at their benchmark input shapes: the heaviest 3x3 and
 * 1x1 of ocr-det, strided stems, depthwise 3x3 and 5x5 (one strided), and typical ocr-rec and
 * ocr-cls ones. The node name says where each comes from. */
static const conv_shape shapes[] = {
    {"ocr-det Conv.61 3x3 96->24 @160x160", 96, 160, 160, 24, 3, 3, 1, 1, 1, 1, 1},
    {"ocr-det Conv.55 3x3 96->24 @80x80", 96, 80, 80, 24, 3, 3, 1, 1, 1, 1, 1},
    {"ocr-det Conv.6 1x1 48->48 @160x160", 48, 160, 160, 48, 1, 1, 1, 1, 0, 0, 1},
    {"ocr-det Conv.2 1x1 16->32 @320x320", 16, 320, 320, 32, 1, 1, 1, 1, 0, 0, 1},
    {"ocr-det Conv.32 1x1 384->384 @20x20", 384, 20, 20, 384, 1, 1, 1, 1, 0, 0, 1},
    {"ocr-det Conv.0 3x3/2 3->16 @640x640", 3, 640, 640, 16, 3, 3, 2, 2, 1, 1, 1},
    {"ocr-det Conv.1 dw3x3 16 @320x320", 16, 320, 320, 16, 3, 3, 1, 1, 1, 1, 16},
    {"ocr-det Conv.19 dw5x5 192 @40x40", 192, 40, 40, 192, 5, 5, 1, 1, 2, 2, 192},
    {"ocr-rec Conv.28 1x1 480->480 @6x80", 480, 6, 80, 480, 1, 1, 1, 1, 0, 0, 1},
    {"ocr-rec Conv.13 dw5x5 240 @12x80", 240, 12, 80, 240, 5, 5, 1, 1, 2, 2, 240},
    {"ocr-rec Conv.7 dw3x3/(2,1) 64 @24x160", 64, 24, 160, 64, 3, 3, 2, 1, 1, 1, 64},
    {"ocr-rec Conv.36 1x3 960->60 @1x40", 960, 1, 40, 60, 1, 3, 1, 1, 0, 1, 1},
    {"ocr-cls Conv.47 1x1 32->200 @2x96", 32, 2, 96, 200, 1, 1, 1, 1, 0, 0, 1},
    {"ocr-cls Conv.0 3x3/2 3->8 @48x192", 3, 48, 192, 8, 3, 3, 2, 2, 1, 1, 1},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* Sampled output points per check, and the largest relative error accepted: f32 sums of up to
 * 864 products against a double reference stay far below it; a wrong index does not. */
#define SAMPLES 512
#define TOLERANCE 1e-4

static int64_t out_h(const conv_shape *s) { return (s->h + 2 * s->ph - s->kh) / s->sh + 1; }
static int64_t out_w(const conv_shape *s) { return (s->w + 2 * s->pw - s->kw) / s->sw + 1; }

static double gflop(const conv_shape *s)
{
    return 2.0 * (double)(s->m * (s->c / s->g) * s->kh * s->kw * out_h(s) * out_w(s)) / 1e9;
}

/* Wall time by default; BENCH_LIBS_CLOCK=cpu times the process's CPU time instead, which on a
 * loaded machine estimates a single-threaded call's uncontended cost (time spent preempted is
 * not counted). With more threads CPU time sums them, spinning included: not a latency. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

/* The inputs of one shape, and the check of an output [m, oh, ow] in NCHW. */
typedef struct problem {
    const conv_shape *s;
    float *x, *wt, *bias;
    int64_t oh, ow;
} problem;

static double ref_point(const problem *p, int64_t m, int64_t y, int64_t x)
{
    const conv_shape *s = p->s;
    int64_t cg = s->c / s->g, g = m / (s->m / s->g);
    double acc = p->bias[m];
    for (int64_t c = 0; c < cg; c++)
        for (int64_t i = 0; i < s->kh; i++)
            for (int64_t j = 0; j < s->kw; j++) {
                int64_t iy = y * s->sh - s->ph + i, ix = x * s->sw - s->pw + j;
                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                    continue;
                acc += (double)p->x[((g * cg + c) * s->h + iy) * s->w + ix] *
                       p->wt[((m * cg + c) * s->kh + i) * s->kw + j];
            }
    return acc;
}

/* Largest |y - ref| / max |ref| over SAMPLES output points (the corners included, where the
 * padding is). */
static double check(const problem *p, const float *y)
{
    int64_t total = p->s->m * p->oh * p->ow;
    double worst = 0, scale = 1e-30;
    unsigned seed = 7;
    double *refs = malloc(SAMPLES * sizeof *refs);
    int64_t *idx = malloc(SAMPLES * sizeof *idx);
    if (!refs || !idx) {
        free(refs);
        free(idx);
        return INFINITY;
    }
    for (int i = 0; i < SAMPLES; i++) {
        seed = seed * 1664525u + 1013904223u;
        idx[i] = i == 0 ? 0 : i == 1 ? total - 1 : (int64_t)(seed % (unsigned)total);
        int64_t m = idx[i] / (p->oh * p->ow), r = idx[i] % (p->oh * p->ow);
        refs[i] = ref_point(p, m, r / p->ow, r % p->ow);
        if (fabs(refs[i]) > scale)
            scale = fabs(refs[i]);
    }
    for (int i = 0; i < SAMPLES; i++) {
        double d = fabs((double)y[idx[i]] - refs[i]) / scale;
        if (!(d <= worst))
            worst = d; /* NaN sticks */
    }
    free(refs);
    free(idx);
    return worst;
}

/* Median of `reps` timed calls of fn after one warm-up; at least 3 and, for slow calls, fewer
 * than reps so one shape takes about a second. */
typedef int (*run_fn)(void *ctx);

static int time_median(run_fn fn, void *ctx, int reps, double *ms)
{
    if (fn(ctx) != 0)
        return -1;
    double t0 = bench_now_ms(bench_clock);
    if (fn(ctx) != 0)
        return -1;
    double once = bench_now_ms(bench_clock) - t0;
    if (once > 0 && reps > 3 && once * reps > 1000.0)
        reps = (int)(1000.0 / once) > 3 ? (int)(1000.0 / once) : 3;
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t)
        return -1;
    for (int r = 0; r < reps; r++) {
        double a = bench_now_ms(bench_clock);
        if (fn(ctx) != 0) {
            free(t);
            return -1;
        }
        t[r] = bench_now_ms(bench_clock) - a;
    }
    qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
    *ms = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
    free(t);
    return 0;
}

/* "mixed": each timed call runs oneDNN's blocked convolution and then ours, both with THREADS
 * threads, to measure what oneDNN's OpenMP workers, spinning after their call, cost our pool's
 * workers in one process (compare with the two timed apart). bench_dnnl calls `after` (ours)
 * right after each of its convolutions when set. */
typedef struct after_hook {
    run_fn fn;
    void *ctx;
} after_hook;

static int bench_dnnl(const problem *p, int blocked, const after_hook *after, int reps, double *ms,
                      double *reorder_ms, double *err, char *info, size_t info_n);

/* ---- ours: the backend's Conv kernel, found in its family table with its prepare -------- */

typedef struct ours {
    const cpu_kernel *kern;
    cpu_kctx k;
    aglm_tensor x, wt, b, y;
} ours;

static int ours_run(void *ctx)
{
    ours *o = ctx;
    const aglm_tensor *in[3] = {&o->x, &o->wt, &o->b};
    aglm_tensor_free(&o->y);
    memset(&o->y, 0, sizeof o->y);
    return o->kern->run(&o->k, 3, in, 1, &o->y) == AGLM_OK ? 0 : -1;
}

static const cpu_kernel *find_conv(void)
{
    for (const cpu_kernel *k = cpu_conv_kernels; k->op; k++)
        if (strcmp(k->op, "Conv") == 0)
            return k;
    return NULL;
}

static const cpu_prep *find_prep(const cpu_kernel *kern)
{
    for (const cpu_prep *p = cpu_conv_preps; p->run; p++)
        if (p->run == kern->run)
            return p;
    return NULL;
}

/* A one-node graph holding the Conv's attributes, which the kernel reads through k.node. */
static aglm_node *conv_node(aglm_graph *g, const conv_shape *s)
{
    aglm_value *in[3], *out;
    const char *names[3] = {"x", "w", "b"};
    for (int i = 0; i < 3; i++)
        if (!(in[i] = aglm_graph_new_value(g, names[i], AGLM_F32, -1, NULL)))
            return NULL;
    if (!(out = aglm_graph_new_value(g, "y", AGLM_F32, -1, NULL)))
        return NULL;
    aglm_node *n = aglm_graph_add_node(g, "Conv", "", "conv", 3, in, 1, &out);
    int64_t k[2] = {s->kh, s->kw}, st[2] = {s->sh, s->sw}, d[2] = {1, 1};
    int64_t pads[4] = {s->ph, s->pw, s->ph, s->pw};
    if (!n || aglm_node_set_ints(n, "kernel_shape", k, 2) != AGLM_OK ||
        aglm_node_set_ints(n, "strides", st, 2) != AGLM_OK ||
        aglm_node_set_ints(n, "dilations", d, 2) != AGLM_OK ||
        aglm_node_set_ints(n, "pads", pads, 4) != AGLM_OK ||
        aglm_node_set_int(n, "group", s->g) != AGLM_OK)
        return NULL;
    return n;
}

static int bench_ours(const problem *p, int threads, int mixed, int reps, double *ms, double *err,
                      char *info, size_t info_n)
{
    const conv_shape *s = p->s;
    ours o;
    memset(&o, 0, sizeof o);
    int64_t xd[4] = {1, s->c, s->h, s->w}, wd[4] = {s->m, s->c / s->g, s->kh, s->kw}, bd[1] = {s->m};
    aglm_tensor_wrap(&o.x, AGLM_F32, 4, xd, p->x);
    aglm_tensor_wrap(&o.wt, AGLM_F32, 4, wd, p->wt);
    aglm_tensor_wrap(&o.b, AGLM_F32, 1, bd, p->bias);
    aglm_graph *g = aglm_graph_new("bench-libs");
    cpu_pool *pool = NULL;
    void *state = NULL;
    const cpu_prep *prep = NULL;
    int rc = -1;
    o.kern = find_conv();
    if (!o.kern || !g || !(o.k.node = conv_node(g, s))) {
        fprintf(stderr, "bench-libs: no Conv kernel or node: %s\n", aglm_last_error());
        goto done;
    }
    o.k.opset = 17;
    /* The backend selects its SIMD path at init (portable until then); pick it as it does. */
    cpu_simd simd = cpu_simd_best();
    const char *env = getenv("AGLM_CPU_SIMD");
    if (env && cpu_simd_parse(env, "AGLM_CPU_SIMD", &simd) != AGLM_OK) {
        fprintf(stderr, "bench-libs: %s\n", aglm_last_error());
        goto done;
    }
    cpu_simd_select(simd);
    snprintf(info, info_n, "%s", cpu_simd_name(simd));
    if (threads > 1 && cpu_pool_new(threads, &pool) != AGLM_OK) {
        fprintf(stderr, "bench-libs: %s\n", aglm_last_error());
        goto done;
    }
    o.k.pool = pool;
    /* The weights and bias are graph constants in the models, so the kernel's prepare (weight
     * pre-packing, when conv.c has one) sees them, as it does at compile time. */
    if ((prep = find_prep(o.kern)) && prep->prepare) {
        const aglm_tensor *consts[3] = {NULL, &o.wt, &o.b};
        if (prep->prepare(&o.k, 3, consts, &state) != AGLM_OK) {
            fprintf(stderr, "bench-libs: Conv prepare: %s\n", aglm_last_error());
            goto done;
        }
        o.k.prepared = state;
    }
    if (mixed) {
        after_hook after = {ours_run, &o};
        double reorder_ms = 0, dnnl_err = INFINITY;
        char dnnl_info[128];
        if (bench_dnnl(p, 1, &after, reps, ms, &reorder_ms, &dnnl_err, dnnl_info,
                       sizeof dnnl_info) != 0 || !(dnnl_err <= TOLERANCE)) {
            fprintf(stderr, "bench-libs: oneDNN then Conv: %s\n", aglm_last_error());
            goto done;
        }
    } else if (time_median(ours_run, &o, reps, ms) != 0) {
        fprintf(stderr, "bench-libs: Conv: %s\n", aglm_last_error());
        goto done;
    }
    *err = check(p, o.y.data);
    rc = 0;
done:
    if (state && prep && prep->release)
        prep->release(state);
    aglm_tensor_free(&o.y);
    cpu_pool_free(pool);
    aglm_graph_free(g);
    return rc;
}

/* ---- oneDNN: convolution forward inference ----------------------------------------------- */

typedef struct dnnl_job {
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_exec_arg_t args[4];
    const after_hook *after;
} dnnl_job;

static int dnnl_run(void *ctx)
{
    dnnl_job *j = ctx;
    if (dnnl_primitive_execute(j->prim, j->stream, 4, j->args) != dnnl_success ||
        dnnl_stream_wait(j->stream) != dnnl_success)
        return -1;
    return j->after ? j->after->fn(j->after->ctx) : 0;
}

#define DNNL_CHECK(call)                                                                       \
    do {                                                                                       \
        dnnl_status_t st_ = (call);                                                            \
        if (st_ != dnnl_success) {                                                             \
            fprintf(stderr, "bench-libs: %s failed (%d) at line %d\n", #call, (int)st_,        \
                    __LINE__);                                                                 \
            goto done;                                                                         \
        }                                                                                      \
    } while (0)

/* A reorder primitive from layout from_md to layout to_md. */
static dnnl_status_t make_reorder(dnnl_engine_t eng, const dnnl_memory_desc_t *from_md,
                                  const dnnl_memory_desc_t *to_md, dnnl_primitive_t *out)
{
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&rpd, from_md, eng, to_md, eng, NULL);
    if (st == dnnl_success)
        st = dnnl_primitive_create(out, rpd);
    if (rpd)
        dnnl_primitive_desc_destroy(rpd);
    return st;
}

static dnnl_status_t run_reorder(dnnl_primitive_t r, dnnl_stream_t stream, dnnl_memory_t from,
                                 dnnl_memory_t to)
{
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    dnnl_status_t st = dnnl_primitive_execute(r, stream, 2, a);
    return st == dnnl_success ? dnnl_stream_wait(stream) : st;
}

/* What a graph keeping NCHW between ops would add to the blocked convolution: the source
 * reordered into oneDNN's layout and the destination back. */
typedef struct reorder_job {
    dnnl_stream_t stream;
    dnnl_primitive_t rx, ry;
    dnnl_memory_t ux, cx, cy, uy;
} reorder_job;

static int reorders_run(void *ctx)
{
    reorder_job *j = ctx;
    if (j->rx && run_reorder(j->rx, j->stream, j->ux, j->cx) != dnnl_success)
        return -1;
    if (j->ry && run_reorder(j->ry, j->stream, j->cy, j->uy) != dnnl_success)
        return -1;
    return 0;
}

/* blocked = 0: source and destination in NCHW, as the graph holds them; 1: in the layouts
 * oneDNN prefers (format any), the reorders into and out of them timed apart (*reorder_ms). The
 * weights take the preferred layout in both, reordered once, as pre-packing would. */
static int bench_dnnl(const problem *p, int blocked, const after_hook *after, int reps, double *ms,
                      double *reorder_ms, double *err, char *info, size_t info_n)
{
    const conv_shape *s = p->s;
    dnnl_engine_t eng = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL, rx = NULL, rw = NULL, ry = NULL;
    dnnl_memory_t ux = NULL, uw = NULL, ub = NULL, uy = NULL, cx = NULL, cw = NULL, cy = NULL;
    float *y = malloc((size_t)(s->m * p->oh * p->ow) * sizeof *y);
    int rc = -1;
    if (!y)
        goto done;
    DNNL_CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    DNNL_CHECK(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));
    dnnl_dims_t xd = {1, s->c, s->h, s->w}, yd = {1, s->m, p->oh, p->ow}, bd = {s->m};
    dnnl_dims_t wd = {s->g, s->m / s->g, s->c / s->g, s->kh, s->kw};
    int wnd = 5;
    dnnl_format_tag_t wtag = dnnl_goihw;
    if (s->g == 1) {
        wd[0] = s->m, wd[1] = s->c, wd[2] = s->kh, wd[3] = s->kw;
        wnd = 4;
        wtag = dnnl_oihw;
    }
    dnnl_memory_desc_t uxm, uwm, ubm, uym, axm, awm, aym;
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&uxm, 4, xd, dnnl_f32, dnnl_nchw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&uym, 4, yd, dnnl_f32, dnnl_nchw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&uwm, wnd, wd, dnnl_f32, wtag));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&ubm, 1, bd, dnnl_f32, dnnl_x));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&axm, 4, xd, dnnl_f32,
                                            blocked ? dnnl_format_tag_any : dnnl_nchw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&aym, 4, yd, dnnl_f32,
                                            blocked ? dnnl_format_tag_any : dnnl_nchw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&awm, wnd, wd, dnnl_f32, dnnl_format_tag_any));
    dnnl_dims_t strides = {s->sh, s->sw}, pad = {s->ph, s->pw};
    dnnl_convolution_desc_t cd;
    DNNL_CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                  dnnl_convolution_direct, &axm, &awm, &ubm, &aym,
                                                  strides, pad, pad));
    DNNL_CHECK(dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL));
    const char *impl = NULL;
    DNNL_CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    snprintf(info, info_n, "%s", impl ? impl : "?");
    const dnnl_memory_desc_t *pxm = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *pwm = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *pym = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    DNNL_CHECK(dnnl_memory_create(&ux, &uxm, eng, p->x));
    DNNL_CHECK(dnnl_memory_create(&uw, &uwm, eng, p->wt));
    DNNL_CHECK(dnnl_memory_create(&ub, &ubm, eng, p->bias));
    DNNL_CHECK(dnnl_memory_create(&uy, &uym, eng, y));
    /* Each operand in the convolution's layout: the user's memory where it matches, else a
     * copy through a reorder kept for the timing of reorders. */
    cx = ux, cw = uw, cy = uy;
    if (!dnnl_memory_desc_equal(&uxm, pxm)) {
        DNNL_CHECK(dnnl_memory_create(&cx, pxm, eng, DNNL_MEMORY_ALLOCATE));
        DNNL_CHECK(make_reorder(eng, &uxm, pxm, &rx));
        DNNL_CHECK(run_reorder(rx, stream, ux, cx));
    }
    if (!dnnl_memory_desc_equal(&uwm, pwm)) {
        DNNL_CHECK(dnnl_memory_create(&cw, pwm, eng, DNNL_MEMORY_ALLOCATE));
        DNNL_CHECK(make_reorder(eng, &uwm, pwm, &rw));
        DNNL_CHECK(run_reorder(rw, stream, uw, cw));
    }
    if (!dnnl_memory_desc_equal(&uym, pym)) {
        DNNL_CHECK(dnnl_memory_create(&cy, pym, eng, DNNL_MEMORY_ALLOCATE));
        DNNL_CHECK(make_reorder(eng, pym, &uym, &ry));
    }
    DNNL_CHECK(dnnl_primitive_create(&prim, pd));
    dnnl_job job = {prim, stream,
                    {{DNNL_ARG_SRC, cx}, {DNNL_ARG_WEIGHTS, cw}, {DNNL_ARG_BIAS, ub},
                     {DNNL_ARG_DST, cy}},
                    after};
    if (time_median(dnnl_run, &job, reps, ms) != 0) {
        fprintf(stderr, "bench-libs: oneDNN convolution failed\n");
        goto done;
    }
    reorder_job rj = {stream, rx, ry, ux, cx, cy, uy};
    *reorder_ms = 0;
    if (after && ry && run_reorder(ry, stream, cy, uy) != dnnl_success)
        goto done;
    if (!after && (rx || ry) && time_median(reorders_run, &rj, reps, reorder_ms) != 0) {
        fprintf(stderr, "bench-libs: oneDNN reorder failed\n");
        goto done;
    }
    /* The last reorder left the destination in y, NCHW; check it is the convolution's. */
    *err = check(p, y);
    rc = 0;
done:;
    dnnl_primitive_t prims[4] = {prim, rx, rw, ry};
    for (int i = 0; i < 4; i++)
        if (prims[i])
            dnnl_primitive_destroy(prims[i]);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (cx && cx != ux)
        dnnl_memory_destroy(cx);
    if (cw && cw != uw)
        dnnl_memory_destroy(cw);
    if (cy && cy != uy)
        dnnl_memory_destroy(cy);
    dnnl_memory_t users[4] = {ux, uw, ub, uy};
    for (int i = 0; i < 4; i++)
        if (users[i])
            dnnl_memory_destroy(users[i]);
    if (stream)
        dnnl_stream_destroy(stream);
    if (eng)
        dnnl_engine_destroy(eng);
    free(y);
    return rc;
}

/* ---- OpenBLAS: im2col, then one sgemm per group ------------------------------------------ */

typedef struct blas_job {
    const problem *p;
    float *col, *y;  /* col: [c * kh * kw, oh * ow]; NULL for a direct 1x1 */
    double im2col_ms;
} blas_job;

/* Single-threaded: OpenBLAS's own pthreads would spin beside any second pool we started. */
static void im2col(const problem *p, float *col)
{
    const conv_shape *s = p->s;
    int64_t n = p->oh * p->ow;
    for (int64_t c = 0; c < s->c; c++)
        for (int64_t i = 0; i < s->kh; i++)
            for (int64_t j = 0; j < s->kw; j++) {
                float *row = col + ((c * s->kh + i) * s->kw + j) * n;
                const float *xc = p->x + c * s->h * s->w;
                for (int64_t y = 0; y < p->oh; y++) {
                    int64_t iy = y * s->sh - s->ph + i;
                    float *r = row + y * p->ow;
                    if (iy < 0 || iy >= s->h) {
                        memset(r, 0, (size_t)p->ow * sizeof *r);
                        continue;
                    }
                    for (int64_t x = 0; x < p->ow; x++) {
                        int64_t ix = x * s->sw - s->pw + j;
                        r[x] = ix < 0 || ix >= s->w ? 0.0f : xc[iy * s->w + ix];
                    }
                }
            }
}

static int blas_run(void *ctx)
{
    blas_job *j = ctx;
    const problem *p = j->p;
    const conv_shape *s = p->s;
    int64_t n = p->oh * p->ow, mg = s->m / s->g, kg = (s->c / s->g) * s->kh * s->kw;
    double t0 = bench_now_ms(bench_clock);
    const float *b = p->x;
    if (j->col) {
        im2col(p, j->col);
        b = j->col;
    }
    j->im2col_ms = bench_now_ms(bench_clock) - t0;
    for (int64_t m = 0; m < s->m; m++)
        for (int64_t q = 0; q < n; q++)
            j->y[m * n + q] = p->bias[m];
    for (int64_t g = 0; g < s->g; g++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)mg, (int)n, (int)kg, 1.0f,
                    p->wt + g * mg * kg, (int)kg, b + g * kg * n, (int)n, 1.0f,
                    j->y + g * mg * n, (int)n);
    return 0;
}

static int bench_blas(const problem *p, int reps, double *ms, double *im2col_ms, double *err)
{
    const conv_shape *s = p->s;
    int direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 && s->pw == 0;
    blas_job j = {p, NULL, malloc((size_t)(s->m * p->oh * p->ow) * sizeof(float)), 0};
    int rc = -1;
    if (!direct)
        j.col = malloc((size_t)(s->c * s->kh * s->kw * p->oh * p->ow) * sizeof(float));
    if (!j.y || (!direct && !j.col)) {
        fprintf(stderr, "bench-libs: out of memory\n");
        goto done;
    }
    if (time_median(blas_run, &j, reps, ms) != 0)
        goto done;
    /* The im2col share, timed on its own the same way. */
    double *t = malloc(7 * sizeof *t);
    if (!t)
        goto done;
    for (int r = 0; r < 7; r++) {
        double a = bench_now_ms(bench_clock);
        if (j.col)
            im2col(p, j.col);
        t[r] = bench_now_ms(bench_clock) - a;
    }
    qsort(t, 7, sizeof *t, bench_cmp_double);
    *im2col_ms = j.col ? t[3] : 0.0;
    free(t);
    *err = check(p, j.y);
    rc = 0;
done:
    free(j.col);
    free(j.y);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "shapes") == 0) {
        for (size_t i = 0; i < N_SHAPES; i++)
            printf("shape\t%zu\t%.4f\t%s\n", i, gflop(&shapes[i]), shapes[i].what);
        return 0;
    }
    const char *impl = argc > 1 ? argv[1] : "";
    int threads = argc > 2 ? atoi(argv[2]) : 1, reps = argc > 3 ? atoi(argv[3]) : 20;
    int known = !strcmp(impl, "ours") || !strcmp(impl, "mixed") || !strcmp(impl, "dnnl-nchw") ||
                !strcmp(impl, "dnnl-blocked") || !strcmp(impl, "openblas");
    if (argc != 4 || !known || threads < 1 || reps < 1) {
        fprintf(stderr, "usage: bench-libs shapes | bench-libs ours|dnnl-nchw|dnnl-blocked|"
                        "openblas|mixed THREADS REPS\n");
        return 2;
    }
    const char *clk = getenv("BENCH_LIBS_CLOCK");
    if (clk && strcmp(clk, "cpu") == 0)
        bench_clock = CLOCK_PROCESS_CPUTIME_ID;
    else if (clk && strcmp(clk, "wall") != 0) {
        fprintf(stderr, "bench-libs: BENCH_LIBS_CLOCK is '%s'; give wall or cpu\n", clk);
        return 2;
    }
    if ((!strncmp(impl, "dnnl", 4) || !strcmp(impl, "mixed")) && omp_get_max_threads() != threads)
        fprintf(stderr, "bench-libs: warning: OpenMP runs %d threads, asked for %d (set "
                        "OMP_NUM_THREADS)\n", omp_get_max_threads(), threads);
    if (!strcmp(impl, "openblas"))
        openblas_set_num_threads(threads);
    int bad = 0;
    for (size_t i = 0; i < N_SHAPES; i++) {
        const conv_shape *s = &shapes[i];
        problem p = {s, NULL, NULL, NULL, out_h(s), out_w(s)};
        p.x = cpu_alloc_floats((size_t)(s->c * s->h * s->w));
        p.wt = cpu_alloc_floats((size_t)(s->m * (s->c / s->g) * s->kh * s->kw));
        p.bias = cpu_alloc_floats((size_t)s->m);
        if (!p.x || !p.wt || !p.bias) {
            fprintf(stderr, "bench-libs: out of memory for %s\n", s->what);
            return 1;
        }
        bench_fill(p.x, s->c * s->h * s->w, 1);
        bench_fill(p.wt, s->m * (s->c / s->g) * s->kh * s->kw, 2);
        bench_fill(p.bias, s->m, 3);
        double ms = 0, extra = 0, err = INFINITY;
        char info[128] = "-";
        int rc;
        if (!strcmp(impl, "ours") || !strcmp(impl, "mixed"))
            rc = bench_ours(&p, threads, !strcmp(impl, "mixed"), reps, &ms, &err, info, sizeof info);
        else if (!strcmp(impl, "openblas"))
            rc = bench_blas(&p, reps, &ms, &extra, &err);
        else
            rc = bench_dnnl(&p, !strcmp(impl, "dnnl-blocked"), NULL, reps, &ms, &extra, &err, info,
                            sizeof info);
        if (rc != 0 || !(err <= TOLERANCE)) {
            fprintf(stderr, "bench-libs: %s on %s: %s (relative error %g)\n", impl, s->what,
                    rc != 0 ? "failed" : "wrong output", err);
            bad = 1;
        }
        if (rc == 0)
            printf("time\t%zu\t%s\t%d\t%.4f\t%.4f\t%.2e\t%s\n", i, impl, threads, ms, extra, err,
                   info);
        free(p.x);
        free(p.wt);
        free(p.bias);
    }
    return bad;
}
