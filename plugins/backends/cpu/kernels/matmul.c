/* MatMul (N-D, NumPy semantics: 1-D operands promoted then squeezed, batch dims broadcast) and
 * Gemm (2-D, transA/transB, alpha, beta, C broadcast to the result). */
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "kernels.h"

typedef struct batch_job {
    cpu_gemm_args proto;  /* m, n, k, strides; a, b, c set per batch */
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
        cpu_sgemm_serial(&g, j->scratch + (size_t)worker * j->scratch_floats);
    }
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

static aglm_status k_matmul(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *a = in[0], *b = in[1];
    char sa[64], sb[64];
    aglm_status st = cpu_check_dtype(k, a, "input A", CPU_DT(AGLM_F32));
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(a, "input A", b, "input B");
    if (st != AGLM_OK)
        return st;
    if (a->rank < 1 || b->rank < 1)
        return aglm_error(AGLM_ERR_SHAPE, "inputs must have rank >= 1, got %s and %s",
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    /* NumPy promotion: a 1-D A is a row [1, K], a 1-D B a column [K, 1]. */
    int64_t m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
    int64_t ka = a->dims[a->rank - 1];
    int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    int64_t n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    if (ka != kb)
        return aglm_error(AGLM_ERR_SHAPE, "inner dims differ: A %s has %lld columns, B %s has "
                          "%lld rows", cpu_shape(a, sa, sizeof sa), (long long)ka,
                          cpu_shape(b, sb, sizeof sb), (long long)kb);
    int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
    int rank;
    int64_t dims[AGLM_MAX_RANK];
    st = aglm_broadcast_shapes(ra, a->dims, rb, b->dims, &rank, dims);
    if (st != AGLM_OK)
        return aglm_error_wrap(st, "batch dims of A %s and B %s", cpu_shape(a, sa, sizeof sa),
                               cpu_shape(b, sb, sizeof sb));
    int64_t batches = cpu_dims_prod(dims, 0, rank);
    int out_rank = rank;
    if (a->rank > 1)
        dims[out_rank++] = m;
    if (b->rank > 1)
        dims[out_rank++] = n;
    if (out_rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_SHAPE, "result rank %d exceeds %d", out_rank, AGLM_MAX_RANK);
    st = aglm_tensor_alloc(&out[0], AGLM_F32, out_rank, dims);
    if (st != AGLM_OK || aglm_tensor_numel(&out[0]) == 0)
        return st;

    cpu_gemm_args g = {.m = m, .n = n, .k = ka, .alpha = 1.0f, .lda = ka, .ldb = n,
                       .beta = 0.0f, .ldc = n};
    int64_t *offs = malloc(2 * (size_t)batches * sizeof *offs);
    if (!offs)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    batch_offsets(ra, a->dims, rank, dims, batches, m * ka, offs);
    batch_offsets(rb, b->dims, rank, dims, batches, ka * n, offs + batches);
    batch_job job = {g, a->data, b->data, out[0].data, offs, offs + batches, m * n, NULL, 0};
    int threads = cpu_pool_threads(k->pool);
    if (batches >= 2 * (int64_t)threads) {
        /* Many matrices: one whole multiply per worker beats splitting each one. */
        job.scratch_floats = (cpu_gemm_scratch_floats(m, n, ka) + 15) / 16 * 16;
        job.scratch = cpu_alloc_floats(job.scratch_floats * (size_t)threads);
        if (!job.scratch) {
            free(offs);
            return aglm_error(AGLM_ERR_NOMEM, "out of memory");
        }
        cpu_parallel_for(k->pool, (size_t)batches, 1, batch_range, &job);
        free(job.scratch);
    } else {
        for (int64_t i = 0; i < batches && st == AGLM_OK; i++) {
            g.a = job.a + job.a_off[i];
            g.b = job.b + job.b_off[i];
            g.c = job.c + i * job.c_stride;
            st = cpu_sgemm(k->pool, &g);
        }
    }
    free(offs);
    return st;
}

static aglm_status k_gemm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *a = in[0], *b = in[1], *c = n_in > 2 ? in[2] : NULL;
    char sa[64], sb[64], sc[64];
    aglm_status st = cpu_check_dtype(k, a, "input A", CPU_DT(AGLM_F32));
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(a, "input A", b, "input B");
    if (st == AGLM_OK && c)
        st = cpu_check_same_dtype(a, "input A", c, "input C");
    if (st != AGLM_OK)
        return st;
    if (a->rank != 2 || b->rank != 2)
        return aglm_error(AGLM_ERR_SHAPE, "A and B must be 2-D, got %s and %s",
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    int ta = aglm_node_get_int(k->node, "transA", 0) != 0;
    int tb = aglm_node_get_int(k->node, "transB", 0) != 0;
    float alpha = aglm_node_get_float(k->node, "alpha", 1.0f);
    float beta = aglm_node_get_float(k->node, "beta", 1.0f);
    int64_t m = ta ? a->dims[1] : a->dims[0], ka = ta ? a->dims[0] : a->dims[1];
    int64_t kb = tb ? b->dims[1] : b->dims[0], n = tb ? b->dims[0] : b->dims[1];
    if (ka != kb)
        return aglm_error(AGLM_ERR_SHAPE, "inner dims differ: A %s (transA=%d) gives K=%lld, "
                          "B %s (transB=%d) gives K=%lld", cpu_shape(a, sa, sizeof sa), ta,
                          (long long)ka, cpu_shape(b, sb, sizeof sb), tb, (long long)kb);
    int64_t dims[2] = {m, n};
    /* C broadcasts one way only: to [M, N]. */
    if (c) {
        int ok = c->rank <= 2;
        for (int i = 0; ok && i < c->rank; i++) {
            int64_t want = dims[2 - c->rank + i];
            ok = c->dims[i] == want || c->dims[i] == 1;
        }
        if (!ok)
            return aglm_error(AGLM_ERR_SHAPE, "C %s does not broadcast to the result [%lld,%lld]",
                              cpu_shape(c, sc, sizeof sc), (long long)m, (long long)n);
    }
    st = aglm_tensor_alloc(&out[0], AGLM_F32, 2, dims);
    if (st != AGLM_OK || m * n == 0)
        return st;
    float *y = out[0].data;
    if (c && beta != 0.0f) {
        const float *cv = c->data;
        int64_t cm = c->rank == 2 ? c->dims[0] : 1;
        int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                y[i * n + j] = cv[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    } else {
        beta = 0.0f;
    }
    cpu_gemm_args g = {.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = ka, .alpha = alpha,
                       .a = a->data, .lda = a->dims[1], .b = b->data, .ldb = b->dims[1],
                       .beta = beta, .c = y, .ldc = n};
    return cpu_sgemm(k->pool, &g);
}

const cpu_kernel cpu_matmul_kernels[] = {
    {"MatMul", 2, 2, 1, CPU_DT(AGLM_F32), k_matmul},
    {"Gemm", 2, 3, 1, CPU_DT(AGLM_F32), k_gemm},
    {NULL, 0, 0, 0, 0, NULL},
};
