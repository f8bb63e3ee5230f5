/* Dtype dispatch for element-wise kernels: dtype lists for X-macros, loop generators that
 * instantiate one loop body per C type, and one broadcasting driver for ops of one to three
 * inputs (NumPy rules), so a kernel is an expression plus a table.
 *
 * Usage, e.g. a binary op over every float dtype:
 *
 *     #define add_expr(C, x, y, p) ((x) + (y))
 *     CPU_LIST_FLOAT(CPU_DEF_BINARY, add)            // defines add_f32, add_f64, add_f16, add_bf16
 *     static const cpu_row_fn add_loops[CPU_NDT] = {CPU_LIST_FLOAT(CPU_LOOP_ENTRY, add)};
 *     ... cpu_bcast_alloc(k, ...); cpu_bcast_run(k->pool, 2, in, out, add_loops[dt], &params);
 */
#ifndef CPU_DISPATCH_H
#define CPU_DISPATCH_H

#include <stdint.h>

#include "kernels.h"

/* Table size for loops indexed by aglm_dtype (bf16 = 16 is the largest dtype we run). */
#define CPU_NDT 17

/* ---- dtype lists ------------------------------------------------------------------------
 * Each list calls X(OP, SFX, S, C, LD, ST, DT) once per dtype: SFX is a name suffix, S the
 * storage type, C the type the arithmetic runs in, LD(s) and ST(c) convert between the two,
 * DT the aglm dtype. f16 and bf16 compute in f32 and round back (to nearest even) on store. */
#define CPU_LD_SAME(v) (v)
#define CPU_ST_SAME(v) (v)

#define CPU_LIST_F32F64(X, OP)                                                                     \
    X(OP, f32, float, float, CPU_LD_SAME, CPU_ST_SAME, AGLM_F32)                                   \
    X(OP, f64, double, double, CPU_LD_SAME, CPU_ST_SAME, AGLM_F64)
#define CPU_LIST_HALF(X, OP)                                                                       \
    X(OP, f16, uint16_t, float, aglm_f16_to_f32, aglm_f32_to_f16, AGLM_F16)                        \
    X(OP, bf16, uint16_t, float, aglm_bf16_to_f32, aglm_f32_to_bf16, AGLM_BF16)
#define CPU_LIST_FLOAT(X, OP) CPU_LIST_F32F64(X, OP) CPU_LIST_HALF(X, OP)
/* Every float dtype but f32, for tables whose f32 entry is a vectorised loop of its own. */
#define CPU_LIST_FLOAT_NOT_F32(X, OP)                                                              \
    X(OP, f64, double, double, CPU_LD_SAME, CPU_ST_SAME, AGLM_F64) CPU_LIST_HALF(X, OP)
#define CPU_LIST_SINT(X, OP)                                                                       \
    X(OP, i8, int8_t, int8_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_I8)                                   \
    X(OP, i16, int16_t, int16_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_I16)                               \
    X(OP, i32, int32_t, int32_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_I32)                               \
    X(OP, i64, int64_t, int64_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_I64)
#define CPU_LIST_UINT(X, OP)                                                                       \
    X(OP, u8, uint8_t, uint8_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_U8)                                 \
    X(OP, u16, uint16_t, uint16_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_U16)                             \
    X(OP, u32, uint32_t, uint32_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_U32)                             \
    X(OP, u64, uint64_t, uint64_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_U64)
#define CPU_LIST_INT(X, OP) CPU_LIST_SINT(X, OP) CPU_LIST_UINT(X, OP)
#define CPU_LIST_NUMERIC(X, OP) CPU_LIST_FLOAT(X, OP) CPU_LIST_INT(X, OP)
#define CPU_LIST_BOOL(X, OP) X(OP, b8, uint8_t, uint8_t, CPU_LD_SAME, CPU_ST_SAME, AGLM_BOOL)

