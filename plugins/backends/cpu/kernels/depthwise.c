#include "depthwise.h"
#include "simd.h"

/* Row by row: each output row starts at the bias, then every valid (kd, kh, kw) tap adds
 * x * w over the run of outputs whose input column is inside the image. The run is contiguous
 * in x at stride 1, so the inner loop vectorises at whatever width the function is compiled
 * for, and the padding tests move out of it. */
#define DEPTHWISE_BODY                                                                           \
    int64_t o1 = w->out[1], o2 = w->out[2], s2 = w->s[2];                                        \
    for (int64_t od = 0; od < w->out[0]; od++)                                                   \
        for (int64_t oh = 0; oh < o1; oh++) {                                                    \
            float *restrict yr = y + (od * o1 + oh) * o2;                                        \
            for (int64_t ow = 0; ow < o2; ow++)                                                  \
                yr[ow] = bias;                                                                   \
            for (int64_t kd = 0; kd < w->k[0]; kd++) {                                           \
                int64_t id = od * w->s[0] - w->pb[0] + kd * w->d[0];                             \
                if (id < 0 || id >= w->in[0])                                                    \
                    continue;                                                                    \
                for (int64_t kh = 0; kh < w->k[1]; kh++) {                                       \
                    int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];                         \
                    if (ih < 0 || ih >= w->in[1])                                                \
                        continue;                                                                \
                    const float *xr = x + (id * w->in[1] + ih) * w->in[2];                       \
                    const float *wr = wt + (kd * w->k[1] + kh) * w->k[2];                        \
                    for (int64_t kw = 0; kw < w->k[2]; kw++) {                                   \
                        /* valid ow: 0 <= ow * s2 + off < in[2] */                               \
                        int64_t off = kw * w->d[2] - w->pb[2];                                   \
                        int64_t lo = off >= 0 ? 0 : (-off + s2 - 1) / s2;                        \
                        int64_t hi = w->in[2] - off <= 0 ? 0 : (w->in[2] - off + s2 - 1) / s2;   \
                        if (hi > o2)                                                             \
                            hi = o2;                                                             \
                        const float wv = wr[kw];                                                 \
                        if (s2 == 1)                                                             \
                            for (int64_t ow = lo; ow < hi; ow++)                                 \
                                yr[ow] += xr[ow + off] * wv;                                     \
                        else                                                                     \
                            for (int64_t ow = lo; ow < hi; ow++)                                 \
                                yr[ow] += xr[ow * s2 + off] * wv;                                \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
        }

static void plane_portable(const cpu_window *w, const float *x, const float *wt, float bias,
                           float *y)
{
    DEPTHWISE_BODY
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same loops compiled for AVX2 + FMA: 8 outputs per instruction. */
__attribute__((target("avx2,fma"))) static void plane_avx2(const cpu_window *w, const float *x,
                                                           const float *wt, float bias, float *y)
{
    DEPTHWISE_BODY
}
#endif

void cpu_depthwise_plane(const cpu_window *w, const float *x, const float *wt, float bias,
                         float *y)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (cpu_simd_active() == CPU_SIMD_AVX2) {
        plane_avx2(w, x, wt, bias, y);
        return;
    }
#endif
    plane_portable(w, x, wt, bias, y);
}
