/* Control flow: If, Loop and Scan (opset 8 and 9+ forms). The bodies are compiled with the
 * graph (subgraph.h); these kernels only decide what runs when and move tensors between
 * iterations. Data is moved as bytes, so every dtype works. */
#include <stdlib.h>
#include <string.h>

#include "subgraph.h"
#include "kernels.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static aglm_tensor borrowed(const aglm_tensor *t)
{
    aglm_tensor b = *t;
    b.flags &= ~AGLM_TENSOR_OWNS_DATA;
    return b;
}

static void free_all(aglm_tensor *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++)
        aglm_tensor_free(&t[i]);
}

/* The one element of a condition or trip-count tensor. */
static aglm_status scalar_of(const aglm_tensor *t, const char *what, double *v)
{
    if (aglm_tensor_numel(t) != 1) {
        char s[64];
        return aglm_error(AGLM_ERR_SHAPE, "%s must hold one element, has shape %s", what,
                          cpu_shape(t, s, sizeof s));
    }
    *v = cpu_get_f(t->data, t->dtype, 0);
    return AGLM_OK;
}

/* Copies element `idx` along `axis` of t (the axis removed) into a new tensor. */
static aglm_status take_slice(const aglm_tensor *t, int axis, int64_t idx, aglm_tensor *out)
{
    int64_t dims[AGLM_MAX_RANK];
    int r = 0;
    for (int d = 0; d < t->rank; d++)
        if (d != axis)
            dims[r++] = t->dims[d];
    aglm_status st = aglm_tensor_alloc(out, t->dtype, r, dims);
    if (st != AGLM_OK)
        return st;
    size_t es = aglm_dtype_size(t->dtype);
    int64_t outer = cpu_dims_prod(t->dims, 0, axis), len = t->dims[axis];
    size_t inner = (size_t)cpu_dims_prod(t->dims, axis + 1, t->rank) * es;
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)out->data + (size_t)o * inner,
               (const char *)t->data + ((size_t)(o * len + idx)) * inner, inner);
    return AGLM_OK;
}

/* Writes elem as element `idx` along `axis` of out (whose other dims are elem's). */
static void put_slice(aglm_tensor *out, int axis, int64_t idx, const aglm_tensor *elem)
{
    size_t es = aglm_dtype_size(out->dtype);
    int64_t outer = cpu_dims_prod(out->dims, 0, axis), len = out->dims[axis];
    size_t inner = (size_t)cpu_dims_prod(out->dims, axis + 1, out->rank) * es;
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)out->data + ((size_t)(o * len + idx)) * inner,
               (const char *)elem->data + (size_t)o * inner, inner);
}

/* Allocates a stacked output: elem's shape with `len` inserted at `axis`. */
static aglm_status alloc_stacked(aglm_tensor *out, const aglm_tensor *elem, int axis, int64_t len)
{
    if (elem->rank + 1 > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "stacked output would have rank %d, more than %d",
                          elem->rank + 1, AGLM_MAX_RANK);
    int64_t dims[AGLM_MAX_RANK];
    for (int d = 0, s = 0; d <= elem->rank; d++)
        dims[d] = d == axis ? len : elem->dims[s++];
    return aglm_tensor_alloc(out, elem->dtype, elem->rank + 1, dims);
}

/* A stacked output of no iterations: the body output's declared type, unknown dims taken as 0,
 * with a 0-long axis inserted. */
static aglm_status alloc_empty_stacked(aglm_tensor *out, const aglm_value *v, int axis)
{
    aglm_tensor proto;
    memset(&proto, 0, sizeof proto);
    proto.dtype = aglm_value_dtype(v);
    proto.rank = aglm_value_rank(v) < 0 ? 0 : aglm_value_rank(v);
    if (proto.dtype == AGLM_UNDEFINED)
        proto.dtype = AGLM_F32;
    for (int d = 0; d < proto.rank; d++) {
        int64_t dv = aglm_value_dim(v, d).value;
        proto.dims[d] = dv < 0 ? 0 : dv;
    }
    if (axis > proto.rank)
        axis = proto.rank;
    return alloc_stacked(out, &proto, axis, 0);
}