/* The same sets as CPU_DT masks, for cpu_kernel.dtypes. */
#define CPU_M_FLOAT (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16))
#define CPU_M_SINT (CPU_DT(AGLM_I8) | CPU_DT(AGLM_I16) | CPU_DT(AGLM_I32) | CPU_DT(AGLM_I64))
#define CPU_M_UINT (CPU_DT(AGLM_U8) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_U32) | CPU_DT(AGLM_U64))
#define CPU_M_INT (CPU_M_SINT | CPU_M_UINT)
#define CPU_M_NUMERIC (CPU_M_FLOAT | CPU_M_INT)
#define CPU_M_BOOL CPU_DT(AGLM_BOOL)

/* ---- loops ------------------------------------------------------------------------------ */

/* What expressions may read besides their operands: op attributes and Clip's bounds. */
typedef struct cpu_ew_params {
    double alpha, beta, gamma; /* op attributes (LeakyRelu's alpha, HardSigmoid's beta, ...) */
    int flag_a, flag_b;        /* boolean attributes (IsInf's detect_negative, detect_positive) */
    const void *lo, *hi;       /* one element of the input's dtype each, or NULL (Clip) */
    aglm_dtype dt_a, dt_b;     /* operand dtypes, for loops that take mixed types (Pow) */
} cpu_ew_params;

/* Computes n outputs of one innermost-dim run: in[i] points at input i's first element for the
 * run and s[i] is its element step (0 where it repeats along the run, else 1). */
typedef void (*cpu_row_fn)(int64_t n, const void *const *in, const int64_t *s, void *out,
                           const cpu_ew_params *p);

/* [DT] = OP_SFX, : a designated initializer for a table of loops indexed by dtype. */
#define CPU_LOOP_ENTRY(OP, SFX, S, C, LD, ST, DT) [DT] = OP##_##SFX,

/* A unary loop NAME: out (type SO, stored with STO) = EXPR(C, x, p) of each input x.
 * No restrict anywhere in these loops: the memory planner may run them with out == in[0] (or
 * in[1]), which each loop handles by reading element i before writing element i. */
#define CPU_UNARY_LOOP(NAME, S, C, LD, SO, STO, EXPR)                                              \
    static void NAME(int64_t n, const void *const *in, const int64_t *s, void *out,                \
                     const cpu_ew_params *p)                                                       \
    {                                                                                              \
        const S *a = in[0];                                                                        \
        SO *o = out;                                                                               \
        (void)s;                                                                                   \
        (void)p;                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const C x = LD(a[i]);                                                                  \
            o[i] = STO(EXPR(C, x, p));                                                             \
        }                                                                                          \
    }

/* A binary loop NAME: out = EXPR(C, x, y, p). The stride patterns get their own loops so the
 * compiler vectorises the common ones. */
#define CPU_BINARY_LOOP(NAME, S, C, LD, SO, STO, EXPR)                                             \
    static void NAME(int64_t n, const void *const *in, const int64_t *s, void *out,                \
                     const cpu_ew_params *p)                                                       \
    {                                                                                              \
        const S *a = in[0];                                                                        \
        const S *b = in[1];                                                                        \
        SO *o = out;                                                                               \
        (void)p;                                                                                   \
        if (s[0] && s[1]) {                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const C x = LD(a[i]), y = LD(b[i]);                                                \
                o[i] = STO(EXPR(C, x, y, p));                                                      \
            }                                                                                      \
        } else if (s[0]) {                                                                         \
            const C y = LD(b[0]);                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const C x = LD(a[i]);                                                              \
                o[i] = STO(EXPR(C, x, y, p));                                                      \
            }                                                                                      \
        } else if (s[1]) {                                                                         \
            const C x = LD(a[0]);                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const C y = LD(b[i]);                                                              \
                o[i] = STO(EXPR(C, x, y, p));                                                      \
            }                                                                                      \
        } else {                                                                                   \
            const C x = LD(a[0]), y = LD(b[0]);                                                    \
            const SO v = STO(EXPR(C, x, y, p));                                                    \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = v;                                                                          \
        }                                                                                          \
    }

/* X-macro adapters: per dtype of a list, OP_SFX computing OP_expr. Same-type result (DEF_UNARY,
 * DEF_BINARY) or a bool one stored as a byte (DEF_UNARY_PRED, DEF_COMPARE). */
