/* One way to compile, run, profile and release an executable on a backend plugin, shared by
 * aglm.compile (lua_exec.c) and served models (served.c), so both check a backend's table,
 * outputs and errors the same way.
 *
 * An executable keeps the counted reference it took on the backend version that compiled it, so
 * that version's code stays mapped (through a replace or an unload) until the executable is
 * released; release calls the backend's release first, then drops the reference. */
#ifndef AGLM_HOST_BACKEND_EXEC_H
#define AGLM_HOST_BACKEND_EXEC_H

#include <stddef.h>

#include "aglm/aglm.h"
#include "registry.h"

typedef struct host_backend_exec {
    aglm_plugin_ref *ref;        /* the backend version that compiled exec (a counted ref) */
    const aglm_backend_ops *ops; /* its table, checked when compiling */
    aglm_exec *exec;
    aglm_graph *sig; /* the compiled graph's inputs and outputs only */
} host_backend_exec;

/* Compiles g for backend `name` with opts (NULL: none given to the backend) into *x, which
 * must be zeroed. On failure *x holds nothing (no reference, no executable) and the error is
 * the registry's or the backend's message, with no "compile for" prefix. */
aglm_status host_backend_compile(host_registry *reg, const char *name, const aglm_graph *g,
                                 const aglm_options *opts, host_backend_exec *x);

/* Runs x on in[] (graph input order; counts, devices, dtypes and shapes checked against the
 * signature first). out[] (n_out = the graph's outputs) receives host tensors the caller frees;
 * on failure none is left to free. Safe from several threads on one executable. */
aglm_status host_backend_run(const host_backend_exec *x, size_t n_in, const aglm_tensor *in,
                             size_t n_out, aglm_tensor *out);

/* Whether x's backend profiles (its table has a profile operation). */
int host_backend_profiles(const host_backend_exec *x);

/* Fills *p with x's profile (entries owned by the backend, valid until its next run or the
 * release); fields a backend built before them leaves out read 0. */
aglm_status host_backend_profile(const host_backend_exec *x, aglm_profile *p);

/* Releases x's executable and drops its backend reference; safe on a zeroed or released x,
 * which it leaves zeroed. */
void host_backend_release(host_backend_exec *x);

#endif
