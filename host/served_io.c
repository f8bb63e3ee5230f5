/* Running served models: on tensors (host_served_run) and on the pipeline scripts' file
 * contract (host_served_infer_files). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "served_internal.h"

aglm_status host_served_run(host_served *s, const char *name, size_t n_in, const aglm_tensor *in,
                            size_t n_out, aglm_tensor *out)
{
    if (!s || !name || (n_in && !in) || (n_out && !out))
        return aglm_error(AGLM_ERR_INVALID, "host_served_run: NULL argument");
    served_model *m = served_find(s, name);
    if (!m)
        return AGLM_ERR_NOT_FOUND;
    double t0 = served_now_ms();
    served_handle *h = served_acquire(m);
    aglm_status st = host_backend_run(&h->be, n_in, in, n_out, out);
    served_release(h);
    served_stats_record(&m->stats, st == AGLM_OK, served_now_ms() - t0);
    if (st != AGLM_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        return aglm_error(st, "model '%s': %s", name, msg);
    }
    return AGLM_OK;
}

/* mkdir -p */
static aglm_status make_dirs(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return aglm_error(AGLM_ERR_INVALID, "outdir '%.80s...' is too long", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return aglm_error(AGLM_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return aglm_error(AGLM_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return aglm_error(AGLM_ERR_IO, "outdir '%s' is not a directory", path);
    return AGLM_OK;
}

static aglm_status read_inputs(const aglm_graph *sig, const char *in_dir, aglm_tensor *in)
{
    struct stat sb;
    if (stat(in_dir, &sb) != 0)
        return aglm_error(AGLM_ERR_NOT_FOUND, "inputs '%s': %s", in_dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return aglm_error(AGLM_ERR_INVALID, "inputs '%s' is not a directory", in_dir);
    for (size_t i = 0; i < aglm_graph_num_inputs(sig); i++) {
        const char *name = aglm_value_name(aglm_graph_input(sig, i));
        char stem[256], path[PATH_MAX];
        aglm_file_stem(name, stem, sizeof stem);
        snprintf(path, sizeof path, "%s/%s.npy", in_dir, stem);
        if (access(path, F_OK) != 0)
            return aglm_error(AGLM_ERR_NOT_FOUND, "missing input file '%s' for input '%s'", path,
                              name);
        aglm_status st = aglm_npy_load(path, &in[i]);
        if (st != AGLM_OK)
            return st;
    }
    return AGLM_OK;
}

/* Writes each output to a temporary name in out_dir, then renames it into place, so a reader
 * never sees half a file. */
static aglm_status write_outputs(const aglm_graph *sig, const char *out_dir, const aglm_tensor *out,
                                 host_served_output_fn fn, void *ctx)
{
    static atomic_uint seq;
    aglm_status st = make_dirs(out_dir);
    for (size_t i = 0; st == AGLM_OK && i < aglm_graph_num_outputs(sig); i++) {
        const char *name = aglm_value_name(aglm_graph_output(sig, i));
        char stem[256], path[PATH_MAX], tmp[PATH_MAX + 64];
        aglm_file_stem(name, stem, sizeof stem);
        snprintf(path, sizeof path, "%s/%s.npy", out_dir, stem);
        snprintf(tmp, sizeof tmp, "%s/.%s.npy.%d.%u.tmp", out_dir, stem, (int)getpid(),
                 atomic_fetch_add(&seq, 1));
        st = aglm_npy_save(tmp, &out[i]);
        if (st == AGLM_OK && rename(tmp, path) != 0) {
            st = aglm_error(AGLM_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
                            strerror(errno));
            unlink(tmp);
        } else if (st != AGLM_OK) {
            unlink(tmp);
        }
        if (st == AGLM_OK && fn) {
            char shape[160], type[192];
            aglm_shape_str(out[i].rank, out[i].dims, shape, sizeof shape);
            snprintf(type, sizeof type, "%s%s", aglm_dtype_name(out[i].dtype), shape);
            fn(ctx, name, type, path);
        }
    }
    return st;
}

aglm_status host_served_infer_files(host_served *s, const char *name, const char *in_dir,
                                    const char *out_dir, host_served_output_fn fn, void *ctx)
{
    if (!s || !name || !in_dir || !out_dir)
        return aglm_error(AGLM_ERR_INVALID, "host_served_infer_files: NULL argument");
    served_model *m = served_find(s, name);
    if (!m)
        return AGLM_ERR_NOT_FOUND;
    double t0 = served_now_ms();
    served_handle *h = served_acquire(m);
    size_t n_in = aglm_graph_num_inputs(h->be.sig), n_out = aglm_graph_num_outputs(h->be.sig);
    aglm_tensor *in = calloc(n_in + n_out + 1, sizeof *in);
    aglm_tensor *out = in ? in + n_in : NULL;
    aglm_status st = in ? read_inputs(h->be.sig, in_dir, in)
                        : aglm_error(AGLM_ERR_NOMEM, "out of memory running '%s'", name);
    if (st == AGLM_OK)
        st = host_backend_run(&h->be, n_in, in, n_out, out);
    int ran = st == AGLM_OK;
    if (ran)
        st = write_outputs(h->be.sig, out_dir, out, fn, ctx);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", st == AGLM_OK ? "" : aglm_last_error());
    for (size_t i = 0; in && i < n_in; i++)
        aglm_tensor_free(&in[i]);
    for (size_t i = 0; ran && i < n_out; i++)
        aglm_tensor_free(&out[i]);
    free(in);
    served_release(h);
    served_stats_record(&m->stats, st == AGLM_OK, served_now_ms() - t0);
    if (st != AGLM_OK)
        return aglm_error(st, "model '%s': %s", name, msg);
    return AGLM_OK;
}
