/* ConvTranspose with kernel == stride (conv_transpose_tiled.h).
 *
 * The weights, transposed to rows (m, kd, kh, kw) x columns c, are packed into the GEMM micro-
 * kernel's A panels (cpu_conv_pack, as the convolution driver does). A run of nr input positions
 * along one input row is, for every input channel c, nr consecutive floats of X, so the micro-
 * kernel's gather variant reads B in place (offset c * in_size per channel); ragged row ends are
 * copied into a zero-padded panel. The rows x nr result goes to a per-worker tile and from there,
 * plus bias, to the output: row (m, kd, kh, kw), position iw lands on output column
 * iw * stride + kw of output row ih * stride + kh. Work items are input rows. */
#include <stdlib.h>
#include <string.h>

#include "conv_gemm.h"
#include "conv_transpose_tiled.h"
#include "gemm.h"
#include "gemm_kernel.h"

/* Below this many multiply-adds in all, waking the pool costs more than it saves. */
#define PARALLEL_MACS 262144.0

int cpu_convt_tiled_fits(const aglm_window *w, int64_t group)
{
    if (group != 1)
        return 0;
    for (int i = 0; i < AGLM_WINDOW_DIMS; i++)
        if (w->k[i] != w->s[i] || (w->d[i] != 1 && w->k[i] != 1) || w->pb[i] || w->pe[i] ||
            w->out[i] != w->in[i] * w->s[i])
            return 0;
    return 1;
}

typedef struct convt_job {
    const cpu_gemm_kernel *kn;
    const aglm_window *w;
    const float *x;
    const cpu_conv_packed *pk; /* rows = m * ksize, kdim = channels */
    const int32_t *off;        /* c * in_size per input channel */
    const float *bias;
    float *y;
    int64_t channels, m, ksize, in_size, out_size;
    float *scratch; /* per worker: the rows_p x nr tile, then a kc x nr B panel */
    size_t scratch_floats;
} convt_job;

/* One run of len (<= nr) input positions starting at xrow + iw: the tile ct (mgp x nr) =
 * W^T x X[:, run]. */
static void run_tile(const convt_job *j, const float *xrun, int64_t len, float *ct, float *bp)
{
    const cpu_gemm_kernel *kn = j->kn;
    const cpu_conv_packed *pk = j->pk;
    int64_t nr = kn->nr, mr = kn->mr;
    cpu_gemm_out o = {.ldc = nr, .rows = (int)mr, .cols = (int)nr, .alpha = 1.0f, .beta = 0.0f};
    for (int64_t p0 = 0; p0 < j->channels; p0 += kn->kc) {
        int64_t kb = j->channels - p0 < kn->kc ? j->channels - p0 : kn->kc;
        int direct = len == nr && kn->gather;
        if (!direct)
            for (int64_t p = 0; p < kb; p++) {
                memcpy(bp + p * nr, xrun + j->off[p0 + p], (size_t)len * sizeof *bp);
                memset(bp + p * nr + len, 0, (size_t)(nr - len) * sizeof *bp);
            }
        o.first = p0 == 0;
        for (int64_t ir = 0; ir < pk->mgp; ir += mr) {
            o.c = ct + ir * nr;
            const float *a = pk->a + ir * pk->kdim + p0 * mr;
            if (direct)
                kn->gather(kb, a, xrun, j->off + p0, &o);
            else
                kn->run(kb, a, bp, &o);
        }
    }
}

/* dst[2 q] = a[q] + bv, dst[2 q + 1] = b[q] + bv for q < len. */
CPU_VECTORISE static void interleave2(float *restrict dst, const float *restrict a,
                                      const float *restrict b, int64_t len, float bv)
{
    for (int64_t q = 0; q < len; q++) {
        dst[2 * q] = a[q] + bv;
        dst[2 * q + 1] = b[q] + bv;
    }
}

