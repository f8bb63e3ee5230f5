/* The kernel table: every family's kernels and prepare hooks, looked up by op and domain when a
 * graph compiles (kernels.h). */
#include <string.h>

#include "kernels.h"

static const cpu_kernel *const families[] = {
    cpu_elementwise_kernels, cpu_unary_kernels,      cpu_matmul_kernels,
    cpu_conv_kernels,        cpu_pool_kernels,       cpu_shape_kernels,
    cpu_softmax_kernels,     cpu_cast_kernels,       cpu_reduce_kernels,
    cpu_norm_kernels,        cpu_loss_kernels,       cpu_quant_kernels,
    cpu_dropout_kernels,     cpu_compare_kernels,    cpu_bitwise_kernels,
    cpu_activation_kernels,  cpu_gather_kernels,     cpu_scatter_kernels,
    cpu_slice_kernels,       cpu_pad_kernels,        cpu_sort_kernels,
    cpu_cumulative_kernels,  cpu_generate_kernels,   cpu_layout_kernels,
    cpu_einsum_kernels,      cpu_resize_kernels,     cpu_convtranspose_kernels,
    cpu_gridsample_kernels,  cpu_nms_kernels,        cpu_signal_kernels,
    cpu_roi_kernels,         cpu_deformconv_kernels, cpu_causalconv_kernels,
    cpu_control_kernels,     cpu_rnn_kernels,        cpu_attention_kernels,
    cpu_state_mixer_kernels,
};

/* Tables of domain aglm (the extension ops passes create). */
static const cpu_kernel *const aglm_families[] = {
    cpu_aglm_kernels,
    cpu_aglm_matmul_kernels,
    cpu_aglm_pattern_kernels,
    cpu_aglm_elementwise_kernels,
};

const cpu_kernel *cpu_kernel_find(const char *op, const char *domain)
{
    if (op && domain && strcmp(domain, "ai.onnx.preview") == 0) /* preview ops: their own table */
        for (const cpu_kernel *k = cpu_preview_kernels; k->op; k++)
            if (strcmp(k->op, op) == 0)
                return k;
    if (op && domain && strcmp(domain, "aglm") == 0) /* ops the passes create: their own tables */
        for (size_t f = 0; f < sizeof aglm_families / sizeof aglm_families[0]; f++)
            for (const cpu_kernel *k = aglm_families[f]; k->op; k++)
                if (strcmp(k->op, op) == 0)
                    return k;
    if (!op || (domain && domain[0] && strcmp(domain, "ai.onnx") != 0))
        return NULL;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const cpu_kernel *k = families[f]; k->op; k++)
            if (strcmp(k->op, op) == 0)
                return k;
    return NULL;
}

static const cpu_prep *const prep_tables[] = {
    cpu_conv_preps,
    cpu_fused_conv_preps,
    cpu_matmul_preps,
    cpu_aglm_matmul_preps,
};

const cpu_prep *cpu_kernel_prep(const cpu_kernel *k)
{
    for (size_t t = 0; k && t < sizeof prep_tables / sizeof prep_tables[0]; t++)
        for (const cpu_prep *p = prep_tables[t]; p->run; p++)
            if (p->run == k->run)
                return p;
    return NULL;
}
