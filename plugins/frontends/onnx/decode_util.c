/* Helpers shared by the message decoders: field counting, scalar arrays, entering messages. */
#include "onnx_proto.h"

aglm_status ox_count_fields(const pb_reader *r, size_t counts[32])
{
    pb_reader c = *r;
    for (int i = 0; i < 32; i++)
        counts[i] = 0;
    while (pb_more(&c)) {
        pb_field f;
        aglm_status st = pb_next(&c, &f);
        if (st != AGLM_OK)
            return st;
        if (f.num < 32)
            counts[f.num]++;
    }
    return AGLM_OK;
}

aglm_status ox_array(ox_arena *a, size_t n, size_t size, const char *what, void **out)
{
    *out = ox_alloc(a, n, size);
    if (!*out)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory for %zu %s", n, what);
    return AGLM_OK;
}

aglm_status ox_read_scalars(ox_arena *a, const pb_reader *r, uint32_t num, pb_scalar k,
                            const char *what, void **out, size_t *n)
{
    size_t total = 0, elem = k == PB_S_FIXED32 ? sizeof(float) : sizeof(int64_t);
    pb_reader c = *r;
    aglm_status st;
    *out = NULL;
    *n = 0;
    while (pb_more(&c)) {
        pb_field f;
        size_t cnt;
        if ((st = pb_next(&c, &f)) != AGLM_OK)
            return st;
        if (f.num != num)
            continue;
        if ((st = pb_scalar_count(&f, k, what, &cnt)) != AGLM_OK)
            return st;
        total += cnt; /* cannot overflow: every value takes at least one input byte */
    }
    if (total == 0)
        return AGLM_OK;
    unsigned char *arr;
    if ((st = ox_array(a, total, elem, what, (void **)&arr)) != AGLM_OK)
        return st;
    c = *r;
    size_t at = 0;
    while (pb_more(&c)) {
        pb_field f;
        size_t cnt;
        (void)pb_next(&c, &f); /* the first walk checked every field */
        if (f.num != num)
            continue;
        (void)pb_scalar_count(&f, k, what, &cnt);
        pb_scalar_read(&f, k, arr + at * elem);
        at += cnt;
    }
    *out = arr;
    *n = total;
    return AGLM_OK;
}

aglm_status ox_enter(const pb_reader *r, const pb_field *f, const char *what, pb_reader *sub)
{
    aglm_status st = pb_expect(f, PB_LEN, what);
    if (st == AGLM_OK)
        st = pb_sub(r, f, sub);
    return st;
}

aglm_status ox_string(const pb_field *f, const char *what, ox_str *out)
{
    aglm_status st = pb_expect(f, PB_LEN, what);
    if (st == AGLM_OK)
        *out = f->bytes;
    return st;
}

aglm_status ox_int(const pb_field *f, const char *what, int64_t *out)
{
    aglm_status st = pb_expect(f, PB_VARINT, what);
    if (st == AGLM_OK)
        *out = (int64_t)f->u;
    return st;
}
