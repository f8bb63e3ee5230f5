/* The ONNX frontend, loaded through the registry and called through its ops table as the host
 * calls it. Models and tensors are written byte by byte from the test (a small protobuf writer
 * below), so each case states exactly what the file holds: good models (types, constants of
 * every dtype and encoding, Constant forms, subgraphs, functions, external data), bad bytes
 * (each with the error a user would see), and a sweep of the ONNX backend test models. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aglm/aglm.h"
#include "config.h"
#include "registry.h"

#define CONFORMANCE AGLM_SOURCE_DIR "/../shared/onnx-backend-tests/node"
#define MODELS_SH AGLM_SOURCE_DIR "/tests/real/fetch.sh" /* the project's own fetch step */

typedef struct fixture {
    host_config cfg;
    host_registry *reg;
    aglm_plugin_ref *ref;
    const aglm_frontend_ops *ops;
    void *state;
    char dir[64];
    char path[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(host_registry_new(&f->cfg, &f->reg), AGLM_OK);
    char name[64] = "";
    if (host_registry_load(f->reg, AGLM_PLUGIN_DIR "/frontend-onnx.so", name) != AGLM_OK)
        fail_msg("loading frontend-onnx.so: %s", aglm_last_error());
    assert_string_equal(name, "onnx");
    f->ref = host_registry_acquire(f->reg, "onnx", AGLM_KIND_FRONTEND);
    assert_non_null(f->ref);
    f->ops = host_ref_desc(f->ref)->ops;
    assert_true(f->ops->struct_size >= sizeof(aglm_frontend_ops));
    assert_non_null(f->ops->load_tensor);
    f->state = host_ref_state(f->ref);
    snprintf(f->dir, sizeof f->dir, "/tmp/aglm-onnx-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int teardown(void **state)
{
    fixture *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    host_registry_release(f->ref);
    host_registry_free(f->reg);
    free(f);
    return 0;
}

/* ---- a protobuf writer ------------------------------------------------------------------- */

typedef struct pbw {
    unsigned char *p;
    size_t n, cap;
} pbw;

static void put(pbw *w, const void *d, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->p = realloc(w->p, w->cap);
        assert_non_null(w->p);
    }
    if (n)
        memcpy(w->p + w->n, d, n);
    w->n += n;
}

static void put_varint(pbw *w, uint64_t v)
{
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        if (v)
            b |= 0x80;
        put(w, &b, 1);
    } while (v);
}

static void put_tag(pbw *w, unsigned num, unsigned wire)
{
    put_varint(w, (uint64_t)num << 3 | wire);
}

static void f_int(pbw *w, unsigned num, int64_t v)
{
    put_tag(w, num, 0);
    put_varint(w, (uint64_t)v);
}

static void f_bytes(pbw *w, unsigned num, const void *d, size_t n)
{
    put_tag(w, num, 2);
    put_varint(w, n);
    put(w, d, n);
}

static void f_str(pbw *w, unsigned num, const char *s)
{
    f_bytes(w, num, s, strlen(s));
}

/* Embeds m as field num and frees it. */
static void f_msg(pbw *w, unsigned num, pbw m)
{
    f_bytes(w, num, m.p, m.n);
    free(m.p);
}

static void f_float(pbw *w, unsigned num, float x)
{
    uint32_t b;
    memcpy(&b, &x, 4);
    put_tag(w, num, 5);
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(b >> (8 * i));
        put(w, &c, 1);
    }
}

static void f_double(pbw *w, unsigned num, double x)
{
    uint64_t b;
    memcpy(&b, &x, 8);
    put_tag(w, num, 1);
    for (int i = 0; i < 8; i++) {
        unsigned char c = (unsigned char)(b >> (8 * i));
        put(w, &c, 1);
    }
}

static void f_packed(pbw *w, unsigned num, const int64_t *v, size_t n)
{
    pbw m = {0};
    for (size_t i = 0; i < n; i++)
        put_varint(&m, (uint64_t)v[i]);
    if (!m.p)
        put(&m, "", 0);
    f_msg(w, num, m);
}

/* Each comma-separated item of list as a string field ("a,,b" has an empty middle item). */
static void f_list(pbw *w, unsigned num, const char *list)
{
    if (!list)
        return;
    for (const char *p = list;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        f_bytes(w, num, p, n);
        if (!c)
            break;
        p = c + 1;
    }
}

/* ---- ONNX messages ----------------------------------------------------------------------- */

enum {
    T_F32 = 1,
    T_U8,
    T_I8,
    T_U16,
    T_I16,
    T_I32,
    T_I64,
    T_STR,
    T_BOOL,
    T_F16,
    T_F64,
    T_U32,
    T_U64,
    T_BF16 = 16
};

