/* NumPy .npy files: format versions 1.0, 2.0 and 3.0 read, 1.0 written (2.0 when the header
 * needs it), every aglm_dtype except string. NumPy has no bfloat16, so bf16 is written with the
 * descr 'bfloat16' (the name ml_dtypes registers) and read back from it. */
#ifndef AGLM_NPY_H
#define AGLM_NPY_H

#include "aglm/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads a C-order .npy file into *out (which then owns its data). Big-endian and Fortran-order
 * arrays are converted. Errors name the file and what is wrong with it. */
AGLM_API aglm_status aglm_npy_load(const char *path, aglm_tensor *out);

/* Saves a CPU tensor as a .npy file. */
AGLM_API aglm_status aglm_npy_save(const char *path, const aglm_tensor *t);

/* Maps a tensor name to the file stem of the pipeline file contract: every character outside
 * [A-Za-z0-9_.-] becomes '_'. Writes at most n bytes (always terminated); returns out. */
AGLM_API char *aglm_file_stem(const char *name, char *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
