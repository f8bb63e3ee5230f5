/* aglm-host: reads the configuration, loads the plugins and runs the action the command line
 * asks for; when a pipeline served models, keeps running as a service (service.h) until told to
 * stop. `aglm-host --ctl SOCKET COMMAND...` is the admin socket's client instead (ctl.h).
 * Exit status: 0 success, 1 pipeline or run-time error, 2 usage error. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aglm/aglm.h"
#include "cli.h"
#include "cli_paths.h"
#include "config.h"
#include "ctl.h"
#include "levels.h"
#include "levels_print.h"
#include "log.h"
#include "lua_runtime.h"
#include "lua_serve.h"
#include "registry.h"
#include "reload.h"
#include "served.h"
#include "service.h"

#define EXIT_USAGE 2

static int usage_error(const char *msg)
{
    fprintf(stderr, "aglm-host: %s\nTry 'aglm-host --help' for more information.\n", msg);
    return EXIT_USAGE;
}

/* Folders already scanned (by real path), so a folder named twice is read once rather than
 * refusing each of its plugins as a duplicate. */
typedef struct scanned {
    char **paths;
    size_t count;
    const char **watch; /* AGLM_PLUGIN_PATH and --plugin-dir folders, watched by a service */
    size_t num_watch;
} scanned;

static int seen_before(scanned *s, const char *dir)
{
    char *real = realpath(dir, NULL);
    if (!real)
        return 0; /* the scan reports the error */
    for (size_t i = 0; i < s->count; i++) {
        if (strcmp(s->paths[i], real) == 0) {
            free(real);
            return 1;
        }
    }
    char **grown = realloc(s->paths, (s->count + 1) * sizeof *grown);
    if (!grown) {
        free(real);
        return 0;
    }
    s->paths = grown;
    s->paths[s->count++] = real;
    return 0;
}

static void scan(host_registry *reg, scanned *s, const char *dir, const char *origin)
{
    int loaded = 0, failed = 0;
    if (seen_before(s, dir)) {
        host_log(AGLM_LOG_DEBUG, NULL, "plugin dir '%s' (%s) already scanned", dir, origin);
        return;
    }
    if (host_registry_load_dir(reg, dir, &loaded, &failed) != AGLM_OK) {
        host_log(AGLM_LOG_WARN, NULL, "plugin dir '%s' (%s): %s", dir, origin, aglm_last_error());
        return;
    }
    host_log(AGLM_LOG_INFO, NULL, "plugin dir '%s' (%s): %d loaded, %d refused", dir, origin,
             loaded, failed);
}

static void add_watch(scanned *s, const char *dir)
{
    char *copy = strdup(dir);
    const char **grown = copy ? realloc(s->watch, (s->num_watch + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(copy);
        return;
    }
    s->watch = grown;
    s->watch[s->num_watch++] = copy;
}

static void scanned_free(scanned *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->paths[i]);
    free(s->paths);
    for (size_t i = 0; i < s->num_watch; i++)
        free((char *)s->watch[i]);
    free(s->watch);
    memset(s, 0, sizeof *s);
}

/* The default folder, then [host] plugin_dirs, then AGLM_PLUGIN_PATH, then --plugin-dir. */
static void scan_plugin_dirs(host_registry *reg, const host_config *cfg, const host_cli *cli,
                             const char *exe_dir, scanned *out)
{
    scanned s = {0};
    char dir[PATH_MAX];
    if (host_default_plugin_dir(exe_dir, dir, sizeof dir))
        scan(reg, &s, dir, "default");
    else
        host_log(AGLM_LOG_INFO, NULL, "no default plugin dir beside '%s'", exe_dir ? exe_dir : "?");
    for (size_t i = 0; i < cfg->num_plugin_dirs; i++)
        scan(reg, &s, cfg->plugin_dirs[i], "config");
    const char *env = getenv("AGLM_PLUGIN_PATH");
    if (env) {
        char *copy = strdup(env), *save = NULL;
        for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
             d = strtok_r(NULL, ":", &save)) {
            scan(reg, &s, d, "AGLM_PLUGIN_PATH");
            add_watch(&s, d);
        }
        free(copy);
    }
    for (size_t i = 0; i < cli->num_plugin_dirs; i++) {
        scan(reg, &s, cli->plugin_dirs[i], "--plugin-dir");
        add_watch(&s, cli->plugin_dirs[i]);
    }
    *out = s;
}