/* A scan output element must have one shape in every iteration. */
static aglm_status same_elem(const aglm_tensor *stacked, int axis, const aglm_tensor *elem,
                             size_t k)
{
    int ok = elem->dtype == stacked->dtype && elem->rank + 1 == stacked->rank;
    for (int d = 0, s = 0; ok && d < stacked->rank; d++)
        if (d != axis)
            ok = stacked->dims[d] == elem->dims[s++];
    if (ok)
        return AGLM_OK;
    char s[64];
    return aglm_error(AGLM_ERR_SHAPE, "scan output %zu changes shape between iterations (now %s%s)",
                      k, aglm_dtype_name(elem->dtype), cpu_shape(elem, s, sizeof s));
}

/* ---- If ---------------------------------------------------------------------------------- */

static aglm_status k_if(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                        aglm_tensor *out)
{
    (void)n_in;
    double c = 0;
    aglm_status st = scalar_of(in[0], "condition", &c);
    if (st != AGLM_OK)
        return st;
    const cpu_sub *branch = cpu_sub_find(k, c != 0 ? "then_branch" : "else_branch");
    if (!branch)
        return AGLM_ERR_INVALID;
    return cpu_sub_run(k, branch, 0, NULL, n_out, out);
}

/* ---- Loop -------------------------------------------------------------------------------- */

typedef struct loop_state {
    size_t n_carried, n_scan;
    aglm_tensor *carried;  /* current loop-carried values (borrowed at first) */
    aglm_tensor *body_in;  /* iteration number, condition, carried values */
    aglm_tensor *body_out; /* condition, carried values, scan elements */
    aglm_tensor *scan;     /* per scan output: growing buffer, dims[0] = capacity */
    int64_t *scan_len;     /* per scan output: elements filled */
} loop_state;

/* Appends one scan element to the buffer of scan output j, doubling it when full. */
static aglm_status scan_append(loop_state *ls, size_t j, const aglm_tensor *elem)
{
    aglm_tensor *buf = &ls->scan[j];
    if (buf->dtype == AGLM_UNDEFINED) {
        aglm_status st = alloc_stacked(buf, elem, 0, 4);
        if (st != AGLM_OK)
            return st;
    } else {
        aglm_status st = same_elem(buf, 0, elem, j);
        if (st != AGLM_OK)
            return st;
    }
    if (ls->scan_len[j] == buf->dims[0]) {
        aglm_tensor grown;
        aglm_tensor view = *buf;
        view.dims[0] = buf->dims[0] * 2;
        aglm_status st = aglm_tensor_alloc(&grown, buf->dtype, buf->rank, view.dims);
        if (st != AGLM_OK)
            return st;
        memcpy(grown.data, buf->data, aglm_tensor_nbytes(buf));
        aglm_tensor_free(buf);
        *buf = grown;
    }
    put_slice(buf, 0, ls->scan_len[j]++, elem);
    return AGLM_OK;
}

/* The final scan output: the filled part of the buffer. */
static aglm_status scan_finish(loop_state *ls, size_t j, const aglm_value *body_out,
                               aglm_tensor *out)
{
    aglm_tensor *buf = &ls->scan[j];
    if (buf->dtype == AGLM_UNDEFINED)
        return alloc_empty_stacked(out, body_out, 0);
    int64_t dims[AGLM_MAX_RANK];
    memcpy(dims, buf->dims, sizeof dims);
    dims[0] = ls->scan_len[j];
    aglm_status st = aglm_tensor_alloc(out, buf->dtype, buf->rank, dims);
    if (st == AGLM_OK)
        memcpy(out->data, buf->data, aglm_tensor_nbytes(out));
    return st;
}