/* dims: comma-separated ints (unpacked varints); "" for a scalar. */
static void f_dims(pbw *w, unsigned num, const char *dims)
{
    for (const char *p = dims; *p;) {
        char *end;
        f_int(w, num, strtoll(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
    }
}

static pbw tensor_head(const char *name, int dtype, const char *dims)
{
    pbw t = {0};
    f_dims(&t, 1, dims);
    f_int(&t, 2, dtype);
    if (name)
        f_str(&t, 8, name);
    return t;
}

static pbw tensor_raw(const char *name, int dtype, const char *dims, const void *raw, size_t n)
{
    pbw t = tensor_head(name, dtype, dims);
    f_bytes(&t, 9, raw, n);
    return t;
}

/* TypeProto of a tensor; shape NULL: no shape; items: an int is a dim_value, "?" an unknown dim,
 * anything else a dim_param. */
static pbw tensor_type(int elem, const char *shape)
{
    pbw tt = {0};
    f_int(&tt, 1, elem);
    if (shape) {
        pbw sh = {0};
        for (const char *p = shape; *p;) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            pbw d = {0};
            if (p[0] >= '0' && p[0] <= '9')
                f_int(&d, 1, strtoll(p, NULL, 10));
            else if (p[0] == '-')
                f_int(&d, 1, strtoll(p, NULL, 10));
            else if (!(n == 1 && p[0] == '?'))
                f_bytes(&d, 2, p, n);
            if (!d.p)
                put(&d, "", 0);
            f_msg(&sh, 1, d);
            p = c ? c + 1 : p + n;
        }
        if (!sh.p)
            put(&sh, "", 0);
        f_msg(&tt, 2, sh);
    }
    pbw ty = {0};
    f_msg(&ty, 1, tt);
    return ty;
}

static pbw vinfo(const char *name, int elem, const char *shape)
{
    pbw v = {0};
    f_str(&v, 1, name);
    f_msg(&v, 2, tensor_type(elem, shape));
    return v;
}

static pbw attr_head(const char *name, int type)
{
    pbw a = {0};
    f_str(&a, 1, name);
    f_int(&a, 20, type);
    return a;
}

static pbw attr_int(const char *name, int64_t v)
{
    pbw a = attr_head(name, AGLM_ATTR_INT);
    f_int(&a, 3, v);
    return a;
}

static pbw attr_float(const char *name, float v)
{
    pbw a = attr_head(name, AGLM_ATTR_FLOAT);
    f_float(&a, 2, v);
    return a;
}

static pbw attr_tensor(const char *name, pbw t)
{
    pbw a = attr_head(name, AGLM_ATTR_TENSOR);
    f_msg(&a, 5, t);
    return a;
}

static pbw attr_graph(const char *name, pbw g)
{
    pbw a = attr_head(name, AGLM_ATTR_GRAPH);
    f_msg(&a, 6, g);
    return a;
}

/* A NodeProto; attrs: a NULL-terminated list of attributes (each freed). */
static pbw node(const char *op, const char *name, const char *ins, const char *outs, pbw *attrs)
{
    pbw n = {0};
    f_list(&n, 1, ins);
    f_list(&n, 2, outs);
    if (name)
        f_str(&n, 3, name);
    f_str(&n, 4, op);
    for (size_t i = 0; attrs && attrs[i].p; i++)
        f_msg(&n, 5, attrs[i]);
    return n;
}

static void f_opset(pbw *m, const char *domain, int64_t version)
{
    pbw o = {0};
    f_str(&o, 1, domain);
    f_int(&o, 2, version);
    f_msg(m, 8, o);
}

/* A ModelProto around graph g with one ai.onnx import. */
static pbw model(int64_t ir, int64_t opset, pbw g)
{
    pbw m = {0};
    f_int(&m, 1, ir);
    f_opset(&m, "", opset);
    f_msg(&m, 7, g);
    return m;
}

/* ---- files and loading ------------------------------------------------------------------- */

static const char *path_in(fixture *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    return f->path;
}

/* Writes bytes to DIR/name and frees them; returns the path. */
static const char *write_pb(fixture *f, const char *name, pbw w)
{
    const char *p = path_in(f, name);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    if (w.n)
        assert_int_equal(fwrite(w.p, 1, w.n, fp), w.n);
    fclose(fp);
    free(w.p);
    return p;
}

static const char *write_bytes(fixture *f, const char *name, const void *b, size_t n)
{
    pbw w = {0};
    put(&w, b, n);
    return write_pb(f, name, w);
}

static aglm_graph *load_ok(fixture *f, const char *path)
{
    aglm_graph *g = NULL;
    if (f->ops->load(f->state, path, NULL, &g) != AGLM_OK)
        fail_msg("%s: %s", path, aglm_last_error());
    assert_non_null(g);
    assert_int_equal(aglm_graph_verify(g), AGLM_OK);
    return g;
}

/* Loading must fail with `want`, leave *out NULL, and name every fragment in the message. */
static void load_fails(fixture *f, const char *path, aglm_status want, ...)
{
    aglm_graph *g = (aglm_graph *)&g; /* not NULL: load must clear it */
    aglm_status st = f->ops->load(f->state, path, NULL, &g);
    const char *msg = aglm_last_error();
    if (st != want)
        fail_msg("%s: status %s, want %s (message: %s)", path, aglm_status_str(st),
                 aglm_status_str(want), msg);
    assert_null(g);
    assert_non_null(strstr(msg, path));
    va_list ap;
    va_start(ap, want);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        if (!strstr(msg, frag))
            fail_msg("message '%s' lacks '%s'", msg, frag);
    va_end(ap);
}

static const aglm_node *find_node(const aglm_graph *g, const char *op)
{
    for (size_t i = 0; i < aglm_graph_num_nodes(g); i++)
        if (strcmp(aglm_node_op(aglm_graph_node(g, i)), op) == 0)
            return aglm_graph_node(g, i);
    return NULL;
}

static void assert_type(const aglm_value *v, const char *want)
{
    char buf[128];
    assert_non_null(v);
    assert_string_equal(aglm_value_type_str(v, buf, sizeof buf), want);
}

static void assert_values(const aglm_tensor *t, size_t n, const double *want)
{
    assert_non_null(t);
    assert_int_equal(aglm_tensor_numel(t), n);
    for (size_t i = 0; i < n; i++)
        if (aglm_tensor_get_f64(t, (int64_t)i) != want[i])
            fail_msg("element %zu is %g, want %g", i, aglm_tensor_get_f64(t, (int64_t)i), want[i]);
}

static void assert_const(const aglm_graph *g, const char *name, const char *type, size_t n,
                         const double *want)
{
    const aglm_value *v = aglm_graph_find_value(g, name);
    assert_type(v, type);
    assert_values(aglm_value_const(v), n, want);
}

/* x: f32[N,3] + w (raw, [1,2,3]) -> y, as graph "g". */
static pbw add_graph(void)
{
    const float w[3] = {1, 2, 3};
    pbw g = {0};
    f_msg(&g, 1, node("Add", "add", "x,w", "y", NULL));
    f_str(&g, 2, "g");
    f_msg(&g, 5, tensor_raw("w", T_F32, "3", w, sizeof w));
    f_msg(&g, 11, vinfo("x", T_F32, "N,3"));
    f_msg(&g, 12, vinfo("y", T_F32, "N,3"));
    return g;
}

/* ---- probe ------------------------------------------------------------------------------- */

static void test_probe(void **state)
{
    fixture *f = *state;
    const unsigned char m[] = {0x08, 0x07, 0x12, 0x01, 'x'};
    const unsigned char t[] = {0x08, 0x02, 0x10, 0x01};
    const unsigned char text[] = "nodes: []\n";
    assert_int_equal(f->ops->probe(f->state, "model.onnx", m, sizeof m), 95);
    assert_int_equal(f->ops->probe(f->state, "dir/MODEL.ONNX", m, sizeof m), 95);
    assert_int_equal(f->ops->probe(f->state, "input_0.pb", t, sizeof t), 60);
    assert_int_equal(f->ops->probe(f->state, "model.bin", m, sizeof m), 60);
    assert_int_equal(f->ops->probe(f->state, "model.onnx", text, sizeof text - 1), 0);
    assert_int_equal(f->ops->probe(f->state, "model.onnx", NULL, 0), 0);
}

/* ---- good models ------------------------------------------------------------------------- */

static void test_model_types_and_metadata(void **state)
{
    fixture *f = *state;
    pbw m = model(8, 13, add_graph());
    f_str(&m, 2, "hand");
    f_str(&m, 3, "1.0");
    f_int(&m, 5, 5);
    f_str(&m, 6, "a test model");
    pbw kv = {0};
    f_str(&kv, 1, "author");
    f_str(&kv, 2, "me");
    f_msg(&m, 14, kv);
    kv = (pbw){0};
    f_str(&kv, 1, "producer_name");
    f_str(&kv, 2, "shadowed");
    f_msg(&m, 14, kv);
    aglm_graph *g = load_ok(f, write_pb(f, "add.onnx", m));

    assert_string_equal(aglm_graph_name(g), "g");
    assert_int_equal(aglm_graph_opset(g, ""), 13);
    assert_int_equal(aglm_graph_num_inputs(g), 1);
    assert_string_equal(aglm_value_name(aglm_graph_input(g, 0)), "x");
    assert_type(aglm_graph_input(g, 0), "f32[N,3]");
    assert_int_equal(aglm_graph_num_outputs(g), 1);
    assert_string_equal(aglm_value_name(aglm_graph_output(g, 0)), "y");
    assert_type(aglm_graph_output(g, 0), "f32[N,3]");
    const double w[] = {1, 2, 3};
    assert_const(g, "w", "f32[3]", 3, w);
    const aglm_node *add = find_node(g, "Add");
    assert_non_null(add);
    assert_string_equal(aglm_node_name(add), "add");
    assert_ptr_equal(aglm_node_input(add, 0), aglm_graph_input(g, 0));

    assert_string_equal(aglm_graph_meta(g, "ir_version"), "8");
    assert_string_equal(aglm_graph_meta(g, "producer_name"), "hand");
    assert_string_equal(aglm_graph_meta(g, "producer_version"), "1.0");
    assert_string_equal(aglm_graph_meta(g, "model_version"), "5");
    assert_string_equal(aglm_graph_meta(g, "doc_string"), "a test model");
    assert_string_equal(aglm_graph_meta(g, "author"), "me");
    assert_string_equal(aglm_graph_meta(g, "metadata_props.producer_name"), "shadowed");
    aglm_graph_free(g);
}

static void test_dims(void **state)
{
    fixture *f = *state;
    pbw g = {0};
    f_msg(&g, 1, node("Relu", NULL, "x", "y", NULL));
    f_msg(&g, 11, vinfo("x", T_F32, "batch,3,?,-1"));
    f_msg(&g, 11, vinfo("s", T_I64, ""));
    f_msg(&g, 11, vinfo("u", T_F16, NULL));
    f_msg(&g, 12, vinfo("y", T_F32, NULL));
    aglm_graph *gr = load_ok(f, write_pb(f, "dims.onnx", model(9, 14, g)));
    assert_type(aglm_graph_input(gr, 0), "f32[batch,3,?,?]");
    assert_string_equal(aglm_value_dim(aglm_graph_input(gr, 0), 0).sym, "batch");
    assert_type(aglm_graph_input(gr, 1), "i64[]");
    assert_int_equal(aglm_value_rank(aglm_graph_input(gr, 2)), -1);
    assert_int_equal(aglm_value_dtype(aglm_graph_input(gr, 2)), AGLM_F16);
    /* the output's shape comes from inference through Relu */
    assert_type(aglm_graph_output(gr, 0), "f32[batch,3,?,?]");
    aglm_graph_free(gr);
}

/* IR version 3 lists weights among the inputs: they stay constants, not inputs to feed. */
static void test_initializer_listed_as_input(void **state)
{
    fixture *f = *state;
    pbw g = add_graph();
    f_msg(&g, 11, vinfo("w", T_F32, "3"));
    aglm_graph *gr = load_ok(f, write_pb(f, "ir3.onnx", model(3, 8, g)));
    assert_int_equal(aglm_graph_num_inputs(gr), 1);
    assert_string_equal(aglm_value_name(aglm_graph_input(gr, 0)), "x");
    assert_non_null(aglm_value_const(aglm_graph_find_value(gr, "w")));
    assert_false(aglm_value_is_graph_input(aglm_graph_find_value(gr, "w")));
    aglm_graph_free(gr);

    g = add_graph();
    f_msg(&g, 11, vinfo("w", T_I64, "3"));
    load_fails(f, write_pb(f, "ir3bad.onnx", model(3, 8, g)), AGLM_ERR_TYPE, "input 'w'", "f32[3]",
               NULL);
}

/* Every dtype aglm holds, each from the typed field ONNX assigns it, plus raw_data. */
static void test_initializer_dtypes(void **state)
{
    fixture *f = *state;
    pbw g = {0};
    pbw t;
    t = tensor_head("f", T_F32, "2");
    f_float(&t, 4, 1.5f);
    f_float(&t, 4, -2.0f);
    f_msg(&g, 5, t);
    t = tensor_head("d", T_F64, "1");
    f_double(&t, 10, 0.25);
    f_msg(&g, 5, t);
    t = tensor_head("i64", T_I64, "2");
    f_int(&t, 7, -5);
    f_int(&t, 7, 7);
    f_msg(&g, 5, t);
    const struct {
        const char *name;
        int dtype;
        int64_t v;
    } i32s[] = {{"i32", T_I32, -100000}, {"i8", T_I8, -3},      {"u8", T_U8, 250},
                {"i16", T_I16, -300},    {"u16", T_U16, 60000}, {"b", T_BOOL, 1},
                {"h", T_F16, 0x3c00},    {"bh", T_BF16, 0x4000}};
    for (size_t i = 0; i < sizeof i32s / sizeof *i32s; i++) {
        t = tensor_head(i32s[i].name, i32s[i].dtype, "1");
        f_int(&t, 5, i32s[i].v);
        f_msg(&g, 5, t);
    }
    t = tensor_head("u32", T_U32, "1");
    f_int(&t, 11, 4000000000);
    f_msg(&g, 5, t);
    t = tensor_head("u64", T_U64, "1");
    f_int(&t, 11, (int64_t)10000000000000000000ull);
    f_msg(&g, 5, t);
    const unsigned char raw16[] = {0xfe, 0xff, 0x03, 0x00}; /* little-endian -2, 3 */
    f_msg(&g, 5, tensor_raw("r16", T_I16, "2", raw16, sizeof raw16));
    f_msg(&g, 5, tensor_raw("empty", T_F32, "0,4", NULL, 0));
    f_msg(&g, 12, vinfo("f", T_F32, "2"));
    aglm_graph *gr = load_ok(f, write_pb(f, "dtypes.onnx", model(8, 13, g)));

    assert_const(gr, "f", "f32[2]", 2, (const double[]){1.5, -2});
    assert_const(gr, "d", "f64[1]", 1, (const double[]){0.25});
    assert_const(gr, "i64", "i64[2]", 2, (const double[]){-5, 7});
    assert_const(gr, "i32", "i32[1]", 1, (const double[]){-100000});
    assert_const(gr, "i8", "i8[1]", 1, (const double[]){-3});
    assert_const(gr, "u8", "u8[1]", 1, (const double[]){250});
    assert_const(gr, "i16", "i16[1]", 1, (const double[]){-300});
    assert_const(gr, "u16", "u16[1]", 1, (const double[]){60000});
    assert_const(gr, "b", "bool[1]", 1, (const double[]){1});
    assert_const(gr, "h", "f16[1]", 1, (const double[]){1.0});
    assert_const(gr, "bh", "bf16[1]", 1, (const double[]){2.0});
    assert_const(gr, "u32", "u32[1]", 1, (const double[]){4000000000.0});
    assert_const(gr, "r16", "i16[2]", 2, (const double[]){-2, 3});
    assert_const(gr, "empty", "f32[0,4]", 0, NULL);
    const aglm_tensor *u64 = aglm_value_const(aglm_graph_find_value(gr, "u64"));
    assert_non_null(u64);
    assert_true(*(const uint64_t *)u64->data == 10000000000000000000ull);
    aglm_graph_free(gr);
}

/* Repeated ints may be packed or not; dims, int64_data and attribute ints read the same. */
static void test_packed_and_unpacked(void **state)
{
    fixture *f = *state;
    const int64_t dims[] = {2, 2}, vals[] = {1, 2, 3, 4}, perm[] = {1, 0};
    for (int packed = 0; packed < 2; packed++) {
        pbw t = {0};
        if (packed) {
            f_packed(&t, 1, dims, 2);
        } else {
            f_int(&t, 1, 2);
            f_int(&t, 1, 2);
        }
        f_int(&t, 2, T_I64);
        f_str(&t, 8, "w");
        if (packed) {
            f_packed(&t, 7, vals, 4);
        } else {
            for (int i = 0; i < 4; i++)
                f_int(&t, 7, vals[i]);
        }
        pbw a = attr_head("perm", AGLM_ATTR_INTS);
        if (packed) {
            f_packed(&a, 8, perm, 2);
        } else {
            f_int(&a, 8, 1);
            f_int(&a, 8, 0);
        }
        pbw g = {0};
        f_msg(&g, 1, node("Transpose", "t", "w", "y", (pbw[]){a, {0}}));
        f_msg(&g, 5, t);
        f_msg(&g, 12, vinfo("y", T_I64, NULL));
        aglm_graph *gr =
            load_ok(f, write_pb(f, packed ? "packed.onnx" : "unpacked.onnx", model(8, 13, g)));
        assert_const(gr, "w", "i64[2,2]", 4, (const double[]){1, 2, 3, 4});
        size_t n = 0;
        const int64_t *p = aglm_node_get_ints(find_node(gr, "Transpose"), "perm", &n);
        assert_int_equal(n, 2);
        assert_int_equal(p[0], 1);
        assert_int_equal(p[1], 0);
        assert_type(aglm_graph_output(gr, 0), "i64[2,2]");
        aglm_graph_free(gr);
    }
}

static void test_constant_forms(void **state)
{
    fixture *f = *state;
    pbw g = {0};
    pbw t = tensor_head(NULL, T_I32, "2");
    f_int(&t, 5, 7);
    f_int(&t, 5, -7);
    f_msg(&g, 1, node("Constant", "c_tensor", NULL, "a", (pbw[]){attr_tensor("value", t), {0}}));
    f_msg(&g, 1,
          node("Constant", "c_float", NULL, "b", (pbw[]){attr_float("value_float", 0.5f), {0}}));
    pbw fl = attr_head("value_floats", AGLM_ATTR_FLOATS);
    f_float(&fl, 7, 1);
    f_float(&fl, 7, 2);
    f_msg(&g, 1, node("Constant", "c_floats", NULL, "c", (pbw[]){fl, {0}}));
    f_msg(&g, 1, node("Constant", "c_int", NULL, "d", (pbw[]){attr_int("value_int", 9), {0}}));
    pbw il = attr_head("value_ints", AGLM_ATTR_INTS);
    f_packed(&il, 8, (const int64_t[]){4, 5, 6}, 3);
    f_msg(&g, 1, node("Constant", "c_ints", NULL, "e", (pbw[]){il, {0}}));
    /* sparse: [2,3] with 5 at flat index 1 and 6 at flat index 4 */
    pbw sp = {0};
    pbw sv = tensor_head(NULL, T_F32, "2");
    f_float(&sv, 4, 5);
    f_float(&sv, 4, 6);
    f_msg(&sp, 1, sv);
    pbw si = tensor_head(NULL, T_I64, "2");
    f_int(&si, 7, 1);
    f_int(&si, 7, 4);
    f_msg(&sp, 2, si);
    f_int(&sp, 3, 2);
    f_int(&sp, 3, 3);
    pbw sa = attr_head("sparse_value", 11);
    f_msg(&sa, 22, sp);
    f_msg(&g, 1, node("Constant", "c_sparse", NULL, "s", (pbw[]){sa, {0}}));
    f_msg(&g, 12, vinfo("s", T_F32, NULL));
    aglm_graph *gr = load_ok(f, write_pb(f, "constants.onnx", model(8, 13, g)));

    assert_type(aglm_graph_find_value(gr, "a"), "i32[2]");
    assert_type(aglm_graph_find_value(gr, "b"), "f32[]");
    assert_type(aglm_graph_find_value(gr, "c"), "f32[2]");
    assert_type(aglm_graph_find_value(gr, "d"), "i64[]");
    assert_type(aglm_graph_find_value(gr, "e"), "i64[3]");
    assert_type(aglm_graph_find_value(gr, "s"), "f32[2,3]");
    const aglm_node *a = aglm_value_producer(aglm_graph_find_value(gr, "a"));
    assert_values(aglm_attr_tensor(aglm_node_attr(a, "value")), 2, (const double[]){7, -7});
    assert_true(aglm_node_get_float(aglm_value_producer(aglm_graph_find_value(gr, "b")),
                                    "value_float", 0) == 0.5f);
    assert_int_equal(
        aglm_node_get_int(aglm_value_producer(aglm_graph_find_value(gr, "d")), "value_int", 0), 9);
    const aglm_node *s = aglm_value_producer(aglm_graph_find_value(gr, "s"));
    assert_null(aglm_node_attr(s, "sparse_value"));
    assert_values(aglm_attr_tensor(aglm_node_attr(s, "value")), 6,
                  (const double[]){0, 5, 0, 0, 6, 0});
    aglm_graph_free(gr);

    g = (pbw){0};
    pbw str = attr_head("value_string", AGLM_ATTR_STRING);
    f_str(&str, 4, "hello");
    f_msg(&g, 1, node("Constant", "c_str", NULL, "t", (pbw[]){str, {0}}));
    load_fails(f, write_pb(f, "strconst.onnx", model(8, 13, g)), AGLM_ERR_UNSUPPORTED,
               "node 'c_str' (Constant)", "dtype string not supported", NULL);
}

/* If branches and a Loop body read outer values by name; a body value that reuses an outer name
 * is renamed, and the body's nodes still read their own value. */
static void test_subgraphs(void **state)
{
    fixture *f = *state;
    const float one = 1;
    pbw then_g = {0};
    f_msg(&then_g, 1, node("Add", "then_add", "x,one", "t", NULL));
    f_str(&then_g, 2, "then");
    f_msg(&then_g, 5, tensor_raw("one", T_F32, "", &one, sizeof one));
    f_msg(&then_g, 12, vinfo("t", T_F32, "2"));
    pbw else_g = {0};
    f_msg(&else_g, 1, node("Neg", "else_neg", "x", "y", NULL)); /* "y" is also the outer output */
    f_msg(&else_g, 1, node("Identity", "else_id", "y", "e", NULL));
    f_str(&else_g, 2, "else");
    f_msg(&else_g, 12, vinfo("e", T_F32, "2"));
    pbw body = {0};
    f_msg(&body, 1, node("Identity", "body_cond", "cond_in", "cond_out", NULL));
    f_msg(&body, 1, node("Add", "body_add", "acc_in,x", "acc_out", NULL));
    f_str(&body, 2, "body");
    f_msg(&body, 11, vinfo("i", T_I64, ""));
    f_msg(&body, 11, vinfo("cond_in", T_BOOL, ""));
    f_msg(&body, 11, vinfo("acc_in", T_F32, "2"));
    f_msg(&body, 12, vinfo("cond_out", T_BOOL, ""));
    f_msg(&body, 12, vinfo("acc_out", T_F32, "2"));
    pbw g = {0};
    f_msg(&g, 1,
          node("If", "if", "c", "y",
               (pbw[]){attr_graph("then_branch", then_g), attr_graph("else_branch", else_g), {0}}));
    f_msg(&g, 1, node("Loop", "loop", "n,c,y", "z", (pbw[]){attr_graph("body", body), {0}}));
    f_msg(&g, 11, vinfo("x", T_F32, "2"));
    f_msg(&g, 11, vinfo("c", T_BOOL, ""));
    f_msg(&g, 11, vinfo("n", T_I64, ""));
    f_msg(&g, 12, vinfo("z", T_F32, "2"));
    aglm_graph *gr = load_ok(f, write_pb(f, "subgraphs.onnx", model(8, 13, g)));

    const aglm_node *ifn = find_node(gr, "If");
    aglm_graph *tg = aglm_attr_graph(aglm_node_attr(ifn, "then_branch"));
    aglm_graph *eg = aglm_attr_graph(aglm_node_attr(ifn, "else_branch"));
    assert_non_null(tg);
    assert_non_null(eg);
    assert_string_equal(aglm_graph_name(tg), "then");
    assert_ptr_equal(aglm_graph_parent(tg), gr);
    const aglm_node *tadd = find_node(tg, "Add");
    assert_ptr_equal(aglm_node_input(tadd, 0), aglm_graph_input(gr, 0));
    assert_ptr_equal(aglm_node_input(tadd, 1), aglm_graph_find_value(tg, "one"));
    /* else's own "y" is not the outer "y" */
    const aglm_node *eid = find_node(eg, "Identity");
    assert_ptr_equal(aglm_value_graph(aglm_node_input(eid, 0)), eg);
    assert_ptr_equal(aglm_node_input(eid, 0), aglm_node_output(find_node(eg, "Neg"), 0));
    assert_string_not_equal(aglm_value_name(aglm_node_input(eid, 0)), "y");
    assert_type(aglm_graph_find_value(gr, "y"), "f32[2]");

    const aglm_node *loop = find_node(gr, "Loop");
    aglm_graph *bg = aglm_attr_graph(aglm_node_attr(loop, "body"));
    assert_int_equal(aglm_graph_num_inputs(bg), 3);
    assert_ptr_equal(aglm_node_input(find_node(bg, "Add"), 1), aglm_graph_input(gr, 0));
    assert_type(aglm_graph_output(gr, 0), "f32[2]");
    aglm_graph_free(gr);
}

/* A model-local function is inlined where it is called, its attribute references resolved. */
static void test_function_inlined(void **state)
{
    fixture *f = *state;
    pbw fn = {0};
    f_str(&fn, 1, "AddScaled");
    f_str(&fn, 4, "a");
    f_str(&fn, 4, "b");
    f_str(&fn, 5, "c");
    f_str(&fn, 6, "alpha");
    pbw ref = attr_head("value_float", AGLM_ATTR_FLOAT);
    f_str(&ref, 21, "alpha");
    f_msg(&fn, 7, node("Constant", "k", NULL, "alpha_t", (pbw[]){ref, {0}}));
    f_msg(&fn, 7, node("Mul", "mul", "b,alpha_t", "m", NULL));
    f_msg(&fn, 7, node("Add", "add", "a,m", "c", NULL));
    pbw o = {0};
    f_str(&o, 1, "");
    f_int(&o, 2, 13);
    f_msg(&fn, 9, o);
    f_str(&fn, 10, "local");
    pbw g = {0};
    pbw call = node("AddScaled", "call", "x,y", "z", (pbw[]){attr_float("alpha", 2.0f), {0}});
    f_str(&call, 7, "local");
    f_msg(&g, 1, call);
    f_msg(&g, 11, vinfo("x", T_F32, "3"));
    f_msg(&g, 11, vinfo("y", T_F32, "3"));
    f_msg(&g, 12, vinfo("z", T_F32, "3"));
    pbw m = model(8, 13, g);
    f_opset(&m, "local", 1);
    f_msg(&m, 25, fn);
    aglm_graph *gr = load_ok(f, write_pb(f, "function.onnx", m));

    assert_null(find_node(gr, "AddScaled"));
    assert_int_equal(aglm_graph_num_nodes(gr), 3);
    const aglm_node *k = find_node(gr, "Constant");
    assert_true(aglm_node_get_float(k, "value_float", 0) == 2.0f);
    const aglm_node *add = find_node(gr, "Add");
    assert_ptr_equal(aglm_node_output(add, 0), aglm_graph_output(gr, 0));
    assert_string_equal(aglm_value_name(aglm_graph_output(gr, 0)), "z");
    assert_ptr_equal(aglm_node_input(add, 0), aglm_graph_input(gr, 0));
    assert_string_equal(aglm_value_name(aglm_node_input(add, 1)), "call/m");
    assert_type(aglm_graph_output(gr, 0), "f32[3]");
    assert_string_equal(aglm_graph_meta(gr, "local_functions"), "local.AddScaled");
    aglm_graph_free(gr);
}

/* Opsets older than 7 are read as 7 where their ops mean the same, and refused where not. */
static void test_old_opset(void **state)
{
    fixture *f = *state;
    pbw g = {0};
    f_msg(&g, 1, node("Not", NULL, "x", "y", NULL));
    f_msg(&g, 11, vinfo("x", T_BOOL, "2"));
    f_msg(&g, 12, vinfo("y", T_BOOL, "2"));
    aglm_graph *gr = load_ok(f, write_pb(f, "not1.onnx", model(3, 1, g)));
    assert_int_equal(aglm_graph_opset(gr, ""), 7);
    aglm_graph_free(gr);

    g = (pbw){0};
    f_msg(&g, 1, node("Add", "old_add", "x,x", "y", NULL));
    f_msg(&g, 11, vinfo("x", T_F32, "2"));
    f_msg(&g, 12, vinfo("y", T_F32, "2"));
    load_fails(f, write_pb(f, "add6.onnx", model(3, 6, g)), AGLM_ERR_UNSUPPORTED,
               "node 'old_add' (Add)", "opset 6", "changed in opset 7", NULL);
}

/* ---- external data ----------------------------------------------------------------------- */

static pbw external_tensor(const char *location, const char *offset, const char *length)
{
    pbw t = tensor_head("w", T_F32, "3");
    const char *keys[] = {"location", "offset", "length"};
    const char *vals[] = {location, offset, length};
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        pbw kv = {0};
        f_str(&kv, 1, keys[i]);
        f_str(&kv, 2, vals[i]);
        f_msg(&t, 13, kv);
    }
    f_int(&t, 14, 1);
    return t;
}

