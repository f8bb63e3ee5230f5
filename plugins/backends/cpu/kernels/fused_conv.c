/* aglm.FusedConv (docs/extension-ops.md): Conv + bias, then an element-wise epilogue (a residual
 * add and an activation, in the order residual_before_activation says, and a scale and shift
 * after the activation) applied by the
 * convolution itself through its epilogue hook, on f32. */
#include <math.h>
#include <string.h>

#include "conv_epilogue.h"
#include "window.h"

enum act { ACT_NONE, ACT_RELU, ACT_CLIP, ACT_SIGMOID, ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_TANH,
           ACT_LEAKY_RELU, ACT_GELU, ACT_GELU_TANH };

typedef struct fused {
    enum act act;
    float p0, p1;          /* Clip min/max, HardSigmoid alpha/beta, LeakyRelu alpha */
    const float *residual; /* same shape as the output, or NULL */
    int residual_first;    /* 1: act(y + r); 0: act(y) + r */
    float post_scale, post_shift; /* applied after the activation */
} fused;

static void activate(const fused *f, float *y, int64_t len)
{
    float a = f->p0, b = f->p1;
    switch (f->act) {
    case ACT_NONE:
        break;
    case ACT_RELU:
        for (int64_t i = 0; i < len; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case ACT_CLIP:
        for (int64_t i = 0; i < len; i++)
            y[i] = y[i] < a ? a : y[i] > b ? b : y[i];
        break;
    case ACT_SIGMOID:
        for (int64_t i = 0; i < len; i++)
            y[i] = 1.0f / (1.0f + expf(-y[i]));
        break;
    case ACT_HARD_SIGMOID:
        for (int64_t i = 0; i < len; i++) {
            float v = a * y[i] + b;
            y[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        break;
    case ACT_HARD_SWISH:
        for (int64_t i = 0; i < len; i++) {
            float v = y[i] * (1.0f / 6.0f) + 0.5f;
            y[i] *= v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        break;
    case ACT_TANH:
        for (int64_t i = 0; i < len; i++)
            y[i] = tanhf(y[i]);
        break;
    case ACT_LEAKY_RELU:
        for (int64_t i = 0; i < len; i++)
            y[i] = y[i] >= 0.0f ? y[i] : a * y[i];
        break;
    case ACT_GELU:
        for (int64_t i = 0; i < len; i++)
            y[i] = 0.5f * y[i] * (1.0f + erff(y[i] * 0.70710678118654752f));
        break;
    case ACT_GELU_TANH:
        for (int64_t i = 0; i < len; i++) {
            float x = y[i];
            y[i] = 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
        }
        break;
    }
}

static void add(float *y, const float *r, int64_t len)
{
    for (int64_t i = 0; i < len; i++)
        y[i] += r[i];
}

static void epilogue(const void *ctx, float *y, int64_t off, int64_t len)
{
    const fused *f = ctx;
    if (f->residual && f->residual_first)
        add(y + off, f->residual + off, len);
    activate(f, y + off, len);
    if (f->post_scale != 1.0f || f->post_shift != 0.0f)
        for (int64_t i = off; i < off + len; i++)
            y[i] = y[i] * f->post_scale + f->post_shift;
    if (f->residual && !f->residual_first)
        add(y + off, f->residual + off, len);
}

static aglm_status read_activation(const aglm_node *n, fused *f)
{
    static const struct { const char *name; enum act act; size_t params; float d0, d1; } table[] = {
        {"", ACT_NONE, 0, 0, 0},
        {"Relu", ACT_RELU, 0, 0, 0},
        {"Clip", ACT_CLIP, 2, -INFINITY, INFINITY},
        {"Sigmoid", ACT_SIGMOID, 0, 0, 0},
        {"HardSigmoid", ACT_HARD_SIGMOID, 2, 0.2f, 0.5f},
        {"HardSwish", ACT_HARD_SWISH, 0, 0, 0},
        {"Tanh", ACT_TANH, 0, 0, 0},
        {"LeakyRelu", ACT_LEAKY_RELU, 1, 0.01f, 0},
        {"Gelu", ACT_GELU, 1, 0, 0},
    };
    const char *name = aglm_node_get_string(n, "activation", "");
    size_t count = 0;
    const float *p = aglm_node_get_floats(n, "activation_params", &count);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].name, name) != 0)
            continue;
        if (count > table[i].params)
            return aglm_error(AGLM_ERR_INVALID, "activation '%s' takes %zu activation_params, got %zu", name,
                              table[i].params, count);
        f->act = table[i].act;
        f->p0 = count > 0 ? p[0] : table[i].d0;
        f->p1 = count > 1 ? p[1] : table[i].d1;
        if (f->act == ACT_GELU && count > 0 && p[0] != 0.0f)
            f->act = ACT_GELU_TANH;
        return AGLM_OK;
    }
    return aglm_error(AGLM_ERR_INVALID, "activation '%s' is not one of Relu, Clip, Sigmoid, HardSigmoid, "
                      "HardSwish, Tanh, LeakyRelu, Gelu (or empty)", name);
}

/* The epilogue reads the residual at the output's offsets, so its shape must be the output's,
 * known before the convolution runs. */
static aglm_status check_residual(const cpu_kctx *k, const aglm_tensor *x, const aglm_tensor *wt,
                                  const aglm_tensor *r)
{
    char sr[64], sx[64], sw[64];
    if (x->rank < 3 || wt->rank != x->rank)
        return aglm_error(AGLM_ERR_SHAPE, "X %s and W %s must have the same rank, at least 3",
                          cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw));
    int nd = x->rank - 2;
    cpu_window w;
    aglm_status st = cpu_window_init(&w, k->node, nd, x->dims + 2, wt->dims + 2, 0);
    if (st != AGLM_OK)
        return st;
    int same = r->rank == x->rank && r->dims[0] == x->dims[0] && r->dims[1] == wt->dims[0];
    for (int i = 0; same && i < nd; i++)
        same = r->dims[2 + i] == w.out[CPU_WINDOW_DIMS - nd + i];
    if (!same)
        return aglm_error(AGLM_ERR_SHAPE, "residual R %s does not match the output of convolving X %s with W %s",
                          cpu_shape(r, sr, sizeof sr), cpu_shape(x, sx, sizeof sx), cpu_shape(wt, sw, sizeof sw));
    return AGLM_OK;
}

static aglm_status k_fused_conv(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *r = n_in > 3 ? in[3] : NULL;
    fused f = {.residual_first = aglm_node_get_int(k->node, "residual_before_activation", 1) != 0,
               .post_scale = aglm_node_get_float(k->node, "post_scale", 1.0f),
               .post_shift = aglm_node_get_float(k->node, "post_shift", 0.0f)};
    aglm_status st = read_activation(k->node, &f);
    if (st == AGLM_OK && r)
        st = cpu_check_same_dtype(in[0], "input X", r, "residual R");
    if (st != AGLM_OK)
        return st;
    if (r && (st = check_residual(k, in[0], in[1], r)) != AGLM_OK)
        return st;
    f.residual = r ? r->data : NULL;
    cpu_conv_epilogue ep = {epilogue, &f};
    return cpu_conv_f32(k, in[0], in[1], n_in > 2 ? in[2] : NULL, &ep, out);
}

const cpu_kernel cpu_aglm_kernels[] = {
    {"FusedConv", 2, 4, 1, CPU_DT(AGLM_F32), k_fused_conv},
    {NULL, 0, 0, 0, 0, NULL},
};
