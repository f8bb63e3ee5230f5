#include <string.h>

#include "kernels.h"

static const cpu_kernel *const families[] = {
    cpu_elementwise_kernels, cpu_unary_kernels, cpu_matmul_kernels, cpu_conv_kernels,
    cpu_pool_kernels,        cpu_shape_kernels, cpu_softmax_kernels, cpu_cast_kernels,
};

const cpu_kernel *cpu_kernel_find(const char *op, const char *domain)
{
    if (!op || (domain && domain[0] && strcmp(domain, "ai.onnx") != 0))
        return NULL;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const cpu_kernel *k = families[f]; k->op; k++)
            if (strcmp(k->op, op) == 0)
                return k;
    return NULL;
}
