/* Attention (opsets 23 and 24) and RotaryEmbedding (opset 23). Every float dtype computes in f32.
 *
 * Attention follows the ONNX reference: 3-D inputs [batch, seq, heads*size] are split into heads;
 * past_key/past_value are prepended along the sequence; a query head h reads key/value head
 * h / (q_heads / kv_heads) (grouped-query attention); scores are scaled Q·Kᵀ, soft-capped
 * (softcap > 0), then biased by attn_mask (float added; bool false = -inf; padded with -inf up to
 * the total sequence length and broadcast NumPy-style), the causal frontier (key j visible to query
 * i when j <= i + offset, offset = the past length, or nonpad_kv_seqlen[b] - q_len for an external
 * cache) and nonpad_kv_seqlen; a query row with no visible key gets all-zero probabilities (and a
 * zero output row) instead of NaN. qk_matmul_output holds the scores after softcap (modes 0, 1),
 * after the bias (2) or after softmax (3).
 *
 * FlexAttention (domain ai.onnx.preview) computes scaled Q·Kᵀ for every head at once, hands the
 * whole score tensor to the score_mod graph, takes the softmax, hands the probabilities to the
 * prob_mod graph and multiplies by V; query head h reads key/value head h / (q_heads / kv_heads).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "subgraph.h"
#include "kernels.h"

#define ATT_FLOATS (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))

typedef struct att_job {
    int64_t batch, qh, kvh, sq, skv, past, total, dk, dv;
    int q3d; /* Q (and Y) are 3-D */
    const float *q;
    const float *pk, *pv;       /* present key/value, [batch, kvh, total, d] */
    const float *mask;          /* attention bias broadcast as mdims, or NULL */
    const unsigned char *bmask; /* bool mask instead */
    int64_t mdims[4];           /* mask dims aligned right onto [batch, qh, sq, mask_len] */
    int causal;
    const int64_t *nonpad; /* [batch] or NULL */
    float scale, softcap;
    int mode;
    float *y;      /* [batch, qh, sq, dv] or [batch, sq, qh*dv] */
    float *qk;     /* [batch, qh, sq, total] or NULL */
    float *scores; /* per (b, h) task: total floats */
} att_job;

static inline const float *q_row(const att_job *j, int64_t b, int64_t h, int64_t i)
{
    return j->q3d ? j->q + ((b * j->sq + i) * j->qh + h) * j->dk
                  : j->q + ((b * j->qh + h) * j->sq + i) * j->dk;
}

static inline float *y_row(const att_job *j, int64_t b, int64_t h, int64_t i)
{
    return j->q3d ? j->y + ((b * j->sq + i) * j->qh + h) * j->dv
                  : j->y + ((b * j->qh + h) * j->sq + i) * j->dv;
}

/* The attn_mask bias of (b, h, i, c): -inf past the mask's own length. */
static float mask_bias(const att_job *j, int64_t b, int64_t h, int64_t i, int64_t c)
{
    if (!j->mask && !j->bmask)
        return 0.0f;
    if (c >= j->mdims[3])
        return -INFINITY;
    const int64_t *m = j->mdims;
    int64_t idx =
        (((m[0] == 1 ? 0 : b) * m[1] + (m[1] == 1 ? 0 : h)) * m[2] + (m[2] == 1 ? 0 : i)) * m[3] +
        c;
    if (j->bmask)
        return j->bmask[idx] ? 0.0f : -INFINITY;
    return j->mask[idx];
}