static const char *external_model(fixture *f, const char *name, const char *location,
                                  const char *offset, const char *length)
{
    pbw g = {0};
    f_msg(&g, 1, node("Identity", NULL, "w", "y", NULL));
    f_msg(&g, 5, external_tensor(location, offset, length));
    f_msg(&g, 12, vinfo("y", T_F32, "3"));
    return write_pb(f, name, model(8, 13, g));
}

static void test_external_data(void **state)
{
    fixture *f = *state;
    const float w[5] = {0, 0, 4, 5, 6}; /* the tensor's three floats start at byte 8 */
    write_bytes(f, "weights.bin", w, sizeof w);
    aglm_graph *g = load_ok(f, external_model(f, "ext.onnx", "weights.bin", "8", "12"));
    assert_const(g, "w", "f32[3]", 3, (const double[]){4, 5, 6});
    aglm_graph_free(g);
    g = load_ok(f, external_model(f, "ext2.onnx", "./weights.bin", "8", NULL));
    assert_const(g, "w", "f32[3]", 3, (const double[]){4, 5, 6});
    aglm_graph_free(g);

    load_fails(f, external_model(f, "up.onnx", "../weights.bin", NULL, NULL), AGLM_ERR_INVALID,
               "initializer 'w'", "'../weights.bin' escapes the model's folder", NULL);
    load_fails(f, external_model(f, "abs.onnx", "/etc/passwd", NULL, NULL), AGLM_ERR_INVALID,
               "'/etc/passwd' escapes the model's folder", NULL);
    char link[600];
    snprintf(link, sizeof link, "%s/outside.bin", f->dir);
    assert_int_equal(symlink("/etc/hostname", link), 0);
    load_fails(f, external_model(f, "link.onnx", "outside.bin", NULL, NULL), AGLM_ERR_INVALID,
               "'outside.bin' escapes the model's folder", "resolves to", NULL);
    load_fails(f, external_model(f, "past.onnx", "weights.bin", "12", NULL), AGLM_ERR_PARSE,
               "initializer 'w'", "runs past the end", NULL);
    load_fails(f, external_model(f, "len.onnx", "weights.bin", "0", "16"), AGLM_ERR_PARSE,
               "length is 16 bytes", "needs 12", NULL);
    load_fails(f, external_model(f, "gone.onnx", "missing.bin", NULL, NULL), AGLM_ERR_NOT_FOUND,
               "missing.bin", NULL);
}

