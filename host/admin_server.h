/* The admin socket server: a thread accepting connections and one thread per client, bounded
 * by [admin] max_clients (the next one gets "ERR too many clients" and is closed) and
 * idle_timeout_s (a silent client gets "ERR idle timeout" and is closed). A peer whose uid
 * (SO_PEERCRED) is neither the host's nor in allow_uids gets "ERR permission denied" and is
 * closed. A line over 4 KiB gets "ERR line too long" and the connection is closed; any other bad
 * line gets its ERR and the client may go on. */
#ifndef AGLM_HOST_ADMIN_SERVER_H
#define AGLM_HOST_ADMIN_SERVER_H

#include "admin_commands.h"

typedef struct host_admin host_admin;

/* Creates the socket at ctx->admin->socket and starts accepting. ctx (and what it points to) is
 * borrowed until host_admin_stop. */
aglm_status host_admin_start(const host_admin_context *ctx, host_admin **out);

/* The socket's path as configured. */
const char *host_admin_path(const host_admin *a);

/* Stops accepting, lets every command in progress finish and its reply go out, disconnects the
 * clients, waits for their threads and removes the socket. NULL is a no-op. */
void host_admin_stop(host_admin *a);

#endif
