/* The recurrent ops RNN, GRU and LSTM (opsets 7 to 22): forward, reverse and bidirectional,
 * activation lists with alpha/beta, clip, input_forget, linear_before_reset, sequence_lens,
 * initial states, peepholes and both layouts. Every float dtype computes in f32.
 *
 * Per direction, the input projection X·Wᵀ of every time step is one matrix multiply up front;
 * each step then multiplies the hidden state by Rᵀ and applies the gates. A batch entry whose
 * sequence_lens is shorter stops early: its Y rows past the end stay 0 and Y_h keeps its last
 * state; in reverse it starts at its own last step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gemm.h"
#include "kernels.h"

typedef enum rnn_kind { RNN_SIMPLE, RNN_GRU, RNN_LSTM } rnn_kind;

typedef enum act_fn {
    ACT_SIGMOID,
    ACT_TANH,
    ACT_RELU,
    ACT_AFFINE,
    ACT_LEAKY_RELU,
    ACT_THRESHOLDED_RELU,
    ACT_SCALED_TANH,
    ACT_HARD_SIGMOID,
    ACT_ELU,
    ACT_SOFTSIGN,
    ACT_SOFTPLUS
} act_fn;

typedef struct act {
    act_fn fn;
    float alpha, beta;
} act;

/* name, whether it takes alpha and beta, and their defaults */
static const struct act_def {
    const char *name;
    act_fn fn;
    int n_params;
    float alpha, beta;
} act_defs[] = {
    {"Sigmoid", ACT_SIGMOID, 0, 0, 0},
    {"Tanh", ACT_TANH, 0, 0, 0},
    {"Relu", ACT_RELU, 0, 0, 0},
    {"Affine", ACT_AFFINE, 2, 1.0f, 0.0f},
    {"LeakyRelu", ACT_LEAKY_RELU, 1, 0.01f, 0},
    {"ThresholdedRelu", ACT_THRESHOLDED_RELU, 1, 1.0f, 0},
    {"ScaledTanh", ACT_SCALED_TANH, 2, 1.0f, 1.0f},
    {"HardSigmoid", ACT_HARD_SIGMOID, 2, 0.2f, 0.5f},
    {"Elu", ACT_ELU, 1, 1.0f, 0},
    {"Softsign", ACT_SOFTSIGN, 0, 0, 0},
    {"Softplus", ACT_SOFTPLUS, 0, 0, 0},
};

static float act_apply(const act *a, float x)
{
    switch (a->fn) {
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ACT_TANH: return tanhf(x);
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_AFFINE: return a->alpha * x + a->beta;
    case ACT_LEAKY_RELU: return x >= 0 ? x : a->alpha * x;
    case ACT_THRESHOLDED_RELU: return x > a->alpha ? x : 0;
    case ACT_SCALED_TANH: return a->alpha * tanhf(a->beta * x);
    case ACT_HARD_SIGMOID: {
        float v = a->alpha * x + a->beta;
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }
    case ACT_ELU: return x >= 0 ? x : a->alpha * (expf(x) - 1.0f);
    case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    case ACT_SOFTPLUS: return log1pf(expf(x));
    }
    return x;
}

#define MAX_ACTS 6 /* 3 per direction */

typedef struct rnn_cfg {
    rnn_kind kind;
    const char *op;
    int gates;          /* 1, 3 or 4 */
    int n_dir, reverse; /* reverse: a single direction run backwards */
    int64_t seq, batch, in_size, hidden;
    int layout;
    float clip; /* 0: none */
    int input_forget, linear_before_reset;
    act acts[MAX_ACTS]; /* per direction: f (RNN); f, g (GRU); f, g, h (LSTM) */
} rnn_cfg;