static aglm_status loop_iterate(const cpu_kctx *k, const cpu_sub *body, loop_state *ls, int has_max,
                                int64_t max_trip, int keep)
{
    size_t n_body_out = 1 + ls->n_carried + ls->n_scan;
    aglm_status st = cpu_alloc(k, &ls->body_in[0], AGLM_I64, 0, NULL);
    if (st == AGLM_OK)
        st = cpu_alloc(k, &ls->body_in[1], AGLM_BOOL, 0, NULL);
    for (int64_t it = 0; st == AGLM_OK && keep && (!has_max || it < max_trip); it++) {
        *(int64_t *)ls->body_in[0].data = it;
        *(unsigned char *)ls->body_in[1].data = (unsigned char)(keep != 0);
        for (size_t j = 0; j < ls->n_carried; j++)
            ls->body_in[2 + j] = borrowed(&ls->carried[j]);
        st = cpu_sub_run(k, body, 2 + ls->n_carried, ls->body_in, n_body_out, ls->body_out);
        if (st != AGLM_OK)
            break;
        double c = 0;
        st = scalar_of(&ls->body_out[0], "body condition output", &c);
        keep = c != 0;
        for (size_t j = 0; j < ls->n_carried && st == AGLM_OK; j++) {
            aglm_tensor_free(&ls->carried[j]);
            ls->carried[j] = ls->body_out[1 + j];
            memset(&ls->body_out[1 + j], 0, sizeof ls->body_out[1 + j]);
        }
        for (size_t j = 0; j < ls->n_scan && st == AGLM_OK; j++)
            st = scan_append(ls, j, &ls->body_out[1 + ls->n_carried + j]);
        free_all(ls->body_out, n_body_out);
    }
    aglm_tensor_free(&ls->body_in[0]);
    aglm_tensor_free(&ls->body_in[1]);
    return st;
}

static aglm_status k_loop(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    const cpu_sub *body = cpu_sub_find(k, "body");
    if (!body)
        return AGLM_ERR_INVALID;
    const aglm_graph *g = cpu_sub_graph(body);
    loop_state ls;
    memset(&ls, 0, sizeof ls);
    if (n_in < 2)
        return aglm_error(AGLM_ERR_INVALID,
                          "%zu inputs; Loop takes M, cond and the loop-carried "
                          "values (M and cond may be empty)",
                          n_in);
    ls.n_carried = n_in - 2;
    if (n_out < ls.n_carried || aglm_graph_num_outputs(g) != 1 + n_out)
        return aglm_error(AGLM_ERR_INVALID,
                          "%zu loop-carried values and %zu outputs, but the body "
                          "gives %zu outputs",
                          ls.n_carried, n_out, aglm_graph_num_outputs(g));
    ls.n_scan = n_out - ls.n_carried;
    int has_max = n_in > 0 && in[0] != NULL, keep = 1;
    int64_t max_trip = 0;
    double v = 0;
    aglm_status st = AGLM_OK;
    if (has_max && (st = scalar_of(in[0], "trip count M", &v)) == AGLM_OK) {
        /* read as an integer: INT64_MAX ("no limit") does not survive a double */
        if (!aglm_dtype_is_int(in[0]->dtype))
            return aglm_error(AGLM_ERR_TYPE, "trip count M is %s; expected i64",
                              aglm_dtype_name(in[0]->dtype));
        max_trip = cpu_get_i(in[0]->data, in[0]->dtype, 0);
    }
    if (st == AGLM_OK && n_in > 1 && in[1] && (st = scalar_of(in[1], "condition", &v)) == AGLM_OK)
        keep = v != 0;
    if (st != AGLM_OK)
        return st;

    size_t n_body_out = 1 + ls.n_carried + ls.n_scan;
    ls.carried = calloc(ls.n_carried + 1, sizeof *ls.carried);
    ls.body_in = calloc(2 + ls.n_carried, sizeof *ls.body_in);
    ls.body_out = calloc(n_body_out, sizeof *ls.body_out);
    ls.scan = calloc(ls.n_scan + 1, sizeof *ls.scan);
    ls.scan_len = calloc(ls.n_scan + 1, sizeof *ls.scan_len);
    if (!ls.carried || !ls.body_in || !ls.body_out || !ls.scan || !ls.scan_len)
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory");
    for (size_t j = 0; st == AGLM_OK && j < ls.n_carried; j++) {
        if (!in[2 + j]) {
            st = aglm_error(AGLM_ERR_INVALID, "loop-carried input %zu is absent", j);
            break;
        }
        ls.carried[j] = borrowed(in[2 + j]);
    }
    if (st == AGLM_OK)
        st = loop_iterate(k, body, &ls, has_max, max_trip, keep);
    for (size_t j = 0; st == AGLM_OK && j < ls.n_carried; j++) {
        if (ls.carried[j].flags & AGLM_TENSOR_OWNS_DATA) {
            out[j] = ls.carried[j];
            memset(&ls.carried[j], 0, sizeof ls.carried[j]);
        } else {
            st = aglm_tensor_copy(&out[j], &ls.carried[j]);
        }
    }
    for (size_t j = 0; st == AGLM_OK && j < ls.n_scan; j++)
        st =
            scan_finish(&ls, j, aglm_graph_output(g, 1 + ls.n_carried + j), &out[ls.n_carried + j]);
    free_all(ls.carried, ls.n_carried);
    free_all(ls.scan, ls.n_scan);
    free(ls.carried);
    free(ls.body_in);
    free(ls.body_out);
    free(ls.scan);
    free(ls.scan_len);
    return st;
}

