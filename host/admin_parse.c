/* The admin command parser (admin_parse.h). Words are copied into the request's own buffer, each
 * terminated, so the request outlives the line and nothing is allocated. */
#include "admin_parse.h"

#include <string.h>

static const char *const any_key[] = {"*", NULL};
static const char *const infer_keys[] = {"inputs", "outdir", NULL};
static const char *const recompile_keys[] = {"backend", "level", NULL};

const host_admin_command host_admin_commands[] = {
    {"help", HOST_ADMIN_HELP, 0, 1, NULL, NULL, "help [COMMAND]",
     "list the commands, or explain one"},
    {"plugins", HOST_ADMIN_PLUGINS, 0, 0, NULL, NULL, "plugins",
     "list plugins: name, kind, version, state, references, generation, file"},
    {"load", HOST_ADMIN_LOAD, 1, 1, NULL, NULL, "load PATH",
     "load, init and start the plugin in PATH"},
    {"unload", HOST_ADMIN_UNLOAD, 1, 1, NULL, NULL, "unload NAME",
     "unload plugin NAME (it drains while references are held)"},
    {"replace", HOST_ADMIN_REPLACE, 1, 2, NULL, NULL, "replace NAME [PATH]",
     "hot-replace plugin NAME with PATH (default: its own file, re-read)"},
    {"models", HOST_ADMIN_MODELS, 0, 0, NULL, NULL, "models",
     "list served models: backend, generation, level"},
    {"infer", HOST_ADMIN_INFER, 1, 1, infer_keys, infer_keys, "infer MODEL inputs=DIR outdir=DIR",
     "run MODEL on DIR/<input>.npy, write DIR/<output>.npy"},
    {"recompile", HOST_ADMIN_RECOMPILE, 1, 1, recompile_keys, NULL,
     "recompile MODEL [backend=B] [level=L]", "compile MODEL again and switch to it once ready"},
    {"run", HOST_ADMIN_RUN, 1, 1, any_key, NULL, "run SCRIPT [key=value ...]",
     "run a Lua pipeline script in the host; its output is the reply"},
    {"stats", HOST_ADMIN_STATS, 0, 0, NULL, NULL, "stats",
     "requests, errors and latency per model; references and metrics per plugin"},
    {"log-level", HOST_ADMIN_LOG_LEVEL, 0, 1, NULL, NULL, "log-level [LEVEL]",
     "show or set the log level (error, warn, info, debug, trace)"},
    {"shutdown", HOST_ADMIN_SHUTDOWN, 0, 0, NULL, NULL, "shutdown",
     "finish the requests in flight, then exit 0"},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const host_admin_command *host_admin_find_command(const char *name)
{
    for (const host_admin_command *c = host_admin_commands; name && c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int in_list(const char *const *list, const char *key)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], "*") == 0 || strcmp(list[i], key) == 0)
            return 1;
    return 0;
}

const char *host_admin_option(const host_admin_request *r, const char *key)
{
    for (int i = 0; r && key && i < r->nopt; i++)
        if (strcmp(r->opt_key[i], key) == 0)
            return r->opt_value[i];
    return NULL;
}

/* Splits the line into words in out->buf; words[] point at them. */
static aglm_status split(const char *line, size_t len, host_admin_request *out, const char **words,
                         int *count)
{
    size_t w = 0;
    int n = 0;
    size_t i = 0;
    for (;;) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= len)
            break;
        if (n == HOST_ADMIN_MAX_ARGS)
            return aglm_error(AGLM_ERR_INVALID, "too many words (at most %d)", HOST_ADMIN_MAX_ARGS);
        words[n++] = &out->buf[w];
        int quoted = 0;
        size_t start = i;
        while (i < len) {
            unsigned char c = (unsigned char)line[i];
            if (!quoted && (c == ' ' || c == '\t'))
                break;
            if (c < 0x20 && c != '\t')
                return aglm_error(AGLM_ERR_INVALID, "control character 0x%02x at column %zu", c,
                                  i + 1);
            if (c == 0x7f)
                return aglm_error(AGLM_ERR_INVALID, "control character 0x7f at column %zu", i + 1);
            if (c == '"') {
                quoted = !quoted;
                i++;
                continue;
            }
            if (quoted && c == '\\' && i + 1 < len && (line[i + 1] == '"' || line[i + 1] == '\\')) {
                out->buf[w++] = line[i + 1];
                i += 2;
                continue;
            }
            out->buf[w++] = (char)c;
            i++;
        }
        if (quoted)
            return aglm_error(AGLM_ERR_INVALID, "unterminated quote in the word at column %zu",
                              start + 1);
        out->buf[w++] = '\0';
    }
    *count = n;
    return AGLM_OK;
}