static void convt_rows(void *ctx, size_t begin, size_t end, int worker)
{
    const convt_job *j = ctx;
    const aglm_window *w = j->w;
    int64_t nr = j->kn->nr, in1 = w->in[1], in2 = w->in[2];
    float *ct = j->scratch + (size_t)worker * j->scratch_floats;
    float *bp = ct + j->pk->mgp * nr;
    for (size_t idx = begin; idx < end; idx++) {
        int64_t t = (int64_t)idx, ih = t % in1;
        t /= in1;
        int64_t id = t % w->in[0], n = t / w->in[0];
        const float *xrow = j->x + n * j->channels * j->in_size + (id * in1 + ih) * in2;
        for (int64_t iw = 0; iw < in2; iw += nr) {
            int64_t len = in2 - iw < nr ? in2 - iw : nr;
            run_tile(j, xrow + iw, len, ct, bp);
            /* Rows (mo, kd, kh, 0 .. k2 - 1) fill output row segment [iw * k2, (iw + len) * k2)
             * interleaved; the 2-wide case (2x2 stride 2) gets its own loop to vectorise. */
            int64_t k2 = w->k[2];
            for (int64_t r = 0; r < j->pk->mg; r += k2) {
                int64_t mo = r / j->ksize, tap = r % j->ksize;
                int64_t kh = (tap / k2) % w->k[1], kd = tap / (k2 * w->k[1]);
                float bv = j->bias ? j->bias[mo] : 0.0f;
                float *dst = j->y + (n * j->m + mo) * j->out_size +
                             ((id * w->s[0] + kd) * w->out[1] + ih * w->s[1] + kh) * w->out[2] +
                             iw * k2;
                const float *src = ct + r * nr;
                if (k2 == 2)
                    interleave2(dst, src, src + nr, len, bv);
                else
                    for (int64_t kw = 0; kw < k2; kw++)
                        for (int64_t q = 0; q < len; q++)
                            dst[q * k2 + kw] = src[kw * nr + q] + bv;
            }
        }
    }
}

aglm_status cpu_convt_tiled(const cpu_kctx *k, const aglm_window *w, const float *x, int64_t batch,
                            int64_t channels, const float *wt, int64_t m, const float *bias,
                            float *y)
{
    int64_t ksize = aglm_window_kernel_size(w), rows = m * ksize;
    int64_t in_size = aglm_window_in_size(w), out_size = aglm_window_out_size(w);
    if (batch == 0 || rows == 0 || in_size == 0)
        return AGLM_OK;
    if (channels == 0) { /* an empty sum: the output is the bias */
        for (int64_t r = 0; r < batch * m; r++)
            for (int64_t q = 0; q < out_size; q++)
                y[r * out_size + q] = bias ? bias[r % m] : 0.0f;
        return AGLM_OK;
    }
    if ((double)channels * (double)in_size >= 2147483647.0)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "ConvTranspose input of %lld x %lld floats is "
                          "over 2^31",
                          (long long)channels, (long long)in_size);
    /* W [channels, rows] transposed to [rows, channels], the layout cpu_conv_pack takes. */
    float *wtr = malloc((size_t)(rows * channels) * sizeof *wtr);
    int32_t *off = malloc((size_t)channels * sizeof *off);
    cpu_conv_packed pk = {0};
    aglm_status st = wtr && off ? AGLM_OK
                                : aglm_error(AGLM_ERR_NOMEM,
                                             "out of memory transposing "
                                             "ConvTranspose weights (%lld floats)",
                                             (long long)(rows * channels));
    if (st == AGLM_OK) {
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < channels; c++)
                wtr[r * channels + c] = wt[c * rows + r];
        for (int64_t c = 0; c < channels; c++)
            off[c] = (int32_t)(c * in_size);
        st = cpu_conv_pack(wtr, 1, rows, channels, cpu_simd_active(), &pk);
    }
    free(wtr);
    if (st != AGLM_OK) {
        free(off);
        return st;
    }
    const cpu_gemm_kernel *kn = cpu_gemm_kernel_for(pk.simd);
    double macs = (double)batch * (double)rows * (double)in_size * (double)channels;
    cpu_pool *pool = macs < PARALLEL_MACS ? NULL : k->pool;
    int threads = cpu_pool_threads(pool);
    int64_t kb = channels < kn->kc ? channels : kn->kc;
    convt_job j = {kn, w, x, &pk, off, bias, y, channels, m, ksize, in_size, out_size, NULL, 0};
    j.scratch_floats = (size_t)((pk.mgp + kb) * kn->nr + 15) / 16 * 16;
    j.scratch = cpu_alloc_floats(j.scratch_floats * (size_t)threads);
    if (!j.scratch) {
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory for ConvTranspose tiles (%lld floats)",
                        (long long)(j.scratch_floats * (size_t)threads));
    } else {
        cpu_parallel_for(pool, (size_t)(batch * w->in[0] * w->in[1]), 1, convt_rows, &j);
    }
    free(j.scratch);
    free(off);
    cpu_conv_packed_free(&pk);
    return st;
}
