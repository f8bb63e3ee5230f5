/* Shared by the fixture plugins: a do-nothing pass table and a trace file that records each
 * lifecycle callback, one line each, so tests can check the order the host calls them in. */
#ifndef AGLM_TEST_FIXTURE_H
#define AGLM_TEST_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aglm/aglm.h"

static inline aglm_status fixture_noop_run(void *state, aglm_graph *g, const aglm_options *opts,
                                           int *changed)
{
    (void)state, (void)g, (void)opts;
    *changed = 0;
    return AGLM_OK;
}

static const aglm_pass_ops fixture_noop_ops = {.struct_size = sizeof(aglm_pass_ops),
                                               .run = fixture_noop_run};

typedef struct fixture_trace {
    char path[1024];
} fixture_trace;

static inline void fixture_trace_line(const fixture_trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void fixture_trace_line(const fixture_trace *t, const char *fmt, ...)
{
    FILE *f = fopen(t->path, "a");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

/* init's half of the trace: reads the `trace` key of the plugin's config section, records "init"
 * and every key of the section as "config KEY=VALUE". */
static inline aglm_status fixture_trace_init(const aglm_host *host, void **state)
{
    const char *path = host->config(host, "trace");
    if (!path)
        return aglm_error(AGLM_ERR_INVALID, "%s: no 'trace' key in [plugin.%s]", host->plugin_name,
                          host->plugin_name);
    fixture_trace *t = calloc(1, sizeof *t);
    if (!t)
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", host->plugin_name);
    snprintf(t->path, sizeof t->path, "%s", path);
    fixture_trace_line(t, "init");
    for (size_t i = 0; i < host->config_count(host); i++) {
        const char *key = host->config_key(host, i);
        fixture_trace_line(t, "config %s=%s", key, host->config(host, key));
    }
    host->log(host, AGLM_LOG_DEBUG, "tracing to %s", t->path);
    host->metric(host, "inits", 1);
    *state = t;
    return AGLM_OK;
}

static inline aglm_status fixture_trace_stop(void *state)
{
    fixture_trace_line(state, "stop");
    return AGLM_OK;
}

static inline void fixture_trace_destroy(void *state)
{
    fixture_trace_line(state, "destroy");
    free(state);
}

#endif
