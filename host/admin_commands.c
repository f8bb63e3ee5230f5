/* The admin commands (admin_commands.h). Each handler appends its lines to the reply and
 * returns a status; host_admin_execute adds the final OK or ERR. No command runs a shell: files
 * are opened by the registry, npy reader and Lua runtime directly. */
#include "admin_commands.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin_parse.h"
#include "host_services.h"
#include "log.h"
#include "lua_runtime.h"
#include "lua_serve.h"

typedef aglm_status (*handler)(const host_admin_context *ctx, const host_admin_request *req,
                               host_admin_reply *r);

/* ---- paths ---------------------------------------------------------------------------------- */

static int inside(const char *real, const char *dir)
{
    char rdir[PATH_MAX];
    if (!realpath(dir, rdir))
        return 0;
    size_t n = strlen(rdir);
    if (n == 1 && rdir[0] == '/')
        return 1;
    return strncmp(real, rdir, n) == 0 && real[n] == '/';
}

int host_admin_path_allowed(const host_admin_context *ctx, const char *path, char *resolved)
{
    if (!realpath(path, resolved)) {
        aglm_error(AGLM_ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
        return 0;
    }
    struct stat sb;
    if (stat(resolved, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        aglm_error(AGLM_ERR_INVALID, "%s: not a regular file", path);
        return 0;
    }
    if (ctx->admin && ctx->admin->allow_any_path)
        return 1;
    for (size_t i = 0; i < ctx->num_plugin_dirs; i++)
        if (inside(resolved, ctx->plugin_dirs[i]))
            return 1;
    int ok = 0;
    if (ctx->config_lock)
        pthread_mutex_lock(ctx->config_lock);
    const host_config *cfg = ctx->config ? *ctx->config : NULL;
    for (size_t i = 0; cfg && !ok && i < cfg->num_plugin_dirs; i++)
        ok = inside(resolved, cfg->plugin_dirs[i]);
    if (ctx->config_lock)
        pthread_mutex_unlock(ctx->config_lock);
    if (!ok)
        aglm_error(
            AGLM_ERR_STATE,
            "%s: outside the plugin directories (set [admin] allow_any_path = true to allow it)",
            path);
    return ok;
}

/* ---- commands ------------------------------------------------------------------------------- */

static aglm_status cmd_help(const host_admin_context *ctx, const host_admin_request *req,
                            host_admin_reply *r)
{
    (void)ctx;
    if (req->npos == 1) {
        const host_admin_command *c = host_admin_find_command(req->pos[0]);
        if (!c)
            return aglm_error(AGLM_ERR_NOT_FOUND, "help: unknown command '%.64s'", req->pos[0]);
        host_admin_reply_line(r, "%s", c->usage);
        host_admin_reply_line(r, "  %s", c->summary);
        return AGLM_OK;
    }
    for (const host_admin_command *c = host_admin_commands; c->name; c++)
        host_admin_reply_line(r, "%-40s %s", c->usage, c->summary);
    return AGLM_OK;
}

static aglm_status cmd_plugins(const host_admin_context *ctx, const host_admin_request *req,
                               host_admin_reply *r)
{
    (void)req;
    host_plugin_info *rows = NULL;
    size_t n = 0;
    aglm_status st = host_registry_list(ctx->reg, &rows, &n);
    if (st != AGLM_OK)
        return st;
    host_plugin_widths w = host_plugin_list_widths(rows, n);
    host_admin_reply_line(r, "%-*s  %-*s  %-*s  %-*s  %4s  %3s  %s", w.name, "NAME", w.kind, "KIND",
                          w.version, "VERSION", w.state, "STATE", "REFS", "GEN", "FILE");
    for (size_t i = 0; i < n; i++)
        host_admin_reply_line(r, "%-*s  %-*s  %-*s  %-*s  %4ld  %3u  %s", w.name, rows[i].name,
                              w.kind, aglm_plugin_kind_name(rows[i].kind), w.version,
                              rows[i].version, w.state, host_plugin_state_name(rows[i].state),
                              rows[i].refs, rows[i].generation, rows[i].file);
    free(rows);
    return AGLM_OK;
}

static aglm_status cmd_load(const host_admin_context *ctx, const host_admin_request *req,
                            host_admin_reply *r)
{
    char real[PATH_MAX], name[64] = "";
    if (!host_admin_path_allowed(ctx, req->pos[0], real))
        return AGLM_ERR_STATE;
    aglm_status st = host_registry_load(ctx->reg, real, name);
    if (st != AGLM_OK)
        return st;
    aglm_plugin_ref *ref = host_registry_acquire(ctx->reg, name, 0);
    host_admin_reply_line(r, "loaded %s: generation %u from %s", name,
                          ref ? host_ref_generation(ref) : 0, real);
    host_registry_release(ref);
    return AGLM_OK;
}

static aglm_status cmd_unload(const host_admin_context *ctx, const host_admin_request *req,
                              host_admin_reply *r)
{
    int deferred = 0;
    aglm_status st = host_registry_unload(ctx->reg, req->pos[0], &deferred);
    if (st != AGLM_OK)
        return st;
    if (deferred)
        host_admin_reply_line(r, "unloaded %s: draining until its last reference goes",
                              req->pos[0]);
    else
        host_admin_reply_line(r, "unloaded %s", req->pos[0]);
    return AGLM_OK;
}

static void follow_failed(void *ctx, const char *model, const char *backend, unsigned generation,
                          aglm_status st, const char *error)
{
    (void)generation;
    if (st != AGLM_OK)
        host_admin_reply_line(ctx, "model %s: stays on its old version of %s: %s", model, backend,
                              error);
}

/* After a backend's replace: where each served model compiled for it runs now. The follower
 * thread may have switched some already; host_served_follow does the rest now. */
static void report_followers(const host_admin_context *ctx, const char *backend,
                             host_admin_reply *r)
{
    host_served_follow(ctx->served, follow_failed, r);
    host_served_info *rows = NULL;
    size_t n = 0;
    if (host_served_list(ctx->served, &rows, &n) != AGLM_OK)
        return;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].backend, backend) == 0)
            host_admin_reply_line(r, "model %s: on %s generation %u", rows[i].name, backend,
                                  rows[i].generation);
    free(rows);
}

