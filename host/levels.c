/* Optimisation levels (levels.h): the built-in table, [levels] of aglm.ini, the process's table. */
#include "levels.h"

#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

static const char *const builtin[HOST_NUM_LEVELS] = {
    "",
    "fold-constants, dce",
    "O1, fold-batchnorm, fuse, simplify, cse, dce",
    "O2",
};
static const char builtin_iterate[] = "O3";

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static host_levels table;
static int table_set;

int host_level_parse(const char *text)
{
    if (!text)
        return -1;
    if (text[0] == 'O' || text[0] == 'o')
        text++;
    if (text[0] >= '0' && text[0] < '0' + HOST_NUM_LEVELS && text[1] == '\0')
        return text[0] - '0';
    return -1;
}

/* Fills l->level[n] from `list` (levels below n already filled). On error writes why to err. */
static int resolve(host_levels *l, int n, const char *list, char *err, size_t errlen)
{
    host_level *out = &l->level[n];
    out->count = 0;
    char buf[2048];
    if (strlen(list) >= sizeof buf) {
        snprintf(err, errlen, "the list is longer than %zu characters", sizeof buf - 1);
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        if (strcmp(t, "none") == 0)
            continue;
        int lower = (t[0] == 'O') ? host_level_parse(t) : -1;
        const char *names[HOST_LEVEL_MAX_PASSES];
        size_t k = 0;
        if (lower >= 0) {
            if (lower >= n) {
                snprintf(err, errlen, "'%s' is not a level below O%d", t, n);
                return 0;
            }
            for (size_t i = 0; i < l->level[lower].count; i++)
                names[k++] = l->level[lower].passes[i];
        } else if (!host_plugin_name_valid(t)) {
            snprintf(err, errlen,
                     "'%.80s' is neither a pass name ([a-z0-9_-], at most 63) nor O0..O%d", t,
                     n > 0 ? n - 1 : 0);
            return 0;
        } else {
            names[k++] = t;
        }
        for (size_t i = 0; i < k; i++) {
            if (out->count == HOST_LEVEL_MAX_PASSES) {
                snprintf(err, errlen, "more than %d passes", HOST_LEVEL_MAX_PASSES);
                return 0;
            }
            snprintf(out->passes[out->count++], sizeof out->passes[0], "%s", names[i]);
        }
    }
    return 1;
}

static int set_iterate(host_levels *l, const char *list, char *err, size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (int n = 0; n < HOST_NUM_LEVELS; n++)
        l->level[n].iterate = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        int n = host_level_parse(t);
        if (n < 0 || t[0] != 'O') {
            if (strcmp(t, "none") == 0)
                continue;
            snprintf(err, errlen, "'%.80s' is not O0, O1, O2 or O3", t);
            return 0;
        }
        l->level[n].iterate = 1;
    }
    return 1;
}

void host_levels_defaults(host_levels *l)
{
    char err[256];
    memset(l, 0, sizeof *l);
    for (int n = 0; n < HOST_NUM_LEVELS; n++)
        (void)resolve(l, n, builtin[n], err, sizeof err); /* the built-in lists are valid */
    (void)set_iterate(l, builtin_iterate, err, sizeof err);
}

typedef struct read_ctx {
    char *lists[HOST_NUM_LEVELS]; /* as written in the file; NULL: built-in */
    char *iterate;
    int line[HOST_NUM_LEVELS + 1];
    int cur_line;
    const char *bad_key;
    int bad_line;
    int nomem;
} read_ctx;

static int on_key(void *user, const char *section, const char *key, const char *value, int lineno)
{
    read_ctx *c = user;
    if (strcmp(section, "levels") != 0)
        return 1;
    int n = host_level_parse(key);
    char **slot = n >= 0 && key[0] == 'O'       ? &c->lists[n]
                  : strcmp(key, "iterate") == 0 ? &c->iterate
                                                : NULL;
    if (!slot) {
        if (!c->bad_key) {
            c->bad_key = strdup(key);
            c->bad_line = lineno;
            c->nomem |= !c->bad_key;
        }
        return 1;
    }
    free(*slot);
    *slot = strdup(value ? value : "");
    c->nomem |= !*slot;
    c->line[slot == &c->iterate ? HOST_NUM_LEVELS : n] = lineno;
    return 1;
}

/* inih's handler has no line number; a reader that counts lines gives it one. */
typedef struct line_reader {
    FILE *f;
    int line;
    read_ctx *ctx;
} line_reader;

static char *read_line(char *str, int num, void *stream)
{
    line_reader *r = stream;
    char *s = fgets(str, num, r->f);
    if (s)
        r->line++;
    return s;
}

static int on_key_counted(void *user, const char *section, const char *key, const char *value)
{
    line_reader *r = user;
    return on_key(r->ctx, section, key, value, r->line);
}

static void ctx_free(read_ctx *c)
{
    for (int n = 0; n < HOST_NUM_LEVELS; n++)
        free(c->lists[n]);
    free(c->iterate);
    free((char *)c->bad_key);
}

aglm_status host_levels_read(const char *path, host_levels *l)
{
    if (!l)
        return aglm_error(AGLM_ERR_INVALID, "host_levels_read: NULL argument");
    host_levels_defaults(l);
    if (!path)
        return AGLM_OK;
    FILE *f = fopen(path, "r");
    if (!f)
        return aglm_error(AGLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    read_ctx c;
    memset(&c, 0, sizeof c);
    line_reader r = {f, 0, &c};
    int rc = ini_parse_stream(read_line, &r, on_key_counted, &r);
    fclose(f);
    aglm_status st = AGLM_OK;
    char err[512] = "";
    host_levels tmp = *l;
    if (c.nomem || rc == -2) {
        st = aglm_error(AGLM_ERR_NOMEM, "%s: out of memory reading [levels]", path);
    } else if (rc != 0) {
        st = aglm_error(AGLM_ERR_PARSE, "%s:%d: syntax error (expected [section] or key = value)",
                        path, rc);
    } else if (c.bad_key) {
        st = aglm_error(AGLM_ERR_PARSE,
                        "%s:%d: [levels] key '%.80s' is not O0, O1, O2, O3 or iterate", path,
                        c.bad_line, c.bad_key);
    } else {
        /* in order, so a level left out follows the lower ones it is built from */
        for (int n = 0; n < HOST_NUM_LEVELS && st == AGLM_OK; n++) {
            tmp.from_config |= c.lists[n] != NULL;
            if (!resolve(&tmp, n, c.lists[n] ? c.lists[n] : builtin[n], err, sizeof err))
                st = aglm_error(AGLM_ERR_PARSE, "%s:%d: [levels] O%d = '%.200s': %s", path,
                                c.line[n], n, c.lists[n], err);
        }
        if (st == AGLM_OK && c.iterate) {
            tmp.from_config = 1;
            if (!set_iterate(&tmp, c.iterate, err, sizeof err))
                st = aglm_error(AGLM_ERR_PARSE, "%s:%d: [levels] iterate = '%.200s': %s", path,
                                c.line[HOST_NUM_LEVELS], c.iterate, err);
        }
    }
    ctx_free(&c);
    if (st == AGLM_OK)
        *l = tmp;
    return st;
}

void host_levels_set(const host_levels *l)
{
    pthread_mutex_lock(&table_lock);
    table = *l;
    table_set = 1;
    pthread_mutex_unlock(&table_lock);
}

void host_levels_get(host_levels *out)
{
    pthread_mutex_lock(&table_lock);
    if (!table_set) {
        host_levels_defaults(&table);
        table_set = 1;
    }
    *out = table;
    pthread_mutex_unlock(&table_lock);
}
