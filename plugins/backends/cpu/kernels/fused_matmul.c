/* aglm.FusedMatMul (docs/extension-ops.md): MatMul or Gemm, plus a bias, then the fused ops'
 * element-wise epilogue (fused_act.c), on f32.
 *
 * The product runs on the backend's own MatMul / Gemm kernels (kernels/matmul.c, found through
 * the kernel table, so there is one matrix-multiply path): with 2-D A and B on Gemm, whose C is
 * the bias and which reads the node's transA/transB/alpha/beta; otherwise on MatMul, the bias
 * then added along the last dim. The epilogue then runs over rows of the result, in parallel,
 * while each row is still in cache. PRelu's slopes run along the last dim (N). */
#include <string.h>

#include "ew_simd.h"
#include "fused_act.h"

typedef struct epi_job {
    const cpu_fused_epilogue *f;
    float *y;
    const float *bias; /* [n], added first; NULL when Gemm added it */
    int64_t n;         /* row length */
} epi_job;

static void epi_rows(void *ctx, size_t begin, size_t end, int worker)
{
    (void)worker;
    const epi_job *j = ctx;
    for (size_t r = begin; r < end; r++) {
        float *row = j->y + (int64_t)r * j->n;
        if (j->bias && !cpu_ew_binary_f32(CPU_EW_ADD, j->n, row, 1, j->bias, 1, row))
            for (int64_t i = 0; i < j->n; i++)
                row[i] += j->bias[i];
    }
    int64_t off = (int64_t)begin * j->n, len = (int64_t)(end - begin) * j->n;
    cpu_fused_epilogue_apply(j->f, j->y, off, len);
}

/* 1 when the node carries any of Gemm's attributes. */
static int has_gemm_attrs(const aglm_node *n)
{
    return aglm_node_attr(n, "transA") || aglm_node_attr(n, "transB") ||
           aglm_node_attr(n, "alpha") || aglm_node_attr(n, "beta");
}

static aglm_status k_fused_matmul(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                  size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *a = in[0], *b = in[1], *c = n_in > 2 ? in[2] : NULL,
                      *r = n_in > 3 ? in[3] : NULL;
    char sa[64], sb[64], sc[64], sy[64];
    cpu_fused_epilogue f;
    aglm_status st = cpu_fused_epilogue_read(k->node, &f);
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(a, "input A", b, "input B");
    if (st == AGLM_OK && c)
        st = cpu_check_same_dtype(a, "input A", c, "bias C");
    if (st == AGLM_OK && r)
        st = cpu_check_same_dtype(a, "input A", r, "residual R");
    if (st != AGLM_OK)
        return st;
    int gemm = a->rank == 2 && b->rank == 2;
    if (!gemm && has_gemm_attrs(k->node))
        return aglm_error(AGLM_ERR_SHAPE,
                          "transA/transB/alpha/beta need 2-D A and B, got %s and %s",
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    /* MatMul's bias runs along the result's last dim, which is B's last (B has rank >= 2) */
    if (!gemm && c && (b->rank < 2 || c->rank != 1 || c->dims[0] != b->dims[b->rank - 1]))
        return aglm_error(AGLM_ERR_SHAPE,
                          "bias C %s must be a vector of B %s's last dim (B of rank >= 2)",
                          cpu_shape(c, sc, sizeof sc), cpu_shape(b, sb, sizeof sb));
    const cpu_kernel *base = cpu_kernel_find(gemm ? "Gemm" : "MatMul", "");
    if (!base)
        return aglm_error(AGLM_ERR_INTERNAL, "no %s kernel to build on", gemm ? "Gemm" : "MatMul");
    const aglm_tensor *args[3] = {a, b, c};
    if ((st = base->run(k, gemm && c ? 3 : 2, args, 1, out)) != AGLM_OK)
        return st;
    int same = !r || r->rank == out[0].rank;
    for (int i = 0; same && r && i < r->rank; i++)
        same = r->dims[i] == out[0].dims[i];
    if (!same)
        return aglm_error(AGLM_ERR_SHAPE,
                          "residual R %s does not match the product %s of A %s and B %s",
                          cpu_shape(r, sc, sizeof sc), cpu_shape(&out[0], sy, sizeof sy),
                          cpu_shape(a, sa, sizeof sa), cpu_shape(b, sb, sizeof sb));
    int64_t numel = aglm_tensor_numel(&out[0]);
    int64_t n = out[0].rank > 0 ? out[0].dims[out[0].rank - 1] : 1;
    if ((st = cpu_fused_epilogue_layout(&f, n, 1)) != AGLM_OK)
        return st;
    if (numel == 0 || n == 0)
        return AGLM_OK;
    f.residual = r ? r->data : NULL;
    epi_job j = {&f, out[0].data, gemm ? NULL : c ? c->data : NULL, n};
    size_t rows = (size_t)(numel / n), grain = n >= 4096 ? 1 : (size_t)(4096 / n);
    cpu_parallel_for(k->pool, rows, grain, epi_rows, &j);
    return AGLM_OK;
}

/* The MatMul / Gemm kernel's prepare (a constant B packed once) serves this node too: its
 * k->prepared reaches that kernel through base->run above, and both read transB alike. */
static const cpu_prep *base_prep(void)
{
    return cpu_kernel_prep(cpu_kernel_find("MatMul", ""));
}

static aglm_status fused_matmul_prepare(const cpu_kctx *k, size_t n_in,
                                        const aglm_tensor *const *consts, void **state)
{
    const cpu_prep *p = base_prep();
    *state = NULL;
    return p ? p->prepare(k, n_in, consts, state) : AGLM_OK;
}

static void fused_matmul_release(void *state)
{
    const cpu_prep *p = base_prep();
    if (p)
        p->release(state);
}

const cpu_prep cpu_aglm_matmul_preps[] = {
    {k_fused_matmul, fused_matmul_prepare, fused_matmul_release},
    {NULL, NULL, NULL},
};

const cpu_kernel cpu_aglm_matmul_kernels[] = {
    {AGLM_OP_FUSED_MATMUL, CPU_DT(AGLM_F32), k_fused_matmul},
    {NULL, 0, NULL},
};
