/* Binary arithmetic with multidirectional (NumPy) broadcasting: Add, Sub, Mul, Div. */
#include <string.h>

#include "kernels.h"

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, NUM_OPS };
enum { T_F32, T_F64, T_I32, T_I64, NUM_TYPES };

/* Computes n outputs from a (element stride sa) and b (stride sb); strides are 0 or 1 after
 * coalescing, and the common cases get their own loops so the compiler vectorises them. */
typedef void (*bin_loop)(int64_t n, const void *pa, int64_t sa, const void *pb, int64_t sb,
                         void *po);

#define BIN_LOOP(NAME, T, EXPR)                                                                \
    static void NAME(int64_t n, const void *pa, int64_t sa, const void *pb, int64_t sb,       \
                     void *po)                                                                 \
    {                                                                                          \
        const T *restrict a = pa;                                                              \
        const T *restrict b = pb;                                                              \
        T *restrict o = po;                                                                    \
        if (sa == 1 && sb == 1) {                                                              \
            for (int64_t i = 0; i < n; i++) {                                                  \
                T x = a[i], y = b[i];                                                          \
                o[i] = EXPR;                                                                   \
            }                                                                                  \
        } else if (sa == 1) {                                                                  \
            const T y = b[0];                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                  \
                T x = a[i];                                                                    \
                o[i] = EXPR;                                                                   \
            }                                                                                  \
        } else if (sb == 1) {                                                                  \
            const T x = a[0];                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                  \
                T y = b[i];                                                                    \
                o[i] = EXPR;                                                                   \
            }                                                                                  \
        } else {                                                                               \
            const T x = a[0], y = b[0];                                                        \
            for (int64_t i = 0; i < n; i++)                                                    \
                o[i] = EXPR;                                                                   \
        }                                                                                      \
    }

/* Integer ops wrap around on overflow as two's complement (done in unsigned arithmetic, which
 * C defines); division truncates toward zero, and a zero divisor is refused before the loop. */
#define WRAP(T, UT, x, op, y) ((T)((UT)(x)op(UT)(y)))
#define IDIV(T, UT, x, y) ((y) == -1 ? (T)((UT)0 - (UT)(x)) : (T)((x) / (y)))

BIN_LOOP(add_f32, float, x + y)
BIN_LOOP(sub_f32, float, x - y)
BIN_LOOP(mul_f32, float, x * y)
BIN_LOOP(div_f32, float, x / y)
BIN_LOOP(add_f64, double, x + y)
BIN_LOOP(sub_f64, double, x - y)
BIN_LOOP(mul_f64, double, x * y)
BIN_LOOP(div_f64, double, x / y)
BIN_LOOP(add_i32, int32_t, WRAP(int32_t, uint32_t, x, +, y))
BIN_LOOP(sub_i32, int32_t, WRAP(int32_t, uint32_t, x, -, y))
BIN_LOOP(mul_i32, int32_t, WRAP(int32_t, uint32_t, x, *, y))
BIN_LOOP(div_i32, int32_t, IDIV(int32_t, uint32_t, x, y))
BIN_LOOP(add_i64, int64_t, WRAP(int64_t, uint64_t, x, +, y))
BIN_LOOP(sub_i64, int64_t, WRAP(int64_t, uint64_t, x, -, y))
BIN_LOOP(mul_i64, int64_t, WRAP(int64_t, uint64_t, x, *, y))
BIN_LOOP(div_i64, int64_t, IDIV(int64_t, uint64_t, x, y))

static const bin_loop loops[NUM_OPS][NUM_TYPES] = {
    [OP_ADD] = {add_f32, add_f64, add_i32, add_i64},
    [OP_SUB] = {sub_f32, sub_f64, sub_i32, sub_i64},
    [OP_MUL] = {mul_f32, mul_f64, mul_i32, mul_i64},
    [OP_DIV] = {div_f32, div_f64, div_i32, div_i64},
};

/* The broadcast as out dims with per-operand element strides (0 where an operand repeats),
 * with unit dims dropped and adjacent dims merged where both operands allow it. */
typedef struct bcast {
    int rank;
    int64_t dims[AGLM_MAX_RANK];
    int64_t sa[AGLM_MAX_RANK];
    int64_t sb[AGLM_MAX_RANK];
} bcast;

static void operand_strides(const aglm_tensor *t, int rank, const int64_t *out_dims, int64_t *st)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int ti = i - (rank - t->rank);
        if (ti < 0 || (t->dims[ti] == 1 && out_dims[i] != 1)) {
            st[i] = 0;
        } else {
            st[i] = s;
            s *= t->dims[ti];
        }
    }
}

