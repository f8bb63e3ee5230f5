/* GridSample (opset 16: bilinear, bicubic, nearest on 4-D; opset 20: linear, cubic, nearest on
 * any number of spatial dims) and AffineGrid (opset 20), on f16, bf16, f32 and f64.
 *
 * GridSample follows PyTorch's grid_sampler, as ONNX's reference does: grid coordinates in
 * [-1, 1] (last axis in reverse dim order: x for the innermost dim first) are mapped onto the
 * input, out-of-range coordinates are clamped or reflected by padding_mode, and each output
 * element is a tensor product of per-dim taps (1 nearest, 2 linear, 4 cubic with a = -0.75),
 * a tap outside the input reading zero (zeros), the edge (border) or its mirror (reflection). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define GS_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))
#define GS_MAX_DIMS 3

enum { GS_NEAREST, GS_LINEAR, GS_CUBIC };
enum { PAD_ZEROS, PAD_BORDER, PAD_REFLECTION };

typedef struct gs_params {
    int mode, padding, align, nd;
    int64_t size[GS_MAX_DIMS];
    double lo[GS_MAX_DIMS], hi[GS_MAX_DIMS]; /* the input's extent in pixel coordinates */
} gs_params;

/* Folds x into [lo, hi] by reflecting it off the nearer border as often as needed. */
static double reflect(double x, double lo, double hi)
{
    double range = hi - lo;
    if (range <= 0 || !isfinite(x))
        return lo;
    if (x < lo) {
        double dx = lo - x;
        int64_t n = (int64_t)(dx / range);
        double r = dx - (double)n * range;
        return n % 2 == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi;
        int64_t n = (int64_t)(dx / range);
        double r = dx - (double)n * range;
        return n % 2 == 0 ? hi - r : lo + r;
    }
    return x;
}

/* The input index tap i reads along dim d, or -1 for a zero. */
static int64_t tap_index(const gs_params *p, int d, int64_t i)
{
    int64_t n = p->size[d];
    switch (p->padding) {
    case PAD_BORDER: return i < 0 ? 0 : i >= n ? n - 1 : i;
    case PAD_REFLECTION: {
        int64_t r = (int64_t)reflect((double)i, p->lo[d], p->hi[d]);
        return r < 0 ? 0 : r >= n ? n - 1 : r;
    }
    default: return i >= 0 && i < n ? i : -1;
    }
}

