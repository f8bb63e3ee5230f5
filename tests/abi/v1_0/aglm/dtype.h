/* Element types. The numbering is ONNX's TensorProto.DataType, so frontends map it directly. */
#ifndef AGLM_DTYPE_H
#define AGLM_DTYPE_H

#include <stddef.h>
#include "aglm/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aglm_dtype {
    AGLM_UNDEFINED = 0,
    AGLM_F32 = 1,
    AGLM_U8 = 2,
    AGLM_I8 = 3,
    AGLM_U16 = 4,
    AGLM_I16 = 5,
    AGLM_I32 = 6,
    AGLM_I64 = 7,
    AGLM_STRING = 8, /* reserved: not storable in a tensor yet */
    AGLM_BOOL = 9,   /* one byte per element, 0 or 1 */
    AGLM_F16 = 10,
    AGLM_F64 = 11,
    AGLM_U32 = 12,
    AGLM_U64 = 13,
    AGLM_BF16 = 16
} aglm_dtype;

/* Bytes per element; 0 for AGLM_UNDEFINED, AGLM_STRING and unknown values. */
AGLM_API size_t aglm_dtype_size(aglm_dtype dt);

/* Lower-case name used in IR text, YAML and messages ("f32", "i64", "bool"); "?" if unknown. */
AGLM_API const char *aglm_dtype_name(aglm_dtype dt);

/* Parses a name: aglm's own ("f32") and ONNX's ("float", "int64", "float16"). AGLM_UNDEFINED if
 * unknown. */
AGLM_API aglm_dtype aglm_dtype_from_name(const char *name);

/* 1 for f16, bf16, f32, f64. */
AGLM_API int aglm_dtype_is_float(aglm_dtype dt);

/* 1 for the signed and unsigned integer types (bool excluded). */
AGLM_API int aglm_dtype_is_int(aglm_dtype dt);

/* IEEE half and bfloat16 conversions (round to nearest even). */
AGLM_API float aglm_f16_to_f32(unsigned short h);
AGLM_API unsigned short aglm_f32_to_f16(float f);
AGLM_API float aglm_bf16_to_f32(unsigned short h);
AGLM_API unsigned short aglm_f32_to_bf16(float f);

#ifdef __cplusplus
}
#endif
#endif
