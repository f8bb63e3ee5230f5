/* The admin protocol's command parser: one line of text in, a checked command out. A pure
 * function (no I/O, no allocation, no global state but aglm's thread-local error message), so
 * the fuzzer can call it on any bytes.
 *
 * A line is words separated by spaces or tabs; a word in double quotes may hold spaces, with \"
 * and \\ inside. Control characters, unterminated quotes, lines over HOST_ADMIN_LINE_MAX bytes
 * and more than HOST_ADMIN_MAX_ARGS words are refused. The first word names the command; the
 * table below fixes how many positional words it takes and which key=value options. */
#ifndef AGLM_HOST_ADMIN_PARSE_H
#define AGLM_HOST_ADMIN_PARSE_H

#include <stddef.h>
#include "aglm/status.h"

#define HOST_ADMIN_LINE_MAX 4096
#define HOST_ADMIN_MAX_ARGS 64

typedef enum host_admin_op {
    HOST_ADMIN_HELP,
    HOST_ADMIN_PLUGINS,
    HOST_ADMIN_LOAD,
    HOST_ADMIN_UNLOAD,
    HOST_ADMIN_REPLACE,
    HOST_ADMIN_MODELS,
    HOST_ADMIN_INFER,
    HOST_ADMIN_RECOMPILE,
    HOST_ADMIN_RUN,
    HOST_ADMIN_STATS,
    HOST_ADMIN_LOG_LEVEL,
    HOST_ADMIN_SHUTDOWN
} host_admin_op;

typedef struct host_admin_command {
    const char *name;
    host_admin_op op;
    int min_pos, max_pos;        /* positional words after the name */
    const char *const *keys;     /* allowed option keys; NULL: none; {"*"}: any */
    const char *const *required; /* keys that must be given, or NULL */
    const char *usage;           /* "infer MODEL inputs=DIR outdir=DIR" */
    const char *summary;
} host_admin_command;

/* The command table, in help order, ended by a NULL name. */
extern const host_admin_command host_admin_commands[];

/* A parsed line. Words point into buf. */
typedef struct host_admin_request {
    const host_admin_command *cmd;
    int npos;
    const char *pos[HOST_ADMIN_MAX_ARGS]; /* positional words (not the name) */
    int nopt;
    const char *opt_key[HOST_ADMIN_MAX_ARGS]; /* key=value options, in order */
    const char *opt_value[HOST_ADMIN_MAX_ARGS];
    char buf[HOST_ADMIN_LINE_MAX + HOST_ADMIN_MAX_ARGS + 2];
} host_admin_request;

/* Parses `len` bytes of `line` (no newline; a trailing '\r' is ignored) into *out. Errors: empty
 * line, line too long, control character, unterminated quote, too many words, unknown command,
 * missing or extra argument, unknown, repeated or missing option, each naming the word. */
aglm_status host_admin_parse(const char *line, size_t len, host_admin_request *out);

/* The value of option `key` of a parsed request, or NULL. */
const char *host_admin_option(const host_admin_request *r, const char *key);

/* The command named `name`, or NULL. */
const host_admin_command *host_admin_find_command(const char *name);

#endif
