/* Per-node timing of a cpu executable (the backend's optional `profile` op), for compile option
 * profile=1. Profiling swaps each step's kernel for a copy whose run times the original, so an
 * executable compiled without it runs exactly as before, at no cost. */
#ifndef CPU_EXEC_PROFILE_H
#define CPU_EXEC_PROFILE_H

#include "exec.h"

/* Reads option profile (1/0, true/false...); when on, makes x's top-level steps record their
 * time. Call once x is built and before it runs. An unreadable value is an error. */
aglm_status exec_profile_attach(cpu_exec *x, const aglm_options *opts);

/* Forgets x's profile, if it has one; call before x is freed. */
void exec_profile_detach(const cpu_exec *x);

/* The backend op: time per node summed over the runs so far, in execution order, and the peak
 * bytes the last run held in intermediate tensors. An error when x was compiled without
 * profile=1. */
aglm_status cpu_exec_profile(void *state, aglm_exec *exec, aglm_profile *out);

#endif
