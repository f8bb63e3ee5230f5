#include <string.h>

#include "window.h"

/* Reads an ints attribute of exactly `want` values into v, or leaves v at its default. */
static aglm_status read_ints(const aglm_node *node, const char *name, size_t want, int64_t min,
                             int64_t *v)
{
    size_t count = 0;
    const int64_t *a = aglm_node_get_ints(node, name, &count);
    if (!a)
        return AGLM_OK;
    if (count != want)
        return aglm_error(AGLM_ERR_INVALID, "attribute %s has %zu values, expected %zu", name,
                          count, want);
    for (size_t i = 0; i < count; i++) {
        if (a[i] < min)
            return aglm_error(AGLM_ERR_INVALID, "attribute %s[%zu] = %lld, expected >= %lld", name,
                              i, (long long)a[i], (long long)min);
        v[i] = a[i];
    }
    return AGLM_OK;
}

aglm_status cpu_window_init(cpu_window *w, const aglm_node *node, int nd, const int64_t *in,
                            const int64_t *kernel, int ceil_mode)
{
    if (nd < 1 || nd > CPU_WINDOW_DIMS)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%d spatial dims; 1 to %d are supported", nd,
                          CPU_WINDOW_DIMS);
    int64_t k[CPU_WINDOW_DIMS], s[CPU_WINDOW_DIMS], d[CPU_WINDOW_DIMS], pads[2 * CPU_WINDOW_DIMS];
    for (int i = 0; i < CPU_WINDOW_DIMS; i++)
        k[i] = s[i] = d[i] = 1;
    memset(pads, 0, sizeof pads);

    size_t kcount = 0;
    const int64_t *kattr = aglm_node_get_ints(node, "kernel_shape", &kcount);
    if (!kernel && !kattr)
        return aglm_error(AGLM_ERR_INVALID, "attribute kernel_shape is required");
    aglm_status st = read_ints(node, "kernel_shape", (size_t)nd, 1, k);
    if (st == AGLM_OK && kernel) {
        for (int i = 0; i < nd; i++) {
            if (kattr && k[i] != kernel[i])
                return aglm_error(AGLM_ERR_SHAPE, "kernel_shape[%d] = %lld but the weight has "
                                  "%lld", i, (long long)k[i], (long long)kernel[i]);
            k[i] = kernel[i];
        }
    }
    if (st == AGLM_OK)
        st = read_ints(node, "strides", (size_t)nd, 1, s);
    if (st == AGLM_OK)
        st = read_ints(node, "dilations", (size_t)nd, 1, d);
    if (st == AGLM_OK)
        st = read_ints(node, "pads", 2 * (size_t)nd, 0, pads);
    if (st != AGLM_OK)
        return st;

    const char *auto_pad = aglm_node_get_string(node, "auto_pad", "NOTSET");
    int same_upper = strcmp(auto_pad, "SAME_UPPER") == 0;
    int same_lower = strcmp(auto_pad, "SAME_LOWER") == 0;
    int valid = strcmp(auto_pad, "VALID") == 0;
    if (!same_upper && !same_lower && !valid && strcmp(auto_pad, "NOTSET") != 0 && auto_pad[0])
        return aglm_error(AGLM_ERR_INVALID, "attribute auto_pad is '%s'; expected NOTSET, "
                          "SAME_UPPER, SAME_LOWER or VALID", auto_pad);

    /* Fill the normalised dims: the op's dims sit at the end, leading ones are unit. */
    int off = CPU_WINDOW_DIMS - nd;
    w->nd = nd;
    for (int i = 0; i < CPU_WINDOW_DIMS; i++) {
        w->in[i] = w->k[i] = w->s[i] = w->d[i] = w->out[i] = 1;
        w->pb[i] = w->pe[i] = 0;
    }
    for (int i = 0; i < nd; i++) {
        int j = off + i;
        int64_t span = (k[i] - 1) * d[i] + 1; /* extent of one dilated window */
        w->in[j] = in[i];
        w->k[j] = k[i];
        w->s[j] = s[i];
        w->d[j] = d[i];
        if (same_upper || same_lower) {
            /* Output ceil(in / stride); the padding that needs goes mostly at the end (UPPER)
             * or the beginning (LOWER). */
            int64_t o = (in[i] + s[i] - 1) / s[i];
            int64_t total = (o - 1) * s[i] + span - in[i];
            if (total < 0)
                total = 0;
            w->out[j] = o;
            w->pb[j] = same_upper ? total / 2 : total - total / 2;
            w->pe[j] = total - w->pb[j];
            continue;
        }
        if (!valid) {
            w->pb[j] = pads[i];
            w->pe[j] = pads[nd + i];
        }
        int64_t padded = in[i] + w->pb[j] + w->pe[j];
        if (padded < span)
            return aglm_error(AGLM_ERR_SHAPE, "spatial dim %d: padded input size %lld is smaller "
                              "than the dilated kernel %lld", i, (long long)padded,
                              (long long)span);
        int64_t o = (padded - span) / s[i] + 1;
        if (ceil_mode && !valid) {
            o = (padded - span + s[i] - 1) / s[i] + 1;
            /* The last window must start inside the input or its begin padding. */
            if ((o - 1) * s[i] >= in[i] + w->pb[j])
                o--;
        }
        w->out[j] = o;
    }
    return AGLM_OK;
}

int64_t cpu_window_out_size(const cpu_window *w)
{
    return w->out[0] * w->out[1] * w->out[2];
}

int64_t cpu_window_in_size(const cpu_window *w)
{
    return w->in[0] * w->in[1] * w->in[2];
}

int64_t cpu_window_kernel_size(const cpu_window *w)
{
    return w->k[0] * w->k[1] * w->k[2];
}