static aglm_status add_option(host_admin_request *out, char *word)
{
    const host_admin_command *c = out->cmd;
    char *eq = strchr(word, '=');
    if (!eq || eq == word)
        return aglm_error(AGLM_ERR_INVALID, "%s: extra argument '%s' (usage: %s)", c->name, word,
                          c->usage);
    *eq = '\0';
    if (!in_list(c->keys, word)) {
        aglm_status st = aglm_error(AGLM_ERR_INVALID, "%s: unknown option '%.256s' (usage: %s)",
                                    c->name, word, c->usage);
        *eq = '=';
        return st;
    }
    if (host_admin_option(out, word))
        return aglm_error(AGLM_ERR_INVALID, "%s: option '%s' given twice", c->name, word);
    out->opt_key[out->nopt] = word;
    out->opt_value[out->nopt] = eq + 1;
    out->nopt++;
    return AGLM_OK;
}

aglm_status host_admin_parse(const char *line, size_t len, host_admin_request *out)
{
    memset(out, 0, offsetof(host_admin_request, buf));
    out->buf[0] = '\0';
    if (!line)
        return aglm_error(AGLM_ERR_INVALID, "empty command (try help)");
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > HOST_ADMIN_LINE_MAX)
        return aglm_error(AGLM_ERR_INVALID, "line too long (%zu bytes, at most %d)", len,
                          HOST_ADMIN_LINE_MAX);
    const char *words[HOST_ADMIN_MAX_ARGS];
    int n = 0;
    aglm_status st = split(line, len, out, words, &n);
    if (st != AGLM_OK)
        return st;
    if (n == 0)
        return aglm_error(AGLM_ERR_INVALID, "empty command (try help)");
    const host_admin_command *c = host_admin_find_command(words[0]);
    if (!c)
        return aglm_error(AGLM_ERR_NOT_FOUND, "unknown command '%.64s' (try help)", words[0]);
    out->cmd = c;
    for (int i = 1; i < n; i++) {
        char *word = (char *)words[i]; /* points into out->buf */
        char *eq = strchr(word, '=');
        int is_option = 0;
        if (c->keys && eq && eq != word) {
            /* a named option key is an option anywhere; with any key allowed, only after the
             * positional words the command needs */
            *eq = '\0';
            is_option =
                out->npos >= c->min_pos || (strcmp(c->keys[0], "*") != 0 && in_list(c->keys, word));
            *eq = '=';
        }
        if (!is_option && out->npos < c->max_pos) {
            out->pos[out->npos++] = word;
            continue;
        }
        if (!c->keys)
            return aglm_error(AGLM_ERR_INVALID, "%s: extra argument '%.256s' (usage: %s)", c->name,
                              word, c->usage);
        st = add_option(out, word);
        if (st != AGLM_OK)
            return st;
    }
    if (out->npos < c->min_pos)
        return aglm_error(AGLM_ERR_INVALID, "%s: missing argument (usage: %s)", c->name, c->usage);
    for (size_t k = 0; c->required && c->required[k]; k++)
        if (!host_admin_option(out, c->required[k]))
            return aglm_error(AGLM_ERR_INVALID, "%s: missing option %s= (usage: %s)", c->name,
                              c->required[k], c->usage);
    for (int k = 0; k < out->nopt; k++)
        if (out->opt_value[k][0] == '\0')
            return aglm_error(AGLM_ERR_INVALID, "%s: option %s= has no value", c->name,
                              out->opt_key[k]);
    return AGLM_OK;
}
