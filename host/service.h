/* The host as a long-running service: after a pipeline served models (or asked for an admin
 * socket), the host keeps running, serves the admin socket and the watched plugin folders, and
 * reacts to signals:
 *   SIGTERM, SIGINT  drain (commands in flight finish, their replies go out) and exit 0
 *   SIGHUP           re-read aglm.ini and apply what can change live (reload.h)
 * The admin `shutdown` command drains the same way. */
#ifndef AGLM_HOST_SERVICE_H
#define AGLM_HOST_SERVICE_H

#include <stddef.h>
#include "config.h"
#include "registry.h"
#include "served.h"

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and so in every thread it creates
 * later) and starts the thread that takes them: their default action until a service runs.
 * Call first in main, before any thread exists; later calls do nothing. */
void host_signals_init(void);

typedef struct host_service_options {
    host_registry *reg;
    host_config **config; /* the live config; SIGHUP points it at the reloaded one */
    host_served *served;
    const char *admin_socket;       /* overrides [admin] socket; NULL or "" for none */
    const char *const *plugin_dirs; /* every folder scanned at start: load/replace accept these */
    size_t num_plugin_dirs;
    const char *const
        *watch_dirs; /* watched besides the config's plugin_dirs (--plugin-dir, ...) */
    size_t num_watch_dirs;
} host_service_options;

/* Runs the service until it is told to stop; returns the exit status: 0 after a drain, 1 when
 * it cannot start (bad [admin] section, socket in use), with the reason on stderr. */
int host_service_run(const host_service_options *o);

#endif
