/* Vectorised f32 rows for the element-wise, activation and pooling kernels.
 *
 * Each function runs its AVX2 path (ew_avx2.c) when that is the active SIMD path (simd.h) and
 * returns 1; otherwise it does nothing and returns 0, and the caller runs its own portable loop,
 * so AGLM_CPU_SIMD=portable keeps the plain C kernels bit for bit.
 *
 * Outputs may alias inputs element for element (out == a, the memory planner's in-place runs):
 * every element is read before the same element is written and no other element in between. */
#ifndef CPU_EW_SIMD_H
#define CPU_EW_SIMD_H

#include <stdint.h>

typedef enum cpu_ew_binop { CPU_EW_ADD, CPU_EW_SUB, CPU_EW_MUL, CPU_EW_DIV } cpu_ew_binop;

/* o[i] = a[i * sa] op b[i * sb] for i < n, where each step is 0 (a repeated scalar) or 1. */
int cpu_ew_binary_f32(cpu_ew_binop op, int64_t n, const float *a, int64_t sa, const float *b,
                      int64_t sb, float *o);

typedef enum cpu_ew_unop {
    CPU_EW_RELU,     /* x < 0 ? 0 : x, NaN and -0 kept */
    CPU_EW_SIGMOID,  /* 1 / (1 + exp(-x)), without overflow on either side */
    CPU_EW_HSIGMOID, /* clamp(alpha * x + beta, 0, 1), NaN kept */
    CPU_EW_HSWISH,   /* x * clamp(x / 6 + 0.5, 0, 1) */
    CPU_EW_EXP,      /* exp(x) within 2 ulp, inf, 0 and NaN exact */
} cpu_ew_unop;

/* y[i] = op(x[i]) for i < n; alpha and beta are HardSigmoid's attributes. */
int cpu_ew_unary_f32(cpu_ew_unop op, int64_t n, const float *x, float *y, float alpha, float beta);

/* Sum of x[0..n) accumulated in double, into *sum. */
int cpu_ew_sum_f32(const float *x, int64_t n, double *sum);

/* Sum of (x[i] - mean)^2 over x[0..n), in double, into *sum (a variance's numerator). */
int cpu_ew_sqdev_f32(const float *x, int64_t n, double mean, double *sum);

/* The largest of x[0..n) (n >= 1), or the first NaN when there is one, into *max. */
int cpu_ew_max_f32(const float *x, int64_t n, float *max);

/* Softmax of one contiguous line: y = exp(x - max) / sum, the sum in double. Declines (0) for
 * lines with a NaN or an infinite maximum, which the portable loop handles. */
int cpu_ew_softmax_f32(const float *x, float *y, int64_t n);

#endif
