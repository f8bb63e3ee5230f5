/* Element-wise rules: unary ops keep their input's type; binary and variadic ops broadcast
 * (NumPy rules) and, where ONNX's type constraint says so, need equal input types. */
#include "infer_internal.h"

/* Relu, Neg, Abs, Identity, ...: output = input. */
static aglm_status unary(infer_ctx *c)
{
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* Sigmoid, Exp, Log, ...: defined on float types only. */
static aglm_status unary_float(infer_ctx *c)
{
    aglm_status st = infer_need_float(c, 0);
    if (st != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* IsNaN, IsInf: same shape, bool. */
static aglm_status unary_predicate(infer_ctx *c)
{
    infer_type t = c->in[0];
    t.dtype = AGLM_BOOL;
    infer_set_out(c, 0, &t);
    return AGLM_OK;
}

static aglm_status need_bool(const infer_ctx *c, size_t i)
{
    if (!infer_has_in(c, i) || c->in[i].dtype == AGLM_UNDEFINED || c->in[i].dtype == AGLM_BOOL)
        return AGLM_OK;
    char s[128];
    return infer_err(c, AGLM_ERR_TYPE, "expects a bool input %zu, got %s", i,
                     infer_type_str(&c->in[i], s, sizeof s));
}

static aglm_status unary_not(infer_ctx *c)
{
    aglm_status st = need_bool(c, 0);
    if (st != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* Broadcasts every present input; all of the same dtype when `same` is set. */
static aglm_status broadcast_all(infer_ctx *c, int same, infer_type *out)
{
    aglm_status st = AGLM_OK;
    size_t first = c->n_in;
    for (size_t i = 0; i < c->n_in; i++) {
        if (!infer_has_in(c, i))
            continue;
        if (first == c->n_in) {
            first = i;
            *out = c->in[i];
            continue;
        }
        if (same && (st = infer_same_dtype(c, first, i)) != AGLM_OK)
            return st;
        infer_type r;
        if ((st = infer_broadcast(c, out, &c->in[i], &r)) != AGLM_OK)
            return st;
        if (r.dtype == AGLM_UNDEFINED)
            r.dtype = c->in[i].dtype;
        *out = r;
    }
    return st;
}

/* Add, Sub, Mul, Div, Mod, Max, Min, Sum, Mean: equal types, broadcast. */
static aglm_status arith(infer_ctx *c)
{
    infer_type t;
    aglm_status st = broadcast_all(c, 1, &t);
    if (st == AGLM_OK)
        infer_set_out(c, 0, &t);
    return st;
}

/* Pow: from opset 12 the exponent may have its own type; the result has the base's. */
static aglm_status pow_rule(infer_ctx *c)
{
    aglm_status st;
    if (c->opset < 12 && (st = infer_same_dtype(c, 0, 1)) != AGLM_OK)
        return st;
    infer_type t;
    if ((st = infer_broadcast(c, &c->in[0], &c->in[1], &t)) != AGLM_OK)
        return st;
    t.dtype = c->in[0].dtype;
    infer_set_out(c, 0, &t);
    return AGLM_OK;
}

/* Equal, Less, Greater, ...: equal types, broadcast, bool result. */
static aglm_status compare(infer_ctx *c)
{
    infer_type t;
    aglm_status st = broadcast_all(c, 1, &t);
    if (st != AGLM_OK)
        return st;
    t.dtype = AGLM_BOOL;
    infer_set_out(c, 0, &t);
    return AGLM_OK;
}

/* And, Or, Xor: bool inputs. */
static aglm_status logical(infer_ctx *c)
{
    aglm_status st;
    if ((st = need_bool(c, 0)) != AGLM_OK || (st = need_bool(c, 1)) != AGLM_OK)
        return st;
    return compare(c);
}

/* PRelu: slope broadcasts to X; the result has X's type. */
static aglm_status prelu(infer_ctx *c)
{
    aglm_status st;
    infer_type t;
    if ((st = infer_same_dtype(c, 0, 1)) != AGLM_OK ||
        (st = infer_broadcast(c, &c->in[0], &c->in[1], &t)) != AGLM_OK)
        return st;
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* Where(cond, X, Y): bool condition, X and Y of one type, all three broadcast. */
static aglm_status where(infer_ctx *c)
{
    aglm_status st;
    if ((st = need_bool(c, 0)) != AGLM_OK || (st = infer_same_dtype(c, 1, 2)) != AGLM_OK)
        return st;
    infer_type t, r;
    if ((st = infer_broadcast(c, &c->in[1], &c->in[2], &t)) != AGLM_OK ||
        (st = infer_broadcast(c, &c->in[0], &t, &r)) != AGLM_OK)
        return st;
    r.dtype = c->in[1].dtype != AGLM_UNDEFINED ? c->in[1].dtype : c->in[2].dtype;
    infer_set_out(c, 0, &r);
    return AGLM_OK;
}

/* Clip: min and max are attributes before opset 11, optional inputs of the input's type after. */
static aglm_status clip(infer_ctx *c)
{
    aglm_status st;
    if ((st = infer_same_dtype(c, 0, 1)) != AGLM_OK || (st = infer_same_dtype(c, 0, 2)) != AGLM_OK)
        return st;
    for (size_t i = 1; i < 3; i++) {
        const infer_type *t = &c->in[i];
        if (!infer_has_in(c, i) || t->rank < 0)
            continue;
        aglm_dim n = infer_dims_product(t->dims, t->rank);
        if (t->rank > 1 || (infer_dim_is_static(n) && n.value != 1)) {
            char s[128];
            return infer_err(c, AGLM_ERR_SHAPE, "%s must be a scalar, got %s",
                             i == 1 ? "min" : "max", infer_type_str(t, s, sizeof s));
        }
    }
    infer_out_like(c, 0, 0);
    return AGLM_OK;
}

/* Dropout: output 0 is the input; the optional mask is bool from opset 10 (the input's type
 * before). */
static aglm_status dropout(infer_ctx *c)
{
    infer_out_like(c, 0, 0);
    infer_type mask = c->in[0];
    if (c->opset >= 10)
        mask.dtype = AGLM_BOOL;
    infer_set_out(c, 1, &mask);
    return AGLM_OK;
}

static int castable(aglm_dtype dt)
{
    return dt != AGLM_STRING && aglm_dtype_size(dt) > 0;
}

/* Cast: the shape stays; the dtype is attribute `to`. */
static aglm_status cast(infer_ctx *c)
{
    if (!aglm_node_attr(c->node, "to"))
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'to' is missing");
    int64_t to = aglm_node_get_int(c->node, "to", 0);
    if (to < 0 || to > 64 || !castable((aglm_dtype)to))
        return infer_err(c, AGLM_ERR_UNSUPPORTED, "cannot cast to dtype %lld", (long long)to);
    infer_type t = c->in[0];
    t.dtype = (aglm_dtype)to;
    infer_set_out(c, 0, &t);
    return AGLM_OK;
}

/* BitCast (opset 26): the shape stays; the dtype is attribute `to`, of the input's width. */
static aglm_status bit_cast(infer_ctx *c)
{
    if (!aglm_node_attr(c->node, "to"))
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'to' is missing");
    int64_t to = aglm_node_get_int(c->node, "to", 0);
    if (to < 0 || to > 64 || !castable((aglm_dtype)to))
        return infer_err(c, AGLM_ERR_UNSUPPORTED, "cannot bitcast to dtype %lld", (long long)to);
    aglm_dtype from = c->in[0].dtype;
    if (from != AGLM_UNDEFINED && aglm_dtype_size(from) != aglm_dtype_size((aglm_dtype)to))
        return infer_err(c, AGLM_ERR_TYPE, "cannot bitcast %s to %s: the element widths differ",
                         aglm_dtype_name(from), aglm_dtype_name((aglm_dtype)to));
    infer_type t = c->in[0];
    t.dtype = (aglm_dtype)to;
    infer_set_out(c, 0, &t);
    return AGLM_OK;
}

/* CastLike: the shape of input 0, the dtype of input 1. */
static aglm_status cast_like(infer_ctx *c)
{
    infer_type t = c->in[0];
    t.dtype = c->in[1].dtype;
    infer_set_out(c, 0, &t);
    return AGLM_OK;
}

/* QuantizeLinear: the zero point's dtype, else output_dtype (opset 21), else u8. */
static aglm_status quantize(infer_ctx *c)
{
    infer_type y = c->in[0];
    int64_t od = aglm_node_get_int(c->node, "output_dtype", 0);
    if (infer_has_in(c, 2) && c->in[2].dtype != AGLM_UNDEFINED)
        y.dtype = c->in[2].dtype;
    else if (od > 0 && od <= 64 && castable((aglm_dtype)od))
        y.dtype = (aglm_dtype)od;
    else
        y.dtype = AGLM_U8;
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

/* DequantizeLinear: the scale's dtype (f32 before opset 19 allowed others). */
static aglm_status dequantize(infer_ctx *c)
{
    aglm_status st = infer_same_dtype(c, 0, 2);
    if (st != AGLM_OK)
        return st;
    infer_type y = c->in[0];
    y.dtype = c->in[1].dtype != AGLM_UNDEFINED ? c->in[1].dtype : AGLM_F32;
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

#define UNARY(name)                                                                                \
    {                                                                                              \
        name, unary                                                                                \
    }
#define UNARY_FLOAT(name)                                                                          \
    {                                                                                              \
        name, unary_float                                                                          \
    }

const infer_rule infer_rules_elementwise[] = {
    UNARY("Identity"),
    UNARY("Relu"),
    UNARY("Neg"),
    UNARY("Abs"),
    UNARY("Sign"),
    UNARY("Erf"),
    UNARY("BitwiseNot"),
    UNARY("Shrink"),
    UNARY_FLOAT("Sigmoid"),
    UNARY_FLOAT("Tanh"),
    UNARY_FLOAT("Exp"),
    UNARY_FLOAT("Log"),
    UNARY_FLOAT("Sqrt"),
    UNARY_FLOAT("Reciprocal"),
    UNARY_FLOAT("Floor"),
    UNARY_FLOAT("Ceil"),
    UNARY_FLOAT("Round"),
    UNARY_FLOAT("Sin"),
    UNARY_FLOAT("Cos"),
    UNARY_FLOAT("Tan"),
    UNARY_FLOAT("Asin"),
    UNARY_FLOAT("Acos"),
    UNARY_FLOAT("Atan"),
    UNARY_FLOAT("Sinh"),
    UNARY_FLOAT("Cosh"),
    UNARY_FLOAT("Asinh"),
    UNARY_FLOAT("Acosh"),
    UNARY_FLOAT("Atanh"),
    UNARY_FLOAT("LeakyRelu"),
    UNARY_FLOAT("Elu"),
    UNARY_FLOAT("Selu"),
    UNARY_FLOAT("Celu"),
    UNARY_FLOAT("ThresholdedRelu"),
    UNARY_FLOAT("HardSigmoid"),
    UNARY_FLOAT("HardSwish"),
    UNARY_FLOAT("Softplus"),
    UNARY_FLOAT("Softsign"),
    UNARY_FLOAT("Mish"),
    UNARY_FLOAT("Gelu"),
    UNARY_FLOAT("Swish"),
    {"IsNaN", unary_predicate},
    {"IsInf", unary_predicate},
    {"Not", unary_not},
    {"Add", arith},
    {"Sub", arith},
    {"Mul", arith},
    {"Div", arith},
    {"Mod", arith},
    {"BitwiseAnd", arith},
    {"BitwiseOr", arith},
    {"BitwiseXor", arith},
    {"BitShift", arith},
    {"Max", arith},
    {"Min", arith},
    {"Sum", arith},
    {"Mean", arith},
    {"Pow", pow_rule},
    {"Equal", compare},
    {"Less", compare},
    {"Greater", compare},
    {"LessOrEqual", compare},
    {"GreaterOrEqual", compare},
    {"And", logical},
    {"Or", logical},
    {"Xor", logical},
    {"PRelu", prelu},
    {"Where", where},
    {"Clip", clip},
    {"Dropout", dropout},
    {"Cast", cast},
    {"CastLike", cast_like},
    {"BitCast", bit_cast},
    {"QuantizeLinear", quantize},
    {"DequantizeLinear", dequantize},
    {NULL, NULL},
};
