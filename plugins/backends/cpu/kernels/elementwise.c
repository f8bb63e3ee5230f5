/* Binary and variadic arithmetic with multidirectional (NumPy) broadcasting: Add, Sub, Mul, Div,
 * Mod, Pow, Max, Min, Sum, Mean, PRelu, over every numeric dtype (f16 and bf16 compute in f32).
 *
 * Integer ops wrap around on overflow as two's complement; division truncates toward zero, and
 * a zero integer divisor (Div, Mod) is refused before the loop instead of trapping. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "ew_simd.h"

/* ---- expressions ------------------------------------------------------------------------ */

#define add_expr(C, x, y, p) ((x) + (y))
#define sub_expr(C, x, y, p) ((x) - (y))
#define mul_expr(C, x, y, p) ((x) * (y))
#define div_expr(C, x, y, p) ((x) / (y))
#define addw_expr(C, x, y, p) CPU_WRAP(C, x, +, y)
#define subw_expr(C, x, y, p) CPU_WRAP(C, x, -, y)
#define mulw_expr(C, x, y, p) CPU_WRAP(C, x, *, y)
/* INT_MIN / -1 overflows in C: it wraps to INT_MIN here, as the hardware result would. */
#define divs_expr(C, x, y, p) ((y) == -1 ? (C)(0 - (uint64_t)(x)) : (C)((x) / (y)))
#define divu_expr(C, x, y, p) ((C)((x) / (y)))

/* Max and Min propagate NaN, as numpy.maximum does. */
#define max_expr(C, x, y, p) (((x) > (y) || isnan(x)) ? (x) : (y))
#define min_expr(C, x, y, p) (((x) < (y) || isnan(x)) ? (x) : (y))
#define maxi_expr(C, x, y, p) ((x) > (y) ? (x) : (y))
#define mini_expr(C, x, y, p) ((x) < (y) ? (x) : (y))

/* Mod: fmod = 1 takes the dividend's sign (C's fmod and %); fmod = 0 the divisor's (Python). */
static inline double mod_py_f(double x, double y)
{
    double r = fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}

static inline int64_t mod_py_i(int64_t x, int64_t y)
{
    if (y == -1)
        return 0;
    int64_t r = x % y;
    if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}

#define tmodf_expr(C, x, y, p) ((C)fmod((double)(x), (double)(y)))
#define pmodf_expr(C, x, y, p) ((C)mod_py_f((double)(x), (double)(y)))
#define tmods_expr(C, x, y, p) ((C)((y) == -1 ? 0 : (int64_t)(x) % (int64_t)(y)))
#define pmods_expr(C, x, y, p) ((C)mod_py_i((int64_t)(x), (int64_t)(y)))
#define modu_expr(C, x, y, p) ((C)((x) % (y)))

/* PRelu: y is the slope. */
#define prelu_expr(C, x, y, p) ((x) < 0 ? (x) * (y) : (x))
#define preluw_expr(C, x, y, p) ((x) < 0 ? CPU_WRAP(C, x, *, y) : (x))
#define preluu_expr(C, x, y, p) ((void)(y), (x))

/* ---- loops ------------------------------------------------------------------------------ */

CPU_LIST_FLOAT(CPU_DEF_BINARY, add)
CPU_LIST_FLOAT(CPU_DEF_BINARY, sub)
CPU_LIST_FLOAT(CPU_DEF_BINARY, mul)
CPU_LIST_FLOAT(CPU_DEF_BINARY, div)
CPU_LIST_INT(CPU_DEF_BINARY, addw)
CPU_LIST_INT(CPU_DEF_BINARY, subw)
CPU_LIST_INT(CPU_DEF_BINARY, mulw)
CPU_LIST_SINT(CPU_DEF_BINARY, divs)
CPU_LIST_UINT(CPU_DEF_BINARY, divu)
CPU_LIST_FLOAT(CPU_DEF_BINARY, max)
CPU_LIST_FLOAT(CPU_DEF_BINARY, min)
CPU_LIST_INT(CPU_DEF_BINARY, maxi)
CPU_LIST_INT(CPU_DEF_BINARY, mini)
CPU_LIST_FLOAT(CPU_DEF_BINARY, tmodf)
CPU_LIST_FLOAT(CPU_DEF_BINARY, pmodf)
CPU_LIST_SINT(CPU_DEF_BINARY, tmods)
CPU_LIST_SINT(CPU_DEF_BINARY, pmods)
CPU_LIST_UINT(CPU_DEF_BINARY, modu)
CPU_LIST_FLOAT(CPU_DEF_BINARY, prelu)
CPU_LIST_SINT(CPU_DEF_BINARY, preluw)
CPU_LIST_UINT(CPU_DEF_BINARY, preluu)

