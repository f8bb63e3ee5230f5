/* Applying a re-read aglm.ini. The new config is complete and checked before anything changes, so
 * a broken file leaves the host exactly as it was. */
#include "reload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* Every config a reload made: started plugins hold pointers into their sections. */
static pthread_mutex_t owned_lock = PTHREAD_MUTEX_INITIALIZER;
static host_config **owned;
static size_t num_owned;

static aglm_status keep(host_config *cfg)
{
    pthread_mutex_lock(&owned_lock);
    host_config **grown = realloc(owned, (num_owned + 1) * sizeof *grown);
    if (grown) {
        owned = grown;
        owned[num_owned++] = cfg;
    }
    pthread_mutex_unlock(&owned_lock);
    return grown ? AGLM_OK : aglm_error(AGLM_ERR_NOMEM, "out of memory reloading %s", cfg->path);
}

void host_config_reload_fini(void)
{
    pthread_mutex_lock(&owned_lock);
    for (size_t i = 0; i < num_owned; i++) {
        host_config_free(owned[i]);
        free(owned[i]);
    }
    free(owned);
    owned = NULL;
    num_owned = 0;
    pthread_mutex_unlock(&owned_lock);
}

static const char *const LIVE_HOST_KEYS[] = {"log_level", "plugin_dirs", "unload_on_remove"};

static int is_live_key(const char *key)
{
    for (size_t i = 0; i < sizeof LIVE_HOST_KEYS / sizeof *LIVE_HOST_KEYS; i++)
        if (strcmp(key, LIVE_HOST_KEYS[i]) == 0)
            return 1;
    return 0;
}

static int same_value(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Logs each [host] key that changed and cannot be applied live. */
static void report_restart_keys(const host_config *old, const host_config *new)
{
    for (size_t i = 0; i < new->num_host_items; i++) {
        const host_kv *kv = &new->host_items[i];
        if (!is_live_key(kv->key) && !same_value(host_config_get(old, kv->key), kv->value))
            host_log(AGLM_LOG_WARN, NULL,
                     "reload: [host] %s changed; it takes effect after a restart", kv->key);
    }
    for (size_t i = 0; i < old->num_host_items; i++) {
        const host_kv *kv = &old->host_items[i];
        if (!is_live_key(kv->key) && !host_config_get(new, kv->key))
            host_log(AGLM_LOG_WARN, NULL,
                     "reload: [host] %s removed; that takes effect after a restart", kv->key);
    }
}

static int dir_listed(const host_config *cfg, const char *real)
{
    int found = 0;
    for (size_t i = 0; i < cfg->num_plugin_dirs && !found; i++) {
        char *r = realpath(cfg->plugin_dirs[i], NULL);
        found = r ? strcmp(r, real) == 0 : strcmp(cfg->plugin_dirs[i], real) == 0;
        free(r);
    }
    return found;
}

static void apply_dirs(host_registry *reg, const host_config *old, const host_config *new)
{
    for (size_t i = 0; i < new->num_plugin_dirs; i++) {
        const char *dir = new->plugin_dirs[i];
        char *real = realpath(dir, NULL);
        if (dir_listed(old, real ? real : dir)) {
            free(real);
            continue;
        }
        free(real);
        int loaded = 0, failed = 0;
        if (host_registry_load_dir(reg, dir, &loaded, &failed) != AGLM_OK)
            host_log(AGLM_LOG_WARN, NULL, "reload: new plugin dir %s: %s", dir, aglm_last_error());
        else
            host_log(AGLM_LOG_INFO, NULL, "reload: new plugin dir %s: %d loaded, %d refused", dir,
                     loaded, failed);
    }
    for (size_t i = 0; i < old->num_plugin_dirs; i++) {
        const char *dir = old->plugin_dirs[i];
        char *real = realpath(dir, NULL);
        if (!dir_listed(new, real ? real : dir))
            host_log(AGLM_LOG_INFO, NULL,
                     "reload: plugin dir %s is no longer configured; its plugins stay loaded", dir);
        free(real);
    }
}

static int same_section(const host_section *a, const host_section *b)
{
    size_t na = a ? a->count : 0, nb = b ? b->count : 0;
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!same_value(a->items[i].value, host_section_get(b, a->items[i].key)))
            return 0;
    return 1;
}

