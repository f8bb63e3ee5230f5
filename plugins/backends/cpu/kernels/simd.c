/* Run-time SIMD path selection (simd.h): what the CPU offers, what the config or AGLM_CPU_SIMD
 * asks for, and the process-wide choice the kernels read. */
#include <stdatomic.h>
#include <string.h>

#include "simd.h"

static const char *const names[CPU_SIMD_COUNT] = {"portable", "avx2"};

/* Relaxed is enough: a kernel reads the path once per call, and either value is correct. */
static atomic_int active = CPU_SIMD_PORTABLE;

const char *cpu_simd_name(cpu_simd s)
{
    return s >= 0 && s < CPU_SIMD_COUNT ? names[s] : "unknown";
}

int cpu_simd_available(cpu_simd s)
{
    switch (s) {
    case CPU_SIMD_PORTABLE: return 1;
    case CPU_SIMD_AVX2:
#if defined(__x86_64__) && defined(__GNUC__)
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        return 0;
#endif
    default: return 0;
    }
}

cpu_simd cpu_simd_best(void)
{
    for (int s = CPU_SIMD_COUNT - 1; s > CPU_SIMD_PORTABLE; s--)
        if (cpu_simd_available((cpu_simd)s))
            return (cpu_simd)s;
    return CPU_SIMD_PORTABLE;
}

aglm_status cpu_simd_parse(const char *value, const char *what, cpu_simd *out)
{
    if (strcmp(value, "auto") == 0) {
        *out = cpu_simd_best();
        return AGLM_OK;
    }
    for (int s = 0; s < CPU_SIMD_COUNT; s++) {
        if (strcmp(value, names[s]) != 0)
            continue;
        if (!cpu_simd_available((cpu_simd)s))
            return aglm_error(AGLM_ERR_UNSUPPORTED, "%s = '%s': this %s cannot run it", what, value,
#if defined(__x86_64__)
                              "CPU"
#else
                              "build (not x86-64)"
#endif
            );
        *out = (cpu_simd)s;
        return AGLM_OK;
    }
    return aglm_error(AGLM_ERR_INVALID, "%s = '%s': expected auto, portable or avx2", what, value);
}

void cpu_simd_select(cpu_simd s)
{
    atomic_store_explicit(&active, (int)s, memory_order_relaxed);
}

cpu_simd cpu_simd_active(void)
{
    return (cpu_simd)atomic_load_explicit(&active, memory_order_relaxed);
}