/* ---- Scan -------------------------------------------------------------------------------- */

typedef struct scan_spec {
    size_t n_state, n_in, n_out;     /* states, scan inputs, scan outputs */
    const aglm_tensor *const *state; /* initial states */
    const aglm_tensor *const *xs;    /* scan inputs */
    int in_axis[32], in_rev[32];
    int out_axis[32], out_rev[32];
    int64_t len;     /* iterations */
    int64_t pad_len; /* length of the stacked outputs (>= len) */
} scan_spec;

/* Runs the body len times; fills states (n_state) and stacked scan outputs (n_out). */
static aglm_status scan_run(const cpu_kctx *k, const cpu_sub *body, const scan_spec *sp,
                            aglm_tensor *states, aglm_tensor *stacked)
{
    size_t n_body_in = sp->n_state + sp->n_in, n_body_out = sp->n_state + sp->n_out;
    aglm_tensor *body_in = calloc(n_body_in + 1, sizeof *body_in);
    aglm_tensor *body_out = calloc(n_body_out + 1, sizeof *body_out);
    aglm_tensor *cur = calloc(sp->n_state + 1, sizeof *cur);
    aglm_status st = AGLM_OK;
    if (!body_in || !body_out || !cur)
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory");
    for (size_t j = 0; st == AGLM_OK && j < sp->n_state; j++)
        cur[j] = borrowed(sp->state[j]);
    for (int64_t t = 0; st == AGLM_OK && t < sp->len; t++) {
        for (size_t j = 0; j < sp->n_state; j++)
            body_in[j] = borrowed(&cur[j]);
        for (size_t j = 0; j < sp->n_in && st == AGLM_OK; j++)
            st = take_slice(sp->xs[j], sp->in_axis[j], sp->in_rev[j] ? sp->len - 1 - t : t,
                            &body_in[sp->n_state + j]);
        if (st == AGLM_OK)
            st = cpu_sub_run(k, body, n_body_in, body_in, n_body_out, body_out);
        free_all(body_in + sp->n_state, sp->n_in);
        if (st != AGLM_OK)
            break;
        for (size_t j = 0; j < sp->n_state; j++) {
            aglm_tensor_free(&cur[j]);
            cur[j] = body_out[j];
            memset(&body_out[j], 0, sizeof body_out[j]);
        }
        for (size_t j = 0; j < sp->n_out && st == AGLM_OK; j++) {
            const aglm_tensor *e = &body_out[sp->n_state + j];
            int axis = sp->out_axis[j];
            if (axis < 0)
                axis += e->rank + 1;
            if (axis < 0 || axis > e->rank) {
                st = aglm_error(AGLM_ERR_INVALID,
                                "scan_output_axes[%zu] = %d is out of range for "
                                "rank %d",
                                j, sp->out_axis[j], e->rank + 1);
                break;
            }
            if (stacked[j].dtype == AGLM_UNDEFINED)
                st = alloc_stacked(&stacked[j], e, axis, sp->pad_len);
            else
                st = same_elem(&stacked[j], axis, e, j);
            if (st == AGLM_OK)
                put_slice(&stacked[j], axis, sp->out_rev[j] ? sp->len - 1 - t : t, e);
        }
        free_all(body_out, n_body_out);
    }
    const aglm_graph *g = cpu_sub_graph(body);
    for (size_t j = 0; st == AGLM_OK && j < sp->n_out; j++)
        if (stacked[j].dtype == AGLM_UNDEFINED) {
            int axis = sp->out_axis[j];
            const aglm_value *v = aglm_graph_output(g, sp->n_state + j);
            if (axis < 0)
                axis += (aglm_value_rank(v) < 0 ? 0 : aglm_value_rank(v)) + 1;
            st = alloc_empty_stacked(&stacked[j], v, axis < 0 ? 0 : axis);
        }
    for (size_t j = 0; j < sp->n_state && st == AGLM_OK; j++) {
        if (cur[j].flags & AGLM_TENSOR_OWNS_DATA) {
            states[j] = cur[j];
            memset(&cur[j], 0, sizeof cur[j]);
        } else {
            st = aglm_tensor_copy(&states[j], &cur[j]);
        }
    }
    free_all(cur, sp->n_state);
    free(cur);
    free(body_in);
    free(body_out);
    return st;
}

