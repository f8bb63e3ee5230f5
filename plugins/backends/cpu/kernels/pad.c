/* Pad (constant, reflect, edge, wrap; negative pads crop) and CenterCropPad. Both turn each axis
 * into an index map (-1 where the constant goes) for cpu_copy_mapped, so they work on every
 * dtype. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* Pads beyond this are refused before they can overflow a dim. */
#define PAD_LIMIT ((int64_t)1 << 40)

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

static int64_t mod64(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

/* Source index of output index i on an axis of size dim padded by `begin` in front. */
static int64_t pad_source(pad_mode mode, int64_t i, int64_t begin, int64_t dim)
{
    int64_t j = i - begin;
    switch (mode) {
    case PAD_CONSTANT: return j >= 0 && j < dim ? j : -1;
    case PAD_EDGE: return j < 0 ? 0 : j >= dim ? dim - 1 : j;
    case PAD_WRAP: return mod64(j, dim);
    case PAD_REFLECT:
    default: {
        if (dim == 1)
            return 0;
        int64_t p = 2 * (dim - 1);
        j = mod64(j, p);
        return j >= dim ? p - j : j;
    }
    }
}

/* Builds the output of x padded by begin[d]/end[d] on each axis and fills it. */
static aglm_status pad_run(const cpu_kctx *k, const aglm_tensor *x, pad_mode mode,
                           const int64_t *begin, const int64_t *end, const void *fill,
                           aglm_tensor *y)
{
    int64_t dims[AGLM_MAX_RANK], total = 0;
    char sx[64];
    for (int d = 0; d < x->rank; d++) {
        if (begin[d] < -PAD_LIMIT || begin[d] > PAD_LIMIT || end[d] < -PAD_LIMIT ||
            end[d] > PAD_LIMIT)
            return aglm_error(AGLM_ERR_INVALID, "pads %lld and %lld of axis %d are out of range",
                              (long long)begin[d], (long long)end[d], d);
        dims[d] = x->dims[d] + begin[d] + end[d];
        if (dims[d] < 0)
            return aglm_error(AGLM_ERR_SHAPE,
                              "pads %lld and %lld leave a negative size on axis "
                              "%d of %s",
                              (long long)begin[d], (long long)end[d], d,
                              cpu_shape(x, sx, sizeof sx));
        if (mode != PAD_CONSTANT && x->dims[d] == 0 && dims[d] > 0)
            return aglm_error(AGLM_ERR_SHAPE, "cannot pad the empty axis %d of %s in this mode", d,
                              cpu_shape(x, sx, sizeof sx));
        total += dims[d];
    }
    aglm_status st = cpu_alloc(k, y, x->dtype, x->rank, dims);
    if (st != AGLM_OK || aglm_tensor_numel(y) == 0)
        return st;
    int64_t *block = malloc((size_t)(total ? total : 1) * sizeof *block);
    if (!block)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for index maps");
    int64_t *maps[AGLM_MAX_RANK];
    int64_t off = 0;
    for (int d = 0; d < x->rank; off += dims[d], d++) {
        maps[d] = block + off;
        for (int64_t i = 0; i < dims[d]; i++)
            maps[d][i] = pad_source(mode, i, begin[d], x->dims[d]);
    }
    cpu_copy_mapped(k->pool, x, y, (const int64_t *const *)maps, fill);
    free(block);
    return AGLM_OK;
}

static aglm_status pad_mode_of(const cpu_kctx *k, pad_mode *mode)
{
    const char *m = aglm_node_get_string(k->node, "mode", "constant");
    if (strcmp(m, "constant") == 0)
        *mode = PAD_CONSTANT;
    else if (strcmp(m, "reflect") == 0)
        *mode = PAD_REFLECT;
    else if (strcmp(m, "edge") == 0)
        *mode = PAD_EDGE;
    else if (strcmp(m, "wrap") == 0 && k->opset >= 19)
        *mode = PAD_WRAP;
    else
        return aglm_error(AGLM_ERR_INVALID, "attribute mode '%s' is not constant, reflect, edge%s",
                          m, k->opset >= 19 ? " or wrap" : "");
    return AGLM_OK;
}

static aglm_status k_pad(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int r = x->rank;
    pad_mode mode = PAD_CONSTANT;
    aglm_status st = pad_mode_of(k, &mode);
    if (st != AGLM_OK)
        return st;
    int64_t pads[2 * AGLM_MAX_RANK], axes[AGLM_MAX_RANK];
    size_t np = 0, na = (size_t)r;
    unsigned char fill[16] = {0};
    size_t es = aglm_dtype_size(x->dtype);
    if (k->opset < 11) {
        const int64_t *p = aglm_node_get_ints(k->node, "pads", &np);
        if (!p)
            return aglm_error(AGLM_ERR_INVALID, "attribute pads is required");
        if (np > 2 * AGLM_MAX_RANK)
            return aglm_error(AGLM_ERR_INVALID, "attribute pads has %zu values", np);
        memcpy(pads, p, np * sizeof *p);
        cpu_set_f(fill, x->dtype, 0, aglm_node_get_float(k->node, "value", 0.0f));
    } else {
        if (n_in < 2 || !in[1])
            return aglm_error(AGLM_ERR_INVALID, "input pads is required");
        st = cpu_read_ints(in[1], "input pads", pads, 2 * AGLM_MAX_RANK, &np);
        if (st != AGLM_OK)
            return st;
        if (n_in > 2 && in[2] && aglm_tensor_numel(in[2]) > 0) {
            st = cpu_check_same_dtype(in[2], "input constant_value", x, "input data");
            if (st != AGLM_OK)
                return st;
            memcpy(fill, in[2]->data, es);
        }
        if (n_in > 3 && in[3]) {
            st = cpu_read_ints(in[3], "input axes", axes, AGLM_MAX_RANK, &na);
            if (st != AGLM_OK)
                return st;
        }
    }
    if (!(n_in > 3 && in[3] && k->opset >= 11))
        for (int d = 0; d < r; d++)
            axes[d] = d;
    if (np != 2 * na) {
        char sx[64];
        return aglm_error(AGLM_ERR_INVALID, "pads has %zu values; %s needs %zu", np,
                          cpu_shape(x, sx, sizeof sx), 2 * na);
    }
    int64_t begin[AGLM_MAX_RANK] = {0}, end[AGLM_MAX_RANK] = {0};
    for (size_t i = 0; i < na; i++) {
        int a;
        if ((st = cpu_norm_axis(axes[i], r, 0, "axis", &a)) != AGLM_OK)
            return st;
        begin[a] = pads[i];
        end[a] = pads[i + na];
    }
    return pad_run(k, x, mode, begin, end, fill, &out[0]);
}

static aglm_status k_center_crop_pad(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                     size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int r = x->rank;
    int64_t shape[AGLM_MAX_RANK], axes[AGLM_MAX_RANK];
    size_t ns, na = 0;
    aglm_status st = cpu_read_ints(in[1], "input shape", shape, AGLM_MAX_RANK, &ns);
    if (st != AGLM_OK)
        return st;
    const int64_t *a = aglm_node_get_ints(k->node, "axes", &na);
    if (!a) {
        na = (size_t)r;
        for (int d = 0; d < r; d++)
            axes[d] = d;
    } else {
        if (na > AGLM_MAX_RANK)
            return aglm_error(AGLM_ERR_INVALID, "attribute axes has %zu values", na);
        memcpy(axes, a, na * sizeof *a);
    }
    if (ns != na)
        return aglm_error(AGLM_ERR_INVALID, "shape has %zu values for %zu axes", ns, na);
    int64_t begin[AGLM_MAX_RANK] = {0}, end[AGLM_MAX_RANK] = {0};
    int seen[AGLM_MAX_RANK] = {0};
    for (size_t i = 0; i < na; i++) {
        int ax;
        if ((st = cpu_norm_axis(axes[i], r, 0, "axis", &ax)) != AGLM_OK)
            return st;
        if (seen[ax])
            return aglm_error(AGLM_ERR_INVALID, "axis %d is given twice", ax);
        seen[ax] = 1;
        if (shape[i] < 0)
            return aglm_error(AGLM_ERR_INVALID, "shape[%zu] = %lld is negative", i,
                              (long long)shape[i]);
        /* crop or pad about the centre, the odd element going to the end */
        int64_t diff = shape[i] - x->dims[ax];
        int64_t half = (diff < 0 ? -diff : diff) / 2;
        begin[ax] = diff < 0 ? -half : half;
        end[ax] = diff - begin[ax];
    }
    return pad_run(k, x, PAD_CONSTANT, begin, end, NULL, &out[0]);
}

const cpu_kernel cpu_pad_kernels[] = {
    {"Pad", CPU_ANY, k_pad},
    {"CenterCropPad", CPU_ANY, k_center_crop_pad},
    {NULL, 0, NULL},
};