static void attend(void *ctx, size_t begin, size_t end, int worker)
{
    (void)worker;
    const att_job *j = ctx;
    int64_t reps = j->qh / j->kvh, T = j->total;
    for (size_t task = begin; task < end; task++) {
        int64_t b = (int64_t)task / j->qh, h = (int64_t)task % j->qh, kh = h / reps;
        float *s = j->scores + (int64_t)task * T;
        const float *kb = j->pk + (b * j->kvh + kh) * T * j->dk,
                    *vb = j->pv + (b * j->kvh + kh) * T * j->dv;
        int64_t offset = j->past;
        if (!j->past && j->nonpad)
            offset = j->nonpad[b] - j->sq;
        for (int64_t i = 0; i < j->sq; i++) {
            const float *q = q_row(j, b, h, i);
            float *qk = j->qk ? j->qk + ((b * j->qh + h) * j->sq + i) * T : NULL;
            float mx = -INFINITY;
            for (int64_t c = 0; c < T; c++) {
                const float *k = kb + c * j->dk;
                float dot = 0.0f;
                for (int64_t d = 0; d < j->dk; d++)
                    dot += q[d] * k[d];
                float v = dot * j->scale;
                if (j->softcap > 0)
                    v = j->softcap * tanhf(v / j->softcap);
                if (qk && j->mode <= 1)
                    qk[c] = v;
                v += mask_bias(j, b, h, i, c);
                if (j->causal && c > i + offset)
                    v = -INFINITY;
                if (j->nonpad && c >= j->nonpad[b])
                    v = -INFINITY;
                if (qk && j->mode == 2)
                    qk[c] = v;
                s[c] = v;
                mx = v > mx ? v : mx;
            }
            float *y = y_row(j, b, h, i);
            memset(y, 0, (size_t)j->dv * sizeof *y);
            if (mx == -INFINITY) {
                /* no visible key: zero probabilities, zero output */
                for (int64_t c = 0; qk && j->mode == 3 && c < T; c++)
                    qk[c] = 0.0f;
                continue;
            }
            double sum = 0.0;
            for (int64_t c = 0; c < T; c++) {
                s[c] = expf(s[c] - mx);
                sum += s[c];
            }
            float inv = (float)(1.0 / sum);
            for (int64_t c = 0; c < T; c++) {
                float p = s[c] * inv;
                if (qk && j->mode == 3)
                    qk[c] = p;
                if (p == 0.0f)
                    continue;
                const float *v = vb + c * j->dv;
                for (int64_t d = 0; d < j->dv; d++)
                    y[d] += p * v[d];
            }
        }
    }
}

/* Copies a K or V input (3-D [b, s, heads*d] or 4-D [b, heads, s, d]) after `past` rows of the
 * present buffer [b, heads, total, d]. */
static void fill_present(float *dst, const float *past, const float *x, int x3d, int64_t batch,
                         int64_t heads, int64_t np, int64_t ns, int64_t d)
{
    int64_t total = np + ns;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t h = 0; h < heads; h++) {
            float *o = dst + (b * heads + h) * total * d;
            if (np)
                memcpy(o, past + (b * heads + h) * np * d, (size_t)(np * d) * sizeof *o);
            for (int64_t s = 0; s < ns; s++) {
                const float *src =
                    x3d ? x + ((b * ns + s) * heads + h) * d : x + ((b * heads + h) * ns + s) * d;
                memcpy(o + (np + s) * d, src, (size_t)d * sizeof *o);
            }
        }
}

typedef struct att_views {
    float *scratch[6];
    float *pk, *pv, *scores, *y, *qk;
    int64_t *nonpad;
} att_views;

static void views_free(att_views *v)
{
    for (int i = 0; i < 6; i++)
        free(v->scratch[i]);
    free(v->pk);
    free(v->pv);
    free(v->scores);
    free(v->y);
    free(v->qk);
    free(v->nonpad);
}

static aglm_status shape_error(const char *what, const aglm_tensor *t, const char *expect)
{
    char s[64];
    return aglm_error(AGLM_ERR_SHAPE, "input %s has shape %s; %s", what, cpu_shape(t, s, sizeof s),
                      expect);
}

