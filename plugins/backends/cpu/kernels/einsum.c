/* Einsum: parses the equation (explicit or implicit output, "..." broadcasting, repeated labels
 * taking diagonals) and computes every output element as a sum of products over the labels the
 * output lacks. Each input reaches a label through one stride (the sum of the strides of its axes
 * with that label, 0 where it broadcasts), so a loop over the labels walks all inputs at once.
 * Floats accumulate in double, integers in int64 (wrapping). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define MAX_LABELS (AGLM_MAX_RANK + 52)
#define MAX_OPERANDS 16

typedef struct einsum_plan {
    int n_in;
    int n_out_labels, n_sum_labels;
    int64_t out_size[AGLM_MAX_RANK];                 /* per output label */
    int64_t sum_size[MAX_LABELS];                    /* per summed label */
    int64_t out_stride[MAX_OPERANDS][AGLM_MAX_RANK]; /* input strides per output label */
    int64_t sum_stride[MAX_OPERANDS][MAX_LABELS];    /* input strides per summed label */
    const aglm_tensor *const *in;
    aglm_tensor *y;
    int all_f32;
} einsum_plan;

/* One term of the equation: labels (E_ELLIPSIS for "...") in order. */
#define E_ELLIPSIS (-1)
typedef struct term {
    int n;
    int label[AGLM_MAX_RANK + 1];
    int has_ellipsis;
} term;

static int letter_id(char ch)
{
    return ch >= 'a' && ch <= 'z' ? ch - 'a' : ch - 'A' + 26;
}

static aglm_status parse_term(const char *s, size_t len, term *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < len;) {
        if (s[i] == '.') {
            if (i + 3 > len || s[i + 1] != '.' || s[i + 2] != '.' || t->has_ellipsis)
                return aglm_error(AGLM_ERR_INVALID, "equation has a bad or repeated ellipsis");
            t->has_ellipsis = 1;
            if (t->n > AGLM_MAX_RANK)
                return aglm_error(AGLM_ERR_INVALID, "equation term has too many labels");
            t->label[t->n++] = E_ELLIPSIS;
            i += 3;
            continue;
        }
        if (!isalpha((unsigned char)s[i]))
            return aglm_error(AGLM_ERR_INVALID, "equation has the invalid character '%c'", s[i]);
        if (t->n > AGLM_MAX_RANK)
            return aglm_error(AGLM_ERR_INVALID, "equation term has too many labels");
        t->label[t->n++] = letter_id(s[i]);
        i++;
    }
    return AGLM_OK;
}