static int list_plugins(host_registry *reg)
{
    host_plugin_info *rows = NULL;
    size_t count = 0;
    if (host_registry_list(reg, &rows, &count) != AGLM_OK) {
        fprintf(stderr, "aglm-host: listing plugins: %s\n", aglm_last_error());
        return 1;
    }
    host_plugin_widths w = host_plugin_list_widths(rows, count);
    printf("%-*s  %-*s  %-*s  %-*s  %4s  %s\n", w.name, "NAME", w.kind, "KIND", w.version,
           "VERSION", w.state, "STATE", "REFS", "FILE");
    for (size_t i = 0; i < count; i++)
        printf("%-*s  %-*s  %-*s  %-*s  %4ld  %s\n", w.name, rows[i].name, w.kind,
               aglm_plugin_kind_name(rows[i].kind), w.version, rows[i].version, w.state,
               host_plugin_state_name(rows[i].state), rows[i].refs, rows[i].file);
    free(rows);
    return 0;
}

static int run(const host_cli *cli)
{
    char exe_dir_buf[PATH_MAX], cfg_path[PATH_MAX];
    const char *exe_dir = host_exe_dir(exe_dir_buf, sizeof exe_dir_buf) == 0 ? exe_dir_buf : NULL;
    host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log_level = -1;

    const char *path = cli->config;
    if (!path && host_find_config(exe_dir, cfg_path, sizeof cfg_path))
        path = cfg_path;
    if (path && host_config_load(path, &cfg) != AGLM_OK) {
        fprintf(stderr, "aglm-host: %s\n", aglm_last_error());
        host_config_free(&cfg);
        return 1;
    }
    host_levels levels;
    if (host_levels_read(path, &levels) != AGLM_OK) {
        fprintf(stderr, "aglm-host: %s\n", aglm_last_error());
        host_config_free(&cfg);
        return 1;
    }
    host_levels_set(&levels);
    if (cli->log_level < 0 && cfg.log_level >= 0)
        host_log_set_level((aglm_log_level)cfg.log_level);
    host_log(AGLM_LOG_DEBUG, NULL, "config: %s", path ? path : "built-in defaults");

    host_registry *reg = NULL;
    if (host_registry_new(&cfg, &reg) != AGLM_OK) {
        fprintf(stderr, "aglm-host: %s\n", aglm_last_error());
        host_config_free(&cfg);
        return 1;
    }
    scanned dirs = {0};
    scan_plugin_dirs(reg, &cfg, cli, exe_dir, &dirs);

    int rc;
    if (cli->action == HOST_ACTION_LIST_PLUGINS) {
        rc = list_plugins(reg);
    } else if (cli->action == HOST_ACTION_LIST_LEVELS) {
        host_levels_print(reg, path, stdout);
        rc = 0;
    } else {
        host_served *served = NULL;
        if (host_served_new(reg, &served) != AGLM_OK) {
            fprintf(stderr, "aglm-host: %s\n", aglm_last_error());
            rc = 1;
        } else {
            host_lua_bind_served(served);
            rc = host_lua_run_pipeline(reg, cli->pipeline, cli->nargs, cli->args);
            char admin[108];
            if (rc == 0 && host_lua_service_wanted(admin, sizeof admin)) {
                fflush(stdout);
                host_config *live = &cfg; /* SIGHUP points it at the reloaded config */
                host_service_options so = {
                    .reg = reg,
                    .config = &live,
                    .served = served,
                    .admin_socket = admin,
                    .plugin_dirs = (const char *const *)dirs.paths,
                    .num_plugin_dirs = dirs.count,
                    .watch_dirs = dirs.watch,
                    .num_watch_dirs = dirs.num_watch,
                };
                rc = host_service_run(&so);
            }
            host_lua_bind_served(NULL);
            host_served_free(served); /* executables go before the backends they hold */
        }
    }
    fflush(stdout);
    host_registry_free(reg);
    host_config_reload_fini();
    host_config_free(&cfg);
    scanned_free(&dirs);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--ctl") == 0)
        return host_ctl_main(argc - 2, argv + 2);
    host_cli cli;
    char err[512];
    if (host_cli_parse(argc, argv, &cli, err, sizeof err) != 0) {
        host_cli_free(&cli);
        return usage_error(err);
    }
    int rc = 0;
    switch (cli.action) {
    case HOST_ACTION_HELP:
        fputs(host_cli_usage, stdout);
        fputs("\nadmin client:\n", stdout);
        fputs(host_ctl_usage, stdout);
        break;
    case HOST_ACTION_VERSION:
        printf("aglm-host %s (libaglm %s, plugin ABI %d.%d)\n", AGLM_VERSION_STRING, aglm_version(),
               AGLM_ABI_MAJOR, AGLM_ABI_MINOR);
        break;
    case HOST_ACTION_NONE:
        fputs(host_cli_usage, stderr);
        rc = EXIT_USAGE;
        break;
    default:
        /* Until the config says otherwise; --log-level wins over the config. */
        host_log_set_level(cli.log_level >= 0 ? (aglm_log_level)cli.log_level : AGLM_LOG_WARN);
        host_signals_init(); /* before plugins start threads, so each inherits the blocked mask */
        rc = run(&cli);
        break;
    }
    host_cli_free(&cli);
    return rc;
}