/* Reads the dims of Q, K, V, past_key and past_value into j, checking that they agree. */
static aglm_status att_shapes(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                              att_job *j)
{
    const aglm_tensor *q = in[0], *kk = in[1], *v = in[2];
    if ((q->rank != 3 && q->rank != 4) || kk->rank != q->rank || v->rank != q->rank)
        return shape_error("Q", q, "Q, K and V must all be 3-D or all 4-D");
    j->q3d = q->rank == 3;
    j->batch = q->dims[0];
    if (kk->dims[0] != j->batch || v->dims[0] != j->batch)
        return shape_error("K", kk, "its batch differs from Q's");
    if (j->q3d) {
        j->qh = aglm_node_get_int(k->node, "q_num_heads", 0);
        j->kvh = aglm_node_get_int(k->node, "kv_num_heads", 0);
        if (j->qh <= 0 || j->kvh <= 0)
            return aglm_error(AGLM_ERR_INVALID,
                              "3-D inputs need attributes q_num_heads and kv_num_heads");
        if (q->dims[2] % j->qh || kk->dims[2] % j->kvh || v->dims[2] % j->kvh)
            return shape_error("Q", q, "hidden sizes must divide by the head counts");
        j->sq = q->dims[1];
        j->skv = kk->dims[1];
        j->dk = q->dims[2] / j->qh;
        j->dv = v->dims[2] / j->kvh;
        if (kk->dims[2] / j->kvh != j->dk)
            return shape_error("K", kk, "its head size differs from Q's");
        if (v->dims[1] != j->skv)
            return shape_error("V", v, "its sequence length differs from K's");
    } else {
        j->qh = q->dims[1];
        j->kvh = kk->dims[1];
        j->sq = q->dims[2];
        j->skv = kk->dims[2];
        j->dk = q->dims[3];
        j->dv = v->dims[3];
        if (kk->dims[3] != j->dk)
            return shape_error("K", kk, "its head size differs from Q's");
        if (v->dims[1] != j->kvh || v->dims[2] != j->skv)
            return shape_error("V", v, "its heads or sequence length differ from K's");
    }
    if (j->kvh <= 0 || j->qh % j->kvh)
        return aglm_error(AGLM_ERR_SHAPE, "%lld query heads cannot share %lld key/value heads",
                          (long long)j->qh, (long long)j->kvh);
    const aglm_tensor *pk = n_in > 4 ? in[4] : NULL, *pv = n_in > 5 ? in[5] : NULL;
    if ((pk == NULL) != (pv == NULL))
        return aglm_error(AGLM_ERR_INVALID, "past_key and past_value must be given together");
    if (pk) {
        if (pk->rank != 4 || pk->dims[0] != j->batch || pk->dims[1] != j->kvh ||
            pk->dims[3] != j->dk)
            return shape_error("past_key", pk, "expected [batch, kv_num_heads, past, head_size]");
        if (pv->rank != 4 || pv->dims[0] != j->batch || pv->dims[1] != j->kvh ||
            pv->dims[2] != pk->dims[2] || pv->dims[3] != j->dv)
            return shape_error("past_value", pv,
                               "expected [batch, kv_num_heads, past, v_head_size]");
        j->past = pk->dims[2];
    }
    j->total = j->past + j->skv;
    return AGLM_OK;
}

static aglm_status att_mask(size_t n_in, const aglm_tensor *const *in, att_job *j, att_views *v)
{
    const aglm_tensor *m = n_in > 3 ? in[3] : NULL;
    if (m) {
        if (m->rank < 2 || m->rank > 4)
            return shape_error("attn_mask", m, "expected 2 to 4 dims");
        for (int d = 0; d < 4; d++)
            j->mdims[d] = d < 4 - m->rank ? 1 : m->dims[d - (4 - m->rank)];
        int64_t want[3] = {j->batch, j->qh, j->sq};
        for (int d = 0; d < 3; d++)
            if (j->mdims[d] != 1 && j->mdims[d] != want[d])
                return shape_error(
                    "attn_mask", m,
                    "it does not broadcast to [batch, q_num_heads, q_seq, total_seq]");
        if (j->mdims[3] > j->total)
            return shape_error("attn_mask", m, "its last dim is longer than the total sequence");
        if (m->dtype == AGLM_BOOL)
            j->bmask = m->data;
        else if (!(j->mask = cpu_f32_view(m, &v->scratch[3])))
            return AGLM_ERR_TYPE;
    }
    const aglm_tensor *np = n_in > 6 ? in[6] : NULL;
    if (np) {
        size_t count;
        v->nonpad = malloc((size_t)(j->batch > 0 ? j->batch : 1) * sizeof *v->nonpad);
        if (!v->nonpad)
            return aglm_error(AGLM_ERR_NOMEM, "out of memory");
        aglm_status st = cpu_read_ints(np, "nonpad_kv_seqlen", v->nonpad, (size_t)j->batch, &count);
        if (st != AGLM_OK)
            return st;
        if ((int64_t)count != j->batch)
            return shape_error("nonpad_kv_seqlen", np, "expected one length per batch entry");
        j->nonpad = v->nonpad;
    }
    return AGLM_OK;
}