/* ---- bad files --------------------------------------------------------------------------- */

static void test_bad_wire_format(void **state)
{
    fixture *f = *state;
    load_fails(f, write_bytes(f, "empty.onnx", "", 0), AGLM_ERR_PARSE, "empty file", NULL);
    const unsigned char trunc[] = {0x08, 0x08, 0x10, 0x80, 0x80};
    load_fails(f, write_bytes(f, "trunc.onnx", trunc, sizeof trunc), AGLM_ERR_PARSE, "at byte 2",
               "truncated or overlong varint", NULL);
    const unsigned char past[] = {0x08, 0x08, 0x3a, 0x05, 0x0a, 0x00};
    load_fails(f, write_bytes(f, "past.onnx", past, sizeof past), AGLM_ERR_PARSE,
               "length 5 runs past the end", "2 bytes left", NULL);
    const unsigned char wire[] = {0x08, 0x08, 0x38, 0x01};
    load_fails(f, write_bytes(f, "wire.onnx", wire, sizeof wire), AGLM_ERR_PARSE,
               "ModelProto.graph (field 7)", "is varint, expected length-delimited", NULL);
    pbw huge = {0};
    f_int(&huge, 1, 8);
    put_tag(&huge, 7, 2);
    put_varint(&huge, (uint64_t)1 << 40);
    put(&huge, "\x0a\x00", 2);
    load_fails(f, write_pb(f, "huge.onnx", huge), AGLM_ERR_PARSE,
               "length 1099511627776 runs past the end", NULL);
    const unsigned char group[] = {0x08, 0x08, 0x3b};
    load_fails(f, write_bytes(f, "group.onnx", group, sizeof group), AGLM_ERR_PARSE,
               "unsupported start-group", NULL);
    load_fails(f, write_bytes(f, "text.onnx", "ir_version: 8\n", 14), AGLM_ERR_PARSE, NULL);
    const unsigned char noir[] = {0x12, 0x01, 'x'};
    load_fails(f, write_bytes(f, "noir.onnx", noir, sizeof noir), AGLM_ERR_PARSE,
               "ir_version (field 1) is missing", NULL);

    /* graphs nested in attributes, 40 deep: 120 messages, past the reader's bound */
    pbw g = {0};
    f_msg(&g, 1, node("Relu", NULL, "x", "y", NULL));
    for (int i = 0; i < 40; i++) {
        pbw outer = {0};
        f_msg(&outer, 1, node("If", NULL, "c", "y", (pbw[]){attr_graph("then_branch", g), {0}}));
        g = outer;
    }
    load_fails(f, write_pb(f, "deep.onnx", model(8, 13, g)), AGLM_ERR_PARSE,
               "nest more than 64 deep", NULL);
}

