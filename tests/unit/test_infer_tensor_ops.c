/* Shape inference of the data-movement and indexing ops: GatherND, Scatter*, Compress, NonZero,
 * TopK, Unique, Range, EyeLike, OneHot, Trilu, CumSum, DepthToSpace, SpaceToDepth,
 * CenterCropPad, Col2Im, Einsum. Each case is a graph in IR text whose outputs start untyped;
 * after inference their types are read back as the IR text spells them. Where an output's size
 * depends on input values, a constant input gives the size and a graph input leaves it "?". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

/* Parses `body` inside a graph with the given signature, infers it and checks that each value
 * named in want[] (pairs of name and type, NULL-terminated) has that type. */
static void check(const char *sig, const char *body, const char *const *want)
{
    char text[4096];
    snprintf(text, sizeof text, "graph t%s {\n  opset ai.onnx 18\n%s\n}\n", sig, body);
    aglm_graph *g = NULL;
    if (aglm_graph_parse(text, &g) != AGLM_OK)
        fail_msg("parse: %s\n%s", aglm_last_error(), text);
    if (aglm_infer_shapes(g) != AGLM_OK)
        fail_msg("infer: %s\n%s", aglm_last_error(), text);
    for (; *want; want += 2) {
        aglm_value *v = aglm_graph_find_value(g, want[0]);
        assert_non_null(v);
        char buf[128];
        aglm_value_type_str(v, buf, sizeof buf);
        if (strcmp(buf, want[1]) != 0)
            fail_msg("%%%s: %s, expected %s\n%s", want[0], buf, want[1], text);
    }
    aglm_graph_free(g);
}

