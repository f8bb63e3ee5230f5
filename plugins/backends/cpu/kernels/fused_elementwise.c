/* aglm.Elementwise (docs/extension-ops.md): a run of element-wise ops as one program, applied to
 * blocks of elements that stay in a small buffer while every step runs over them, so memory is
 * read and written once; blocks run in parallel. f32. */
#include <math.h>
#include <string.h>

#include "kernels.h"

#define BLOCK 512
#define MAX_STEPS 64

enum ew_op {
    EW_RELU,
    EW_SIGMOID,
    EW_TANH,
    EW_EXP,
    EW_LOG,
    EW_ABS,
    EW_NEG,
    EW_SQRT,
    EW_RECIPROCAL,
    EW_ERF,
    EW_HARD_SWISH,
    EW_FLOOR,
    EW_CEIL,
    EW_ADD,
    EW_SUB,
    EW_MUL,
    EW_DIV,
    EW_MAX,
    EW_MIN
};

static const char *const names[] = {
    "Relu",      "Sigmoid", "Tanh", "Exp", "Log", "Abs", "Neg", "Sqrt", "Reciprocal", "Erf",
    "HardSwish", "Floor",   "Ceil", "Add", "Sub", "Mul", "Div", "Max",  "Min",
};

typedef struct step {
    enum ew_op op;
    float s;        /* the scalar operand */
    const float *t; /* the tensor operand, or NULL (scalar, or a unary op) */
    int rev;        /* op(operand, value) */
} step;

typedef struct ew_job {
    const step *steps;
    size_t n;
    const float *x;
    float *y;
    int64_t numel;
} ew_job;

static void unary(enum ew_op op, float *v, int64_t len)
{
    for (int64_t i = 0; i < len; i++) {
        float a = v[i];
        switch (op) {
        case EW_RELU: a = a > 0.0f ? a : 0.0f; break;
        case EW_SIGMOID: a = 1.0f / (1.0f + expf(-a)); break;
        case EW_TANH: a = tanhf(a); break;
        case EW_EXP: a = expf(a); break;
        case EW_LOG: a = logf(a); break;
        case EW_ABS: a = fabsf(a); break;
        case EW_NEG: a = -a; break;
        case EW_SQRT: a = sqrtf(a); break;
        case EW_RECIPROCAL: a = 1.0f / a; break;
        case EW_ERF: a = erff(a); break;
        case EW_HARD_SWISH: {
            float h = a * (1.0f / 6.0f) + 0.5f;
            a *= h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
            break;
        }
        case EW_FLOOR: a = floorf(a); break;
        case EW_CEIL: a = ceilf(a); break;
        default: break;
        }
        v[i] = a;
    }
}

static float binary(enum ew_op op, float a, float b)
{
    switch (op) {
    case EW_ADD: return a + b;
    case EW_SUB: return a - b;
    case EW_MUL: return a * b;
    case EW_DIV: return a / b;
    case EW_MAX: return a != a || a > b ? a : b; /* NaN in either propagates */
    case EW_MIN: return a != a || a < b ? a : b;
    default: return a;
    }
}

static void apply(const step *st, float *v, int64_t off, int64_t len)
{
    if (st->op < EW_ADD) {
        unary(st->op, v, len);
        return;
    }
    const float *t = st->t ? st->t + off : NULL;
    for (int64_t i = 0; i < len; i++) {
        float o = t ? t[i] : st->s;
        v[i] = st->rev ? binary(st->op, o, v[i]) : binary(st->op, v[i], o);
    }
}

static void ew_blocks(void *ctx, size_t begin, size_t end, int worker)
{
    (void)worker;
    const ew_job *j = ctx;
    float buf[BLOCK];
    for (size_t b = begin; b < end; b++) {
        int64_t off = (int64_t)b * BLOCK, len = j->numel - off < BLOCK ? j->numel - off : BLOCK;
        /* through a buffer, so y may be x (run in place) */
        memcpy(buf, j->x + off, (size_t)len * sizeof *buf);
        for (size_t s = 0; s < j->n; s++)
            apply(&j->steps[s], buf, off, len);
        memcpy(j->y + off, buf, (size_t)len * sizeof *buf);
    }
}

