/* A client of the admin socket: one command a line; the reply is every line up to and including
 * the final `OK` or `ERR reason`. */
#ifndef AGLM_LOAD_ADMIN_CONN_H
#define AGLM_LOAD_ADMIN_CONN_H

#include <stddef.h>

typedef struct admin_conn {
    int fd;
    size_t len; /* bytes buffered past the last reply */
    char buf[65536];
} admin_conn;

/* Connects to the socket at path; a reply slower than timeout_s fails the call. 0 or -1. */
int admin_connect(admin_conn *c, const char *path, int timeout_s);

/* Sends cmd and reads its reply into *reply (malloc'd, the lines without the last). 1 on OK,
 * 0 on ERR (*reply then ends with the ERR line), -1 when the connection failed (*reply says why).
 */
int admin_call(admin_conn *c, const char *cmd, char **reply);

void admin_close(admin_conn *c);

/* One command on a fresh connection: admin_call's result. */
int admin_once(const char *path, const char *cmd, char **reply);

#endif