static aglm_status k_attention(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, aglm_tensor *out)
{
    att_job j;
    memset(&j, 0, sizeof j);
    att_views v;
    memset(&v, 0, sizeof v);
    aglm_status st = att_shapes(k, n_in, in, &j);
    for (int i = 1; st == AGLM_OK && i < 6; i++)
        if (i != 3 && (size_t)i < n_in && in[i] && in[i]->dtype != in[0]->dtype)
            st = aglm_error(AGLM_ERR_TYPE, "input %d is %s but Q is %s", i,
                            aglm_dtype_name(in[i]->dtype), aglm_dtype_name(in[0]->dtype));
    if (st == AGLM_OK)
        st = att_mask(n_in, in, &j, &v);
    const float *f[6] = {NULL};
    for (int i = 0; st == AGLM_OK && i < 6; i++)
        if (i != 3 && (size_t)i < n_in && in[i] && !(f[i] = cpu_f32_view(in[i], &v.scratch[i])))
            st = AGLM_ERR_TYPE;
    if (st != AGLM_OK) {
        views_free(&v);
        return st;
    }
    j.q = f[0];
    j.causal = aglm_node_get_int(k->node, "is_causal", 0) != 0;
    j.softcap = aglm_node_get_float(k->node, "softcap", 0.0f);
    j.mode = (int)aglm_node_get_int(k->node, "qk_matmul_output_mode", 0);
    j.scale = aglm_node_attr(k->node, "scale") ? aglm_node_get_float(k->node, "scale", 1.0f)
                                               : (float)(1.0 / sqrt((double)j.dk));
    if (j.mode < 0 || j.mode > 3) {
        views_free(&v);
        return aglm_error(AGLM_ERR_INVALID, "attribute qk_matmul_output_mode = %d: expected 0 to 3",
                          j.mode);
    }
    size_t heads = (size_t)(j.batch * j.qh);
    v.pk = malloc((size_t)(j.batch * j.kvh * j.total * j.dk + 1) * sizeof(float));
    v.pv = malloc((size_t)(j.batch * j.kvh * j.total * j.dv + 1) * sizeof(float));
    v.scores = malloc((heads * (size_t)j.total + 1) * sizeof(float));
    v.y = malloc((size_t)(j.batch * j.qh * j.sq * j.dv + 1) * sizeof(float));
    if (n_out > 3)
        v.qk = calloc((size_t)(j.batch * j.qh * j.sq * j.total + 1), sizeof(float));
    if (!v.pk || !v.pv || !v.scores || !v.y || (n_out > 3 && !v.qk)) {
        views_free(&v);
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    }
    fill_present(v.pk, f[4], f[1], j.q3d, j.batch, j.kvh, j.past, j.skv, j.dk);
    fill_present(v.pv, f[5], f[2], j.q3d, j.batch, j.kvh, j.past, j.skv, j.dv);
    j.pk = v.pk;
    j.pv = v.pv;
    j.scores = v.scores;
    j.y = v.y;
    j.qk = v.qk;
    cpu_parallel_for(k->pool, heads, 1, attend, &j);

    aglm_dtype dt = in[0]->dtype;
    int64_t ydims4[4] = {j.batch, j.qh, j.sq, j.dv}, ydims3[3] = {j.batch, j.sq, j.qh * j.dv};
    st = j.q3d ? cpu_alloc(k, &out[0], dt, 3, ydims3) : cpu_alloc(k, &out[0], dt, 4, ydims4);
    if (st == AGLM_OK)
        cpu_f32_store(&out[0], v.y);
    if (st == AGLM_OK && n_out > 1 &&
        (st = cpu_alloc(k, &out[1], dt, 4, (int64_t[]){j.batch, j.kvh, j.total, j.dk})) == AGLM_OK)
        cpu_f32_store(&out[1], v.pk);
    if (st == AGLM_OK && n_out > 2 &&
        (st = cpu_alloc(k, &out[2], dt, 4, (int64_t[]){j.batch, j.kvh, j.total, j.dv})) == AGLM_OK)
        cpu_f32_store(&out[2], v.pv);
    if (st == AGLM_OK && n_out > 3 &&
        (st = cpu_alloc(k, &out[3], dt, 4, (int64_t[]){j.batch, j.qh, j.sq, j.total})) == AGLM_OK)
        cpu_f32_store(&out[3], v.qk);
    views_free(&v);
    return st;
}

