/* External tensor data (TensorProto.data_location = EXTERNAL): a file named by the "location"
 * entry, relative to the model's folder, read from "offset" for "length" bytes. The path must
 * stay inside the folder (checked on the path as written and again after symlinks resolve), and
 * the file must hold the bytes before the tensor is allocated. */
#include "onnx_frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A decimal entry ("offset", "length"): digits only, no sign, no overflow. */
static aglm_status parse_size(ox_str s, const char *key, const char *what, uint64_t *out)
{
    uint64_t v = 0;
    if (s.n == 0)
        return aglm_error(AGLM_ERR_PARSE, "%s: external_data '%s' is empty", what, key);
    for (size_t i = 0; i < s.n; i++) {
        unsigned d = (unsigned)s.p[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return aglm_error(AGLM_ERR_PARSE, "%s: external_data '%s' is not a byte count: '%.*s'",
                              what, key, OX_FMT(s));
        v = v * 10 + d;
    }
    *out = v;
    return AGLM_OK;
}

/* 1 when a relative path has a ".." component. */
static int has_dotdot(const char *p)
{
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

/* The canonical path of `location` inside dir, or an error when it would leave dir. */
static aglm_status resolve(const char *dir, const char *location, const char *what, char **out)
{
    *out = NULL;
    if (location[0] == '/' || has_dotdot(location))
        return aglm_error(AGLM_ERR_INVALID,
                          "%s: external data location '%s' escapes the model's folder", what,
                          location);
    size_t n = strlen(dir) + strlen(location) + 2;
    char *joined = malloc(n);
    if (!joined)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    snprintf(joined, n, "%s/%s", dir, location);
    char *real = realpath(joined, NULL);
    if (!real) {
        int e = errno;
        aglm_status st = aglm_error(e == ENOENT ? AGLM_ERR_NOT_FOUND : AGLM_ERR_IO,
                                    "%s: external data file '%s' cannot be opened: %s", what,
                                    joined, strerror(e));
        free(joined);
        return st;
    }
    free(joined);
    size_t dl = strlen(dir);
    /* a symlink may still point elsewhere: the resolved path must lie under dir */
    if (strncmp(real, dir, dl) != 0 || (real[dl] != '/' && !(dl == 1 && dir[0] == '/'))) {
        aglm_status st = aglm_error(
            AGLM_ERR_INVALID,
            "%s: external data location '%s' escapes the model's folder (it resolves to '%s')",
            what, location, real);
        free(real);
        return st;
    }
    *out = real;
    return AGLM_OK;
}

aglm_status ox_read_external(const ox_env *env, const ox_tensor *tp, const char *what,
                             aglm_dtype dt, int rank, const int64_t *dims, size_t nbytes,
                             aglm_tensor *out)
{
    memset(out, 0, sizeof *out);
    if (!env || !env->dir)
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "%s: external data needs the model's folder, and this model was "
                          "not loaded from a file",
                          what);
    ox_str loc = {0};
    uint64_t offset = 0, length = nbytes;
    int has_loc = 0, has_length = 0;
    aglm_status st;
    for (size_t i = 0; i < tp->n_external; i++) {
        const ox_strpair *kv = &tp->external[i];
        if (ox_str_eq(kv->key, "location")) {
            loc = kv->value;
            has_loc = 1;
        } else if (ox_str_eq(kv->key, "offset")) {
            if ((st = parse_size(kv->value, "offset", what, &offset)) != AGLM_OK)
                return st;
        } else if (ox_str_eq(kv->key, "length")) {
            if ((st = parse_size(kv->value, "length", what, &length)) != AGLM_OK)
                return st;
            has_length = 1;
        }
        /* "checksum" and unknown keys are not needed to read the data */
    }
    if (!has_loc || loc.n == 0)
        return aglm_error(AGLM_ERR_PARSE, "%s: external data has no 'location'", what);
    if (has_length && length != nbytes)
        return aglm_error(AGLM_ERR_PARSE,
                          "%s: external data length is %llu bytes, but %s needs %zu", what,
                          (unsigned long long)length, ox_dtype_name(dt), nbytes);
    char *location;
    if ((st = ox_cstr(loc, "external data location", &location)) != AGLM_OK)
        return aglm_error_wrap(st, "%s", what);
    char *path = NULL;
    st = resolve(env->dir, location, what, &path);
    free(location);
    if (st != AGLM_OK)
        return st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = aglm_error(AGLM_ERR_IO, "%s: external data file '%s' is not a readable regular file",
                        what, path);
        goto done;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (offset > size || nbytes > size - offset) {
        st = aglm_error(AGLM_ERR_PARSE,
                        "%s: external data at offset %llu, %zu bytes, runs past the end of '%s' "
                        "(%llu bytes)",
                        what, (unsigned long long)offset, nbytes, path, (unsigned long long)size);
        goto done;
    }
    if ((st = aglm_tensor_alloc(out, dt, rank, dims)) != AGLM_OK) {
        st = aglm_error_wrap(st, "%s", what);
        goto done;
    }
    size_t got = 0;
    while (got < nbytes) {
        ssize_t r = pread(fd, (char *)out->data + got, nbytes - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            st = aglm_error(AGLM_ERR_IO, "%s: reading external data from '%s' failed: %s", what,
                            path, r < 0 ? strerror(errno) : "unexpected end of file");
            aglm_tensor_free(out);
            goto done;
        }
        got += (size_t)r;
    }
    ox_from_le(out->data, nbytes / aglm_dtype_size(dt), aglm_dtype_size(dt));
done:
    if (fd >= 0)
        close(fd);
    free(path);
    return st;
}
