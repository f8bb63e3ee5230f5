/* The schedule: a graph turned into what an executor walks. Part of the backend runtime layer
 * (docs/backend-guide.md), built on the public graph API alone, so any backend gets it for free.
 *
 * Every value of the graph gets a slot (its tensor during a run); every node becomes a step in
 * topological order naming the slots it reads and writes and the slots whose last reader it is.
 * A node holding subgraphs (If, Loop, Scan) has each one scheduled too; the values of enclosing
 * graphs such a subgraph reads ("captures") get slots after its own, fed at run time from the
 * calling run's slots.
 *
 * The structs are read-only to backends after aglm_sched_new. A backend may hang its own data on
 * a schedule (user) and on each step (user): the kernel and its prepared state, say. */
#ifndef AGLM_SCHEDULE_H
#define AGLM_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include "aglm/export.h"
#include "aglm/graph.h"
#include "aglm/op_schema.h"
#include "aglm/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aglm_slot_kind {
    AGLM_SLOT_NODE = 0,  /* written by a step */
    AGLM_SLOT_INPUT = 1, /* a graph input (shadows an initialiser of the same value) */
    AGLM_SLOT_CONST = 2, /* an initialiser: read in place, never copied */
    AGLM_SLOT_OUTER = 3  /* a value of an enclosing graph (subgraph schedules only) */
} aglm_slot_kind;

typedef struct aglm_slot {
    aglm_slot_kind kind;
    size_t index; /* INPUT: graph input index; OUTER: capture index */
    const aglm_value *value;
    const aglm_tensor *constant; /* CONST: the initialiser */
    int32_t producer;            /* NODE: the step writing it, -1 for none */
    int32_t last_reader;         /* the step reading it last; -1 when a graph output or unread */
} aglm_slot;

typedef struct aglm_sched aglm_sched;

/* A graph attribute of a step's node, scheduled. */
typedef struct aglm_sched_sub {
    const char *attr; /* the attribute's name ("body", "then_branch") */
    aglm_sched *sched;
    int32_t *capture_slot; /* per capture of sched: the slot of the calling schedule */
} aglm_sched_sub;

typedef struct aglm_step {
    const aglm_node *node;
    const aglm_op_schema *schema; /* NULL for an op the schema does not know */
    size_t n_in, n_out;
    int32_t *in;  /* slot per input, -1 for an absent one */
    int32_t *out; /* slot per output, -1 for an output the node leaves unnamed */
    size_t n_free;
    int32_t *free; /* NODE slots whose last reader is this step */
    size_t n_subs;
    aglm_sched_sub *subs;
    void *user;      /* the backend's, set by its bind callback */
    int precomputed; /* 1: its inputs are all constants, so the executor ran it once when it
                      * compiled; runs skip it and read its outputs as constants */
} aglm_step;

struct aglm_sched {
    const aglm_graph *graph;  /* borrowed: it must outlive the schedule */
    const aglm_sched *parent; /* the calling schedule of a subgraph, NULL at the top */
    const char *path;         /* "" at the top; "Loop_1::body" for a subgraph (profiles,
                               * traces; "::" since ONNX node names often hold "/") */
    size_t n_slots;           /* values of the graph, then captures */
    aglm_slot *slots;
    size_t n_steps;
    aglm_step *steps;
    size_t n_outputs;
    int32_t *out_slot;       /* per graph output, its slot */
    unsigned char *out_move; /* 1: the run hands the slot's tensor over; 0: copies it */
    size_t n_captures;
    const aglm_value **captures; /* outer values read here, in slot order after the graph's */
    size_t max_in, max_out;      /* the most inputs / outputs of any step */
    void *user;                  /* the backend's */
};

/* What a backend tells the scheduler. Only name is required. */
typedef struct aglm_sched_backend {
    const char *name; /* "cpu": names the backend in messages */
    /* 1 when the backend runs node n (its subgraphs are asked about separately); on 0 it may
     * write a short reason into why ("on f16"), which the error shows after the op. NULL: every
     * node is supported. */
    int (*supports)(void *ctx, const aglm_node *n, char *why, size_t why_len);
    /* Called for every step of every schedule, subgraphs first, once slots are bound: the
     * backend looks up its kernel and prepares per-node state, kept in step->user. An error
     * fails the build (the scheduler adds the node's name and op). NULL: nothing to bind. */
    aglm_status (*bind)(void *ctx, aglm_sched *s, aglm_step *step);
    /* Frees what bind kept in step->user (called for every step whose user is set). NULL:
     * nothing to free. */
    void (*unbind)(void *ctx, aglm_step *step);
    void *ctx;
} aglm_sched_backend;

/* Schedules g (shapes inferred, nodes in topological order: aglm_graph_toposort), which must
 * outlive the schedule. First checks every node, those of subgraphs too, with be->supports and
 * fails with one error listing them all ("backend cpu cannot run 2 nodes: 'n1' (Foo), 'n7'
 * (aglm.Bar on f16)"); then checks each node's arity against the schema and that every input is
 * produced before it is read, and binds each step. */
AGLM_API aglm_status aglm_sched_new(const aglm_graph *g, const aglm_sched_backend *be,
                                    aglm_sched **out);

/* Frees s, its subgraph schedules and (through be->unbind) what bind kept; NULL is a no-op. */
AGLM_API void aglm_sched_free(aglm_sched *s, const aglm_sched_backend *be);

/* The subgraph schedule of step's attribute attr, or NULL with an error naming it. */
AGLM_API const aglm_sched_sub *aglm_step_sub(const aglm_step *step, const char *attr);

/* Total steps of s and of every subgraph schedule beneath it. */
AGLM_API size_t aglm_sched_total_steps(const aglm_sched *s);

#ifdef __cplusplus
}
#endif
#endif