/* Reads activations, activation_alpha and activation_beta, with the op's defaults. */
static aglm_status parse_acts(const cpu_kctx *k, rnn_cfg *c)
{
    static const char *const defaults[3][3] = {
        {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
    int per_dir = c->kind == RNN_SIMPLE ? 1 : c->kind == RNN_GRU ? 2 : 3;
    const aglm_attr *a = aglm_node_attr(k->node, "activations");
    size_t n_names = 0, n_alpha = 0, n_beta = 0;
    const char *const *names =
        a && aglm_attr_kind(a) == AGLM_ATTR_STRINGS ? aglm_attr_strings(a, &n_names) : NULL;
    const float *alphas = aglm_node_get_floats(k->node, "activation_alpha", &n_alpha);
    const float *betas = aglm_node_get_floats(k->node, "activation_beta", &n_beta);
    int total = per_dir * c->n_dir;
    if (names && n_names != (size_t)total && n_names != (size_t)per_dir)
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute activations has %zu entries; %s with %d "
                          "direction%s takes %d",
                          n_names, c->op, c->n_dir, c->n_dir > 1 ? "s" : "", total);
    size_t ia = 0, ib = 0;
    for (int i = 0; i < total; i++) {
        const char *name = names ? names[(size_t)i % n_names] : defaults[c->kind][i % per_dir];
        const struct act_def *d = NULL;
        for (size_t j = 0; j < sizeof act_defs / sizeof act_defs[0]; j++)
            if (strcasecmp(act_defs[j].name, name) == 0)
                d = &act_defs[j];
        if (!d)
            return aglm_error(AGLM_ERR_UNSUPPORTED, "activation '%s' is not supported", name);
        c->acts[i].fn = d->fn;
        c->acts[i].alpha = d->alpha;
        c->acts[i].beta = d->beta;
        /* alphas and betas are consumed in order by the functions that take them */
        if (d->n_params >= 1 && alphas && ia < n_alpha)
            c->acts[i].alpha = alphas[ia++];
        if (d->n_params >= 2 && betas && ib < n_beta)
            c->acts[i].beta = betas[ib++];
    }
    return AGLM_OK;
}

static aglm_status need_shape(const aglm_tensor *t, const char *what, int rank, const int64_t *dims)
{
    int ok = t->rank == rank;
    for (int i = 0; ok && i < rank; i++)
        ok = t->dims[i] == dims[i];
    if (ok)
        return AGLM_OK;
    char got[64], want[64];
    return aglm_error(AGLM_ERR_SHAPE, "input %s has shape %s, expected %s", what,
                      cpu_shape(t, got, sizeof got), aglm_shape_str(rank, dims, want, sizeof want));
}

static aglm_status configure(const cpu_kctx *k, rnn_kind kind, size_t n_in,
                             const aglm_tensor *const *in, rnn_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->op = aglm_node_op(k->node);
    c->gates = kind == RNN_SIMPLE ? 1 : kind == RNN_GRU ? 3 : 4;
    const char *dir = aglm_node_get_string(k->node, "direction", "forward");
    if (strcmp(dir, "forward") == 0) {
        c->n_dir = 1;
    } else if (strcmp(dir, "reverse") == 0) {
        c->n_dir = 1;
        c->reverse = 1;
    } else if (strcmp(dir, "bidirectional") == 0) {
        c->n_dir = 2;
    } else {
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute direction = '%s': expected forward, reverse or "
                          "bidirectional",
                          dir);
    }
    c->layout = (int)aglm_node_get_int(k->node, "layout", 0);
    if (c->layout != 0 && c->layout != 1)
        return aglm_error(AGLM_ERR_INVALID, "attribute layout = %d: expected 0 or 1", c->layout);
    c->clip = aglm_node_get_float(k->node, "clip", 0.0f);
    if (c->clip < 0)
        return aglm_error(AGLM_ERR_INVALID, "attribute clip = %g must be positive",
                          (double)c->clip);
    c->input_forget = (int)aglm_node_get_int(k->node, "input_forget", 0);
    c->linear_before_reset = (int)aglm_node_get_int(k->node, "linear_before_reset", 0);

    const aglm_tensor *x = in[0], *w = in[1], *r = in[2];
    char s[64];
    if (x->rank != 3)
        return aglm_error(AGLM_ERR_SHAPE, "input X has shape %s; expected rank 3",
                          cpu_shape(x, s, sizeof s));
    c->seq = c->layout ? x->dims[1] : x->dims[0];
    c->batch = c->layout ? x->dims[0] : x->dims[1];
    c->in_size = x->dims[2];
    if (w->rank != 3 || w->dims[1] % c->gates)
        return aglm_error(AGLM_ERR_SHAPE,
                          "input W has shape %s; expected [%d, %d*hidden_size, %lld]",
                          cpu_shape(w, s, sizeof s), c->n_dir, c->gates, (long long)c->in_size);
    c->hidden = aglm_node_get_int(k->node, "hidden_size", w->dims[1] / c->gates);
    int64_t gh = c->gates * c->hidden, nd = c->n_dir;
    aglm_status st = need_shape(w, "W", 3, (int64_t[]){nd, gh, c->in_size});
    if (st == AGLM_OK)
        st = need_shape(r, "R", 3, (int64_t[]){nd, gh, c->hidden});
    if (st == AGLM_OK && n_in > 3 && in[3])
        st = need_shape(in[3], "B", 2, (int64_t[]){nd, 2 * gh});
    if (st == AGLM_OK && n_in > 4 && in[4])
        st = need_shape(in[4], "sequence_lens", 1, (int64_t[]){c->batch});
    int64_t state_dims[3] = {nd, c->batch, c->hidden};
    if (c->layout)
        state_dims[0] = c->batch, state_dims[1] = nd;
    if (st == AGLM_OK && n_in > 5 && in[5])
        st = need_shape(in[5], "initial_h", 3, state_dims);
    if (st == AGLM_OK && kind == RNN_LSTM && n_in > 6 && in[6])
        st = need_shape(in[6], "initial_c", 3, state_dims);
    if (st == AGLM_OK && kind == RNN_LSTM && n_in > 7 && in[7])
        st = need_shape(in[7], "P", 2, (int64_t[]){nd, 3 * c->hidden});
    for (size_t i = 1; st == AGLM_OK && i < n_in; i++)
        if (in[i] && i != 4 && in[i]->dtype != x->dtype)
            st = aglm_error(AGLM_ERR_TYPE, "input %zu is %s but X is %s", i,
                            aglm_dtype_name(in[i]->dtype), aglm_dtype_name(x->dtype));
    if (st == AGLM_OK)
        st = parse_acts(k, c);
    return st;
}