#define CPU_DEF_UNARY(OP, SFX, S, C, LD, ST, DT)                                                   \
    CPU_UNARY_LOOP(OP##_##SFX, S, C, LD, S, ST, OP##_expr)
#define CPU_DEF_UNARY_PRED(OP, SFX, S, C, LD, ST, DT)                                              \
    CPU_UNARY_LOOP(OP##_##SFX, S, C, LD, uint8_t, (uint8_t), OP##_expr)
#define CPU_DEF_BINARY(OP, SFX, S, C, LD, ST, DT)                                                  \
    CPU_BINARY_LOOP(OP##_##SFX, S, C, LD, S, ST, OP##_expr)
#define CPU_DEF_COMPARE(OP, SFX, S, C, LD, ST, DT)                                                 \
    CPU_BINARY_LOOP(OP##_##SFX, S, C, LD, uint8_t, (uint8_t), OP##_expr)

/* Two's complement wrap-around for integer arithmetic, done in uint64_t where C defines it. */
#define CPU_WRAP(C, x, op, y) ((C)((uint64_t)(x)op(uint64_t)(y)))

/* ---- broadcasting driver (dispatch.c) --------------------------------------------------- */

/* Elements below which an element-wise, pooling or resize loop runs on the calling thread:
 * memory-bound work that small finishes sooner than the pool's workers wake up. */
#define CPU_EW_GRAIN ((size_t)1 << 16)
/* The same for loops of libm calls (exp, erf, sin, pow: tens of cycles an element), for which
 * a worker pays off from a few thousand elements. */
#define CPU_EW_GRAIN_COSTLY ((size_t)1 << 12)

/* Allocates out with dtype dt and the broadcast shape of the n inputs; an error naming both
 * shapes when they do not broadcast. */
aglm_status cpu_bcast_alloc(const cpu_kctx *k, size_t n, const aglm_tensor *const *in,
                            aglm_dtype dt, aglm_tensor *out);

/* Runs row over every element of out (allocated, each input broadcastable to it), n <= 3
 * inputs, split over the pool. Element sizes come from each tensor's dtype. */
void cpu_bcast_run(cpu_pool *pool, size_t n, const aglm_tensor *const *in, aglm_tensor *out,
                   cpu_row_fn row, const cpu_ew_params *p);
/* cpu_bcast_run with tasks of at least `grain` elements (CPU_EW_GRAIN or _COSTLY). */
void cpu_bcast_run_grain(cpu_pool *pool, size_t n, const aglm_tensor *const *in, aglm_tensor *out,
                         cpu_row_fn row, const cpu_ew_params *p, size_t grain);

/* A row function copying input 0 to out for element sizes 1, 2, 4, 8 (Where's operands, the
 * first operand of a variadic op); NULL for another size. */
cpu_row_fn cpu_copy_row(size_t esize);

/* The loop of `loops` for t's dtype in *row; an error naming `what`, t's dtype and every
 * dtype the table has a loop for when it has none. */
aglm_status cpu_pick_row(const cpu_kctx *k, const cpu_row_fn *loops, const aglm_tensor *t,
                         const char *what, cpu_row_fn *row);

/* y = loop(x) element-wise, with x's shape and dtype out_dt (AGLM_UNDEFINED: x's dtype). */
aglm_status cpu_ew_unary(const cpu_kctx *k, const cpu_row_fn *loops, const aglm_tensor *x,
                         aglm_dtype out_dt, aglm_tensor *y, const cpu_ew_params *p);
/* cpu_ew_unary with tasks of at least `grain` elements (CPU_EW_GRAIN or _COSTLY). */
aglm_status cpu_ew_unary_grain(const cpu_kctx *k, const cpu_row_fn *loops, const aglm_tensor *x,
                               aglm_dtype out_dt, aglm_tensor *y, const cpu_ew_params *p,
                               size_t grain);

/* 1 when an integer tensor holds a 0 (a divisor that would trap). */
int cpu_has_zero(const aglm_tensor *t);

#endif
