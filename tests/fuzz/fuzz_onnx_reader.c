/* libFuzzer target for the ONNX frontend: arbitrary bytes through the wire reader, the message
 * decoders and the graph builder (then the verifier and shape inference), and through the
 * TensorProto reader. Every input must give a graph or an error; the sanitizers catch the rest.
 * External data is refused here (no model folder), so the file system is never touched. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "onnx_frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aglm_graph *g = NULL;
    aglm_status st = onnx_load_buffer(data, size, NULL, "fuzz", &g);
    /* a failed load leaves nothing behind, and its message says something */
    if ((st == AGLM_OK) != (g != NULL) || (st != AGLM_OK && aglm_last_error()[0] == '\0'))
        __builtin_trap();
    if (g && aglm_graph_verify(g) != AGLM_OK)
        __builtin_trap();
    aglm_graph_free(g);

    aglm_tensor t;
    st = onnx_load_tensor_buffer(data, size, NULL, &t);
    if (st == AGLM_OK) {
        /* the tensor's bytes are all there: touch the last one */
        size_t n = aglm_tensor_nbytes(&t);
        if (n && ((volatile const unsigned char *)t.data)[n - 1] == 0x5a)
            aglm_clear_error();
        aglm_tensor_free(&t);
    } else if (t.data) {
        __builtin_trap();
    }
    return 0;
}
