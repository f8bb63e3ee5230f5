/* MatMul (N-D, NumPy semantics: 1-D operands promoted then squeezed, batch dims broadcast) and
 * Gemm (2-D, transA/transB, alpha, beta, C broadcast to the result).
 *
 * f32 runs on the packed GEMM of gemm.c, a constant 2-D B packed once at compile time
 * (matmul_prepare, shared with aglm.FusedMatMul); f16 and bf16 are widened to f32, run there and
 * rounded back; f64 and the integer dtypes run on cpu_wgemm (double, or wrapping 64-bit integers).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "gemm.h"
#include "gemm_kernel.h"
#include "kernels.h"

#define LINALG_DTYPES                                                                              \
    (CPU_M_FLOAT | CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U32) | CPU_DT(AGLM_U64))

static int is_half(aglm_dtype dt)
{
    return dt == AGLM_F16 || dt == AGLM_BF16;
}

static aglm_status oom(int64_t m, int64_t n, int64_t k)
{
    return aglm_error(AGLM_ERR_NOMEM, "out of memory for a %lldx%lldx%lld matrix multiply",
                      (long long)m, (long long)n, (long long)k);
}

/* t's elements as cpu_wgemm reads them: f64 and 64-bit integers in place, narrower integers
 * widened into a malloc'd copy in *scratch. NULL when out of memory. */
static const void *wide_view(const aglm_tensor *t, void **scratch)
{
    *scratch = NULL;
    if (aglm_dtype_size(t->dtype) == 8)
        return t->data;
    int64_t n = aglm_tensor_numel(t);
    uint64_t *w = malloc(n > 0 ? (size_t)n * sizeof *w : 1);
    if (!w)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        w[i] = (uint64_t)cpu_get_i(t->data, t->dtype, i);
    *scratch = w;
    return w;
}

/* out = op(A) op(B) on f64 or an integer dtype; w has everything but is_f64, a, b and c. */
static aglm_status wide_multiply(const cpu_kctx *k, cpu_wgemm_args *w, const aglm_tensor *a,
                                 const aglm_tensor *b, aglm_tensor *out)
{
    void *sa, *sb, *sc = NULL;
    int direct = aglm_dtype_size(out->dtype) == 8; /* the result can be summed in place */
    int64_t n = aglm_tensor_numel(out);
    w->is_f64 = out->dtype == AGLM_F64;
    w->a = wide_view(a, &sa);
    w->b = wide_view(b, &sb);
    w->c = direct ? out->data : (sc = malloc((size_t)n * sizeof(uint64_t)));
    if (!w->a || !w->b || !w->c) {
        free(sa);
        free(sb);
        free(sc);
        return oom(w->m, w->n, w->k);
    }
    cpu_wgemm(k->pool, w);
    for (int64_t i = 0; !direct && i < n; i++)
        cpu_set_i(out->data, out->dtype, i, (int64_t)((const uint64_t *)sc)[i]);
    free(sa);
    free(sb);
    free(sc);
    return AGLM_OK;
}

/* ---- Constant B, packed once ------------------------------------------------------------ */

/* A constant 2-D f32 B (a weight) packed at compile time, so every run skips the copy. */
typedef struct mm_packed {
    const void *src;    /* the constant's data, to tell it is still the B that runs */
    int64_t rows, cols; /* its dims */
    int trans;          /* packed as its transpose (Gemm's transB) */
    float *data;
    cpu_gemm_packed pb;
} mm_packed;

/* Gemm's transB; MatMul has none (FusedMatMul takes Gemm's attributes). */
static int node_trans_b(const aglm_node *n)
{
    return strcmp(aglm_node_op(n), "MatMul") != 0 && aglm_node_get_int(n, "transB", 0) != 0;
}

static aglm_status matmul_prepare(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *consts,
                                  void **state)
{
    *state = NULL;
    const aglm_tensor *b = n_in > 1 ? consts[1] : NULL;
    if (!b || b->dtype != AGLM_F32 || b->rank != 2 || b->dims[0] == 0 || b->dims[1] == 0)
        return AGLM_OK; /* not a constant f32 matrix: packed per call */
    int tb = node_trans_b(k->node);
    const cpu_gemm_kernel *kn = cpu_gemm_kernel_for(cpu_simd_active());
    cpu_gemm_args g = {.trans_b = tb,
                       .k = tb ? b->dims[1] : b->dims[0],
                       .n = tb ? b->dims[0] : b->dims[1],
                       .b = b->data,
                       .ldb = b->dims[1]};
    mm_packed *p = calloc(1, sizeof *p);
    float *data = p ? cpu_alloc_floats(cpu_gemm_packed_b_floats(kn, g.k, g.n)) : NULL;
    if (!data) {
        free(p);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory packing the constant B [%lld,%lld]",
                          (long long)b->dims[0], (long long)b->dims[1]);
    }
    cpu_gemm_pack_b(kn, &g, data);
    *p = (mm_packed){b->data, b->dims[0], b->dims[1], tb, data, {data, kn}};
    *state = p;
    return AGLM_OK;
}

