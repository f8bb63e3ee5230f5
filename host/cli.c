/* Parsing the aglm-host command line. Options take their value as the next argument or after
 * '=' (--config=FILE); everything after "--" is a key=value pipeline argument. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

const char host_cli_usage[] =
    "usage: aglm-host [options] --pipeline FILE [-- key=value ...]\n"
    "       aglm-host [options] --list-plugins | --list-levels\n"
    "       aglm-host --help | --version\n"
    "\n"
    "Compiles and runs neural-network models through plugins, driven by Lua pipeline scripts.\n"
    "\n"
    "actions:\n"
    "  --pipeline FILE      run the Lua pipeline FILE; arguments after \"--\" reach it as "
    "aglm.args\n"
    "  --list-plugins       list the plugins found: name, kind, version, state, references, file\n"
    "  --list-levels        list the optimisation levels O0..O3 and their passes, marking those "
    "not loaded\n"
    "  --help               show this help\n"
    "  --version            show the host, libaglm and plugin ABI versions\n"
    "\n"
    "options:\n"
    "  --config FILE        read FILE instead of ./etc/aglm.ini (or the installed aglm.ini)\n"
    "  --plugin-dir DIR     also load the plugins of DIR (repeatable)\n"
    "  --log-level LEVEL    error, warn, info, debug (adds Lua tracebacks) or trace\n"
    "\n"
    "environment:\n"
    "  AGLM_PLUGIN_PATH     ':'-separated plugin folders, scanned before --plugin-dir\n"
    "\n"
    "example:\n"
    "  aglm-host --pipeline scripts/cpu_fp32.lua -- model=m.yaml inputs=in outdir=out bench=10\n"
    "\n"
    "exit status: 0 success, 1 pipeline or run-time error, 2 usage error\n";

/* The value of option `name` at argv[*i]: "--name=value" or "--name value". NULL when absent. */
static const char *option_value(int argc, char **argv, int *i, const char *arg, const char *name,
                                int *matched)
{
    size_t len = strlen(name);
    *matched = 0;
    if (strncmp(arg, name, len) != 0)
        return NULL;
    if (arg[len] == '=') {
        *matched = 1;
        return arg + len + 1;
    }
    if (arg[len] != '\0')
        return NULL;
    *matched = 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int set_action(host_cli *cli, host_action a, const char *flag, char *err, size_t errlen)
{
    if (cli->action != HOST_ACTION_NONE && cli->action != a) {
        snprintf(err, errlen, "%s cannot be combined with another action", flag);
        return 2;
    }
    cli->action = a;
    return 0;
}

static int check_args(host_cli *cli, char *err, size_t errlen)
{
    for (int k = 0; k < cli->nargs; k++) {
        const char *eq = strchr(cli->args[k], '=');
        if (!eq || eq == cli->args[k]) {
            snprintf(err, errlen, "pipeline argument '%s' is not key=value", cli->args[k]);
            return 2;
        }
    }
    if (cli->nargs > 0 && cli->action != HOST_ACTION_PIPELINE) {
        snprintf(err, errlen, "arguments after \"--\" need --pipeline");
        return 2;
    }
    return 0;
}

int host_cli_parse(int argc, char **argv, host_cli *cli, char *err, size_t errlen)
{
    memset(cli, 0, sizeof *cli);
    cli->log_level = -1;
    cli->plugin_dirs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *cli->plugin_dirs);
    if (!cli->plugin_dirs) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *v;
        int m, rc = 0;
        if (strcmp(arg, "--") == 0) {
            cli->nargs = argc - i - 1;
            cli->args = argv + i + 1;
            break;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            cli->action = HOST_ACTION_HELP; /* wins over everything else */
            return 0;
        }
        if (strcmp(arg, "--version") == 0) {
            rc = set_action(cli, HOST_ACTION_VERSION, arg, err, errlen);
        } else if (strcmp(arg, "--list-plugins") == 0) {
            rc = set_action(cli, HOST_ACTION_LIST_PLUGINS, arg, err, errlen);
        } else if (strcmp(arg, "--list-levels") == 0) {
            rc = set_action(cli, HOST_ACTION_LIST_LEVELS, arg, err, errlen);
        } else if ((v = option_value(argc, argv, &i, arg, "--pipeline", &m)) || m) {
            if (!v || !*v) {
                snprintf(err, errlen, "--pipeline needs a FILE");
                return 2;
            }
            rc = set_action(cli, HOST_ACTION_PIPELINE, "--pipeline", err, errlen);
            cli->pipeline = v;
        } else if ((v = option_value(argc, argv, &i, arg, "--config", &m)) || m) {
            if (!v || !*v) {
                snprintf(err, errlen, "--config needs a FILE");
                return 2;
            }
            cli->config = v;
        } else if ((v = option_value(argc, argv, &i, arg, "--plugin-dir", &m)) || m) {
            if (!v || !*v) {
                snprintf(err, errlen, "--plugin-dir needs a DIR");
                return 2;
            }
            cli->plugin_dirs[cli->num_plugin_dirs++] = v;
        } else if ((v = option_value(argc, argv, &i, arg, "--log-level", &m)) || m) {
            if (!v || !*v) {
                snprintf(err, errlen,
                         "--log-level needs a LEVEL (error, warn, info, debug, trace)");
                return 2;
            }
            cli->log_level = host_log_parse_level(v);
            if (cli->log_level < 0) {
                snprintf(err, errlen, "unknown log level '%s' (error, warn, info, debug, trace)",
                         v);
                return 2;
            }
        } else if (arg[0] == '-' && arg[1] != '\0') {
            snprintf(err, errlen, "unknown option '%s'", arg);
            return 2;
        } else {
            snprintf(err, errlen, "unexpected argument '%s' (pipeline arguments go after \"--\")",
                     arg);
            return 2;
        }
        if (rc)
            return rc;
    }
    return check_args(cli, err, errlen);
}

void host_cli_free(host_cli *cli)
{
    free(cli->plugin_dirs);
    cli->plugin_dirs = NULL;
    cli->num_plugin_dirs = 0;
}
