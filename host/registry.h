/* The plugin registry: loads shared objects, validates their descriptors, runs each plugin's
 * lifecycle and hands out counted references.
 *
 * States: loaded (dlopen, entry validated) -> initialised -> started (visible to look-ups) ->
 * draining (replaced or unloaded: no new look-ups) -> stopped -> destroyed -> unloaded (dlclose).
 * A failure at any step rolls back what that plugin did; the registry and other plugins are
 * untouched.
 *
 * Replace loads the new file through a private copy (so dlopen returns a fresh handle even for
 * the same path), inits and starts it, switches the name to it atomically and drains the old
 * version: its stop, destroy and dlclose run when its last reference goes, and its private copy
 * is deleted then. Unload of a referenced plugin is deferred the same way (the name disappears at
 * once; the code stays mapped until the last reference goes).
 *
 * All functions are safe to call from several threads. */
#ifndef AGLM_HOST_REGISTRY_H
#define AGLM_HOST_REGISTRY_H

#include <stddef.h>
#include "aglm/plugin.h"
#include "config.h"
#include "host_services.h"

typedef struct host_registry host_registry;

typedef enum host_plugin_state {
    HOST_PLUGIN_LOADED,
    HOST_PLUGIN_INITIALISED,
    HOST_PLUGIN_STARTED,
    HOST_PLUGIN_DRAINING,
    HOST_PLUGIN_STOPPED,
    HOST_PLUGIN_DESTROYED,
    HOST_PLUGIN_UNLOADED
} host_plugin_state;

/* "loaded", "initialised", "started", "draining", ... */
const char *host_plugin_state_name(host_plugin_state s);

/* One row of a listing: a snapshot, strings copied into the row. */
typedef struct host_plugin_info {
    char name[64];
    char version[32];
    char file[1024]; /* the path it was loaded from (not the private copy) */
    aglm_plugin_kind kind;
    host_plugin_state state;
    long refs;           /* references held now by users (the registry's own is not counted) */
    unsigned generation; /* 1 for the first load of a name, +1 per replace */
    char summary[160];
} host_plugin_info;

/* Column widths of a listing: each the longest of its header (NAME, KIND, VERSION, STATE) and
 * of the rows' text, so --list-plugins and the admin `plugins` line up alike. */
typedef struct host_plugin_widths {
    int name, kind, version, state;
} host_plugin_widths;
host_plugin_widths host_plugin_list_widths(const host_plugin_info *rows, size_t n);

/* A registry that gives each plugin its [plugin.NAME] section of cfg (borrowed: cfg must outlive
 * the registry). */
aglm_status host_registry_new(const host_config *cfg, host_registry **out);

/* Stops, destroys and unloads every plugin (waiting for none: references still held are leaked
 * with a warning) and frees the registry. */
void host_registry_free(host_registry *r);

/* Loads, inits and starts the plugin in `path`. Refused, with an error naming the file and the
 * reason: not an ELF shared object, no aglm_plugin_entry symbol, bad descriptor, ABI major
 * mismatch, newer ABI minor, name taken, missing requirement, failing init or start. *name_out
 * (optional, 64 bytes) gets the plugin's name. */
aglm_status host_registry_load(host_registry *r, const char *path, char *name_out);

/* Loads every *.so of a directory (in dependency order: a plugin whose requirement is loaded
 * later in the same scan is retried). Plugins whose config section says enabled=false are
 * skipped. Each refusal is logged; returns AGLM_OK with *loaded and *failed counts (either may be
 * NULL) unless the directory cannot be read. */
aglm_status host_registry_load_dir(host_registry *r, const char *dir, int *loaded, int *failed);

/* Removes `name` from look-ups. Unreferenced: stopped, destroyed and dlclosed now. Referenced:
 * draining, finished when the last reference goes (*deferred set to 1 when not NULL). Refused
 * when another started plugin requires it. */
aglm_status host_registry_unload(host_registry *r, const char *name, int *deferred);

/* Replaces `name` with the plugin in `path` (NULL: the file it was loaded from, re-read). The new
 * version must have the same name and kind. On any failure the old version keeps serving and the
 * error says why. */
aglm_status host_registry_replace(host_registry *r, const char *name, const char *path);

/* A counted reference to the started plugin `name` (of `kind`, or any when 0), or NULL with an
 * error set ("no plugin 'x'", "plugin 'x' is a pass, not a backend"). */
aglm_plugin_ref *host_registry_acquire(host_registry *r, const char *name, aglm_plugin_kind kind);

/* References to every started plugin of `kind`, in name order, in a malloc'd array the caller
 * frees after releasing each. */
aglm_status host_registry_acquire_all(host_registry *r, aglm_plugin_kind kind,
                                      aglm_plugin_ref ***refs, size_t *count);

/* Drops a reference; the last one of a draining version finishes its stop, destroy, dlclose. */
void host_registry_release(aglm_plugin_ref *ref);

const aglm_plugin_desc *host_ref_desc(const aglm_plugin_ref *ref);
void *host_ref_state(const aglm_plugin_ref *ref);
/* The generation of the version behind the reference. */
unsigned host_ref_generation(const aglm_plugin_ref *ref);

/* A snapshot of every plugin, started and draining, in a malloc'd array the caller frees. */
aglm_status host_registry_list(host_registry *r, host_plugin_info **rows, size_t *count);

/* Versions not yet gone: draining (replaced or unloaded, still referenced), or being stopped and
 * unloaded now. Listings show those as "stopped" and "destroyed" until the code is unmapped and
 * the private copy deleted. */
size_t host_registry_num_draining(host_registry *r);

/* Gives later loads and replaces the sections of `cfg` (borrowed, like host_registry_new's).
 * Versions already started keep the section they were initialised with, so the old config must
 * outlive them: host_config_reload keeps every config it replaces until the host exits. */
void host_registry_set_config(host_registry *r, const host_config *cfg);

/* A copy of the metric counters of the started plugin `name` (malloc'd; free with
 * host_metrics_free). */
aglm_status host_registry_metrics(host_registry *r, const char *name, host_metric **out,
                                  size_t *count);

#endif
