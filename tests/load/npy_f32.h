/* Just enough .npy for the load test: f32 arrays, little-endian, C order. */
#ifndef AGLM_LOAD_NPY_F32_H
#define AGLM_LOAD_NPY_F32_H

#include <stddef.h>

/* Writes an f32 array of the given shape. 0 or -1. */
int npy_write_f32(const char *path, const float *data, const size_t *shape, int rank);

/* Reads an f32 array: its values into out (at most cap), its shape into shape (at most 8 dims).
 * Returns the number of values, or -1 with a reason in err. */
long npy_read_f32(const char *path, float *out, size_t cap, size_t *shape, int *rank, char *err,
                  size_t errlen);

#endif
