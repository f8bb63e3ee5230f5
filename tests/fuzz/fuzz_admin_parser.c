/* libFuzzer target for the admin socket's command parser (host/admin_parse.c): arbitrary bytes
 * as one command line. Every input must give a command or an error with a message; a parsed
 * command must respect its table entry (word counts, known options, required ones). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "admin_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parsed(const host_admin_request *r)
{
    const host_admin_command *c = r->cmd;
    if (!c || host_admin_find_command(c->name) != c)
        __builtin_trap();
    if (r->npos < c->min_pos || r->npos > c->max_pos || r->nopt < 0 ||
        r->nopt > HOST_ADMIN_MAX_ARGS)
        __builtin_trap();
    if (r->nopt > 0 && !c->keys)
        __builtin_trap();
    for (size_t k = 0; c->required && c->required[k]; k++)
        if (!host_admin_option(r, c->required[k]))
            __builtin_trap();
    /* every word lies inside the request's own buffer and is terminated there */
    const char *lo = r->buf, *hi = r->buf + sizeof r->buf;
    for (int i = 0; i < r->npos; i++)
        if (r->pos[i] < lo || r->pos[i] >= hi || !memchr(r->pos[i], '\0', (size_t)(hi - r->pos[i])))
            __builtin_trap();
    for (int i = 0; i < r->nopt; i++)
        if (r->opt_key[i] < lo || r->opt_value[i] >= hi || r->opt_key[i][0] == '\0' ||
            r->opt_value[i][0] == '\0')
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static host_admin_request req;
    aglm_status st = host_admin_parse((const char *)data, size, &req);
    if (st == AGLM_OK)
        check_parsed(&req);
    else if (aglm_last_error()[0] == '\0')
        __builtin_trap();
    return 0;
}
