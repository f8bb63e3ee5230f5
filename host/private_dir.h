/* Host-internal: the registry's private folder for plugin copies. */
#ifndef AGLM_HOST_PRIVATE_DIR_H
#define AGLM_HOST_PRIVATE_DIR_H

#include "aglm/status.h"

/* Creates a private folder, mode 0700, under $TMPDIR (or /tmp); *out is malloc'd. *lock_fd is
 * an flock held on it, to be closed when the registry is freed: it tells the sweep that the
 * folder's owner is alive even where its PID means nothing (another PID namespace). */
aglm_status host_private_dir_make(char **out, int *lock_fd);
/* Deletes the private folders (and their copies) that processes of this user left behind when
 * they died without freeing their registry: $TMPDIR/aglm-PID-XXXXXX whose PID is gone and whose
 * lock nobody holds. */
void host_private_dir_sweep(void);
/* Removes the folder if it is empty (copies of leaked plugins may still be there). */
void host_private_dir_remove(const char *dir);

#endif
