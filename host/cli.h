/* The aglm-host command line: parsing the arguments, and finding the executable's own folder,
 * the configuration file and the default plugin folder. */
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
    const char *pipeline;      /* --pipeline FILE */
    const char *config;        /* --config FILE, or NULL */
    const char **plugin_dirs;  /* --plugin-dir DIR, in order (malloc'd array of argv strings) */
    size_t num_plugin_dirs;
    int log_level;             /* --log-level, or -1 */
    int nargs;                 /* key=value arguments after "--" */
    char *const *args;
} host_cli;

/* Parses argv into *cli (strings borrowed from argv). Returns 0, or 2 for a usage error with a
 * one-line message in err. */
int host_cli_parse(int argc, char **argv, host_cli *cli, char *err, size_t errlen);
void host_cli_free(host_cli *cli);

/* The usage text (--help). */
extern const char host_cli_usage[];

/* The folder holding the running executable (from /proc/self/exe). 0 on success. */
int host_exe_dir(char *out, size_t n);

/* The configuration file to read when --config is absent: ./etc/aglm.ini, then
 * EXE_DIR/../etc/aglm/aglm.ini, then EXE_DIR/../etc/aglm.ini. 1 when one exists (path in out),
 * 0 when the built-in defaults apply. exe_dir may be NULL. */
int host_find_config(const char *exe_dir, char *out, size_t n);

/* The default plugin folder: EXE_DIR/plugins when it exists (a build tree), else
 * EXE_DIR/../lib/aglm/plugins (an installed tree). 1 when it exists (path in out). */
int host_default_plugin_dir(const char *exe_dir, char *out, size_t n);

#endif