static aglm_status cmd_replace(const host_admin_context *ctx, const host_admin_request *req,
                               host_admin_reply *r)
{
    const char *name = req->pos[0];
    char real[PATH_MAX];
    if (req->npos == 2 && !host_admin_path_allowed(ctx, req->pos[1], real))
        return AGLM_ERR_STATE;
    aglm_status st = host_registry_replace(ctx->reg, name, req->npos == 2 ? real : NULL);
    if (st != AGLM_OK)
        return st;
    aglm_plugin_ref *ref = host_registry_acquire(ctx->reg, name, 0);
    int backend = ref && host_ref_desc(ref)->kind == AGLM_KIND_BACKEND;
    host_admin_reply_line(r, "replaced %s: generation %u", name,
                          ref ? host_ref_generation(ref) : 0);
    host_registry_release(ref);
    /* served models follow now rather than at the follower's next look, so the reply says */
    if (backend && ctx->served)
        report_followers(ctx, name, r);
    return AGLM_OK;
}

static aglm_status cmd_models(const host_admin_context *ctx, const host_admin_request *req,
                              host_admin_reply *r)
{
    (void)req;
    host_served_info *rows = NULL;
    size_t n = 0;
    if (!ctx->served)
        return aglm_error(AGLM_ERR_STATE, "this host serves no models");
    aglm_status st = host_served_list(ctx->served, &rows, &n);
    if (st != AGLM_OK)
        return st;
    host_admin_reply_line(r, "%-20s  %-12s  %3s  %5s  %s", "MODEL", "BACKEND", "GEN", "LEVEL",
                          "INPUTS");
    for (size_t i = 0; i < n; i++)
        host_admin_reply_line(r, "%-20s  %-12s  %3u  O%-4d  %s", rows[i].name, rows[i].backend,
                              rows[i].generation, rows[i].level, rows[i].inputs);
    free(rows);
    return AGLM_OK;
}