static void test_bad_tensors(void **state)
{
    fixture *f = *state;
    const float five[5] = {0};
    pbw g = {0};
    f_msg(&g, 5, tensor_raw("w", T_F32, "2,3", five, sizeof five));
    load_fails(f, write_pb(f, "raw.onnx", model(8, 13, g)), AGLM_ERR_PARSE, "initializer 'w'",
               "raw_data holds 20 bytes", "[2,3] needs 24", NULL);

    g = (pbw){0};
    pbw t = tensor_head("w", T_F32, "2,3");
    for (int i = 0; i < 5; i++)
        f_float(&t, 4, 1);
    f_msg(&g, 5, t);
    load_fails(f, write_pb(f, "typed.onnx", model(8, 13, g)), AGLM_ERR_PARSE, "initializer 'w'",
               "float_data holds 5 values", "needs 6", NULL);

    /* 2^40 x 2^40 elements declared over four bytes: refused before any allocation */
    g = (pbw){0};
    f_msg(&g, 5, tensor_raw("big", T_F32, "1099511627776,1099511627776", five, 4));
    load_fails(f, write_pb(f, "bigdims.onnx", model(8, 13, g)), AGLM_ERR_PARSE, "initializer 'big'",
               NULL);

    g = (pbw){0};
    f_msg(&g, 5, tensor_raw("w", 17, "1", five, 1));
    load_fails(f, write_pb(f, "fp8.onnx", model(8, 13, g)), AGLM_ERR_UNSUPPORTED,
               "initializer 'w': dtype float8e4m3fn not supported", NULL);

    g = (pbw){0};
    t = tensor_head("w", T_U8, "1");
    f_int(&t, 5, 300);
    f_msg(&g, 5, t);
    load_fails(f, write_pb(f, "range.onnx", model(8, 13, g)), AGLM_ERR_PARSE,
               "int32_data value 300", "uint8", NULL);

    g = (pbw){0};
    t = tensor_head("w", T_F32, "1");
    f_int(&t, 7, 1);
    f_msg(&g, 5, t);
    load_fails(f, write_pb(f, "field.onnx", model(8, 13, g)), AGLM_ERR_PARSE,
               "int64_data cannot hold float values", NULL);

    /* a sparse index outside the dense shape */
    g = (pbw){0};
    pbw sp = {0};
    pbw sv = tensor_head("s", T_F32, "1");
    f_float(&sv, 4, 1);
    f_msg(&sp, 1, sv);
    pbw si = tensor_head(NULL, T_I64, "1");
    f_int(&si, 7, 9);
    f_msg(&sp, 2, si);
    f_int(&sp, 3, 2);
    f_int(&sp, 3, 3);
    f_msg(&g, 15, sp);
    load_fails(f, write_pb(f, "sparse.onnx", model(8, 13, g)), AGLM_ERR_PARSE,
               "sparse initializer 's'", "lies outside [2,3]", NULL);
}

