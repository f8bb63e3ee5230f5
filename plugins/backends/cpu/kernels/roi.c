/* Region-of-interest pooling: RoiAlign (opsets 10, 16) and MaxRoiPool, f32.
 *
 * RoiAlign follows ONNX Runtime (and so ONNX's reference): each output bin averages (or, in max
 * mode, takes the largest weighted corner of) sampling_ratio^2 bilinear samples; samples more
 * than one pixel outside the feature map count as zero. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "kernels.h"

/* The four corners and weights of a bilinear sample at (y, x) on an h x w map. */
typedef struct sample {
    int64_t pos[4];
    float w[4];
} sample;

static sample bilinear_at(float y, float x, int64_t h, int64_t w)
{
    sample s;
    memset(&s, 0, sizeof s);
    if (!(y >= -1.0f && y <= (float)h && x >= -1.0f && x <= (float)w)) /* NaN too */
        return s;
    if (y <= 0)
        y = 0;
    if (x <= 0)
        x = 0;
    int64_t yl = (int64_t)y, xl = (int64_t)x, yh, xh;
    if (yl >= h - 1) {
        yh = yl = h - 1;
        y = (float)yl;
    } else {
        yh = yl + 1;
    }
    if (xl >= w - 1) {
        xh = xl = w - 1;
        x = (float)xl;
    } else {
        xh = xl + 1;
    }
    float ly = y - (float)yl, lx = x - (float)xl, hy = 1.0f - ly, hx = 1.0f - lx;
    s.pos[0] = yl * w + xl;
    s.pos[1] = yl * w + xh;
    s.pos[2] = yh * w + xl;
    s.pos[3] = yh * w + xh;
    s.w[0] = hy * hx;
    s.w[1] = hy * lx;
    s.w[2] = ly * hx;
    s.w[3] = ly * lx;
    return s;
}