static int disabled(const host_section *s)
{
    const char *v = host_section_get(s, "enabled");
    return v && (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
                 !strcmp(v, "0"));
}

/* Re-initialises (or unloads) one started plugin whose section changed. */
static void apply_section(host_registry *reg, const char *name, const host_section *now)
{
    if (disabled(now)) {
        int deferred = 0;
        if (host_registry_unload(reg, name, &deferred) != AGLM_OK)
            host_log(AGLM_LOG_WARN, NULL,
                     "reload: [plugin.%s] now says enabled = false, but unloading it failed: %s",
                     name, aglm_last_error());
        else
            host_log(AGLM_LOG_INFO, NULL,
                     "reload: [plugin.%s] now says enabled = false: plugin unloaded%s", name,
                     deferred ? " (draining: references are still held)" : "");
        return;
    }
    if (host_registry_replace(reg, name, NULL) != AGLM_OK)
        host_log(AGLM_LOG_WARN, NULL,
                 "reload: [plugin.%s] changed, but re-initialising it failed; the old version "
                 "keeps serving: %s",
                 name, aglm_last_error());
    else
        host_log(AGLM_LOG_INFO, NULL, "reload: [plugin.%s] changed: plugin re-initialised with it",
                 name);
}

static void apply_sections(host_registry *reg, const host_config *old, const host_config *new)
{
    host_plugin_info *rows;
    size_t n;
    if (host_registry_list(reg, &rows, &n) != AGLM_OK) {
        host_log(AGLM_LOG_WARN, NULL, "reload: cannot list plugins to apply their sections: %s",
                 aglm_last_error());
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (rows[i].state != HOST_PLUGIN_STARTED)
            continue;
        const host_section *was = host_config_plugin(old, rows[i].name);
        const host_section *now = host_config_plugin(new, rows[i].name);
        if (!same_section(was, now))
            apply_section(reg, rows[i].name, now);
    }
    /* A section for a plugin that is not loaded changes nothing now; say so, it may be a typo. */
    for (size_t i = 0; i < new->num_plugins; i++) {
        const host_section *s = &new->plugins[i];
        int loaded = 0;
        for (size_t j = 0; j < n && !loaded; j++)
            loaded = rows[j].state == HOST_PLUGIN_STARTED && strcmp(rows[j].name, s->name) == 0;
        if (!loaded && !same_section(host_config_plugin(old, s->name), s))
            host_log(AGLM_LOG_INFO, NULL,
                     "reload: [plugin.%s] changed; no plugin '%s' is loaded, it applies when "
                     "one is",
                     s->name, s->name);
    }
    free(rows);
}

aglm_status host_config_reload_watched(host_registry *reg, host_watch *watch, host_config **cfg,
                                       const char *path)
{
    if (!reg || !cfg || !*cfg)
        return aglm_error(AGLM_ERR_INVALID, "host_config_reload: NULL argument");
    host_config *old = *cfg;
    if (!path)
        path = old->path;
    if (!path)
        return aglm_error(AGLM_ERR_INVALID,
                          "reload: the host runs on built-in defaults; there is no aglm.ini to "
                          "re-read");
    host_config *new = calloc(1, sizeof *new);
    if (!new)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory reloading %s", path);
    aglm_status st = host_config_load(path, new);
    if (st == AGLM_OK)
        st = keep(new);
    else
        st = aglm_error_wrap(st, "reload");
    if (st != AGLM_OK) {
        host_config_free(new);
        free(new);
        return st;
    }
    host_log(AGLM_LOG_INFO, NULL, "reload: re-read %s", path);

    if (new->log_level >= 0 && new->log_level != old->log_level) {
        host_log_set_level((aglm_log_level) new->log_level);
        host_log(AGLM_LOG_INFO, NULL, "reload: log level is now %s",
                 host_config_get(new, "log_level"));
    }
    report_restart_keys(old, new);
    /* New loads must see the new sections before new folders are scanned. */
    host_registry_set_config(reg, new);
    if (watch)
        host_watch_apply_config(watch, new); /* logs its own refusals */
    apply_dirs(reg, old, new);
    apply_sections(reg, old, new);
    *cfg = new;
    return AGLM_OK;
}

aglm_status host_config_reload(host_registry *reg, host_config **cfg, const char *path)
{
    return host_config_reload_watched(reg, NULL, cfg, path);
}
