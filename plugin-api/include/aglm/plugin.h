/* The plugin ABI.
 *
 * A plugin is one shared object exporting one symbol, aglm_plugin_entry, that returns a constant
 * descriptor. The host checks the descriptor (struct size, ABI version, name, kind, requirements)
 * and drives the lifecycle: init -> start -> (serving) -> stop -> destroy. Each callback gets the
 * `state` pointer that init produced. Every table begins with struct_size so it can grow in a
 * minor version: the host reads a field only when struct_size says it is there.
 *
 * ABI rules: the major version changes when anything existing changes; the minor when a field or
 * function is appended. The host refuses a plugin of another major or a newer minor. */
#ifndef AGLM_PLUGIN_H
#define AGLM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/graph.h"
#include "aglm/options.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AGLM_ABI_MAJOR 1
#define AGLM_ABI_MINOR 1
#define AGLM_PLUGIN_ENTRY_SYMBOL "aglm_plugin_entry"

/* 1 when table `tbl` (a pointer to a struct of `type` that begins with struct_size) is long
 * enough to hold `member`: how a reader checks an optional field a newer minor version appended
 * before it reads it. The field may still be NULL. */
#define AGLM_HAS_MEMBER(type, tbl, member)                                                         \
    ((tbl) != NULL && (tbl)->struct_size >= offsetof(type, member) + sizeof((tbl)->member))

typedef enum aglm_plugin_kind {
    AGLM_KIND_FRONTEND = 1,
    AGLM_KIND_PASS = 2,
    AGLM_KIND_QUANTIZER = 3,
    AGLM_KIND_BACKEND = 4
} aglm_plugin_kind;

/* "frontend", "pass", "quantizer", "backend", or "?" */
AGLM_API const char *aglm_plugin_kind_name(aglm_plugin_kind kind);

typedef enum aglm_log_level {
    AGLM_LOG_ERROR = 0,
    AGLM_LOG_WARN = 1,
    AGLM_LOG_INFO = 2,
    AGLM_LOG_DEBUG = 3,
    AGLM_LOG_TRACE = 4
} aglm_log_level;

/* A counted reference to a started plugin, handed out by the host. */
typedef struct aglm_plugin_ref aglm_plugin_ref;
typedef struct aglm_plugin_desc aglm_plugin_desc;

