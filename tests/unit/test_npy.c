/* .npy load and save: round trips of every dtype, files written byte by byte (format 2.0 and
 * 3.0, big-endian, Fortran order, header spellings), every malformed case, and NumPy itself when
 * python3 with numpy is installed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aglm/aglm.h"

static char dir[256];

static const aglm_dtype every_dtype[] = {AGLM_F32, AGLM_F16, AGLM_BF16, AGLM_F64, AGLM_I8,
                                         AGLM_U8,  AGLM_I16, AGLM_U16,  AGLM_I32, AGLM_U32,
                                         AGLM_I64, AGLM_U64, AGLM_BOOL};
#define N_DTYPES (sizeof every_dtype / sizeof every_dtype[0])

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/aglm-test-npy-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *path_of(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void expect_msg(const char *needle)
{
    if (!strstr(aglm_last_error(), needle))
        fail_msg("message \"%s\" does not contain \"%s\"", aglm_last_error(), needle);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static size_t read_bytes(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Writes a well-formed .npy of format `major`.0 around a header dict and raw data. */
static const char *npy_file(const char *name, int major, const char *dict, const void *data,
                            size_t dlen)
{
    unsigned char buf[4096];
    size_t pre = major == 1 ? 10 : 12, len = strlen(dict);
    size_t hlen = (pre + len + 1 + 63) / 64 * 64 - pre;
    assert_true(pre + hlen + dlen <= sizeof buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + pre, dict, len);
    memset(buf + pre + len, ' ', hlen - len - 1);
    buf[pre + hlen - 1] = '\n';
    if (dlen)
        memcpy(buf + pre + hlen, data, dlen);
    const char *path = path_of(name);
    write_bytes(path, buf, pre + hlen + dlen);
    return path;
}

/* A value of element i that every dtype holds exactly (and that NumPy computes the same way). */
static double value_of(aglm_dtype dt, int64_t i)
{
    if (aglm_dtype_is_float(dt))
        return (double)i * 0.5 - 1.25;
    if (dt == AGLM_BOOL)
        return (double)(i % 2);
    if (dt == AGLM_U8 || dt == AGLM_U16 || dt == AGLM_U32 || dt == AGLM_U64)
        return (double)(i * 7);
    return (double)(i * 3 - 5);
}

static void fill(aglm_tensor *t)
{
    for (int64_t i = 0; i < aglm_tensor_numel(t); i++)
        aglm_tensor_set_f64(t, i, value_of(t->dtype, i));
}

static void round_trip(aglm_dtype dt, int rank, const int64_t *dims)
{
    aglm_tensor t, back;
    char name[64], shape[64];
    assert_int_equal(aglm_tensor_alloc(&t, dt, rank, dims), AGLM_OK);
    fill(&t);
    snprintf(name, sizeof name, "rt_%s_%d.npy", aglm_dtype_name(dt), rank);
    const char *path = path_of(name);
    if (aglm_npy_save(path, &t) != AGLM_OK)
        fail_msg("save %s %s: %s", aglm_dtype_name(dt),
                 aglm_shape_str(rank, dims, shape, sizeof shape), aglm_last_error());
    if (aglm_npy_load(path, &back) != AGLM_OK)
        fail_msg("load %s: %s", path, aglm_last_error());
    assert_int_equal(back.dtype, dt);
    assert_int_equal(back.rank, rank);
    assert_true(aglm_tensor_same_shape(&t, &back));
    assert_int_equal(aglm_tensor_nbytes(&back), aglm_tensor_nbytes(&t));
    assert_memory_equal(back.data, t.data, aglm_tensor_nbytes(&t) + (aglm_tensor_nbytes(&t) == 0));
    for (int64_t i = 0; i < aglm_tensor_numel(&back); i++)
        assert_true(aglm_tensor_get_f64(&back, i) == value_of(dt, i));
    assert_int_equal((uintptr_t)back.data % 64, 0);
    assert_int_equal(back.flags & AGLM_TENSOR_OWNS_DATA, AGLM_TENSOR_OWNS_DATA);

    /* The data starts at a multiple of 64 and fills the rest of the file exactly. */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(((size_t)sb.st_size - aglm_tensor_nbytes(&t)) % 64, 0);
    aglm_tensor_free(&t);
    aglm_tensor_free(&back);
}

