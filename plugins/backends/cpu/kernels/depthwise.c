/* Depthwise convolution (group == channels, one filter per channel): row kernels that add each
 * tap's contribution to a whole output row at once (AVX2 and portable), and the driver that
 * splits channels over the pool (depthwise.h). */
#include <string.h>

#include "depthwise.h"
#include "simd.h"

/* Row by row: each output row starts at the bias, then every valid (kd, kh, kw) tap adds
 * x * w over the run of outputs whose input column is inside the image. The run is contiguous
 * in x at stride 1, so the inner loop vectorises at whatever width the function is compiled
 * for, and the padding tests move out of it. */
#define DEPTHWISE_BODY                                                                             \
    int64_t o1 = w->out[1], o2 = w->out[2], s2 = w->s[2];                                          \
    for (int64_t od = 0; od < w->out[0]; od++)                                                     \
        for (int64_t oh = 0; oh < o1; oh++) {                                                      \
            float *restrict yr = y + (od * o1 + oh) * o2;                                          \
            for (int64_t ow = 0; ow < o2; ow++)                                                    \
                yr[ow] = bias;                                                                     \
            for (int64_t kd = 0; kd < w->k[0]; kd++) {                                             \
                int64_t id = od * w->s[0] - w->pb[0] + kd * w->d[0];                               \
                if (id < 0 || id >= w->in[0])                                                      \
                    continue;                                                                      \
                for (int64_t kh = 0; kh < w->k[1]; kh++) {                                         \
                    int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];                           \
                    if (ih < 0 || ih >= w->in[1])                                                  \
                        continue;                                                                  \
                    const float *xr = x + (id * w->in[1] + ih) * w->in[2];                         \
                    const float *wr = wt + (kd * w->k[1] + kh) * w->k[2];                          \
                    for (int64_t kw = 0; kw < w->k[2]; kw++) {                                     \
                        /* valid ow: 0 <= ow * s2 + off < in[2] */                                 \
                        int64_t off = kw * w->d[2] - w->pb[2];                                     \
                        int64_t lo = off >= 0 ? 0 : (-off + s2 - 1) / s2;                          \
                        int64_t hi = w->in[2] - off <= 0 ? 0 : (w->in[2] - off + s2 - 1) / s2;     \
                        if (hi > o2)                                                               \
                            hi = o2;                                                               \
                        const float wv = wr[kw];                                                   \
                        if (s2 == 1)                                                               \
                            for (int64_t ow = lo; ow < hi; ow++)                                   \
                                yr[ow] += xr[ow + off] * wv;                                       \
                        else if (s2 == 2 && hi > lo)                                               \
                            STRIDE2(yr + lo, xr + lo * 2 + off, wv, hi - lo);                      \
                        else                                                                       \
                            for (int64_t ow = lo; ow < hi; ow++)                                   \
                                yr[ow] += xr[ow * s2 + off] * wv;                                  \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }

/* y[i] += x[2 i] * w for i < n: stride-2 rows (the downsampling depthwise convolutions). */
static void stride2_portable(float *y, const float *x, float w, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] += x[2 * i] * w;
}

#define STRIDE2 stride2_portable
static void plane_portable(const aglm_window *w, const float *x, const float *wt, float bias,
                           float *y)
{
    DEPTHWISE_BODY
}
#undef STRIDE2

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* stride2_portable with AVX2: two loads of 8 give 8 even elements after a shuffle within lanes
 * and a cross-lane permute (the compiler leaves the strided loop scalar). Multiply then add, as
 * the body's other loops do, so rounding matches theirs. The vector loop stops while x[2 i + 15]
 * is still an element of the row (i + 8 < n), never reading past the input. */
__attribute__((target("avx2,fma"))) static void stride2_avx2(float *y, const float *x, float w,
                                                             int64_t n)
{
    const __m256 wv = _mm256_set1_ps(w);
    int64_t i = 0;
    for (; i + 8 < n; i += 8) {
        __m256 a = _mm256_loadu_ps(x + 2 * i), b = _mm256_loadu_ps(x + 2 * i + 8);
        __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
        e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(e, wv)));
    }
    for (; i < n; i++)
        y[i] += x[2 * i] * w;
}

#define STRIDE2 stride2_avx2
/* The same loops compiled for AVX2 + FMA: 8 outputs per instruction. */
__attribute__((target("avx2,fma"))) static void plane_avx2(const aglm_window *w, const float *x,
                                                           const float *wt, float bias, float *y)
{
    DEPTHWISE_BODY
}
#undef STRIDE2
#endif

/* The padded plane: rows of in[2] + pads + 16 floats, so a block of 8 outputs at stride 1 or 2
 * reads whole vectors without a bounds test (the slack past the right pad is zero). */
static int64_t padded_row(const aglm_window *w)
{
    return w->in[2] + w->pb[2] + w->pe[2] + 16;
}

/* 2-D (one depth slice, no depth taps) at width stride 1 or 2: what the blocked path runs. */
static int blocked_ok(const aglm_window *w)
{
    return w->in[0] == 1 && w->k[0] == 1 && w->out[0] == 1 && (w->s[2] == 1 || w->s[2] == 2);
}

size_t cpu_depthwise_scratch_floats(const aglm_window *w)
{
    if (!blocked_ok(w))
        return 0;
    return (size_t)((w->in[1] + w->pb[1] + w->pe[1]) * padded_row(w));
}