/* Reads an ints attribute of `count` entries (default 0 each) into v. */
static aglm_status attr_list(const cpu_kctx *k, const char *name, size_t count, int *v)
{
    size_t n;
    const int64_t *a = aglm_node_get_ints(k->node, name, &n);
    for (size_t i = 0; i < count; i++)
        v[i] = 0;
    if (!a)
        return AGLM_OK;
    if (n != count)
        return aglm_error(AGLM_ERR_INVALID, "attribute %s has %zu entries, expected %zu", name, n,
                          count);
    for (size_t i = 0; i < count; i++)
        v[i] = (int)a[i];
    return AGLM_OK;
}

static aglm_status scan_setup(const cpu_kctx *k, const cpu_sub *body, size_t n_state, size_t n_in,
                              size_t n_out, scan_spec *sp)
{
    const aglm_graph *g = cpu_sub_graph(body);
    if (n_in > 32 || n_out > 32)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "more than 32 scan inputs or outputs");
    if (aglm_graph_num_inputs(g) != n_state + n_in || aglm_graph_num_outputs(g) != n_state + n_out)
        return aglm_error(AGLM_ERR_INVALID,
                          "%zu states, %zu scan inputs and %zu scan outputs, but "
                          "the body has %zu inputs and %zu outputs",
                          n_state, n_in, n_out, aglm_graph_num_inputs(g),
                          aglm_graph_num_outputs(g));
    sp->n_state = n_state;
    sp->n_in = n_in;
    sp->n_out = n_out;
    return AGLM_OK;
}