/* f32 Add, Sub, Mul, Div: the vectorised row of ew_simd.h when the AVX2 path is active, else
 * the loop above. The broadcasting driver hands each row its steps (0 or 1 per operand), so the
 * same row serves same-shape, scalar, per-channel ([N,C,1,1] against [N,C,H,W]) and trailing-row
 * broadcasts. */
#define FAST_F32(OP, EW)                                                                           \
    static void OP##_f32_fast(int64_t n, const void *const *in, const int64_t *s, void *out,       \
                              const cpu_ew_params *p)                                              \
    {                                                                                              \
        if (!cpu_ew_binary_f32(EW, n, in[0], s[0], in[1], s[1], out))                              \
            OP##_f32(n, in, s, out, p);                                                            \
    }
FAST_F32(add, CPU_EW_ADD)
FAST_F32(sub, CPU_EW_SUB)
FAST_F32(mul, CPU_EW_MUL)
FAST_F32(div, CPU_EW_DIV)

static const cpu_row_fn add_loops[CPU_NDT] = {[AGLM_F32] = add_f32_fast,
                                              CPU_LIST_FLOAT_NOT_F32(CPU_LOOP_ENTRY, add)
                                                  CPU_LIST_INT(CPU_LOOP_ENTRY, addw)};
static const cpu_row_fn sub_loops[CPU_NDT] = {[AGLM_F32] = sub_f32_fast,
                                              CPU_LIST_FLOAT_NOT_F32(CPU_LOOP_ENTRY, sub)
                                                  CPU_LIST_INT(CPU_LOOP_ENTRY, subw)};
static const cpu_row_fn mul_loops[CPU_NDT] = {[AGLM_F32] = mul_f32_fast,
                                              CPU_LIST_FLOAT_NOT_F32(CPU_LOOP_ENTRY, mul)
                                                  CPU_LIST_INT(CPU_LOOP_ENTRY, mulw)};
static const cpu_row_fn div_loops[CPU_NDT] = {[AGLM_F32] = div_f32_fast,
                                              CPU_LIST_FLOAT_NOT_F32(CPU_LOOP_ENTRY, div)
                                                  CPU_LIST_SINT(CPU_LOOP_ENTRY, divs)
                                                      CPU_LIST_UINT(CPU_LOOP_ENTRY, divu)};
static const cpu_row_fn max_loops[CPU_NDT] = {CPU_LIST_FLOAT(CPU_LOOP_ENTRY, max)
                                                  CPU_LIST_INT(CPU_LOOP_ENTRY, maxi)};
static const cpu_row_fn min_loops[CPU_NDT] = {CPU_LIST_FLOAT(CPU_LOOP_ENTRY, min)
                                                  CPU_LIST_INT(CPU_LOOP_ENTRY, mini)};
static const cpu_row_fn mean_loops[CPU_NDT] = {CPU_LIST_FLOAT(CPU_LOOP_ENTRY, add)};
static const cpu_row_fn fmod_loops[CPU_NDT] = {CPU_LIST_FLOAT(CPU_LOOP_ENTRY, tmodf) CPU_LIST_SINT(
    CPU_LOOP_ENTRY, tmods) CPU_LIST_UINT(CPU_LOOP_ENTRY, modu)};
static const cpu_row_fn mod_loops[CPU_NDT] = {CPU_LIST_FLOAT(CPU_LOOP_ENTRY, pmodf) CPU_LIST_SINT(
    CPU_LOOP_ENTRY, pmods) CPU_LIST_UINT(CPU_LOOP_ENTRY, modu)};
static const cpu_row_fn prelu_loops[CPU_NDT] = {CPU_LIST_FLOAT(CPU_LOOP_ENTRY, prelu) CPU_LIST_SINT(
    CPU_LOOP_ENTRY, preluw) CPU_LIST_UINT(CPU_LOOP_ENTRY, preluu)};

/* ---- kernels ---------------------------------------------------------------------------- */

