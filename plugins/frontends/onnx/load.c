/* The frontend's entry points: a model or tensor in memory, or in a file (mapped read-only, so a
 * large model costs no copy). Errors from files are prefixed with the path. */
#include "onnx_frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

aglm_status onnx_load_buffer(const void *buf, size_t len, const char *dir, const char *name,
                             aglm_graph **out)
{
    *out = NULL;
    if (len == 0)
        return aglm_error(AGLM_ERR_PARSE, "empty file: not an ONNX model");
    ox_arena arena = {0};
    ox_model m;
    pb_reader r;
    pb_init(&r, buf, len);
    aglm_status st = ox_decode_model(&arena, &r, &m);
    if (st == AGLM_OK) {
        ox_env env = {dir, len};
        st = ox_build_model(&m, &env, name && name[0] ? name : "main", out);
    }
    ox_arena_free(&arena);
    return st;
}

/* SequenceProto and OptionalProto share a layout: name 1 (bytes), elem_type 2 (0..5), and
 * element fields 3 to 7 (messages). A TensorProto file never has only those. */
static int looks_like_container(const void *buf, size_t len)
{
    pb_reader r;
    pb_init(&r, buf, len);
    int has_type = 0;
    while (pb_more(&r)) {
        pb_field f;
        if (pb_next(&r, &f) != AGLM_OK || f.num > 7)
            return 0;
        if (f.num == 2) {
            if (f.wire != PB_VARINT || f.u > 5)
                return 0;
            has_type = 1;
        } else if (f.wire != PB_LEN) {
            return 0;
        }
    }
    return has_type;
}

aglm_status onnx_load_tensor_buffer(const void *buf, size_t len, const char *dir, aglm_tensor *out)
{
    memset(out, 0, sizeof *out);
    ox_arena arena = {0};
    ox_tensor t;
    pb_reader r;
    pb_init(&r, buf, len);
    aglm_status st = ox_decode_tensor(&arena, &r, &t);
    if (st == AGLM_OK) {
        char what[300];
        if (t.name.n)
            snprintf(what, sizeof what, "tensor '%.*s'", OX_FMT(t.name));
        else
            snprintf(what, sizeof what, "tensor");
        ox_env env = {dir, len};
        st = ox_tensor_to_aglm(&env, &t, what, out);
    }
    ox_arena_free(&arena);
    if (st != AGLM_OK && looks_like_container(buf, len))
        return aglm_error(AGLM_ERR_UNSUPPORTED,
                          "sequence values are not supported (the file holds a SequenceProto "
                          "or OptionalProto, not a TensorProto)");
    return st;
}

typedef struct mapped {
    void *p;
    size_t len;
    char *dir;
} mapped;

static void unmap_file(mapped *m)
{
    if (m->p && m->len)
        munmap(m->p, m->len);
    free(m->dir);
    memset(m, 0, sizeof *m);
}

static aglm_status map_file(const char *path, mapped *m)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return aglm_error(errno == ENOENT ? AGLM_ERR_NOT_FOUND : AGLM_ERR_IO, "cannot open: %s",
                          strerror(errno));
    struct stat sb;
    aglm_status st = AGLM_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = aglm_error(AGLM_ERR_IO, "not a regular file");
    } else if (sb.st_size == 0) {
        st = aglm_error(AGLM_ERR_PARSE, "empty file");
    } else if ((uint64_t)sb.st_size > SIZE_MAX) {
        st = aglm_error(AGLM_ERR_IO, "too large to map");
    } else {
        m->len = (size_t)sb.st_size;
        m->p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m->p == MAP_FAILED) {
            m->p = NULL;
            st = aglm_error(AGLM_ERR_IO, "cannot map %zu bytes: %s", m->len, strerror(errno));
        }
    }
    close(fd);
    if (st != AGLM_OK)
        return st;
    /* external data resolves inside the file's folder, symlinks resolved */
    const char *slash = strrchr(path, '/');
    char *folder = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    m->dir = folder ? realpath(folder, NULL) : NULL;
    if (!m->dir)
        st = aglm_error(folder ? AGLM_ERR_IO : AGLM_ERR_NOMEM, "cannot resolve the file's folder");
    free(folder);
    if (st != AGLM_OK)
        unmap_file(m);
    return st;
}

aglm_status onnx_load_file(const char *path, aglm_graph **out)
{
    *out = NULL;
    mapped m;
    aglm_status st = map_file(path, &m);
    if (st == AGLM_OK) {
        const char *base = strrchr(path, '/');
        char stem[256];
        snprintf(stem, sizeof stem, "%s", base ? base + 1 : path);
        char *dot = strrchr(stem, '.');
        if (dot && dot != stem)
            *dot = '\0';
        st = onnx_load_buffer(m.p, m.len, m.dir, stem, out);
        unmap_file(&m);
    }
    return st == AGLM_OK ? st : aglm_error_wrap(st, "%s", path);
}

aglm_status onnx_load_tensor_file(const char *path, aglm_tensor *out)
{
    memset(out, 0, sizeof *out);
    mapped m;
    aglm_status st = map_file(path, &m);
    if (st == AGLM_OK) {
        st = onnx_load_tensor_buffer(m.p, m.len, m.dir, out);
        unmap_file(&m);
    }
    return st == AGLM_OK ? st : aglm_error_wrap(st, "%s", path);
}
