/* aglm.ini through inih. The file is read with our own line reader so that an error found by
 * the handler (a bad log_level, an over-long line) can be reported at its own line, the way
 * inih reports its syntax errors. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loader.h"
#include "log.h"

#define PLUGIN_PREFIX "plugin."

typedef struct parse_ctx {
    host_config *cfg;
    const char *path;
    char *base_dir; /* the ini's folder, absolute */
    FILE *f;
    int line;     /* the line the reader returned last */
    int err_line; /* first error found by us, 0 if none */
    char err[512];
    aglm_status err_status;
    char **warned; /* unknown section names already warned about */
    size_t num_warned;
} parse_ctx;

static void note_error(parse_ctx *p, aglm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note_error(parse_ctx *p, aglm_status st, const char *fmt, ...)
{
    if (p->err_line)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    p->err_line = p->line;
    p->err_status = st;
}

/* inih hands the reader a fixed buffer; a longer line would be split into pieces that parse as
 * other lines, so it is refused here and its rest skipped. */
static char *read_line(char *str, int num, void *stream)
{
    parse_ctx *p = stream;
    if (!fgets(str, num, p->f))
        return NULL;
    p->line++;
    size_t n = strlen(str);
    if (n > 0 && str[n - 1] != '\n') {
        int c = fgetc(p->f);
        if (c != EOF && c != '\n') {
            while (c != EOF && c != '\n')
                c = fgetc(p->f);
            note_error(p, AGLM_ERR_PARSE, "line is longer than %d characters", num - 3);
        }
    }
    return str;
}

static aglm_status kv_set(host_kv **items, size_t *count, const char *key, const char *value)
{
    for (size_t i = 0; i < *count; i++) {
        if (strcmp((*items)[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v)
                return AGLM_ERR_NOMEM;
            free((*items)[i].value);
            (*items)[i].value = v;
            return AGLM_OK;
        }
    }
    host_kv *grown = realloc(*items, (*count + 1) * sizeof **items);
    if (!grown)
        return AGLM_ERR_NOMEM;
    *items = grown;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return AGLM_ERR_NOMEM;
    }
    grown[*count].key = k;
    grown[*count].value = v;
    (*count)++;
    return AGLM_OK;
}

static void kv_free(host_kv *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(items[i].key);
        free(items[i].value);
    }
    free(items);
}

static int is_true_word(const char *v)
{
    return !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
           !strcmp(v, "1");
}

static int is_false_word(const char *v)
{
    return !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
           !strcmp(v, "0");
}

/* Appends each ':'-separated entry, relative ones resolved against the ini's folder. */
static aglm_status add_dirs(parse_ctx *p, const char *value)
{
    const char *s = value;
    while (*s) {
        const char *end = strchr(s, ':');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len > 0) {
            char *dir;
            int n = s[0] == '/' ? asprintf(&dir, "%.*s", (int)len, s)
                                : asprintf(&dir, "%s/%.*s", p->base_dir, (int)len, s);
            if (n < 0)
                return AGLM_ERR_NOMEM;
            aglm_status st = host_config_add_dir(p->cfg, dir);
            free(dir);
            if (st != AGLM_OK)
                return st;
        }
        s += len;
        if (*s == ':')
            s++;
    }
    return AGLM_OK;
}