/* Label ids: ellipsis dims are 0..E-1 (aligned right across inputs), letter L is E + L. */
static aglm_status build_plan(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              einsum_plan *p, int *out_rank, int64_t *out_dims)
{
    const char *eq = aglm_node_get_string(k->node, "equation", NULL);
    if (!eq)
        return aglm_error(AGLM_ERR_INVALID, "attribute equation is required");
    char buf[512];
    size_t len = 0;
    for (const char *c = eq; *c; c++)
        if (!isspace((unsigned char)*c)) {
            if (len + 1 >= sizeof buf)
                return aglm_error(AGLM_ERR_INVALID, "equation is too long");
            buf[len++] = *c;
        }
    buf[len] = '\0';
    if (n_in > MAX_OPERANDS)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%zu operands, at most %d", n_in, MAX_OPERANDS);
    char *arrow = strstr(buf, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - buf) : len;
    term terms[MAX_OPERANDS], outt;
    size_t nt = 0, start = 0;
    aglm_status st;
    for (size_t i = 0; i <= lhs_len; i++) {
        if (i < lhs_len && buf[i] != ',')
            continue;
        if (nt >= n_in)
            return aglm_error(AGLM_ERR_INVALID,
                              "equation '%s' has more terms than the %zu "
                              "inputs",
                              eq, n_in);
        if ((st = parse_term(buf + start, i - start, &terms[nt])) != AGLM_OK)
            return st;
        nt++;
        start = i + 1;
    }
    if (nt != n_in)
        return aglm_error(AGLM_ERR_INVALID, "equation '%s' has %zu terms for %zu inputs", eq, nt,
                          n_in);
    /* ellipsis ranks and label sizes */
    int ell = 0, ell_rank[MAX_OPERANDS];
    for (size_t t = 0; t < nt; t++) {
        int letters = terms[t].n - terms[t].has_ellipsis;
        ell_rank[t] = in[t]->rank - letters;
        if (ell_rank[t] < 0 || (!terms[t].has_ellipsis && ell_rank[t] != 0))
            return aglm_error(AGLM_ERR_SHAPE,
                              "equation term %zu has %d labels for an input of "
                              "rank %d",
                              t, letters, (int)in[t]->rank);
        if (ell_rank[t] > ell)
            ell = ell_rank[t];
    }
    int64_t size[MAX_LABELS];
    int count[MAX_LABELS] = {0};
    for (int l = 0; l < MAX_LABELS; l++)
        size[l] = -1;
    /* axis_label[t][a]: the label of axis a of input t */
    int axis_label[MAX_OPERANDS][AGLM_MAX_RANK];
    for (size_t t = 0; t < nt; t++) {
        int a = 0;
        for (int j = 0; j < terms[t].n; j++) {
            if (terms[t].label[j] == E_ELLIPSIS) {
                for (int e = 0; e < ell_rank[t]; e++)
                    axis_label[t][a++] = ell - ell_rank[t] + e;
            } else {
                axis_label[t][a++] = ell + terms[t].label[j];
                count[ell + terms[t].label[j]]++;
            }
        }
        for (a = 0; a < in[t]->rank; a++) {
            int l = axis_label[t][a];
            int64_t d = in[t]->dims[a];
            if (size[l] < 0 || size[l] == 1)
                size[l] = d;
            else if (d != 1 && d != size[l])
                return aglm_error(AGLM_ERR_SHAPE, "label sizes differ: %lld and %lld in '%s'",
                                  (long long)size[l], (long long)d, eq);
        }
    }
    /* the output labels */
    int out_label[MAX_LABELS], n_out = 0, in_out[MAX_LABELS] = {0};
    if (arrow) {
        if ((st = parse_term(arrow + 2, strlen(arrow + 2), &outt)) != AGLM_OK)
            return st;
        for (int j = 0; j < outt.n; j++) {
            if (outt.label[j] == E_ELLIPSIS) {
                for (int e = 0; e < ell; e++)
                    out_label[n_out++] = e;
                continue;
            }
            int l = ell + outt.label[j];
            if (count[l] == 0 || in_out[l])
                return aglm_error(AGLM_ERR_INVALID,
                                  "an output label of '%s' is not in any input "
                                  "or is repeated",
                                  eq);
            out_label[n_out++] = l;
            in_out[l] = 1;
        }
        for (int j = 0; j < n_out; j++)
            in_out[out_label[j]] = 1;
    } else {
        for (int e = 0; e < ell; e++)
            out_label[n_out++] = e;
        /* alphabetical in ASCII: 'A'-'Z' then 'a'-'z' */
        for (int pass = 0; pass < 2; pass++)
            for (int c = 0; c < 26; c++) {
                int l = ell + (pass == 0 ? 26 + c : c);
                if (count[l] == 1 && n_out < MAX_LABELS)
                    out_label[n_out++] = l;
            }
        for (int j = 0; j < n_out; j++)
            in_out[out_label[j]] = 1;
    }
    if (n_out > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_SHAPE, "output of '%s' has rank above %d", eq, AGLM_MAX_RANK);
    memset(p, 0, sizeof *p);
    p->n_in = (int)n_in;
    p->in = in;
    p->n_out_labels = n_out;
    for (int j = 0; j < n_out; j++)
        p->out_size[j] = out_dims[j] = size[out_label[j]] < 0 ? 1 : size[out_label[j]];
    *out_rank = n_out;
    int sum_label[MAX_LABELS], n_sum = 0;
    for (int l = 0; l < ell + 52; l++)
        if (size[l] >= 0 && !in_out[l])
            sum_label[n_sum++] = l;
    p->n_sum_labels = n_sum;
    for (int j = 0; j < n_sum; j++)
        p->sum_size[j] = size[sum_label[j]];
    p->all_f32 = 1;
    for (size_t t = 0; t < nt; t++) {
        p->all_f32 &= in[t]->dtype == AGLM_F32;
        int64_t s = 1;
        for (int a = in[t]->rank - 1; a >= 0; a--) {
            int l = axis_label[t][a];
            if (!(in[t]->dims[a] == 1 && size[l] != 1)) {
                for (int j = 0; j < n_out; j++)
                    if (out_label[j] == l)
                        p->out_stride[t][j] += s;
                for (int j = 0; j < n_sum; j++)
                    if (sum_label[j] == l)
                        p->sum_stride[t][j] += s;
            }
            s *= in[t]->dims[a];
        }
    }
    return AGLM_OK;
}

