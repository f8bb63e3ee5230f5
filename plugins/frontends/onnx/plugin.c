/* The ONNX frontend plugin: its entry, probe, load and load_tensor (docs/onnx-frontend.md). */
#include "onnx_frontend.h"

#include <string.h>
#include <strings.h>

static int has_onnx_ext(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base : path, '.');
    return dot && strcasecmp(dot, ".onnx") == 0;
}

/* Writers put ir_version (field 1, a varint: tag byte 0x08) first in a ModelProto. */
static int starts_like_model(const unsigned char *head, size_t len)
{
    if (!head || len < 2 || head[0] != 0x08)
        return 0;
    const uint8_t *p = head + 1;
    uint64_t v;
    return pb_varint(&p, head + len, &v) == 0;
}

static int onnx_probe(void *state, const char *path, const unsigned char *head, size_t head_len)
{
    (void)state;
    if (path && has_onnx_ext(path) && starts_like_model(head, head_len))
        return 95;
    /* any protobuf whose first field is field 1 as a varint (a TensorProto .pb, say) */
    return head && head_len > 0 && head[0] == 0x08 ? 60 : 0;
}

static aglm_status onnx_load(void *state, const char *path, const aglm_options *opts,
                             aglm_graph **out)
{
    (void)state;
    (void)opts;
    if (!out)
        return aglm_error(AGLM_ERR_INVALID, "onnx frontend: no place for the graph (out is NULL)");
    *out = NULL;
    if (!path || !*path)
        return aglm_error(AGLM_ERR_INVALID, "onnx frontend: no model path given");
    return onnx_load_file(path, out);
}

static aglm_status onnx_load_tensor(void *state, const char *path, aglm_tensor *out)
{
    (void)state;
    if (!out)
        return aglm_error(AGLM_ERR_INVALID, "onnx frontend: no place for the tensor (out is NULL)");
    if (!path || !*path)
        return aglm_error(AGLM_ERR_INVALID, "onnx frontend: no tensor path given");
    return onnx_load_tensor_file(path, out);
}

static const aglm_frontend_ops onnx_ops = {
    .struct_size = sizeof(aglm_frontend_ops),
    .probe = onnx_probe,
    .load = onnx_load,
    .load_tensor = onnx_load_tensor,
};

AGLM_DEFINE_PLUGIN(.name = "onnx", .version = "1.0.0", .kind = AGLM_KIND_FRONTEND,
                   .summary = "reads ONNX models (.onnx) and tensors (.pb) (docs/onnx-frontend.md)",
                   .ops = &onnx_ops)
