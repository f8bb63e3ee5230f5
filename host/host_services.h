/* Host-internal: the aglm_host table each plugin version gets at init. One table per version, so
 * logging, config and metrics know which plugin calls, and a draining version keeps its own. */
#ifndef AGLM_HOST_SERVICES_H
#define AGLM_HOST_SERVICES_H

#include <pthread.h>
#include "aglm/plugin.h"
#include "config.h"

struct host_registry;

typedef struct host_metric {
    char *name;
    double value;
} host_metric;

typedef struct host_services {
    aglm_host table;             /* handed to the plugin; table.impl points back here */
    struct host_registry *reg;   /* NULL once the registry is gone (a leaked, orphaned version) */
    const host_section *section; /* the plugin's [plugin.NAME] section, or NULL */
    char name[64];
    pthread_mutex_t metrics_lock;
    host_metric *metrics;
    size_t num_metrics;
} host_services;

/* Fills the table of plugin `name`; section may be NULL. */
aglm_status host_services_init(host_services *s, struct host_registry *reg,
                               const host_section *section, const char *name);
/* Cuts the table off the registry and the config: look-ups fail, config reads give NULL. Used
 * when the registry is freed while the version is still referenced. */
void host_services_detach(host_services *s);
void host_services_fini(host_services *s);

/* A copy of the metric counters (malloc'd array and names; free with host_metrics_free). */
aglm_status host_services_metrics(host_services *s, host_metric **out, size_t *count);
void host_metrics_free(host_metric *m, size_t count);

#endif
