/* Helpers for IR-text pass tests: the pass (and, where asked, the cpu backend it may use) loaded
 * through the registry as the host loads them, and the "input IR, pass, expected IR" check. */
#ifndef AGLM_TEST_IR_PASS_FIXTURE_H
#define AGLM_TEST_IR_PASS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aglm/aglm.h"
#include "config.h"
#include "registry.h"

typedef struct ir_pass_fx {
    host_config cfg;
    host_registry *reg;
    aglm_plugin_ref *ref;
    const aglm_pass_ops *ops;
    void *state;
    const char *name;
} ir_pass_fx;

/* Loads build/plugins/pass-NAME.so (and backend-cpu.so first when with_cpu). */
static inline int ir_pass_open(void **state, const char *name, int with_cpu)
{
    ir_pass_fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->cfg.log_level = -1;
    f->name = name;
    char path[512];
    if (host_registry_new(&f->cfg, &f->reg) != AGLM_OK)
        goto fail;
    if (with_cpu && host_registry_load(f->reg, AGLM_PLUGIN_DIR "/backend-cpu.so", NULL) != AGLM_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/pass-%s.so", AGLM_PLUGIN_DIR, name);
    if (host_registry_load(f->reg, path, NULL) != AGLM_OK)
        goto fail;
    if (!(f->ref = host_registry_acquire(f->reg, name, AGLM_KIND_PASS)))
        goto fail;
    f->ops = host_ref_desc(f->ref)->ops;
    f->state = host_ref_state(f->ref);
    *state = f;
    return 0;
fail:
    fprintf(stderr, "loading pass %s: %s\n", name, aglm_last_error());
    if (f->reg)
        host_registry_free(f->reg);
    free(f);
    return -1;
}

static inline int ir_pass_close(void **state)
{
    ir_pass_fx *f = *state;
    host_registry_release(f->ref);
    host_registry_free(f->reg);
    free(f);
    return 0;
}

static inline aglm_graph *ir_pass_parse(const char *text)
{
    aglm_graph *g = NULL;
    if (aglm_graph_parse(text, &g) != AGLM_OK)
        fail_msg("parse: %s", aglm_last_error());
    return g;
}

/* Runs a pass's ops table on g with opts (may be NULL); the graph must verify afterwards.
 * Returns *changed. Shared with pass_fixture.h. */
static inline int ir_pass_run_ops(const aglm_pass_ops *ops, void *pstate, const char *name,
                                  aglm_graph *g, const aglm_options *opts)
{
    int changed = -1;
    if (ops->run(pstate, g, opts, &changed) != AGLM_OK)
        fail_msg("%s: %s", name, aglm_last_error());
    assert_true(changed == 0 || changed == 1);
    if (aglm_graph_verify(g) != AGLM_OK)
        fail_msg("graph invalid after %s: %s", name, aglm_last_error());
    return changed;
}

/* Runs the pass with opts (may be NULL); the graph must verify afterwards. Returns *changed. */
static inline int ir_pass_run(ir_pass_fx *f, aglm_graph *g, const aglm_options *opts)
{
    return ir_pass_run_ops(f->ops, f->state, f->name, g, opts);
}

/* Input IR, the pass, the expected IR (both compared in the printer's form); a second run must
 * change nothing (each pass reaches its fixed point in one run). */
static inline void ir_pass_check_opts(ir_pass_fx *f, const char *input, const char *expected,
                                      const aglm_options *opts, int want_changed)
{
    aglm_graph *g = ir_pass_parse(input), *e = ir_pass_parse(expected);
    int changed = ir_pass_run(f, g, opts);
    char *got = aglm_graph_to_text(g, 0), *want = aglm_graph_to_text(e, 0);
    assert_non_null(got);
    assert_non_null(want);
    if (strcmp(got, want) != 0)
        fail_msg("after %s:\n%s\nexpected:\n%s", f->name, got, want);
    assert_int_equal(changed, want_changed);
    assert_int_equal(ir_pass_run(f, g, opts), 0);
    free(got);
    free(want);
    aglm_graph_free(g);
    aglm_graph_free(e);
}

static inline void ir_pass_check(ir_pass_fx *f, const char *input, const char *expected,
                                 int want_changed)
{
    ir_pass_check_opts(f, input, expected, NULL, want_changed);
}

#endif