static aglm_status k_scan9(const cpu_kctx *k, const cpu_sub *body, size_t n_in,
                           const aglm_tensor *const *in, size_t n_out, aglm_tensor *out)
{
    int64_t m = aglm_node_get_int(k->node, "num_scan_inputs", -1);
    if (m < 1 || (size_t)m > n_in)
        return aglm_error(AGLM_ERR_INVALID, "attribute num_scan_inputs = %lld, with %zu inputs",
                          (long long)m, n_in);
    size_t n_state = n_in - (size_t)m;
    if (n_out < n_state)
        return aglm_error(AGLM_ERR_INVALID, "%zu outputs for %zu states", n_out, n_state);
    scan_spec sp;
    memset(&sp, 0, sizeof sp);
    aglm_status st = scan_setup(k, body, n_state, (size_t)m, n_out - n_state, &sp);
    if (st == AGLM_OK)
        st = attr_list(k, "scan_input_axes", sp.n_in, sp.in_axis);
    if (st == AGLM_OK)
        st = attr_list(k, "scan_input_directions", sp.n_in, sp.in_rev);
    if (st == AGLM_OK)
        st = attr_list(k, "scan_output_axes", sp.n_out, sp.out_axis);
    if (st == AGLM_OK)
        st = attr_list(k, "scan_output_directions", sp.n_out, sp.out_rev);
    if (st != AGLM_OK)
        return st;
    sp.state = in;
    sp.xs = in + n_state;
    sp.len = -1;
    for (size_t j = 0; j < sp.n_in; j++) {
        const aglm_tensor *x = sp.xs[j];
        if (!x)
            return aglm_error(AGLM_ERR_INVALID, "scan input %zu is absent", j);
        int axis;
        char what[48];
        snprintf(what, sizeof what, "scan_input_axes[%zu]", j);
        if ((st = cpu_norm_axis(sp.in_axis[j], x->rank, 0, what, &axis)) != AGLM_OK)
            return st;
        sp.in_axis[j] = axis;
        if (sp.len >= 0 && x->dims[axis] != sp.len) {
            char s[64];
            return aglm_error(AGLM_ERR_SHAPE,
                              "scan input %zu has shape %s: %lld along axis %d, "
                              "but scan input 0 has %lld",
                              j, cpu_shape(x, s, sizeof s), (long long)x->dims[axis], axis,
                              (long long)sp.len);
        }
        sp.len = x->dims[axis];
    }
    sp.pad_len = sp.len;
    return scan_run(k, body, &sp, out, out + n_state);
}

/* Stacks per-batch results (each shaped like dims without the batch axis) along a new axis 0. */
static aglm_status stack_batches(aglm_tensor *parts, int64_t batch, aglm_tensor *out)
{
    aglm_status st = alloc_stacked(out, &parts[0], 0, batch);
    for (int64_t b = 0; st == AGLM_OK && b < batch; b++) {
        if (!aglm_tensor_same_shape(&parts[b], &parts[0]) || parts[b].dtype != parts[0].dtype)
            return aglm_error(AGLM_ERR_SHAPE, "batch %lld gives an output of another shape",
                              (long long)b);
        put_slice(out, 0, b, &parts[b]);
    }
    return st;
}

/* Opset 8: inputs (sequence_lens?, states..., scan inputs...), every tensor batched on axis 0 and
 * scan inputs sequenced on axis 1; the body sees one batch entry at a time. */
