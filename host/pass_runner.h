/* The pass driver: runs a list of pass plugins on a graph, as levels, aglm.optimize,
 * aglm.passes and served models do.
 *
 * Per pass it records the nodes before and after, whether the pass changed the graph and its
 * time (logged at info); it verifies the graph after each pass in debug builds (no NDEBUG) and
 * whenever print_ir or verify is asked for; print_ir prints the IR after each pass to stderr
 * under a header line naming the pass. Passes run in place: after a failure the graph holds
 * what the passes before did (callers that must not see that run on a copy). */
#ifndef AGLM_HOST_PASS_RUNNER_H
#define AGLM_HOST_PASS_RUNNER_H

#include <stddef.h>
#include "aglm/aglm.h"
#include "levels.h"
#include "registry.h"

typedef struct host_pass_stat {
    char name[64];
    int round; /* 1-based; > 1 only for an iterated level */
    size_t nodes_before, nodes_after;
    int changed;
    double ms;
} host_pass_stat;

typedef struct host_pass_report {
    char label[16];         /* "O2", or "passes" for an explicit list */
    host_pass_stat *passes; /* in the order they ran (malloc'd) */
    size_t num_passes;
    char (*missing)[64]; /* level passes that are not loaded, skipped (malloc'd) */
    size_t num_missing;
    size_t nodes_before, nodes_after;
    int rounds;
    double ms;
} host_pass_report;

typedef struct host_pass_run_opts {
    const aglm_options *pass_opts; /* given to every pass (NULL: none) */
    int print_ir;                  /* 1: the IR after each pass, to stderr */
    int verify;        /* 1: aglm_graph_verify after each pass (always in debug builds) */
    int skip_missing;  /* 1: a pass that is not loaded is skipped (reported, warned once);
                          0: it is an error */
    int iterate;       /* repeat the list until no pass changes the graph */
    const char *label; /* names the run in logs and headers (NULL: "passes") */
} host_pass_run_opts;

/* Runs names[0..n) on g in order (the whole list again while iterate and a pass changed the
 * graph, at most HOST_LEVEL_MAX_ROUNDS rounds). *report (optional) is filled even on failure;
 * free it with host_pass_report_free. A failing pass is an error "pass 'NAME': message"; a
 * graph a pass leaves invalid, "pass 'NAME' left an invalid graph: message". */
aglm_status host_pass_run(host_registry *reg, aglm_graph *g, const char *const *names, size_t n,
                          const host_pass_run_opts *opts, host_pass_report *report);

/* Runs the one pass `name` on g with opts (NULL: none), as aglm.pass does: no shape refresh,
 * verify or report. *changed (may be NULL) says whether it changed the graph. Errors read
 * "pass 'NAME': message", a pass that is not loaded included. */
aglm_status host_pass_run_one(host_registry *reg, aglm_graph *g, const char *name,
                              const aglm_options *opts, int *changed);

/* Runs level 0..3 of the process's table (levels.h) with skip_missing and the level's iterate;
 * opts (may be NULL) gives pass_opts, print_ir and verify. A pass of the level that is not
 * loaded is skipped and warned about once per process and name. */
aglm_status host_pass_run_level(host_registry *reg, aglm_graph *g, int level,
                                const host_pass_run_opts *opts, host_pass_report *report);

/* Whether pass `name` is started in reg now. */
int host_pass_loaded(host_registry *reg, const char *name);

/* "after-each" to 1, "none"/"0"/"" to 0; -1 otherwise. */
int host_print_ir_parse(const char *text);

void host_pass_report_free(host_pass_report *r);

#endif
