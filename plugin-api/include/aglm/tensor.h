/* The tensor descriptor: a small transparent struct (dtype, rank, dims, data, device) that crosses
 * the ABI by value. Data is dense, row-major (C order). A descriptor either owns its data (then
 * aglm_tensor_free releases it) or borrows it. */
#ifndef AGLM_TENSOR_H
#define AGLM_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/dtype.h"
#include "aglm/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AGLM_MAX_RANK 8

typedef enum aglm_device {
    AGLM_DEVICE_CPU = 0,
    AGLM_DEVICE_CUDA = 1,
    AGLM_DEVICE_HIP = 2
} aglm_device;

/* Set in aglm_tensor.flags when the descriptor owns data (allocated by aglm_tensor_alloc). */
#define AGLM_TENSOR_OWNS_DATA 1u
/* Flag bits 2 and 4 were ABI 1.0's way to lend planned memory to a kernel; they are reserved and
 * ignored (1.1 lends it through aglm_region, aglm/memplan.h). */

typedef struct aglm_tensor {
    aglm_dtype dtype;
    int32_t rank;                /* 0 for a scalar */
    int64_t dims[AGLM_MAX_RANK]; /* dims[0..rank-1]; each >= 0 */
    void *data;                  /* host or device pointer, per `device` */
    aglm_device device;
    int32_t device_id;
    uint32_t flags; /* AGLM_TENSOR_OWNS_DATA */
} aglm_tensor;

/* Number of elements (1 for a scalar; 0 if any dim is 0). */
AGLM_API int64_t aglm_tensor_numel(const aglm_tensor *t);

/* Bytes of data: numel * dtype size. */
AGLM_API size_t aglm_tensor_nbytes(const aglm_tensor *t);

/* Fills *t with a CPU tensor that owns zeroed, 64-byte-aligned storage. Fails on a bad dtype,
 * rank or dim, or on overflow. On failure *t is left empty (data NULL). *t is output only (it
 * may come in uninitialised). To allocate in planned memory an executor lends, use
 * aglm_tensor_alloc_in (aglm/memplan.h). */
AGLM_API aglm_status aglm_tensor_alloc(aglm_tensor *t, aglm_dtype dt, int rank,
                                       const int64_t *dims);

/* Fills *t with a descriptor that borrows `data` (not freed by aglm_tensor_free). */
AGLM_API void aglm_tensor_wrap(aglm_tensor *t, aglm_dtype dt, int rank, const int64_t *dims,
                               void *data);

/* Deep-copies a CPU tensor into *dst (which then owns its data). */
AGLM_API aglm_status aglm_tensor_copy(aglm_tensor *dst, const aglm_tensor *src);

/* Frees owned data and empties the descriptor; safe on an empty or borrowed tensor. */
AGLM_API void aglm_tensor_free(aglm_tensor *t);

/* Writes "[1,3,224,224]" (at most n bytes, always terminated); returns buf. */
AGLM_API char *aglm_shape_str(int rank, const int64_t *dims, char *buf, size_t n);

/* 1 if both tensors have the same rank and dims. */
AGLM_API int aglm_tensor_same_shape(const aglm_tensor *a, const aglm_tensor *b);

/* Reads element i (flat, row-major) of a CPU tensor of any numeric dtype as a double; used by
 * tests, printers and slow reference paths, not by kernels. */
AGLM_API double aglm_tensor_get_f64(const aglm_tensor *t, int64_t i);

/* Writes element i of a CPU tensor from a double, converting to the tensor's dtype. */
AGLM_API void aglm_tensor_set_f64(aglm_tensor *t, int64_t i, double v);

#ifdef __cplusplus
}
#endif
#endif