static void output_line(void *ctx, const char *name, const char *type, const char *path)
{
    host_admin_reply_line(ctx, "output %s: %s -> %s", name, type, path);
}

static aglm_status cmd_infer(const host_admin_context *ctx, const host_admin_request *req,
                             host_admin_reply *r)
{
    if (!ctx->served)
        return aglm_error(AGLM_ERR_STATE, "this host serves no models");
    return host_served_infer_files(ctx->served, req->pos[0], host_admin_option(req, "inputs"),
                                   host_admin_option(req, "outdir"), output_line, r);
}

static aglm_status cmd_recompile(const host_admin_context *ctx, const host_admin_request *req,
                                 host_admin_reply *r)
{
    if (!ctx->served)
        return aglm_error(AGLM_ERR_STATE, "this host serves no models");
    const char *lv = host_admin_option(req, "level");
    int level = lv ? host_served_parse_level(lv) : -1;
    if (lv && level < 0)
        return aglm_error(AGLM_ERR_INVALID, "recompile: level '%.32s' is not O0, O1, O2 or O3", lv);
    host_served_info info;
    aglm_status st = host_served_recompile(ctx->served, req->pos[0],
                                           host_admin_option(req, "backend"), level, &info);
    if (st != AGLM_OK)
        return st;
    host_admin_reply_line(r, "model %s: on %s generation %u at O%d", info.name, info.backend,
                          info.generation, info.level);
    return AGLM_OK;
}

static void capture(void *ctx, const char *text, size_t len)
{
    host_admin_reply_text(ctx, text, len);
}

