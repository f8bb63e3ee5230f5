/* Comparisons with NumPy broadcasting, giving bool: Equal, Less, Greater, LessOrEqual,
 * GreaterOrEqual over every numeric dtype (Equal over bool too); and Where, which selects
 * between two broadcast operands of any dtype by a bool condition. */
#include "dispatch.h"

#define eq_expr(C, x, y, p) ((x) == (y))
#define lt_expr(C, x, y, p) ((x) < (y))
#define gt_expr(C, x, y, p) ((x) > (y))
#define le_expr(C, x, y, p) ((x) <= (y))
#define ge_expr(C, x, y, p) ((x) >= (y))

CPU_LIST_NUMERIC(CPU_DEF_COMPARE, eq)
CPU_LIST_BOOL(CPU_DEF_COMPARE, eq)
CPU_LIST_NUMERIC(CPU_DEF_COMPARE, lt)
CPU_LIST_NUMERIC(CPU_DEF_COMPARE, gt)
CPU_LIST_NUMERIC(CPU_DEF_COMPARE, le)
CPU_LIST_NUMERIC(CPU_DEF_COMPARE, ge)

static const cpu_row_fn eq_loops[CPU_NDT] = {CPU_LIST_NUMERIC(CPU_LOOP_ENTRY, eq)
                                                 CPU_LIST_BOOL(CPU_LOOP_ENTRY, eq)};
static const cpu_row_fn lt_loops[CPU_NDT] = {CPU_LIST_NUMERIC(CPU_LOOP_ENTRY, lt)};
static const cpu_row_fn gt_loops[CPU_NDT] = {CPU_LIST_NUMERIC(CPU_LOOP_ENTRY, gt)};
static const cpu_row_fn le_loops[CPU_NDT] = {CPU_LIST_NUMERIC(CPU_LOOP_ENTRY, le)};
static const cpu_row_fn ge_loops[CPU_NDT] = {CPU_LIST_NUMERIC(CPU_LOOP_ENTRY, ge)};

static aglm_status compare(const cpu_kctx *k, const cpu_row_fn *loops, const aglm_tensor *const *in,
                           aglm_tensor *out)
{
    cpu_row_fn row;
    aglm_status st = cpu_check_same_dtype(in[0], "input A", in[1], "input B");
    if (st == AGLM_OK)
        st = cpu_pick_row(k, loops, in[0], "input A", &row);
    if (st == AGLM_OK)
        st = cpu_bcast_alloc(k, 2, in, AGLM_BOOL, out);
    if (st != AGLM_OK)
        return st;
    cpu_bcast_run(k->pool, 2, in, out, row, NULL);
    return AGLM_OK;
}

#define COMPARE_KERNEL(NAME, LOOPS)                                                                \
    static aglm_status NAME(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,          \
                            size_t n_out, aglm_tensor *out)                                        \
    {                                                                                              \
        (void)n_in;                                                                                \
        (void)n_out;                                                                               \
        return compare(k, LOOPS, in, &out[0]);                                                     \
    }

COMPARE_KERNEL(k_equal, eq_loops)
COMPARE_KERNEL(k_less, lt_loops)
COMPARE_KERNEL(k_greater, gt_loops)
COMPARE_KERNEL(k_less_equal, le_loops)
COMPARE_KERNEL(k_greater_equal, ge_loops)

/* Where moves elements without looking at them, so one loop per element size serves every
 * dtype. */
#define WHERE_ROW(NAME, T)                                                                         \
    static void NAME(int64_t n, const void *const *in, const int64_t *s, void *out,                \
                     const cpu_ew_params *p)                                                       \
    {                                                                                              \
        const uint8_t *restrict c = in[0];                                                         \
        const T *restrict x = in[1];                                                               \
        const T *restrict y = in[2];                                                               \
        T *restrict o = out;                                                                       \
        (void)p;                                                                                   \
        if (s[0] && s[1] && s[2]) {                                                                \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = c[i] ? x[i] : y[i];                                                         \
            return;                                                                                \
        }                                                                                          \
        for (int64_t i = 0; i < n; i++)                                                            \
            o[i] = c[i * s[0]] ? x[i * s[1]] : y[i * s[2]];                                        \
    }

WHERE_ROW(where_1, uint8_t)
WHERE_ROW(where_2, uint16_t)
WHERE_ROW(where_4, uint32_t)
WHERE_ROW(where_8, uint64_t)

static aglm_status k_where(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                           size_t n_out, aglm_tensor *out)
{
    (void)n_in;
    (void)n_out;
    aglm_status st = cpu_check_dtype(k, in[0], "input condition", CPU_M_BOOL);
    if (st == AGLM_OK)
        st = cpu_check_same_dtype(in[1], "input X", in[2], "input Y");
    if (st != AGLM_OK)
        return st;
    cpu_row_fn row;
    switch (aglm_dtype_size(in[1]->dtype)) {
    case 1: row = where_1; break;
    case 2: row = where_2; break;
    case 4: row = where_4; break;
    case 8: row = where_8; break;
    default:
        return aglm_error(AGLM_ERR_UNSUPPORTED, "input X has dtype %s; Where cannot select it",
                          aglm_dtype_name(in[1]->dtype));
    }
    if ((st = cpu_bcast_alloc(k, 3, in, in[1]->dtype, &out[0])) != AGLM_OK)
        return st;
    cpu_bcast_run(k->pool, 3, in, &out[0], row, NULL);
    return AGLM_OK;
}

const cpu_kernel cpu_compare_kernels[] = {
    {"Equal", CPU_M_NUMERIC | CPU_M_BOOL, k_equal},
    {"Less", CPU_M_NUMERIC, k_less},
    {"Greater", CPU_M_NUMERIC, k_greater},
    {"LessOrEqual", CPU_M_NUMERIC, k_less_equal},
    {"GreaterOrEqual", CPU_M_NUMERIC, k_greater_equal},
    {"Where", CPU_M_BOOL, k_where},
    {NULL, 0, NULL},
};
