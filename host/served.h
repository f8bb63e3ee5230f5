/* Served models: compiled models registered under a name, run by the admin socket's `infer` while
 * the host runs as a service.
 *
 * A model keeps its source graph and a counted handle on its current compilation (optimised
 * graph's signature, backend reference, executable, level). A request takes a reference on the
 * current handle and runs on it; `recompile` builds a new handle outside any lock and switches
 * the model to it atomically, so requests in flight finish on the old one, which is freed (and
 * its backend reference dropped) when the last of them ends.
 *
 * Served models follow their backend: when the backend they were compiled by is replaced (from
 * the admin socket, a script or the watched directory), a follower thread recompiles them on the
 * new version within about 50 ms, so the old version can drain. If that compile fails the model
 * keeps serving on the old version and the failure is logged once. An unloaded backend is not
 * followed: the model keeps serving on the draining version until `recompile` names another.
 *
 * All functions are safe to call from several threads. */
#ifndef AGLM_HOST_SERVED_H
#define AGLM_HOST_SERVED_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/aglm.h"
#include "registry.h"

typedef struct host_served host_served;

/* One row of `models` and `stats`: a snapshot. */
typedef struct host_served_info {
    char name[64];
    char backend[64];
    unsigned generation; /* of the backend version the current executable was compiled by */
    int level;           /* 0..3 for O0..O3 */
    char inputs[256];    /* "x: f32[1,4], y: f32[4]" (cut at 255 bytes) */
    uint64_t requests, errors;
    uint64_t compiles;                     /* 1 + recompiles (manual and following a replace) */
    double p50_ms, p90_ms, p99_ms, max_ms; /* over the last requests (0 when none) */
} host_served_info;

/* Called for each output an infer wrote: its name, type ("f32[1,10]") and file. */
typedef void (*host_served_output_fn)(void *ctx, const char *name, const char *type,
                                      const char *path);

/* A set of served models over `reg` (borrowed; it must outlive the set). Starts the follower. */
aglm_status host_served_new(host_registry *reg, host_served **out);
/* Stops the follower, waits for no request (callers must have finished), frees every model and
 * drops their backend references. */
void host_served_free(host_served *s);

/* "O0".."O3" (or "0".."3") to 0..3; -1 otherwise. */
int host_served_parse_level(const char *text);

/* Compiles a copy of g for `backend` at `level` and serves it as `name`. Refused when the name
 * is taken or not [A-Za-z0-9_.-]{1,63}, or the compile fails; nothing is left behind then. */
aglm_status host_served_add(host_served *s, const char *name, const aglm_graph *g,
                            const char *backend, int level);
/* As host_served_add; print_ir 1 prints the IR after each pass of this first compile to stderr
 * (pass_runner.h). The passes run are the level's list (levels.h); one not loaded is skipped. */
aglm_status host_served_add_traced(host_served *s, const char *name, const aglm_graph *g,
                                   const char *backend, int level, int print_ir);

/* Compiles model `name` again (backend NULL: the same name; level < 0: the same level) and
 * switches to it once ready. On failure the model keeps serving as before. *info (optional)
 * gets the model's new row. */
aglm_status host_served_recompile(host_served *s, const char *name, const char *backend, int level,
                                  host_served_info *info);

/* Recompiles, now, every model whose backend version is no longer the started one of its name
 * (replaced), on the started one. Returns how many switched; fn (may be NULL) is told each
 * model's name and whether it switched, with the error otherwise. */
typedef void (*host_served_follow_fn)(void *ctx, const char *model, const char *backend,
                                      unsigned generation, aglm_status st, const char *error);
size_t host_served_follow(host_served *s, host_served_follow_fn fn, void *ctx);

/* Runs model `name` on in[] (graph input order, checked against the compiled graph first);
 * out[] (n_out = the model's output count) receives tensors the caller frees. */
aglm_status host_served_run(host_served *s, const char *name, size_t n_in, const aglm_tensor *in,
                            size_t n_out, aglm_tensor *out);

/* The admin `infer`: reads in_dir/<input>.npy for every input, runs, writes out_dir/<output>.npy
 * (out_dir created if missing; each file written whole, then renamed into place). */
aglm_status host_served_infer_files(host_served *s, const char *name, const char *in_dir,
                                    const char *out_dir, host_served_output_fn fn, void *ctx);

/* Snapshot of every model, in name order (malloc'd; caller frees). */
aglm_status host_served_list(host_served *s, host_served_info **rows, size_t *count);
size_t host_served_count(host_served *s);

#endif