static aglm_status cmd_run(const host_admin_context *ctx, const host_admin_request *req,
                           host_admin_reply *r)
{
    const char *script = req->pos[0];
    struct stat sb;
    if (stat(script, &sb) != 0)
        return aglm_error(AGLM_ERR_NOT_FOUND, "run: %s: %s", script, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return aglm_error(AGLM_ERR_INVALID, "run: %s: not a regular file", script);
    char *argv[HOST_ADMIN_MAX_ARGS];
    int argc = 0;
    aglm_status st = AGLM_OK;
    for (int i = 0; i < req->nopt; i++) {
        if (asprintf(&argv[argc], "%s=%s", req->opt_key[i], req->opt_value[i]) < 0) {
            st = aglm_error(AGLM_ERR_NOMEM, "run: out of memory");
            break;
        }
        argc++;
    }
    if (st == AGLM_OK) {
        host_log(AGLM_LOG_INFO, NULL, "admin: running script '%s'", script);
        host_lua_capture_print(capture, r);
        int rc = host_lua_run_pipeline(ctx->reg, script, argc, argv);
        host_lua_capture_print(NULL, NULL);
        if (rc != 0)
            st = aglm_error(AGLM_ERR_INVALID, "run: %s", aglm_last_error());
    }
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return st;
}

static aglm_status cmd_stats(const host_admin_context *ctx, const host_admin_request *req,
                             host_admin_reply *r)
{
    (void)req;
    host_served_info *models = NULL;
    size_t nm = 0;
    if (ctx->served && host_served_list(ctx->served, &models, &nm) != AGLM_OK)
        return AGLM_ERR_NOMEM;
    for (size_t i = 0; i < nm; i++) {
        const host_served_info *m = &models[i];
        host_admin_reply_line(
            r,
            "model %s requests=%llu errors=%llu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
            "backend=%s generation=%u level=O%d compiles=%llu",
            m->name, (unsigned long long)m->requests, (unsigned long long)m->errors, m->p50_ms,
            m->p90_ms, m->p99_ms, m->max_ms, m->backend, m->generation, m->level,
            (unsigned long long)m->compiles);
    }
    free(models);
    host_plugin_info *rows = NULL;
    size_t n = 0;
    aglm_status st = host_registry_list(ctx->reg, &rows, &n);
    if (st != AGLM_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        char metrics[1024] = "";
        size_t len = 0;
        host_metric *mv = NULL;
        size_t nmv = 0;
        if (rows[i].state == HOST_PLUGIN_STARTED &&
            host_registry_metrics(ctx->reg, rows[i].name, &mv, &nmv) == AGLM_OK) {
            for (size_t k = 0; k < nmv && len < sizeof metrics; k++)
                len += (size_t)snprintf(metrics + len, sizeof metrics - len, " %s=%g", mv[k].name,
                                        mv[k].value);
            host_metrics_free(mv, nmv);
        }
        host_admin_reply_line(r, "plugin %s generation=%u state=%s refs=%ld%s", rows[i].name,
                              rows[i].generation, host_plugin_state_name(rows[i].state),
                              rows[i].refs, metrics);
    }
    free(rows);
    return AGLM_OK;
}

static aglm_status cmd_log_level(const host_admin_context *ctx, const host_admin_request *req,
                                 host_admin_reply *r)
{
    (void)ctx;
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    if (req->npos == 1) {
        int level = host_log_parse_level(req->pos[0]);
        if (level < 0)
            return aglm_error(AGLM_ERR_INVALID,
                              "log-level: '%.32s' is not error, warn, info, debug or trace",
                              req->pos[0]);
        host_log_set_level((aglm_log_level)level);
        host_log(AGLM_LOG_INFO, NULL, "admin: log level set to %s", names[level]);
    }
    host_admin_reply_line(r, "log-level %s", names[host_log_level()]);
    return AGLM_OK;
}

static aglm_status cmd_shutdown(const host_admin_context *ctx, const host_admin_request *req,
                                host_admin_reply *r)
{
    (void)req;
    if (!ctx->shutdown)
        return aglm_error(AGLM_ERR_STATE, "shutdown: this host has no service to stop");
    host_log(AGLM_LOG_INFO, NULL, "admin: shutdown requested");
    host_admin_reply_line(r, "shutting down: draining requests in flight");
    ctx->shutdown(ctx->shutdown_ctx);
    return AGLM_OK;
}

static const handler handlers[] = {
    [HOST_ADMIN_HELP] = cmd_help,
    [HOST_ADMIN_PLUGINS] = cmd_plugins,
    [HOST_ADMIN_LOAD] = cmd_load,
    [HOST_ADMIN_UNLOAD] = cmd_unload,
    [HOST_ADMIN_REPLACE] = cmd_replace,
    [HOST_ADMIN_MODELS] = cmd_models,
    [HOST_ADMIN_INFER] = cmd_infer,
    [HOST_ADMIN_RECOMPILE] = cmd_recompile,
    [HOST_ADMIN_RUN] = cmd_run,
    [HOST_ADMIN_STATS] = cmd_stats,
    [HOST_ADMIN_LOG_LEVEL] = cmd_log_level,
    [HOST_ADMIN_SHUTDOWN] = cmd_shutdown,
};

aglm_status host_admin_execute(const host_admin_context *ctx, const char *line, size_t len,
                               host_admin_reply *r)
{
    static _Thread_local host_admin_request req; /* 4 KiB+; off the client thread's stack */
    aglm_clear_error();
    aglm_status st = host_admin_parse(line, len, &req);
    if (st == AGLM_OK) {
        size_t mark = r->len;
        aglm_clear_error();
        st = handlers[req.cmd->op](ctx, &req, r);
        if (st != AGLM_OK && r->len > mark && req.cmd->op != HOST_ADMIN_RUN &&
            req.cmd->op != HOST_ADMIN_REPLACE) {
            r->len = mark; /* a failed command's partial lines would only confuse */
            if (r->buf)
                r->buf[mark] = '\0';
        }
        if (st != AGLM_OK && !*aglm_last_error())
            aglm_error(st, "%s failed (%s)", req.cmd->name, aglm_status_str(st));
        if (st != AGLM_OK)
            host_log(AGLM_LOG_INFO, NULL, "admin: %s: %s", req.cmd->name, aglm_last_error());
    }
    if (r->oom) {
        host_admin_reply_free(r);
        host_admin_reply_line(r, "ERR out of memory");
        return AGLM_ERR_NOMEM;
    }
    if (st == AGLM_OK)
        host_admin_reply_line(r, "OK");
    else
        host_admin_reply_err(r, aglm_last_error());
    return st;
}