#if defined(__x86_64__) && defined(__GNUC__)
/* 8 floats at p, or at stride 2 the 8 even ones of p[0..15] (a shuffle within lanes, then a
 * cross-lane permute). */
__attribute__((target("avx2,fma"))) static inline __m256 load8(const float *p, int64_t s2)
{
    if (s2 == 1)
        return _mm256_loadu_ps(p);
    __m256 v =
        _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* x copied into the zeroed padded plane, then for each block of 8 outputs of a row one register
 * accumulates bias + every tap (multiply, then add, as the row loops do), stored once. Taps in
 * the left and right padding add 0 * w; whole kernel rows in the top and bottom padding are
 * skipped, as the row loops skip them. */
__attribute__((target("avx2,fma"))) static void plane_blocked_avx2(const aglm_window *w,
                                                                   const float *x, const float *wt,
                                                                   float bias, float *y, float *pad)
{
    int64_t pw = padded_row(w);
    /* Zero only what the copy leaves: the pad rows, and each row's margins and slack. */
    memset(pad, 0, (size_t)(w->pb[1] * pw) * sizeof *pad);
    memset(pad + (w->pb[1] + w->in[1]) * pw, 0, (size_t)(w->pe[1] * pw) * sizeof *pad);
    for (int64_t h = 0; h < w->in[1]; h++) {
        float *r = pad + (h + w->pb[1]) * pw;
        memset(r, 0, (size_t)w->pb[2] * sizeof *pad);
        memcpy(r + w->pb[2], x + h * w->in[2], (size_t)w->in[2] * sizeof *pad);
        memset(r + w->pb[2] + w->in[2], 0, (size_t)(pw - w->pb[2] - w->in[2]) * sizeof *pad);
    }
    int64_t o1 = w->out[1], o2 = w->out[2], s1 = w->s[1], s2 = w->s[2];
    int64_t k1 = w->k[1], k2 = w->k[2], d1 = w->d[1], d2 = w->d[2];
    for (int64_t oh = 0; oh < o1; oh++) {
        float *yr = y + oh * o2;
        int64_t ow = 0;
        /* Only the kernel rows that land on image rows: the rest would add 0 * w (ocr-cls's
         * 5x5 over 2-row planes: 3 of 5 rows are padding), and the row loops skip them too. */
        int64_t base = oh * s1 - w->pb[1];
        int64_t kh0 = base >= 0 ? 0 : (-base + d1 - 1) / d1;
        int64_t kh1 = w->in[1] - 1 - base < 0 ? 0 : (w->in[1] - 1 - base) / d1 + 1;
        if (kh1 > k1)
            kh1 = k1;
        /* Four blocks at once: four independent sums hide the add latency that one chain of
         * taps would wait on, and each weight is broadcast once for 32 outputs. */
        for (; ow + 32 <= o2; ow += 32) {
            __m256 a0 = _mm256_set1_ps(bias), a1 = a0, a2 = a0, a3 = a0;
            for (int64_t kh = kh0; kh < kh1; kh++) {
                const float *row = pad + (oh * s1 + kh * d1) * pw + ow * s2;
                const float *wr = wt + kh * k2;
                for (int64_t kw = 0; kw < k2; kw++) {
                    const float *p = row + kw * d2;
                    const __m256 wv = _mm256_broadcast_ss(wr + kw);
                    a0 = _mm256_add_ps(a0, _mm256_mul_ps(load8(p, s2), wv));
                    a1 = _mm256_add_ps(a1, _mm256_mul_ps(load8(p + 8 * s2, s2), wv));
                    a2 = _mm256_add_ps(a2, _mm256_mul_ps(load8(p + 16 * s2, s2), wv));
                    a3 = _mm256_add_ps(a3, _mm256_mul_ps(load8(p + 24 * s2, s2), wv));
                }
            }
            _mm256_storeu_ps(yr + ow, a0);
            _mm256_storeu_ps(yr + ow + 8, a1);
            _mm256_storeu_ps(yr + ow + 16, a2);
            _mm256_storeu_ps(yr + ow + 24, a3);
        }
        for (; ow < o2; ow += 8) {
            __m256 acc = _mm256_set1_ps(bias);
            for (int64_t kh = kh0; kh < kh1; kh++) {
                const float *row = pad + (oh * s1 + kh * d1) * pw + ow * s2;
                const float *wr = wt + kh * k2;
                for (int64_t kw = 0; kw < k2; kw++)
                    acc = _mm256_add_ps(
                        acc, _mm256_mul_ps(load8(row + kw * d2, s2), _mm256_broadcast_ss(wr + kw)));
            }
            if (ow + 8 <= o2) {
                _mm256_storeu_ps(yr + ow, acc);
            } else {
                float t[8];
                _mm256_storeu_ps(t, acc);
                memcpy(yr + ow, t, (size_t)(o2 - ow) * sizeof *t);
            }
        }
    }
}
#endif

void cpu_depthwise_plane(const aglm_window *w, const float *x, const float *wt, float bias,
                         float *y, float *scratch)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (cpu_simd_active() == CPU_SIMD_AVX2) {
        if (scratch && blocked_ok(w))
            plane_blocked_avx2(w, x, wt, bias, y, scratch);
        else
            plane_avx2(w, x, wt, bias, y);
        return;
    }
#endif
    (void)scratch;
    plane_portable(w, x, wt, bias, y);
}