static void cubic_weights(double t, double *w)
{
    const double a = -0.75;
    double x = fabs(t);
    w[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
    w[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
    w[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
    w[3] = ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a;
}

/* Taps along dim d for normalised coordinate g: their count, indices and weights. */
static int dim_taps(const gs_params *p, int d, double g, int64_t *idx, double *w)
{
    float len = (float)p->size[d], gf = (float)g;
    /* the reference maps coordinates in float32 */
    float xf = p->align ? (gf + 1.0f) / 2.0f * (len - 1.0f) : ((gf + 1.0f) * len - 1.0f) / 2.0f;
    double x = xf;
    if (p->mode == GS_NEAREST) {
        /* half to even, as the conformance data has it in 2-D and 3-D */
        x = nearbyint(x);
    }
    if (x < p->lo[d] || x > p->hi[d]) {
        if (p->padding == PAD_BORDER)
            x = x < 0 ? 0 : x > (double)(p->size[d] - 1) ? (double)(p->size[d] - 1) : x;
        else if (p->padding == PAD_REFLECTION)
            x = (float)reflect(x, p->lo[d], p->hi[d]);
    }
    /* NaN reads as far outside; beyond a few pixels every tap is outside alike */
    if (isnan(x))
        x = -8.0;
    x = fmax(-8.0, fmin((double)p->size[d] + 8.0, x));
    if (p->mode == GS_NEAREST) {
        idx[0] = tap_index(p, d, (int64_t)x);
        w[0] = 1.0;
        return 1;
    }
    double fl = floor(x), t = x - fl;
    int64_t base = (int64_t)fl;
    if (p->mode == GS_LINEAR) {
        idx[0] = tap_index(p, d, base);
        idx[1] = tap_index(p, d, base + 1);
        w[0] = 1 - t;
        w[1] = t;
        return 2;
    }
    cubic_weights(t, w);
    for (int k = 0; k < 4; k++)
        idx[k] = tap_index(p, d, base - 1 + k);
    return 4;
}

typedef struct gs_job {
    const gs_params *p;
    const aglm_tensor *x, *grid;
    aglm_tensor *y;
    int64_t channels, in_size, out_size;
} gs_job;

/* Output positions [b, e) over all images: each computes its taps once for every channel. */
static void gs_points(void *ctx, size_t b, size_t e, int worker)
{
    (void)worker;
    const gs_job *j = ctx;
    const gs_params *p = j->p;
    int nd = p->nd;
    for (size_t pt = b; pt < e; pt++) {
        int64_t n = (int64_t)pt / j->out_size, o = (int64_t)pt % j->out_size;
        int64_t idx[GS_MAX_DIMS][4];
        double w[GS_MAX_DIMS][4];
        int cnt[GS_MAX_DIMS];
        for (int d = 0; d < nd; d++) {
            /* the grid lists the innermost dim's coordinate first */
            double g = cpu_get_f(j->grid->data, j->grid->dtype, (int64_t)pt * nd + (nd - 1 - d));
            cnt[d] = dim_taps(p, d, g, idx[d], w[d]);
        }
        int total = 1;
        for (int d = 0; d < nd; d++)
            total *= cnt[d];
        for (int64_t c = 0; c < j->channels; c++) {
            int64_t plane = (n * j->channels + c) * j->in_size;
            double acc = 0;
            for (int comb = 0; comb < total; comb++) {
                int rest = comb;
                int64_t off = 0;
                double wt = 1;
                int zero = 0;
                for (int d = nd - 1; d >= 0; d--) {
                    int k = rest % cnt[d];
                    rest /= cnt[d];
                    int64_t stride = 1;
                    for (int e2 = d + 1; e2 < nd; e2++)
                        stride *= p->size[e2];
                    if (idx[d][k] < 0)
                        zero = 1;
                    off += idx[d][k] * stride;
                    wt *= w[d][k];
                }
                if (!zero)
                    acc += wt * cpu_get_f(j->x->data, j->x->dtype, plane + off);
            }
            cpu_set_f(j->y->data, j->y->dtype, (n * j->channels + c) * j->out_size + o, acc);
        }
    }
}

static aglm_status k_grid_sample(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                 size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const aglm_tensor *x = in[0], *grid = in[1];
    char sx[64], sg[64];
    aglm_status st = cpu_check_dtype(k, x, "input X", GS_FLOATS);
    if (st == AGLM_OK)
        st = cpu_check_dtype(k, grid, "input grid", GS_FLOATS);
    if (st != AGLM_OK)
        return st;
    int nd = x->rank - 2;
    if (nd < 1 || nd > GS_MAX_DIMS || grid->rank != x->rank || grid->dims[0] != x->dims[0] ||
        grid->dims[grid->rank - 1] != nd)
        return aglm_error(AGLM_ERR_SHAPE,
                          "X %s and grid %s do not fit: need X [N, C, 1 to 3 "
                          "spatial dims] and grid [N, out dims..., %d]",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(grid, sg, sizeof sg),
                          nd > 0 ? nd : 1);
    gs_params p = {0};
    p.nd = nd;
    const char *mode = aglm_node_get_string(k->node, "mode", k->opset < 20 ? "bilinear" : "linear");
    const char *pad = aglm_node_get_string(k->node, "padding_mode", "zeros");
    if (strcmp(mode, "nearest") == 0)
        p.mode = GS_NEAREST;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0)
        p.mode = GS_LINEAR;
    else if (strcmp(mode, "cubic") == 0 || strcmp(mode, "bicubic") == 0)
        p.mode = GS_CUBIC;
    else
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute mode = '%s'; expected nearest, linear or "
                          "cubic",
                          mode);
    if (strcmp(pad, "zeros") == 0)
        p.padding = PAD_ZEROS;
    else if (strcmp(pad, "border") == 0)
        p.padding = PAD_BORDER;
    else if (strcmp(pad, "reflection") == 0)
        p.padding = PAD_REFLECTION;
    else
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute padding_mode = '%s'; expected zeros, "
                          "border or reflection",
                          pad);
    if (p.mode == GS_CUBIC && nd != 2)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "mode cubic takes 2 spatial dims, X is %s",
                          cpu_shape(x, sx, sizeof sx));
    p.align = aglm_node_get_int(k->node, "align_corners", 0) != 0;
    for (int d = 0; d < nd; d++) {
        p.size[d] = x->dims[2 + d];
        p.lo[d] = p.align ? 0.0 : -0.5;
        p.hi[d] = p.align ? (double)p.size[d] - 1.0 : (double)p.size[d] - 0.5;
    }
    int64_t dims[AGLM_MAX_RANK] = {x->dims[0], x->dims[1]};
    for (int d = 0; d < nd; d++)
        dims[2 + d] = grid->dims[1 + d];
    if ((st = cpu_alloc(k, &out[0], x->dtype, x->rank, dims)) != AGLM_OK ||
        aglm_tensor_numel(&out[0]) == 0)
        return st;
    if (aglm_tensor_numel(x) == 0)
        return aglm_error(AGLM_ERR_SHAPE, "X %s is empty", cpu_shape(x, sx, sizeof sx));
    gs_job job = {&p,
                  x,
                  grid,
                  &out[0],
                  x->dims[1],
                  cpu_dims_prod(x->dims, 2, x->rank),
                  cpu_dims_prod(dims, 2, x->rank)};
    size_t points = (size_t)(x->dims[0] * job.out_size);
    size_t grain = job.channels >= 256 ? 1 : (size_t)(256 / job.channels);
    cpu_parallel_for(k->pool, points, grain, gs_points, &job);
    return AGLM_OK;
}