/* The f32 views of the float inputs (X, W, R, B, initial_h, initial_c, P); NULL where absent. */
typedef struct rnn_data {
    const float *x, *w, *r, *b, *h0, *c0, *p;
    float *scratch[8];
    int64_t *lens;
} rnn_data;

static void data_free(rnn_data *d)
{
    for (int i = 0; i < 8; i++)
        free(d->scratch[i]);
    free(d->lens);
}

static aglm_status load_data(const rnn_cfg *c, size_t n_in, const aglm_tensor *const *in,
                             rnn_data *d)
{
    memset(d, 0, sizeof *d);
    const float **slots[8] = {&d->x, &d->w, &d->r, &d->b, NULL, &d->h0, &d->c0, &d->p};
    for (size_t i = 0; i < n_in && i < 8; i++) {
        if (!in[i] || !slots[i])
            continue;
        if (!(*slots[i] = cpu_f32_view(in[i], &d->scratch[i])))
            return AGLM_ERR_TYPE;
    }
    d->lens = malloc((size_t)(c->batch > 0 ? c->batch : 1) * sizeof *d->lens);
    if (!d->lens)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    for (int64_t b = 0; b < c->batch; b++)
        d->lens[b] = c->seq;
    if (n_in > 4 && in[4]) {
        size_t count;
        aglm_status st = cpu_read_ints(in[4], "sequence_lens", d->lens, (size_t)c->batch, &count);
        if (st != AGLM_OK)
            return st;
        for (int64_t b = 0; b < c->batch; b++)
            if (d->lens[b] < 0 || d->lens[b] > c->seq)
                return aglm_error(AGLM_ERR_INVALID,
                                  "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b,
                                  (long long)d->lens[b], (long long)c->seq);
    }
    return AGLM_OK;
}

static inline float clipped(const rnn_cfg *c, float v)
{
    if (c->clip > 0)
        return v < -c->clip ? -c->clip : v > c->clip ? c->clip : v;
    return v;
}

/* Offsets of [time t][batch b] rows in X/Y-style tensors of either layout. */
static inline int64_t x_row(const rnn_cfg *c, int64_t t, int64_t b)
{
    return c->layout ? b * c->seq + t : t * c->batch + b;
}

static inline int64_t state_row(const rnn_cfg *c, int dir, int64_t b)
{
    return c->layout ? b * c->n_dir + dir : dir * c->batch + b;
}

static inline int64_t y_row(const rnn_cfg *c, int64_t t, int dir, int64_t b)
{
    return c->layout ? (b * c->seq + t) * c->n_dir + dir : (t * c->n_dir + dir) * c->batch + b;
}

typedef struct dir_bufs {
    float *xw;      /* [seq*batch, G*H]: X·Wᵀ + Wb + (for all but GRU's h gate) Rb */
    float *hr;      /* [batch, G*H]: h·Rᵀ */
    float *h, *cst; /* [batch, H] */
    float *rh;      /* GRU: [batch, H] r ⊙ h, and its product with Rhᵀ */
    float *rhr;
} dir_bufs;

