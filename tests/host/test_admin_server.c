/* The admin socket server over real sockets: the socket file's mode and folder, commands and
 * pipelined commands, and every abuse the issue lists: a line over 4 KiB, control bytes, a
 * client that disconnects mid-reply, a flood of connections past max_clients, an idle client,
 * a peer of another uid, a stale or live socket at the path. The server must keep serving. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "admin_server.h"
#include "registry_fixtures.h"

typedef struct fixture_state {
    host_registry *reg;
    host_served *served;
    char *dir;
    char path[256];
    host_admin_config cfg;
    host_admin_context ctx;
    host_admin *admin;
    atomic_int shutdowns;
} fixture_state;

static void on_shutdown(void *ctx)
{
    atomic_fetch_add(&((fixture_state *)ctx)->shutdowns, 1);
}

static int setup(void **state)
{
    signal(SIGPIPE, SIG_IGN); /* as the service does */
    fixture_state *f = calloc(1, sizeof *f);
    if (host_registry_new(NULL, &f->reg) != AGLM_OK ||
        host_registry_load(f->reg, fixture("counter_v1"), NULL) ||
        host_served_new(f->reg, &f->served) != AGLM_OK || !(f->dir = make_temp_dir()))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/admin.sock", f->dir);
    host_admin_config_defaults(&f->cfg);
    host_admin_config_set_socket(&f->cfg, f->path);
    f->cfg.max_clients = 4;
    f->ctx = (host_admin_context){.reg = f->reg,
                                  .served = f->served,
                                  .admin = &f->cfg,
                                  .shutdown = on_shutdown,
                                  .shutdown_ctx = f};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_state *f = *state;
    host_admin_stop(f->admin);
    host_served_free(f->served);
    host_registry_free(f->reg);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f->dir);
    free(f);
    return 0;
}

static void start(fixture_state *f)
{
    if (host_admin_start(&f->ctx, &f->admin) != AGLM_OK)
        fail_msg("host_admin_start: %s", aglm_last_error());
}

