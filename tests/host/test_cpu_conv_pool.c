/* Conv and the pools of the backend under test, run through its ops table as the host runs them,
 * against the ONNX operator docs' worked examples and a direct reference on random data. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backend_fixture.h"

/* ---- a direct 2-D convolution: the definition, one output element at a time ---------------- */

typedef struct conv_p {
    int64_t pads[4]; /* top, left, bottom, right */
    int64_t strides[2];
    int64_t dil[2];
    int64_t group;
} conv_p;

static aglm_tensor conv_ref(const aglm_tensor *x, const aglm_tensor *w, const aglm_tensor *b,
                            conv_p p)
{
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t M = w->dims[0], Cg = w->dims[1], KH = w->dims[2], KW = w->dims[3];
    int64_t OH = (H + p.pads[0] + p.pads[2] - ((KH - 1) * p.dil[0] + 1)) / p.strides[0] + 1;
    int64_t OW = (W + p.pads[1] + p.pads[3] - ((KW - 1) * p.dil[1] + 1)) / p.strides[1] + 1;
    int64_t dims[4] = {N, M, OH, OW};
    aglm_tensor y = tensor_f32(4, dims, NULL);
    const float *xd = x->data, *wd = w->data, *bd = b ? b->data : NULL;
    float *yd = y.data;
    (void)C;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    int64_t g = m / (M / p.group);
                    double acc = bd ? bd[m] : 0.0;
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t kh = 0; kh < KH; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * p.strides[0] - p.pads[0] + kh * p.dil[0];
                                int64_t iw = ow * p.strides[1] - p.pads[1] + kw * p.dil[1];
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                acc += (double)xd[((n * C + g * Cg + c) * H + ih) * W + iw] *
                                       wd[((m * Cg + c) * KH + kh) * KW + kw];
                            }
                    yd[((n * M + m) * OH + oh) * OW + ow] = (float)acc;
                }
    return y;
}

