/* Sequence models: the recurrent ops (RNN, GRU, LSTM), Attention, RotaryEmbedding, and the
 * stateful mixer LinearAttention. */
#include <string.h>
#include "infer_internal.h"

/* A dim known to be a * b (static when both are), or unknown. */
static aglm_dim dim_mul(aglm_dim a, int64_t b)
{
    if (infer_dim_is_static(a) && b >= 0)
        return infer_dim_static(a.value * b);
    return b == 1 ? a : infer_dim_unknown();
}

/* a / b when a is static and divisible, else unknown. */
static aglm_dim dim_div(aglm_dim a, int64_t b)
{
    if (infer_dim_is_static(a) && b > 0 && a.value % b == 0)
        return infer_dim_static(a.value / b);
    return infer_dim_unknown();
}

/* ---- RNN, GRU, LSTM ---------------------------------------------------------------------- */

static aglm_status recurrent_rule(infer_ctx *c, int gates)
{
    aglm_status st;
    if ((st = infer_need_float(c, 0)) != AGLM_OK ||
        (st = infer_need_rank(c, 0, 3, "X")) != AGLM_OK ||
        (st = infer_need_rank(c, 1, 3, "W")) != AGLM_OK ||
        (st = infer_need_rank(c, 2, 3, "R")) != AGLM_OK ||
        (st = infer_same_dtype(c, 0, 1)) != AGLM_OK || (st = infer_same_dtype(c, 0, 2)) != AGLM_OK)
        return st;
    const char *dir = aglm_node_get_string(c->node, "direction", "forward");
    int64_t nd;
    if (strcmp(dir, "bidirectional") == 0)
        nd = 2;
    else if (strcmp(dir, "forward") == 0 || strcmp(dir, "reverse") == 0)
        nd = 1;
    else
        return infer_err(c, AGLM_ERR_INVALID,
                         "attribute direction = '%s': expected forward, reverse or "
                         "bidirectional",
                         dir);
    int64_t layout = aglm_node_get_int(c->node, "layout", 0);
    if (layout != 0 && layout != 1)
        return infer_err(c, AGLM_ERR_INVALID, "attribute layout = %lld: expected 0 or 1",
                         (long long)layout);
    aglm_dim hidden = infer_dim_unknown();
    int64_t hs = aglm_node_get_int(c->node, "hidden_size", -1);
    if (hs > 0)
        hidden = infer_dim_static(hs);
    else if (c->in[2].rank == 3)
        hidden = c->in[2].dims[2];
    else if (c->in[1].rank == 3)
        hidden = dim_div(c->in[1].dims[1], gates);
    const infer_type *x = &c->in[0];
    aglm_dim seq = infer_dim_unknown(), batch = infer_dim_unknown();
    if (x->rank == 3) {
        seq = x->dims[layout ? 1 : 0];
        batch = x->dims[layout ? 0 : 1];
    }
    infer_type y, s;
    y.dtype = s.dtype = x->dtype;
    y.rank = 4;
    s.rank = 3;
    if (layout) {
        y.dims[0] = batch, y.dims[1] = seq, y.dims[2] = infer_dim_static(nd), y.dims[3] = hidden;
        s.dims[0] = batch, s.dims[1] = infer_dim_static(nd), s.dims[2] = hidden;
    } else {
        y.dims[0] = seq, y.dims[1] = infer_dim_static(nd), y.dims[2] = batch, y.dims[3] = hidden;
        s.dims[0] = infer_dim_static(nd), s.dims[1] = batch, s.dims[2] = hidden;
    }
    infer_set_out(c, 0, &y);
    infer_set_out(c, 1, &s);
    infer_set_out(c, 2, &s);
    return AGLM_OK;
}

static aglm_status rnn_rule(infer_ctx *c)
{
    return recurrent_rule(c, 1);
}
static aglm_status gru_rule(infer_ctx *c)
{
    return recurrent_rule(c, 3);
}
static aglm_status lstm_rule(infer_ctx *c)
{
    return recurrent_rule(c, 4);
}

/* ---- Attention --------------------------------------------------------------------------- */

/* Heads, sequence length and head size of a Q/K/V input (3-D inputs use `heads`). */
static void split_heads(const infer_type *t, int64_t heads, aglm_dim *h, aglm_dim *seq,
                        aglm_dim *size)
{
    *h = *seq = *size = infer_dim_unknown();
    if (t->rank == 4) {
        *h = t->dims[1], *seq = t->dims[2], *size = t->dims[3];
    } else if (t->rank == 3) {
        *seq = t->dims[1];
        if (heads > 0) {
            *h = infer_dim_static(heads);
            *size = dim_div(t->dims[2], heads);
        }
    }
}