/* Runs one direction, writing y (may be NULL), and leaving final states in bufs->h / cst. */
static aglm_status run_dir(const cpu_kctx *k, const rnn_cfg *c, const rnn_data *d, int dir,
                           dir_bufs *bf, float *y)
{
    int64_t H = c->hidden, G = c->gates, GH = G * H, B = c->batch, S = c->seq, I = c->in_size;
    const float *w = d->w + dir * GH * I, *r = d->r + dir * GH * H;
    const float *wb = d->b ? d->b + dir * 2 * GH : NULL, *rb = wb ? wb + GH : NULL;
    const float *p = d->p ? d->p + dir * 3 * H : NULL;
    const act *acts = c->acts + dir * (c->kind == RNN_SIMPLE ? 1 : c->kind == RNN_GRU ? 2 : 3);
    int backwards = c->reverse || dir == 1;

    /* input projection of every (time, batch) row, X's own row order */
    if (S * B > 0) {
        cpu_gemm_args g = {0, 1, S * B, GH, I, 1.0f, d->x, I, w, I, 0.0f, bf->xw, GH};
        aglm_status st = cpu_sgemm(k->pool, &g);
        if (st != AGLM_OK)
            return st;
    }
    for (int64_t row = 0; wb && row < S * B; row++)
        for (int64_t j = 0; j < GH; j++) {
            int gru_h = c->kind == RNN_GRU && j >= 2 * H;
            bf->xw[row * GH + j] += wb[j] + (gru_h ? 0.0f : rb[j]);
        }
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = 0; j < H; j++) {
            bf->h[b * H + j] = d->h0 ? d->h0[state_row(c, dir, b) * H + j] : 0.0f;
            if (bf->cst)
                bf->cst[b * H + j] = d->c0 ? d->c0[state_row(c, dir, b) * H + j] : 0.0f;
        }
    for (int64_t t = 0; t < S; t++) {
        cpu_gemm_args g = {0, 1, B, GH, H, 1.0f, bf->h, H, r, H, 0.0f, bf->hr, GH};
        aglm_status st = cpu_sgemm(k->pool, &g);
        if (st != AGLM_OK)
            return st;
        if (c->kind == RNN_GRU && !c->linear_before_reset) {
            /* (r ⊙ h)·Rhᵀ needs r first */
            for (int64_t b = 0; b < B; b++) {
                if (t >= d->lens[b])
                    continue;
                int64_t ti = backwards ? d->lens[b] - 1 - t : t;
                const float *xw = bf->xw + x_row(c, ti, b) * GH;
                for (int64_t j = 0; j < H; j++) {
                    float rg = act_apply(&acts[0], clipped(c, xw[H + j] + bf->hr[b * GH + H + j]));
                    bf->rh[b * H + j] = rg * bf->h[b * H + j];
                }
            }
            cpu_gemm_args g2 = {0, 1, B, H, H, 1.0f, bf->rh, H, r + 2 * H * H, H, 0.0f, bf->rhr, H};
            if ((st = cpu_sgemm(k->pool, &g2)) != AGLM_OK)
                return st;
        }
        for (int64_t b = 0; b < B; b++) {
            if (t >= d->lens[b])
                continue;
            int64_t ti = backwards ? d->lens[b] - 1 - t : t;
            const float *xw = bf->xw + x_row(c, ti, b) * GH, *hr = bf->hr + b * GH;
            float *h = bf->h + b * H;
            for (int64_t j = 0; j < H; j++) {
                if (c->kind == RNN_SIMPLE) {
                    h[j] = act_apply(&acts[0], clipped(c, xw[j] + hr[j]));
                } else if (c->kind == RNN_GRU) {
                    float z = act_apply(&acts[0], clipped(c, xw[j] + hr[j]));
                    float pre;
                    if (c->linear_before_reset) {
                        float rg = act_apply(&acts[0], clipped(c, xw[H + j] + hr[H + j]));
                        pre = xw[2 * H + j] + rg * (hr[2 * H + j] + (rb ? rb[2 * H + j] : 0.0f));
                    } else {
                        pre = xw[2 * H + j] + bf->rhr[b * H + j] + (rb ? rb[2 * H + j] : 0.0f);
                    }
                    float hh = act_apply(&acts[1], clipped(c, pre));
                    h[j] = (1.0f - z) * hh + z * h[j];
                } else {
                    float *cs = bf->cst + b * H;
                    float ci = cs[j];
                    float ig =
                        act_apply(&acts[0], clipped(c, xw[j] + hr[j] + (p ? p[j] * ci : 0.0f)));
                    float fg = act_apply(&acts[0], clipped(c, xw[2 * H + j] + hr[2 * H + j] +
                                                                  (p ? p[2 * H + j] * ci : 0.0f)));
                    if (c->input_forget)
                        fg = 1.0f - ig;
                    float cg = act_apply(&acts[1], clipped(c, xw[3 * H + j] + hr[3 * H + j]));
                    float cn = fg * ci + ig * cg;
                    float og = act_apply(
                        &acts[0], clipped(c, xw[H + j] + hr[H + j] + (p ? p[H + j] * cn : 0.0f)));
                    cs[j] = cn;
                    h[j] = og * act_apply(&acts[2], cn);
                }
            }
            if (y)
                memcpy(y + y_row(c, ti, dir, b) * H, h, (size_t)H * sizeof *h);
        }
    }
    return AGLM_OK;
}