static void matmul_release(void *state)
{
    mm_packed *p = state;
    free(p->data);
    free(p);
}

/* The packed B of this node when b is the very constant it was packed from (same data, dims
 * and transpose), else NULL. */
static const cpu_gemm_packed *packed_for(const cpu_kctx *k, const aglm_tensor *b, int trans)
{
    const mm_packed *p = k->prepared;
    if (!p || b->dtype != AGLM_F32 || b->data != p->src || b->rank != 2 || b->dims[0] != p->rows ||
        b->dims[1] != p->cols || trans != p->trans)
        return NULL;
    return &p->pb;
}

/* ---- MatMul ------------------------------------------------------------------------------ */

typedef struct mm_shape {
    int64_t m, n, k, batches;
    int batch_rank, out_rank;
    int64_t dims[AGLM_MAX_RANK]; /* the result's; its first batch_rank are the batch dims */
} mm_shape;

static aglm_status matmul_shape(const aglm_tensor *a, const aglm_tensor *b, mm_shape *s)
{
    char sa[64], sb[64];
    if (a->rank < 1 || b->rank < 1)
        return aglm_error(AGLM_ERR_SHAPE, "inputs must have rank >= 1, got %s and %s",
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    /* NumPy promotion: a 1-D A is a row [1, K], a 1-D B a column [K, 1]. */
    s->m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
    s->k = a->dims[a->rank - 1];
    int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    s->n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    if (s->k != kb)
        return aglm_error(AGLM_ERR_SHAPE,
                          "inner dims differ: A %s has %lld columns, B %s has "
                          "%lld rows",
                          cpu_shape(a, sa, sizeof sa), (long long)s->k, cpu_shape(b, sb, sizeof sb),
                          (long long)kb);
    int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
    aglm_status st = aglm_broadcast_shapes(ra, a->dims, rb, b->dims, &s->batch_rank, s->dims);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "batch dims of A %s and B %s", cpu_shape(a, sa, sizeof sa),
                               cpu_shape(b, sb, sizeof sb));
    s->batches = cpu_dims_prod(s->dims, 0, s->batch_rank);
    s->out_rank = s->batch_rank;
    /* Both ranks are at most AGLM_MAX_RANK, so the batch rank leaves room for M and N. */
    if (a->rank > 1)
        s->dims[s->out_rank++] = s->m;
    if (b->rank > 1)
        s->dims[s->out_rank++] = s->n;
    return AGLM_OK;
}

/* Element offset of each batch of an operand whose batch dims `d` (rank r) broadcast to `out`
 * (rank R); `mat` is the size of one matrix. */
static void batch_offsets(int r, const int64_t *d, int R, const int64_t *out, int64_t count,
                          int64_t mat, int64_t *offs)
{
    int64_t stride[AGLM_MAX_RANK];
    int64_t s = mat;
    for (int i = R - 1; i >= 0; i--) {
        int di = i - (R - r);
        if (di < 0 || d[di] == 1) {
            stride[i] = 0;
        } else {
            stride[i] = s;
            s *= d[di];
        }
    }
    for (int64_t b = 0; b < count; b++) {
        int64_t rem = b, off = 0;
        for (int i = R - 1; i >= 0; i--) {
            off += (rem % out[i]) * stride[i];
            rem /= out[i];
        }
        offs[b] = off;
    }
}

typedef struct batch_job {
    cpu_gemm_args proto;       /* m, n, k, strides; a, b, c set per batch */
    const cpu_gemm_packed *pb; /* B packed once for all batches, or NULL */
    const float *a, *b;
    float *c;
    const int64_t *a_off, *b_off; /* element offsets per batch */
    int64_t c_stride;
    float *scratch;
    size_t scratch_floats;
} batch_job;

