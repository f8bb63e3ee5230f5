/* Host-internal: turning a plugin file into a validated descriptor, and back.
 *
 * A plugin is never dlopened from the path the user gave: the loader copies the file into the
 * registry's private folder under a name used once, so dlopen maps a fresh copy even when the
 * same path is loaded again (a replace from the same file, a file rewritten in place). */
#ifndef AGLM_HOST_LOADER_H
#define AGLM_HOST_LOADER_H

#include "aglm/plugin.h"

typedef struct host_loaded {
    void *handle;                 /* from dlopen of `copy` */
    char *copy;                   /* the private copy's path */
    const aglm_plugin_desc *desc; /* validated; lives in the mapped copy */
} host_loaded;

/* Checks that `path` is a readable regular file holding an ELF shared object for this machine;
 * "x.so: not an ELF shared object" and the like otherwise. Reads the header only. */
aglm_status host_loader_check_elf(const char *path);

/* Checks the file, copies it to DIR/<stem>-<seq>.so, dlopens the copy (RTLD_NOW | RTLD_LOCAL),
 * finds aglm_plugin_entry and validates the descriptor it returns. Every error names `path`.
 * On failure nothing is left behind. */
aglm_status host_loader_open(const char *path, const char *dir, unsigned seq, host_loaded *out);

/* dlcloses the copy and deletes it. */
void host_loader_close(host_loaded *l);

/* Validates a descriptor as host_loader_open does (ABI, sizes, name, kind, operations). */
aglm_status host_loader_validate(const char *path, const aglm_plugin_desc *d);

/* 1 if `name` is a valid plugin name: [a-z0-9_-]+, at most 63 characters. */
int host_plugin_name_valid(const char *name);

#endif