/* Reads the program from the node; an error says which attribute is wrong. */
static aglm_status read_program(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                step *steps, size_t *n)
{
    const aglm_attr *a = aglm_node_attr(k->node, AGLM_ATTR_OPS);
    size_t count = 0, n_operands = 0, n_scalars = 0, n_rev = 0;
    const char *const *ops =
        a && aglm_attr_kind(a) == AGLM_ATTR_STRINGS ? aglm_attr_strings(a, &count) : NULL;
    const int64_t *operands = aglm_node_get_ints(k->node, AGLM_ATTR_OPERANDS, &n_operands);
    const float *scalars = aglm_node_get_floats(k->node, AGLM_ATTR_SCALARS, &n_scalars);
    const int64_t *rev = aglm_node_get_ints(k->node, AGLM_ATTR_REVERSED, &n_rev);
    if (!ops || count == 0 || count > MAX_STEPS)
        return aglm_error(AGLM_ERR_INVALID, "attribute ops must list 1 to %d ops", MAX_STEPS);
    if (n_operands != count || n_scalars != count || n_rev != count)
        return aglm_error(AGLM_ERR_INVALID,
                          "operands (%zu), scalars (%zu) and reversed (%zu) must have one "
                          "entry per op (%zu)",
                          n_operands, n_scalars, n_rev, count);
    char sx[64], st[64];
    for (size_t i = 0; i < count; i++) {
        size_t op = 0;
        while (op < sizeof names / sizeof names[0] && strcmp(names[op], ops[i]) != 0)
            op++;
        if (op == sizeof names / sizeof names[0])
            return aglm_error(AGLM_ERR_INVALID,
                              "op %zu '%s' is not an element-wise op aglm.Elementwise runs", i,
                              ops[i]);
        steps[i] = (step){(enum ew_op)op, scalars[i], NULL, rev[i] != 0};
        int is_binary = op >= EW_ADD;
        if (is_binary != (operands[i] >= 0) || operands[i] >= (int64_t)n_in)
            return aglm_error(AGLM_ERR_INVALID, "op %zu '%s' has operand %lld (%s; %zu inputs)", i,
                              ops[i], (long long)operands[i],
                              is_binary ? "binary ops take 0 (the scalar) or an input >= 1"
                                        : "unary ops take -1",
                              n_in);
        if (operands[i] > 0) {
            const aglm_tensor *t = in[operands[i]];
            int same = t && t->dtype == AGLM_F32 && t->rank == in[0]->rank;
            for (int d = 0; same && d < t->rank; d++)
                same = t->dims[d] == in[0]->dims[d];
            if (!same)
                return aglm_error(
                    AGLM_ERR_SHAPE, "operand %lld %s of op %zu '%s' must be f32 of X's shape %s",
                    (long long)operands[i], t ? cpu_shape(t, st, sizeof st) : "(absent)", i, ops[i],
                    cpu_shape(in[0], sx, sizeof sx));
            steps[i].t = t->data;
        }
    }
    *n = count;
    return AGLM_OK;
}

static aglm_status k_elementwise(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                                 size_t n_out, aglm_tensor *out)
{
    (void)n_out;
    step steps[MAX_STEPS];
    size_t n = 0;
    aglm_status st = read_program(k, n_in, in, steps, &n);
    if (st == AGLM_OK)
        st = cpu_alloc(k, &out[0], AGLM_F32, in[0]->rank, in[0]->dims);
    if (st != AGLM_OK)
        return st;
    ew_job j = {steps, n, in[0]->data, out[0].data, aglm_tensor_numel(in[0])};
    size_t blocks = (size_t)((j.numel + BLOCK - 1) / BLOCK);
    cpu_parallel_for(k->pool, blocks, 8, ew_blocks, &j);
    return AGLM_OK;
}

const cpu_kernel cpu_aglm_elementwise_kernels[] = {
    {AGLM_OP_ELEMENTWISE, CPU_DT(AGLM_F32), k_elementwise},
    {NULL, 0, NULL},
};
