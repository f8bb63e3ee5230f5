/* DeformConv (opset 19), 2-D, f32: a convolution whose every kernel tap samples the input at
 * its regular position plus a learned offset (bilinearly, zero outside the input, as
 * torchvision's deform_conv2d does), optionally scaled by a mask.
 *
 * Per image the sampled taps form a column matrix [C * kernel, output positions], which each
 * group multiplies by its weights, as Conv's im2col does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "kernels.h"

static float sample(const float *plane, int64_t h, int64_t w, float y, float x)
{
    if (!(y > -1.0f && y < (float)h && x > -1.0f && x < (float)w)) /* NaN too */
        return 0.0f;
    float fy = floorf(y), fx = floorf(x);
    int64_t y0 = (int64_t)fy, x0 = (int64_t)fx, y1 = y0 + 1, x1 = x0 + 1;
    float ly = y - fy, lx = x - fx, hy = 1.0f - ly, hx = 1.0f - lx;
    float v00 = y0 >= 0 && x0 >= 0 ? plane[y0 * w + x0] : 0.0f;
    float v01 = y0 >= 0 && x1 < w ? plane[y0 * w + x1] : 0.0f;
    float v10 = y1 < h && x0 >= 0 ? plane[y1 * w + x0] : 0.0f;
    float v11 = y1 < h && x1 < w ? plane[y1 * w + x1] : 0.0f;
    return hy * hx * v00 + hy * lx * v01 + ly * hx * v10 + ly * lx * v11;
}

typedef struct deform_job {
    const aglm_window *w;
    const float *x;      /* this image */
    const float *offset; /* this image: [offset_group * K * 2, P] */
    const float *mask;   /* this image: [offset_group * K, P], or NULL */
    float *col;          /* [C * K, P] */
    int64_t channels, per_offset_group;
} deform_job;

/* Column rows of input channels [b, e). */
static void deform_rows(void *ctx, size_t b, size_t e, int worker)
{
    (void)worker;
    const deform_job *j = ctx;
    const aglm_window *w = j->w;
    int64_t kh_n = w->k[1], kw_n = w->k[2], ksize = kh_n * kw_n;
    int64_t ih = w->in[1], iw = w->in[2], oh = w->out[1], ow = w->out[2], p_n = oh * ow;
    for (size_t c = b; c < e; c++) {
        int64_t og = (int64_t)c / j->per_offset_group;
        const float *plane = j->x + (int64_t)c * ih * iw;
        for (int64_t t = 0; t < ksize; t++) {
            int64_t kh = t / kw_n, kw = t % kw_n;
            const float *dy = j->offset + ((og * ksize + t) * 2) * p_n, *dx = dy + p_n;
            const float *m = j->mask ? j->mask + (og * ksize + t) * p_n : NULL;
            float *row = j->col + ((int64_t)c * ksize + t) * p_n;
            for (int64_t p = 0; p < p_n; p++) {
                int64_t py = p / ow, px = p % ow;
                float y = (float)(py * w->s[1] - w->pb[1] + kh * w->d[1]) + dy[p];
                float x = (float)(px * w->s[2] - w->pb[2] + kw * w->d[2]) + dx[p];
                float v = sample(plane, ih, iw, y, x);
                row[p] = m ? v * m[p] : v;
            }
        }
    }
}