static aglm_status k_scan8(const cpu_kctx *k, const cpu_sub *body, size_t n_in,
                           const aglm_tensor *const *in, size_t n_out, aglm_tensor *out)
{
    int64_t m = aglm_node_get_int(k->node, "num_scan_inputs", -1);
    if (n_in < 2 || m < 1 || (size_t)m > n_in - 1)
        return aglm_error(AGLM_ERR_INVALID, "attribute num_scan_inputs = %lld, with %zu inputs",
                          (long long)m, n_in);
    size_t n_state = n_in - 1 - (size_t)m;
    if (n_out < n_state)
        return aglm_error(AGLM_ERR_INVALID, "%zu outputs for %zu states", n_out, n_state);
    scan_spec sp;
    memset(&sp, 0, sizeof sp);
    aglm_status st = scan_setup(k, body, n_state, (size_t)m, n_out - n_state, &sp);
    if (st == AGLM_OK)
        st = attr_list(k, "directions", sp.n_in, sp.in_rev);
    if (st != AGLM_OK)
        return st;
    int64_t batch = -1, max_len = -1;
    for (size_t j = 0; j < n_state + sp.n_in; j++) {
        const aglm_tensor *t = in[1 + j];
        if (!t || t->rank < (j < n_state ? 1 : 2))
            return aglm_error(AGLM_ERR_SHAPE, "input %zu must have a batch axis%s", 1 + j,
                              j < n_state ? "" : " and a sequence axis");
        if (batch >= 0 && t->dims[0] != batch)
            return aglm_error(AGLM_ERR_SHAPE, "input %zu has batch %lld, input 1 has %lld", 1 + j,
                              (long long)t->dims[0], (long long)batch);
        batch = t->dims[0];
        if (j >= n_state) {
            if (max_len >= 0 && t->dims[1] != max_len)
                return aglm_error(AGLM_ERR_SHAPE, "scan inputs differ in sequence length");
            max_len = t->dims[1];
        }
    }
    int64_t lens[1024];
    if (batch > 1024)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "batch %lld is more than 1024", (long long)batch);
    for (int64_t b = 0; b < batch; b++)
        lens[b] = max_len;
    if (in[0]) {
        size_t count;
        if ((st = cpu_read_ints(in[0], "sequence_lens", lens, 1024, &count)) != AGLM_OK)
            return st;
        if ((int64_t)count != batch)
            return aglm_error(AGLM_ERR_SHAPE, "sequence_lens has %zu entries for batch %lld", count,
                              (long long)batch);
        for (int64_t b = 0; b < batch; b++)
            if (lens[b] < 0 || lens[b] > max_len)
                return aglm_error(AGLM_ERR_INVALID,
                                  "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b,
                                  (long long)lens[b], (long long)max_len);
    }
    size_t n_parts = n_out * (size_t)(batch > 0 ? batch : 1);
    aglm_tensor *parts = calloc(n_parts + 1, sizeof *parts);
    aglm_tensor *views = calloc(n_state + sp.n_in + 1, sizeof *views);
    const aglm_tensor **ptrs = calloc(n_state + sp.n_in + 1, sizeof *ptrs);
    if (!parts || !views || !ptrs)
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory");
    for (int64_t b = 0; st == AGLM_OK && b < batch; b++) {
        for (size_t j = 0; j < n_state + sp.n_in && st == AGLM_OK; j++) {
            st = take_slice(in[1 + j], 0, b, &views[j]);
            ptrs[j] = &views[j];
        }
        sp.state = ptrs;
        sp.xs = ptrs + n_state;
        sp.len = lens[b];
        sp.pad_len = max_len;
        aglm_tensor *res = calloc(n_out + 1, sizeof *res);
        if (!res)
            st = aglm_error(AGLM_ERR_NOMEM, "out of memory");
        if (st == AGLM_OK)
            st = scan_run(k, body, &sp, res, res + n_state);
        for (size_t o = 0; res && o < n_out; o++)
            parts[o * (size_t)batch + (size_t)b] = res[o];
        free(res);
        free_all(views, n_state + sp.n_in);
    }
    for (size_t o = 0; st == AGLM_OK && o < n_out; o++) {
        if (batch == 0) {
            const aglm_value *v = aglm_graph_output(cpu_sub_graph(body), o);
            st = alloc_empty_stacked(&out[o], v, 0);
            continue;
        }
        st = stack_batches(parts + o * (size_t)batch, batch, &out[o]);
    }
    free_all(parts, n_parts);
    free(parts);
    free(views);
    free(ptrs);
    return st;
}

static aglm_status k_scan(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    const cpu_sub *body = cpu_sub_find(k, "body");
    if (!body)
        return AGLM_ERR_INVALID;
    if (k->opset < 9)
        return k_scan8(k, body, n_in, in, n_out, out);
    return k_scan9(k, body, n_in, in, n_out, out);
}

const cpu_kernel cpu_control_kernels[] = {
    {"If", CPU_ANY, k_if},
    {"Loop", CPU_ANY, k_loop},
    {"Scan", CPU_ANY, k_scan},
    {NULL, 0, NULL},
};
