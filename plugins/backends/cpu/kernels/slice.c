/* Ops that copy a regular selection of their input: Slice, Split, Expand, Tile. Each describes
 * its output as one index map per axis and lets cpu_copy_mapped move the bytes, so they work on
 * every dtype. */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* One block holding rank maps, maps[d] with dims[d] entries. */
static aglm_status maps_alloc(int rank, const int64_t *dims, int64_t **maps, int64_t **block)
{
    int64_t total = 0;
    for (int d = 0; d < rank; d++)
        total += dims[d];
    *block = malloc((size_t)(total ? total : 1) * sizeof **block);
    if (!*block)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for index maps");
    int64_t off = 0;
    for (int d = 0; d < rank; off += dims[d], d++)
        maps[d] = *block + off;
    return AGLM_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Reads Slice's list `what`: attribute before opset 10, input `idx` from it. *given is 0 when
 * absent. */
static aglm_status slice_list(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              size_t idx, const char *what, int64_t *v, size_t *n, int *given)
{
    *n = 0;
    *given = 0;
    if (k->opset < 10) {
        size_t count = 0;
        const int64_t *a = aglm_node_get_ints(k->node, what, &count);
        if (!aglm_node_attr(k->node, what))
            return AGLM_OK;
        if (count > AGLM_MAX_RANK)
            return aglm_error(AGLM_ERR_INVALID, "attribute %s has %zu values, at most %d", what,
                              count, AGLM_MAX_RANK);
        if (count)
            memcpy(v, a, count * sizeof *a);
        *n = count;
        *given = 1;
        return AGLM_OK;
    }
    if (n_in <= idx || !in[idx])
        return AGLM_OK;
    *given = 1;
    char name[32];
    snprintf(name, sizeof name, "input %s", what);
    return cpu_read_ints(in[idx], name, v, AGLM_MAX_RANK, n);
}

/* A slice whose result is contiguous runs of the input: one axis `a` sliced with step 1 and
 * every other axis whole, so each index of the axes before `a` copies one run of
 * dims[a] * (the axes after a) elements (attention's q/k/v split of a [3, ...] tensor is one
 * run). Returns 0, copying nothing, for any other slice. */
static int slice_blocks(const aglm_tensor *x, const int64_t *start, const int64_t *step,
                        aglm_tensor *y)
{
    int r = x->rank, a = -1;
    for (int d = 0; d < r; d++) {
        if (y->dims[d] == x->dims[d] && start[d] == 0 && (step[d] == 1 || x->dims[d] <= 1))
            continue;
        if (a >= 0 || step[d] != 1)
            return 0;
        a = d;
    }
    if (a < 0)
        a = 0;
    size_t es = aglm_dtype_size(x->dtype);
    size_t inner = (size_t)cpu_dims_prod(x->dims, a + 1, r) * es;
    size_t run = (size_t)y->dims[a] * inner, src_row = (size_t)x->dims[a] * inner;
    int64_t outer = cpu_dims_prod(x->dims, 0, a);
    const char *src = (const char *)x->data + (size_t)start[a] * inner;
    char *dst = y->data;
    for (int64_t o = 0; o < outer; o++)
        memcpy(dst + (size_t)o * run, src + (size_t)o * src_row, run);
    return 1;
}

static aglm_status k_slice(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                           size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t starts[AGLM_MAX_RANK], ends[AGLM_MAX_RANK], axes[AGLM_MAX_RANK], steps[AGLM_MAX_RANK];
    size_t ns, ne, na, np;
    int gs, ge, ga, gp;
    aglm_status st;
    if ((st = slice_list(k, n_in, in, 1, "starts", starts, &ns, &gs)) != AGLM_OK ||
        (st = slice_list(k, n_in, in, 2, "ends", ends, &ne, &ge)) != AGLM_OK ||
        (st = slice_list(k, n_in, in, 3, "axes", axes, &na, &ga)) != AGLM_OK)
        return st;
    np = 0;
    gp = 0;
    if (k->opset >= 10 && (st = slice_list(k, n_in, in, 4, "steps", steps, &np, &gp)) != AGLM_OK)
        return st;
    if (!gs || !ge)
        return aglm_error(AGLM_ERR_INVALID, "starts and ends are required");
    if (ns != ne)
        return aglm_error(AGLM_ERR_INVALID, "starts has %zu values but ends has %zu", ns, ne);
    if (!ga) {
        na = ns;
        for (size_t i = 0; i < na; i++)
            axes[i] = (int64_t)i;
    } else if (na != ns) {
        return aglm_error(AGLM_ERR_INVALID, "axes has %zu values but starts has %zu", na, ns);
    }
    if (gp && np != ns)
        return aglm_error(AGLM_ERR_INVALID, "steps has %zu values but starts has %zu", np, ns);
    int64_t start[AGLM_MAX_RANK], step[AGLM_MAX_RANK], dims[AGLM_MAX_RANK];
    int seen[AGLM_MAX_RANK] = {0};
    for (int d = 0; d < x->rank; d++) {
        start[d] = 0;
        step[d] = 1;
        dims[d] = x->dims[d];
    }
    for (size_t i = 0; i < na; i++) {
        int a;
        if ((st = cpu_norm_axis(axes[i], x->rank, 0, "axis", &a)) != AGLM_OK)
            return st;
        if (seen[a])
            return aglm_error(AGLM_ERR_INVALID, "axis %d is sliced twice", a);
        seen[a] = 1;
        int64_t s = starts[i], e = ends[i], p = gp ? steps[i] : 1, dim = x->dims[a];
        if (p == 0)
            return aglm_error(AGLM_ERR_INVALID, "step of axis %d is 0", a);
        if (s < 0)
            s += dim;
        if (e < 0)
            e += dim;
        int64_t len;
        if (p > 0) {
            s = clamp64(s, 0, dim);
            e = clamp64(e, 0, dim);
            len = e > s ? (e - s - 1) / p + 1 : 0;
        } else {
            s = clamp64(s, 0, dim - 1);
            e = clamp64(e, -1, dim - 1);
            len = s > e ? (s - e - 1) / (p < -INT64_MAX ? INT64_MAX : -p) + 1 : 0;
        }
        start[a] = s;
        step[a] = p;
        dims[a] = len;
    }
    st = cpu_alloc(k, &out[0], x->dtype, x->rank, dims);
    if (st != AGLM_OK || aglm_tensor_numel(&out[0]) == 0)
        return st;
    if (slice_blocks(x, start, step, &out[0]))
        return AGLM_OK;
    int64_t *maps[AGLM_MAX_RANK], *block;
    if ((st = maps_alloc(x->rank, dims, maps, &block)) != AGLM_OK)
        return st;
    for (int d = 0; d < x->rank; d++)
        for (int64_t i = 0; i < dims[d]; i++)
            maps[d][i] = start[d] + i * step[d];
    cpu_copy_mapped(k->pool, x, &out[0], (const int64_t *const *)maps, NULL);
    free(block);
    return AGLM_OK;
}

/* Split sizes: attribute 'split' before opset 13, input 1 from it; otherwise equal parts, the
 * last one smaller from opset 18 (num_outputs) when the axis does not divide evenly. */
static aglm_status split_sizes(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, int64_t dim, int64_t *sizes)
{
    size_t n = 0;
    int given = 0;
    if (k->opset < 13) {
        const int64_t *a = aglm_node_get_ints(k->node, "split", &n);
        if (aglm_node_attr(k->node, "split")) {
            given = 1;
            if (n == n_out && n)
                memcpy(sizes, a, n * sizeof *a);
        }
    } else if (n_in > 1 && in[1] && aglm_tensor_numel(in[1]) > 0) {
        /* an empty split input counts as absent, as ONNX Runtime reads it */
        given = 1;
        aglm_status st = cpu_read_ints(in[1], "input split", sizes, n_out, &n);
        if (st != AGLM_OK)
            return st;
    }
    if (given) {
        if (n != n_out)
            return aglm_error(AGLM_ERR_INVALID, "split has %zu sizes for %zu outputs", n, n_out);
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            if (sizes[i] < 0)
                return aglm_error(AGLM_ERR_INVALID, "split size %lld is negative",
                                  (long long)sizes[i]);
            sum += sizes[i];
        }
        if (sum != dim)
            return aglm_error(AGLM_ERR_SHAPE, "split sizes add up to %lld but the axis has %lld",
                              (long long)sum, (long long)dim);
        return AGLM_OK;
    }
    int64_t parts = (int64_t)n_out;
    if (aglm_node_attr(k->node, "num_outputs") &&
        aglm_node_get_int(k->node, "num_outputs", 0) != parts)
        return aglm_error(AGLM_ERR_INVALID, "num_outputs is %lld but the node has %zu outputs",
                          (long long)aglm_node_get_int(k->node, "num_outputs", 0), n_out);
    int64_t each = (dim + parts - 1) / parts;
    if (dim % parts != 0 && (k->opset < 18 || each * (parts - 1) >= dim))
        return aglm_error(AGLM_ERR_SHAPE, "cannot split an axis of %lld into %lld parts",
                          (long long)dim, (long long)parts);
    for (int64_t i = 0; i < parts; i++)
        sizes[i] = i < parts - 1 ? each : dim - each * (parts - 1);
    return AGLM_OK;
}