static void test_round_trip_every_dtype(void **state)
{
    (void)state;
    const int64_t d2[] = {2, 3}, d0[] = {4, 0, 3}, d8[] = {1, 2, 1, 1, 3, 1, 1, 2};
    for (size_t k = 0; k < N_DTYPES; k++) {
        round_trip(every_dtype[k], 2, d2);
        round_trip(every_dtype[k], 0, NULL);
        round_trip(every_dtype[k], 3, d0);
        round_trip(every_dtype[k], 8, d8);
    }
}

/* Every bit pattern survives (NaN payloads, negative zero, subnormals): no conversion happens. */
static void test_round_trip_keeps_bits(void **state)
{
    (void)state;
    const int64_t dims[] = {64};
    for (size_t k = 0; k < N_DTYPES; k++) {
        if (every_dtype[k] == AGLM_BOOL)
            continue;
        aglm_tensor t, back;
        assert_int_equal(aglm_tensor_alloc(&t, every_dtype[k], 1, dims), AGLM_OK);
        unsigned char *p = t.data;
        for (size_t i = 0; i < aglm_tensor_nbytes(&t); i++)
            p[i] = (unsigned char)(i * 37 + 11 + (i % 3 ? 0xF0 : 0));
        const char *path = path_of("bits.npy");
        assert_int_equal(aglm_npy_save(path, &t), AGLM_OK);
        assert_int_equal(aglm_npy_load(path, &back), AGLM_OK);
        assert_memory_equal(back.data, t.data, aglm_tensor_nbytes(&t));
        aglm_tensor_free(&t);
        aglm_tensor_free(&back);
    }
}

/* The header is byte for byte what NumPy writes for the same array. */
static void test_saved_header_layout(void **state)
{
    (void)state;
    static const struct {
        aglm_dtype dt;
        int rank;
        int64_t dims[2];
        const char *dict;
    } cases[] = {
        {AGLM_F32, 2, {2, 3}, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
        {AGLM_U8, 1, {5, 0}, "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }"},
        {AGLM_BOOL, 0, {0, 0}, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }"},
        {AGLM_BF16, 1, {2, 0}, "{'descr': 'bfloat16', 'fortran_order': False, 'shape': (2,), }"},
        {AGLM_I64, 2, {0, 7}, "{'descr': '<i8', 'fortran_order': False, 'shape': (0, 7), }"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        aglm_tensor t;
        unsigned char buf[512];
        assert_int_equal(aglm_tensor_alloc(&t, cases[k].dt, cases[k].rank, cases[k].dims), AGLM_OK);
        const char *path = path_of("layout.npy");
        assert_int_equal(aglm_npy_save(path, &t), AGLM_OK);
        size_t n = read_bytes(path, buf, sizeof buf);
        assert_memory_equal(buf, "\x93NUMPY\x01\x00", 8);
        size_t hlen = buf[8] | (size_t)buf[9] << 8;
        assert_int_equal((10 + hlen) % 64, 0);
        assert_int_equal(n, 10 + hlen + aglm_tensor_nbytes(&t));
        size_t dl = strlen(cases[k].dict);
        assert_memory_equal(buf + 10, cases[k].dict, dl);
        for (size_t i = 10 + dl; i < 10 + hlen - 1; i++)
            assert_int_equal(buf[i], ' ');
        assert_int_equal(buf[10 + hlen - 1], '\n');
        aglm_tensor_free(&t);
    }
}

static void test_save_replaces_and_leaves_no_temp_files(void **state)
{
    (void)state;
    const int64_t dims[] = {3};
    aglm_tensor a, b, back;
    assert_int_equal(aglm_tensor_alloc(&a, AGLM_I32, 1, dims), AGLM_OK);
    assert_int_equal(aglm_tensor_alloc(&b, AGLM_F64, 0, NULL), AGLM_OK);
    aglm_tensor_set_f64(&b, 0, 42.5);
    const char *path = path_of("replace.npy");
    assert_int_equal(aglm_npy_save(path, &a), AGLM_OK);
    assert_int_equal(aglm_npy_save(path, &b), AGLM_OK);
    assert_int_equal(aglm_npy_load(path, &back), AGLM_OK);
    assert_int_equal(back.dtype, AGLM_F64);
    assert_true(aglm_tensor_get_f64(&back, 0) == 42.5);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, "tmp"))
            fail_msg("stray file %s", e->d_name);
    closedir(d);
    aglm_tensor_free(&a);
    aglm_tensor_free(&b);
    aglm_tensor_free(&back);
}

