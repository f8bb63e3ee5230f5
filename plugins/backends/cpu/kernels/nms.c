/* NonMaxSuppression (opsets 10, 11): greedy per (batch, class) selection, as ONNX Runtime does
 * it. Candidates scoring above score_threshold are taken best score first (the lower box index
 * first on ties); each suppresses the remaining boxes that overlap it by an IoU above
 * iou_threshold; at most max_output_boxes_per_class are kept per class. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

typedef struct cand {
    float score;
    int64_t box;
} cand;

static int by_score(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->box < y->box ? -1 : x->box > y->box;
}

/* A box as (ymin, xmin, ymax, xmax) whatever corners or centre form it came in. */
static void corners(const float *b, int center, float *c)
{
    if (center) {
        float hw = b[2] / 2, hh = b[3] / 2;
        c[0] = b[1] - hh;
        c[1] = b[0] - hw;
        c[2] = b[1] + hh;
        c[3] = b[0] + hw;
        return;
    }
    c[0] = fminf(b[0], b[2]);
    c[1] = fminf(b[1], b[3]);
    c[2] = fmaxf(b[0], b[2]);
    c[3] = fmaxf(b[1], b[3]);
}

static int overlaps(const float *a, const float *b, float threshold)
{
    float area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
    if (area_a <= 0 || area_b <= 0)
        return 0;
    float ih = fminf(a[2], b[2]) - fmaxf(a[0], b[0]), iw = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (ih <= 0 || iw <= 0)
        return 0;
    float inter = ih * iw;
    return inter / (area_a + area_b - inter) > threshold;
}

/* Reads a scalar (or one-element) input of dtype f32 or i64, or leaves *v at its default. */
static aglm_status scalar(const aglm_tensor *t, const char *what, aglm_dtype dt, double *v)
{
    if (!t)
        return AGLM_OK;
    if (t->dtype != dt)
        return aglm_error(AGLM_ERR_TYPE, "%s must be %s, got %s", what, aglm_dtype_name(dt),
                          aglm_dtype_name(t->dtype));
    if (aglm_tensor_numel(t) == 0)
        return AGLM_OK;
    if (aglm_tensor_numel(t) != 1)
        return aglm_error(AGLM_ERR_SHAPE, "%s must hold one value, it has %lld", what,
                          (long long)aglm_tensor_numel(t));
    *v = dt == AGLM_I64 ? (double)*(const int64_t *)t->data : *(const float *)t->data;
    return AGLM_OK;
}

static aglm_status k_nms(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *boxes = in[0], *scores = in[1];
    char sb[64], ss[64];
    aglm_status st = cpu_check_dtype(k, boxes, "input boxes", CPU_DT(AGLM_F32));
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(boxes, "input boxes", scores, "input scores");
    if (st != AGLM_OK)
        return st;
    if (boxes->rank != 3 || boxes->dims[2] != 4 || scores->rank != 3 ||
        scores->dims[0] != boxes->dims[0] || scores->dims[2] != boxes->dims[1])
        return aglm_error(AGLM_ERR_SHAPE, "boxes %s and scores %s must be [B, N, 4] and [B, C, N]",
                          cpu_shape(boxes, sb, sizeof sb), cpu_shape(scores, ss, sizeof ss));
    double max_out = 0, iou = 0, score_min = -INFINITY;
    int has_score_min = n_in > 4 && in[4] && aglm_tensor_numel(in[4]) > 0;
    if ((st = scalar(n_in > 2 ? in[2] : NULL, "input max_output_boxes_per_class", AGLM_I64,
                     &max_out)) != AGLM_OK ||
        (st = scalar(n_in > 3 ? in[3] : NULL, "input iou_threshold", AGLM_F32, &iou)) != AGLM_OK ||
        (st = scalar(n_in > 4 ? in[4] : NULL, "input score_threshold", AGLM_F32, &score_min)) !=
            AGLM_OK)
        return st;
    int center = aglm_node_get_int(k->node, "center_point_box", 0) != 0;
    int64_t batches = boxes->dims[0], n = boxes->dims[1], classes = scores->dims[1];
    int64_t limit = max_out < 0 ? 0 : max_out > (double)n ? n : (int64_t)max_out;
    int64_t cap = batches * classes * limit;
    int64_t *sel = malloc((size_t)(cap * 3 + 1) * sizeof *sel);
    cand *cands = malloc((size_t)(n + 1) * sizeof *cands);
    float *box = malloc((size_t)(n * 4 + 1) * sizeof *box);
    int64_t *kept = malloc((size_t)(limit + 1) * sizeof *kept);
    if (!sel || !cands || !box || !kept) {
        free(sel);
        free(cands);
        free(box);
        free(kept);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %lld boxes", (long long)n);
    }
    int64_t count = 0;
    for (int64_t b = 0; b < batches; b++) {
        const float *bd = (const float *)boxes->data + b * n * 4;
        for (int64_t i = 0; i < n; i++)
            corners(bd + i * 4, center, box + i * 4);
        for (int64_t c = 0; c < classes && limit > 0; c++) {
            const float *sd = (const float *)scores->data + (b * classes + c) * n;
            int64_t m = 0;
            /* a NaN score cannot be ranked and is never selected */
            for (int64_t i = 0; i < n; i++)
                if (!isnan(sd[i]) && (!has_score_min || sd[i] > (float)score_min))
                    cands[m++] = (cand){sd[i], i};
            qsort(cands, (size_t)m, sizeof *cands, by_score);
            int64_t nk = 0;
            for (int64_t i = 0; i < m && nk < limit; i++) {
                int64_t bi = cands[i].box;
                int keep = 1;
                for (int64_t j = 0; j < nk && keep; j++)
                    keep = !overlaps(box + kept[j] * 4, box + bi * 4, (float)iou);
                if (!keep)
                    continue;
                kept[nk++] = bi;
                sel[count * 3] = b;
                sel[count * 3 + 1] = c;
                sel[count * 3 + 2] = bi;
                count++;
            }
        }
    }
    int64_t dims[2] = {count, 3};
    st = cpu_alloc(k, &out[0], AGLM_I64, 2, dims);
    if (st == AGLM_OK && count > 0)
        memcpy(out[0].data, sel, (size_t)count * 3 * sizeof *sel);
    free(sel);
    free(cands);
    free(box);
    free(kept);
    return st;
}

const cpu_kernel cpu_nms_kernels[] = {
    {"NonMaxSuppression", CPU_DT(AGLM_F32), k_nms},
    {NULL, 0, NULL},
};