/* ---- RotaryEmbedding --------------------------------------------------------------------- */

static aglm_status k_rotary(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    const aglm_tensor *x = in[0], *cosc = in[1], *sinc = in[2], *pos = n_in > 3 ? in[3] : NULL;
    char s[64];
    int64_t batch, seq, heads, d;
    if (x->rank == 4) {
        batch = x->dims[0], heads = x->dims[1], seq = x->dims[2], d = x->dims[3];
    } else if (x->rank == 3) {
        heads = aglm_node_get_int(k->node, "num_heads", 0);
        if (heads <= 0 || x->dims[2] % heads)
            return aglm_error(AGLM_ERR_INVALID,
                              "3-D input X %s needs attribute num_heads dividing its last dim",
                              cpu_shape(x, s, sizeof s));
        batch = x->dims[0], seq = x->dims[1], d = x->dims[2] / heads;
    } else {
        return shape_error("X", x, "expected 3 or 4 dims");
    }
    int64_t rd = aglm_node_get_int(k->node, "rotary_embedding_dim", 0);
    if (rd <= 0)
        rd = d;
    if (rd > d || rd % 2)
        return aglm_error(AGLM_ERR_INVALID,
                          "attribute rotary_embedding_dim = %lld must be even and at most the "
                          "head size %lld",
                          (long long)rd, (long long)d);
    int64_t half = rd / 2, interleaved = aglm_node_get_int(k->node, "interleaved", 0);
    if (!aglm_tensor_same_shape(cosc, sinc))
        return shape_error("sin_cache", sinc, "it differs from cos_cache");
    int64_t row = cosc->rank > 0 ? cosc->dims[cosc->rank - 1] : 0;
    if (row < half)
        return shape_error("cos_cache", cosc,
                           "its last dim is shorter than rotary_embedding_dim / 2");
    int64_t *ids = NULL;
    if (pos) {
        if (cosc->rank != 2)
            return shape_error("cos_cache", cosc,
                               "with position_ids it must be [max_position, dim / 2]");
        if (pos->rank != 2 || pos->dims[0] != batch || pos->dims[1] != seq)
            return shape_error("position_ids", pos, "expected [batch, sequence]");
        if (pos->dtype != AGLM_I64 && pos->dtype != AGLM_I32)
            return aglm_error(AGLM_ERR_TYPE, "position_ids is %s; expected i64",
                              aglm_dtype_name(pos->dtype));
        ids = malloc((size_t)(batch * seq + 1) * sizeof *ids);
        aglm_status st = ids ? AGLM_OK : aglm_error(AGLM_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; ids && i < batch * seq; i++)
            ids[i] = cpu_get_i(pos->data, pos->dtype, i);
        for (int64_t i = 0; st == AGLM_OK && i < batch * seq; i++)
            if (ids[i] < 0 || ids[i] >= cosc->dims[0])
                st = aglm_error(AGLM_ERR_INVALID,
                                "position_ids holds %lld, outside the cache's %lld positions",
                                (long long)ids[i], (long long)cosc->dims[0]);
        if (st != AGLM_OK) {
            free(ids);
            return st;
        }
    } else if (!(cosc->rank == 3 && cosc->dims[0] == batch && cosc->dims[1] == seq) &&
               !(cosc->rank == 2 && cosc->dims[0] == seq)) {
        return shape_error("cos_cache", cosc,
                           "without position_ids it must be [batch, sequence, dim / 2]");
    }
    float *sx = NULL, *sc = NULL, *ss = NULL;
    const float *xf = cpu_f32_view(x, &sx), *cf = xf ? cpu_f32_view(cosc, &sc) : NULL,
                *sf = cf ? cpu_f32_view(sinc, &ss) : NULL;
    float *y = sf ? malloc((size_t)(aglm_tensor_numel(x) + 1) * sizeof *y) : NULL;
    aglm_status st = !sf  ? AGLM_ERR_TYPE
                     : !y ? aglm_error(AGLM_ERR_NOMEM, "out of memory")
                          : cpu_alloc(k, &out[0], x->dtype, x->rank, x->dims);
    if (st == AGLM_OK) {
        for (int64_t b = 0; b < batch; b++)
            for (int64_t t = 0; t < seq; t++) {
                int64_t crow = ids ? ids[b * seq + t] : cosc->rank == 3 ? b * seq + t : t;
                const float *cv = cf + crow * row, *sv = sf + crow * row;
                for (int64_t h = 0; h < heads; h++) {
                    int64_t off = x->rank == 4 ? ((b * heads + h) * seq + t) * d
                                               : ((b * seq + t) * heads + h) * d;
                    const float *xi = xf + off;
                    float *yo = y + off;
                    for (int64_t i = 0; i < half; i++) {
                        int64_t i1 = interleaved ? 2 * i : i,
                                i2 = interleaved ? 2 * i + 1 : i + half;
                        yo[i1] = cv[i] * xi[i1] - sv[i] * xi[i2];
                        yo[i2] = sv[i] * xi[i1] + cv[i] * xi[i2];
                    }
                    for (int64_t i = rd; i < d; i++)
                        yo[i] = xi[i];
                }
            }
        cpu_f32_store(&out[0], y);
    }
    free(y);
    free(sx);
    free(sc);
    free(ss);
    free(ids);
    return st;
}

