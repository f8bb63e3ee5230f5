/* The admin commands: one parsed line in, reply lines out (each reply ends with "OK" or
 * "ERR <reason>"). The server calls host_admin_execute for each line a client sends; tests call
 * it directly. */
#ifndef AGLM_HOST_ADMIN_COMMANDS_H
#define AGLM_HOST_ADMIN_COMMANDS_H

#include <pthread.h>
#include <stddef.h>
#include "admin_config.h"
#include "config.h"
#include "registry.h"
#include "served.h"

/* A reply being built; lines end with '\n'. */
typedef struct host_admin_reply {
    char *buf;
    size_t len, cap;
    int oom;            /* an append failed: the reply ends "ERR out of memory" */
} host_admin_reply;

void host_admin_reply_line(host_admin_reply *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends text as lines (a missing final newline is added). */
void host_admin_reply_text(host_admin_reply *r, const char *text, size_t len);
/* Appends "ERR <msg>" with newlines and control characters of msg turned into spaces. */
void host_admin_reply_err(host_admin_reply *r, const char *msg);
void host_admin_reply_free(host_admin_reply *r);

/* What the commands act on; every pointer is borrowed. */
typedef struct host_admin_context {
    host_registry *reg;
    host_served *served;
    const host_admin_config *admin;
    host_config *const *config;       /* the live config (its plugin_dirs), may be NULL */
    pthread_mutex_t *config_lock;     /* held while *config is read or swapped (SIGHUP); may be NULL */
    const char *const *plugin_dirs;   /* further dirs load/replace accept (default, env, cli) */
    size_t num_plugin_dirs;
    /* Asks the service to drain and exit 0 (the `shutdown` command); may be NULL. */
    void (*shutdown)(void *ctx);
    void *shutdown_ctx;
} host_admin_context;

/* Parses and runs one command line, appending its reply (ending OK or ERR) to r. Returns the
 * command's status. */
aglm_status host_admin_execute(const host_admin_context *ctx, const char *line, size_t len, host_admin_reply *r);

/* 1 when `path` resolves (realpath) to a file inside one of the context's plugin dirs, or the
 * config allows any path. Otherwise 0 with an error naming the path. *resolved gets the real
 * path (PATH_MAX bytes). */
int host_admin_path_allowed(const host_admin_context *ctx, const char *path, char *resolved);

#endif