/* Output elements [b, e). */
static void einsum_range(void *ctx, size_t b, size_t e, int worker)
{
    (void)worker;
    const einsum_plan *p = ctx;
    aglm_dtype dt = p->y->dtype;
    int is_float = aglm_dtype_is_float(dt);
    int ns = p->n_sum_labels;
    int64_t inner_n = ns ? p->sum_size[ns - 1] : 1;
    int64_t istr[MAX_OPERANDS]; /* each input's stride along the innermost summed label */
    for (int t = 0; t < p->n_in; t++)
        istr[t] = ns ? p->sum_stride[t][ns - 1] : 0;
    for (size_t o = b; o < e; o++) {
        int64_t base[MAX_OPERANDS] = {0}, rem = (int64_t)o;
        for (int j = p->n_out_labels - 1; j >= 0; j--) {
            int64_t c = rem % p->out_size[j];
            rem /= p->out_size[j];
            for (int t = 0; t < p->n_in; t++)
                base[t] += c * p->out_stride[t][j];
        }
        double facc = 0;
        uint64_t iacc = 0;
        int64_t pos[MAX_LABELS] = {0}, off[MAX_OPERANDS];
        int64_t outer_n = 1;
        for (int j = 0; j + 1 < ns; j++)
            outer_n *= p->sum_size[j];
        for (int64_t s = 0; s < outer_n && inner_n > 0; s++) {
            for (int t = 0; t < p->n_in; t++) {
                off[t] = base[t];
                for (int j = 0; j + 1 < ns; j++)
                    off[t] += pos[j] * p->sum_stride[t][j];
            }
            if (p->all_f32 && p->n_in == 2) {
                /* the common contraction of two operands */
                const float *a = (const float *)p->in[0]->data + off[0];
                const float *c = (const float *)p->in[1]->data + off[1];
                for (int64_t i = 0; i < inner_n; i++)
                    facc += (double)a[i * istr[0]] * c[i * istr[1]];
            } else if (p->all_f32) {
                for (int64_t i = 0; i < inner_n; i++) {
                    double v = 1.0;
                    for (int t = 0; t < p->n_in; t++)
                        v *= ((const float *)p->in[t]->data)[off[t] + i * istr[t]];
                    facc += v;
                }
            } else {
                for (int64_t i = 0; i < inner_n; i++) {
                    double fv = 1.0;
                    uint64_t iv = 1;
                    for (int t = 0; t < p->n_in; t++) {
                        int64_t at = off[t] + i * istr[t];
                        if (is_float)
                            fv *= cpu_get_f(p->in[t]->data, p->in[t]->dtype, at);
                        else
                            iv *= (uint64_t)cpu_get_i(p->in[t]->data, p->in[t]->dtype, at);
                    }
                    facc += fv;
                    iacc += iv;
                }
            }
            for (int j = ns - 2; j >= 0 && ++pos[j] == p->sum_size[j]; j--)
                pos[j] = 0;
        }
        if (is_float)
            cpu_set_f(p->y->data, dt, (int64_t)o, facc);
        else
            cpu_set_i(p->y->data, dt, (int64_t)o, (int64_t)iacc);
    }
}

static aglm_status k_einsum(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    for (size_t i = 1; i < n_in; i++) {
        aglm_status st = cpu_check_same_dtype(in[i], "an input", in[0], "input 0");
        if (st != AGLM_OK)
            return st;
    }
    einsum_plan *p = malloc(sizeof *p);
    if (!p)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for Einsum");
    int rank;
    int64_t dims[AGLM_MAX_RANK + 1];
    aglm_status st = build_plan(k, n_in, in, p, &rank, dims);
    if (st == AGLM_OK)
        st = cpu_alloc(k, &out[0], in[0]->dtype, rank, dims);
    if (st == AGLM_OK) {
        p->y = &out[0];
        int64_t work = 1;
        for (int j = 0; j < p->n_sum_labels; j++)
            work *= p->sum_size[j];
        size_t grain = work >= 4096 ? 1 : (size_t)(4096 / (work ? work : 1));
        cpu_parallel_for(k->pool, (size_t)aglm_tensor_numel(&out[0]), grain, einsum_range, p);
    }
    free(p);
    return st;
}

#define NUMERIC                                                                                    \
    (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16) |                  \
     CPU_DT(AGLM_I8) | CPU_DT(AGLM_U8) | CPU_DT(AGLM_I16) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_I32) |  \
     CPU_DT(AGLM_U32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U64))

const cpu_kernel cpu_einsum_kernels[] = {
    {"Einsum", NUMERIC, k_einsum},
    {NULL, 0, NULL},
};