static void bcast_init(bcast *bc, const aglm_tensor *a, const aglm_tensor *b, int rank,
                       const int64_t *dims)
{
    int64_t sa[AGLM_MAX_RANK], sb[AGLM_MAX_RANK];
    operand_strides(a, rank, dims, sa);
    operand_strides(b, rank, dims, sb);
    bc->rank = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 1)
            continue;
        int r = bc->rank;
        /* Dim i continues the previous one when each operand steps through both as one. */
        if (r > 0 && bc->sa[r - 1] == sa[i] * dims[i] && bc->sb[r - 1] == sb[i] * dims[i]) {
            bc->dims[r - 1] *= dims[i];
            bc->sa[r - 1] = sa[i];
            bc->sb[r - 1] = sb[i];
            continue;
        }
        bc->dims[r] = dims[i];
        bc->sa[r] = sa[i];
        bc->sb[r] = sb[i];
        bc->rank++;
    }
    if (bc->rank == 0) {
        bc->rank = 1;
        bc->dims[0] = 1;
        bc->sa[0] = bc->sb[0] = 0;
    }
}

typedef struct bin_job {
    const bcast *bc;
    bin_loop loop;
    size_t esize;
    const char *a, *b;
    char *o;
} bin_job;

/* Elements [begin, end) of the flat output, walked row by row of the innermost dim. */
static void bin_range(void *ctx, size_t begin, size_t end, int worker)
{
    const bin_job *j = ctx;
    const bcast *bc = j->bc;
    int r = bc->rank;
    int64_t inner = bc->dims[r - 1];
    int64_t pos = (int64_t)begin;
    while (pos < (int64_t)end) {
        int64_t row = pos / inner, col = pos % inner;
        int64_t n = inner - col;
        if (n > (int64_t)end - pos)
            n = (int64_t)end - pos;
        int64_t oa = col * bc->sa[r - 1], ob = col * bc->sb[r - 1];
        for (int i = r - 2; i >= 0; i--) {
            int64_t idx = row % bc->dims[i];
            row /= bc->dims[i];
            oa += idx * bc->sa[i];
            ob += idx * bc->sb[i];
        }
        j->loop(n, j->a + (size_t)oa * j->esize, bc->sa[r - 1], j->b + (size_t)ob * j->esize,
                bc->sb[r - 1], j->o + (size_t)pos * j->esize);
        pos += n;
    }
}

static int type_index(aglm_dtype dt)
{
    switch (dt) {
    case AGLM_F32: return T_F32;
    case AGLM_F64: return T_F64;
    case AGLM_I32: return T_I32;
    case AGLM_I64: return T_I64;
    default: return -1;
    }
}

static int has_zero(const aglm_tensor *t)
{
    int64_t n = aglm_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        if (t->dtype == AGLM_I32 ? ((const int32_t *)t->data)[i] == 0
                                 : ((const int64_t *)t->data)[i] == 0)
            return 1;
    }
    return 0;
}

static aglm_status run_binary(const cpu_kctx *k, int op, const aglm_tensor *a,
                              const aglm_tensor *b, aglm_tensor *out)
{
    aglm_status st = cpu_check_dtype(k, a, "input A", CPU_NUMERIC);
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(a, "input A", b, "input B");
    if (st != AGLM_OK)
        return st;
    int rank;
    int64_t dims[AGLM_MAX_RANK];
    st = aglm_broadcast_shapes(a->rank, a->dims, b->rank, b->dims, &rank, dims);
    if (st != AGLM_OK)
        return st;
    if (op == OP_DIV && aglm_dtype_is_int(a->dtype) && has_zero(b))
        return aglm_error(AGLM_ERR_INVALID, "integer division by zero: input B holds a 0");
    st = aglm_tensor_alloc(out, a->dtype, rank, dims);
    if (st != AGLM_OK)
        return st;
    int64_t n = aglm_tensor_numel(out);
    if (n == 0)
        return AGLM_OK;
    bcast bc;
    bcast_init(&bc, a, b, rank, dims);
    bin_job job = {&bc, loops[op][type_index(a->dtype)], aglm_dtype_size(a->dtype), a->data,
                   b->data, out->data};
    cpu_parallel_for(k->pool, (size_t)n, 1u << 14, bin_range, &job);
    return AGLM_OK;
}

#define BINARY_KERNEL(NAME, OP)                                                                \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,     \
                            size_t n_out, aglm_tensor *out)                                    \
    {                                                                                          \
        return run_binary(k, OP, in[0], in[1], &out[0]);                                       \
    }

BINARY_KERNEL(k_add, OP_ADD)
BINARY_KERNEL(k_sub, OP_SUB)
BINARY_KERNEL(k_mul, OP_MUL)
BINARY_KERNEL(k_div, OP_DIV)

const cpu_kernel cpu_elementwise_kernels[] = {
    {"Add", 2, 2, 1, CPU_NUMERIC, k_add},
    {"Sub", 2, 2, 1, CPU_NUMERIC, k_sub},
    {"Mul", 2, 2, 1, CPU_NUMERIC, k_mul},
    {"Div", 2, 2, 1, CPU_NUMERIC, k_div},
    {NULL, 0, 0, 0, 0, NULL},
};
