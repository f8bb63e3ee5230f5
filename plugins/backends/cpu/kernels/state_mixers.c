/* Stateful sequence mixers of opset 27: LinearAttention (linear, gated, delta and gated-delta
 * recurrences with grouped-query heads). Every float dtype computes in f32, as the ONNX
 * reference does; outputs round back to their dtype. (CausalConvWithState, its companion in
 * the same models, lives in kernels/causalconv.c.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define MIX_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))

static aglm_status bad_shape(const char *what, const aglm_tensor *t, const char *expect)
{
    char s[64];
    return aglm_error(AGLM_ERR_SHAPE, "input %s has shape %s; %s", what, cpu_shape(t, s, sizeof s),
                      expect);
}

/* ---- LinearAttention --------------------------------------------------------------------- */

typedef struct lin_cfg {
    int64_t b, t, hq, hkv, dk, dv;
    int gating, delta;
    int64_t decay_last, beta_last; /* last dims of decay (hkv or hkv*dk) and beta (hkv or 1) */
    float scale;
} lin_cfg;

static aglm_status lin_configure(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                 lin_cfg *c)
{
    memset(c, 0, sizeof *c);
    const char *rule = aglm_node_get_string(k->node, "update_rule", "gated_delta");
    if (strcmp(rule, "linear") && strcmp(rule, "gated") && strcmp(rule, "delta") &&
        strcmp(rule, "gated_delta"))
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute update_rule = '%s': expected linear, gated, delta or "
                          "gated_delta",
                          rule);
    c->gating = strcmp(rule, "gated") == 0 || strcmp(rule, "gated_delta") == 0;
    c->delta = strcmp(rule, "delta") == 0 || strcmp(rule, "gated_delta") == 0;
    c->hq = aglm_node_get_int(k->node, "q_num_heads", 0);
    c->hkv = aglm_node_get_int(k->node, "kv_num_heads", 0);
    if (c->hq <= 0 || c->hkv <= 0 || c->hq % c->hkv)
        return aglm_error(AGLM_ERR_INVALID,
                          "attributes q_num_heads = %lld and kv_num_heads = %lld: both are "
                          "required, and q_num_heads must be a multiple of kv_num_heads",
                          (long long)c->hq, (long long)c->hkv);
    const aglm_tensor *q = in[0], *kk = in[1], *v = in[2];
    const aglm_tensor *past = n_in > 3 ? in[3] : NULL, *decay = n_in > 4 ? in[4] : NULL,
                      *beta = n_in > 5 ? in[5] : NULL;
    if (q->rank != 3 || kk->rank != 3 || v->rank != 3)
        return bad_shape(q->rank != 3    ? "query"
                         : kk->rank != 3 ? "key"
                                         : "value",
                         q->rank != 3    ? q
                         : kk->rank != 3 ? kk
                                         : v,
                         "expected [batch, sequence, heads*size]");
    c->b = q->dims[0], c->t = q->dims[1];
    if (q->dims[2] % c->hq || v->dims[2] % c->hkv)
        return bad_shape("query", q,
                         "its last dim must divide by q_num_heads (and value's by kv_num_heads)");
    c->dk = q->dims[2] / c->hq, c->dv = v->dims[2] / c->hkv;
    if (kk->dims[0] != c->b || kk->dims[1] != c->t || kk->dims[2] != c->hkv * c->dk)
        return bad_shape("key", kk,
                         "expected [batch, sequence, kv_num_heads*head_size] matching query");
    if (v->dims[0] != c->b || v->dims[1] != c->t)
        return bad_shape("value", v, "its batch or sequence differs from query's");
    if (c->gating != (decay != NULL))
        return aglm_error(AGLM_ERR_INVALID, "update_rule '%s' %s the decay input", rule,
                          c->gating ? "requires" : "forbids");
    if (c->delta != (beta != NULL))
        return aglm_error(AGLM_ERR_INVALID, "update_rule '%s' %s the beta input", rule,
                          c->delta ? "requires" : "forbids");
    if (decay) {
        c->decay_last = decay->rank == 3 ? decay->dims[2] : -1;
        if (decay->rank != 3 || decay->dims[0] != c->b || decay->dims[1] != c->t ||
            (c->decay_last != c->hkv && c->decay_last != c->hkv * c->dk))
            return bad_shape(
                "decay", decay,
                "expected [batch, sequence, kv_num_heads] or [.., kv_num_heads*head_size]");
    }
    if (beta) {
        c->beta_last = beta->rank == 3 ? beta->dims[2] : -1;
        if (beta->rank != 3 || beta->dims[0] != c->b || beta->dims[1] != c->t ||
            (c->beta_last != c->hkv && c->beta_last != 1))
            return bad_shape("beta", beta, "expected [batch, sequence, kv_num_heads or 1]");
    }
    if (past && (past->rank != 4 || past->dims[0] != c->b || past->dims[1] != c->hkv ||
                 past->dims[2] != c->dk || past->dims[3] != c->dv))
        return bad_shape("past_state", past,
                         "expected [batch, kv_num_heads, head_size, v_head_size]");
    float scale = aglm_node_get_float(k->node, "scale", 0.0f);
    c->scale = scale != 0.0f ? scale : (float)(1.0 / sqrt((double)c->dk));
    return AGLM_OK;
}

