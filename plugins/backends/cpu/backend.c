/* The cpu backend plugin: its entry, lifecycle and backend operations table.
 *
 * Config ([plugin.cpu] in aglm.ini): threads = N, the size of the shared thread pool (default:
 * the machine's online cores); simd = auto|avx2|portable, the f32 kernels' SIMD path (default
 * auto, the fastest this CPU runs; the environment variable AGLM_CPU_SIMD overrides it, so tests
 * can run every path). A compile may ask for its own pool with the option threads=N. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "aglm/aglm.h"
#include "exec.h"
#include "kernels/simd.h"
#include "threadpool.h"

typedef struct cpu_backend {
    const aglm_host *host;
    cpu_pool *pool;
    int threads;
} cpu_backend;

static aglm_status read_threads(const aglm_host *host, int *threads)
{
    *threads = cpu_online_cores();
    const char *s = host && host->config ? host->config(host, "threads") : NULL;
    return s ? cpu_parse_threads(s, "[plugin.cpu] threads", threads) : AGLM_OK;
}

/* The environment wins over the config file: it is how a test or a one-off run picks a path. */
static aglm_status read_simd(const aglm_host *host, cpu_simd *simd)
{
    const char *env = getenv("AGLM_CPU_SIMD");
    if (env && *env)
        return cpu_simd_parse(env, "AGLM_CPU_SIMD", simd);
    const char *s = host && host->config ? host->config(host, "simd") : NULL;
    if (s)
        return cpu_simd_parse(s, "[plugin.cpu] simd", simd);
    *simd = cpu_simd_best();
    return AGLM_OK;
}

static aglm_status cpu_init(const aglm_host *host, void **state)
{
    *state = NULL;
    cpu_backend *b = calloc(1, sizeof *b);
    if (!b)
        return aglm_error(AGLM_ERR_NOMEM, "backend cpu: out of memory");
    b->host = host;
    cpu_simd simd = CPU_SIMD_PORTABLE;
    aglm_status st = read_threads(host, &b->threads);
    if (st == AGLM_OK)
        st = read_simd(host, &simd);
    if (st == AGLM_OK)
        st = cpu_pool_new(b->threads, &b->pool);
    if (st != AGLM_OK) {
        free(b);
        return st;
    }
    cpu_simd_select(simd);
    if (host && host->log)
        host->log(host, AGLM_LOG_DEBUG, "thread pool of %d threads, simd %s", b->threads,
                  cpu_simd_name(simd));
    *state = b;
    return AGLM_OK;
}

static void cpu_destroy(void *state)
{
    cpu_backend *b = state;
    if (!b)
        return;
    cpu_pool_free(b->pool);
    free(b);
}

static aglm_status cpu_query(void *state, aglm_backend_info *info)
{
    cpu_backend *b = state;
    if (!info)
        return aglm_error(AGLM_ERR_INVALID, "backend cpu: query: info is NULL");
    info->device = AGLM_DEVICE_CPU;
    info->num_devices = 1;
    /* The kernels' SIMD path, then what the CPU itself offers. */
    const char *path = cpu_simd_name(cpu_simd_active());
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    const char *isa = __builtin_cpu_supports("avx512f") ? "AVX-512"
                      : __builtin_cpu_supports("avx2")  ? "AVX2"
                                                        : "SSE2";
    snprintf(info->device_name, sizeof info->device_name, "x86-64 (simd %s, cpu %s, %d threads)",
             path, isa, b->threads);
#elif defined(__aarch64__)
    snprintf(info->device_name, sizeof info->device_name, "aarch64 (simd %s, %d threads)", path,
             b->threads);
#else
    snprintf(info->device_name, sizeof info->device_name, "cpu (simd %s, %d threads)", path,
             b->threads);
#endif
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    info->memory_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    return AGLM_OK;
}

/* A node holding subgraphs is supported when every node inside them is. */
static int supports_deep(const aglm_node *n)
{
    if (!cpu_exec_supports(n, NULL, 0))
        return 0;
    for (size_t a = 0; a < aglm_node_num_attrs(n); a++) {
        const aglm_attr *at = aglm_node_attr_at(n, a);
        for (size_t k = 0; k < aglm_attr_num_graphs(at); k++) {
            const aglm_graph *sub = aglm_attr_graph_at(at, k);
            for (size_t i = 0; i < aglm_graph_num_nodes(sub); i++)
                if (!supports_deep(aglm_graph_node(sub, i)))
                    return 0;
        }
    }
    return 1;
}

static int cpu_supports(void *state, const aglm_graph *g, const aglm_node *n)
{
    return n && supports_deep(n);
}

static aglm_status cpu_compile(void *state, const aglm_graph *g, const aglm_options *opts,
                               aglm_exec **out)
{
    cpu_backend *b = state;
    if (!g || !out)
        return aglm_error(AGLM_ERR_INVALID, "backend cpu: compile: graph or out is NULL");
    cpu_exec *x;
    aglm_status st = cpu_exec_compile(g, opts, b->pool, &x);
    *out = (aglm_exec *)x;
    return st;
}

static aglm_status cpu_run(void *state, aglm_exec *exec, size_t n_in, const aglm_tensor *inputs,
                           size_t n_out, aglm_tensor *outputs)
{
    if (!exec || (n_in && !inputs) || (n_out && !outputs))
        return aglm_error(AGLM_ERR_INVALID, "backend cpu: run: NULL executable or tensors");
    return cpu_exec_run((cpu_exec *)exec, n_in, inputs, n_out, outputs);
}

static aglm_status cpu_profile(void *state, aglm_exec *exec, aglm_profile *out)
{
    if (!exec || !out)
        return aglm_error(AGLM_ERR_INVALID, "backend cpu: profile: NULL executable or profile");
    return cpu_exec_profile((cpu_exec *)exec, out);
}

static void cpu_release(void *state, aglm_exec *exec)
{
    cpu_exec_free((cpu_exec *)exec);
}

static const aglm_backend_ops cpu_ops = {
    .struct_size = sizeof(aglm_backend_ops),
    .query = cpu_query,
    .supports = cpu_supports,
    .compile = cpu_compile,
    .run = cpu_run,
    .release = cpu_release,
    .profile = cpu_profile,
    .memory = NULL, /* host memory */
};

AGLM_DEFINE_PLUGIN(.name = "cpu", .version = "0.1.0", .kind = AGLM_KIND_BACKEND,
                   .summary = "runs graphs on the host CPU with a thread pool", .init = cpu_init,
                   .destroy = cpu_destroy, .ops = &cpu_ops)
