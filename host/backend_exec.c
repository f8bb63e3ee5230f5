/* The compile/run/release path of backend executables (backend_exec.h). It exists so that
 * scripts and served models cannot drift apart in how they trust a backend: the table check,
 * the default message for a backend that fails silently, and the copy of borrowed outputs. */
#include "backend_exec.h"

#include <stdio.h>
#include <string.h>

#include "graph_signature.h"

/* Room for a whole thread message (libaglm's buffer is 2 KiB). */
#define MSG_MAX 2048

/* Gives every failure a message: a backend may return an error without setting one, and the
 * thread's previous message would then describe something else. */
static aglm_status backend_failed(const host_backend_exec *x, aglm_status st)
{
    if (st != AGLM_OK && !*aglm_last_error())
        aglm_error(st, "backend '%s' failed (%s)", host_ref_desc(x->ref)->name,
                   aglm_status_str(st));
    return st;
}

aglm_status host_backend_compile(host_registry *reg, const char *name, const aglm_graph *g,
                                 const aglm_options *opts, host_backend_exec *x)
{
    memset(x, 0, sizeof *x);
    if (!(x->sig = host_graph_signature(g)))
        return aglm_error_wrap(AGLM_ERR_NOMEM, "copying the graph's signature");
    aglm_status st = AGLM_OK;
    if (!(x->ref = host_registry_acquire(reg, name, AGLM_KIND_BACKEND))) {
        st = AGLM_ERR_NOT_FOUND;
    } else {
        const aglm_backend_ops *ops = host_ref_desc(x->ref)->ops;
        if (!AGLM_HAS_MEMBER(aglm_backend_ops, ops, release) || !ops->compile || !ops->run ||
            !ops->release) {
            st = aglm_error(AGLM_ERR_UNSUPPORTED, "backend '%s' has an incomplete operations table",
                            name);
        } else {
            x->ops = ops;
            aglm_clear_error();
            st = backend_failed(x, ops->compile(host_ref_state(x->ref), g, opts, &x->exec));
            if (st == AGLM_OK && !x->exec)
                st = aglm_error(AGLM_ERR_INTERNAL, "backend '%s' returned no executable", name);
        }
    }
    if (st != AGLM_OK) {
        /* Dropping the reference may run the plugin's stop and destroy, which may set errors
         * of their own. */
        char msg[MSG_MAX];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        host_backend_release(x);
        return aglm_error(st, "%s", msg);
    }
    return AGLM_OK;
}

aglm_status host_backend_run(const host_backend_exec *x, size_t n_in, const aglm_tensor *in,
                             size_t n_out, aglm_tensor *out)
{
    const aglm_graph *sig = x->sig;
    size_t want_in = aglm_graph_num_inputs(sig), want_out = aglm_graph_num_outputs(sig);
    if (n_in != want_in)
        return aglm_error(AGLM_ERR_INVALID, "%zu input(s) given, the model takes %zu", n_in,
                          want_in);
    if (n_out != want_out)
        return aglm_error(AGLM_ERR_INVALID, "room for %zu output(s), the model has %zu", n_out,
                          want_out);
    for (size_t i = 0; i < n_in; i++)
        if (in[i].device != AGLM_DEVICE_CPU)
            return aglm_error(AGLM_ERR_INVALID, "input '%s' is not in host memory",
                              aglm_value_name(aglm_graph_input(sig, i)));
    aglm_status st = aglm_graph_check_inputs(sig, n_in, in);
    if (st != AGLM_OK)
        return st;
    for (size_t i = 0; i < n_out; i++)
        memset(&out[i], 0, sizeof out[i]);
    aglm_clear_error();
    st = backend_failed(x, x->ops->run(host_ref_state(x->ref), x->exec, n_in, in, n_out, out));
    for (size_t i = 0; st == AGLM_OK && i < n_out; i++) {
        if (out[i].device != AGLM_DEVICE_CPU) {
            st = aglm_error(AGLM_ERR_UNSUPPORTED, "output '%s' is not in host memory",
                            aglm_value_name(aglm_graph_output(sig, i)));
        } else if (!(out[i].flags & AGLM_TENSOR_OWNS_DATA) && aglm_tensor_nbytes(&out[i]) > 0) {
            /* Outputs must own their data; copy a borrowed one rather than keep a pointer into
             * the backend, which may be gone once the executable is released. */
            aglm_tensor owned;
            st = aglm_tensor_copy(&owned, &out[i]);
            if (st == AGLM_OK)
                out[i] = owned;
        }
    }
    if (st != AGLM_OK) {
        char msg[MSG_MAX];
        snprintf(msg, sizeof msg, "%s", aglm_last_error());
        for (size_t i = 0; i < n_out; i++) {
            aglm_tensor_free(&out[i]); /* frees only what the tensor owns */
            memset(&out[i], 0, sizeof out[i]);
        }
        return aglm_error(st, "%s", msg);
    }
    return AGLM_OK;
}

int host_backend_profiles(const host_backend_exec *x)
{
    return AGLM_HAS_MEMBER(aglm_backend_ops, x->ops, profile) && x->ops->profile;
}

aglm_status host_backend_profile(const host_backend_exec *x, aglm_profile *p)
{
    const char *name = host_ref_desc(x->ref)->name;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    if (!host_backend_profiles(x))
        return aglm_error(AGLM_ERR_UNSUPPORTED, "backend %s does not profile", name);
    aglm_clear_error();
    aglm_status st = backend_failed(x, x->ops->profile(host_ref_state(x->ref), x->exec, p));
    if (st != AGLM_OK)
        return st;
    if (p->count && !p->entries)
        return aglm_error(AGLM_ERR_INTERNAL, "backend %s gave %d entries and no array", name,
                          (int)p->count);
    /* A backend built before a field sets struct_size short of it, and may have left junk. */
    if (!AGLM_HAS_MEMBER(aglm_profile, p, flops))
        p->flops = 0;
    if (!AGLM_HAS_MEMBER(aglm_profile, p, arena_bytes))
        p->arena_bytes = 0;
    return AGLM_OK;
}

void host_backend_release(host_backend_exec *x)
{
    if (x->exec && x->ops)
        x->ops->release(host_ref_state(x->ref), x->exec);
    host_registry_release(x->ref); /* accepts NULL */
    aglm_graph_free(x->sig);
    memset(x, 0, sizeof *x);
}