static void batch_range(void *ctx, size_t begin, size_t end, int worker)
{
    const batch_job *j = ctx;
    for (size_t i = begin; i < end; i++) {
        cpu_gemm_args g = j->proto;
        g.a = j->a + j->a_off[i];
        g.b = j->b + j->b_off[i];
        g.c = j->c + (int64_t)i * j->c_stride;
        cpu_sgemm_serial_packed(&g, j->pb, j->scratch + (size_t)worker * j->scratch_floats);
    }
}

/* c = a x b in f32 for every batch; offs holds A's batch offsets, then B's. pb: B (2-D, so
 * shared by every batch) packed, or NULL. */
static aglm_status matmul_f32(const cpu_kctx *k, const mm_shape *s, const int64_t *offs,
                              const float *a, const float *b, const cpu_gemm_packed *pb, float *c)
{
    int64_t m = s->m, n = s->n, ka = s->k, batches = s->batches;
    cpu_gemm_args g = {
        .m = m, .n = n, .k = ka, .alpha = 1.0f, .lda = ka, .ldb = n, .beta = 0.0f, .ldc = n};
    batch_job job = {g, pb, a, b, c, offs, offs + batches, m * n, NULL, 0};
    int threads = cpu_pool_threads(k->pool);
    if (batches >= 2 * (int64_t)threads) {
        /* Many matrices: one whole multiply per worker beats splitting each one. */
        job.scratch_floats = (cpu_gemm_scratch_floats(m, n, ka) + 15) / 16 * 16;
        job.scratch = cpu_alloc_floats(job.scratch_floats * (size_t)threads);
        if (!job.scratch)
            return oom(m, n, ka);
        cpu_parallel_for(k->pool, (size_t)batches, 1, batch_range, &job);
        free(job.scratch);
        return AGLM_OK;
    }
    aglm_status st = AGLM_OK;
    for (int64_t i = 0; i < batches && st == AGLM_OK; i++) {
        g.a = a + job.a_off[i];
        g.b = b + job.b_off[i];
        g.c = c + i * job.c_stride;
        st = cpu_sgemm_packed(k->pool, &g, pb);
    }
    return st;
}

/* f16 and bf16: widened to f32, multiplied there, rounded back once at the end. */
static aglm_status matmul_half(const cpu_kctx *k, const mm_shape *s, const int64_t *offs,
                               const aglm_tensor *a, const aglm_tensor *b, aglm_tensor *out)
{
    float *sa = NULL, *sb = NULL;
    const float *fa = cpu_f32_view(a, &sa), *fb = fa ? cpu_f32_view(b, &sb) : NULL;
    if (!fa || !fb) {
        free(sa);
        /* The dtype is f16 or bf16 here, so only memory can be short. */
        return aglm_error_wrap(AGLM_ERR_NOMEM, "widening MatMul operands to f32");
    }
    float *y = cpu_alloc_floats((size_t)aglm_tensor_numel(out));
    aglm_status st = y ? matmul_f32(k, s, offs, fa, fb, NULL, y) : oom(s->m, s->n, s->k);
    if (st == AGLM_OK)
        cpu_f32_store(out, y);
    free(y);
    free(sa);
    free(sb);
    return st;
}

static aglm_status k_matmul(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const aglm_tensor *a = in[0], *b = in[1];
    aglm_status st = cpu_check_dtype(k, a, "input A", LINALG_DTYPES);
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(a, "input A", b, "input B");
    mm_shape s;
    if (st == AGLM_OK)
        st = matmul_shape(a, b, &s);
    if (st == AGLM_OK)
        st = cpu_alloc(k, &out[0], a->dtype, s.out_rank, s.dims);
    if (st != AGLM_OK || aglm_tensor_numel(&out[0]) == 0)
        return st;

    int64_t *offs = malloc(2 * (size_t)s.batches * sizeof *offs);
    if (!offs)
        return oom(s.m, s.n, s.k);
    int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
    batch_offsets(ra, a->dims, s.batch_rank, s.dims, s.batches, s.m * s.k, offs);
    batch_offsets(rb, b->dims, s.batch_rank, s.dims, s.batches, s.k * s.n, offs + s.batches);
    if (a->dtype == AGLM_F32) {
        st = matmul_f32(k, &s, offs, a->data, b->data, packed_for(k, b, 0), out[0].data);
    } else if (is_half(a->dtype)) {
        st = matmul_half(k, &s, offs, a, b, &out[0]);
    } else {
        cpu_wgemm_args w = {.m = s.m,
                            .n = s.n,
                            .k = s.k,
                            .batches = s.batches,
                            .a_off = offs,
                            .b_off = offs + s.batches,
                            .a_row = s.k,
                            .a_col = 1,
                            .b_row = s.n,
                            .b_col = 1};
        st = wide_multiply(k, &w, a, b, &out[0]);
    }
    free(offs);
    return st;
}

