/* Internals of served models shared by served.c and served_io.c: the model and handle types,
 * and served.c's look-up and handle references. */
#ifndef AGLM_HOST_SERVED_INTERNAL_H
#define AGLM_HOST_SERVED_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "backend_exec.h"
#include "served.h"
#include "served_stats.h"

/* One compilation of a model; requests hold counted references to it. */
typedef struct served_handle {
    atomic_long refs;
    host_backend_exec be; /* executable, signature and backend reference */
    int level;
} served_handle;

typedef struct served_model {
    char name[64];
    aglm_graph *source;           /* as served: recompiles start from it */
    pthread_mutex_t compile_lock; /* one compile of this model at a time */
    pthread_mutex_t lock;         /* guards the fields below */
    served_handle *cur;
    char backend[64]; /* the backend name it compiles for */
    int level;
    uint64_t compiles;
    unsigned follow_failed_gen; /* a follow to this generation failed; not retried */
    served_stats stats;
    struct served_model *next; /* set once, before the model is published */
} served_model;

/* The model `name`, or NULL with an error; models live as long as the set. */
served_model *served_find(host_served *s, const char *name);
/* A reference to the model's current handle, and its release. */
served_handle *served_acquire(served_model *m);
void served_release(served_handle *h);

#endif
