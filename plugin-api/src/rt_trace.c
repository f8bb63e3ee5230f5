/* The Chrome trace of an executor's runs (compile option trace=FILE.json): the trace event
 * format that ONNX Runtime's and PyTorch's profilers write, which chrome://tracing and Perfetto
 * open. One complete ("X") event per run and one per step per run, with the op, input shapes
 * and FLOPs in its args; a subgraph body's steps fall inside the step holding them, on the same
 * thread, so viewers nest them. Written to a temporary file and renamed, so a reader never sees
 * half a trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Writes s as the body of a JSON string. */
static void json_str(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

static void write_event(FILE *f, const char *name, const char *cat, const rt_event *e, int first)
{
    fprintf(f, "%s\n{\"name\":\"", first ? "" : ",");
    json_str(f, name);
    fprintf(f, "\",\"cat\":\"");
    json_str(f, cat);
    fprintf(f, "\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":1,\"tid\":%u",
            (double)e->start_ns / 1e3, (double)e->dur_ns / 1e3, e->tid);
}

aglm_status rt_trace_write(const aglm_executor *x)
{
    rt_trace *t = x->trace;
    if (!t)
        return AGLM_OK;
    size_t len = strlen(t->path) + 8;
    char *tmp = malloc(len);
    if (!tmp)
        return aglm_error(AGLM_ERR_NOMEM, "trace: out of memory");
    snprintf(tmp, len, "%s.part", t->path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return aglm_error(AGLM_ERR_IO, "backend %s: trace file '%s' cannot be written",
                          x->desc.sched.name, t->path);
    }
    pthread_mutex_lock(&t->lock);
    fprintf(f, "{\"traceEvents\":[");
    int first = 1;
    for (size_t i = 0; i < t->n_runs; i++, first = 0) {
        write_event(f, "run", "run", &t->runs[i], first);
        fprintf(f, ",\"args\":{\"backend\":\"");
        json_str(f, x->desc.sched.name);
        fprintf(f, "\",\"run\":%zu}}", i);
    }
    for (size_t i = 0; i < t->n; i++, first = 0) {
        const rt_event *e = &t->events[i];
        const rt_entry *en = &x->prof->entries[e->entry];
        const aglm_node *n = en->step->node;
        const char *domain = aglm_node_domain(n);
        char op[128];
        snprintf(op, sizeof op, "%s%s%s", domain && domain[0] ? domain : "",
                 domain && domain[0] ? "." : "", aglm_node_op(n));
        write_event(f, en->name, op, e, first);
        fprintf(f, ",\"args\":{\"op\":\"");
        json_str(f, op);
        fprintf(f, "\",\"input_shapes\":\"");
        json_str(f, e->shapes);
        fprintf(f, "\",\"flops\":%llu}}", (unsigned long long)e->flops);
    }
    fprintf(f, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"backend\":\"");
    json_str(f, x->desc.sched.name);
    fprintf(f, "\",\"dropped_events\":%llu}}\n", (unsigned long long)t->dropped);
    pthread_mutex_unlock(&t->lock);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, t->path) != 0) {
        remove(tmp);
        free(tmp);
        return aglm_error(AGLM_ERR_IO, "backend %s: trace file '%s' cannot be written",
                          x->desc.sched.name, t->path);
    }
    free(tmp);
    return AGLM_OK;
}
