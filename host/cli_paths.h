/* Where aglm-host finds its own folder, its configuration file and its default plugin folder
 * (cli_paths.c). */
#ifndef AGLM_HOST_CLI_PATHS_H
#define AGLM_HOST_CLI_PATHS_H

#include <stddef.h>

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
