/* Internals of served models shared by served.c, served_stats.c and served_io.c. */
#ifndef AGLM_HOST_SERVED_INTERNAL_H
#define AGLM_HOST_SERVED_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "served.h"

/* Latency samples kept per model for the percentiles. */
#define SERVED_SAMPLES 2048

typedef struct served_stats {
    pthread_mutex_t lock;
    uint64_t requests, errors;
    double samples[SERVED_SAMPLES]; /* ms, a ring */
    size_t next, filled;
} served_stats;

/* One compilation of a model; requests hold counted references to it. */
typedef struct served_handle {
    atomic_long refs;
    aglm_plugin_ref *backend;
    aglm_exec *exec;
    aglm_graph *sig;      /* the compiled graph's inputs and outputs only */
    int level;
} served_handle;

typedef struct served_model {
    char name[64];
    aglm_graph *source;           /* as served: recompiles start from it */
    pthread_mutex_t compile_lock; /* one compile of this model at a time */
    pthread_mutex_t lock;         /* guards the fields below */
    served_handle *cur;
    char backend[64];             /* the backend name it compiles for */
    int level;
    uint64_t compiles;
    unsigned follow_failed_gen;   /* a follow to this generation failed; not retried */
    served_stats stats;
    struct served_model *next;    /* set once, before the model is published */
} served_model;

void served_stats_init(served_stats *st);
void served_stats_fini(served_stats *st);
void served_stats_record(served_stats *st, int ok, double ms);
void served_stats_fill(served_stats *st, host_served_info *info);

/* The model `name`, or NULL with an error; models live as long as the set. */
served_model *served_find(host_served *s, const char *name);
/* A reference to the model's current handle, and its release. */
served_handle *served_acquire(served_model *m);
void served_release(served_handle *h);
/* Runs handle h (inputs already read), with the checks host_served_run documents. */
aglm_status served_run_handle(served_handle *h, size_t n_in, const aglm_tensor *in, size_t n_out,
                              aglm_tensor *out);
double served_now_ms(void);

#endif
