/* The fused ops' element-wise epilogue (fused_act.h). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ew_simd.h"
#include "fused_act.h"

/* y = y * sigmoid(alpha * y) in blocks, so the sigmoid runs on the vector path. */
static int swish_simd(float alpha, float *y, int64_t len)
{
    float t[256];
    for (int64_t i = 0; i < len; i += 256) {
        int64_t n = len - i < 256 ? len - i : 256;
        for (int64_t j = 0; j < n; j++)
            t[j] = alpha * y[i + j];
        if (!cpu_ew_unary_f32(CPU_EW_SIGMOID, n, t, t, 0.0f, 0.0f))
            return 0; /* portable path: declines on the first block, before y is touched */
        cpu_ew_binary_f32(CPU_EW_MUL, n, y + i, 1, t, 1, y + i);
    }
    return 1;
}

void cpu_fused_activate(cpu_act act, float a, float b, float *y, int64_t len)
{
    /* The vector rows (ew_simd.h) when the AVX2 path is active; the loops below otherwise. */
    if ((act == CPU_ACT_RELU && cpu_ew_unary_f32(CPU_EW_RELU, len, y, y, 0.0f, 0.0f)) ||
        (act == CPU_ACT_SIGMOID && cpu_ew_unary_f32(CPU_EW_SIGMOID, len, y, y, 0.0f, 0.0f)) ||
        (act == CPU_ACT_HARD_SIGMOID && cpu_ew_unary_f32(CPU_EW_HSIGMOID, len, y, y, a, b)) ||
        (act == CPU_ACT_HARD_SWISH && cpu_ew_unary_f32(CPU_EW_HSWISH, len, y, y, 0.0f, 0.0f)) ||
        (act == CPU_ACT_SWISH && swish_simd(a, y, len)))
        return;
    switch (act) {
    case CPU_ACT_NONE: break;
    case CPU_ACT_RELU:
        for (int64_t i = 0; i < len; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case CPU_ACT_CLIP:
        for (int64_t i = 0; i < len; i++)
            y[i] = y[i] < a ? a : y[i] > b ? b : y[i];
        break;
    case CPU_ACT_SIGMOID:
        for (int64_t i = 0; i < len; i++)
            y[i] = 1.0f / (1.0f + expf(-y[i]));
        break;
    case CPU_ACT_HARD_SIGMOID:
        for (int64_t i = 0; i < len; i++) {
            float v = a * y[i] + b;
            y[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        break;
    case CPU_ACT_HARD_SWISH:
        for (int64_t i = 0; i < len; i++) {
            float v = y[i] * (1.0f / 6.0f) + 0.5f;
            y[i] *= v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        break;
    case CPU_ACT_TANH:
        for (int64_t i = 0; i < len; i++)
            y[i] = tanhf(y[i]);
        break;
    case CPU_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < len; i++)
            y[i] = y[i] >= 0.0f ? y[i] : a * y[i];
        break;
    case CPU_ACT_GELU:
        for (int64_t i = 0; i < len; i++)
            y[i] = 0.5f * y[i] * (1.0f + erff(y[i] * 0.70710678118654752f));
        break;
    case CPU_ACT_GELU_TANH:
        for (int64_t i = 0; i < len; i++) {
            float x = y[i];
            y[i] = 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
        }
        break;
    case CPU_ACT_SWISH:
        for (int64_t i = 0; i < len; i++)
            y[i] = y[i] / (1.0f + expf(-a * y[i]));
        break;
    case CPU_ACT_PRELU: break; /* cpu_fused_epilogue_apply's, which knows the offsets */
    }
}

/* PRelu on y[off, off + len) one channel's run at a time, as ONNX's kernel computes it. */
static void prelu(const cpu_fused_epilogue *f, float *y, int64_t off, int64_t len)
{
    for (int64_t i = off, end = off + len; i < end;) {
        int64_t run = i / f->inner, stop = (run + 1) * f->inner, c = run % f->channels;
        float s = f->slope ? f->slope[c] : (float)f->slope_i[c];
        for (stop = stop < end ? stop : end; i < stop; i++)
            y[i] = y[i] < 0.0f ? y[i] * s : y[i];
    }
}

aglm_status cpu_fused_epilogue_layout(cpu_fused_epilogue *f, int64_t channels, int64_t inner)
{
    if (f->act != CPU_ACT_PRELU)
        return AGLM_OK;
    if (f->channels != channels)
        return aglm_error(AGLM_ERR_SHAPE,
                          "PRelu's activation_params hold %lld slopes for an output of %lld "
                          "channels",
                          (long long)f->channels, (long long)channels);
    f->inner = inner > 0 ? inner : 1;
    return AGLM_OK;
}

static void add(float *y, const float *r, int64_t len)
{
    if (cpu_ew_binary_f32(CPU_EW_ADD, len, y, 1, r, 1, y))
        return;
    for (int64_t i = 0; i < len; i++)
        y[i] += r[i];
}

void cpu_fused_epilogue_apply(const cpu_fused_epilogue *f, float *y, int64_t off, int64_t len)
{
    if (f->residual && f->residual_first)
        add(y + off, f->residual + off, len);
    if (f->act == CPU_ACT_PRELU)
        prelu(f, y, off, len);
    else
        cpu_fused_activate(f->act, f->p0, f->p1, y + off, len);
    if ((f->post_scale != 1.0f || f->post_shift != 0.0f) &&
        !(cpu_ew_binary_f32(CPU_EW_MUL, len, y + off, 1, &f->post_scale, 0, y + off) &&
          cpu_ew_binary_f32(CPU_EW_ADD, len, y + off, 1, &f->post_shift, 0, y + off)))
        for (int64_t i = off; i < off + len; i++)
            y[i] = y[i] * f->post_scale + f->post_shift;
    if (f->residual && !f->residual_first)
        add(y + off, f->residual + off, len);
}

aglm_status cpu_fused_epilogue_read(const aglm_node *n, cpu_fused_epilogue *f)
{
    static const struct {
        const char *name;
        cpu_act act;
        size_t params;
        float d0, d1;
    } table[] = {
        {"", CPU_ACT_NONE, 0, 0, 0},
        {"Relu", CPU_ACT_RELU, 0, 0, 0},
        {"Clip", CPU_ACT_CLIP, 2, -INFINITY, INFINITY},
        {"Sigmoid", CPU_ACT_SIGMOID, 0, 0, 0},
        {"HardSigmoid", CPU_ACT_HARD_SIGMOID, 2, 0.2f, 0.5f},
        {"HardSwish", CPU_ACT_HARD_SWISH, 0, 0, 0},
        {"Tanh", CPU_ACT_TANH, 0, 0, 0},
        {"LeakyRelu", CPU_ACT_LEAKY_RELU, 1, 0.01f, 0},
        {"Gelu", CPU_ACT_GELU, 1, 0, 0},
        {"Swish", CPU_ACT_SWISH, 1, 1.0f, 0},
        {"PRelu", CPU_ACT_PRELU, SIZE_MAX, 0, 0},
    };
    memset(f, 0, sizeof *f);
    f->residual_first = aglm_node_get_int(n, AGLM_ATTR_RESIDUAL_BEFORE_ACTIVATION, 1) != 0;
    f->post_scale = aglm_node_get_float(n, AGLM_ATTR_POST_SCALE, 1.0f);
    f->post_shift = aglm_node_get_float(n, AGLM_ATTR_POST_SHIFT, 0.0f);
    const char *name = aglm_node_get_string(n, AGLM_ATTR_ACTIVATION, "");
    /* Whole numbers written in IR text ("[2]") arrive as ints: take them as the floats they mean.
     */
    size_t count = 0;
    float conv[2];
    const float *p = aglm_node_get_floats(n, AGLM_ATTR_ACTIVATION_PARAMS, &count);
    const aglm_attr *at = aglm_node_attr(n, AGLM_ATTR_ACTIVATION_PARAMS);
    const int64_t *iv = NULL;
    if (at && aglm_attr_kind(at) == AGLM_ATTR_INTS) {
        iv = aglm_attr_ints(at, &count);
        for (size_t i = 0; i < count && i < 2; i++)
            conv[i] = (float)iv[i];
        p = conv;
    } else if (at && aglm_attr_kind(at) != AGLM_ATTR_FLOATS) {
        return aglm_error(AGLM_ERR_INVALID, "activation_params must be a list of numbers");
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].name, name) != 0)
            continue;
        if (count > table[i].params)
            return aglm_error(AGLM_ERR_INVALID,
                              "activation '%s' takes %zu activation_params, got %zu", name,
                              table[i].params, count);
        f->act = table[i].act;
        if (f->act == CPU_ACT_PRELU && count == 0)
            return aglm_error(AGLM_ERR_INVALID, "activation 'PRelu' needs its slopes in "
                                                "activation_params");
        if (f->act == CPU_ACT_PRELU && count == 1) {
            f->act = CPU_ACT_LEAKY_RELU; /* one slope for every channel */
        } else if (f->act == CPU_ACT_PRELU) {
            f->slope = iv ? NULL : p;
            f->slope_i = iv;
            f->channels = (int64_t)count;
            f->inner = 1;
            return AGLM_OK;
        }
        f->p0 = count > 0 ? p[0] : table[i].d0;
        f->p1 = count > 1 ? p[1] : table[i].d1;
        if (f->act == CPU_ACT_GELU && count > 0 && p[0] != 0.0f)
            f->act = CPU_ACT_GELU_TANH;
        return AGLM_OK;
    }
    return aglm_error(AGLM_ERR_INVALID,
                      "activation '%s' is not one of Relu, Clip, Sigmoid, HardSigmoid, "
                      "HardSwish, Tanh, LeakyRelu, Gelu, Swish, PRelu (or empty)",
                      name);
}
