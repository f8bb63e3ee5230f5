/* The aglm-host command line: parsing the arguments (cli.c). Where the host finds its files is
 * cli_paths.h. */
#ifndef AGLM_HOST_CLI_H
#define AGLM_HOST_CLI_H

#include <stddef.h>

typedef enum host_action {
    HOST_ACTION_NONE,
    HOST_ACTION_HELP,
    HOST_ACTION_VERSION,
    HOST_ACTION_LIST_PLUGINS,
    HOST_ACTION_PIPELINE,
    HOST_ACTION_LIST_LEVELS
} host_action;

typedef struct host_cli {
    host_action action;
    const char *pipeline;     /* --pipeline FILE */
    const char *config;       /* --config FILE, or NULL */
    const char **plugin_dirs; /* --plugin-dir DIR, in order (malloc'd array of argv strings) */
    size_t num_plugin_dirs;
    int log_level; /* --log-level, or -1 */
    int nargs;     /* key=value arguments after "--" */
    char *const *args;
} host_cli;

/* Parses argv into *cli (strings borrowed from argv). Returns 0, or 2 for a usage error with a
 * one-line message in err. */
int host_cli_parse(int argc, char **argv, host_cli *cli, char *err, size_t errlen);
void host_cli_free(host_cli *cli);

/* The usage text (--help). */
extern const char host_cli_usage[];

#endif
