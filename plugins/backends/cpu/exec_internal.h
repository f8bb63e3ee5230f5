/* The executable's layout, shared by the interpreter (exec.c) and the subgraph machinery
 * (exec_subgraph.c). Kernels never see it: they reach subgraphs through exec_subgraph.h.
 *
 * One cpu_exec runs one graph: the top-level graph of a compile, or a subgraph (an If branch, a
 * Loop or Scan body). A subgraph's executable has, after the slots of its own values, one slot
 * per "capture": a value of an enclosing graph that its nodes (or their own subgraphs) read. The
 * run that calls a subgraph fills those slots with borrowed tensors from its own slots. */
#ifndef CPU_EXEC_INTERNAL_H
#define CPU_EXEC_INTERNAL_H

#include "exec.h"
#include "kernels/kernels.h"

typedef enum slot_kind { SLOT_NODE, SLOT_INPUT, SLOT_CONST, SLOT_OUTER } slot_kind;

typedef struct slot {
    slot_kind kind;
    size_t input;                /* SLOT_INPUT: index among graph inputs; SLOT_OUTER: capture */
    const aglm_tensor *constant; /* SLOT_CONST */
    const aglm_value *value;
    int produced_by;             /* SLOT_NODE: step index, -1 before it is seen */
} slot;

/* A graph attribute of a step's node, compiled. */
typedef struct exec_sub {
    const char *attr;  /* the attribute's name ("body", "then_branch") */
    cpu_exec *x;
    int32_t *cap_slot; /* per capture of x: the slot of the calling executable that feeds it */
} exec_sub;

typedef struct step {
    const aglm_node *node;
    const cpu_kernel *kernel;
    size_t n_in, n_out;
    int32_t *in;      /* slot per input, -1 for an absent one */
    int32_t *out;     /* slot per output, -1 for an output the node leaves unnamed */
    size_t n_free;
    int32_t *free;    /* slots whose last reader is this step */
    size_t n_subs;
    exec_sub *subs;   /* the node's subgraphs, compiled */
    const cpu_prep *prep; /* the kernel's prepare/release, or NULL */
    void *prepared;   /* what prep->prepare built, or NULL */
} step;

typedef struct value_ref {
    const aglm_value *v;
    int32_t slot;
} value_ref;

struct cpu_exec {
    aglm_graph *graph;       /* owned by the top-level executable; a subgraph's is borrowed */
    int is_sub;
    cpu_pool *pool;
    cpu_pool *own_pool;
    int64_t opset;
    size_t n_slots;          /* values of the graph, then captures */
    slot *slots;
    size_t n_steps;
    step *steps;
    size_t max_in, max_out;
    size_t n_outputs;
    int32_t *out_slot;
    unsigned char *out_move; /* 1: hand the slot's tensor over; 0: copy it (read again later) */
    size_t n_captures;
    const aglm_value **captures; /* outer values read here, in slot order from n_values */
    int *slot_last;          /* per slot: the step that reads it last; -1 for a graph output */
    struct exec_memory *mem; /* memory planning (exec_memory.h); NULL in a subgraph */
};

/* What a running step hands its kernel so it can run the node's subgraphs (cpu_kctx.scope). */
struct cpu_scope {
    const cpu_exec *x;
    const step *s;
    const aglm_tensor *slots; /* the calling run's slots */
};

/* Builds x's slots, steps, outputs and free plan for x->graph (already inferred and sorted);
 * x->graph, is_sub, pool and opset are set by the caller. */
aglm_status exec_build(cpu_exec *x);

/* Runs x: inputs are borrowed, captures[i] feeds capture slot i (NULL when x has none).
 * Outputs are tensors the caller owns; on failure every output is left empty. */
aglm_status exec_run_graph(const cpu_exec *x, size_t n_in, const aglm_tensor *inputs,
                           const aglm_tensor *const *captures, size_t n_out, aglm_tensor *outputs);

/* Frees x's compiled state (not the graph). */
void exec_free_parts(cpu_exec *x);

/* The values of enclosing graphs that g's nodes, outputs and nested subgraphs read, each once,
 * in first-seen order (exec_subgraph.c). */
aglm_status exec_captures(const aglm_graph *g, const aglm_value ***out, size_t *n);

/* Compiles every graph attribute of step s's node and maps each one's captures onto x's slots
 * (refs: x's values sorted by pointer, n_refs of them). */
aglm_status exec_compile_subs(cpu_exec *x, step *s, const value_ref *refs, size_t n_refs);

/* Frees a step's compiled subgraphs. */
void exec_free_subs(step *s);

/* The slot of v in a sorted ref table, or -1. */
int32_t exec_find_slot(const value_ref *refs, size_t n, const aglm_value *v);

#endif
