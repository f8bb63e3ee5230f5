/* The admin socket's file: created mode 0600 in a directory only the host's user can write.
 *
 * When the folder of the configured path is private (owned by the user, not writable by group
 * or others) the socket is created at the path itself. Otherwise (/tmp, say) it is created in a
 * private folder DIR/.aglm-admin-UID (mode 0700) and the configured path becomes a symbolic link
 * to it, so clients use the path they were told while nobody else can replace the socket. A
 * stale socket or link of this user (no one listening) is removed; one someone listens on, or a
 * file of another user, is refused. */
#ifndef AGLM_HOST_ADMIN_SOCKET_H
#define AGLM_HOST_ADMIN_SOCKET_H

#include <limits.h>
#include "aglm/status.h"

typedef struct host_admin_socket {
    int fd;                  /* listening, non-blocking, close-on-exec */
    char path[PATH_MAX];     /* as configured */
    char real[PATH_MAX];     /* the socket file itself */
    char made_dir[PATH_MAX]; /* the private folder this made, or "" */
    int linked;              /* path is a link to real */
} host_admin_socket;

aglm_status host_admin_socket_open(const char *path, host_admin_socket *out);
/* Closes the socket and removes what open created. */
void host_admin_socket_close(host_admin_socket *s);

#endif
