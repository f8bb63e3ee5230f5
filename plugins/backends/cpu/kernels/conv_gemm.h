/* The convolution driver behind Conv and aglm.FusedConv for every convolution that is not
 * depthwise: weights packed once into the GEMM micro-kernel's A panels, then one parallel loop
 * over output tiles in which each worker builds its slice of the im2col matrix straight into the
 * micro-kernel's packed B layout (in its own cached scratch), multiplies, and adds the bias and
 * runs the epilogue while the tile is still in cache. */
#ifndef CPU_CONV_GEMM_H
#define CPU_CONV_GEMM_H

#include "conv_epilogue.h"
#include "simd.h"

/* GCC's -O2 vectorises only loops its "very cheap" cost model accepts, which leaves short
 * fixed-pattern loops (Winograd's transforms, ConvTranspose's interleaved stores) scalar;
 * this asks for the usual cost model on the functions that hold them. Clang vectorises them at
 * -O2 already. */
#if defined(__GNUC__) && !defined(__clang__)
#define CPU_VECTORISE __attribute__((optimize("-ftree-vectorize", "-fvect-cost-model=dynamic")))
#else
#define CPU_VECTORISE
#endif

/* Weights [group * mg, kdim] (kdim = C/group * kernel size) in the A-panel layout of one SIMD
 * path: per group, per K block of kc, per mr-row panel, kc x mr floats k-major, rows past mg
 * zero. The layout depends on the path (mr, kc), so it is recorded and checked at run time. */
typedef struct cpu_conv_packed {
    cpu_simd simd;
    int mr;
    int64_t kc;
    int64_t group, mg, kdim;
    int64_t mgp;  /* mg rounded up to mr */
    float *a;     /* group * mgp * kdim floats, 64-byte aligned */
    int winograd; /* 1: the 16 transformed planes of conv_winograd.c (group 16, kdim C) */
} cpu_conv_packed;

/* Packs w (group * mg rows of kdim floats) for path s into *out; AGLM_ERR_NOMEM if it cannot. */
aglm_status cpu_conv_pack(const float *w, int64_t group, int64_t mg, int64_t kdim, cpu_simd s,
                          cpu_conv_packed *out);
/* Frees what cpu_conv_pack allocated (a zeroed struct is fine). */
void cpu_conv_packed_free(cpu_conv_packed *p);

/* y[batch, group * mg, out...] = conv(x[batch, channels, in...], packed weights) + bias (NULL:
 * none), then ep (NULL: none) on every element once. w is the resolved window; channels =
 * group * (kdim / kernel size). AGLM_ERR_NOMEM when scratch cannot be had. */
aglm_status cpu_conv_gemm(const cpu_kctx *k, const aglm_window *w, const float *x, int64_t batch,
                          int64_t channels, const cpu_conv_packed *pk, const float *bias,
                          const cpu_conv_epilogue *ep, float *y);

/* The prepare / release pair of Conv and FusedConv (cpu_prep): packs a constant f32 weight
 * (input 1) of a non-depthwise convolution for the active SIMD path into *state, an array of
 * two cpu_conv_packed: [0] for cpu_conv_gemm, [1] for Winograd (conv_winograd.h; a NULL when
 * it cannot apply). Leaves *state NULL otherwise, and the kernel then packs per call. */
aglm_status cpu_conv_prepare(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *consts,
                             void **state);
void cpu_conv_release(void *state);

#endif
