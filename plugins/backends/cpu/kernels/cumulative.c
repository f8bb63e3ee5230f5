/* Running sums and products along an axis: CumSum and CumProd (exclusive, reverse). Floats round
 * to their own dtype after every step, as an accumulator of that dtype would; integers wrap. */
#include <string.h>

#include "kernels.h"

#define NUMERIC                                                                                    \
    (CPU_DT(AGLM_F32) | CPU_DT(AGLM_F64) | CPU_DT(AGLM_F16) | CPU_DT(AGLM_BF16) |                  \
     CPU_DT(AGLM_I8) | CPU_DT(AGLM_U8) | CPU_DT(AGLM_I16) | CPU_DT(AGLM_U16) | CPU_DT(AGLM_I32) |  \
     CPU_DT(AGLM_U32) | CPU_DT(AGLM_I64) | CPU_DT(AGLM_U64))

static aglm_status cumulative(const cpu_kctx *k, const aglm_tensor *const *in, int product,
                              aglm_tensor *out)
{
    const aglm_tensor *x = in[0];
    int64_t av;
    size_t n;
    aglm_status st = cpu_read_ints(in[1], "input axis", &av, 1, &n);
    if (st != AGLM_OK)
        return st;
    if (n != 1)
        return aglm_error(AGLM_ERR_SHAPE, "input axis must hold one value");
    int axis;
    if ((st = cpu_norm_axis(av, x->rank, 0, "input axis", &axis)) != AGLM_OK)
        return st;
    if ((st = cpu_alloc(k, out, x->dtype, x->rank, x->dims)) != AGLM_OK)
        return st;
    int exclusive = aglm_node_get_int(k->node, "exclusive", 0) != 0;
    int reverse = aglm_node_get_int(k->node, "reverse", 0) != 0;
    int is_float = aglm_dtype_is_float(x->dtype);
    aglm_dtype dt = x->dtype;
    int64_t dim = x->dims[axis], outer = cpu_dims_prod(x->dims, 0, axis);
    int64_t inner = cpu_dims_prod(x->dims, axis + 1, x->rank);
    unsigned char tmp[8];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double fa = product ? 1.0 : 0.0;
            uint64_t ia = product ? 1 : 0;
            for (int64_t s = 0; s < dim; s++) {
                int64_t j = reverse ? dim - 1 - s : s, pos = (o * dim + j) * inner + i;
                if (exclusive) {
                    if (is_float)
                        cpu_set_f(out->data, dt, pos, fa);
                    else
                        cpu_set_i(out->data, dt, pos, (int64_t)ia);
                }
                if (is_float) {
                    double v = cpu_get_f(x->data, dt, pos);
                    cpu_set_f(tmp, dt, 0, product ? fa * v : fa + v);
                    fa = cpu_get_f(tmp, dt, 0);
                } else {
                    uint64_t v = (uint64_t)cpu_get_i(x->data, dt, pos);
                    ia = product ? ia * v : ia + v;
                }
                if (!exclusive) {
                    if (is_float)
                        cpu_set_f(out->data, dt, pos, fa);
                    else
                        cpu_set_i(out->data, dt, pos, (int64_t)ia);
                }
            }
        }
    return AGLM_OK;
}

static aglm_status k_cumsum(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                            size_t n_out, aglm_tensor *out)
{
    return cumulative(k, in, 0, &out[0]);
}

static aglm_status k_cumprod(const cpu_kctx *k, size_t n_in, const aglm_tensor *const *in,
                             size_t n_out, aglm_tensor *out)
{
    return cumulative(k, in, 1, &out[0]);
}

const cpu_kernel cpu_cumulative_kernels[] = {
    {"CumSum", NUMERIC, k_cumsum},
    {"CumProd", NUMERIC, k_cumprod},
    {NULL, 0, NULL},
};