static void test_save_errors(void **state)
{
    (void)state;
    const int64_t dims[] = {2};
    aglm_tensor t;
    assert_int_equal(aglm_tensor_alloc(&t, AGLM_F32, 1, dims), AGLM_OK);
    assert_int_equal(aglm_npy_save("/nonexistent-dir/x.npy", &t), AGLM_ERR_IO);
    expect_msg("/nonexistent-dir/x.npy");
    expect_msg(strerror(ENOENT));
    aglm_tensor s;
    aglm_tensor_wrap(&s, AGLM_STRING, 1, dims, t.data);
    assert_int_equal(aglm_npy_save(path_of("s.npy"), &s), AGLM_ERR_UNSUPPORTED);
    expect_msg("s.npy");
    aglm_tensor_wrap(&s, AGLM_F32, 1, dims, NULL);
    assert_int_equal(aglm_npy_save(path_of("s.npy"), &s), AGLM_ERR_INVALID);
    expect_msg("no data");
    aglm_tensor_wrap(&s, AGLM_F32, 1, dims, t.data);
    s.device = AGLM_DEVICE_CUDA;
    assert_int_equal(aglm_npy_save(path_of("s.npy"), &s), AGLM_ERR_UNSUPPORTED);
    assert_int_equal(access(path_of("s.npy"), F_OK), -1);
    aglm_tensor_free(&t);
}

static void test_read_format_2_and_3(void **state)
{
    (void)state;
    const int16_t v2[] = {1, -2, 3};
    const uint32_t v3[] = {7, 4000000000u};
    aglm_tensor t;
    const char *p = npy_file(
        "v2.npy", 2, "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", v2, sizeof v2);
    assert_int_equal(aglm_npy_load(p, &t), AGLM_OK);
    assert_int_equal(t.dtype, AGLM_I16);
    assert_int_equal(t.rank, 1);
    assert_int_equal(t.dims[0], 3);
    assert_memory_equal(t.data, v2, sizeof v2);
    aglm_tensor_free(&t);
    p = npy_file("v3.npy", 3, "{'descr': '<u4', 'fortran_order': False, 'shape': (1, 2), }", v3,
                 sizeof v3);
    assert_int_equal(aglm_npy_load(p, &t), AGLM_OK);
    assert_int_equal(t.dtype, AGLM_U32);
    assert_true(aglm_tensor_get_f64(&t, 1) == 4000000000.0);
    aglm_tensor_free(&t);
}

