/* [admin] of aglm.ini, read with inih on its own (host_config keeps [host] and [plugin.*]). */
#include "admin_config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct admin_ctx {
    host_admin_config *cfg;
    const char *path;
    aglm_status st;
    char err[512];
} admin_ctx;

void host_admin_config_defaults(host_admin_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_clients = 16;
    c->idle_timeout_s = 60;
}

aglm_status host_admin_config_set_socket(host_admin_config *c, const char *path)
{
    if (!path || !*path)
        return aglm_error(AGLM_ERR_INVALID, "admin socket: empty path");
    if (strlen(path) >= sizeof c->socket)
        return aglm_error(AGLM_ERR_INVALID, "admin socket '%s': longer than %zu bytes", path,
                          sizeof c->socket - 1);
    snprintf(c->socket, sizeof c->socket, "%s", path);
    return AGLM_OK;
}

static int parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < lo || n > hi)
        return 0;
    *out = n;
    return 1;
}

static int fail(admin_ctx *a, const char *key, const char *value, const char *want)
{
    if (a->st == AGLM_OK) {
        a->st = AGLM_ERR_PARSE;
        snprintf(a->err, sizeof a->err, "%s: [admin] %s = '%.100s': %s", a->path, key, value, want);
    }
    return 0;
}

static int parse_uids(admin_ctx *a, const char *value)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", value);
    a->cfg->num_allow_uids = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        long uid;
        if (!parse_int(t, 0, (long)INT_MAX, &uid))
            return fail(a, "allow_uids", value, "expected uids (numbers) separated by commas");
        if (a->cfg->num_allow_uids == HOST_ADMIN_MAX_UIDS)
            return fail(a, "allow_uids", value, "more than 64 uids");
        a->cfg->allow_uids[a->cfg->num_allow_uids++] = (uid_t)uid;
    }
    return 1;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    admin_ctx *a = user;
    if (strcmp(section, "admin") != 0)
        return 1;
    if (!value)
        value = "";
    long n;
    if (strcmp(key, "socket") == 0) {
        if (host_admin_config_set_socket(a->cfg, value) != AGLM_OK)
            return fail(a, key, value, "empty or longer than 107 bytes");
    } else if (strcmp(key, "allow_uids") == 0) {
        return parse_uids(a, value);
    } else if (strcmp(key, "max_clients") == 0) {
        if (!parse_int(value, 1, 1024, &n))
            return fail(a, key, value, "expected an integer from 1 to 1024");
        a->cfg->max_clients = (int)n;
    } else if (strcmp(key, "idle_timeout_s") == 0) {
        if (!parse_int(value, 1, 86400, &n))
            return fail(a, key, value, "expected seconds from 1 to 86400");
        a->cfg->idle_timeout_s = (int)n;
    } else if (strcmp(key, "allow_any_path") == 0) {
        if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcasecmp(value, "on") ||
            !strcmp(value, "1"))
            a->cfg->allow_any_path = 1;
        else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") ||
                 !strcasecmp(value, "off") || !strcmp(value, "0"))
            a->cfg->allow_any_path = 0;
        else
            return fail(a, key, value, "expected true or false");
    } else {
        return fail(
            a, key, value,
            "unknown key (socket, allow_uids, max_clients, idle_timeout_s, allow_any_path)");
    }
    return 1;
}

aglm_status host_admin_config_read(const char *path, host_admin_config *c)
{
    host_admin_config_defaults(c);
    if (!path)
        return AGLM_OK;
    admin_ctx a = {.cfg = c, .path = path};
    int rc = ini_parse(path, on_key, &a);
    if (a.st != AGLM_OK) {
        host_admin_config_defaults(c);
        return aglm_error(a.st, "%s", a.err);
    }
    if (rc < 0) {
        host_admin_config_defaults(c);
        return aglm_error(AGLM_ERR_IO, "%s: cannot open", path);
    }
    /* syntax errors (rc > 0) are host_config_load's to report; it read the file first */
    return AGLM_OK;
}
