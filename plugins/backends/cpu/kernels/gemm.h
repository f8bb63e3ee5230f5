/* The f32 matrix multiply under MatMul, Gemm and Conv: C = alpha * op(A) * op(B) + beta * C,
 * row-major, op(X) = X or its transpose. Blocked and packed so the innermost loops run over
 * contiguous, fixed-size panels, multiplied by the micro-kernel of the SIMD path the backend
 * selected (simd.h, gemm_kernel.h). */
#ifndef CPU_GEMM_H
#define CPU_GEMM_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/status.h"
#include "threadpool.h"

typedef struct cpu_gemm_args {
    int trans_a, trans_b;
    int64_t m, n, k;
    float alpha;
    const float *a; /* m x k (k x m when trans_a), rows lda apart */
    int64_t lda;
    const float *b; /* k x n (n x k when trans_b), rows ldb apart */
    int64_t ldb;
    float beta; /* 0: C is written without being read */
    float *c;   /* m x n, rows ldc apart */
    int64_t ldc;
} cpu_gemm_args;

/* op(B) packed once ahead of the multiplies that share it (a constant weight): the panels the
 * driver would otherwise copy per call, laid out for one micro-kernel. Kept apart from
 * cpu_gemm_args, whose positional initialisers (rnn.c) must not grow. */
struct cpu_gemm_kernel;
typedef struct cpu_gemm_packed {
    const float *b;                   /* cpu_gemm_packed_b_floats() floats, from cpu_gemm_pack_b */
    const struct cpu_gemm_kernel *kn; /* the layout's kernel: ignored unless still the active one */
} cpu_gemm_packed;

/* Floats op(B) of k x n takes packed for kernel kn: k * n rounded up to kn's panel width. */
size_t cpu_gemm_packed_b_floats(const struct cpu_gemm_kernel *kn, int64_t k, int64_t n);

/* Packs op(B) of g (b, ldb, trans_b, k, n; the rest is unread) for kn into dst (64-byte
 * aligned, cpu_gemm_packed_b_floats() floats): K block by K block, each block's nr-wide panels
 * side by side, so the tile at (p0, j0) starts at dst + p0 * round_up(n, nr) + j0 * kc. */
void cpu_gemm_pack_b(const struct cpu_gemm_kernel *kn, const cpu_gemm_args *g, float *dst);

/* Floats of scratch one single-threaded multiply of this size needs, on any SIMD path. */
size_t cpu_gemm_scratch_floats(int64_t m, int64_t n, int64_t k);

/* Single-threaded, with caller-provided scratch of cpu_gemm_scratch_floats() floats (64-byte
 * aligned): for callers that already run one multiply per worker (batches, groups). */
void cpu_sgemm_serial(const cpu_gemm_args *g, float *scratch);

/* cpu_sgemm_serial reading op(B) from pb where pb is non-NULL and packed for the active path
 * (g->b is then unread); otherwise the same as cpu_sgemm_serial. */
void cpu_sgemm_serial_packed(const cpu_gemm_args *g, const cpu_gemm_packed *pb, float *scratch);

/* The one-row case (m == 1, k > 0) straight from A and B, with no packing (kernels/gemv.c):
 * 1 when it ran, 0 when g is not that case. cpu_sgemm tries it first. */
int cpu_sgemv(cpu_pool *pool, const cpu_gemm_args *g);

/* Spread over the pool's threads; allocates its own scratch (AGLM_ERR_NOMEM if it cannot). */
aglm_status cpu_sgemm(cpu_pool *pool, const cpu_gemm_args *g);

/* cpu_sgemm with op(B) pre-packed as for cpu_sgemm_serial_packed (pb may be NULL). The one-row
 * case still reads g->b, so g->b must stay valid. */
aglm_status cpu_sgemm_packed(cpu_pool *pool, const cpu_gemm_args *g, const cpu_gemm_packed *pb);

/* 64-byte aligned float buffer of n floats (NULL on failure); free with free(). */
float *cpu_alloc_floats(size_t n);

/* The multiply under MatMul and Gemm on f64 and integer dtypes: C = op(A) * op(B) for `batches`
 * matrix pairs, with no alpha or beta (callers apply them). f64 runs in double; integers run in
 * uint64_t (two's complement), so sums and products wrap exactly as the narrower type's would
 * once truncated back. Plain loops split over rows: these dtypes are rare in models. */
typedef struct cpu_wgemm_args {
    int is_f64; /* 1: a, b, c are double; 0: uint64_t */
    int64_t m, n, k, batches;
    const void *a, *b;
    const int64_t *a_off, *b_off; /* element offset of each batch's A and B */
    int64_t a_row, a_col;         /* op(A)[i][p] is a[a_off + i * a_row + p * a_col] */
    int64_t b_row, b_col;         /* op(B)[p][j] is b[b_off + p * b_row + j * b_col] */
    void *c;                      /* batches x m x n, contiguous, written without being read */
} cpu_wgemm_args;

void cpu_wgemm(cpu_pool *pool, const cpu_wgemm_args *g);

#endif
