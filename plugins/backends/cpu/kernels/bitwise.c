/* Logic on bool (And, Or, Xor, Not) and bit operations on integers (BitwiseAnd, BitwiseOr,
 * BitwiseXor, BitwiseNot, BitShift), with NumPy broadcasting for the binary ones. */
#include <string.h>

#include "dispatch.h"

/* Bools are bytes holding 0 or 1. */
#define land_expr(C, x, y, p) ((x) & (y))
#define lor_expr(C, x, y, p) ((x) | (y))
#define lxor_expr(C, x, y, p) ((x) ^ (y))
#define lnot_expr(C, x, p) ((x) ^ 1)
#define bnot_expr(C, x, p) ((C) ~(x))

/* A shift by the type's width or more gives 0 (C leaves it undefined); shifts are logical, as
 * ONNX defines BitShift on unsigned types only. */
#define shl_expr(C, x, y, p) ((y) >= 8 * sizeof(C) ? (C)0 : (C)((uint64_t)(x) << (y)))
#define shr_expr(C, x, y, p) ((y) >= 8 * sizeof(C) ? (C)0 : (C)((uint64_t)(x) >> (y)))

CPU_LIST_BOOL(CPU_DEF_BINARY, land)
CPU_LIST_BOOL(CPU_DEF_BINARY, lor)
CPU_LIST_BOOL(CPU_DEF_BINARY, lxor)
CPU_LIST_BOOL(CPU_DEF_UNARY, lnot)
CPU_LIST_INT(CPU_DEF_BINARY, land)
CPU_LIST_INT(CPU_DEF_BINARY, lor)
CPU_LIST_INT(CPU_DEF_BINARY, lxor)
CPU_LIST_INT(CPU_DEF_UNARY, bnot)
CPU_LIST_UINT(CPU_DEF_BINARY, shl)
CPU_LIST_UINT(CPU_DEF_BINARY, shr)

static const cpu_row_fn land_loops[CPU_NDT] = {CPU_LIST_BOOL(CPU_LOOP_ENTRY, land)};
static const cpu_row_fn lor_loops[CPU_NDT] = {CPU_LIST_BOOL(CPU_LOOP_ENTRY, lor)};
static const cpu_row_fn lxor_loops[CPU_NDT] = {CPU_LIST_BOOL(CPU_LOOP_ENTRY, lxor)};
static const cpu_row_fn lnot_loops[CPU_NDT] = {CPU_LIST_BOOL(CPU_LOOP_ENTRY, lnot)};
static const cpu_row_fn band_loops[CPU_NDT] = {CPU_LIST_INT(CPU_LOOP_ENTRY, land)};
static const cpu_row_fn bor_loops[CPU_NDT] = {CPU_LIST_INT(CPU_LOOP_ENTRY, lor)};
static const cpu_row_fn bxor_loops[CPU_NDT] = {CPU_LIST_INT(CPU_LOOP_ENTRY, lxor)};
static const cpu_row_fn bnot_loops[CPU_NDT] = {CPU_LIST_INT(CPU_LOOP_ENTRY, bnot)};
static const cpu_row_fn shl_loops[CPU_NDT] = {CPU_LIST_UINT(CPU_LOOP_ENTRY, shl)};
static const cpu_row_fn shr_loops[CPU_NDT] = {CPU_LIST_UINT(CPU_LOOP_ENTRY, shr)};

/* Output dtype = input dtype; n is 1 or 2. */
static aglm_status run(const cpu_kctx *k, const cpu_row_fn *loops, size_t n,
                       const aglm_tensor *const *in, aglm_tensor *out)
{
    cpu_row_fn row;
    aglm_status st = AGLM_OK;
    if (n == 2)
        st = cpu_check_same_dtype(in[0], "input A", in[1], "input B");
    if (st == AGLM_OK)
        st = cpu_pick_row(k, loops, in[0], n == 2 ? "input A" : "input X", &row);
    if (st == AGLM_OK)
        st = cpu_bcast_alloc(k, n, in, in[0]->dtype, out);
    if (st != AGLM_OK)
        return st;
    cpu_bcast_run(k->pool, n, in, out, row, NULL);
    return AGLM_OK;
}

#define KERNEL(NAME, LOOPS, N)                                                                     \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,          \
                            size_t n_out, aglm_tensor *out)                                        \
    {                                                                                              \
        (void)n_in;                                                                                \
        (void)n_out;                                                                               \
        return run(k, LOOPS, N, in, &out[0]);                                                      \
    }

KERNEL(k_and, land_loops, 2)
KERNEL(k_or, lor_loops, 2)
KERNEL(k_xor, lxor_loops, 2)
KERNEL(k_not, lnot_loops, 1)
KERNEL(k_bitwise_and, band_loops, 2)
KERNEL(k_bitwise_or, bor_loops, 2)
KERNEL(k_bitwise_xor, bxor_loops, 2)
KERNEL(k_bitwise_not, bnot_loops, 1)

static aglm_status k_bit_shift(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                               size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    const char *dir = aglm_node_get_string(k->node, "direction", NULL);
    if (!dir)
        return aglm_error(AGLM_ERR_INVALID, "attribute direction is missing (LEFT or RIGHT)");
    if (strcmp(dir, "LEFT") != 0 && strcmp(dir, "RIGHT") != 0)
        return aglm_error(AGLM_ERR_INVALID, "attribute direction is '%s'; expected LEFT or RIGHT",
                          dir);
    return run(k, dir[0] == 'L' ? shl_loops : shr_loops, 2, in, &out[0]);
}

const cpu_kernel cpu_bitwise_kernels[] = {
    {"And", CPU_M_BOOL, k_and},
    {"Or", CPU_M_BOOL, k_or},
    {"Xor", CPU_M_BOOL, k_xor},
    {"Not", CPU_M_BOOL, k_not},
    {"BitwiseAnd", CPU_M_INT, k_bitwise_and},
    {"BitwiseOr", CPU_M_INT, k_bitwise_or},
    {"BitwiseXor", CPU_M_INT, k_bitwise_xor},
    {"BitwiseNot", CPU_M_INT, k_bitwise_not},
    {"BitShift", CPU_M_UINT, k_bit_shift},
    {NULL, 0, NULL},
};