static void set_conv_attrs(aglm_node *n, conv_p p)
{
    assert_int_equal(aglm_node_set_ints(n, "pads", p.pads, 4), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", p.strides, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "dilations", p.dil, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "group", p.group), AGLM_OK);
}

/* Conv on random data with weights as a constant (as models have them) against conv_ref. */
static void check_conv(backend_fx *f, const int64_t xd[4], const int64_t wd[4], int bias, conv_p p,
                       uint32_t seed)
{
    aglm_tensor x = tensor_random(4, xd, seed), w = tensor_random(4, wd, seed + 1);
    aglm_tensor b = tensor_random(1, wd, seed + 2);
    const aglm_tensor *ins[3] = {&x, &w, bias ? &b : NULL};
    const int is_const[3] = {0, 1, 1};
    aglm_node *n;
    aglm_graph *g = op_graph("Conv", 17, bias ? 3 : 2, ins, is_const, 1, &n);
    set_conv_attrs(n, p);
    aglm_tensor y;
    run_op(f, g, bias ? 3 : 2, ins, is_const, 1, &y);
    aglm_tensor want = conv_ref(&x, &w, bias ? &b : NULL, p);
    assert_close(&y, &want, 1e-4, 1e-4);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
    aglm_tensor_free(&b);
}

/* The same Conv with its weights as a constant (packed once when the executable is built) and
 * as a graph input (packed on every run): both must match conv_ref, and each other exactly,
 * since they run the same kernels on the same packed layout. */
static void check_conv_packed_and_not(backend_fx *f, const int64_t xd[4], const int64_t wd[4],
                                      conv_p p, uint32_t seed)
{
    aglm_tensor x = tensor_random(4, xd, seed), w = tensor_random(4, wd, seed + 1);
    aglm_tensor b = tensor_random(1, wd, seed + 2);
    const aglm_tensor *ins[3] = {&x, &w, &b};
    aglm_tensor y[2];
    for (int c = 0; c < 2; c++) {
        const int is_const[3] = {0, c == 0, 1};
        aglm_node *n;
        aglm_graph *g = op_graph("Conv", 17, 3, ins, is_const, 1, &n);
        set_conv_attrs(n, p);
        run_op(f, g, 3, ins, is_const, 1, &y[c]);
    }
    aglm_tensor want = conv_ref(&x, &w, &b, p);
    double tol = 1e-5 * (double)(wd[1] * wd[2] * wd[3]) + 1e-5;
    assert_close(&y[0], &want, tol, 1e-5);
    assert_int_equal(aglm_tensor_numel(&y[0]), aglm_tensor_numel(&y[1]));
    if (memcmp(y[0].data, y[1].data, (size_t)aglm_tensor_numel(&y[0]) * sizeof(float)) != 0)
        fail_msg("Conv x [%lld,%lld,%lld,%lld] w [%lld,%lld,%lld,%lld]: packed-at-compile and "
                 "packed-per-run results differ",
                 (long long)xd[0], (long long)xd[1], (long long)xd[2], (long long)xd[3],
                 (long long)wd[0], (long long)wd[1], (long long)wd[2], (long long)wd[3]);
    for (int c = 0; c < 2; c++)
        aglm_tensor_free(&y[c]);
    aglm_tensor_free(&want);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
    aglm_tensor_free(&b);
}

/* The convolution driver's cases: runs read in place and gathered, K over one block (kc 256),
 * output channels split over work items, ragged rows, strides, dilations, groups, batches. */
static void test_conv_prepacked_matches_unpacked(void **state)
{
    backend_fx *f = *state;
    /* 3x3 pad 1, 40 channels: K = 360 spans two K blocks; width 37 leaves ragged runs */
    check_conv_packed_and_not(f, (int64_t[]){1, 40, 9, 37}, (int64_t[]){13, 40, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {1, 1}, {1, 1}, 1}, 101);
    /* many output channels (split into channel tiles), 1x1 read as one flat plane */
    check_conv_packed_and_not(f, (int64_t[]){2, 300, 5, 7}, (int64_t[]){200, 300, 1, 1},
                              (conv_p){{0, 0, 0, 0}, {1, 1}, {1, 1}, 1}, 102);
    /* stride 2, asymmetric pads, dilation 2 */
    check_conv_packed_and_not(f, (int64_t[]){1, 6, 23, 41}, (int64_t[]){10, 6, 3, 3},
                              (conv_p){{2, 0, 1, 3}, {2, 2}, {2, 2}, 1}, 103);
    /* height stride only, width runs still in place */
    check_conv_packed_and_not(f, (int64_t[]){1, 5, 12, 40}, (int64_t[]){7, 5, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {2, 1}, {1, 1}, 1}, 104);
    /* 3 groups of 4 channels, 2 images, a 1x3 kernel */
    check_conv_packed_and_not(f, (int64_t[]){2, 12, 4, 50}, (int64_t[]){9, 4, 1, 3},
                              (conv_p){{0, 1, 0, 1}, {1, 1}, {1, 1}, 3}, 105);
    /* depthwise stride 2 over rows wide enough for the vector loop (odd and even widths) */
    check_conv_packed_and_not(f, (int64_t[]){1, 4, 7, 53}, (int64_t[]){4, 1, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {2, 2}, {1, 1}, 4}, 107);
    check_conv_packed_and_not(f, (int64_t[]){1, 2, 6, 40}, (int64_t[]){2, 1, 5, 5},
                              (conv_p){{2, 2, 2, 2}, {2, 2}, {1, 1}, 2}, 108);
    /* depthwise rows of 32 outputs and more (four register blocks at once), then a ragged
     * block, at stride 1 with dilation and at stride 2 */
    check_conv_packed_and_not(f, (int64_t[]){1, 3, 5, 75}, (int64_t[]){3, 1, 3, 3},
                              (conv_p){{1, 2, 1, 2}, {1, 1}, {1, 2}, 3}, 109);
    check_conv_packed_and_not(f, (int64_t[]){2, 2, 5, 140}, (int64_t[]){2, 1, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {1, 2}, {1, 1}, 2}, 110);
    /* a 1x1 with padding (gathered and zero-padded, not flat) */
    check_conv_packed_and_not(f, (int64_t[]){1, 3, 4, 18}, (int64_t[]){5, 3, 1, 1},
                              (conv_p){{1, 2, 0, 1}, {1, 1}, {1, 1}, 1}, 106);
}

/* Width strides run in place on phase-split rows (conv_gemm.c): the 3 -> 16 stride-2 stems of
 * the OCR models, with odd and even widths, with and without pads, stride 3, a dilated tap
 * whose column lands in another phase, and a width-only stride. */
static void test_conv_strided_stems(void **state)
{
    backend_fx *f = *state;
    check_conv_packed_and_not(f, (int64_t[]){1, 3, 20, 64}, (int64_t[]){16, 3, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {2, 2}, {1, 1}, 1}, 201);
    check_conv_packed_and_not(f, (int64_t[]){2, 3, 17, 75}, (int64_t[]){16, 3, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {2, 2}, {1, 1}, 1}, 202);
    check_conv_packed_and_not(f, (int64_t[]){1, 3, 12, 70}, (int64_t[]){8, 3, 3, 3},
                              (conv_p){{0, 0, 0, 0}, {2, 2}, {1, 1}, 1}, 203);
    check_conv_packed_and_not(f, (int64_t[]){1, 4, 11, 101}, (int64_t[]){7, 4, 3, 5},
                              (conv_p){{1, 2, 0, 1}, {1, 3}, {1, 2}, 1}, 204);
    check_conv_packed_and_not(f, (int64_t[]){1, 5, 6, 67}, (int64_t[]){9, 5, 2, 2},
                              (conv_p){{0, 1, 1, 0}, {1, 2}, {1, 1}, 1}, 205);
    /* strided and grouped: each group's phases are its own channels */
    check_conv_packed_and_not(f, (int64_t[]){1, 6, 9, 45}, (int64_t[]){4, 3, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {2, 2}, {1, 1}, 2}, 206);
    /* depthwise 5x5 pad 2 over 2-row planes (ocr-cls): most kernel rows fall in the padding */
    check_conv_packed_and_not(f, (int64_t[]){1, 6, 2, 96}, (int64_t[]){6, 1, 5, 5},
                              (conv_p){{2, 2, 2, 2}, {1, 1}, {1, 1}, 6}, 208);
    check_conv_packed_and_not(f, (int64_t[]){1, 3, 3, 45}, (int64_t[]){3, 1, 5, 5},
                              (conv_p){{3, 2, 1, 2}, {1, 1}, {1, 1}, 3}, 209);
    /* unpadded and unstrided, the input read in place without a copy */
    check_conv_packed_and_not(f, (int64_t[]){1, 3, 9, 40}, (int64_t[]){6, 3, 3, 3},
                              (conv_p){{0, 0, 0, 0}, {1, 1}, {1, 1}, 1}, 207);
}

/* 3x3 stride-1 convolutions over planes of 128 x 128 outputs and more run Winograd F(2x2, 3x3)
 * (conv_winograd.c): even and odd output sizes (a last tile hanging over the edge), tile rows
 * past one block, asymmetric and no pads, K over one kc block, with bias, against the direct
 * definition, weights packed at compile time and per run. */
static void test_conv_winograd(void **state)
{
    backend_fx *f = *state;
    check_conv_packed_and_not(f, (int64_t[]){1, 16, 128, 130}, (int64_t[]){8, 16, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {1, 1}, {1, 1}, 1}, 401);
    check_conv_packed_and_not(f, (int64_t[]){1, 17, 129, 131}, (int64_t[]){9, 17, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {1, 1}, {1, 1}, 1}, 402);
    check_conv_packed_and_not(f, (int64_t[]){2, 20, 131, 135}, (int64_t[]){13, 20, 3, 3},
                              (conv_p){{0, 2, 1, 0}, {1, 1}, {1, 1}, 1}, 403);
    check_conv_packed_and_not(f, (int64_t[]){1, 260, 128, 128}, (int64_t[]){8, 260, 3, 3},
                              (conv_p){{1, 1, 1, 1}, {1, 1}, {1, 1}, 1}, 404);
}

/* ---- ConvTranspose, 2-D, one group: the definition, scattering every input element ------- */

typedef struct convt_p {
    int64_t k[2], s[2], pads[4], opad[2]; /* pads: top, left, bottom, right */
} convt_p;

static aglm_tensor convt_ref(const aglm_tensor *x, const aglm_tensor *w, const aglm_tensor *b,
                             convt_p p)
{
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], M = w->dims[1];
    int64_t OH = (H - 1) * p.s[0] + p.opad[0] + p.k[0] - p.pads[0] - p.pads[2];
    int64_t OW = (W - 1) * p.s[1] + p.opad[1] + p.k[1] - p.pads[1] - p.pads[3];
    int64_t dims[4] = {N, M, OH, OW};
    aglm_tensor y = tensor_f32(4, dims, NULL);
    const float *xd = x->data, *wd = w->data, *bd = b ? b->data : NULL;
    float *yd = y.data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t q = 0; q < OH * OW; q++)
                yd[(n * M + m) * OH * OW + q] = bd ? bd[m] : 0.0f;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t ih = 0; ih < H; ih++)
                for (int64_t iw = 0; iw < W; iw++)
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t kh = 0; kh < p.k[0]; kh++)
                            for (int64_t kw = 0; kw < p.k[1]; kw++) {
                                int64_t oh = ih * p.s[0] - p.pads[0] + kh;
                                int64_t ow = iw * p.s[1] - p.pads[1] + kw;
                                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW)
                                    continue;
                                yd[((n * M + m) * OH + oh) * OW + ow] +=
                                    xd[((n * C + c) * H + ih) * W + iw] *
                                    wd[((c * M + m) * p.k[0] + kh) * p.k[1] + kw];
                            }
    return y;
}

