/* Request counters and latency percentiles of one served model (served_stats.c). */
#ifndef AGLM_HOST_SERVED_STATS_H
#define AGLM_HOST_SERVED_STATS_H

#include <pthread.h>
#include <stddef.h>
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

/* Sets up and tears down the counters and their lock. */
void served_stats_init(served_stats *st);
void served_stats_fini(served_stats *st);
/* Counts one request; ok adds its latency `ms` to the ring, a failure only counts. */
void served_stats_record(served_stats *st, int ok, double ms);
/* Copies requests, errors and the p50/p90/p99/max latencies into info. */
void served_stats_fill(served_stats *st, host_served_info *info);
/* The monotonic clock in milliseconds, to time requests. */
double served_now_ms(void);

#endif