/* out = op(a, b), both of one dtype, broadcast. */
static aglm_status binary(const cpu_kctx *k, const cpu_row_fn *loops, int int_divides,
                          const aglm_tensor *a, const aglm_tensor *b, aglm_tensor *out)
{
    aglm_status st = cpu_check_same_dtype(a, "input A", b, "input B");
    if (st != AGLM_OK)
        return st;
    cpu_row_fn row;
    if ((st = cpu_pick_row(k, loops, a, "input A", &row)) != AGLM_OK)
        return st;
    if (int_divides && aglm_dtype_is_int(b->dtype) && cpu_has_zero(b))
        return aglm_error(AGLM_ERR_INVALID, "integer division by zero: input B holds a 0");
    const aglm_tensor *in[2] = {a, b};
    if ((st = cpu_bcast_alloc(k, 2, in, a->dtype, out)) != AGLM_OK)
        return st;
    cpu_bcast_run(k->pool, 2, in, out, row, NULL);
    return AGLM_OK;
}

#define BINARY_KERNEL(NAME, LOOPS, DIVIDES)                                                        \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,          \
                            size_t n_out, aglm_tensor *out)                                        \
    {                                                                                              \
        (void)n_in;                                                                                \
        (void)n_out;                                                                               \
        return binary(k, LOOPS, DIVIDES, in[0], in[1], &out[0]);                                   \
    }

BINARY_KERNEL(k_add, add_loops, 0)
BINARY_KERNEL(k_sub, sub_loops, 0)
BINARY_KERNEL(k_mul, mul_loops, 0)
BINARY_KERNEL(k_div, div_loops, 1)

static aglm_status k_mod(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    int fmod_attr = aglm_node_get_int(k->node, "fmod", 0) != 0;
    return binary(k, fmod_attr ? fmod_loops : mod_loops, 1, in[0], in[1], &out[0]);
}

/* PRelu: the slope broadcasts to X (unidirectionally), so the result has X's shape. */
static aglm_status k_prelu(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                           size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    aglm_status st = binary(k, prelu_loops, 0, in[0], in[1], &out[0]);
    if (st == AGLM_OK && !aglm_tensor_same_shape(&out[0], in[0])) {
        char xs[64], ss[64];
        cpu_shape(in[0], xs, sizeof xs);
        cpu_shape(in[1], ss, sizeof ss);
        aglm_tensor_free(&out[0]);
        return aglm_error(AGLM_ERR_SHAPE, "slope of shape %s does not broadcast to X of shape %s",
                          ss, xs);
    }
    return st;
}

/* Max, Min, Sum, Mean: folds the inputs pairwise into the broadcast shape of them all,
 * ping-ponging between two buffers; Mean divides the sum by the input count. */
static aglm_status variadic(const cpu_kctx *k, const cpu_row_fn *loops, int mean, size_t n_in,
                            const aglm_tensor *const *in, aglm_tensor *out)
{
    aglm_dtype dt = in[0]->dtype;
    for (size_t i = 1; i < n_in; i++) {
        char what[32];
        snprintf(what, sizeof what, "input %zu", i);
        aglm_status st = cpu_check_same_dtype(in[0], "input 0", in[i], what);
        if (st != AGLM_OK)
            return st;
    }
    cpu_row_fn row;
    aglm_status st = cpu_pick_row(k, loops, in[0], "input 0", &row);
    if (st == AGLM_OK)
        st = cpu_bcast_alloc(k, n_in, in, dt, out);
    if (st != AGLM_OK)
        return st;
    cpu_bcast_run(k->pool, 1, in, out, cpu_copy_row(aglm_dtype_size(dt)), NULL);
    aglm_tensor acc = *out, next;
    memset(out, 0, sizeof *out);
    for (size_t i = 1; i < n_in; i++) {
        if ((st = cpu_alloc(k, &next, dt, acc.rank, acc.dims)) != AGLM_OK) {
            aglm_tensor_free(&acc);
            return st;
        }
        const aglm_tensor *pair[2] = {&acc, in[i]};
        cpu_bcast_run(k->pool, 2, pair, &next, row, NULL);
        aglm_tensor_free(&acc);
        acc = next;
    }
    if (mean && n_in > 1) {
        aglm_tensor count;
        if ((st = cpu_alloc(k, &count, dt, 0, NULL)) != AGLM_OK ||
            (st = cpu_alloc(k, out, dt, acc.rank, acc.dims)) != AGLM_OK) {
            aglm_tensor_free(&count);
            aglm_tensor_free(&acc);
            return st;
        }
        aglm_tensor_set_f64(&count, 0, (double)n_in);
        const aglm_tensor *pair[2] = {&acc, &count};
        cpu_bcast_run(k->pool, 2, pair, out, div_loops[dt], NULL);
        aglm_tensor_free(&count);
        aglm_tensor_free(&acc);
        return AGLM_OK;
    }
    *out = acc;
    return AGLM_OK;
}