static void check_convt(backend_fx *f, const int64_t xd[4], int64_t m, int bias, convt_p p,
                        uint32_t seed)
{
    int64_t wd[4] = {xd[1], m, p.k[0], p.k[1]};
    aglm_tensor x = tensor_random(4, xd, seed), w = tensor_random(4, wd, seed + 1);
    aglm_tensor b = tensor_random(1, (int64_t[]){m}, seed + 2);
    const aglm_tensor *ins[3] = {&x, &w, bias ? &b : NULL};
    const int is_const[3] = {0, 1, 1};
    aglm_node *n;
    aglm_graph *g = op_graph("ConvTranspose", 17, bias ? 3 : 2, ins, is_const, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", p.k, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", p.s, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "pads", p.pads, 4), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "output_padding", p.opad, 2), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, bias ? 3 : 2, ins, is_const, 1, &y);
    aglm_tensor want = convt_ref(&x, &w, bias ? &b : NULL, p);
    assert_close(&y, &want, 1e-5 * (double)xd[1] + 1e-5, 1e-5);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
    aglm_tensor_free(&b);
}

/* Kernel == stride (the tiled path: ocr-det's 2x2 stride-2 heads, ragged and full runs, many
 * channels over one K block, rows past a register block) and the general col2im path beside
 * it (overlapping kernels, pads, output padding), with and without bias. */
static void test_conv_transpose_tiled_and_general(void **state)
{
    backend_fx *f = *state;
    check_convt(f, (int64_t[]){1, 24, 9, 37}, 24, 1, (convt_p){{2, 2}, {2, 2}, {0}, {0}}, 301);
    check_convt(f, (int64_t[]){2, 24, 5, 32}, 1, 0, (convt_p){{2, 2}, {2, 2}, {0}, {0}}, 302);
    check_convt(f, (int64_t[]){1, 300, 3, 17}, 5, 1, (convt_p){{2, 2}, {2, 2}, {0}, {0}}, 303);
    check_convt(f, (int64_t[]){1, 7, 4, 5}, 3, 1, (convt_p){{3, 1}, {3, 1}, {0}, {0}}, 304);
    check_convt(f, (int64_t[]){1, 1, 3, 16}, 2, 0, (convt_p){{1, 1}, {1, 1}, {0}, {0}}, 305);
    /* general: overlap, pads, output padding (kernel == stride but an extra row) */
    check_convt(f, (int64_t[]){1, 6, 7, 9}, 4, 1, (convt_p){{3, 3}, {2, 2}, {1, 0, 1, 1}, {0}},
                306);
    check_convt(f, (int64_t[]){2, 5, 6, 11}, 3, 0, (convt_p){{2, 2}, {2, 2}, {0}, {1, 1}}, 307);
    check_convt(f, (int64_t[]){1, 4, 5, 8}, 2, 1, (convt_p){{2, 2}, {2, 2}, {1, 0, 0, 1}, {0}},
                308);
}

