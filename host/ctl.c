/* The --ctl client (ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin_parse.h"

const char host_ctl_usage[] =
    "usage: aglm-host --ctl SOCKET COMMAND [ARG...]\n"
    "  sends COMMAND to the admin socket of a running host, prints the reply and exits 0 on OK,\n"
    "  1 on ERR, 2 on a usage or connection error ('aglm-host --ctl SOCKET help' lists commands)\n";

/* Appends word to line, in double quotes when it holds blanks, quotes or backslashes. */
static int append_word(char *line, size_t cap, size_t *len, const char *word)
{
    int quote = *word == '\0' || strpbrk(word, " \t\"\\") != NULL;
    size_t need = strlen(word) + 4;
    for (const char *p = word; quote && *p; p++)
        need += *p == '"' || *p == '\\';
    if (*len + need >= cap)
        return 0;
    if (*len > 0)
        line[(*len)++] = ' ';
    if (quote)
        line[(*len)++] = '"';
    for (const char *p = word; *p; p++) {
        if (quote && (*p == '"' || *p == '\\'))
            line[(*len)++] = '\\';
        line[(*len)++] = *p;
    }
    if (quote)
        line[(*len)++] = '"';
    line[*len] = '\0';
    return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        buf += n;
        len -= (size_t)n;
    }
    return 1;
}

/* 0 for a final "OK", 1 for "ERR ...", -1 for any other line. */
static int final_line(const char *line, size_t len)
{
    if (len == 2 && memcmp(line, "OK", 2) == 0)
        return 0;
    if (len >= 3 && memcmp(line, "ERR", 3) == 0 && (len == 3 || line[3] == ' '))
        return 1;
    return -1;
}

int host_ctl_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(host_ctl_usage, stderr);
        return 2;
    }
    const char *path = argv[0];
    /* longer than the server takes, so that the server, not the client, says what is wrong */
    static char line[HOST_ADMIN_LINE_MAX * 16];
    size_t len = 0;
    for (int i = 1; i < argc; i++) {
        if (!append_word(line, sizeof line - 1, &len, argv[i])) {
            fprintf(stderr, "aglm-host: --ctl: the command is longer than %zu bytes\n",
                    sizeof line - 2);
            return 2;
        }
    }
    line[len++] = '\n';

    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "aglm-host: --ctl: socket path '%s' is too long\n", path);
        return 2;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "aglm-host: --ctl: cannot connect to '%s': %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 2;
    }
    /* The server may refuse at once (too many clients, uid); its reply is read all the same. */
    int sent = write_all(fd, line, len);
    shutdown(fd, SHUT_WR);

    char buf[8192];
    size_t have = 0;
    int result = -1;
    while (result < 0) {
        char *nl;
        while (result < 0 && (nl = memchr(buf, '\n', have)) != NULL) {
            size_t l = (size_t)(nl - buf);
            fwrite(buf, 1, l + 1, stdout);
            result = final_line(buf, l);
            have -= l + 1;
            memmove(buf, nl + 1, have);
        }
        if (result >= 0)
            break;
        if (have == sizeof buf) { /* a very long line: print what we have */
            fwrite(buf, 1, have, stdout);
            have = 0;
        }
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    close(fd);
    fflush(stdout);
    if (result < 0) {
        if (have)
            fwrite(buf, 1, have, stdout);
        fprintf(stderr, "aglm-host: --ctl: '%s' closed the connection before the reply ended%s\n",
                path, sent ? "" : " (the command could not be sent)");
        return 2;
    }
    return result;
}