static aglm_status k_split(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                           size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int axis;
    aglm_status st =
        cpu_norm_axis(aglm_node_get_int(k->node, "axis", 0), x->rank, 0, "attribute axis", &axis);
    if (st != AGLM_OK)
        return st;
    int64_t *sizes = calloc(n_out + 1, sizeof *sizes);
    if (!sizes)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for split sizes");
    st = split_sizes(k, n_in, in, n_out, x->dims[axis], sizes);
    size_t es = aglm_dtype_size(x->dtype);
    int64_t outer = cpu_dims_prod(x->dims, 0, axis);
    size_t inner = (size_t)cpu_dims_prod(x->dims, axis + 1, x->rank) * es;
    size_t row = (size_t)x->dims[axis] * inner;
    size_t off = 0;
    for (size_t i = 0; st == AGLM_OK && i < n_out; i++) {
        int64_t dims[AGLM_MAX_RANK];
        memcpy(dims, x->dims, sizeof dims);
        dims[axis] = sizes[i];
        st = cpu_alloc(k, &out[i], x->dtype, x->rank, dims);
        size_t chunk = (size_t)sizes[i] * inner;
        for (int64_t o = 0; st == AGLM_OK && chunk && o < outer; o++)
            memcpy((char *)out[i].data + (size_t)o * chunk,
                   (const char *)x->data + (size_t)o * row + off, chunk);
        off += chunk;
    }
    free(sizes);
    return st;
}