/* The ONNX Conv examples: a 5x5 ramp convolved with a 3x3 of ones. */
static void test_conv_onnx_examples(void **state)
{
    backend_fx *f = *state;
    float xv[35], ones[9];
    for (int i = 0; i < 35; i++)
        xv[i] = (float)i;
    for (int i = 0; i < 9; i++)
        ones[i] = 1.0f;
    int64_t wd[4] = {1, 1, 3, 3};
    aglm_tensor w = tensor_f32(4, wd, ones);

    struct {
        int64_t h, w;
        int64_t pads[4], strides[2];
        int64_t oh, ow;
        double y[25];
    } cases[] = {
        {5, 5, {1, 1, 1, 1}, {1, 1}, 5, 5, {12,  21,  27, 33,  24,  33,  54, 63,  72,
                                            51,  63,  99, 108, 117, 81,  93, 144, 153,
                                            162, 111, 72, 111, 117, 123, 84}},
        {5, 5, {0, 0, 0, 0}, {1, 1}, 3, 3, {54, 63, 72, 99, 108, 117, 144, 153, 162}},
        {7, 5, {1, 1, 1, 1}, {2, 2}, 4, 3, {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t xd[4] = {1, 1, cases[c].h, cases[c].w};
        aglm_tensor x = tensor_f32(4, xd, xv);
        const aglm_tensor *ins[2] = {&x, &w};
        aglm_node *n;
        aglm_graph *g = op_graph("Conv", 11, 2, ins, NULL, 1, &n);
        assert_int_equal(aglm_node_set_ints(n, "pads", cases[c].pads, 4), AGLM_OK);
        assert_int_equal(aglm_node_set_ints(n, "strides", cases[c].strides, 2), AGLM_OK);
        assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){3, 3}, 2),
                         AGLM_OK);
        aglm_tensor y;
        run_op(f, g, 2, ins, NULL, 1, &y);
        assert_int_equal(y.dims[2], cases[c].oh);
        assert_int_equal(y.dims[3], cases[c].ow);
        for (int64_t i = 0; i < cases[c].oh * cases[c].ow; i++)
            assert_float_equal(((float *)y.data)[i], cases[c].y[i], 1e-4);
        aglm_tensor_free(&y);
        aglm_tensor_free(&x);
    }
    aglm_tensor_free(&w);
}

static void test_conv_random_against_reference(void **state)
{
    backend_fx *f = *state;
    /* pads, strides, dilations, uneven everything */
    check_conv(f, (int64_t[]){2, 3, 7, 9}, (int64_t[]){4, 3, 3, 3}, 1,
               (conv_p){{1, 0, 2, 1}, {2, 1}, {1, 2}, 1}, 1);
    /* groups */
    check_conv(f, (int64_t[]){1, 4, 6, 5}, (int64_t[]){6, 2, 3, 2}, 1,
               (conv_p){{1, 1, 0, 1}, {1, 2}, {1, 1}, 2}, 2);
    /* depthwise, and depthwise with a channel multiplier */
    check_conv(f, (int64_t[]){2, 5, 9, 8}, (int64_t[]){5, 1, 3, 3}, 1,
               (conv_p){{1, 1, 1, 1}, {2, 2}, {1, 1}, 5}, 3);
    check_conv(f, (int64_t[]){1, 3, 7, 7}, (int64_t[]){6, 1, 3, 3}, 0,
               (conv_p){{2, 2, 2, 2}, {1, 1}, {2, 2}, 3}, 4);
    /* 1x1 (multiplies the input directly), without bias */
    check_conv(f, (int64_t[]){2, 8, 5, 6}, (int64_t[]){5, 8, 1, 1}, 0,
               (conv_p){{0, 0, 0, 0}, {1, 1}, {1, 1}, 1}, 5);
    /* big enough for several GEMM tiles with ragged edges, on several threads */
    check_conv(f, (int64_t[]){1, 32, 40, 41}, (int64_t[]){70, 32, 3, 3}, 1,
               (conv_p){{1, 1, 1, 1}, {1, 1}, {1, 1}, 1}, 6);
    /* an im2col matrix over the kernel's 16 MiB budget, built in column blocks */
    check_conv(f, (int64_t[]){1, 16, 180, 180}, (int64_t[]){4, 16, 3, 3}, 1,
               (conv_p){{1, 1, 1, 1}, {1, 1}, {1, 1}, 1}, 7);
}

/* auto_pad resolves to explicit pads: SAME_UPPER puts the odd one at the end, SAME_LOWER at the
 * beginning, VALID uses none. */
