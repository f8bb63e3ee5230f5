/* ConvTranspose (1-D to 3-D; strides, dilations, pads, auto_pad, output_padding, output_shape,
 * group, optional bias), f32.
 *
 * Each (image, group) is one matrix multiply, columns = W_g^T [M/g * kernel, C/g] x X_g
 * [C/g, input positions], whose entries are then scattered (col2im) onto the output: input
 * position i and kernel tap t land on output position i * stride - pad_begin + t * dilation. */
#include <stdlib.h>
#include <string.h>

#include "conv_transpose_tiled.h"
#include "gemm.h"

typedef struct col2im_job {
    const aglm_window *w;
    const float *col; /* rows (m, kd, kh, kw), columns = input positions */
    float *y;         /* the group's first output channel */
} col2im_job;

/* Output channels [b, e) of one group: adds every column entry to its output position. */
static void col2im_channels(void *ctx, size_t b, size_t e, int worker)
{
    (void)worker;
    const col2im_job *j = ctx;
    const aglm_window *w = j->w;
    int64_t in_size = aglm_window_in_size(w), out_size = aglm_window_out_size(w);
    int64_t ksize = aglm_window_kernel_size(w);
    for (size_t m = b; m < e; m++) {
        float *y = j->y + (int64_t)m * out_size;
        for (int64_t t = 0; t < ksize; t++) {
            int64_t kw = t % w->k[2], kh = (t / w->k[2]) % w->k[1], kd = t / (w->k[2] * w->k[1]);
            const float *row = j->col + ((int64_t)m * ksize + t) * in_size;
            for (int64_t id = 0; id < w->in[0]; id++) {
                int64_t od = id * w->s[0] - w->pb[0] + kd * w->d[0];
                if (od < 0 || od >= w->out[0])
                    continue;
                for (int64_t ih = 0; ih < w->in[1]; ih++) {
                    int64_t oh = ih * w->s[1] - w->pb[1] + kh * w->d[1];
                    if (oh < 0 || oh >= w->out[1])
                        continue;
                    const float *src = row + (id * w->in[1] + ih) * w->in[2];
                    float *dst = y + (od * w->out[1] + oh) * w->out[2];
                    /* The iw with 0 <= iw * s + off < out[2], found once so the loop has no
                     * test in it (and vectorises at stride 1). */
                    int64_t s2 = w->s[2], off = kw * w->d[2] - w->pb[2];
                    int64_t lo = off >= 0 ? 0 : (-off + s2 - 1) / s2;
                    int64_t hi = w->out[2] - off <= 0 ? 0 : (w->out[2] - off + s2 - 1) / s2;
                    if (hi > w->in[2])
                        hi = w->in[2];
                    if (s2 == 1)
                        for (int64_t iw = lo; iw < hi; iw++)
                            dst[iw + off] += src[iw];
                    else
                        for (int64_t iw = lo; iw < hi; iw++)
                            dst[iw * s2 + off] += src[iw];
                }
            }
        }
    }
}

static aglm_status k_conv_transpose(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *x = in[0], *wt = in[1], *b = n_in > 2 ? in[2] : NULL;
    char sx[64], sw[64], sb[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", CPU_DT(AGLM_F32));
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(x, "input X", wt, "input W");
    if (st == AGLM_OK && b)
        st = cpu_check_same_dtype(x, "input X", b, "input B");
    if (st != AGLM_OK)
        return st;
    if (x->rank < 3 || x->rank > 2 + AGLM_WINDOW_DIMS || wt->rank != x->rank)
        return aglm_error(AGLM_ERR_SHAPE, "X %s and W %s must have the same rank, 3 to 5",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw));
    int64_t group = aglm_node_get_int(k->node, "group", 1);
    int64_t batch = x->dims[0], channels = x->dims[1], mg = wt->dims[1];
    if (group < 1 || wt->dims[0] != channels || channels % group != 0)
        return aglm_error(AGLM_ERR_SHAPE,
                          "X %s, W %s and group %lld disagree: need W dim 0 = X "
                          "channels, divisible by group",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw),
                          (long long)group);
    int64_t m = mg * group, cg = channels / group;
    if (b && (b->rank != 1 || b->dims[0] != m))
        return aglm_error(AGLM_ERR_SHAPE, "B %s must be [%lld], one value per output channel",
                          cpu_shape(b, sb, sizeof sb), (long long)m);
    int nd = x->rank - 2;
    aglm_window w;
    if ((st = aglm_window_init_transpose(&w, k->node, nd, x->dims + 2, wt->dims + 2)) != AGLM_OK)
        return st;
    int64_t dims[AGLM_MAX_RANK] = {batch, m};
    for (int i = 0; i < nd; i++)
        dims[2 + i] = w.out[AGLM_WINDOW_DIMS - nd + i];
    if ((st = cpu_alloc(k, &out[0], AGLM_F32, x->rank, dims)) != AGLM_OK ||
        aglm_tensor_numel(&out[0]) == 0)
        return st;
    /* Kernel == stride: every output element from one input position, no col2im. */
    if (cpu_convt_tiled_fits(&w, group))
        return cpu_convt_tiled(k, &w, x->data, batch, channels, wt->data, m, b ? b->data : NULL,
                               out[0].data);
    int64_t in_size = aglm_window_in_size(&w), out_size = aglm_window_out_size(&w);
    int64_t rows = mg * aglm_window_kernel_size(&w);
    float *col = cpu_alloc_floats((size_t)(rows * in_size > 0 ? rows * in_size : 1));
    if (!col)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for a column buffer of %lld floats",
                          (long long)(rows * in_size));
    const float *xd = x->data, *wd = wt->data;
    float *yd = out[0].data;
    for (int64_t n = 0; n < batch && st == AGLM_OK; n++)
        for (int64_t g = 0; g < group && st == AGLM_OK; g++) {
            cpu_gemm_args ga = {.trans_a = 1,
                                .m = rows,
                                .n = in_size,
                                .k = cg,
                                .alpha = 1.0f,
                                .a = wd + g * cg * rows,
                                .lda = rows,
                                .b = xd + (n * channels + g * cg) * in_size,
                                .ldb = in_size,
                                .beta = 0.0f,
                                .c = col,
                                .ldc = in_size};
            if (in_size > 0 && (st = cpu_sgemm(k->pool, &ga)) != AGLM_OK)
                break;
            col2im_job job = {&w, col, yd + (n * m + g * mg) * out_size};
            if (in_size > 0)
                cpu_parallel_for(k->pool, (size_t)mg, 1, col2im_channels, &job);
        }
    free(col);
    if (st == AGLM_OK && b) {
        const float *bd = b->data;
        for (int64_t n = 0; n < batch; n++)
            for (int64_t c = 0; c < m; c++) {
                float *y = yd + (n * m + c) * out_size;
                for (int64_t p = 0; p < out_size; p++)
                    y[p] += bd[c];
            }
    }
    return st;
}

const cpu_kernel cpu_convtranspose_kernels[] = {
    {"ConvTranspose", CPU_DT(AGLM_F32), k_conv_transpose},
    {NULL, 0, NULL},
};