static host_section *section_for(host_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->num_plugins; i++)
        if (strcmp(cfg->plugins[i].name, name) == 0)
            return &cfg->plugins[i];
    host_section *grown = realloc(cfg->plugins, (cfg->num_plugins + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    cfg->plugins = grown;
    host_section *s = &grown[cfg->num_plugins];
    memset(s, 0, sizeof *s);
    if (!(s->name = strdup(name)))
        return NULL;
    cfg->num_plugins++;
    return s;
}

static void warn_unknown_section(parse_ctx *p, const char *section)
{
    for (size_t i = 0; i < p->num_warned; i++)
        if (strcmp(p->warned[i], section) == 0)
            return;
    char **grown = realloc(p->warned, (p->num_warned + 1) * sizeof *grown);
    if (!grown)
        return;
    p->warned = grown;
    if (!(grown[p->num_warned] = strdup(section)))
        return;
    p->num_warned++;
    host_log(AGLM_LOG_WARN, NULL, "%s:%d: unknown section [%s] ignored", p->path, p->line, section);
}

static int on_host_key(parse_ctx *p, const char *key, const char *value)
{
    aglm_status st = AGLM_OK;
    if (strcmp(key, "log_level") == 0) {
        int level = host_log_parse_level(value);
        if (level < 0) {
            note_error(p, AGLM_ERR_PARSE,
                       "log_level '%s' is not one of error, warn, info, debug, trace", value);
            return 0;
        }
        p->cfg->log_level = level;
    } else if (strcmp(key, "plugin_dirs") == 0) {
        st = add_dirs(p, value);
    }
    if (st == AGLM_OK)
        st = kv_set(&p->cfg->host_items, &p->cfg->num_host_items, key, value);
    if (st != AGLM_OK) {
        note_error(p, st, "out of memory");
        return 0;
    }
    return 1;
}

static int on_plugin_key(parse_ctx *p, const char *name, const char *key, const char *value)
{
    if (!host_plugin_name_valid(name)) {
        note_error(p, AGLM_ERR_PARSE,
                   "section [plugin.%s]: '%s' is not a plugin name ([a-z0-9_-], at most 63)", name,
                   name);
        return 0;
    }
    if (strcmp(key, "enabled") == 0 && !is_true_word(value) && !is_false_word(value)) {
        note_error(p, AGLM_ERR_PARSE, "enabled = '%s' is not true or false", value);
        return 0;
    }
    host_section *s = section_for(p->cfg, name);
    if (!s || kv_set(&s->items, &s->count, key, value) != AGLM_OK) {
        note_error(p, AGLM_ERR_NOMEM, "out of memory");
        return 0;
    }
    return 1;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx *p = user;
    if (!value)
        value = "";
    if (strcmp(section, "host") == 0)
        return on_host_key(p, key, value);
    if (strncmp(section, PLUGIN_PREFIX, strlen(PLUGIN_PREFIX)) == 0)
        return on_plugin_key(p, section + strlen(PLUGIN_PREFIX), key, value);
    if (strcmp(section, "admin") == 0)
        return 1; /* read by admin_config.c when the host serves */
    if (strcmp(section, "levels") == 0)
        return 1; /* read by levels.c */
    if (section[0] == '\0') {
        note_error(p, AGLM_ERR_PARSE, "key '%s' is outside any section", key);
        return 0;
    }
    warn_unknown_section(p, section);
    return 1;
}

aglm_status host_config_load(const char *path, host_config *cfg)
{
    if (!path || !cfg)
        return aglm_error(AGLM_ERR_INVALID, "host_config_load: NULL argument");
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = -1;

    parse_ctx p = {.cfg = cfg, .path = path};
    p.f = fopen(path, "r");
    if (!p.f)
        return aglm_error(AGLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));

    char *slash = strrchr(path, '/');
    char *folder = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    char resolved[PATH_MAX];
    if (folder && realpath(folder, resolved))
        p.base_dir = strdup(resolved);
    else if (folder)
        p.base_dir = strdup(folder);
    free(folder);
    cfg->path = strdup(path);
    if (!p.base_dir || !cfg->path) {
        fclose(p.f);
        free(p.base_dir);
        host_config_free(cfg);
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", path);
    }

    int rc = ini_parse_stream(read_line, &p, on_key, &p);
    int read_failed = ferror(p.f);
    fclose(p.f);
    free(p.base_dir);
    for (size_t i = 0; i < p.num_warned; i++)
        free(p.warned[i]);
    free(p.warned);

    aglm_status st = AGLM_OK;
    if (read_failed)
        st = aglm_error(AGLM_ERR_IO, "%s: read error", path);
    else if (rc == -2)
        st = aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", path);
    else if (p.err_line && (rc <= 0 || p.err_line <= rc))
        st = aglm_error(p.err_status, "%s:%d: %s", path, p.err_line, p.err);
    else if (rc > 0)
        st = aglm_error(AGLM_ERR_PARSE, "%s:%d: syntax error (expected [section] or key = value)",
                        path, rc);
    if (st != AGLM_OK)
        host_config_free(cfg);
    return st;
}

const host_section *host_config_plugin(const host_config *cfg, const char *name)
{
    if (!cfg || !name)
        return NULL;
    for (size_t i = 0; i < cfg->num_plugins; i++)
        if (strcmp(cfg->plugins[i].name, name) == 0)
            return &cfg->plugins[i];
    return NULL;
}

const char *host_section_get(const host_section *s, const char *key)
{
    if (!s || !key)
        return NULL;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i].key, key) == 0)
            return s->items[i].value;
    return NULL;
}

const char *host_config_get(const host_config *cfg, const char *key)
{
    if (!cfg || !key)
        return NULL;
    for (size_t i = 0; i < cfg->num_host_items; i++)
        if (strcmp(cfg->host_items[i].key, key) == 0)
            return cfg->host_items[i].value;
    return NULL;
}

aglm_status host_config_add_dir(host_config *cfg, const char *dir)
{
    if (!cfg || !dir || !*dir)
        return aglm_error(AGLM_ERR_INVALID, "host_config_add_dir: empty directory");
    char **grown = realloc(cfg->plugin_dirs, (cfg->num_plugin_dirs + 1) * sizeof *grown);
    if (!grown)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory adding plugin directory %s", dir);
    cfg->plugin_dirs = grown;
    if (!(grown[cfg->num_plugin_dirs] = strdup(dir)))
        return aglm_error(AGLM_ERR_NOMEM, "out of memory adding plugin directory %s", dir);
    cfg->num_plugin_dirs++;
    return AGLM_OK;
}

void host_config_free(host_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    for (size_t i = 0; i < cfg->num_plugin_dirs; i++)
        free(cfg->plugin_dirs[i]);
    free(cfg->plugin_dirs);
    kv_free(cfg->host_items, cfg->num_host_items);
    for (size_t i = 0; i < cfg->num_plugins; i++) {
        free(cfg->plugins[i].name);
        kv_free(cfg->plugins[i].items, cfg->plugins[i].count);
    }
    free(cfg->plugins);
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = -1;
}