/* ---- Gemm -------------------------------------------------------------------------------- */

typedef struct gemm_op {
    int ta, tb;
    int64_t m, n, k;
    double alpha, beta;
    const aglm_tensor *c; /* NULL when absent or when beta is 0 */
} gemm_op;

/* Index into C (which broadcasts to [M, N]) of result element (i, j). */
static int64_t c_index(const aglm_tensor *c, int64_t i, int64_t j)
{
    int64_t cm = c->rank == 2 ? c->dims[0] : 1;
    int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    return (cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j);
}

/* y = alpha * op(A) op(B) + beta * C in f32; a, b and c hold f32 elements. */
static aglm_status gemm_f32(const cpu_kctx *k, const gemm_op *op, const aglm_tensor *at,
                            const float *a, const aglm_tensor *bt, const float *b, const float *c,
                            float *y)
{
    if (c)
        for (int64_t i = 0; i < op->m; i++)
            for (int64_t j = 0; j < op->n; j++)
                y[i * op->n + j] = c[c_index(op->c, i, j)];
    cpu_gemm_args g = {.trans_a = op->ta,
                       .trans_b = op->tb,
                       .m = op->m,
                       .n = op->n,
                       .k = op->k,
                       .alpha = (float)op->alpha,
                       .a = a,
                       .lda = at->dims[1],
                       .b = b,
                       .ldb = bt->dims[1],
                       .beta = c ? (float)op->beta : 0.0f,
                       .c = y,
                       .ldc = op->n};
    return cpu_sgemm_packed(k->pool, &g, packed_for(k, bt, op->tb));
}

static aglm_status gemm_half(const cpu_kctx *k, const gemm_op *op, const aglm_tensor *a,
                             const aglm_tensor *b, aglm_tensor *out)
{
    float *sa = NULL, *sb = NULL, *sc = NULL;
    const float *fa = cpu_f32_view(a, &sa), *fb = fa ? cpu_f32_view(b, &sb) : NULL;
    const float *fc = fb && op->c ? cpu_f32_view(op->c, &sc) : NULL;
    float *y = NULL;
    aglm_status st;
    if (!fa || !fb || (op->c && !fc))
        st = aglm_error_wrap(AGLM_ERR_NOMEM, "widening Gemm operands to f32");
    else if (!(y = cpu_alloc_floats((size_t)(op->m * op->n))))
        st = oom(op->m, op->n, op->k);
    else if ((st = gemm_f32(k, op, a, fa, b, fb, fc, y)) == AGLM_OK)
        cpu_f32_store(out, y);
    free(y);
    free(sa);
    free(sb);
    free(sc);
    return st;
}