static void test_read_big_endian(void **state)
{
    (void)state;
    aglm_tensor t;
    /* 1.5 and -2.25 as big-endian doubles */
    const unsigned char f8[] = {0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0xC0, 0x02, 0, 0, 0, 0, 0, 0};
    assert_int_equal(
        aglm_npy_load(npy_file("be_f8.npy", 1,
                               "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", f8,
                               sizeof f8),
                      &t),
        AGLM_OK);
    assert_int_equal(t.dtype, AGLM_F64);
    assert_true(aglm_tensor_get_f64(&t, 0) == 1.5);
    assert_true(aglm_tensor_get_f64(&t, 1) == -2.25);
    aglm_tensor_free(&t);
    const unsigned char i4[] = {0xFF, 0xFF, 0xFF, 0xFE, 0x01, 0x02, 0x03, 0x04};
    assert_int_equal(
        aglm_npy_load(npy_file("be_i4.npy", 1,
                               "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", i4,
                               sizeof i4),
                      &t),
        AGLM_OK);
    assert_true(aglm_tensor_get_f64(&t, 0) == -2.0);
    assert_true(aglm_tensor_get_f64(&t, 1) == 0x01020304);
    aglm_tensor_free(&t);
    const unsigned char f2[] = {0x3C, 0x00, 0xC1, 0x00}; /* 1.0, -2.5 */
    assert_int_equal(
        aglm_npy_load(npy_file("be_f2.npy", 1,
                               "{'descr': '>f2', 'fortran_order': False, 'shape': (2,), }", f2,
                               sizeof f2),
                      &t),
        AGLM_OK);
    assert_int_equal(t.dtype, AGLM_F16);
    assert_true(aglm_tensor_get_f64(&t, 0) == 1.0);
    assert_true(aglm_tensor_get_f64(&t, 1) == -2.5);
    aglm_tensor_free(&t);
    const unsigned char u8be[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    assert_int_equal(
        aglm_npy_load(npy_file("be_u8.npy", 1,
                               "{'descr': '>u8', 'fortran_order': False, 'shape': (), }", u8be,
                               sizeof u8be),
                      &t),
        AGLM_OK);
    assert_int_equal(t.rank, 0);
    uint64_t u;
    memcpy(&u, t.data, 8);
    assert_true(u == 0x0102030405060708u);
    aglm_tensor_free(&t);
}

static void test_read_fortran_order(void **state)
{
    (void)state;
    aglm_tensor t;
    /* [[1,2,3],[4,5,6]] stored column by column */
    const int32_t col[] = {1, 4, 2, 5, 3, 6};
    assert_int_equal(
        aglm_npy_load(npy_file("f2d.npy", 1,
                               "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", col,
                               sizeof col),
                      &t),
        AGLM_OK);
    for (int i = 0; i < 6; i++)
        assert_true(aglm_tensor_get_f64(&t, i) == i + 1);
    aglm_tensor_free(&t);

    /* Rank 3: the element at (i,j,k) sits at i + 2j + 6k in column-major order. */
    float f[24];
    for (int i = 0; i < 24; i++)
        f[i] = (float)i;
    assert_int_equal(
        aglm_npy_load(npy_file("f3d.npy", 1,
                               "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }", f,
                               sizeof f),
                      &t),
        AGLM_OK);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                assert_true(aglm_tensor_get_f64(&t, (i * 3 + j) * 4 + k) == i + 2 * j + 6 * k);
    aglm_tensor_free(&t);

    /* Big-endian and Fortran order together: [[1,2],[3,4],[5,6]] */
    const unsigned char be[] = {0, 1, 0, 3, 0, 5, 0, 2, 0, 4, 0, 6};
    assert_int_equal(
        aglm_npy_load(npy_file("fbe.npy", 1,
                               "{'descr': '>i2', 'fortran_order': True, 'shape': (3, 2), }", be,
                               sizeof be),
                      &t),
        AGLM_OK);
    for (int i = 0; i < 6; i++)
        assert_true(aglm_tensor_get_f64(&t, i) == i + 1);
    aglm_tensor_free(&t);
}

static void test_header_spellings(void **state)
{
    (void)state;
    static const struct {
        const char *dict;
        int rank;
        int64_t d0;
    } cases[] = {
        {"{\"shape\": (2, 2), \"fortran_order\": False, \"descr\": \"<u1\"}", 2, 2},
        {"{ 'descr' : '|u1' ,'fortran_order':False,'shape':( 4 , ) }", 1, 4},
        {"{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 2L), }", 2, 2},
        {"{'fortran_order': False, 'shape': [4], 'descr': '|u1'}", 1, 4},
        {"{'descr': '|u1', 'extra': [1, (2, 3), {'a': 'b,}'}], 'fortran_order': False, 'shape': "
         "(4,),}",
         1, 4},
        {"\t{'descr':'u1','fortran_order':False,'shape':(1,1,4)}", 3, 1},
    };
    const unsigned char data[] = {1, 2, 3, 4};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        aglm_tensor t;
        if (aglm_npy_load(npy_file("spell.npy", 1, cases[k].dict, data, sizeof data), &t) !=
            AGLM_OK)
            fail_msg("%s: %s", cases[k].dict, aglm_last_error());
        assert_int_equal(t.dtype, AGLM_U8);
        assert_int_equal(t.rank, cases[k].rank);
        assert_int_equal(t.dims[0], cases[k].d0);
        assert_memory_equal(t.data, data, 4);
        aglm_tensor_free(&t);
    }
    /* NumPy's two spellings of bool; any non-zero byte loads as 1. */
    const unsigned char b[] = {0, 2, 1};
    aglm_tensor t;
    assert_int_equal(
        aglm_npy_load(npy_file("b1.npy", 1,
                               "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b, 3),
                      &t),
        AGLM_OK);
    assert_int_equal(t.dtype, AGLM_BOOL);
    assert_memory_equal(t.data, "\0\1\1", 3);
    aglm_tensor_free(&t);
    assert_int_equal(
        aglm_npy_load(
            npy_file("b2.npy", 1, "{'descr': '?', 'fortran_order': False, 'shape': (3,), }", b, 3),
            &t),
        AGLM_OK);
    assert_int_equal(t.dtype, AGLM_BOOL);
    aglm_tensor_free(&t);
}

/* Loads `path`, expects status st, a message naming the file and containing `needle`, and an
 * empty output. */
static void expect_load_error(const char *path, aglm_status st, const char *needle)
{
    aglm_tensor t;
    memset(&t, 0x5A, sizeof t);
    aglm_status got = aglm_npy_load(path, &t);
    if (got != st)
        fail_msg("%s: status %d (%s), want %d", path, got, aglm_last_error(), st);
    expect_msg(path);
    expect_msg(needle);
    assert_null(t.data);
}

static void test_malformed_files(void **state)
{
    (void)state;
    const float six[6] = {0};

    expect_load_error(path_of("missing.npy"), AGLM_ERR_IO, strerror(ENOENT));
    expect_load_error(dir, AGLM_ERR_IO, "directory");

    write_bytes(path_of("empty.npy"), "", 0);
    expect_load_error(path_of("empty.npy"), AGLM_ERR_PARSE, "bad magic");
    write_bytes(path_of("text.npy"), "hello, world\n", 13);
    expect_load_error(path_of("text.npy"), AGLM_ERR_PARSE, "bad magic");

    write_bytes(path_of("pre.npy"), "\x93NUMPY\x01\x00", 8);
    expect_load_error(path_of("pre.npy"), AGLM_ERR_PARSE, "truncated header");
    /* claims 118 header bytes, has 20 */
    write_bytes(path_of("trunc.npy"), "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fo", 30);
    expect_load_error(path_of("trunc.npy"), AGLM_ERR_PARSE, "truncated header");
    /* a 2.0 length field of almost 4 GiB */
    write_bytes(path_of("absurd.npy"), "\x93NUMPY\x02\x00\xF0\xFF\xFF\xFF{}", 14);
    expect_load_error(path_of("absurd.npy"), AGLM_ERR_PARSE, "absurd");
    write_bytes(path_of("v9.npy"), "\x93NUMPY\x09\x00\x02\x00{}", 12);
    expect_load_error(path_of("v9.npy"), AGLM_ERR_UNSUPPORTED, "version 9.0");

    expect_load_error(
        npy_file("c8.npy", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", six, 24),
        AGLM_ERR_UNSUPPORTED, "'<c8'");
    expect_load_error(
        npy_file("obj.npy", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", six, 24),
        AGLM_ERR_UNSUPPORTED, "'|O'");
    expect_load_error(npy_file("rec.npy", 1,
                               "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }",
                               six, 24),
                      AGLM_ERR_UNSUPPORTED, "structured");

    /* data shorter than the shape needs: the message says both sizes */
    const char *p = npy_file(
        "short.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six, 12);
    char want[600];
    snprintf(want, sizeof want, "%s: data is 12 bytes, shape [2,3] of f32 needs 24", p);
    aglm_tensor t;
    assert_int_equal(aglm_npy_load(p, &t), AGLM_ERR_PARSE);
    assert_string_equal(aglm_last_error(), want);
    /* a shape far beyond the file is refused before anything is allocated */
    expect_load_error(
        npy_file("huge.npy", 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000), }",
                 six, 24),
        AGLM_ERR_PARSE, "needs 4000000000000000000");
    expect_load_error(
        npy_file("ovf.npy", 1,
                 "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
                 six, 24),
        AGLM_ERR_PARSE, "too large");
    expect_load_error(npy_file("neg.npy", 1,
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", six,
                               24),
                      AGLM_ERR_PARSE, "shape (2, -3) has a negative dim");
    expect_load_error(
        npy_file("rank9.npy", 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", six,
                 24),
        AGLM_ERR_UNSUPPORTED, "rank");

    /* header syntax */
    expect_load_error(npy_file("nobrace.npy", 1, "'descr': '<f4'", six, 24), AGLM_ERR_PARSE, "'{'");
    expect_load_error(npy_file("nocomma.npy", 1,
                               "{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}", six, 24),
                      AGLM_ERR_PARSE, "',' or '}'");
    expect_load_error(npy_file("nokey.npy", 1, "{'descr': '<f4', 'fortran_order': False}", six, 24),
                      AGLM_ERR_PARSE, "'shape'");
    expect_load_error(npy_file("badbool.npy", 1,
                               "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (6,)}", six, 24),
                      AGLM_ERR_PARSE, "True or False");
    expect_load_error(npy_file("badshape.npy", 1,
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x)}", six,
                               24),
                      AGLM_ERR_PARSE, "an integer");
    expect_load_error(npy_file("openstr.npy", 1, "{'descr': '<f4", six, 24), AGLM_ERR_PARSE,
                      "closing quote");
    expect_load_error(npy_file("tail.npy", 1,
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} junk", six,
                               24),
                      AGLM_ERR_PARSE, "end of the header");
    expect_load_error(
        npy_file("bigint.npy", 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", six,
                 24),
        AGLM_ERR_PARSE, "out of range");
}