static void test_bad_graphs(void **state)
{
    fixture *f = *state;
    pbw g = {0};
    f_msg(&g, 1, node("Relu", "r", "nope", "y", NULL));
    f_msg(&g, 12, vinfo("y", T_F32, NULL));
    load_fails(f, write_pb(f, "undef.onnx", model(8, 13, g)), AGLM_ERR_NOT_FOUND,
               "node 'r' (Relu): input 0 'nope' is not defined", NULL);

    g = (pbw){0};
    f_msg(&g, 1, node("Relu", "r1", "x", "y", NULL));
    f_msg(&g, 1, node("Relu", "r2", "x", "y", NULL));
    f_msg(&g, 11, vinfo("x", T_F32, "1"));
    load_fails(f, write_pb(f, "twice.onnx", model(8, 13, g)), AGLM_ERR_EXISTS, "node 'r2' (Relu)",
               "output 'y' is already defined", NULL);

    g = (pbw){0};
    f_msg(&g, 11, vinfo("x", T_F32, "1"));
    f_msg(&g, 12, vinfo("nowhere", T_F32, "1"));
    load_fails(f, write_pb(f, "noout.onnx", model(8, 13, g)), AGLM_ERR_NOT_FOUND,
               "output 'nowhere' is not defined", NULL);

    g = (pbw){0};
    pbw n = node("Frob", "f", "x", "y", NULL);
    f_str(&n, 7, "com.example");
    f_msg(&g, 1, n);
    f_msg(&g, 11, vinfo("x", T_F32, "1"));
    load_fails(f, write_pb(f, "domain.onnx", model(8, 13, g)), AGLM_ERR_NOT_FOUND,
               "node 'f' (com.example.Frob)", "domain 'com.example' is not imported", NULL);

    /* an op libaglm has no rule for still loads: the backend decides */
    g = (pbw){0};
    f_msg(&g, 1, node("SomeFutureOp", "s", "x", "y", NULL));
    f_msg(&g, 11, vinfo("x", T_F32, "1"));
    f_msg(&g, 12, vinfo("y", T_F32, "1"));
    aglm_graph *gr = load_ok(f, write_pb(f, "future.onnx", model(8, 13, g)));
    assert_non_null(find_node(gr, "SomeFutureOp"));
    assert_type(aglm_graph_output(gr, 0), "f32[1]");
    aglm_graph_free(gr);

    g = (pbw){0};
    f_msg(&g, 11, vinfo("x", 19, "1"));
    load_fails(f, write_pb(f, "fp8in.onnx", model(8, 13, g)), AGLM_ERR_UNSUPPORTED,
               "input 'x': dtype float8e5m2 not supported", NULL);

    /* inference errors are errors */
    g = (pbw){0};
    f_msg(&g, 1, node("Add", "bad_add", "a,b", "y", NULL));
    f_msg(&g, 11, vinfo("a", T_F32, "2"));
    f_msg(&g, 11, vinfo("b", T_F32, "3"));
    load_fails(f, write_pb(f, "shape.onnx", model(8, 13, g)), AGLM_ERR_SHAPE, "shape inference",
               "bad_add", NULL);
}