/* Host services, one table per plugin (so logging and config know which plugin calls). */
typedef struct aglm_host aglm_host;
struct aglm_host {
    size_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    /* The name of the plugin this table belongs to. */
    const char *plugin_name;
    /* Logs a line prefixed with the plugin's name, if `level` passes the host's log level. */
    void (*log)(const aglm_host *h, aglm_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    /* A key of the plugin's [plugin.NAME] section of aglm.ini, or NULL. */
    const char *(*config)(const aglm_host *h, const char *key);
    /* Number of keys in the section, and key i (for plugins that take free-form settings). */
    size_t (*config_count)(const aglm_host *h);
    const char *(*config_key)(const aglm_host *h, size_t i);
    /* A counted reference to the started plugin `name` (of `kind`, or any kind when 0), or NULL
     * with an error set. The plugin's code stays mapped until the reference is released. */
    aglm_plugin_ref *(*acquire)(const aglm_host *h, const char *name, aglm_plugin_kind kind);
    void (*release)(const aglm_host *h, aglm_plugin_ref *ref);
    /* The descriptor and state behind a reference. */
    const aglm_plugin_desc *(*ref_desc)(const aglm_plugin_ref *ref);
    void *(*ref_state)(const aglm_plugin_ref *ref);
    /* Adds `value` to the named counter of this plugin (shown in stats). */
    void (*metric)(const aglm_host *h, const char *name, double value);
    /* Host-private. */
    void *impl;
};

struct aglm_plugin_desc {
    size_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *name;    /* registry key: [a-z0-9_-]+, at most 63 characters */
    const char *version; /* the plugin's own version, free-form ("1.2.0") */
    aglm_plugin_kind kind;
    const char *summary;         /* one line */
    const char *const *requires; /* NULL-terminated names of plugins that must be loaded, or NULL */
    /* Lifecycle; each may be NULL. init's state is passed to every other callback and op. A
     * failing init or start is rolled back: the host calls nothing else and unloads the file. */
    aglm_status (*init)(const aglm_host *host, void **state);
    aglm_status (*start)(void *state);
    aglm_status (*stop)(void *state);
    void (*destroy)(void *state);
    /* The kind's operations table: aglm_frontend_ops, aglm_pass_ops, aglm_quantizer_ops or
     * aglm_backend_ops. */
    const void *ops;
};

typedef const aglm_plugin_desc *(*aglm_plugin_entry_fn)(void);

/* ---- kind tables ----------------------------------------------------------------------- */

typedef struct aglm_frontend_ops {
    size_t struct_size;
    /* How sure the frontend is that it reads this file: 0 (no) to 100 (certain), from the path and
     * up to the first 4 KiB of the file. */
    int (*probe)(void *state, const char *path, const unsigned char *head, size_t head_len);
    /* Loads the model into a new graph (caller frees), verified and with shapes inferred. */
    aglm_status (*load)(void *state, const char *path, const aglm_options *opts, aglm_graph **out);
    /* Optional (NULL when the format has no tensor files): reads one tensor file of this format
     * (an ONNX TensorProto .pb, say) into *out, which then owns its data. */
    aglm_status (*load_tensor)(void *state, const char *path, aglm_tensor *out);
} aglm_frontend_ops;

typedef struct aglm_pass_ops {
    size_t struct_size;
    /* Transforms g in place; *changed says whether anything changed. On failure the graph must be
     * left valid (a pass works on a copy or validates before it rewrites). */
    aglm_status (*run)(void *state, aglm_graph *g, const aglm_options *opts, int *changed);
} aglm_pass_ops;

/* Calibration data: num_samples sets of inputs, each in graph input order. */
typedef struct aglm_calib_set {
    size_t num_samples;
    size_t num_inputs;
    const aglm_tensor *tensors; /* tensors[s * num_inputs + i] */
} aglm_calib_set;

typedef struct aglm_quantizer_ops {
    size_t struct_size;
    /* Rewrites g into QDQ form using calibration data (may be NULL for weight-only schemes). */
    aglm_status (*quantize)(void *state, aglm_graph *g, const aglm_calib_set *calib,
                            const aglm_options *opts);
} aglm_quantizer_ops;

typedef struct aglm_backend_info {
    size_t struct_size;
    aglm_device device;
    int num_devices;
    char device_name[128]; /* "x86-64 (AVX2, 16 threads)", "NVIDIA H100 80GB HBM3" */
    uint64_t memory_bytes; /* usable device memory, 0 if unknown */
} aglm_backend_info;

/* A compiled executable; its layout belongs to the backend. */
typedef struct aglm_exec aglm_exec;

/* Time spent in one node over the profiled runs. */
typedef struct aglm_profile_entry {
    const char *node; /* node name */
    const char *op;   /* op type ("Conv", "aglm.FusedConv") */
    uint64_t calls;
    double total_ms;
} aglm_profile_entry;

/* A backend's profile of one executable. */
typedef struct aglm_profile {
    size_t struct_size;
    size_t count;
    const aglm_profile_entry *entries; /* one per node, in execution order */
    uint64_t runs;                     /* runs profiled */
    uint64_t peak_bytes;  /* peak bytes of intermediate tensors in one run (0: unknown) */
    uint64_t flops;       /* floating-point operations summed over the runs: 2 per
                           * multiply-add of convolutions and matrix products, the
                           * rest not counted (0: unknown) */
    uint64_t arena_bytes; /* of peak_bytes, the memory-planned arena of one run (0:
                           * none or unknown); the rest went to the heap */
} aglm_profile;

/* Device memory a backend provides (ABI 1.1): the runtime layer plans, allocates and frees a
 * run's memory through it, and copies inputs in and outputs out. `state` is the backend's state
 * (what its init produced). A backend on host memory may point at aglm_host_memory(). */
typedef struct aglm_device_mem {
    size_t struct_size;
    aglm_device device;
    /* Allocates `bytes` (> 0) of device memory aligned to at least 64 bytes into *ptr; an error
     * saying how much was asked for when there is not enough. */
    aglm_status (*alloc)(void *state, size_t bytes, void **ptr);
    /* Frees what alloc gave; NULL is a no-op. */
    void (*free)(void *state, void *ptr);
    /* Copies bytes from host memory src to device memory dst. */
    aglm_status (*to_device)(void *state, void *dst, const void *src, size_t bytes);
    /* Copies bytes from device memory src to host memory dst. */
    aglm_status (*to_host)(void *state, void *dst, const void *src, size_t bytes);
} aglm_device_mem;

typedef struct aglm_backend_ops {
    size_t struct_size;
    aglm_status (*query)(void *state, aglm_backend_info *info);
    /* 1 when the backend can run node n of g. */
    int (*supports)(void *state, const aglm_graph *g, const aglm_node *n);
    /* Compiles g (the backend copies what it needs; g may be freed afterwards). A graph with
     * unsupported ops fails with one error listing every such node and op. */
    aglm_status (*compile)(void *state, const aglm_graph *g, const aglm_options *opts,
                           aglm_exec **out);
    /* Runs exec on inputs (graph input order) and fills outputs (graph output order) with tensors
     * that own their data (aglm_tensor_alloc; the caller calls aglm_tensor_free). Wrong input
     * count, dtype or shape is an error naming the input. Safe to call from several threads on
     * one exec at once. */
    aglm_status (*run)(void *state, aglm_exec *exec, size_t n_in, const aglm_tensor *inputs,
                       size_t n_out, aglm_tensor *outputs);
    /* Frees an executable. */
    void (*release)(void *state, aglm_exec *exec);
    /* Optional (NULL when the backend does not profile): fills *out with time per node summed
     * over the runs since compile_option profile=1 was given (an error otherwise). The entries
     * belong to the executable and stay valid until its next run or release. */
    aglm_status (*profile)(void *state, aglm_exec *exec, aglm_profile *out);
    /* ABI 1.1, optional (absent or NULL: host memory): the memory the backend computes in. */
    const aglm_device_mem *memory;
} aglm_backend_ops;

/* Defines the plugin's entry point from designated initialisers of aglm_plugin_desc, filling in
 * struct_size and the ABI version this plugin was built against:
 *
 *     AGLM_DEFINE_PLUGIN(.name = "dce", .version = "1.0.0", .kind = AGLM_KIND_PASS,
 *                        .summary = "removes nodes whose results nothing uses",
 *                        .ops = &dce_ops)
 */
#define AGLM_DEFINE_PLUGIN(...)                                                                    \
    AGLM_API const aglm_plugin_desc *aglm_plugin_entry(void);                                      \
    AGLM_API const aglm_plugin_desc *aglm_plugin_entry(void)                                       \
    {                                                                                              \
        static const aglm_plugin_desc aglm_desc_ = {.struct_size = sizeof(aglm_plugin_desc),       \
                                                    .abi_major = AGLM_ABI_MAJOR,                   \
                                                    .abi_minor = AGLM_ABI_MINOR,                   \
                                                    __VA_ARGS__};                                  \
        return &aglm_desc_;                                                                        \
    }

#ifdef __cplusplus
}
#endif
#endif