static aglm_status run_rnn(const cpu_kctx *k, rnn_kind kind, size_t n_in,
                           const aglm_tensor *const *in, size_t n_out, aglm_tensor *out)
{
    rnn_cfg c;
    aglm_status st = configure(k, kind, n_in, in, &c);
    if (st != AGLM_OK)
        return st;
    rnn_data d;
    st = load_data(&c, n_in, in, &d);
    int64_t H = c.hidden, GH = c.gates * H, B = c.batch, S = c.seq, nd = c.n_dir;
    aglm_dtype dt = in[0]->dtype;
    int64_t y_dims[4] = {S, nd, B, H}, s_dims[3] = {nd, B, H};
    if (c.layout) {
        y_dims[0] = B, y_dims[1] = S, y_dims[2] = nd;
        s_dims[0] = B, s_dims[1] = nd;
    }
    float *y = calloc((size_t)(S * nd * B * H) + 1, sizeof *y);
    float *hs = calloc((size_t)(nd * B * H) + 1, sizeof *hs),
          *cs = calloc((size_t)(nd * B * H) + 1, sizeof *cs);
    dir_bufs bf = {0};
    bf.xw = cpu_alloc_floats((size_t)(S * B * GH) + 1);
    bf.hr = cpu_alloc_floats((size_t)(B * GH) + 1);
    bf.h = calloc((size_t)(B * H) + 1, sizeof *bf.h);
    bf.cst = calloc((size_t)(B * H) + 1, sizeof *bf.cst);
    bf.rh = calloc((size_t)(B * H) + 1, sizeof *bf.rh);
    bf.rhr = calloc((size_t)(B * H) + 1, sizeof *bf.rhr);
    if (st == AGLM_OK &&
        (!y || !hs || !cs || !bf.xw || !bf.hr || !bf.h || !bf.cst || !bf.rh || !bf.rhr))
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory");
    if (kind != RNN_LSTM) {
        free(bf.cst);
        bf.cst = NULL;
    }
    for (int dir = 0; st == AGLM_OK && dir < nd; dir++) {
        st = run_dir(k, &c, &d, dir, &bf, y);
        for (int64_t b = 0; st == AGLM_OK && b < B; b++) {
            memcpy(hs + state_row(&c, dir, b) * H, bf.h + b * H, (size_t)H * sizeof *hs);
            if (bf.cst)
                memcpy(cs + state_row(&c, dir, b) * H, bf.cst + b * H, (size_t)H * sizeof *cs);
        }
    }
    const float *results[3] = {y, hs, cs};
    for (size_t i = 0; st == AGLM_OK && i < n_out && i < 3; i++) {
        st = i == 0 ? cpu_alloc(k, &out[0], dt, 4, y_dims) : cpu_alloc(k, &out[i], dt, 3, s_dims);
        if (st == AGLM_OK)
            cpu_f32_store(&out[i], results[i]);
    }
    free(y);
    free(hs);
    free(cs);
    free(bf.xw);
    free(bf.hr);
    free(bf.h);
    free(bf.cst);
    free(bf.rh);
    free(bf.rhr);
    data_free(&d);
    return st;
}

static aglm_status k_rnn(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    return run_rnn(k, RNN_SIMPLE, n_in, in, n_out, out);
}

static aglm_status k_gru(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    return run_rnn(k, RNN_GRU, n_in, in, n_out, out);
}

static aglm_status k_lstm(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                          size_t n_out, aglm_tensor *out)
{
    return run_rnn(k, RNN_LSTM, n_in, in, n_out, out);
}

#define RNN_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))

const cpu_kernel cpu_rnn_kernels[] = {
    {"RNN", RNN_FLOATS, k_rnn},
    {"GRU", RNN_FLOATS, k_gru},
    {"LSTM", RNN_FLOATS, k_lstm},
    {NULL, 0, NULL},
};