#define VARIADIC_KERNEL(NAME, LOOPS, MEAN)                                                         \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,          \
                            size_t n_out, aglm_tensor *out)                                        \
    {                                                                                              \
        (void)n_out;                                                                               \
        return variadic(k, LOOPS, MEAN, n_in, in, &out[0]);                                        \
    }

VARIADIC_KERNEL(k_max, max_loops, 0)
VARIADIC_KERNEL(k_min, min_loops, 0)
VARIADIC_KERNEL(k_sum, add_loops, 0)
VARIADIC_KERNEL(k_mean, mean_loops, 1)

/* ---- Pow -------------------------------------------------------------------------------- */

/* An integer base to an integer power, wrapping; a negative power truncates 1/x^n toward 0. */
static int64_t ipow(int64_t x, int64_t e)
{
    if (e < 0)
        return x == 1 ? 1 : x == -1 ? (e % 2 ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)x;
    for (; e; e >>= 1, b *= b)
        if (e & 1)
            r *= b;
    return (int64_t)r;
}

/* A double as an int64 the way a C cast would, kept defined: truncated, saturated, NaN -> 0. */
static int64_t to_int(double v)
{
    if (isnan(v))
        return 0;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    return (int64_t)v;
}

/* Base and exponent may differ in dtype (opset 12+); the result has the base's. */
static void pow_row(int64_t n, const void *const *in, const int64_t *s, void *out,
                    const cpu_ew_params *p)
{
    int int_base = !aglm_dtype_is_float(p->dt_a), int_exp = !aglm_dtype_is_float(p->dt_b);
    for (int64_t i = 0; i < n; i++) {
        if (int_base && int_exp) {
            int64_t v =
                ipow(cpu_get_i(in[0], p->dt_a, i * s[0]), cpu_get_i(in[1], p->dt_b, i * s[1]));
            cpu_set_i(out, p->dt_a, i, v);
            continue;
        }
        double v = pow(cpu_get_f(in[0], p->dt_a, i * s[0]), cpu_get_f(in[1], p->dt_b, i * s[1]));
        if (int_base)
            cpu_set_i(out, p->dt_a, i, to_int(v));
        else
            cpu_set_f(out, p->dt_a, i, v);
    }
}

#define POW_BASES (CPU_M_FLOAT | CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64))

static aglm_status k_pow(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in, size_t n_out,
                         aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const aglm_tensor *x = in[0], *y = in[1];
    aglm_status st = cpu_check_dtype(k, y, "input Y", CPU_M_NUMERIC);
    if (st == AGLM_OK && k->opset < 12)
        st = cpu_check_same_dtype(x, "input X", y, "input Y");
    if (st == AGLM_OK)
        st = cpu_check_dtype(k, x, "input X", POW_BASES);
    if (st == AGLM_OK)
        st = cpu_bcast_alloc(k, 2, in, x->dtype, &out[0]);
    if (st != AGLM_OK)
        return st;
    cpu_ew_params p = {.dt_a = x->dtype, .dt_b = y->dtype};
    /* a pow() and two dtype switches an element: worth the pool from a few thousand on */
    cpu_bcast_run_grain(k->pool, 2, in, &out[0], pow_row, &p, CPU_EW_GRAIN_COSTLY);
    return AGLM_OK;
}

const cpu_kernel cpu_elementwise_kernels[] = {
    {"Add", CPU_M_NUMERIC, k_add}, {"Sub", CPU_M_NUMERIC, k_sub},     {"Mul", CPU_M_NUMERIC, k_mul},
    {"Div", CPU_M_NUMERIC, k_div}, {"Mod", CPU_M_NUMERIC, k_mod},     {"Pow", POW_BASES, k_pow},
    {"Max", CPU_M_NUMERIC, k_max}, {"Min", CPU_M_NUMERIC, k_min},     {"Sum", CPU_M_NUMERIC, k_sum},
    {"Mean", CPU_M_FLOAT, k_mean}, {"PRelu", CPU_M_NUMERIC, k_prelu}, {NULL, 0, NULL},
};