static aglm_status attention_rule(infer_ctx *c)
{
    aglm_status st;
    if ((st = infer_need_float(c, 0)) != AGLM_OK || (st = infer_same_dtype(c, 0, 1)) != AGLM_OK ||
        (st = infer_same_dtype(c, 0, 2)) != AGLM_OK)
        return st;
    const infer_type *q = &c->in[0], *k = &c->in[1], *v = &c->in[2];
    for (int i = 0; i < 3; i++)
        if (c->in[i].rank >= 0 && c->in[i].rank != 3 && c->in[i].rank != 4) {
            char s[128];
            return infer_err(c, AGLM_ERR_SHAPE, "input %d must be 3-D or 4-D, got %s", i,
                             infer_type_str(&c->in[i], s, sizeof s));
        }
    if (q->rank >= 0 &&
        ((k->rank >= 0 && k->rank != q->rank) || (v->rank >= 0 && v->rank != q->rank)))
        return infer_err(c, AGLM_ERR_SHAPE, "Q, K and V must all be 3-D or all 4-D");
    int64_t qh_attr = aglm_node_get_int(c->node, "q_num_heads", 0);
    int64_t kvh_attr = aglm_node_get_int(c->node, "kv_num_heads", 0);
    if (q->rank == 3 && (qh_attr <= 0 || kvh_attr <= 0))
        return infer_err(c, AGLM_ERR_INVALID,
                         "3-D inputs need attributes q_num_heads and kv_num_heads");
    aglm_dim qh, qs, qd, kh, ks, kd, vh, vs, vd;
    split_heads(q, qh_attr, &qh, &qs, &qd);
    split_heads(k, kvh_attr, &kh, &ks, &kd);
    split_heads(v, kvh_attr, &vh, &vs, &vd);
    aglm_dim batch = q->rank >= 3 ? q->dims[0] : infer_dim_unknown();
    aglm_dim total = infer_dim_unknown();
    if (infer_has_in(c, 4) && c->in[4].rank == 4 && infer_dim_is_static(c->in[4].dims[2]) &&
        infer_dim_is_static(ks))
        total = infer_dim_static(c->in[4].dims[2].value + ks.value);
    else if (!infer_has_in(c, 4))
        total = ks;

    infer_type y;
    infer_type_unknown(&y, q->dtype);
    if (q->rank == 4) {
        y.rank = 4;
        y.dims[0] = batch, y.dims[1] = qh, y.dims[2] = qs, y.dims[3] = vd;
    } else if (q->rank == 3) {
        y.rank = 3;
        y.dims[0] = batch, y.dims[1] = qs, y.dims[2] = dim_mul(vd, qh_attr);
    }
    infer_set_out(c, 0, &y);
    if (q->rank >= 0) {
        infer_type pk, pv, qk;
        pk.dtype = pv.dtype = qk.dtype = q->dtype;
        pk.rank = pv.rank = qk.rank = 4;
        pk.dims[0] = pv.dims[0] = qk.dims[0] = batch;
        pk.dims[1] = kh, pk.dims[2] = total, pk.dims[3] = kd;
        pv.dims[1] = vh, pv.dims[2] = total, pv.dims[3] = vd;
        qk.dims[1] = qh, qk.dims[2] = qs, qk.dims[3] = total;
        infer_set_out(c, 1, &pk);
        infer_set_out(c, 2, &pv);
        infer_set_out(c, 3, &qk);
    }
    return AGLM_OK;
}

/* RotaryEmbedding keeps X's type. */
static aglm_status rotary_rule(infer_ctx *c)
{
    aglm_status st = infer_need_float(c, 0);
    if (st == AGLM_OK && c->in[0].rank >= 0 && c->in[0].rank != 3 && c->in[0].rank != 4) {
        char s[128];
        return infer_err(c, AGLM_ERR_SHAPE, "input X must be 3-D or 4-D, got %s",
                         infer_type_str(&c->in[0], s, sizeof s));
    }
    if (st == AGLM_OK)
        infer_out_like(c, 0, 0);
    return st;
}

/* LinearAttention: output [batch, seq, q_num_heads * v_head_size] in query's dtype; present_state
 * [batch, kv_num_heads, head_size, v_head_size] in past_state's dtype (query's without one). */
static aglm_status linear_attention_rule(infer_ctx *c)
{
    aglm_status st = infer_need_float(c, 0);
    if (st != AGLM_OK)
        return st;
    int64_t hq = aglm_node_get_int(c->node, "q_num_heads", 0),
            hkv = aglm_node_get_int(c->node, "kv_num_heads", 0);
    if (hq <= 0 || hkv <= 0 || hq % hkv)
        return infer_err(c, AGLM_ERR_INVALID,
                         "attributes q_num_heads = %lld and kv_num_heads = %lld: both are "
                         "required, and q_num_heads must be a multiple of kv_num_heads",
                         (long long)hq, (long long)hkv);
    const infer_type *q = &c->in[0], *v = &c->in[2];
    infer_type y, s;
    infer_type_unknown(&y, q->dtype);
    infer_type_unknown(&s, infer_has_in(c, 3) && c->in[3].dtype != AGLM_UNDEFINED ? c->in[3].dtype
                                                                                  : q->dtype);
    if (q->rank == 3 && v->rank == 3) {
        aglm_dim dv = dim_div(v->dims[2], hkv);
        y.rank = 3;
        y.dims[0] = q->dims[0], y.dims[1] = q->dims[1], y.dims[2] = dim_mul(dv, hq);
        s.rank = 4;
        s.dims[0] = q->dims[0], s.dims[1] = infer_dim_static(hkv),
        s.dims[2] = dim_div(q->dims[2], hq), s.dims[3] = dv;
    }
    infer_set_out(c, 0, &y);
    infer_set_out(c, 1, &s);
    return AGLM_OK;
}

const infer_rule infer_rules_seq[] = {
    {"LinearAttention", linear_attention_rule},
    {"RNN", rnn_rule},
    {"GRU", gru_rule},
    {"LSTM", lstm_rule},
    {"Attention", attention_rule},
    {"RotaryEmbedding", rotary_rule},
    {NULL, NULL},
};