static void test_file_stem(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(aglm_file_stem("input:0", out, sizeof out), "input_0");
    assert_string_equal(aglm_file_stem("a/b c", out, sizeof out), "a_b_c");
    assert_string_equal(aglm_file_stem("Ok.name-1_x", out, sizeof out), "Ok.name-1_x");
    assert_string_equal(aglm_file_stem("\xC3\xA9t\xC3\xA9", out, sizeof out), "__t__");
    assert_string_equal(aglm_file_stem("", out, sizeof out), "");
    memset(out, 'z', sizeof out);
    assert_string_equal(aglm_file_stem("abcdef", out, 4), "abc");
    assert_int_equal(out[4], 'z');
}

static int have_numpy(void)
{
    return system("python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

/* Files we write load in NumPy with the right dtype, shape and values, and files NumPy writes
 * (Fortran order, big-endian, scalars) load here. Skipped without numpy. */
static void test_numpy_interop(void **state)
{
    (void)state;
    if (!have_numpy()) {
        print_message("python3 with numpy not available: skipping the NumPy check\n");
        skip();
    }
    const int64_t dims[] = {2, 3};
    for (size_t k = 0; k < N_DTYPES; k++) {
        if (every_dtype[k] == AGLM_BF16) /* NumPy has no bfloat16 */
            continue;
        aglm_tensor t;
        char name[64];
        assert_int_equal(aglm_tensor_alloc(&t, every_dtype[k], 2, dims), AGLM_OK);
        fill(&t);
        snprintf(name, sizeof name, "np_%s.npy", aglm_dtype_name(every_dtype[k]));
        assert_int_equal(aglm_npy_save(path_of(name), &t), AGLM_OK);
        aglm_tensor_free(&t);
    }
    static const char script[] =
        "import sys, numpy as np\n"
        "d = sys.argv[1]\n"
        "specs = "
        "[('f32','<f4'),('f16','<f2'),('f64','<f8'),('i8','|i1'),('u8','|u1'),('i16','<i2'),\n"
        "         "
        "('u16','<u2'),('i32','<i4'),('u32','<u4'),('i64','<i8'),('u64','<u8'),('bool','|b1')]\n"
        "i = np.arange(6)\n"
        "for name, descr in specs:\n"
        "    a = np.load('%s/np_%s.npy' % (d, name))\n"
        "    dt = np.dtype(descr)\n"
        "    assert a.dtype == dt, (name, a.dtype)\n"
        "    assert a.shape == (2, 3), (name, a.shape)\n"
        "    want = {'f': i * 0.5 - 1.25, 'i': i * 3 - 5, 'u': i * 7, 'b': i % 2 == 1}[dt.kind]\n"
        "    assert (a.ravel() == want.astype(dt)).all(), (name, a)\n"
        "np.save(d + '/from_np_f.npy', np.asfortranarray(np.arange(24, dtype='>f8').reshape(2, 3, "
        "4)))\n"
        "np.save(d + '/from_np_s.npy', np.float32(3.5))\n"
        "np.save(d + '/from_np_b.npy', np.array([[True, False, True]]))\n";
    write_bytes(path_of("check.py"), script, sizeof script - 1);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", path_of("check.py"), dir);
    assert_int_equal(system(cmd), 0);

    aglm_tensor t;
    assert_int_equal(aglm_npy_load(path_of("from_np_f.npy"), &t), AGLM_OK);
    assert_int_equal(t.dtype, AGLM_F64);
    assert_int_equal(t.rank, 3);
    for (int i = 0; i < 24; i++)
        assert_true(aglm_tensor_get_f64(&t, i) == i);
    aglm_tensor_free(&t);
    assert_int_equal(aglm_npy_load(path_of("from_np_s.npy"), &t), AGLM_OK);
    assert_int_equal(t.rank, 0);
    assert_true(aglm_tensor_get_f64(&t, 0) == 3.5);
    aglm_tensor_free(&t);
    assert_int_equal(aglm_npy_load(path_of("from_np_b.npy"), &t), AGLM_OK);
    assert_int_equal(t.dtype, AGLM_BOOL);
    assert_memory_equal(t.data, "\1\0\1", 3);
    aglm_tensor_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_dtype),
        cmocka_unit_test(test_round_trip_keeps_bits),
        cmocka_unit_test(test_saved_header_layout),
        cmocka_unit_test(test_save_replaces_and_leaves_no_temp_files),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_read_format_2_and_3),
        cmocka_unit_test(test_read_big_endian),
        cmocka_unit_test(test_read_fortran_order),
        cmocka_unit_test(test_header_spellings),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_file_stem),
        cmocka_unit_test(test_numpy_interop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
