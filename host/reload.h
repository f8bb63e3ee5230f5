/* SIGHUP: re-reading aglm.ini and applying what can change while the host runs.
 *
 * Live: [host] log_level (when the file's value changed: a --log-level given at start holds until
 * then); [host] plugin_dirs (a new folder is scanned, and watched when a watcher runs; a folder
 * no longer listed is no longer watched, its plugins stay); [host] unload_on_remove; a changed
 * [plugin.NAME] section (that plugin is replaced by itself, from its own file, so its init reads
 * the new section; enabled = false unloads it). Any other [host] key that changed is logged as
 * needing a restart. */
#ifndef AGLM_HOST_RELOAD_H
#define AGLM_HOST_RELOAD_H

#include "config.h"
#include "registry.h"
#include "watch.h"

/* Re-reads `path` (NULL: (*cfg)->path) and applies it. On success *cfg points to a new config
 * that the registry now uses. Configs a reload creates belong to this module and stay alive
 * (plugins started with one keep reading their section from it) until host_config_reload_fini;
 * the caller's original config stays the caller's. A file that does not parse changes nothing:
 * the error names the file and line. A plugin that fails to re-initialise keeps its old version
 * serving: that is logged at warn, and the reload still succeeds. */
aglm_status host_config_reload(host_registry *reg, host_config **cfg, const char *path);

/* As host_config_reload, and the watcher (may be NULL) follows the new plugin dirs and
 * unload_on_remove. */
aglm_status host_config_reload_watched(host_registry *reg, host_watch *watch, host_config **cfg,
                                       const char *path);

/* Frees the configs that reloads created (the current one included). Call after
 * host_registry_free and host_watch_stop, before freeing the original config. */
void host_config_reload_fini(void);

#endif