/* Saturating double to int64 (NaN to 0), so a scaled integer result never overflows a cast. */
static int64_t to_i64(double v)
{
    if (isnan(v))
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

/* out = alpha * out + beta * C on f64 or an integer dtype, out holding op(A) op(B). Integers
 * stay exact (wrapping) when alpha and beta are whole numbers, and otherwise go through double
 * and truncate, as ONNX's reference does with astype. */
static void gemm_wide_epilogue(const gemm_op *op, aglm_tensor *out)
{
    aglm_dtype dt = out->dtype;
    int64_t n = op->n;
    int whole = op->alpha == floor(op->alpha) && fabs(op->alpha) < 9.0e18 &&
                op->beta == floor(op->beta) && fabs(op->beta) < 9.0e18;
    uint64_t ia = whole ? (uint64_t)(int64_t)op->alpha : 0;
    uint64_t ib = whole ? (uint64_t)(int64_t)op->beta : 0;
    for (int64_t i = 0; i < op->m; i++) {
        for (int64_t j = 0; j < n; j++) {
            int64_t e = i * n + j, ce = op->c ? c_index(op->c, i, j) : 0;
            if (dt == AGLM_F64) {
                double *y = out->data;
                y[e] =
                    op->alpha * y[e] + (op->c ? op->beta * ((const double *)op->c->data)[ce] : 0.0);
            } else if (whole) {
                uint64_t v = ia * (uint64_t)cpu_get_i(out->data, dt, e);
                if (op->c)
                    v += ib * (uint64_t)cpu_get_i(op->c->data, dt, ce);
                cpu_set_i(out->data, dt, e, (int64_t)v);
            } else {
                double v = op->alpha * cpu_get_f(out->data, dt, e);
                if (op->c)
                    v += op->beta * cpu_get_f(op->c->data, dt, ce);
                cpu_set_i(out->data, dt, e, to_i64(v));
            }
        }
    }
}

static aglm_status k_gemm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *a = in[0], *b = in[1], *c = n_in > 2 ? in[2] : NULL;
    char sa[64], sb[64], sc[64];
    aglm_status st = cpu_check_dtype(k, a, "input A", LINALG_DTYPES);
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(a, "input A", b, "input B");
    if (st == AGLM_OK && c)
        st = cpu_check_same_dtype(a, "input A", c, "input C");
    if (st != AGLM_OK)
        return st;
    if (a->rank != 2 || b->rank != 2)
        return aglm_error(AGLM_ERR_SHAPE, "A and B must be 2-D, got %s and %s",
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    gemm_op op = {.ta = aglm_node_get_int(k->node, "transA", 0) != 0,
                  .tb = aglm_node_get_int(k->node, "transB", 0) != 0,
                  .alpha = aglm_node_get_float(k->node, "alpha", 1.0f),
                  .beta = aglm_node_get_float(k->node, "beta", 1.0f)};
    op.m = op.ta ? a->dims[1] : a->dims[0];
    op.k = op.ta ? a->dims[0] : a->dims[1];
    int64_t kb = op.tb ? b->dims[1] : b->dims[0];
    op.n = op.tb ? b->dims[0] : b->dims[1];
    if (op.k != kb)
        return aglm_error(AGLM_ERR_SHAPE,
                          "inner dims differ: A %s (transA=%d) gives K=%lld, "
                          "B %s (transB=%d) gives K=%lld",
                          cpu_shape(a, sa, sizeof sa), op.ta, (long long)op.k,
                          cpu_shape(b, sb, sizeof sb), op.tb, (long long)kb);
    int64_t dims[2] = {op.m, op.n};
    /* C broadcasts one way only: to [M, N]. */
    if (c) {
        int ok = c->rank <= 2;
        for (int i = 0; ok && i < c->rank; i++) {
            int64_t want = dims[2 - c->rank + i];
            ok = c->dims[i] == want || c->dims[i] == 1;
        }
        if (!ok)
            return aglm_error(AGLM_ERR_SHAPE, "C %s does not broadcast to the result [%lld,%lld]",
                              cpu_shape(c, sc, sizeof sc), (long long)op.m, (long long)op.n);
    }
    /* beta == 0 drops C unread, as ONNX's reference does (so NaN or Inf in C cannot leak). */
    op.c = c && op.beta != 0.0 ? c : NULL;
    st = cpu_alloc(k, &out[0], a->dtype, 2, dims);
    if (st != AGLM_OK || op.m * op.n == 0)
        return st;
    if (a->dtype == AGLM_F32)
        return gemm_f32(k, &op, a, a->data, b, b->data, op.c ? op.c->data : NULL, out[0].data);
    if (is_half(a->dtype))
        return gemm_half(k, &op, a, b, &out[0]);
    int64_t zero = 0;
    cpu_wgemm_args w = {.m = op.m,
                        .n = op.n,
                        .k = op.k,
                        .batches = 1,
                        .a_off = &zero,
                        .b_off = &zero,
                        .a_row = op.ta ? 1 : a->dims[1],
                        .a_col = op.ta ? a->dims[1] : 1,
                        .b_row = op.tb ? 1 : b->dims[1],
                        .b_col = op.tb ? b->dims[1] : 1};
    st = wide_multiply(k, &w, a, b, &out[0]);
    if (st == AGLM_OK && (op.alpha != 1.0 || op.c))
        gemm_wide_epilogue(&op, &out[0]);
    return st;
}

const cpu_kernel cpu_matmul_kernels[] = {
    {"MatMul", LINALG_DTYPES, k_matmul},
    {"Gemm", LINALG_DTYPES, k_gemm},
    {NULL, 0, NULL},
};

const cpu_prep cpu_matmul_preps[] = {
    {k_matmul, matmul_prepare, matmul_release},
    {k_gemm, matmul_prepare, matmul_release},
    {NULL, NULL, NULL},
};