/* Inference must fail with a message containing `part`. */
static void check_error(const char *sig, const char *body, const char *part)
{
    char text[4096];
    snprintf(text, sizeof text, "graph t%s {\n  opset ai.onnx 18\n%s\n}\n", sig, body);
    aglm_graph *g = NULL;
    if (aglm_graph_parse(text, &g) != AGLM_OK)
        fail_msg("parse: %s\n%s", aglm_last_error(), text);
    assert_int_not_equal(aglm_infer_shapes(g), AGLM_OK);
    if (!strstr(aglm_last_error(), part))
        fail_msg("error '%s' does not mention '%s'", aglm_last_error(), part);
    aglm_graph_free(g);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_gather_scatter(void **state)
{
    (void)state;
    check("(%x: f32[2,3,4], %i: i64[5,2]) -> (%y)", "%y = GatherND(%x, %i)", W("y", "f32[5,4]"));
    check("(%x: f32[N,3,4], %i: i32[N,5,1]) -> (%y)", "%y = GatherND(%x, %i) {batch_dims=1}",
          W("y", "f32[N,5,4]"));
    check_error("(%x: f32[2,3], %i: i64[5,3]) -> (%y)", "%y = GatherND(%x, %i)", "do not fit");
    check("(%x: f32[N,3], %i: i64[2,3], %u: f32[2,3]) -> (%y, %z)",
          "%y = ScatterElements(%x, %i, %u) {reduction=\"add\"}\n%z = ScatterND(%x, %i, %u)",
          W("y", "f32[N,3]", "z", "f32[N,3]"));
    check_error("(%x: f32[3], %i: i64[1,1], %u: i32[1]) -> (%y)", "%y = ScatterND(%x, %i, %u)",
                "mismatched input types");
}

static void test_data_dependent(void **state)
{
    (void)state;
    check("(%x: f32[N,3], %c: bool[3]) -> (%y, %z, %w)",
          "const %k: bool[3] = [true, false, true]\n"
          "%y = Compress(%x, %k) {axis=1}\n%z = Compress(%x, %c)\n%w = Compress(%x, %c) {axis=-1}",
          W("y", "f32[N,2]", "z", "f32[?]", "w", "f32[N,?]"));
    check("(%x: u8[N,3,2]) -> (%y)", "%y = NonZero(%x)", W("y", "i64[3,?]"));
    check("(%x: f32[3,5], %kin: i64[1]) -> (%v, %i, %v2, %i2)",
          "const %k: i64[1] = [2]\n%v, %i = TopK(%x, %k)\n%v2, %i2 = TopK(%x, %kin) {axis=0}",
          W("v", "f32[3,2]", "i", "i64[3,2]", "v2", "f32[?,5]", "i2", "i64[?,5]"));
    check_error("(%x: f32[3,5]) -> (%v, %i)", "const %k: i64[1] = [6]\n%v, %i = TopK(%x, %k)",
                "k = 6");
    check("(%x: f32[2,3]) -> (%y, %i, %inv, %c, %ya)",
          "%y, %i, %inv, %c = Unique(%x)\n%ya, _, _, _ = Unique(%x) {axis=1}",
          W("y", "f32[?]", "i", "i64[?]", "inv", "i64[6]", "c", "i64[?]", "ya", "f32[2,?]"));
}

static void test_generators(void **state)
{
    (void)state;
    check("(%s: i32[], %l: i32[], %d: i32[]) -> (%y, %z)",
          "const %a: i32[] = [3]\nconst %b: i32[] = [10]\nconst %c: i32[] = [3]\n"
          "%y = Range(%a, %b, %c)\n%z = Range(%s, %l, %d)",
          W("y", "i32[3]", "z", "i32[?]"));
    check("(%x: f32[3,4]) -> (%y, %z)", "%y = EyeLike(%x) {dtype=6, k=1}\n%z = EyeLike(%x)",
          W("y", "i32[3,4]", "z", "f32[3,4]"));
    check_error("(%x: f32[3]) -> (%y)", "%y = EyeLike(%x)", "rank 2");
    check("(%i: i64[N,2], %dn: i64[]) -> (%y, %z)",
          "const %d: f32[] = [5]\nconst %v: f64[2] = [0, 1]\n"
          "%y = OneHot(%i, %d, %v) {axis=1}\n%z = OneHot(%i, %dn, %v)",
          W("y", "f64[N,5,2]", "z", "f64[N,2,?]"));
}

static void test_layout(void **state)
{
    (void)state;
    check("(%x: i64[N,3,3], %k: i64[], %a: i32[]) -> (%y, %z, %w)",
          "%y = Trilu(%x, %k) {upper=0}\n%z = CumSum(%x, %a) {reverse=1}\n%w = CumProd(%x, %a)",
          W("y", "i64[N,3,3]", "z", "i64[N,3,3]", "w", "i64[N,3,3]"));
    check("(%x: f32[N,8,2,3]) -> (%y, %z)",
          "%y = DepthToSpace(%x) {blocksize=2, mode=\"CRD\"}\n%z = SpaceToDepth(%y) {blocksize=2}",
          W("y", "f32[N,2,4,6]", "z", "f32[N,8,2,3]"));
    check_error("(%x: f32[1,8,2,3]) -> (%y)", "%y = DepthToSpace(%x) {blocksize=3}", "blocksize 3");
    check("(%x: f32[N,7,4], %s: i64[2]) -> (%y, %z)",
          "const %c: i64[2] = [5, 2]\n%y = CenterCropPad(%x, %c) {axes=[1, -1]}\n"
          "%z = CenterCropPad(%x, %s) {axes=[1, 2]}",
          W("y", "f32[N,5,2]", "z", "f32[N,?,?]"));
    check("(%x: f32[1,10,5]) -> (%y)",
          "const %img: i64[2] = [5, 5]\nconst %blk: i64[2] = [1, 5]\n%y = Col2Im(%x, %img, %blk)",
          W("y", "f32[1,2,5,5]"));
    check("(%x: f32[N,2,4], %l: i64[4]) -> (%y)",
          "%y = ReverseSequence(%x, %l) {batch_axis=2, time_axis=1}", W("y", "f32[N,2,4]"));
}

static void test_einsum(void **state)
{
    (void)state;
    check("(%a: f32[N,2,3], %b: f32[3,4]) -> (%y, %z, %w)",
          "%y = Einsum(%a, %b) {equation=\"...ij,...jk->...ik\"}\n"
          "%z = Einsum(%a) {equation=\"bij->\"}\n%w = Einsum(%a, %b) {equation=\"bij, jk\"}",
          W("y", "f32[N,2,4]", "z", "f32[]", "w", "f32[N,2,4]"));
    check("(%a: f64[3,3], %b: f64[5]) -> (%y, %z)",
          "%y = Einsum(%a) {equation=\"ii->i\"}\n%z = Einsum(%a, %b) {equation=\"ij,k->kji\"}",
          W("y", "f64[3]", "z", "f64[5,3,3]"));
    check_error("(%a: f32[2,3], %b: f32[2,3]) -> (%y)",
                "%y = Einsum(%a, %b) {equation=\"ij,ji->\"}", "label sizes differ");
    check_error("(%a: f32[2,3]) -> (%y)", "%y = Einsum(%a) {equation=\"ij->k\"}", "output label");
    check_error("(%a: f32[2,3]) -> (%y)", "%y = Einsum(%a) {equation=\"i->i\"}", "1 labels");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_scatter), cmocka_unit_test(test_data_dependent),
        cmocka_unit_test(test_generators),     cmocka_unit_test(test_layout),
        cmocka_unit_test(test_einsum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
