/* .npy version 1.0: magic, a little-endian u16 header length, a Python dict literal padded with
 * spaces to a multiple of 64 bytes and ended by '\n', then the data. */
#include "npy_f32.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int npy_write_f32(const char *path, const float *data, const size_t *shape, int rank)
{
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%zu%s", shape[i],
                      rank == 1      ? ","
                      : i + 1 < rank ? ", "
                                     : "");
        count *= shape[i];
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    uint16_t hlen = (uint16_t)((size_t)n + pad + 1);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    unsigned char pre[10] = {0x93,
                             'N',
                             'U',
                             'M',
                             'P',
                             'Y',
                             1,
                             0,
                             (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    int ok =
        fwrite(pre, 1, sizeof pre, f) == sizeof pre && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF && fwrite(data, sizeof *data, count, f) == count;
    return fclose(f) == 0 && ok ? 0 : -1;
}

long npy_read_f32(const char *path, float *out, size_t cap, size_t *shape, int *rank, char *err,
                  size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    unsigned char pre[12];
    long got = -1;
    char *header = NULL;
    size_t hlen = 0;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        snprintf(err, errlen, "%s: not a .npy file", path);
        goto done;
    }
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (fread(pre + 10, 1, 2, f) == 2) {
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    header = calloc(1, hlen + 1);
    if (!header || hlen == 0 || fread(header, 1, hlen, f) != hlen) {
        snprintf(err, errlen, "%s: truncated header", path);
        goto done;
    }
    if (!strstr(header, "'<f4'") || strstr(header, "'fortran_order': True")) {
        snprintf(err, errlen, "%s: not a little-endian f32 array in C order: %s", path, header);
        goto done;
    }
    const char *s = strstr(header, "'shape': (");
    if (!s) {
        snprintf(err, errlen, "%s: no shape", path);
        goto done;
    }
    s += strlen("'shape': (");
    size_t count = 1;
    *rank = 0;
    while (*s && *s != ')' && *rank < 8) {
        char *end;
        unsigned long long d = strtoull(s, &end, 10);
        if (end == s)
            break;
        shape[(*rank)++] = (size_t)d;
        count *= (size_t)d;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    if (count > cap) {
        snprintf(err, errlen, "%s: %zu values, expected at most %zu", path, count, cap);
        goto done;
    }
    if (fread(out, sizeof *out, count, f) != count) {
        snprintf(err, errlen, "%s: truncated data", path);
        goto done;
    }
    got = (long)count;
done:
    free(header);
    fclose(f);
    return got;
}
