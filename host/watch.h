/* Watched plugin directories: a thread that follows the plugin folders with inotify.
 *
 * A *.so closed after writing, or renamed into a folder, is loaded; when its plugin's name is
 * already started, it replaces that plugin instead (old version drains, see registry.h). Only a
 * finished file is looked at (IN_CLOSE_WRITE, IN_MOVED_TO), and it is validated by the loader
 * before anything changes, so a half-written or broken file never replaces a working plugin. A
 * removed file unloads the plugin loaded from it only when [host] unload_on_remove = true.
 * Names starting with '.' are ignored: deploy tools write there first, then rename.
 * Every event is logged with its outcome: info when done, warn when refused. */
#ifndef AGLM_HOST_WATCH_H
#define AGLM_HOST_WATCH_H

#include "config.h"
#include "registry.h"

typedef struct host_watch host_watch;

/* Starts watching every folder of cfg->plugin_dirs (a folder that cannot be watched is logged and
 * skipped). cfg is borrowed until host_watch_apply_config replaces it or host_watch_stop. NULL
 * with an error set when the thread or inotify cannot be set up. */
host_watch *host_watch_start(host_registry *reg, const host_config *cfg);

/* Watches one more folder (DIR as given; its real path dedups). */
aglm_status host_watch_add_dir(host_watch *w, const char *dir);

/* Follows a reloaded config: watches its new folders, stops watching folders no longer listed
 * (their plugins stay loaded) and takes its unload_on_remove. cfg is borrowed from now on. */
aglm_status host_watch_apply_config(host_watch *w, const host_config *cfg);

/* Wakes the thread, waits for the event in hand to finish, and frees everything. NULL is a no-op.
 */
void host_watch_stop(host_watch *w);

#endif