/* ---- tensor files ------------------------------------------------------------------------ */

static void test_load_tensor(void **state)
{
    fixture *f = *state;
    aglm_tensor t;
    pbw tp = tensor_head("x", T_I64, "2,1");
    f_int(&tp, 7, -4);
    f_int(&tp, 7, 12);
    assert_int_equal(f->ops->load_tensor(f->state, write_pb(f, "input_0.pb", tp), &t), AGLM_OK);
    assert_int_equal(t.dtype, AGLM_I64);
    assert_int_equal(t.rank, 2);
    assert_int_equal(t.dims[0], 2);
    assert_int_equal(t.dims[1], 1);
    assert_values(&t, 2, (const double[]){-4, 12});
    assert_true(t.flags & AGLM_TENSOR_OWNS_DATA);
    aglm_tensor_free(&t);

    const float v[2] = {0.5f, 8};
    assert_int_equal(
        f->ops->load_tensor(f->state,
                            write_pb(f, "raw.pb", tensor_raw("x", T_F32, "2", v, sizeof v)), &t),
        AGLM_OK);
    assert_values(&t, 2, (const double[]){0.5, 8});
    aglm_tensor_free(&t);

    /* a SequenceProto: name, elem_type TENSOR, one tensor */
    pbw seq = {0};
    f_str(&seq, 1, "seq");
    f_int(&seq, 2, 1);
    f_msg(&seq, 3, tensor_raw(NULL, T_F32, "2", v, sizeof v));
    const char *p = write_pb(f, "seq.pb", seq);
    assert_int_equal(f->ops->load_tensor(f->state, p, &t), AGLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(aglm_last_error(), "seq.pb: sequence values are not supported"));
    assert_null(t.data);

    pbw short_raw = tensor_raw("x", T_F32, "4", v, sizeof v);
    p = write_pb(f, "short.pb", short_raw);
    assert_int_equal(f->ops->load_tensor(f->state, p, &t), AGLM_ERR_PARSE);
    assert_non_null(strstr(aglm_last_error(), "short.pb: tensor 'x': raw_data holds 8 bytes"));
    assert_int_equal(f->ops->load_tensor(f->state, path_in(f, "none.pb"), &t), AGLM_ERR_NOT_FOUND);
}

