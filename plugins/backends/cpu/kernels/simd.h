/* Run-time SIMD dispatch for the cpu backend's f32 kernels (the GEMM under Conv, MatMul and Gemm,
 * and depthwise convolution).
 *
 * Every path is compiled into the plugin; the ones beyond baseline x86-64 use per-function target
 * attributes, so the plugin still loads and runs on any x86-64 (and builds elsewhere, with the
 * portable path only). The backend picks one path at init: the fastest this CPU runs, unless
 * [plugin.cpu] simd or the environment variable AGLM_CPU_SIMD names one. */
#ifndef CPU_SIMD_H
#define CPU_SIMD_H

#include <stdint.h>
#include "aglm/status.h"

typedef enum cpu_simd {
    CPU_SIMD_PORTABLE, /* plain C, whatever the compiler's baseline target vectorises it to */
    CPU_SIMD_AVX2,     /* AVX2 + FMA, 8-wide fused multiply-add */
    CPU_SIMD_COUNT
} cpu_simd;

/* "portable", "avx2". */
const char *cpu_simd_name(cpu_simd s);

/* 1 when path s is compiled in and this CPU can run it. */
int cpu_simd_available(cpu_simd s);

/* The fastest available path. */
cpu_simd cpu_simd_best(void);

/* Parses a setting: "auto" (the fastest available) or a path's name. Refuses unknown names and
 * paths this CPU or build lacks, naming `what` (the setting) and the value. */
aglm_status cpu_simd_parse(const char *value, const char *what, cpu_simd *out);

/* The path every kernel uses from now on (process-wide: the plugin's kernels are shared by all
 * its executables). s must be available. */
void cpu_simd_select(cpu_simd s);
cpu_simd cpu_simd_active(void);

#endif