static void test_conv_auto_pad(void **state)
{
    backend_fx *f = *state;
    int64_t xd[4] = {1, 2, 6, 7}, wd[4] = {3, 2, 4, 4};
    aglm_tensor x = tensor_random(4, xd, 11), w = tensor_random(4, wd, 12);
    struct {
        const char *mode;
        conv_p p;
    } cases[] = {
        {"SAME_UPPER", {{1, 1, 2, 2}, {1, 1}, {1, 1}, 1}},
        {"SAME_LOWER", {{2, 2, 1, 1}, {1, 1}, {1, 1}, 1}},
        {"VALID", {{0, 0, 0, 0}, {1, 1}, {1, 1}, 1}},
    };
    for (size_t c = 0; c < 3; c++) {
        const aglm_tensor *ins[2] = {&x, &w};
        aglm_node *n;
        aglm_graph *g = op_graph("Conv", 17, 2, ins, NULL, 1, &n);
        assert_int_equal(aglm_node_set_string(n, "auto_pad", cases[c].mode, strlen(cases[c].mode)),
                         AGLM_OK);
        aglm_tensor y;
        run_op(f, g, 2, ins, NULL, 1, &y);
        aglm_tensor want = conv_ref(&x, &w, NULL, cases[c].p);
        assert_close(&y, &want, 1e-4, 1e-4);
        if (c < 2) {
            assert_int_equal(y.dims[2], 6);
            assert_int_equal(y.dims[3], 7);
        }
        aglm_tensor_free(&y);
        aglm_tensor_free(&want);
    }
    /* SAME_UPPER with stride 2: output ceil(in / 2). */
    const aglm_tensor *ins[2] = {&x, &w};
    aglm_node *n;
    aglm_graph *g = op_graph("Conv", 17, 2, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_string(n, "auto_pad", "SAME_UPPER", 10), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", (const int64_t[]){2, 2}, 2), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 2, ins, NULL, 1, &y);
    /* in 6: out 3, total pad (3-1)*2+4-6 = 2 -> 1,1; in 7: out 4, total (4-1)*2+4-7 = 3 -> 1,2 */
    aglm_tensor want = conv_ref(&x, &w, NULL, (conv_p){{1, 1, 1, 2}, {2, 2}, {1, 1}, 1});
    assert_close(&y, &want, 1e-4, 1e-4);
    aglm_tensor_free(&y);
    aglm_tensor_free(&want);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
}

/* A 1-D convolution equals the 2-D one over a height-1 image. */
static void test_conv_1d(void **state)
{
    backend_fx *f = *state;
    int64_t xd[3] = {2, 2, 11}, wd[3] = {3, 2, 3}, bd[1] = {3};
    aglm_tensor x = tensor_random(3, xd, 21), w = tensor_random(3, wd, 22),
                b = tensor_random(1, bd, 23);
    const aglm_tensor *ins[3] = {&x, &w, &b};
    aglm_node *n;
    aglm_graph *g = op_graph("Conv", 17, 3, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "pads", (const int64_t[]){1, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", (const int64_t[]){2}, 1), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "dilations", (const int64_t[]){2}, 1), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 3, ins, NULL, 1, &y);

    aglm_tensor x4 = x, w4 = w;
    x4.rank = w4.rank = 4;
    x4.dims[2] = w4.dims[2] = 1;
    x4.dims[3] = 11;
    w4.dims[3] = 3;
    aglm_tensor want = conv_ref(&x4, &w4, &b, (conv_p){{0, 1, 0, 2}, {1, 2}, {1, 2}, 1});
    want.rank = 3;
    want.dims[2] = want.dims[3];
    assert_close(&y, &want, 1e-4, 1e-4);
    aglm_tensor_free(&y);
    want.rank = 4;
    aglm_tensor_free(&want);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
    aglm_tensor_free(&b);
}

static void test_conv_bad_shapes(void **state)
{
    backend_fx *f = *state;
    int64_t xd[4] = {1, 3, 5, 5}, wd[4] = {2, 2, 3, 3};
    aglm_tensor x = tensor_random(4, xd, 1), w = tensor_random(4, wd, 2);
    const aglm_tensor *ins[2] = {&x, &w};
    aglm_node *n;
    aglm_graph *g = op_graph("Conv", 17, 2, ins, NULL, 1, &n);
    aglm_tensor y;
    aglm_status st = compile_run(f, g, NULL, 2, ins, NULL, 1, &y);
    assert_int_not_equal(st, AGLM_OK);
    /* Inference or the kernel refuses it; either way the message names the node and op. */
    if (!strstr(aglm_last_error(), "node 'node' (Conv)"))
        fail_msg("error does not name the node: %s", aglm_last_error());
    aglm_graph_free(g);
    aglm_tensor_free(&x);
    aglm_tensor_free(&w);
}

/* ---- pools ------------------------------------------------------------------------------ */

typedef struct pool_p {
    int64_t k[2], pads[4], strides[2], dil[2];
    int ceil_mode, count_include_pad, is_max;
} pool_p;

/* Output size along one axis, from the ONNX formula with PyTorch's rule that the last window
 * starts inside the input or its begin padding. */
static int64_t pool_out(int64_t in, int64_t k, int64_t pb, int64_t pe, int64_t s, int64_t d,
                        int ceil_mode)
{
    double span = (double)((k - 1) * d + 1);
    double o = ((double)(in + pb + pe) - span) / (double)s + 1.0;
    int64_t out = ceil_mode ? (int64_t)ceil(o) : (int64_t)floor(o);
    if (ceil_mode && (out - 1) * s >= in + pb)
        out--;
    return out;
}

static aglm_tensor pool_ref(const aglm_tensor *x, pool_p p)
{
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t OH = pool_out(H, p.k[0], p.pads[0], p.pads[2], p.strides[0], p.dil[0], p.ceil_mode);
    int64_t OW = pool_out(W, p.k[1], p.pads[1], p.pads[3], p.strides[1], p.dil[1], p.ceil_mode);
    int64_t dims[4] = {N, C, OH, OW};
    aglm_tensor y = tensor_f32(4, dims, NULL);
    const float *xd = x->data;
    float *yd = y.data;
    for (int64_t nc = 0; nc < N * C; nc++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                double best = -INFINITY, sum = 0;
                int64_t count = 0;
                for (int64_t kh = 0; kh < p.k[0]; kh++)
                    for (int64_t kw = 0; kw < p.k[1]; kw++) {
                        int64_t ih = oh * p.strides[0] - p.pads[0] + kh * p.dil[0];
                        int64_t iw = ow * p.strides[1] - p.pads[1] + kw * p.dil[1];
                        int inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                        int in_pads = ih >= -p.pads[0] && ih < H + p.pads[2] && iw >= -p.pads[1] &&
                                      iw < W + p.pads[3];
                        if (inside) {
                            double v = xd[(nc * H + ih) * W + iw];
                            best = v > best ? v : best;
                            sum += v;
                        }
                        count += p.count_include_pad ? in_pads : inside;
                    }
                yd[(nc * OH + oh) * OW + ow] = (float)(p.is_max ? best : sum / (double)count);
            }
    return y;
}

static aglm_tensor run_pool(backend_fx *f, const aglm_tensor *x, pool_p p, int with_indices,
                            aglm_tensor *indices)
{
    const aglm_tensor *ins[1] = {x};
    aglm_node *n;
    aglm_graph *g =
        op_graph(p.is_max ? "MaxPool" : "AveragePool", 19, 1, ins, NULL, with_indices ? 2 : 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", p.k, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "pads", p.pads, 4), AGLM_OK);
    if (p.strides[0])
        assert_int_equal(aglm_node_set_ints(n, "strides", p.strides, 2), AGLM_OK);
    if (p.dil[0])
        assert_int_equal(aglm_node_set_ints(n, "dilations", p.dil, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "ceil_mode", p.ceil_mode), AGLM_OK);
    if (!p.is_max)
        assert_int_equal(aglm_node_set_int(n, "count_include_pad", p.count_include_pad), AGLM_OK);
    aglm_tensor outs[2];
    run_op(f, g, 1, ins, NULL, with_indices ? 2 : 1, outs);
    if (with_indices)
        *indices = outs[1];
    return outs[0];
}

static void test_pool_onnx_examples(void **state)
{
    backend_fx *f = *state;
    float ramp[25];
    for (int i = 0; i < 25; i++)
        ramp[i] = (float)(i + 1);
    int64_t d4[4] = {1, 1, 4, 4}, d5[4] = {1, 1, 5, 5}, d2[4] = {1, 1, 2, 2};
    aglm_tensor x4 = tensor_f32(4, d4, ramp), x5 = tensor_f32(4, d5, ramp),
                x2 = tensor_f32(4, d2, ramp);
    int64_t o2[4] = {1, 1, 2, 2}, o1[4] = {1, 1, 1, 1}, o5[4] = {1, 1, 5, 5};

    /* maxpool_2d_ceil and averagepool_2d_ceil: 3x3 windows, stride 2, the last one overhangs */
    aglm_tensor y = run_pool(f, &x4, (pool_p){{3, 3}, {0}, {2, 2}, {1, 1}, 1, 0, 1}, 0, NULL);
    assert_values(&y, 4, o2, (const double[]){11, 12, 15, 16});
    aglm_tensor_free(&y);
    y = run_pool(f, &x4, (pool_p){{3, 3}, {0}, {2, 2}, {1, 1}, 1, 0, 0}, 0, NULL);
    assert_values(&y, 4, o2, (const double[]){6, 7.5, 12, 13.5});
    aglm_tensor_free(&y);
    /* maxpool_2d_ceil_output_size_reduce_by_one: a window may not start past the input */
    y = run_pool(f, &x2, (pool_p){{1, 1}, {0}, {2, 2}, {1, 1}, 1, 0, 1}, 0, NULL);
    assert_values(&y, 4, o1, (const double[]){1});
    aglm_tensor_free(&y);

    /* maxpool_with_argmax_2d_precomputed_pads: 5x5 windows, pads 2 */
    aglm_tensor ind;
    y = run_pool(f, &x5, (pool_p){{5, 5}, {2, 2, 2, 2}, {1, 1}, {1, 1}, 0, 0, 1}, 1, &ind);
    assert_values(&y, 4, o5, (const double[]){13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25,
                                              25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25});
    assert_values(&ind, 4, o5, (const double[]){12, 13, 14, 14, 14, 17, 18, 19, 19, 19, 22, 23, 24,
                                                24, 24, 22, 23, 24, 24, 24, 22, 23, 24, 24, 24});
    assert_int_equal(ind.dtype, AGLM_I64);
    aglm_tensor_free(&y);
    aglm_tensor_free(&ind);

    /* averagepool_2d_precomputed_pads, without and with count_include_pad */
    y = run_pool(f, &x5, (pool_p){{5, 5}, {2, 2, 2, 2}, {1, 1}, {1, 1}, 0, 0, 0}, 0, NULL);
    assert_values(&y, 4, o5, (const double[]){7,    7.5,  8,    8.5,  9,    9.5,  10,   10.5, 11,
                                              11.5, 12,   12.5, 13,   13.5, 14,   14.5, 15,   15.5,
                                              16,   16.5, 17,   17.5, 18,   18.5, 19});
    aglm_tensor_free(&y);
    y = run_pool(f, &x5, (pool_p){{5, 5}, {2, 2, 2, 2}, {1, 1}, {1, 1}, 0, 1, 0}, 0, NULL);
    assert_values(&y, 4, o5, (const double[]){2.52,  3.6,  4.8,  4.08, 3.24, 4.56, 6.4,  8.4, 7.04,
                                              5.52,  7.2,  10,   13,   10.8, 8.4,  6.96, 9.6, 12.4,
                                              10.24, 7.92, 6.12, 8.4,  10.8, 8.88, 6.84});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x4);
    aglm_tensor_free(&x5);
    aglm_tensor_free(&x2);
}

/* storage_order=1 counts indices column-major (maxpool_with_argmax_2d_precomputed_strides), and
 * indices run across the batch and channels of the flattened input. */
static void test_maxpool_indices(void **state)
{
    backend_fx *f = *state;
    float ramp[50];
    for (int i = 0; i < 50; i++)
        ramp[i] = (float)(i + 1);
    int64_t d[4] = {1, 1, 5, 5}, o[4] = {1, 1, 2, 2};
    aglm_tensor x = tensor_f32(4, d, ramp);
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("MaxPool", 12, 1, ins, NULL, 2, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "storage_order", 1), AGLM_OK);
    aglm_tensor outs[2];
    run_op(f, g, 1, ins, NULL, 2, outs);
    assert_values(&outs[0], 4, o, (const double[]){7, 9, 17, 19});
    assert_values(&outs[1], 4, o, (const double[]){6, 16, 8, 18});
    aglm_tensor_free(&outs[0]);
    aglm_tensor_free(&outs[1]);
    aglm_tensor_free(&x);

    int64_t d2[4] = {2, 1, 5, 5};
    x = tensor_f32(4, d2, ramp);
    ins[0] = &x;
    aglm_tensor ind;
    aglm_tensor y = run_pool(f, &x, (pool_p){{2, 2}, {0}, {2, 2}, {1, 1}, 0, 0, 1}, 1, &ind);
    int64_t od[4] = {2, 1, 2, 2};
    assert_values(&y, 4, od, (const double[]){7, 9, 17, 19, 32, 34, 42, 44});
    assert_values(&ind, 4, od, (const double[]){6, 8, 16, 18, 31, 33, 41, 43});
    aglm_tensor_free(&y);
    aglm_tensor_free(&ind);
    aglm_tensor_free(&x);
}

static void test_pool_random_against_reference(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {2, 3, 11, 10};
    aglm_tensor x = tensor_random(4, d, 31);
    pool_p cases[] = {
        {{3, 3}, {1, 1, 1, 1}, {2, 2}, {1, 1}, 0, 0, 1},
        {{3, 2}, {1, 0, 1, 1}, {2, 3}, {2, 1}, 1, 0, 1}, /* dilation + ceil_mode */
        {{2, 3}, {0, 1, 0, 1}, {3, 2}, {1, 1}, 1, 0, 1},
        {{3, 3}, {1, 1, 1, 1}, {2, 2}, {1, 1}, 1, 0, 0},
        {{3, 3}, {1, 1, 1, 1}, {2, 2}, {1, 1}, 1, 1, 0},
        {{2, 3}, {1, 0, 0, 2}, {1, 2}, {2, 1}, 0, 1, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        aglm_tensor y = run_pool(f, &x, cases[c], 0, NULL);
        aglm_tensor want = pool_ref(&x, cases[c]);
        assert_close(&y, &want, 1e-5, 1e-5);
        aglm_tensor_free(&y);
        aglm_tensor_free(&want);
    }
    aglm_tensor_free(&x);
}

static void test_global_average_pool(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 2, 2, 3}, o[4] = {1, 2, 1, 1};
    aglm_tensor x = tensor_f32(4, d, (const float[]){1, 2, 3, 4, 5, 6, -1, -2, -3, 7, 8, 9});
    const aglm_tensor *ins[1] = {&x};
    aglm_graph *g = op_graph("GlobalAveragePool", 17, 1, ins, NULL, 1, NULL);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 4, o, (const double[]){3.5, 3});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* MaxPool 2x2 stride 2 with pads 1 (windows clipped at every edge): a window holding a NaN
 * gives NaN, the others their maximum, -inf included. */
static void test_maxpool_nan_windows(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 4, 5}, o[4] = {1, 1, 3, 3};
    aglm_tensor x = tensor_f32(
        4, d, (const float[]){1,  2,  3,  4,         5,         6,  NAN, 8,  -INFINITY, 10,
                              -1, -2, -3, -INFINITY, -INFINITY, 11, 12,  13, -INFINITY, NAN});
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("MaxPool", 12, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "strides", (const int64_t[]){2, 2}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "pads", (const int64_t[]){1, 1, 1, 1}, 4), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    /* rows {0}, {1,2}, {3}; columns {0}, {1,2}, {3,4} */
    assert_values(&y, 4, o, (const double[]){1, 3, 5, 6, NAN, 10, 11, 13, NAN});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* GlobalAveragePool and GlobalMaxPool on planes of odd sizes around the vector widths, against
 * sums and maxima worked out here; a NaN in a plane (first, last, in the middle) makes that
 * plane's max NaN and leaves the other planes alone. */
static void test_global_pools_planes(void **state)
{
    backend_fx *f = *state;
    const int64_t sizes[][2] = {{1, 1}, {1, 7}, {3, 5}, {4, 4}, {3, 11}, {17, 19}, {64, 65}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int64_t d[4] = {2, 3, sizes[t][0], sizes[t][1]}, o[4] = {2, 3, 1, 1};
        int64_t plane = d[2] * d[3];
        aglm_tensor x = tensor_random(4, d, (uint32_t)t + 1);
        float *xv = x.data;
        /* plane 1 gets a NaN first, plane 4 one last, plane 5 one in the middle */
        xv[plane] = NAN;
        xv[4 * plane + plane - 1] = NAN;
        xv[5 * plane + plane / 2] = NAN;
        const aglm_tensor *ins[1] = {&x};
        aglm_tensor avg, mx;
        run_op(f, op_graph("GlobalAveragePool", 17, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &avg);
        run_op(f, op_graph("GlobalMaxPool", 17, 1, ins, NULL, 1, NULL), 1, ins, NULL, 1, &mx);
        aglm_tensor want_avg = tensor_f32(4, o, NULL), want_max = tensor_f32(4, o, NULL);
        for (int64_t p = 0; p < 6; p++) {
            double sum = 0;
            float best = xv[p * plane];
            for (int64_t i = 0; i < plane; i++) {
                float v = xv[p * plane + i];
                sum += v;
                best = isnan(best) || v > best || isnan(v) ? (isnan(best) ? best : v) : best;
            }
            ((float *)want_avg.data)[p] = (float)(sum / (double)plane);
            ((float *)want_max.data)[p] = best;
        }
        assert_close(&avg, &want_avg, 1e-6, 1e-6);
        assert_close(&mx, &want_max, 0, 0);
        aglm_tensor_free(&avg);
        aglm_tensor_free(&mx);
        aglm_tensor_free(&want_avg);
        aglm_tensor_free(&want_max);
        aglm_tensor_free(&x);
    }
}

/* LpPool: (sum |x|^p)^(1/p) per window; padding adds nothing. Hand-computed on [1, 2, 3, 4]. */
static void test_lp_pool(void **state)
{
    backend_fx *f = *state;
    int64_t d[3] = {1, 1, 4}, o[3] = {1, 1, 3}, o2[3] = {1, 1, 5};
    aglm_tensor x = tensor_f32(3, d, (const float[]){1, -2, 3, 4});
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("LpPool", 18, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2}, 1), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 3, o, (const double[]){sqrt(5.0), sqrt(13.0), 5});
    aglm_tensor_free(&y);
    g = op_graph("LpPool", 18, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2}, 1), AGLM_OK);
    assert_int_equal(aglm_node_set_ints(n, "pads", (const int64_t[]){1, 1}, 2), AGLM_OK);
    assert_int_equal(aglm_node_set_int(n, "p", 3), AGLM_OK);
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_values(&y, 3, o2, (const double[]){1, cbrt(9.0), cbrt(35.0), cbrt(91.0), 4});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);
}

