/* Helpers shared by the registry tests: fixture paths, listing snapshots, running the counter
 * backend, and proofs that a private copy is mapped or gone. */
#ifndef AGLM_TEST_REGISTRY_FIXTURES_H
#define AGLM_TEST_REGISTRY_FIXTURES_H

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aglm/aglm.h"
#include "registry.h"

/* AGLM_TEST_PLUGIN_DIR/NAME.so in one of a few rotating buffers. */
static inline const char *fixture(const char *name)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s.so", AGLM_TEST_PLUGIN_DIR, name);
    return b;
}

/* The listing as one string ("name gen state refs file\n" per row), to compare before/after. */
static inline char *snapshot(host_registry *r)
{
    host_plugin_info *rows;
    size_t n;
    if (host_registry_list(r, &rows, &n) != AGLM_OK)
        return strdup("(list failed)");
    size_t cap = 64 + n * 1200, len = 0;
    char *s = malloc(cap);
    s[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s %u %s %ld %s\n", rows[i].name,
                                rows[i].generation, host_plugin_state_name(rows[i].state),
                                rows[i].refs, rows[i].file);
    free(rows);
    return s;
}

/* The listing row of `name` generation `gen`, or 0 if absent. */
static inline int find_row(host_registry *r, const char *name, unsigned gen, host_plugin_info *out)
{
    host_plugin_info *rows;
    size_t n;
    int found = 0;
    if (host_registry_list(r, &rows, &n) != AGLM_OK)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].name, name) == 0 && rows[i].generation == gen) {
            *out = rows[i];
            found = 1;
        }
    }
    free(rows);
    return found;
}

static inline size_t num_rows(host_registry *r)
{
    host_plugin_info *rows;
    size_t n = 0;
    if (host_registry_list(r, &rows, &n) == AGLM_OK)
        free(rows);
    return n;
}

static inline const aglm_backend_ops *backend_ops(aglm_plugin_ref *ref)
{
    return (const aglm_backend_ops *)host_ref_desc(ref)->ops;
}

/* Compiles an executable with the backend behind ref; NULL on failure. */
static inline aglm_exec *counter_compile(aglm_plugin_ref *ref)
{
    aglm_graph *g = aglm_graph_new("counter_test");
    aglm_exec *e = NULL;
    aglm_status st = backend_ops(ref)->compile(host_ref_state(ref), g, NULL, &e);
    aglm_graph_free(g);
    return st == AGLM_OK ? e : NULL;
}

/* Runs an executable of the counter backend: its output, or -1 on failure. */
static inline float counter_run(aglm_plugin_ref *ref, aglm_exec *e)
{
    aglm_tensor out;
    memset(&out, 0, sizeof out);
    if (backend_ops(ref)->run(host_ref_state(ref), e, 0, NULL, 1, &out) != AGLM_OK)
        return -1;
    float v = out.dtype == AGLM_F32 && out.rank == 0 ? *(float *)out.data : -2;
    aglm_tensor_free(&out);
    return v;
}

static inline void counter_release(aglm_plugin_ref *ref, aglm_exec *e)
{
    backend_ops(ref)->release(host_ref_state(ref), e);
}

/* Acquires `name`, compiles, runs and releases everything: the output, or -1. */
static inline float serve_once(host_registry *r, const char *name)
{
    aglm_plugin_ref *ref = host_registry_acquire(r, name, AGLM_KIND_BACKEND);
    if (!ref)
        return -1;
    aglm_exec *e = counter_compile(ref);
    float v = e ? counter_run(ref, e) : -1;
    if (e)
        counter_release(ref, e);
    host_registry_release(ref);
    return v;
}

/* The file the dynamic linker mapped for the plugin behind ref: its private copy. */
static inline char *mapped_file_of(aglm_plugin_ref *ref)
{
    Dl_info info;
    if (!dladdr(host_ref_desc(ref), &info) || !info.dli_fname)
        return NULL;
    return strdup(info.dli_fname);
}

/* 1 if /proc/self/maps has a mapping of `path` (deleted or not). */
static inline int is_mapped(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, path) != NULL;
    fclose(f);
    return found;
}

/* Number of entries (besides . and ..) in a folder, -1 if unreadable. */
static inline int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The folder of a path, malloc'd. */
static inline char *folder_of(const char *path)
{
    char *d = strdup(path);
    char *slash = strrchr(d, '/');
    if (slash)
        *slash = '\0';
    return d;
}

/* A fresh temporary folder, malloc'd. */
static inline char *make_temp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir;
    if (asprintf(&dir, "%s/aglm-test-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
        return NULL;
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* Writes text to dir/name; returns the path (malloc'd). */
static inline char *write_file(const char *dir, const char *name, const char *text)
{
    char *path;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f) {
        free(path);
        return NULL;
    }
    fputs(text, f);
    fclose(f);
    return path;
}

/* The whole of a small file, malloc'd ("" if absent). */
static inline char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Removes the files of a flat temporary folder, then the folder. */
static inline void remove_temp_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p;
        if (asprintf(&p, "%s/%s", dir, e->d_name) >= 0) {
            unlink(p);
            free(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

#endif