/* ---- AffineGrid ---------------------------------------------------------------------------- */

/* Normalised coordinate of pixel i of a dim of n pixels (pixel centres, or corners). */
static double base_coord(int64_t i, int64_t n, int align)
{
    if (align)
        return n > 1 ? -1.0 + (double)i * (2.0 / (double)(n - 1)) : -1.0;
    double step = 2.0 / (double)n;
    return -1.0 + step / 2 + (double)i * step;
}

static aglm_status k_affine_grid(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                 size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const aglm_tensor *theta = in[0];
    char st_[64];
    aglm_status st = cpu_check_dtype(k, theta, "input theta", GS_FLOATS);
    if (st != AGLM_OK)
        return st;
    int64_t size[5];
    size_t count;
    if ((st = cpu_read_ints(in[1], "input size", size, 5, &count)) != AGLM_OK)
        return st;
    if (count != 4 && count != 5)
        return aglm_error(AGLM_ERR_SHAPE,
                          "input size has %zu values; expected 4 (N, C, H, W) or "
                          "5 (N, C, D, H, W)",
                          count);
    int nd = (int)count - 2;
    if (theta->rank != 3 || theta->dims[0] != size[0] || theta->dims[1] != nd ||
        theta->dims[2] != nd + 1)
        return aglm_error(AGLM_ERR_SHAPE, "theta %s must be [%lld, %d, %d] for size of %zu values",
                          cpu_shape(theta, st_, sizeof st_), (long long)size[0], nd, nd + 1, count);
    for (size_t i = 0; i < count; i++)
        if (size[i] < 0)
            return aglm_error(AGLM_ERR_INVALID, "input size has a negative value %lld",
                              (long long)size[i]);
    int64_t dims[AGLM_MAX_RANK] = {size[0]};
    for (int d = 0; d < nd; d++)
        dims[1 + d] = size[2 + d];
    dims[1 + nd] = nd;
    if ((st = cpu_alloc(k, &out[0], theta->dtype, nd + 2, dims)) != AGLM_OK)
        return st;
    int64_t spatial = cpu_dims_prod(size, 2, (int)count);
    int align = aglm_node_get_int(k->node, "align_corners", 0) != 0;
    for (int64_t n = 0; n < size[0]; n++) {
        double th[3][4];
        for (int r = 0; r < nd; r++)
            for (int c = 0; c <= nd; c++)
                th[r][c] = cpu_get_f(theta->data, theta->dtype, (n * nd + r) * (nd + 1) + c);
        for (int64_t p = 0; p < spatial; p++) {
            /* homogeneous base point: innermost dim's coordinate first, then 1 */
            double base[4];
            int64_t rest = p;
            for (int d = nd - 1; d >= 0; d--) {
                int64_t len = size[2 + d];
                base[nd - 1 - d] = base_coord(rest % len, len, align);
                rest /= len;
            }
            base[nd] = 1.0;
            for (int r = 0; r < nd; r++) {
                double v = 0;
                for (int c = 0; c <= nd; c++)
                    v += th[r][c] * base[c];
                cpu_set_f(out[0].data, out[0].dtype, (n * spatial + p) * nd + r, v);
            }
        }
    }
    return AGLM_OK;
}

const cpu_kernel cpu_gridsample_kernels[] = {
    {"GridSample", GS_FLOATS, k_grid_sample},
    {"AffineGrid", GS_FLOATS, k_affine_grid},
    {NULL, 0, NULL},
};
