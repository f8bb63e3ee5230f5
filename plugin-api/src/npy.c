/* NumPy .npy reading and writing.
 *
 * The format (numpy.lib.format): the magic "\x93NUMPY", a major and minor version byte, the
 * header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), then the header: a
 * Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)} padded with spaces
 * and ended by '\n' so the data starts on an aligned offset. The data follows, raw. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aglm/npy.h"

#define MAGIC "\x93NUMPY"
#define MAGIC_LEN 6
/* A header holds three short keys; anything near this size is not a .npy header, and refusing
 * it keeps a corrupt length field from costing a large allocation. */
#define HEADER_LIMIT (1u << 20)
#define STR_CAP 128
#define NEST_LIMIT 64
#define DATA_ALIGN 64

typedef struct npy_header {
    aglm_dtype dtype;
    int swap;    /* the file's byte order is not the host's */
    int fortran; /* column-major data */
    int rank;    /* may exceed AGLM_MAX_RANK: reported after parsing */
    int64_t dims[AGLM_MAX_RANK];
    int have_descr, have_fortran, have_shape;
} npy_header;

/* A cursor over the header text; errors name the file and the byte offset in the header. */
typedef struct cursor {
    const char *path;
    const char *s;
    size_t len, pos;
} cursor;

static int host_little(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- header dict parser ----------------------------------------------------------------- */

static int peek(const cursor *c)
{
    return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static void skip_ws(cursor *c)
{
    while (c->pos < c->len && isspace((unsigned char)c->s[c->pos]))
        c->pos++;
}

static int accept(cursor *c, char ch)
{
    skip_ws(c);
    if (peek(c) == (unsigned char)ch) {
        c->pos++;
        return 1;
    }
    return 0;
}

static aglm_status syntax(const cursor *c, const char *expected)
{
    char near[24];
    size_t n = 0;
    for (size_t i = c->pos; i < c->len && n < 20; i++, n++)
        near[n] = isprint((unsigned char)c->s[i]) ? c->s[i] : '?';
    near[n] = '\0';
    if (n == 0)
        return aglm_error(AGLM_ERR_PARSE,
                          "%s: malformed .npy header: expected %s at byte %zu, found the end",
                          c->path, expected, c->pos);
    return aglm_error(AGLM_ERR_PARSE,
                      "%s: malformed .npy header: expected %s at byte %zu, found '%s'", c->path,
                      expected, c->pos, near);
}

/* A Python string literal ('...' or "..."), into out (STR_CAP bytes) or skipped when out is
 * NULL. */
static aglm_status parse_str(cursor *c, char *out)
{
    skip_ws(c);
    int q = peek(c);
    if (q != '\'' && q != '"')
        return syntax(c, "a quoted string");
    size_t start = c->pos++;
    size_t n = 0;
    while (c->pos < c->len && (unsigned char)c->s[c->pos] != q) {
        char ch = c->s[c->pos++];
        if (ch == '\\' && c->pos < c->len)
            ch = c->s[c->pos++];
        if (out) {
            if (n + 1 >= STR_CAP)
                return aglm_error(
                    AGLM_ERR_PARSE,
                    "%s: malformed .npy header: string at byte %zu is longer than %d bytes",
                    c->path, start, STR_CAP - 1);
            out[n++] = ch;
        }
    }
    if (c->pos >= c->len) {
        c->pos = start;
        return syntax(c, "a closing quote for the string");
    }
    c->pos++;
    if (out)
        out[n] = '\0';
    return AGLM_OK;
}

/* A bare word (True, False, None). */
static size_t parse_word(cursor *c, char *out, size_t cap)
{
    skip_ws(c);
    size_t n = 0;
    while (c->pos < c->len && (isalnum((unsigned char)c->s[c->pos]) || c->s[c->pos] == '_')) {
        if (n + 1 < cap)
            out[n++] = c->s[c->pos];
        c->pos++;
    }
    out[n] = '\0';
    return n;
}

/* A decimal integer; Python 2 era files write longs with an 'L' suffix ("3L"). */
static aglm_status parse_int(cursor *c, int64_t *v)
{
    skip_ws(c);
    size_t start = c->pos;
    int neg = 0;
    if (peek(c) == '-' || peek(c) == '+')
        neg = c->s[c->pos++] == '-';
    if (!isdigit(peek(c))) {
        c->pos = start;
        return syntax(c, "an integer");
    }
    uint64_t x = 0;
    while (isdigit(peek(c))) {
        unsigned d = (unsigned)(c->s[c->pos++] - '0');
        if (x > (UINT64_C(1) << 63) / 10 || x * 10 + d > (UINT64_C(1) << 63)) {
            return aglm_error(AGLM_ERR_PARSE,
                              "%s: malformed .npy header: integer at byte %zu is out of range",
                              c->path, start);
        }
        x = x * 10 + d;
    }
    if (peek(c) == 'L' || peek(c) == 'l')
        c->pos++;
    if (!neg && x > (uint64_t)INT64_MAX)
        return aglm_error(AGLM_ERR_PARSE,
                          "%s: malformed .npy header: integer at byte %zu is out of range", c->path,
                          start);
    *v = neg ? (int64_t)(0 - x) : (int64_t)x;
    return AGLM_OK;
}

/* The value of a key we do not use: skipped by matching brackets and quotes. */
static aglm_status skip_value(cursor *c)
{
    skip_ws(c);
    size_t start = c->pos;
    int depth = 0;
    while (c->pos < c->len) {
        char ch = c->s[c->pos];
        if (ch == '\'' || ch == '"') {
            aglm_status st = parse_str(c, NULL);
            if (st != AGLM_OK)
                return st;
            continue;
        }
        if (ch == '(' || ch == '[' || ch == '{') {
            if (++depth > NEST_LIMIT)
                return syntax(c, "a value nested less deeply");
        } else if (ch == ')' || ch == ']' || ch == '}') {
            if (depth == 0)
                break;
            depth--;
        } else if (ch == ',' && depth == 0) {
            break;
        }
        c->pos++;
    }
    if (depth != 0)
        return syntax(c, "a closing bracket");
    if (c->pos == start)
        return syntax(c, "a value");
    return AGLM_OK;
}

/* Maps a NumPy type string ('<f4', '|u1', '>i8', '|b1', 'bfloat16') to a dtype. */
static aglm_status parse_descr(const char *path, const char *d, npy_header *h)
{
    static const struct {
        const char *code;
        aglm_dtype dt;
    } codes[] = {
        {"f2", AGLM_F16}, {"f4", AGLM_F32},  {"f8", AGLM_F64}, {"i1", AGLM_I8},  {"u1", AGLM_U8},
        {"i2", AGLM_I16}, {"u2", AGLM_U16},  {"i4", AGLM_I32}, {"u4", AGLM_U32}, {"i8", AGLM_I64},
        {"u8", AGLM_U64}, {"b1", AGLM_BOOL}, {"?", AGLM_BOOL},
    };
    if (strcmp(d, "bfloat16") == 0) {
        h->dtype = AGLM_BF16;
        h->swap = 0;
        return AGLM_OK;
    }
    char order = '=';
    const char *code = d;
    if (*code == '<' || *code == '>' || *code == '|' || *code == '=')
        order = *code++;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (strcmp(code, codes[i].code) == 0) {
            h->dtype = codes[i].dt;
            h->swap = aglm_dtype_size(h->dtype) > 1 &&
                      ((order == '<' && !host_little()) || (order == '>' && host_little()));
            return AGLM_OK;
        }
    }
    return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: unsupported dtype '%s' (descr)", path, d);
}

static aglm_status parse_shape(cursor *c, npy_header *h)
{
    skip_ws(c);
    char close;
    if (accept(c, '('))
        close = ')';
    else if (accept(c, '['))
        close = ']';
    else
        return syntax(c, "a shape tuple");
    h->rank = 0;
    while (!accept(c, close)) {
        int64_t v = 0;
        aglm_status st = parse_int(c, &v);
        if (st != AGLM_OK)
            return st;
        if (h->rank < AGLM_MAX_RANK)
            h->dims[h->rank] = v;
        if (h->rank < AGLM_MAX_RANK + 1)
            h->rank++;
        if (accept(c, ','))
            continue;
        if (accept(c, close))
            break;
        return syntax(c, close == ')' ? "',' or ')' in the shape" : "',' or ']' in the shape");
    }
    return AGLM_OK;
}

static aglm_status parse_header(const char *path, const char *text, size_t len, npy_header *h)
{
    cursor c = {path, text, len, 0};
    char key[STR_CAP], word[16];
    aglm_status st;
    memset(h, 0, sizeof *h);
    if (!accept(&c, '{'))
        return syntax(&c, "'{' opening the header dict");
    while (!accept(&c, '}')) {
        if ((st = parse_str(&c, key)) != AGLM_OK)
            return st;
        if (!accept(&c, ':'))
            return syntax(&c, "':' after the key");
        if (strcmp(key, "descr") == 0) {
            char descr[STR_CAP];
            skip_ws(&c);
            if (peek(&c) == '[')
                return aglm_error(AGLM_ERR_UNSUPPORTED,
                                  "%s: structured dtypes (a descr list) are not supported", path);
            if ((st = parse_str(&c, descr)) != AGLM_OK)
                return st;
            if ((st = parse_descr(path, descr, h)) != AGLM_OK)
                return st;
            h->have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            skip_ws(&c);
            size_t at = c.pos;
            parse_word(&c, word, sizeof word);
            if (strcmp(word, "True") == 0) {
                h->fortran = 1;
            } else if (strcmp(word, "False") == 0) {
                h->fortran = 0;
            } else {
                c.pos = at;
                return syntax(&c, "True or False for 'fortran_order'");
            }
            h->have_fortran = 1;
        } else if (strcmp(key, "shape") == 0) {
            if ((st = parse_shape(&c, h)) != AGLM_OK)
                return st;
            h->have_shape = 1;
        } else if ((st = skip_value(&c)) != AGLM_OK) {
            return st;
        }
        if (accept(&c, ','))
            continue;
        if (accept(&c, '}'))
            break;
        return syntax(&c, "',' or '}' after a value");
    }
    skip_ws(&c);
    if (c.pos != c.len)
        return syntax(&c, "the end of the header after '}'");
    const char *missing = !h->have_descr     ? "descr"
                          : !h->have_fortran ? "fortran_order"
                          : !h->have_shape   ? "shape"
                                             : NULL;
    if (missing)
        return aglm_error(AGLM_ERR_PARSE, "%s: .npy header has no '%s' key", path, missing);
    return AGLM_OK;
}

/* ---- load ------------------------------------------------------------------------------- */

static void byteswap(unsigned char *p, size_t count, size_t esize)
{
    for (size_t i = 0; i < count; i++, p += esize)
        for (size_t a = 0, b = esize - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Copies column-major src into row-major dst, walking dst in order with an odometer over the
 * index and keeping the matching column-major offset. */
static void fortran_to_c(const unsigned char *src, unsigned char *dst, int rank,
                         const int64_t *dims, size_t esize, int64_t numel)
{
    int64_t fstride[AGLM_MAX_RANK], idx[AGLM_MAX_RANK] = {0};
    int64_t s = 1;
    for (int k = 0; k < rank; k++) {
        fstride[k] = s;
        s *= dims[k];
    }
    int64_t off = 0;
    for (int64_t i = 0; i < numel; i++) {
        memcpy(dst + (size_t)i * esize, src + (size_t)off * esize, esize);
        for (int k = rank - 1; k >= 0; k--) {
            idx[k]++;
            off += fstride[k];
            if (idx[k] < dims[k])
                break;
            off -= idx[k] * fstride[k];
            idx[k] = 0;
        }
    }
}

/* Writes NumPy's spelling of a shape: "()", "(3,)", "(2, 3)". */
static void py_shape(int rank, const int64_t *dims, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < rank && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (len < n)
        snprintf(buf + len, n - len, rank == 1 ? ",)" : ")");
}

static aglm_status check_shape(const char *path, const npy_header *h, uint64_t *numel)
{
    char shape[256];
    if (h->rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: rank greater than %d is not supported", path,
                          AGLM_MAX_RANK);
    py_shape(h->rank, h->dims, shape, sizeof shape);
    uint64_t n = 1;
    for (int i = 0; i < h->rank; i++)
        if (h->dims[i] < 0)
            return aglm_error(AGLM_ERR_PARSE, "%s: shape %s has a negative dim", path, shape);
    for (int i = 0; i < h->rank; i++)
        if (__builtin_mul_overflow(n, (uint64_t)h->dims[i], &n) || n > (uint64_t)INT64_MAX)
            return aglm_error(AGLM_ERR_PARSE, "%s: shape %s is too large", path, shape);
    *numel = n;
    return AGLM_OK;
}

static aglm_status load_open(const char *path, FILE *f, aglm_tensor *out)
{
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0)
        return aglm_error(AGLM_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return aglm_error(AGLM_ERR_IO, "%s: is a directory, not a .npy file", path);
    if (!S_ISREG(sb.st_mode))
        return aglm_error(AGLM_ERR_IO, "%s: is not a regular file", path);
    uint64_t fsize = (uint64_t)sb.st_size;

    unsigned char pre[12];
    size_t got = fread(pre, 1, 10, f);
    if (got < MAGIC_LEN || memcmp(pre, MAGIC, MAGIC_LEN) != 0)
        return aglm_error(AGLM_ERR_PARSE, "%s: not a .npy file (bad magic)", path);
    if (got < 10)
        return aglm_error(AGLM_ERR_PARSE, "%s: truncated header: the file is only %zu bytes", path,
                          got);
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: unsupported .npy format version %d.%d", path,
                          major, minor);
    size_t pre_len = major == 1 ? 10 : 12;
    uint64_t hlen;
    if (major == 1) {
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
    } else {
        if (fread(pre + 10, 1, 2, f) != 2)
            return aglm_error(AGLM_ERR_PARSE,
                              "%s: truncated header: the file ends inside the preamble", path);
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 |
               (uint64_t)pre[11] << 24;
    }
    if (hlen > HEADER_LIMIT)
        return aglm_error(AGLM_ERR_PARSE,
                          "%s: header length %llu is absurd (the limit is %u bytes)", path,
                          (unsigned long long)hlen, HEADER_LIMIT);
    if (pre_len + hlen > fsize)
        return aglm_error(
            AGLM_ERR_PARSE,
            "%s: truncated header: it claims %llu bytes, the file has %llu after the preamble",
            path, (unsigned long long)hlen, (unsigned long long)(fsize - pre_len));

    char *text = malloc(hlen + 1);
    if (!text)
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory reading the header", path);
    if (fread(text, 1, hlen, f) != hlen) {
        free(text);
        return aglm_error(AGLM_ERR_IO, "%s: cannot read the header: %s", path,
                          ferror(f) ? strerror(errno) : "file shrank");
    }
    text[hlen] = '\0';
    npy_header h;
    aglm_status st = parse_header(path, text, hlen, &h);
    free(text);
    if (st != AGLM_OK)
        return st;

    uint64_t numel = 0;
    if ((st = check_shape(path, &h, &numel)) != AGLM_OK)
        return st;
    size_t esize = aglm_dtype_size(h.dtype);
    uint64_t avail = fsize - pre_len - hlen;
    uint64_t need;
    int overflow = __builtin_mul_overflow(numel, (uint64_t)esize, &need);
    if (overflow || need > avail) {
        char shape[256], needs[32];
        aglm_shape_str(h.rank, h.dims, shape, sizeof shape);
        if (overflow)
            snprintf(needs, sizeof needs, "more than 2^64");
        else
            snprintf(needs, sizeof needs, "%llu", (unsigned long long)need);
        return aglm_error(AGLM_ERR_PARSE, "%s: data is %llu bytes, shape %s of %s needs %s", path,
                          (unsigned long long)avail, shape, aglm_dtype_name(h.dtype), needs);
    }

    aglm_tensor t;
    if ((st = aglm_tensor_alloc(&t, h.dtype, h.rank, h.dims)) != AGLM_OK)
        return aglm_error_wrap(st, "%s", path);
    unsigned char *raw = t.data;
    int transpose = h.fortran && h.rank > 1 && need > 0;
    if (transpose && !(raw = malloc(need))) {
        aglm_tensor_free(&t);
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory reading %llu bytes of data", path,
                          (unsigned long long)need);
    }
    if (need > 0 && fread(raw, 1, need, f) != need) {
        st = aglm_error(AGLM_ERR_IO, "%s: cannot read the data: %s", path,
                        ferror(f) ? strerror(errno) : "file shrank");
        if (transpose)
            free(raw);
        aglm_tensor_free(&t);
        return st;
    }
    if (h.swap)
        byteswap(raw, numel, esize);
    if (transpose) {
        fortran_to_c(raw, t.data, h.rank, h.dims, esize, (int64_t)numel);
        free(raw);
    }
    if (h.dtype == AGLM_BOOL) { /* the tensor contract is 0 or 1 per element */
        unsigned char *b = t.data;
        for (uint64_t i = 0; i < numel; i++)
            b[i] = b[i] != 0;
    }
    *out = t;
    return AGLM_OK;
}

aglm_status aglm_npy_load(const char *path, aglm_tensor *out)
{
    if (!out)
        return aglm_error(AGLM_ERR_INVALID, "aglm_npy_load: output tensor is NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return aglm_error(AGLM_ERR_INVALID, "aglm_npy_load: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return aglm_error(AGLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    aglm_status st = load_open(path, f, out);
    fclose(f);
    return st;
}

/* ---- save ------------------------------------------------------------------------------- */

static const char *descr_of(aglm_dtype dt)
{
    int le = host_little();
    switch (dt) {
    case AGLM_F16: return le ? "<f2" : ">f2";
    case AGLM_F32: return le ? "<f4" : ">f4";
    case AGLM_F64: return le ? "<f8" : ">f8";
    case AGLM_I8: return "|i1";
    case AGLM_U8: return "|u1";
    case AGLM_I16: return le ? "<i2" : ">i2";
    case AGLM_U16: return le ? "<u2" : ">u2";
    case AGLM_I32: return le ? "<i4" : ">i4";
    case AGLM_U32: return le ? "<u4" : ">u4";
    case AGLM_I64: return le ? "<i8" : ">i8";
    case AGLM_U64: return le ? "<u8" : ">u8";
    case AGLM_BOOL: return "|b1";
    case AGLM_BF16: return "bfloat16";
    default: return NULL;
    }
}

static aglm_status write_all(const char *path, FILE *f, const void *p, size_t n)
{
    if (n > 0 && fwrite(p, 1, n, f) != n)
        return aglm_error(AGLM_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return AGLM_OK;
}

aglm_status aglm_npy_save(const char *path, const aglm_tensor *t)
{
    if (!path || !t)
        return aglm_error(AGLM_ERR_INVALID, "aglm_npy_save: %s is NULL", path ? "tensor" : "path");
    const char *descr = descr_of(t->dtype);
    if (!descr)
        return aglm_error(AGLM_ERR_UNSUPPORTED, "%s: cannot save a tensor of dtype %s (%d)", path,
                          aglm_dtype_name(t->dtype), (int)t->dtype);
    if (t->device != AGLM_DEVICE_CPU)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "%s: cannot save a tensor that is not in cpu memory", path);
    if (t->rank < 0 || t->rank > AGLM_MAX_RANK)
        return aglm_error(AGLM_ERR_INVALID, "%s: cannot save a tensor of rank %d", path,
                          (int)t->rank);
    char shape[256];
    aglm_shape_str(t->rank, t->dims, shape, sizeof shape);
    if (aglm_tensor_numel(t) < 0)
        return aglm_error(AGLM_ERR_INVALID, "%s: cannot save a tensor of invalid shape %s", path,
                          shape);
    size_t nbytes = aglm_tensor_nbytes(t);
    if (nbytes == 0 && aglm_tensor_numel(t) > 0)
        return aglm_error(AGLM_ERR_INVALID, "%s: tensor of shape %s is too large to save", path,
                          shape);
    if (nbytes > 0 && !t->data)
        return aglm_error(AGLM_ERR_INVALID, "%s: tensor of shape %s has no data", path, shape);

    char dict[512], pyshape[256];
    py_shape(t->rank, t->dims, pyshape, sizeof pyshape);
    int dlen = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                        descr, pyshape);
    /* Pad with spaces and end with '\n' so the data starts at a multiple of 64, as NumPy does;
     * version 2.0's 4-byte length is needed only past 65535 header bytes. */
    size_t pre_len = 10;
    size_t hlen =
        ((pre_len + (size_t)dlen + 1 + DATA_ALIGN - 1) / DATA_ALIGN) * DATA_ALIGN - pre_len;
    if (hlen > 0xFFFF) {
        pre_len = 12;
        hlen = ((pre_len + (size_t)dlen + 1 + DATA_ALIGN - 1) / DATA_ALIGN) * DATA_ALIGN - pre_len;
    }
    unsigned char pre[12];
    memcpy(pre, MAGIC, MAGIC_LEN);
    pre[6] = pre_len == 10 ? 1 : 2;
    pre[7] = 0;
    for (size_t i = 0; i < pre_len - 8; i++)
        pre[8 + i] = (unsigned char)(hlen >> (8 * i));
    char *header = malloc(hlen);
    if (!header)
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", path);
    memcpy(header, dict, (size_t)dlen);
    memset(header + dlen, ' ', hlen - (size_t)dlen - 1);
    header[hlen - 1] = '\n';

    /* Write a sibling file and rename it over `path`, so a failure (full disk) never leaves a
     * truncated .npy behind nor destroys the previous one. */
    static atomic_uint counter;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%u", path, (long)getpid(),
                         atomic_fetch_add(&counter, 1)) >= sizeof tmp) {
        free(header);
        return aglm_error(AGLM_ERR_INVALID, "%s: path is too long", path);
    }
    aglm_status st;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        st = aglm_error(AGLM_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(header);
        return st;
    }
    st = write_all(path, f, pre, pre_len);
    if (st == AGLM_OK)
        st = write_all(path, f, header, hlen);
    if (st == AGLM_OK)
        st = write_all(path, f, t->data, nbytes);
    free(header);
    if (fclose(f) != 0 && st == AGLM_OK)
        st = aglm_error(AGLM_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    if (st == AGLM_OK && rename(tmp, path) != 0)
        st = aglm_error(AGLM_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    if (st != AGLM_OK)
        unlink(tmp);
    return st;
}

char *aglm_file_stem(const char *name, char *out, size_t n)
{
    if (!out || n == 0)
        return out;
    size_t i = 0;
    for (; name && name[i] && i + 1 < n; i++) {
        char ch = name[i];
        /* Spelled out rather than isalnum(), which follows the locale. */
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
        out[i] = keep ? ch : '_';
    }
    out[i] = '\0';
    return out;
}