static aglm_status k_deform_conv(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                 size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *x = in[0], *wt = in[1], *off = in[2];
    const aglm_tensor *b = n_in > 3 ? in[3] : NULL, *mask = n_in > 4 ? in[4] : NULL;
    char sx[64], sw[64], so[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", CPU_DT(AGLM_F32));
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(x, "input X", wt, "input W");
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(x, "input X", off, "input offset");
    if (st == AGLM_OK && b)
        st = cpu_check_same_dtype(x, "input X", b, "input B");
    if (st == AGLM_OK && mask)
        st = cpu_check_same_dtype(x, "input X", mask, "input mask");
    if (st != AGLM_OK)
        return st;
    if (x->rank != 4 || wt->rank != 4)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "X %s and W %s: only 2-D DeformConv is supported",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw));
    int64_t group = aglm_node_get_int(k->node, "group", 1);
    int64_t ogroup = aglm_node_get_int(k->node, "offset_group", 1);
    int64_t batch = x->dims[0], channels = x->dims[1], m = wt->dims[0], cg = wt->dims[1];
    if (group < 1 || ogroup < 1 || cg * group != channels || m % group != 0 ||
        channels % ogroup != 0)
        return aglm_error(AGLM_ERR_SHAPE, "X %s, W %s, group %lld and offset_group %lld disagree",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw),
                          (long long)group, (long long)ogroup);
    aglm_window w;
    if ((st = aglm_window_init(&w, k->node, 2, x->dims + 2, wt->dims + 2, 0)) != AGLM_OK)
        return st;
    int64_t ksize = aglm_window_kernel_size(&w), p_n = aglm_window_out_size(&w);
    int64_t oh = w.out[1], ow = w.out[2];
    if (off->rank != 4 || off->dims[0] != batch || off->dims[1] != ogroup * ksize * 2 ||
        off->dims[2] != oh || off->dims[3] != ow)
        return aglm_error(AGLM_ERR_SHAPE, "offset %s must be [%lld, %lld, %lld, %lld]",
                          cpu_shape(off, so, sizeof so), (long long)batch,
                          (long long)(ogroup * ksize * 2), (long long)oh, (long long)ow);
    if (mask && (mask->rank != 4 || mask->dims[0] != batch || mask->dims[1] != ogroup * ksize ||
                 mask->dims[2] != oh || mask->dims[3] != ow))
        return aglm_error(AGLM_ERR_SHAPE, "mask %s must be [%lld, %lld, %lld, %lld]",
                          cpu_shape(mask, so, sizeof so), (long long)batch,
                          (long long)(ogroup * ksize), (long long)oh, (long long)ow);
    if (b && (b->rank != 1 || b->dims[0] != m))
        return aglm_error(AGLM_ERR_SHAPE, "B %s must be [%lld]", cpu_shape(b, so, sizeof so),
                          (long long)m);
    int64_t dims[4] = {batch, m, oh, ow};
    if ((st = cpu_alloc(k, &out[0], AGLM_F32, 4, dims)) != AGLM_OK ||
        aglm_tensor_numel(&out[0]) == 0)
        return st;
    float *col = cpu_alloc_floats((size_t)(channels * ksize * p_n));
    if (!col)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for a column buffer of %lld floats",
                          (long long)(channels * ksize * p_n));
    const float *xd = x->data, *wd = wt->data, *od = off->data;
    const float *md = mask ? mask->data : NULL, *bd = b ? b->data : NULL;
    float *yd = out[0].data;
    int64_t mg = m / group, kdim = cg * ksize, in_size = aglm_window_in_size(&w);
    for (int64_t n = 0; n < batch && st == AGLM_OK; n++) {
        deform_job job = {&w,
                          xd + n * channels * in_size,
                          od + n * ogroup * ksize * 2 * p_n,
                          md ? md + n * ogroup * ksize * p_n : NULL,
                          col,
                          channels,
                          channels / ogroup};
        cpu_parallel_for(k->pool, (size_t)channels, 1, deform_rows, &job);
        for (int64_t g = 0; g < group && st == AGLM_OK; g++) {
            float *y = yd + (n * m + g * mg) * p_n;
            if (bd)
                for (int64_t o = 0; o < mg; o++)
                    for (int64_t p = 0; p < p_n; p++)
                        y[o * p_n + p] = bd[g * mg + o];
            cpu_gemm_args ga = {.m = mg,
                                .n = p_n,
                                .k = kdim,
                                .alpha = 1.0f,
                                .a = wd + g * mg * kdim,
                                .lda = kdim,
                                .b = col + g * kdim * p_n,
                                .ldb = p_n,
                                .beta = bd ? 1.0f : 0.0f,
                                .c = y,
                                .ldc = p_n};
            st = cpu_sgemm(k->pool, &ga);
        }
    }
    free(col);
    return st;
}

const cpu_kernel cpu_deformconv_kernels[] = {
    {"DeformConv", CPU_DT(AGLM_F32), k_deform_conv},
    {NULL, 0, NULL},
};
