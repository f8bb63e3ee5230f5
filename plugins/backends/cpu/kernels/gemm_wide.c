/* cpu_wgemm: the f64 and integer matrix multiply (see gemm.h). */
#include "gemm.h"

/* Rows [begin, end) of all batches' C, a row being one (batch, i). The p-then-j order streams
 * B's rows and C's row contiguously when op(B) is not transposed. */
#define WGEMM_ROWS(NAME, T)                                                                        \
    static void NAME(void *ctx, size_t begin, size_t end, int worker)                              \
    {                                                                                              \
        const cpu_wgemm_args *g = ctx;                                                             \
        (void)worker;                                                                              \
        for (size_t r = begin; r < end; r++) {                                                     \
            int64_t bi = (int64_t)r / g->m, i = (int64_t)r % g->m;                                 \
            const T *a = (const T *)g->a + g->a_off[bi] + i * g->a_row;                            \
            const T *b = (const T *)g->b + g->b_off[bi];                                           \
            T *c = (T *)g->c + (int64_t)r * g->n;                                                  \
            for (int64_t j = 0; j < g->n; j++)                                                     \
                c[j] = 0;                                                                          \
            for (int64_t p = 0; p < g->k; p++) {                                                   \
                const T av = a[p * g->a_col];                                                      \
                const T *brow = b + p * g->b_row;                                                  \
                for (int64_t j = 0; j < g->n; j++)                                                 \
                    c[j] += av * brow[j * g->b_col];                                               \
            }                                                                                      \
        }                                                                                          \
    }

WGEMM_ROWS(rows_f64, double)
WGEMM_ROWS(rows_u64, uint64_t)

void cpu_wgemm(cpu_pool *pool, const cpu_wgemm_args *g)
{
    if (g->m <= 0 || g->n <= 0 || g->batches <= 0)
        return;
    size_t rows = (size_t)(g->batches * g->m);
    /* About 64K multiply-adds per chunk, so waking the pool pays for itself. */
    int64_t per_row = g->n * (g->k > 0 ? g->k : 1);
    size_t grain = per_row >= 65536 ? 1 : (size_t)(65536 / per_row);
    cpu_parallel_for(pool, rows, grain, g->is_f64 ? rows_f64 : rows_u64, (void *)g);
}