static aglm_status k_expand(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t shape[AGLM_MAX_RANK];
    size_t ns;
    aglm_status st = cpu_read_ints(in[1], "input shape", shape, AGLM_MAX_RANK, &ns);
    if (st != AGLM_OK)
        return st;
    int r = x->rank > (int)ns ? x->rank : (int)ns;
    aglm_tensor xv; /* x seen with leading 1s up to rank r */
    int64_t xd[AGLM_MAX_RANK], dims[AGLM_MAX_RANK];
    for (int d = 0; d < r; d++) {
        int xi = d - (r - x->rank), si = d - (r - (int)ns);
        xd[d] = xi >= 0 ? x->dims[xi] : 1;
        int64_t s = si >= 0 ? shape[si] : 1;
        if (s < 0)
            return aglm_error(AGLM_ERR_INVALID, "shape[%d] = %lld is negative", si, (long long)s);
        if (xd[d] != s && xd[d] != 1 && s != 1) {
            char sx[64], ss[64];
            return aglm_error(AGLM_ERR_SHAPE, "cannot expand %s to %s", cpu_shape(x, sx, sizeof sx),
                              aglm_shape_str((int)ns, shape, ss, sizeof ss));
        }
        dims[d] = xd[d] == 1 ? s : xd[d];
    }
    aglm_tensor_wrap(&xv, x->dtype, r, xd, x->data);
    st = cpu_alloc(k, &out[0], x->dtype, r, dims);
    if (st != AGLM_OK || aglm_tensor_numel(&out[0]) == 0)
        return st;
    int64_t *maps[AGLM_MAX_RANK], *block;
    if ((st = maps_alloc(r, dims, maps, &block)) != AGLM_OK)
        return st;
    for (int d = 0; d < r; d++)
        for (int64_t i = 0; i < dims[d]; i++)
            maps[d][i] = xd[d] == 1 ? 0 : i;
    cpu_copy_mapped(k->pool, &xv, &out[0], (const int64_t *const *)maps, NULL);
    free(block);
    return AGLM_OK;
}

static aglm_status k_tile(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t rep[AGLM_MAX_RANK], dims[AGLM_MAX_RANK];
    size_t n;
    aglm_status st = cpu_read_ints(in[1], "input repeats", rep, AGLM_MAX_RANK, &n);
    if (st != AGLM_OK)
        return st;
    if ((int)n != x->rank) {
        char sx[64];
        return aglm_error(AGLM_ERR_SHAPE, "repeats has %zu values for input %s", n,
                          cpu_shape(x, sx, sizeof sx));
    }
    for (int d = 0; d < x->rank; d++) {
        if (rep[d] < 0)
            return aglm_error(AGLM_ERR_INVALID, "repeat %lld of axis %d is negative",
                              (long long)rep[d], d);
        if (rep[d] > 0 && x->dims[d] > INT64_MAX / rep[d])
            return aglm_error(AGLM_ERR_SHAPE, "repeat %lld of axis %d overflows", (long long)rep[d],
                              d);
        dims[d] = x->dims[d] * rep[d];
    }
    st = cpu_alloc(k, &out[0], x->dtype, x->rank, dims);
    if (st != AGLM_OK || aglm_tensor_numel(&out[0]) == 0)
        return st;
    int64_t *maps[AGLM_MAX_RANK], *block;
    if ((st = maps_alloc(x->rank, dims, maps, &block)) != AGLM_OK)
        return st;
    for (int d = 0; d < x->rank; d++)
        for (int64_t i = 0; i < dims[d]; i++)
            maps[d][i] = i % x->dims[d];
    cpu_copy_mapped(k->pool, x, &out[0], (const int64_t *const *)maps, NULL);
    free(block);
    return AGLM_OK;
}

const cpu_kernel cpu_slice_kernels[] = {
    {"Slice", CPU_ANY, k_slice},
    {"Split", CPU_ANY, k_split},
    {"Expand", CPU_ANY, k_expand},
    {"Tile", CPU_ANY, k_tile},
    {NULL, 0, NULL},
};
