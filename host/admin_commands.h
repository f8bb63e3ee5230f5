/* The admin commands: one parsed line in, reply lines out (each reply ends with "OK" or
 * "ERR <reason>"). The server calls host_admin_execute for each line a client sends; tests call
 * it directly. */
#ifndef AGLM_HOST_ADMIN_COMMANDS_H
#define AGLM_HOST_ADMIN_COMMANDS_H

#include <pthread.h>
#include <stddef.h>
#include "admin_config.h"
#include "admin_reply.h"
#include "config.h"
#include "registry.h"
#include "served.h"

/* What the commands act on; every pointer is borrowed. */
typedef struct host_admin_context {
    host_registry *reg;
    host_served *served;
    const host_admin_config *admin;
    host_config *const *config;   /* the live config (its plugin_dirs), may be NULL */
    pthread_mutex_t *config_lock; /* held while *config is read or swapped (SIGHUP); may be NULL */
    const char *const *plugin_dirs; /* further dirs load/replace accept (default, env, cli) */
    size_t num_plugin_dirs;
    /* Asks the service to drain and exit 0 (the `shutdown` command); may be NULL. */
    void (*shutdown)(void *ctx);
    void *shutdown_ctx;
} host_admin_context;

/* Parses and runs one command line, appending its reply (ending OK or ERR) to r. Returns the
 * command's status. */
aglm_status host_admin_execute(const host_admin_context *ctx, const char *line, size_t len,
                               host_admin_reply *r);

/* 1 when `path` resolves (realpath) to a file inside one of the context's plugin dirs, or the
 * config allows any path. Otherwise 0 with an error naming the path. *resolved gets the real
 * path (PATH_MAX bytes). */
int host_admin_path_allowed(const host_admin_context *ctx, const char *path, char *resolved);

#endif