/* ---- FlexAttention (ai.onnx.preview) ------------------------------------------------------ */

/* Runs the node's optional one-in, one-out graph attribute `attr` on *t (a tensor of dtype cd
 * holding buf's values) and reads the result back into buf, which must keep t's element count. */
static aglm_status flex_mod(const cpu_kctx *k, const char *attr, aglm_tensor *t, float *buf)
{
    if (!aglm_node_attr(k->node, attr))
        return AGLM_OK;
    const cpu_sub *sub = cpu_sub_find(k, attr);
    if (!sub)
        return AGLM_ERR_INVALID;
    cpu_f32_store(t, buf);
    aglm_tensor res;
    aglm_status st = cpu_sub_run(k, sub, 1, t, 1, &res);
    if (st != AGLM_OK)
        return st;
    float *scratch = NULL;
    const float *r = NULL;
    if (aglm_tensor_numel(&res) != aglm_tensor_numel(t)) {
        char a[64], b[64];
        st = aglm_error(AGLM_ERR_SHAPE, "%s gave shape %s for scores of shape %s", attr,
                        cpu_shape(&res, a, sizeof a), cpu_shape(t, b, sizeof b));
    } else if (!(r = cpu_f32_view(&res, &scratch))) {
        st = AGLM_ERR_TYPE;
    } else {
        memcpy(buf, r, (size_t)aglm_tensor_numel(t) * sizeof *buf);
    }
    free(scratch);
    aglm_tensor_free(&res);
    return st;
}

/* The dtype scores and probabilities take when handed to score_mod and prob_mod: the
 * softmax_precision attribute, else f32 for half types and the input's own dtype otherwise. */
static aglm_dtype flex_compute_dtype(const cpu_kctx *k, aglm_dtype in)
{
    int64_t p = aglm_node_get_int(k->node, "softmax_precision", 0);
    if (p == AGLM_F32 || p == AGLM_F16 || p == AGLM_F64)
        return (aglm_dtype)p;
    return in == AGLM_F64 ? AGLM_F64 : AGLM_F32;
}