static aglm_status check_rois(const cpu_kctx *k, const aglm_tensor *x, const aglm_tensor *rois,
                              int64_t cols)
{
    char sx[64], sr[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", CPU_DT(AGLM_F32));
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(x, "input X", rois, "input rois");
    if (st != AGLM_OK)
        return st;
    if (x->rank != 4 || rois->rank != 2 || rois->dims[1] != cols)
        return aglm_error(AGLM_ERR_SHAPE, "X %s must be [N, C, H, W] and rois %s [num_rois, %lld]",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(rois, sr, sizeof sr),
                          (long long)cols);
    return AGLM_OK;
}

static aglm_status k_roi_align(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const aglm_tensor *x = in[0], *rois = in[1], *bidx = in[2];
    aglm_status st = check_rois(k, x, rois, 4);
    if (st != AGLM_OK)
        return st;
    int64_t nr = rois->dims[0];
    if ((bidx->dtype != AGLM_I64 && bidx->dtype != AGLM_I32) || bidx->rank != 1 ||
        bidx->dims[0] != nr)
        return aglm_error(AGLM_ERR_SHAPE, "batch_indices must be i64 [%lld], one per roi",
                          (long long)nr);
    int64_t oh = aglm_node_get_int(k->node, "output_height", 1);
    int64_t ow = aglm_node_get_int(k->node, "output_width", 1);
    int64_t ratio = aglm_node_get_int(k->node, "sampling_ratio", 0);
    float scale = aglm_node_get_float(k->node, "spatial_scale", 1.0f);
    const char *mode = aglm_node_get_string(k->node, "mode", "avg");
    /* opset 16 made half_pixel the default; opset 10 had only the older output_half_pixel */
    const char *ctm = aglm_node_get_string(k->node, "coordinate_transformation_mode",
                                           k->opset >= 16 ? "half_pixel" : "output_half_pixel");
    int max_mode = strcmp(mode, "max") == 0, half = strcmp(ctm, "half_pixel") == 0;
    if (!max_mode && strcmp(mode, "avg") != 0)
        return aglm_error(AGLM_ERR_INVALID, "attribute mode = '%s'; expected avg or max", mode);
    if (!half && strcmp(ctm, "output_half_pixel") != 0)
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute coordinate_transformation_mode = '%s'; "
                          "expected half_pixel or output_half_pixel",
                          ctm);
    if (oh < 1 || ow < 1 || ratio < 0 || oh > 1 << 16 || ow > 1 << 16 || ratio > 1 << 10)
        return aglm_error(AGLM_ERR_INVALID,
                          "output_height %lld, output_width %lld and "
                          "sampling_ratio %lld are out of range",
                          (long long)oh, (long long)ow, (long long)ratio);
    int64_t c = x->dims[1], h = x->dims[2], w = x->dims[3];
    int64_t dims[4] = {nr, c, oh, ow};
    if ((st = cpu_alloc(k, &out[0], AGLM_F32, 4, dims)) != AGLM_OK)
        return st;
    const float *xd = x->data, *rd = rois->data;
    float *yd = out[0].data;
    float off = half ? 0.5f : 0.0f;
    for (int64_t r = 0; r < nr; r++) {
        int64_t b = bidx->dtype == AGLM_I64 ? ((const int64_t *)bidx->data)[r]
                                            : ((const int32_t *)bidx->data)[r];
        if (b < 0 || b >= x->dims[0])
            return aglm_error(AGLM_ERR_INVALID,
                              "batch index %lld of roi %lld is out of range "
                              "[0, %lld)",
                              (long long)b, (long long)r, (long long)x->dims[0]);
        const float *roi = rd + r * 4;
        for (int q = 0; q < 4; q++)
            if (!isfinite(roi[q] * scale) || fabsf(roi[q] * scale) > 1e9f)
                return aglm_error(AGLM_ERR_INVALID, "roi %lld has a coordinate %g out of range",
                                  (long long)r, (double)roi[q]);
        float x0 = roi[0] * scale - off, y0 = roi[1] * scale - off;
        float x1 = roi[2] * scale - off, y1 = roi[3] * scale - off;
        float rw = x1 - x0, rh = y1 - y0;
        if (!half) {
            /* the legacy mode forces rois to be at least one pixel */
            rw = fmaxf(rw, 1.0f);
            rh = fmaxf(rh, 1.0f);
        }
        float bh = rh / (float)oh, bw = rw / (float)ow;
        int64_t gh = ratio > 0 ? ratio : (int64_t)ceilf(rh / (float)oh);
        int64_t gw = ratio > 0 ? ratio : (int64_t)ceilf(rw / (float)ow);
        if (gh < 0 || gw < 0 || gh > 1 << 16 || gw > 1 << 16)
            return aglm_error(AGLM_ERR_INVALID, "roi %lld spans too many samples", (long long)r);
        float count = (float)(gh * gw > 1 ? gh * gw : 1);
        for (int64_t ch = 0; ch < c; ch++) {
            const float *plane = xd + (b * c + ch) * h * w;
            float *yo = yd + (r * c + ch) * oh * ow;
            for (int64_t py = 0; py < oh; py++)
                for (int64_t px = 0; px < ow; px++) {
                    float acc = 0.0f;
                    int first = 1;
                    for (int64_t iy = 0; iy < gh; iy++) {
                        float sy = y0 + (float)py * bh + ((float)iy + 0.5f) * bh / (float)gh;
                        for (int64_t ix = 0; ix < gw; ix++) {
                            float sx = x0 + (float)px * bw + ((float)ix + 0.5f) * bw / (float)gw;
                            sample s = bilinear_at(sy, sx, h, w);
                            if (!max_mode) {
                                for (int q = 0; q < 4; q++)
                                    acc += s.w[q] * plane[s.pos[q]];
                                continue;
                            }
                            float v = s.w[0] * plane[s.pos[0]];
                            for (int q = 1; q < 4; q++)
                                v = fmaxf(v, s.w[q] * plane[s.pos[q]]);
                            acc = first ? v : fmaxf(acc, v);
                            first = 0;
                        }
                    }
                    yo[py * ow + px] = max_mode ? acc : acc / count;
                }
        }
    }
    return AGLM_OK;
}

/* MaxRoiPool: the largest value of each of pooled_shape bins over rois [num_rois, 5] of
 * (batch, x1, y1, x2, y2), whose corners are scaled and rounded to pixels. */
