/* aglm.ini: the host's configuration, parsed with inih.
 *
 *   [host]
 *   plugin_dirs = ../build/plugins   ; ':'-separated; relative paths are against the ini's folder
 *   log_level = info
 *   [plugin.cpu]
 *   threads = 2
 *   enabled = true                   ; false: the host skips this plugin when scanning dirs
 */
#ifndef AGLM_HOST_CONFIG_H
#define AGLM_HOST_CONFIG_H

#include <stddef.h>
#include "aglm/status.h"

typedef struct host_kv {
    char *key;
    char *value;
} host_kv;

typedef struct host_section {
    char *name; /* the NAME of [plugin.NAME] */
    host_kv *items;
    size_t count;
} host_section;

typedef struct host_config {
    char *path;         /* the file read, or NULL when defaults only */
    char **plugin_dirs; /* absolute or as given on the command line */
    size_t num_plugin_dirs;
    int log_level;       /* -1: not set */
    host_kv *host_items; /* every key of [host], for settings later issues add */
    size_t num_host_items;
    host_section *plugins;
    size_t num_plugins;
} host_config;

/* Reads `path` into *cfg (zeroed first). An unreadable file or a syntax error is an error naming
 * the file and line. */
aglm_status host_config_load(const char *path, host_config *cfg);
/* A [plugin.NAME] section, or NULL. */
const host_section *host_config_plugin(const host_config *cfg, const char *name);
/* A key of a section, or NULL. */
const char *host_section_get(const host_section *s, const char *key);
/* A key of [host], or NULL. */
const char *host_config_get(const host_config *cfg, const char *key);
/* Appends a plugin directory (copied). */
aglm_status host_config_add_dir(host_config *cfg, const char *dir);
void host_config_free(host_config *cfg);

#endif
