/* The YAML frontend plugin: its entry, probe and load. The schema is docs/yaml-format.md. */
#include "yaml_frontend.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A model file larger than this is almost certainly not a hand-written YAML graph. */
#define MAX_FILE_BYTES ((size_t)1 << 30)

static int has_yaml_ext(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base : path, '.');
    return dot && (strcasecmp(dot, ".yaml") == 0 || strcasecmp(dot, ".yml") == 0);
}

static int yaml_probe(void *state, const char *path, const unsigned char *head, size_t head_len)
{
    (void)state;
    if (!path || !has_yaml_ext(path))
        return 0;
    if (head && memmem(head, head_len, "nodes:", 6))
        return 90;
    return 40;
}

static aglm_status read_file(const char *path, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return aglm_error(errno == ENOENT ? AGLM_ERR_NOT_FOUND : AGLM_ERR_IO, "%s: cannot open: %s",
                          path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return aglm_error(AGLM_ERR_IO, "%s: not a regular file", path);
    }
    if ((size_t)sb.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return aglm_error(AGLM_ERR_IO, "%s: %lld bytes is too large for a yaml model", path,
                          (long long)sb.st_size);
    }
    size_t size = (size_t)sb.st_size;
    unsigned char *data = malloc(size ? size : 1);
    if (!data) {
        fclose(f);
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = fread(data, 1, size, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || got != size) {
        free(data);
        return aglm_error(AGLM_ERR_IO, "%s: read failed", path);
    }
    *buf = data;
    *len = size;
    return AGLM_OK;
}

/* The canonical folder of the model file, for resolving .npy paths. */
static aglm_status model_dir(const char *path, char **out)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory");
    *out = realpath(dir, NULL);
    if (!*out) {
        aglm_status st = aglm_error(AGLM_ERR_IO, "%s: cannot resolve its folder '%s': %s", path,
                                    dir, strerror(errno));
        free(dir);
        return st;
    }
    free(dir);
    return AGLM_OK;
}

/* The graph's name when the file gives none: the file name without folder and extension. */
static void file_stem(const char *path, char *out, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, n, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

static aglm_status yaml_load(void *state, const char *path, const aglm_options *opts,
                             aglm_graph **out)
{
    (void)state;
    (void)opts;
    if (!out)
        return aglm_error(AGLM_ERR_INVALID, "yaml frontend: no place for the graph (out is NULL)");
    *out = NULL;
    if (!path || !*path)
        return aglm_error(AGLM_ERR_INVALID, "yaml frontend: no model path given");

    unsigned char *text = NULL;
    size_t len = 0;
    char *dir = NULL;
    aglm_status st = read_file(path, &text, &len);
    if (st == AGLM_OK)
        st = model_dir(path, &dir);
    if (st != AGLM_OK) {
        free(text);
        return st;
    }
    ydoc doc;
    st = ydoc_parse(&doc, path, text, len);
    if (st == AGLM_OK) {
        char stem[256];
        file_stem(path, stem, sizeof stem);
        st = yml_build_model(&doc, dir, stem, out);
        ydoc_free(&doc);
    }
    free(dir);
    free(text);
    return st;
}

static const aglm_frontend_ops yaml_ops = {
    .struct_size = sizeof(aglm_frontend_ops),
    .probe = yaml_probe,
    .load = yaml_load,
};

AGLM_DEFINE_PLUGIN(.name = "yaml", .version = "1.0.0", .kind = AGLM_KIND_FRONTEND,
                   .summary = "reads models written as YAML graphs (docs/yaml-format.md)",
                   .ops = &yaml_ops)