static aglm_status k_max_roi_pool(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                  size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const aglm_tensor *x = in[0], *rois = in[1];
    aglm_status st = check_rois(k, x, rois, 5);
    if (st != AGLM_OK)
        return st;
    size_t count = 0;
    const int64_t *pooled = aglm_node_get_ints(k->node, "pooled_shape", &count);
    if (!pooled || count != 2 || pooled[0] < 1 || pooled[1] < 1 || pooled[0] > 1 << 16 ||
        pooled[1] > 1 << 16)
        return aglm_error(AGLM_ERR_INVALID, "attribute pooled_shape must be two positive sizes");
    float scale = aglm_node_get_float(k->node, "spatial_scale", 1.0f);
    int64_t nr = rois->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
    int64_t ph = pooled[0], pw = pooled[1], dims[4] = {nr, c, ph, pw};
    if ((st = cpu_alloc(k, &out[0], AGLM_F32, 4, dims)) != AGLM_OK)
        return st;
    const float *xd = x->data, *rd = rois->data;
    float *yd = out[0].data;
    for (int64_t r = 0; r < nr; r++) {
        const float *roi = rd + r * 5;
        for (int q = 1; q < 5; q++)
            if (!isfinite(roi[q] * scale) || fabsf(roi[q] * scale) > 1e9f)
                return aglm_error(AGLM_ERR_INVALID, "roi %lld has a coordinate %g out of range",
                                  (long long)r, (double)roi[q]);
        if (!(roi[0] >= 0 && roi[0] < (float)x->dims[0]))
            return aglm_error(AGLM_ERR_INVALID, "batch index %g of roi %lld is out of range",
                              (double)roi[0], (long long)r);
        int64_t b = (int64_t)roi[0];
        if (b >= x->dims[0])
            return aglm_error(AGLM_ERR_INVALID, "batch index %g of roi %lld is out of range",
                              (double)roi[0], (long long)r);
        int64_t xs = (int64_t)roundf(roi[1] * scale), ys = (int64_t)roundf(roi[2] * scale);
        int64_t xe = (int64_t)roundf(roi[3] * scale), ye = (int64_t)roundf(roi[4] * scale);
        int64_t rh = ye - ys + 1 > 1 ? ye - ys + 1 : 1, rw = xe - xs + 1 > 1 ? xe - xs + 1 : 1;
        float bh = (float)rh / (float)ph, bw = (float)rw / (float)pw;
        for (int64_t ch = 0; ch < c; ch++) {
            const float *plane = xd + (b * c + ch) * h * w;
            float *yo = yd + (r * c + ch) * ph * pw;
            for (int64_t py = 0; py < ph; py++)
                for (int64_t px = 0; px < pw; px++) {
                    int64_t h0 = (int64_t)floorf((float)py * bh) + ys;
                    int64_t h1 = (int64_t)ceilf((float)(py + 1) * bh) + ys;
                    int64_t w0 = (int64_t)floorf((float)px * bw) + xs;
                    int64_t w1 = (int64_t)ceilf((float)(px + 1) * bw) + xs;
                    h0 = h0 < 0 ? 0 : h0 > h ? h : h0;
                    h1 = h1 < 0 ? 0 : h1 > h ? h : h1;
                    w0 = w0 < 0 ? 0 : w0 > w ? w : w0;
                    w1 = w1 < 0 ? 0 : w1 > w ? w : w1;
                    /* an empty bin gives 0 */
                    float best = h1 <= h0 || w1 <= w0 ? 0.0f : -FLT_MAX;
                    for (int64_t yy = h0; yy < h1; yy++)
                        for (int64_t xx = w0; xx < w1; xx++)
                            best = fmaxf(best, plane[yy * w + xx]);
                    yo[py * pw + px] = best;
                }
        }
    }
    return AGLM_OK;
}

const cpu_kernel cpu_roi_kernels[] = {
    {"RoiAlign", CPU_DT(AGLM_F32), k_roi_align},
    {"MaxRoiPool", CPU_DT(AGLM_F32), k_max_roi_pool},
    {NULL, 0, NULL},
};
