/* The [admin] section of aglm.ini:
 *
 *   [admin]
 *   socket = /run/user/1000/aglm.sock ; the admin socket (serve.lua's admin= overrides it)
 *   allow_uids = 0, 1001              ; peers admitted besides the host's own uid
 *   max_clients = 16                  ; connections at once; more get "ERR too many clients"
 *   idle_timeout_s = 60               ; a client silent this long is disconnected
 *   allow_any_path = false            ; true: load/replace take files outside the plugin dirs
 */
#ifndef AGLM_HOST_ADMIN_CONFIG_H
#define AGLM_HOST_ADMIN_CONFIG_H

#include <stddef.h>
#include <sys/types.h>
#include "aglm/status.h"

#define HOST_ADMIN_MAX_UIDS 64

typedef struct host_admin_config {
    char socket[108]; /* sun_path; "" when none */
    uid_t allow_uids[HOST_ADMIN_MAX_UIDS];
    size_t num_allow_uids;
    int max_clients;
    int idle_timeout_s;
    int allow_any_path;
} host_admin_config;

/* The defaults: no socket, no extra uids, 16 clients, 60 s, plugin dirs only. */
void host_admin_config_defaults(host_admin_config *c);

/* Reads [admin] of the ini at path (NULL: defaults only). A bad value is an error naming the
 * file, the key and the value. */
aglm_status host_admin_config_read(const char *path, host_admin_config *c);

/* Sets the socket path; refused when longer than a Unix socket path may be. */
aglm_status host_admin_config_set_socket(host_admin_config *c, const char *path);

#endif
