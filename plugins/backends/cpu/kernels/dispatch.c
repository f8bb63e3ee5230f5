/* The broadcasting driver of dispatch.h: walks the output row by row of its innermost dim, with
 * each input's element steps worked out once (0 where it repeats). */
#include <string.h>

#include "dispatch.h"

#define MAX_OPERANDS 3

/* The broadcast as out dims with per-input element strides (0 where an input repeats), unit
 * dims dropped and adjacent dims merged where every input steps through both as one. */
typedef struct bcast {
    int rank;
    size_t n;
    int64_t dims[AGLM_MAX_RANK];
    int64_t st[MAX_OPERANDS][AGLM_MAX_RANK];
} bcast;

static void operand_strides(const aglm_tensor *t, int rank, const int64_t *out_dims, int64_t *st)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int ti = i - (rank - t->rank);
        if (ti < 0 || (t->dims[ti] == 1 && out_dims[i] != 1)) {
            st[i] = 0;
        } else {
            st[i] = s;
            s *= t->dims[ti];
        }
    }
}

static int mergeable(const bcast *bc, int64_t st[][AGLM_MAX_RANK], int i, int64_t dim)
{
    for (size_t k = 0; k < bc->n; k++)
        if (bc->st[k][bc->rank - 1] != st[k][i] * dim)
            return 0;
    return 1;
}

static void bcast_init(bcast *bc, size_t n, const aglm_tensor *const *in, const aglm_tensor *out)
{
    int64_t st[MAX_OPERANDS][AGLM_MAX_RANK];
    int rank = out->rank;
    const int64_t *dims = out->dims;
    bc->n = n;
    for (size_t k = 0; k < n; k++)
        operand_strides(in[k], rank, dims, st[k]);
    bc->rank = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 1)
            continue;
        int r = bc->rank;
        if (r > 0 && mergeable(bc, st, i, dims[i])) {
            bc->dims[r - 1] *= dims[i];
            for (size_t k = 0; k < n; k++)
                bc->st[k][r - 1] = st[k][i];
            continue;
        }
        bc->dims[r] = dims[i];
        for (size_t k = 0; k < n; k++)
            bc->st[k][r] = st[k][i];
        bc->rank++;
    }
    if (bc->rank == 0) {
        bc->rank = 1;
        bc->dims[0] = 1;
        for (size_t k = 0; k < n; k++)
            bc->st[k][0] = 0;
    }
}

typedef struct bcast_job {
    bcast bc;
    cpu_row_fn row;
    const cpu_ew_params *p;
    const char *in[MAX_OPERANDS];
    size_t es[MAX_OPERANDS];
    char *out;
    size_t out_es;
} bcast_job;

/* Elements [begin, end) of the flat output, one innermost run at a time. */
static void bcast_range(void *ctx, size_t begin, size_t end, int worker)
{
    (void)worker;
    const bcast_job *j = ctx;
    const bcast *bc = &j->bc;
    int r = bc->rank;
    int64_t inner = bc->dims[r - 1];
    int64_t pos = (int64_t)begin;
    while (pos < (int64_t)end) {
        int64_t row = pos / inner, col = pos % inner;
        int64_t n = inner - col;
        if (n > (int64_t)end - pos)
            n = (int64_t)end - pos;
        int64_t off[MAX_OPERANDS], step[MAX_OPERANDS];
        const void *ptr[MAX_OPERANDS];
        for (size_t k = 0; k < bc->n; k++) {
            off[k] = col * bc->st[k][r - 1];
            step[k] = bc->st[k][r - 1];
        }
        for (int i = r - 2; i >= 0; i--) {
            int64_t idx = row % bc->dims[i];
            row /= bc->dims[i];
            for (size_t k = 0; k < bc->n; k++)
                off[k] += idx * bc->st[k][i];
        }
        for (size_t k = 0; k < bc->n; k++)
            ptr[k] = j->in[k] + (size_t)off[k] * j->es[k];
        j->row(n, ptr, step, j->out + (size_t)pos * j->out_es, j->p);
        pos += n;
    }
}

aglm_status cpu_bcast_alloc(const cpu_kctx *k, size_t n, const aglm_tensor *const *in,
                            aglm_dtype dt, aglm_tensor *out)
{
    int rank = in[0]->rank;
    int64_t dims[AGLM_MAX_RANK];
    memcpy(dims, in[0]->dims, sizeof dims);
    for (size_t i = 1; i < n; i++) {
        int64_t next[AGLM_MAX_RANK];
        int next_rank;
        aglm_status st =
            aglm_broadcast_shapes(rank, dims, in[i]->rank, in[i]->dims, &next_rank, next);
        if (st != AGLM_OK)
            return st;
        rank = next_rank;
        memcpy(dims, next, sizeof dims);
    }
    return cpu_alloc(k, out, dt, rank, dims);
}

