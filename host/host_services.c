/* The aglm_host table: what a plugin may ask of the host. Every entry checks its arguments,
 * since plugins are third-party code. */
#include "host_services.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "registry.h"

static host_services *impl_of(const aglm_host *h)
{
    return h ? (host_services *)h->impl : NULL;
}

static void svc_log(const aglm_host *h, aglm_log_level level, const char *fmt, ...)
{
    host_services *s = impl_of(h);
    if (!fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    host_logv(level, s ? s->name : NULL, fmt, ap);
    va_end(ap);
}

static const char *svc_config(const aglm_host *h, const char *key)
{
    host_services *s = impl_of(h);
    return s ? host_section_get(s->section, key) : NULL;
}

static size_t svc_config_count(const aglm_host *h)
{
    host_services *s = impl_of(h);
    return s && s->section ? s->section->count : 0;
}

static const char *svc_config_key(const aglm_host *h, size_t i)
{
    host_services *s = impl_of(h);
    return s && s->section && i < s->section->count ? s->section->items[i].key : NULL;
}

static aglm_plugin_ref *svc_acquire(const aglm_host *h, const char *name, aglm_plugin_kind kind)
{
    host_services *s = impl_of(h);
    if (!s || !name) {
        aglm_error(AGLM_ERR_INVALID, "acquire: NULL argument");
        return NULL;
    }
    if (!s->reg) {
        aglm_error(AGLM_ERR_STATE, "acquire '%s': the host is shutting down", name);
        return NULL;
    }
    return host_registry_acquire(s->reg, name, kind);
}

static void svc_release(const aglm_host *h, aglm_plugin_ref *ref)
{
    (void)h;
    host_registry_release(ref);
}

static const aglm_plugin_desc *svc_ref_desc(const aglm_plugin_ref *ref)
{
    return host_ref_desc(ref);
}

static void *svc_ref_state(const aglm_plugin_ref *ref)
{
    return host_ref_state(ref);
}

static void svc_metric(const aglm_host *h, const char *name, double value)
{
    host_services *s = impl_of(h);
    if (!s || !name || !*name)
        return;
    pthread_mutex_lock(&s->metrics_lock);
    size_t i = 0;
    while (i < s->num_metrics && strcmp(s->metrics[i].name, name) != 0)
        i++;
    if (i == s->num_metrics) {
        host_metric *grown = realloc(s->metrics, (s->num_metrics + 1) * sizeof *grown);
        char *copy = grown ? strdup(name) : NULL;
        if (grown)
            s->metrics = grown;
        if (!copy) { /* a counter lost to memory pressure is not worth failing the caller */
            pthread_mutex_unlock(&s->metrics_lock);
            return;
        }
        grown[i].name = copy;
        grown[i].value = 0;
        s->num_metrics++;
    }
    s->metrics[i].value += value;
    pthread_mutex_unlock(&s->metrics_lock);
}

aglm_status host_services_init(host_services *s, struct host_registry *reg,
                               const host_section *section, const char *name)
{
    memset(s, 0, sizeof *s);
    if (pthread_mutex_init(&s->metrics_lock, NULL) != 0)
        return aglm_error(AGLM_ERR_INTERNAL, "plugin '%s': cannot create a mutex", name);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->reg = reg;
    s->section = section;
    s->table = (aglm_host){
        .struct_size = sizeof(aglm_host),
        .abi_major = AGLM_ABI_MAJOR,
        .abi_minor = AGLM_ABI_MINOR,
        .plugin_name = s->name,
        .log = svc_log,
        .config = svc_config,
        .config_count = svc_config_count,
        .config_key = svc_config_key,
        .acquire = svc_acquire,
        .release = svc_release,
        .ref_desc = svc_ref_desc,
        .ref_state = svc_ref_state,
        .metric = svc_metric,
        .impl = s,
    };
    return AGLM_OK;
}

void host_services_detach(host_services *s)
{
    s->reg = NULL;
    s->section = NULL;
}

void host_metrics_free(host_metric *m, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(m[i].name);
    free(m);
}

aglm_status host_services_metrics(host_services *s, host_metric **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    pthread_mutex_lock(&s->metrics_lock);
    host_metric *m = s->num_metrics ? calloc(s->num_metrics, sizeof *m) : NULL;
    size_t n = 0;
    for (; m && n < s->num_metrics; n++) {
        if (!(m[n].name = strdup(s->metrics[n].name)))
            break;
        m[n].value = s->metrics[n].value;
    }
    size_t want = s->num_metrics;
    pthread_mutex_unlock(&s->metrics_lock);
    if (n < want) {
        host_metrics_free(m, n);
        return aglm_error(AGLM_ERR_NOMEM, "plugin '%s': out of memory copying metrics", s->name);
    }
    *out = m;
    *count = n;
    return AGLM_OK;
}

void host_services_fini(host_services *s)
{
    host_metrics_free(s->metrics, s->num_metrics);
    s->metrics = NULL;
    s->num_metrics = 0;
    pthread_mutex_destroy(&s->metrics_lock);
}