/* MaxPool on u8 keeps values exactly; Conv on f16 computes in f32 and rounds back. */
static void test_pool_conv_small_dtypes(void **state)
{
    backend_fx *f = *state;
    int64_t d[4] = {1, 1, 2, 3}, o[4] = {1, 1, 1, 2};
    aglm_tensor x = tensor_of(AGLM_U8, 4, d, (const double[]){1, 250, 3, 4, 5, 255});
    const aglm_tensor *ins[1] = {&x};
    aglm_node *n;
    aglm_graph *g = op_graph("MaxPool", 12, 1, ins, NULL, 1, &n);
    assert_int_equal(aglm_node_set_ints(n, "kernel_shape", (const int64_t[]){2, 2}, 2), AGLM_OK);
    aglm_tensor y;
    run_op(f, g, 1, ins, NULL, 1, &y);
    assert_int_equal(y.dtype, AGLM_U8);
    assert_values(&y, 4, o, (const double[]){250, 255});
    aglm_tensor_free(&y);
    aglm_tensor_free(&x);

    int64_t dx[4] = {1, 1, 2, 2}, dw[4] = {1, 1, 1, 1}, oc[4] = {1, 1, 2, 2};
    aglm_tensor t[2];
    t[0] = tensor_of(AGLM_F16, 4, dx, (const double[]){1, 2, 3, 0.5});
    t[1] = tensor_of(AGLM_F16, 4, dw, (const double[]){1.5});
    const aglm_tensor *cins[2] = {&t[0], &t[1]};
    g = op_graph("Conv", 17, 2, cins, NULL, 1, NULL);
    run_op(f, g, 2, cins, NULL, 1, &y);
    assert_int_equal(y.dtype, AGLM_F16);
    assert_values(&y, 4, oc, (const double[]){1.5, 3, 4.5, 0.75});
    aglm_tensor_free(&y);
    aglm_tensor_free(&t[0]);
    aglm_tensor_free(&t[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_onnx_examples),
        cmocka_unit_test(test_conv_random_against_reference),
        cmocka_unit_test(test_conv_prepacked_matches_unpacked),
        cmocka_unit_test(test_conv_strided_stems),
        cmocka_unit_test(test_conv_winograd),
        cmocka_unit_test(test_conv_transpose_tiled_and_general),
        cmocka_unit_test(test_conv_auto_pad),
        cmocka_unit_test(test_conv_1d),
        cmocka_unit_test(test_conv_bad_shapes),
        cmocka_unit_test(test_pool_onnx_examples),
        cmocka_unit_test(test_maxpool_indices),
        cmocka_unit_test(test_pool_random_against_reference),
        cmocka_unit_test(test_global_average_pool),
        cmocka_unit_test(test_global_pools_planes),
        cmocka_unit_test(test_maxpool_nan_windows),
        cmocka_unit_test(test_lp_pool),
        cmocka_unit_test(test_pool_conv_small_dtypes),
    };
    return cmocka_run_group_tests(tests, backend_fx_setup, backend_fx_teardown);
}