void cpu_bcast_run(cpu_pool *pool, size_t n, const aglm_tensor *const *in, aglm_tensor *out,
                   cpu_row_fn row, const cpu_ew_params *p)
{
    /* Below 64K elements a row loop takes microseconds, less than waking the pool's workers
     * costs, so small tensors (squeeze-excite scales, bias rows) stay on the calling thread. */
    cpu_bcast_run_grain(pool, n, in, out, row, p, CPU_EW_GRAIN);
}

void cpu_bcast_run_grain(cpu_pool *pool, size_t n, const aglm_tensor *const *in, aglm_tensor *out,
                         cpu_row_fn row, const cpu_ew_params *p, size_t grain)
{
    int64_t total = aglm_tensor_numel(out);
    if (total == 0 || n == 0 || n > MAX_OPERANDS)
        return;
    bcast_job job;
    memset(&job, 0, sizeof job);
    bcast_init(&job.bc, n, in, out);
    job.row = row;
    job.p = p;
    for (size_t k = 0; k < n; k++) {
        job.in[k] = in[k]->data;
        job.es[k] = aglm_dtype_size(in[k]->dtype);
    }
    job.out = out->data;
    job.out_es = aglm_dtype_size(out->dtype);
    cpu_parallel_for(pool, (size_t)total, grain, bcast_range, &job);
}

#define COPY_ROW(NAME, T)                                                                          \
    static void NAME(int64_t n, const void *const *in, const int64_t *s, void *out,                \
                     const cpu_ew_params *p)                                                       \
    {                                                                                              \
        const T *a = in[0];                                                                        \
        T *o = out;                                                                                \
        (void)p;                                                                                   \
        if (s[0]) {                                                                                \
            /* memmove: in place (o == a) is a no-op, not undefined */                             \
            memmove(o, a, (size_t)n * sizeof(T));                                                  \
            return;                                                                                \
        }                                                                                          \
        for (int64_t i = 0; i < n; i++)                                                            \
            o[i] = a[0];                                                                           \
    }

COPY_ROW(copy_1, uint8_t)
COPY_ROW(copy_2, uint16_t)
COPY_ROW(copy_4, uint32_t)
COPY_ROW(copy_8, uint64_t)

cpu_row_fn cpu_copy_row(size_t esize)
{
    switch (esize) {
    case 1: return copy_1;
    case 2: return copy_2;
    case 4: return copy_4;
    case 8: return copy_8;
    default: return NULL;
    }
}

int cpu_has_zero(const aglm_tensor *t)
{
    int64_t n = aglm_tensor_numel(t);
    size_t es = aglm_dtype_size(t->dtype);
    const unsigned char *b = t->data;
    for (int64_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < es && b[(size_t)i * es + k] == 0)
            k++;
        if (k == es)
            return 1;
    }
    return 0;
}

aglm_status cpu_pick_row(const cpu_kctx *k, const cpu_row_fn *loops, const aglm_tensor *t,
                         const char *what, cpu_row_fn *row)
{
    uint32_t mask = 0;
    for (int dt = 0; dt < CPU_NDT; dt++)
        if (loops[dt])
            mask |= CPU_DT(dt);
    *row = (unsigned)t->dtype < CPU_NDT ? loops[t->dtype] : NULL;
    if (*row)
        return AGLM_OK;
    aglm_status st = cpu_check_dtype(k, t, what, mask);
    return st != AGLM_OK ? st
                         : aglm_error(AGLM_ERR_UNSUPPORTED, "%s has dtype %s", what,
                                      aglm_dtype_name(t->dtype));
}

aglm_status cpu_ew_unary(const cpu_kctx *k, const cpu_row_fn *loops, const aglm_tensor *x,
                         aglm_dtype out_dt, aglm_tensor *y, const cpu_ew_params *p)
{
    return cpu_ew_unary_grain(k, loops, x, out_dt, y, p, CPU_EW_GRAIN);
}

aglm_status cpu_ew_unary_grain(const cpu_kctx *k, const cpu_row_fn *loops, const aglm_tensor *x,
                               aglm_dtype out_dt, aglm_tensor *y, const cpu_ew_params *p,
                               size_t grain)
{
    cpu_row_fn row;
    aglm_status st = cpu_pick_row(k, loops, x, "input X", &row);
    if (st == AGLM_OK)
        st = cpu_alloc(k, y, out_dt == AGLM_UNDEFINED ? x->dtype : out_dt, x->rank, x->dims);
    if (st != AGLM_OK)
        return st;
    cpu_bcast_run_grain(k->pool, 1, &x, y, row, p, grain);
    return AGLM_OK;
}