/* ---- the ONNX backend node tests --------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 when t's dtype and shape fit value v's declared type. */
static int tensor_fits(const aglm_value *v, const aglm_tensor *t)
{
    if (aglm_value_dtype(v) != t->dtype || aglm_value_rank(v) != t->rank)
        return 0;
    for (int k = 0; k < t->rank; k++) {
        aglm_dim d = aglm_value_dim(v, k);
        if (d.value >= 0 && d.value != t->dims[k])
            return 0;
    }
    return 1;
}

/* Loads every 4th case (all with AGLM_ONNX_SWEEP=all): each must load and verify, or fail with
 * AGLM_ERR_UNSUPPORTED naming a dtype; each case's input_0.pb must match its first input. */
static void test_conformance_sweep(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(CONFORMANCE);
    if (!d) {
        print_message("skipped: %s is absent\n", CONFORMANCE);
        skip();
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (strncmp(de->d_name, "test_", 5) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            names = realloc(names, cap * sizeof *names);
            assert_non_null(names);
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    const char *all = getenv("AGLM_ONNX_SWEEP");
    size_t stride = all && strcmp(all, "all") == 0 ? 1 : 4;
    size_t loaded = 0, unsupported = 0, failed = 0, tensors = 0;
    for (size_t i = 0; i < n; i += stride) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s/model.onnx", CONFORMANCE, names[i]);
        aglm_graph *g = NULL;
        aglm_status st = f->ops->load(f->state, p, NULL, &g);
        if (st != AGLM_OK) {
            if (st == AGLM_ERR_UNSUPPORTED && strstr(aglm_last_error(), "not supported")) {
                unsupported++;
            } else {
                print_error("%s: %s\n", names[i], aglm_last_error());
                failed++;
            }
            assert_null(g);
            continue;
        }
        loaded++;
        if (aglm_graph_verify(g) != AGLM_OK) {
            print_error("%s: verify: %s\n", names[i], aglm_last_error());
            failed++;
        }
        snprintf(p, sizeof p, "%s/%s/test_data_set_0/input_0.pb", CONFORMANCE, names[i]);
        aglm_tensor t;
        if (aglm_graph_num_inputs(g) > 0 && access(p, R_OK) == 0) {
            const aglm_value *in = aglm_graph_input(g, 0);
            st = f->ops->load_tensor(f->state, p, &t);
            if (st == AGLM_OK) {
                tensors++;
                if (!tensor_fits(in, &t)) {
                    char want[128], got[128];
                    print_error("%s: input_0.pb is %s%s, the model's input '%s' %s\n", names[i],
                                aglm_dtype_name(t.dtype),
                                aglm_shape_str(t.rank, t.dims, got, sizeof got),
                                aglm_value_name(in), aglm_value_type_str(in, want, sizeof want));
                    failed++;
                }
                aglm_tensor_free(&t);
            } else if (!(st == AGLM_ERR_UNSUPPORTED && aglm_value_dtype(in) == AGLM_UNDEFINED)) {
                /* only inputs of no tensor type (sequences, optionals) may hold non-tensors */
                print_error("%s: input_0.pb: %s\n", names[i], aglm_last_error());
                failed++;
            }
        }
        aglm_graph_free(g);
    }
    print_message("onnx sweep: %zu cases, %zu loaded, %zu unsupported dtypes, %zu failed, %zu "
                  "inputs checked\n",
                  (n + stride - 1) / stride, loaded, unsupported, failed, tensors);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    assert_true(n > 1000);
    assert_true(loaded > unsupported * 4);
    assert_int_equal(failed, 0);
}

/* The real models ../shared/tools/models.sh fetches (skipped when it cannot fetch them). */
static void test_real_models(void **state)
{
    fixture *f = *state;
    if (access(MODELS_SH, R_OK) != 0 || getenv("AGLM_SKIP_MODELS")) {
        print_message("skipped: %s is absent (or AGLM_SKIP_MODELS is set)\n", MODELS_SH);
        skip();
    }
    FILE *p = popen("bash " MODELS_SH " 2>/dev/null", "r");
    assert_non_null(p);
    char line[1024];
    size_t models = 0;
    while (fgets(line, sizeof line, p)) {
        char name[64], path[900];
        if (sscanf(line, "%63s %899s", name, path) != 2)
            continue;
        size_t len = strlen(path);
        if (len < 5 || strcmp(path + len - 5, ".onnx") != 0)
            continue;
        aglm_graph *g = load_ok(f, path);
        assert_true(aglm_graph_num_nodes(g) > 10);
        assert_true(aglm_graph_num_inputs(g) >= 1);
        for (size_t i = 0; i < aglm_graph_num_outputs(g); i++)
            assert_int_equal(aglm_value_dtype(aglm_graph_output(g, i)), AGLM_F32);
        aglm_graph_free(g);
        models++;
    }
    int rc = pclose(p);
    if (models == 0) {
        print_message("skipped: tests/real/fetch.sh fetched nothing (exit %d; no network?)\n", rc);
        skip();
    }
    assert_int_equal(models, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_types_and_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initializer_listed_as_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initializer_dtypes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packed_and_unpacked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constant_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subgraphs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_function_inlined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_opset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_external_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_wire_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_tensors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_graphs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_tensor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conformance_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_models, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