static aglm_status k_linear_attention(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                      size_t n_out, aglm_tensor *out)
{
    lin_cfg c;
    aglm_status st = lin_configure(k, n_in, in, &c);
    if (st != AGLM_OK)
        return st;
    float *scratch[6] = {NULL};
    const float *f[6] = {NULL};
    for (size_t i = 0; i < 6 && i < n_in; i++)
        if (in[i] && !(f[i] = cpu_f32_view(in[i], &scratch[i])))
            st = AGLM_ERR_TYPE;
    int64_t B = c.b, T = c.t, HQ = c.hq, HKV = c.hkv, DK = c.dk, DV = c.dv, G = HQ / HKV;
    float *state = calloc((size_t)(B * HKV * DK * DV) + 1, sizeof *state);
    float *y = calloc((size_t)(B * T * HQ * DV) + 1, sizeof *y);
    float *vt = malloc((size_t)DV * sizeof *vt + 1);
    if (st == AGLM_OK && (!state || !y || !vt))
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory");
    if (st == AGLM_OK && f[3])
        memcpy(state, f[3], (size_t)(B * HKV * DK * DV) * sizeof *state);
    for (int64_t b = 0; st == AGLM_OK && b < B; b++)
        for (int64_t h = 0; h < HKV; h++) {
            float *s = state + (b * HKV + h) * DK * DV;
            for (int64_t t = 0; t < T; t++) {
                const float *kt = f[1] + ((b * T + t) * HKV + h) * DK;
                const float *v = f[2] + ((b * T + t) * HKV + h) * DV;
                if (c.gating) {
                    const float *g = f[4] + (b * T + t) * c.decay_last;
                    for (int64_t d = 0; d < DK; d++) {
                        float e = expf(c.decay_last == HKV ? g[h] : g[h * DK + d]);
                        for (int64_t m = 0; m < DV; m++)
                            s[d * DV + m] *= e;
                    }
                }
                if (c.delta) {
                    float bt = f[5][(b * T + t) * c.beta_last + (c.beta_last == 1 ? 0 : h)];
                    for (int64_t m = 0; m < DV; m++) {
                        float r = 0.0f;
                        for (int64_t d = 0; d < DK; d++)
                            r += s[d * DV + m] * kt[d];
                        vt[m] = bt * (v[m] - r);
                    }
                } else {
                    memcpy(vt, v, (size_t)DV * sizeof *vt);
                }
                for (int64_t d = 0; d < DK; d++)
                    for (int64_t m = 0; m < DV; m++)
                        s[d * DV + m] += kt[d] * vt[m];
                /* query heads h*G .. h*G+G-1 read this kv head's state */
                for (int64_t g = 0; g < G; g++) {
                    int64_t hq = h * G + g;
                    const float *q = f[0] + ((b * T + t) * HQ + hq) * DK;
                    float *o = y + ((b * T + t) * HQ + hq) * DV;
                    for (int64_t m = 0; m < DV; m++) {
                        float acc = 0.0f;
                        for (int64_t d = 0; d < DK; d++)
                            acc += q[d] * s[d * DV + m];
                        o[m] = c.scale * acc;
                    }
                }
            }
        }
    if (st == AGLM_OK &&
        (st = cpu_alloc(k, &out[0], in[0]->dtype, 3, (int64_t[]){B, T, HQ * DV})) == AGLM_OK)
        cpu_f32_store(&out[0], y);
    /* present_state takes past_state's dtype, or query's without one */
    aglm_dtype sdt = n_in > 3 && in[3] ? in[3]->dtype : in[0]->dtype;
    if (st == AGLM_OK && n_out > 1 &&
        (st = cpu_alloc(k, &out[1], sdt, 4, (int64_t[]){B, HKV, DK, DV})) == AGLM_OK)
        cpu_f32_store(&out[1], state);
    for (int i = 0; i < 6; i++)
        free(scratch[i]);
    free(state);
    free(y);
    free(vt);
    return st;
}

const cpu_kernel cpu_state_mixer_kernels[] = {
    {"LinearAttention", MIX_FLOATS, k_linear_attention},
    {NULL, 0, NULL},
};
