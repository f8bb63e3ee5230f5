/* Ops that rearrange elements by a fixed rule: DepthToSpace, SpaceToDepth, ReverseSequence,
 * Trilu, and Col2Im (which also sums overlapping blocks). All but Col2Im move bytes, so they work
 * on every dtype. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* Block sizes, strides and dilations beyond this are refused before products of them overflow. */
#define LAYOUT_LIMIT (1 << 20)

static aglm_status block_size(const cpu_kctx *k, const aglm_tensor *x, int64_t *b)
{
    char sx[64];
    if (x->rank != 4)
        return aglm_error(AGLM_ERR_SHAPE, "input %s must be 4-D", cpu_shape(x, sx, sizeof sx));
    if (!aglm_node_attr(k->node, "blocksize"))
        return aglm_error(AGLM_ERR_INVALID, "attribute blocksize is required");
    *b = aglm_node_get_int(k->node, "blocksize", 0);
    if (*b < 1 || *b > LAYOUT_LIMIT)
        return aglm_error(AGLM_ERR_INVALID, "attribute blocksize %lld is out of range [1, %d]",
                          (long long)*b, LAYOUT_LIMIT);
    return AGLM_OK;
}

static aglm_status k_depth_to_space(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t b;
    aglm_status st = block_size(k, x, &b);
    if (st != AGLM_OK)
        return st;
    const char *mode = aglm_node_get_string(k->node, "mode", "DCR");
    int crd = strcmp(mode, "CRD") == 0;
    if (!crd && strcmp(mode, "DCR") != 0)
        return aglm_error(AGLM_ERR_INVALID, "attribute mode '%s' is not DCR or CRD", mode);
    int64_t n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
    if (c % (b * b) != 0) {
        char sx[64];
        return aglm_error(AGLM_ERR_SHAPE,
                          "channels of %s are not a multiple of blocksize^2 = "
                          "%lld",
                          cpu_shape(x, sx, sizeof sx), (long long)(b * b));
    }
    int64_t oc = c / (b * b), dims[4] = {n, oc, h * b, w * b};
    if ((st = cpu_alloc(k, &out[0], x->dtype, 4, dims)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    char *y = out[0].data;
    const char *src = x->data;
    for (int64_t in_ = 0; in_ < n; in_++)
        for (int64_t ic = 0; ic < oc; ic++)
            for (int64_t oh = 0; oh < h * b; oh++)
                for (int64_t ow = 0; ow < w * b; ow++) {
                    int64_t i = oh % b, j = ow % b;
                    int64_t sc = crd ? ic * b * b + i * b + j : (i * b + j) * oc + ic;
                    int64_t s = ((in_ * c + sc) * h + oh / b) * w + ow / b;
                    int64_t d = ((in_ * oc + ic) * h * b + oh) * w * b + ow;
                    memcpy(y + (size_t)d * es, src + (size_t)s * es, es);
                }
    return AGLM_OK;
}

static aglm_status k_space_to_depth(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t b;
    aglm_status st = block_size(k, x, &b);
    if (st != AGLM_OK)
        return st;
    int64_t n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
    if (h % b != 0 || w % b != 0) {
        char sx[64];
        return aglm_error(AGLM_ERR_SHAPE,
                          "height and width of %s are not multiples of "
                          "blocksize %lld",
                          cpu_shape(x, sx, sizeof sx), (long long)b);
    }
    int64_t oh = h / b, ow = w / b, dims[4] = {n, c * b * b, oh, ow};
    if ((st = cpu_alloc(k, &out[0], x->dtype, 4, dims)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    char *y = out[0].data;
    const char *src = x->data;
    for (int64_t in_ = 0; in_ < n; in_++)
        for (int64_t ic = 0; ic < c; ic++)
            for (int64_t ih = 0; ih < h; ih++)
                for (int64_t iw = 0; iw < w; iw++) {
                    int64_t oc = ((ih % b) * b + iw % b) * c + ic;
                    int64_t d = ((in_ * c * b * b + oc) * oh + ih / b) * ow + iw / b;
                    int64_t s = ((in_ * c + ic) * h + ih) * w + iw;
                    memcpy(y + (size_t)d * es, src + (size_t)s * es, es);
                }
    return AGLM_OK;
}

static aglm_status k_reverse_sequence(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                      size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0], *lens = in[1];
    char sx[64];
    if (x->rank < 2)
        return aglm_error(AGLM_ERR_SHAPE, "input %s must have rank 2 or more",
                          cpu_shape(x, sx, sizeof sx));
    int ba, ta;
    aglm_status st;
    if ((st = cpu_norm_axis(aglm_node_get_int(k->node, "batch_axis", 1), x->rank, 0,
                            "attribute batch_axis", &ba)) != AGLM_OK ||
        (st = cpu_norm_axis(aglm_node_get_int(k->node, "time_axis", 0), x->rank, 0,
                            "attribute time_axis", &ta)) != AGLM_OK)
        return st;
    if (ba == ta)
        return aglm_error(AGLM_ERR_INVALID, "batch_axis and time_axis are both %d", ba);
    if (lens->rank != 1 || lens->dims[0] != x->dims[ba])
        return aglm_error(AGLM_ERR_SHAPE,
                          "sequence_lens must have one value per batch (%lld) of "
                          "%s",
                          (long long)x->dims[ba], cpu_shape(x, sx, sizeof sx));
    if ((st = cpu_check_dtype(k, lens, "input sequence_lens",
                              CPU_DT(AGLM_I64) | CPU_DT(AGLM_I32))) != AGLM_OK)
        return st;
    for (int64_t i = 0; i < lens->dims[0]; i++) {
        int64_t v = cpu_get_i(lens->data, lens->dtype, i);
        if (v < 0 || v > x->dims[ta])
            return aglm_error(AGLM_ERR_INVALID,
                              "sequence_lens[%lld] = %lld is out of range [0, "
                              "%lld]",
                              (long long)i, (long long)v, (long long)x->dims[ta]);
    }
    if ((st = aglm_tensor_copy(&out[0], x)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    int64_t stride[AGLM_MAX_RANK], s = 1, pos[AGLM_MAX_RANK] = {0}, n = aglm_tensor_numel(x);
    for (int d = x->rank - 1; d >= 0; d--) {
        stride[d] = s;
        s *= x->dims[d];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t len = cpu_get_i(lens->data, lens->dtype, pos[ba]);
        if (pos[ta] < len) {
            int64_t src = i + (len - 1 - 2 * pos[ta]) * stride[ta];
            memcpy((char *)out[0].data + (size_t)i * es, (const char *)x->data + (size_t)src * es,
                   es);
        }
        for (int d = x->rank - 1; d >= 0 && ++pos[d] == x->dims[d]; d--)
            pos[d] = 0;
    }
    return AGLM_OK;
}

static aglm_status k_trilu(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                           size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    if (x->rank < 2) {
        char sx[64];
        return aglm_error(AGLM_ERR_SHAPE, "input %s must have rank 2 or more",
                          cpu_shape(x, sx, sizeof sx));
    }
    int64_t diag = 0;
    aglm_status st;
    if (n_in > 1 && in[1]) {
        size_t n;
        if ((st = cpu_read_ints(in[1], "input k", &diag, 1, &n)) != AGLM_OK)
            return st;
        if (n != 1)
            return aglm_error(AGLM_ERR_SHAPE, "input k must hold one value");
    }
    int upper = aglm_node_get_int(k->node, "upper", 1) != 0;
    if ((st = cpu_alloc(k, &out[0], x->dtype, x->rank, x->dims)) != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(x->dtype);
    int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
    int64_t mats = cpu_dims_prod(x->dims, 0, x->rank - 2);
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < rows; i++) {
            /* the kept columns of row i form one run [lo, hi) */
            int64_t lo = upper ? i + diag : 0, hi = upper ? cols : i + diag + 1;
            lo = lo < 0 ? 0 : lo > cols ? cols : lo;
            hi = hi < 0 ? 0 : hi > cols ? cols : hi;
            if (hi > lo) {
                size_t off = (size_t)((m * rows + i) * cols + lo) * es;
                memcpy((char *)out[0].data + off, (const char *)x->data + off,
                       (size_t)(hi - lo) * es);
            }
        }
    return AGLM_OK;
}

/* Reads an ints attribute of exactly n values, or fills `def` when absent. */
static aglm_status attr_n(const cpu_kctx *k, const char *name, size_t n, int64_t def, int64_t *v)
{
    size_t count = 0;
    const int64_t *a = aglm_node_get_ints(k->node, name, &count);
    if (!a) {
        for (size_t i = 0; i < n; i++)
            v[i] = def;
        return AGLM_OK;
    }
    if (count != n)
        return aglm_error(AGLM_ERR_INVALID, "attribute %s has %zu values, expected %zu", name,
                          count, n);
    memcpy(v, a, n * sizeof *a);
    return AGLM_OK;
}

static aglm_status k_col2im(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t img[AGLM_MAX_RANK], blk[AGLM_MAX_RANK], dil[AGLM_MAX_RANK], str[AGLM_MAX_RANK];
    int64_t pads[2 * AGLM_MAX_RANK], outl[AGLM_MAX_RANK];
    size_t ni, nb;
    char sx[64];
    aglm_status st;
    if ((st = cpu_read_ints(in[1], "input image_shape", img, AGLM_MAX_RANK - 2, &ni)) != AGLM_OK ||
        (st = cpu_read_ints(in[2], "input block_shape", blk, AGLM_MAX_RANK - 2, &nb)) != AGLM_OK)
        return st;
    if (ni != nb || ni == 0)
        return aglm_error(AGLM_ERR_SHAPE, "image_shape has %zu values but block_shape has %zu", ni,
                          nb);
    size_t nd = ni;
    if ((st = attr_n(k, "dilations", nd, 1, dil)) != AGLM_OK ||
        (st = attr_n(k, "strides", nd, 1, str)) != AGLM_OK ||
        (st = attr_n(k, "pads", 2 * nd, 0, pads)) != AGLM_OK)
        return st;
    int64_t kprod = 1, lprod = 1;
    for (size_t d = 0; d < nd; d++) {
        if (blk[d] < 1 || dil[d] < 1 || str[d] < 1 || img[d] < 0 || blk[d] > LAYOUT_LIMIT ||
            dil[d] > LAYOUT_LIMIT || str[d] > LAYOUT_LIMIT || img[d] > ((int64_t)1 << 40) ||
            pads[d] < 0 || pads[d + nd] < 0 || pads[d] > LAYOUT_LIMIT ||
            pads[d + nd] > LAYOUT_LIMIT)
            return aglm_error(AGLM_ERR_INVALID,
                              "image, block, dilation, stride or pads out of "
                              "range on axis %zu",
                              d);
        if (kprod > x->dims[1] || lprod > x->dims[2])
            break; /* the shape check below reports it */
        int64_t span = dil[d] * (blk[d] - 1) + 1;
        outl[d] = (img[d] + pads[d] + pads[d + nd] - span) / str[d] + 1;
        if (outl[d] < 0)
            outl[d] = 0;
        kprod *= blk[d];
        lprod *= outl[d];
    }
    if (x->rank != 3 || x->dims[1] % kprod != 0 || x->dims[2] != lprod)
        return aglm_error(AGLM_ERR_SHAPE,
                          "input %s does not hold %lld-element blocks at %lld "
                          "positions",
                          cpu_shape(x, sx, sizeof sx), (long long)kprod, (long long)lprod);
    int64_t n = x->dims[0], c = x->dims[1] / kprod, dims[AGLM_MAX_RANK] = {n, c};
    for (size_t d = 0; d < nd; d++)
        dims[2 + d] = img[d];
    if ((st = cpu_alloc(k, &out[0], x->dtype, (int)nd + 2, dims)) != AGLM_OK)
        return st;
    int64_t ipix = cpu_dims_prod(img, 0, (int)nd);
    double *acc = calloc((size_t)(ipix ? ipix : 1), sizeof *acc);
    if (!acc)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for Col2Im");
    for (int64_t nc = 0; nc < n * c; nc++) {
        memset(acc, 0, (size_t)(ipix ? ipix : 1) * sizeof *acc);
        for (int64_t kb = 0; kb < kprod; kb++) {
            int64_t kpos[AGLM_MAX_RANK];
            int64_t r = kb;
            for (int d = (int)nd - 1; d >= 0; d--) {
                kpos[d] = r % blk[d];
                r /= blk[d];
            }
            int64_t row = ((nc / c) * c * kprod + (nc % c) * kprod + kb) * lprod;
            for (int64_t l = 0; l < lprod; l++) {
                int64_t rem = l, off = 0, mul = 1;
                int inside = 1;
                for (int d = (int)nd - 1; d >= 0; d--) {
                    int64_t p = (rem % outl[d]) * str[d] - pads[d] + kpos[d] * dil[d];
                    rem /= outl[d];
                    inside &= p >= 0 && p < img[d];
                    off += p * mul;
                    mul *= img[d];
                }
                if (inside)
                    acc[off] += cpu_get_f(x->data, x->dtype, row + l);
            }
        }
        for (int64_t p = 0; p < ipix; p++)
            cpu_set_f(out[0].data, x->dtype, nc * ipix + p, acc[p]);
    }
    free(acc);
    return AGLM_OK;
}

const cpu_kernel cpu_layout_kernels[] = {
    {"DepthToSpace", CPU_ANY, k_depth_to_space},
    {"SpaceToDepth", CPU_ANY, k_space_to_depth},
    {"ReverseSequence", CPU_ANY, k_reverse_sequence},
    {"Trilu", CPU_ANY, k_trilu},
    {"Col2Im", CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16),
     k_col2im},
    {NULL, 0, NULL},
};
