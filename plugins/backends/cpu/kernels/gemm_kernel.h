/* The GEMM's micro-kernels, one per SIMD path (see simd.h): what gemm.c's blocked driver calls on
 * packed panels. Internal to gemm*.c and conv_gemm.c. */
#ifndef CPU_GEMM_KERNEL_H
#define CPU_GEMM_KERNEL_H

#include <stdint.h>

#include "simd.h"

/* Where one mr x nr block of C goes: rows x cols of it are real (the rest is packing padding).
 * first: the block's first K slice, so C = alpha * acc (+ beta * C unless beta is 0, in which
 * case C is not read); later slices add alpha * acc. */
typedef struct cpu_gemm_out {
    float *c;
    int64_t ldc;
    int rows, cols;
    float alpha, beta;
    int first;
} cpu_gemm_out;

/* acc = A panel (kc x mr, k-major) times B panel (kc x nr, k-major), stored through *o. */
typedef void (*cpu_gemm_ukernel)(int64_t kc, const float *a, const float *b, const cpu_gemm_out *o);

/* The same with B read in place: row p of the B panel is the nr floats at x + off[p] (the
 * convolution driver's taps over a run of outputs, conv_gemm.c). */
typedef void (*cpu_gemm_gkernel)(int64_t kc, const float *a, const float *x, const int32_t *off,
                                 const cpu_gemm_out *o);

typedef struct cpu_gemm_kernel {
    const char *name;
    int mr, nr;         /* register block: mr 4 or 6, nr 8 or 16 (what gemm.c packs for) */
    int64_t mc, kc, nc; /* cache blocks: mc x kc of A in L2, kc x nr of B in L1; mc % mr == 0 */
    cpu_gemm_ukernel run;
    cpu_gemm_gkernel gather; /* NULL: the path has none (callers pack B instead) */
} cpu_gemm_kernel;

/* Stores an accumulator block (rows of `stride` floats) through *o, element by element. */
void cpu_gemm_store(const cpu_gemm_out *o, const float *acc, int stride);

/* The micro-kernel and blocking of SIMD path s (the portable one where s is not compiled in):
 * what the GEMM driver and the convolution driver (conv_gemm.c) pack their panels for. */
const cpu_gemm_kernel *cpu_gemm_kernel_for(cpu_simd s);

extern const cpu_gemm_kernel cpu_gemm_portable;
#if defined(__x86_64__) && defined(__GNUC__)
extern const cpu_gemm_kernel cpu_gemm_avx2;
#endif

#endif
