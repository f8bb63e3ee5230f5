/* The protobuf wire-format cursor. Lengths are compared with the bytes left, never added to a
 * pointer first, so a huge declared length cannot wrap around. */
#include "pb_reader.h"

#include <string.h>

static const char *const wire_names[8] = {"varint",      "fixed64",    "length-delimited",
                                          "start-group", "end-group",  "fixed32",
                                          "wire type 6", "wire type 7"};

void pb_init(pb_reader *r, const void *buf, size_t len)
{
    r->base = buf;
    r->p = buf;
    r->end = r->p + len;
    r->depth = 0;
}

int pb_more(const pb_reader *r)
{
    return r->p < r->end;
}

size_t pb_offset(const pb_reader *r, const uint8_t *p)
{
    return (size_t)(p - r->base);
}

int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    const uint8_t *q = *p;
    for (int shift = 0; shift < 70; shift += 7) {
        if (q >= end)
            return -1;
        uint8_t b = *q++;
        /* the tenth byte may only carry the top bit of a 64-bit value */
        if (shift == 63 && b > 1)
            return -1;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *v = x;
            return 0;
        }
    }
    return -1;
}

aglm_status pb_sub(const pb_reader *r, const pb_field *f, pb_reader *sub)
{
    if (r->depth + 1 > PB_MAX_DEPTH)
        return aglm_error(AGLM_ERR_PARSE, "at byte %zu: messages nest more than %d deep", f->offset,
                          PB_MAX_DEPTH);
    sub->base = r->base;
    sub->p = f->bytes.p;
    sub->end = f->bytes.p + f->bytes.n;
    sub->depth = r->depth + 1;
    return AGLM_OK;
}

aglm_status pb_next(pb_reader *r, pb_field *f)
{
    memset(f, 0, sizeof *f);
    f->offset = pb_offset(r, r->p);
    uint64_t tag;
    if (pb_varint(&r->p, r->end, &tag))
        return aglm_error(AGLM_ERR_PARSE, "at byte %zu: truncated or overlong field tag",
                          f->offset);
    f->wire = (int)(tag & 7);
    if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
        return aglm_error(AGLM_ERR_PARSE, "at byte %zu: invalid field number %llu", f->offset,
                          (unsigned long long)(tag >> 3));
    f->num = (uint32_t)(tag >> 3);
    size_t left;
    switch (f->wire) {
    case PB_VARINT:
        if (pb_varint(&r->p, r->end, &f->u))
            return aglm_error(AGLM_ERR_PARSE, "at byte %zu: field %u: truncated or overlong varint",
                              f->offset, f->num);
        return AGLM_OK;
    case PB_I64:
    case PB_I32: {
        size_t w = f->wire == PB_I64 ? 8 : 4;
        left = (size_t)(r->end - r->p);
        if (left < w)
            return aglm_error(AGLM_ERR_PARSE,
                              "at byte %zu: field %u: %zu-byte value truncated (%zu bytes left)",
                              f->offset, f->num, w, left);
        uint64_t x = 0;
        for (size_t i = 0; i < w; i++)
            x |= (uint64_t)r->p[i] << (8 * i);
        f->u = x;
        r->p += w;
        return AGLM_OK;
    }
    case PB_LEN: {
        uint64_t len;
        if (pb_varint(&r->p, r->end, &len))
            return aglm_error(AGLM_ERR_PARSE, "at byte %zu: field %u: truncated or overlong length",
                              f->offset, f->num);
        left = (size_t)(r->end - r->p);
        if (len > left)
            return aglm_error(
                AGLM_ERR_PARSE,
                "at byte %zu: field %u: length %llu runs past the end (%zu bytes left)", f->offset,
                f->num, (unsigned long long)len, left);
        f->bytes.p = r->p;
        f->bytes.n = (size_t)len;
        r->p += len;
        return AGLM_OK;
    }
    default:
        return aglm_error(AGLM_ERR_PARSE, "at byte %zu: field %u: unsupported %s", f->offset,
                          f->num, wire_names[f->wire]);
    }
}

aglm_status pb_expect(const pb_field *f, int wire, const char *what)
{
    if (f->wire == wire)
        return AGLM_OK;
    return aglm_error(AGLM_ERR_PARSE, "at byte %zu: %s (field %u) is %s, expected %s", f->offset,
                      what, f->num, wire_names[f->wire & 7], wire_names[wire & 7]);
}

static int scalar_wire(pb_scalar k)
{
    return k == PB_S_VARINT ? PB_VARINT : k == PB_S_FIXED32 ? PB_I32 : PB_I64;
}

aglm_status pb_scalar_count(const pb_field *f, pb_scalar k, const char *what, size_t *n)
{
    *n = 0;
    if (f->wire == scalar_wire(k)) {
        *n = 1;
        return AGLM_OK;
    }
    if (f->wire != PB_LEN)
        return pb_expect(f, scalar_wire(k), what);
    if (k != PB_S_VARINT) {
        size_t w = k == PB_S_FIXED32 ? 4 : 8;
        if (f->bytes.n % w)
            return aglm_error(
                AGLM_ERR_PARSE,
                "at byte %zu: %s (field %u): packed length %zu is not a multiple of %zu", f->offset,
                what, f->num, f->bytes.n, w);
        *n = f->bytes.n / w;
        return AGLM_OK;
    }
    const uint8_t *p = f->bytes.p, *end = p + f->bytes.n;
    size_t count = 0;
    while (p < end) {
        uint64_t v;
        if (pb_varint(&p, end, &v))
            return aglm_error(
                AGLM_ERR_PARSE,
                "at byte %zu: %s (field %u): packed varint %zu is truncated or overlong", f->offset,
                what, f->num, count);
        count++;
    }
    *n = count;
    return AGLM_OK;
}

static uint64_t le_bytes(const uint8_t *p, size_t w)
{
    uint64_t x = 0;
    for (size_t i = 0; i < w; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

static void store(pb_scalar k, void *out, size_t i, uint64_t bits)
{
    if (k == PB_S_VARINT) {
        ((int64_t *)out)[i] = (int64_t)bits;
    } else if (k == PB_S_FIXED32) {
        uint32_t b = (uint32_t)bits;
        float x;
        memcpy(&x, &b, sizeof x);
        ((float *)out)[i] = x;
    } else {
        double x;
        memcpy(&x, &bits, sizeof x);
        ((double *)out)[i] = x;
    }
}

void pb_scalar_read(const pb_field *f, pb_scalar k, void *out)
{
    if (f->wire != PB_LEN) {
        store(k, out, 0, f->u);
        return;
    }
    const uint8_t *p = f->bytes.p, *end = p + f->bytes.n;
    size_t i = 0;
    if (k == PB_S_VARINT) {
        uint64_t v;
        while (p < end && !pb_varint(&p, end, &v))
            store(k, out, i++, v);
        return;
    }
    size_t w = k == PB_S_FIXED32 ? 4 : 8;
    for (; p + w <= end; p += w)
        store(k, out, i++, le_bytes(p, w));
}