static int connect_to(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        close(fd);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_text(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

/* Reads until `finals` lines that are OK or ERR ... have come, EOF, or 5 s. Returns the text
 * (static buffer). */
static const char *read_reply(int fd, int finals)
{
    static char buf[65536];
    size_t len = 0;
    int seen = 0;
    buf[0] = '\0';
    while (seen < finals && len < sizeof buf - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        seen = 0;
        for (const char *l = buf; *l;) {
            const char *nl = strchr(l, '\n');
            if (!nl)
                break;
            if ((nl - l == 2 && strncmp(l, "OK", 2) == 0) || strncmp(l, "ERR", 3) == 0)
                seen++;
            l = nl + 1;
        }
    }
    return buf;
}

/* 1 when the server closed the connection (EOF within 5 s). */
static int closed_by_server(int fd)
{
    char c;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 5000) == 1 && read(fd, &c, 1) <= 0;
}

static const char *ask(fixture_state *f, const char *line)
{
    int fd = connect_to(f->path);
    if (fd < 0)
        return "(cannot connect)";
    send_text(fd, line, strlen(line));
    const char *r = read_reply(fd, 1);
    close(fd);
    return r;
}

static void test_socket_file_and_commands(void **state)
{
    fixture_state *f = *state;
    start(f);
    struct stat sb;
    assert_int_equal(lstat(f->path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_string_equal(host_admin_path(f->admin), f->path);

    const char *r = ask(f, "help\n");
    assert_non_null(strstr(r, "infer MODEL inputs=DIR outdir=DIR"));
    assert_non_null(strstr(r, "\nOK\n"));
    r = ask(f, "plugins\n");
    assert_non_null(strstr(r, "counter"));
    assert_non_null(strstr(r, "\nOK\n"));

    /* three commands in one write, answered in order; the bad one does not end the session */
    int fd = connect_to(f->path);
    const char *three = "log-level\r\nfrobnicate\nunload nothing-here\n";
    send_text(fd, three, strlen(three));
    r = read_reply(fd, 3);
    const char *a = strstr(r, "log-level "), *b = strstr(r, "ERR unknown command 'frobnicate'"),
               *c = strstr(r, "ERR no plugin 'nothing-here'");
    assert_true(a && b && c && a < b && b < c);
    send_text(fd, "shutdown\n", 9);
    r = read_reply(fd, 1);
    assert_non_null(strstr(r, "OK\n"));
    assert_int_equal(atomic_load(&f->shutdowns), 1);
    close(fd);

    host_admin_stop(f->admin);
    f->admin = NULL;
    assert_int_equal(lstat(f->path, &sb), -1); /* removed */
}

static void test_bad_lines(void **state)
{
    fixture_state *f = *state;
    start(f);
    /* control bytes and a NUL: an ERR each, the client may go on */
    int fd = connect_to(f->path);
    static const char bad[] = "load a\x01.so\nhelp x\0y\nmodels\n";
    send_text(fd, bad, sizeof bad - 1);
    const char *r = read_reply(fd, 3);
    assert_non_null(strstr(r, "ERR control character 0x01 at column 7"));
    assert_non_null(strstr(r, "ERR control character 0x00"));
    assert_non_null(strstr(r, "MODEL"));
    close(fd);

    /* exactly 4096 bytes is a line; the server answers it */
    char *line = malloc(8192);
    memset(line, 'z', 8192);
    line[4096] = '\n';
    fd = connect_to(f->path);
    send_text(fd, line, 4097);
    r = read_reply(fd, 1);
    assert_non_null(strstr(r, "ERR unknown command 'zzzz"));
    /* one byte more: refused, and the connection closed */
    send_text(fd, line, 4097);
    line[4096] = 'z';
    send_text(fd, line, 8192);
    r = read_reply(fd, 2);
    assert_non_null(strstr(r, "ERR line too long (more than 4096 bytes)"));
    assert_true(closed_by_server(fd));
    close(fd);
    free(line);
    assert_non_null(strstr(ask(f, "help\n"), "\nOK\n")); /* still serving */
}

static void test_disconnect_mid_reply_and_flood(void **state)
{
    fixture_state *f = *state;
    start(f);
    /* 100 clients ask for a long reply and leave without reading it */
    for (int i = 0; i < 100; i++) {
        int fd = connect_to(f->path);
        if (fd < 0) { /* all slots busy for a moment: the flood is working */
            usleep(1000);
            continue;
        }
        send_text(fd, "help\nplugins\nstats\n", 19);
        close(fd);
    }
    /* max_clients = 4: four stay connected, the fifth is told and closed */
    int held[4];
    for (int i = 0; i < 4; i++) {
        held[i] = -1;
        for (int tries = 0; tries < 200 && held[i] < 0; tries++) {
            int fd = connect_to(f->path);
            send_text(fd, "log-level\n", 10);
            const char *r = read_reply(fd, 1);
            if (strstr(r, "\nOK\n"))
                held[i] = fd;
            else {
                close(fd); /* a slot of the flood not yet freed */
                usleep(10 * 1000);
            }
        }
        assert_true(held[i] >= 0);
    }
    int fifth = connect_to(f->path);
    assert_true(fifth >= 0);
    assert_non_null(strstr(read_reply(fifth, 1), "ERR too many clients (at most 4)"));
    assert_true(closed_by_server(fifth));
    close(fifth);
    /* the four still work, and once one leaves a newcomer gets its slot */
    send_text(held[2], "models\n", 7);
    assert_non_null(strstr(read_reply(held[2], 1), "\nOK\n"));
    close(held[0]);
    const char *r = "";
    for (int tries = 0; tries < 200; tries++) {
        r = ask(f, "help\n");
        if (strstr(r, "\nOK\n"))
            break;
        usleep(10 * 1000);
    }
    assert_non_null(strstr(r, "\nOK\n"));
    for (int i = 1; i < 4; i++)
        close(held[i]);
}

static void test_idle_client_and_prompt_stop(void **state)
{
    fixture_state *f = *state;
    f->cfg.idle_timeout_s = 1;
    start(f);
    int fd = connect_to(f->path);
    assert_non_null(strstr(read_reply(fd, 1), "ERR idle timeout (1 s)"));
    assert_true(closed_by_server(fd));
    close(fd);
    host_admin_stop(f->admin);
    f->admin = NULL;

    /* stop does not wait out a silent client's 60 s */
    f->cfg.idle_timeout_s = 60;
    start(f);
    fd = connect_to(f->path);
    send_text(fd, "help\n", 5);
    read_reply(fd, 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    host_admin_stop(f->admin);
    f->admin = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    assert_true(closed_by_server(fd));
    close(fd);
}

static void test_socket_path_rules(void **state)
{
    fixture_state *f = *state;
    /* a folder others can write: the socket goes to a private folder, the path links to it */
    char open_dir[200];
    assert_true(snprintf(open_dir, sizeof open_dir, "%s/shared", f->dir) < (int)sizeof open_dir);
    assert_int_equal(mkdir(open_dir, 0777), 0);
    assert_int_equal(chmod(open_dir, 01777), 0);
    snprintf(f->path, sizeof f->path, "%s/admin.sock", open_dir);
    host_admin_config_set_socket(&f->cfg, f->path);
    start(f);
    struct stat sb, real;
    assert_int_equal(lstat(f->path, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(stat(f->path, &real), 0);
    assert_true(S_ISSOCK(real.st_mode));
    assert_int_equal(real.st_mode & 0777, 0600);
    char priv[400];
    snprintf(priv, sizeof priv, "%s/.aglm-admin-%u", open_dir, (unsigned)geteuid());
    assert_int_equal(stat(priv, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_non_null(strstr(ask(f, "help\n"), "\nOK\n"));

    /* a second server on the same path is refused while the first listens */
    host_admin *second = NULL;
    assert_int_not_equal(host_admin_start(&f->ctx, &second), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "another process listens on it"));
    assert_non_null(strstr(ask(f, "help\n"), "\nOK\n"));
    host_admin_stop(f->admin);
    f->admin = NULL;
    assert_int_equal(lstat(f->path, &sb), -1);
    assert_int_equal(lstat(priv, &sb), -1);

    /* a stale socket (its process died) is replaced */
    snprintf(f->path, sizeof f->path, "%s/admin.sock", f->dir);
    host_admin_config_set_socket(&f->cfg, f->path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path) < (int)sizeof sa.sun_path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    start(f);
    assert_non_null(strstr(ask(f, "help\n"), "\nOK\n"));
    host_admin_stop(f->admin);
    f->admin = NULL;

    /* a regular file at the path is not ours to remove */
    char *file = write_file(f->dir, "admin.sock", "precious\n");
    assert_int_not_equal(host_admin_start(&f->ctx, &f->admin), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "exists and is not a socket"));
    char *text = read_text(file);
    assert_string_equal(text, "precious\n");
    free(text);
    free(file);
}

/* Connects as uid 65534 from a child; what the server answered (or why it could not connect). */
static void as_nobody(const char *path, char *out, size_t n)
{
    int p[2];
    if (pipe(p) != 0) {
        snprintf(out, n, "(pipe failed)");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        const char *r;
        if (setgid(65534) != 0 || setuid(65534) != 0)
            r = "(setuid failed)";
        else {
            int fd = connect_to(path);
            if (fd < 0)
                r = "(connect refused)";
            else {
                send_text(fd, "help\n", 5);
                r = read_reply(fd, 1);
            }
        }
        if (write(p[1], r, strlen(r)) < 0)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t got;
    while (len < n - 1 && (got = read(p[0], out + len, n - 1 - len)) > 0)
        len += (size_t)got;
    out[len] = '\0';
    close(p[0]);
    waitpid(pid, NULL, 0);
}

static void test_peer_uid(void **state)
{
    fixture_state *f = *state;
    if (geteuid() != 0)
        skip(); /* needs root to act as another uid */
    start(f);
    char reply[8192];
    as_nobody(f->path, reply, sizeof reply);
    assert_string_equal(reply,
                        "(connect refused)"); /* 0600 in a 0700 folder: the file system says no */

    /* even where the file system lets it through, the server checks the uid */
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(chmod(f->path, 0666), 0);
    as_nobody(f->path, reply, sizeof reply);
    assert_non_null(strstr(reply, "ERR permission denied: uid 65534 may not use this socket"));
    host_admin_stop(f->admin);
    f->admin = NULL;

    f->cfg.allow_uids[0] = 65534;
    f->cfg.num_allow_uids = 1;
    assert_int_equal(chmod(f->dir, 0700), 0);
    start(f);
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(chmod(f->path, 0666), 0);
    as_nobody(f->path, reply, sizeof reply);
    assert_non_null(strstr(reply, "\nOK\n"));
}

static void test_admin_config_file(void **state)
{
    fixture_state *f = *state;
    char *ini =
        write_file(f->dir, "a.ini",
                   "[host]\nlog_level = warn\n[admin]\nsocket = /run/x.sock\nallow_uids = 5, 7\n"
                   "max_clients = 3\nidle_timeout_s = 9\nallow_any_path = yes\n");
    host_admin_config c;
    assert_int_equal(host_admin_config_read(ini, &c), AGLM_OK);
    assert_string_equal(c.socket, "/run/x.sock");
    assert_int_equal(c.num_allow_uids, 2);
    assert_int_equal(c.allow_uids[1], 7);
    assert_int_equal(c.max_clients, 3);
    assert_int_equal(c.idle_timeout_s, 9);
    assert_int_equal(c.allow_any_path, 1);
    free(ini);
    ini = write_file(f->dir, "b.ini", "[admin]\nmax_clients = lots\n");
    assert_int_not_equal(host_admin_config_read(ini, &c), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "b.ini: [admin] max_clients = 'lots'"));
    assert_int_equal(c.max_clients, 16); /* defaults after a failure */
    free(ini);
    ini = write_file(f->dir, "c.ini", "[admin]\nsockett = /x\n");
    assert_int_not_equal(host_admin_config_read(ini, &c), AGLM_OK);
    assert_non_null(strstr(aglm_last_error(), "sockett"));
    free(ini);
    assert_int_equal(host_admin_config_read(NULL, &c), AGLM_OK);
    assert_string_equal(c.socket, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_socket_file_and_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_mid_reply_and_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_client_and_prompt_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_path_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_uid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_config_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