static aglm_status k_flex_attention(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                    size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const aglm_tensor *q = in[0], *kk = in[1], *v = in[2];
    if (q->rank != 4 || kk->rank != 4 || v->rank != 4)
        return shape_error("Q", q, "Q, K and V must be 4-D");
    int64_t B = q->dims[0], HQ = q->dims[1], L = q->dims[2], E = q->dims[3];
    int64_t HKV = kk->dims[1], S = kk->dims[2], EV = v->dims[3];
    if (kk->dims[0] != B || v->dims[0] != B || kk->dims[3] != E || v->dims[1] != HKV ||
        v->dims[2] != S)
        return shape_error(
            "K", kk,
            "K and V must match Q's batch and head size and each other's heads and length");
    if (HKV <= 0 || HQ % HKV)
        return aglm_error(AGLM_ERR_SHAPE, "%lld query heads cannot share %lld key/value heads",
                          (long long)HQ, (long long)HKV);
    float scale = aglm_node_attr(k->node, "scale") ? aglm_node_get_float(k->node, "scale", 1.0f)
                                                   : (float)(1.0 / sqrt((double)E));
    float *scratch[3] = {NULL};
    const float *f[3] = {NULL};
    aglm_status st = AGLM_OK;
    for (int i = 0; i < 3; i++)
        if (!(f[i] = cpu_f32_view(in[i], &scratch[i])))
            st = AGLM_ERR_TYPE;
    int64_t rows = B * HQ * L, reps = HQ / HKV;
    float *sc = malloc((size_t)(rows * S + 1) * sizeof *sc),
          *y = calloc((size_t)(rows * EV + 1), sizeof *y);
    aglm_tensor t;
    memset(&t, 0, sizeof t);
    if (st == AGLM_OK && (!sc || !y))
        st = aglm_error(AGLM_ERR_NOMEM, "out of memory");
    if (st == AGLM_OK)
        st = cpu_alloc(k, &t, flex_compute_dtype(k, q->dtype), 4, (int64_t[]){B, HQ, L, S});
    for (int64_t r = 0; st == AGLM_OK && r < rows; r++) {
        int64_t b = r / (HQ * L), h = r / L % HQ;
        const float *qr = f[0] + r * E, *kb = f[1] + (b * HKV + h / reps) * S * E;
        for (int64_t j = 0; j < S; j++) {
            double dot = 0;
            for (int64_t d = 0; d < E; d++)
                dot += (double)qr[d] * kb[j * E + d];
            sc[r * S + j] = (float)(dot * scale);
        }
    }
    if (st == AGLM_OK)
        st = flex_mod(k, "score_mod", &t, sc);
    for (int64_t r = 0; st == AGLM_OK && r < rows; r++) {
        float *row = sc + r * S, mx = -INFINITY;
        for (int64_t j = 0; j < S; j++)
            mx = row[j] > mx ? row[j] : mx;
        double sum = 0;
        for (int64_t j = 0; j < S; j++)
            sum += row[j] = expf(row[j] - mx);
        for (int64_t j = 0; j < S; j++)
            row[j] = (float)(row[j] / sum);
    }
    if (st == AGLM_OK)
        st = flex_mod(k, "prob_mod", &t, sc);
    for (int64_t r = 0; st == AGLM_OK && r < rows; r++) {
        int64_t b = r / (HQ * L), h = r / L % HQ;
        const float *vb = f[2] + (b * HKV + h / reps) * S * EV;
        for (int64_t j = 0; j < S; j++)
            for (int64_t d = 0; d < EV; d++)
                y[r * EV + d] += sc[r * S + j] * vb[j * EV + d];
    }
    if (st == AGLM_OK &&
        (st = cpu_alloc(k, &out[0], v->dtype, 4, (int64_t[]){B, HQ, L, EV})) == AGLM_OK)
        cpu_f32_store(&out[0], y);
    aglm_tensor_free(&t);
    for (int i = 0; i < 3; i++)
        free(scratch[i]);
    free(sc);
    free(y);
    return st;
}

const cpu_kernel cpu_preview_kernels[] = {
    {"FlexAttention", ATT_FLOATS, k_flex_attention},
    {NULL, 0, NULL},
};

const cpu_kernel cpu_attention_kernels[] = {
    {"Attention", ATT_FLOATS, k_attention},
    {"RotaryEmbedding", ATT_FLOATS, k_rotary},
    {NULL, 0, NULL},
};
