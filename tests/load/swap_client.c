/* The swap-under-load test's client (tests/integration/swap_under_load.sh runs it).
 *
 *   swap_client socket=PATH pid=PID model=NAME watch=DIR a=FILE b=FILE version_a=V version_b=V
 *               work=DIR tmp=DIR [swaps=N] [seconds=S]
 *
 * Four threads call `infer MODEL` without pause, each on its own connection and its own input,
 * and check every output against values computed by hand. Meanwhile the main thread replaces the
 * cpu backend N times, alternating builds a and b, half with `replace cpu FILE` on the socket and
 * half by deploying the file into the watched folder (write a hidden temp name, rename), once by
 * a plain slow write instead, during which the backend must not change. Then it checks that
 * after the drain one copy of the backend is mapped in the host, one private copy is on disk and
 * the host's descriptors are back to where they were. Exit 0 only if all of that holds. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_conn.h"
#include "host_proc.h"
#include "npy_f32.h"

#define NCLIENTS 4

typedef struct opts {
    const char *socket, *model, *watch, *build[2], *version[2], *work, *tmp;
    long pid;
    int swaps;
    double seconds; /* the whole run must finish within this */
} opts;

typedef struct sample {
    double t0, t1;
} sample;

typedef struct client {
    int id;
    const opts *o;
    pthread_t thread;
    char in_dir[2048], out_dir[2048];
    float expect[4];
    atomic_long served;
    long failed, wrong;
    char first_problem[1024];
    sample *samples;
    size_t num_samples, cap_samples;
} client;

static atomic_int stop;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void problem(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(client *c, const char *fmt, ...)
{
    if (c->first_problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->first_problem, sizeof c->first_problem, fmt, ap);
    va_end(ap);
}

/* Client k's input is (k+1) * [[1,2,3],[4,5,6]]. gemm_transb.yaml computes
 * Y = 2 * A @ B^T + 0.5 * C with B = [[1,0,1],[0,1,-1]], C = [2,6]; by hand,
 * [[1,2,3],[4,5,6]] @ B^T = [[4,-1],[10,-1]], so Y = (k+1) * [[8,-2],[20,-2]] + [[1,3],[1,3]]. */
static int prepare(client *c)
{
    float k = (float)(c->id + 1);
    float a[6] = {1 * k, 2 * k, 3 * k, 4 * k, 5 * k, 6 * k};
    float y[4] = {8 * k + 1, -2 * k + 3, 20 * k + 1, -2 * k + 3};
    memcpy(c->expect, y, sizeof y);
    snprintf(c->in_dir, sizeof c->in_dir, "%s/in%d", c->o->work, c->id);
    snprintf(c->out_dir, sizeof c->out_dir, "%s/out%d", c->o->work, c->id);
    if ((mkdir(c->in_dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(c->out_dir, 0700) != 0 && errno != EEXIST))
        return -1;
    char path[2100];
    snprintf(path, sizeof path, "%s/A.npy", c->in_dir);
    size_t shape[2] = {2, 3};
    return npy_write_f32(path, a, shape, 2);
}

/* Checks one infer reply: the output file it names holds the expected values. */
static int check_output(client *c, const char *reply)
{
    const char *arrow = strstr(reply, "-> ");
    char path[4096];
    if (arrow) {
        snprintf(path, sizeof path, "%s", arrow + 3);
        path[strcspn(path, "\n")] = '\0';
    } else {
        snprintf(path, sizeof path, "%s/Y.npy", c->out_dir);
    }
    float got[8];
    size_t shape[8];
    int rank = 0;
    char err[512];
    long n = npy_read_f32(path, got, 8, shape, &rank, err, sizeof err);
    if (n < 0) {
        problem(c, "%s", err);
        return 0;
    }
    int ok = n == 4 && rank == 2 && shape[0] == 2 && shape[1] == 2;
    for (int i = 0; ok && i < 4; i++)
        ok = fabsf(got[i] - c->expect[i]) <= 1e-5f * fabsf(c->expect[i]) + 1e-6f;
    if (!ok) {
        char desc[256];
        snprintf(desc, sizeof desc, "%ld values [%g %g %g %g], expected [%g %g %g %g]", n,
                 n > 0 ? got[0] : 0, n > 1 ? got[1] : 0, n > 2 ? got[2] : 0, n > 3 ? got[3] : 0,
                 c->expect[0], c->expect[1], c->expect[2], c->expect[3]);
        problem(c, "wrong output in %s: %s", path, desc);
    }
    return ok;
}

static void record(client *c, double t0, double t1)
{
    if (c->num_samples == c->cap_samples) {
        size_t cap = c->cap_samples ? c->cap_samples * 2 : 1024;
        sample *grown = realloc(c->samples, cap * sizeof *grown);
        if (!grown)
            return;
        c->samples = grown;
        c->cap_samples = cap;
    }
    c->samples[c->num_samples++] = (sample){t0, t1};
}

static void *client_main(void *arg)
{
    client *c = arg;
    admin_conn *conn = malloc(sizeof *conn);
    char cmd[4200], out_file[2100];
    snprintf(cmd, sizeof cmd, "infer %s inputs=%s outdir=%s", c->o->model, c->in_dir, c->out_dir);
    snprintf(out_file, sizeof out_file, "%s/Y.npy", c->out_dir);
    if (!conn || admin_connect(conn, c->o->socket, 60) != 0) {
        c->failed++;
        problem(c, "client cannot connect to %s", c->o->socket);
        free(conn);
        return NULL;
    }
    while (!atomic_load(&stop)) {
        unlink(out_file); /* a stale output must not pass for a fresh one */
        char *reply = NULL;
        double t0 = now_s();
        int rc = admin_call(conn, cmd, &reply);
        double t1 = now_s();
        record(c, t0, t1);
        if (rc != 1) {
            c->failed++;
            problem(c, "infer failed: %s", reply ? reply : "?");
            if (rc < 0) { /* the connection is gone: count it, reconnect, carry on */
                admin_close(conn);
                if (admin_connect(conn, c->o->socket, 60) != 0) {
                    free(reply);
                    break;
                }
            }
        } else if (!check_output(c, reply)) {
            c->wrong++;
        }
        free(reply);
        atomic_fetch_add(&c->served, 1);
    }
    admin_close(conn);
    free(conn);
    return NULL;
}

/* ---- the swapper ---------------------------------------------------------------------------- */

typedef struct backend_row {
    char version[64], state[32];
    unsigned gen;
    int started, draining;
} backend_row;

/* The cpu rows of `plugins`: the started one (version, generation) and how many drain. The
 * columns are found by the header's names. 0 on success. */
static int query_cpu(const opts *o, backend_row *row, char *why, size_t whylen)
{
    char *reply = NULL;
    int rc = admin_once(o->socket, "plugins", &reply);
    memset(row, 0, sizeof *row);
    if (rc != 1) {
        snprintf(why, whylen, "plugins: %s", reply ? reply : "?");
        free(reply);
        return -1;
    }
    int col_name = -1, col_version = -1, col_state = -1, col_gen = -1;
    char *save = NULL;
    for (char *line = strtok_r(reply, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *cols[16], *s2 = NULL;
        int n = 0;
        for (char *t = strtok_r(line, " \t", &s2); t && n < 16; t = strtok_r(NULL, " \t", &s2))
            cols[n++] = t;
        if (n > 0 && strcmp(cols[0], "NAME") == 0) {
            for (int i = 0; i < n; i++) {
                if (!strcmp(cols[i], "NAME"))
                    col_name = i;
                if (!strcmp(cols[i], "VERSION"))
                    col_version = i;
                if (!strcmp(cols[i], "STATE"))
                    col_state = i;
                if (!strcmp(cols[i], "GEN"))
                    col_gen = i;
            }
            continue;
        }
        if (col_name < 0 || col_state < 0 || col_version < 0 || n <= col_state ||
            n <= col_version || strcmp(cols[col_name], "cpu") != 0)
            continue;
        if (strcmp(cols[col_state], "started") == 0) {
            row->started++;
            snprintf(row->version, sizeof row->version, "%s", cols[col_version]);
            row->gen = col_gen >= 0 && n > col_gen ? (unsigned)strtoul(cols[col_gen], NULL, 10) : 0;
        } else { /* draining, or stopped/destroyed while its code is being unloaded */
            row->draining++;
        }
    }
    free(reply);
    if (col_name < 0) {
        snprintf(why, whylen, "plugins: no header row");
        return -1;
    }
    return 0;
}

static int copy_to(const char *src, const char *dst, long chunk_pause_ms, const opts *o,
                   const backend_row *before, char *why, size_t whylen)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(why, whylen, "%s: %s", src, strerror(errno));
        return -1;
    }
    struct stat sb;
    fstat(in, &sb);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (out < 0) {
        snprintf(why, whylen, "%s: %s", dst, strerror(errno));
        close(in);
        return -1;
    }
    /* slow: ten pieces with a pause after each, checking that the half-written file is ignored */
    size_t chunk = chunk_pause_ms ? (size_t)sb.st_size / 10 + 1 : 1 << 20;
    char *buf = malloc(chunk);
    int rc = buf ? 0 : -1;
    for (;;) {
        ssize_t n = buf ? read(in, buf, chunk) : -1;
        if (n <= 0) {
            rc = n < 0 ? -1 : rc;
            break;
        }
        if (write(out, buf, (size_t)n) != n) {
            snprintf(why, whylen, "%s: %s", dst, strerror(errno));
            rc = -1;
            break;
        }
        if (chunk_pause_ms) {
            sleep_ms(chunk_pause_ms);
            backend_row now;
            if (query_cpu(o, &now, why, whylen) != 0) {
                rc = -1;
                break;
            }
            if (now.gen != before->gen || strcmp(now.version, before->version) != 0) {
                snprintf(
                    why, whylen,
                    "the backend changed (generation %u -> %u) while its file was half-written",
                    before->gen, now.gen);
                rc = -1;
                break;
            }
        }
    }
    free(buf);
    close(in);
    if (close(out) != 0)
        rc = -1;
    return rc;
}

typedef enum method { BY_SOCKET, BY_DEPLOY, BY_SLOW_WRITE } method;
static const char *const method_names[] = {"socket", "deploy", "slow write"};

/* One swap to build `b`; waits until the host serves it. 0 on success. */
static int swap_once(const opts *o, method m, int b, backend_row *cur, char *why, size_t whylen)
{
    char dst[2100], tmp[2100];
    snprintf(dst, sizeof dst, "%s/backend-cpu.so", o->watch);
    why[0] = '\0';
    if (m == BY_SOCKET) {
        char cmd[2200], *reply = NULL;
        snprintf(cmd, sizeof cmd, "replace cpu %s", o->build[b]);
        int rc = admin_once(o->socket, cmd, &reply);
        if (rc != 1) {
            snprintf(why, whylen, "%.1000s: %.900s", cmd, reply ? reply : "?");
            free(reply);
            return -1;
        }
        free(reply);
    } else if (m == BY_DEPLOY) {
        snprintf(tmp, sizeof tmp, "%s/.backend-cpu.so.tmp", o->watch);
        if (copy_to(o->build[b], tmp, 0, o, cur, why, whylen) != 0 || rename(tmp, dst) != 0) {
            if (!why[0])
                snprintf(why, whylen, "deploying %.1900s: %s", dst, strerror(errno));
            return -1;
        }
    } else if (copy_to(o->build[b], dst, 150, o, cur, why, whylen) != 0) {
        return -1;
    }
    /* the watcher acts on its own time: wait for the new version to serve */
    for (double until = now_s() + 60; now_s() < until; sleep_ms(5)) {
        backend_row now;
        if (query_cpu(o, &now, why, whylen) != 0)
            return -1;
        if (now.started == 1 && strcmp(now.version, o->version[b]) == 0 && now.gen > cur->gen) {
            if (now.gen != cur->gen + 1) {
                snprintf(why, whylen, "generation went from %u to %u in one swap", cur->gen,
                         now.gen);
                return -1;
            }
            *cur = now;
            return 0;
        }
    }
    snprintf(why, whylen, "%s of build %c: version %s never started serving", method_names[m],
             'a' + b, o->version[b]);
    return -1;
}

/* ---- the run -------------------------------------------------------------------------------- */

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->swaps = 52;
    o->seconds = 240;
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return -1;
        *eq = '\0';
        const char *k = argv[i], *v = eq + 1;
        if (!strcmp(k, "socket"))
            o->socket = v;
        else if (!strcmp(k, "pid"))
            o->pid = atol(v);
        else if (!strcmp(k, "model"))
            o->model = v;
        else if (!strcmp(k, "watch"))
            o->watch = v;
        else if (!strcmp(k, "a"))
            o->build[0] = v;
        else if (!strcmp(k, "b"))
            o->build[1] = v;
        else if (!strcmp(k, "version_a"))
            o->version[0] = v;
        else if (!strcmp(k, "version_b"))
            o->version[1] = v;
        else if (!strcmp(k, "work"))
            o->work = v;
        else if (!strcmp(k, "tmp"))
            o->tmp = v;
        else if (!strcmp(k, "swaps"))
            o->swaps = atoi(v);
        else if (!strcmp(k, "seconds"))
            o->seconds = atof(v);
        else
            return -1;
    }
    return o->socket && o->pid > 0 && o->model && o->watch && o->build[0] && o->build[1] &&
                   o->version[0] && o->version[1] && o->work && o->tmp && o->swaps >= 4
               ? 0
               : -1;
}

static long total_served(client *cl)
{
    long n = 0;
    for (int i = 0; i < NCLIENTS; i++)
        n += atomic_load(&cl[i].served);
    return n;
}

/* The host's descriptors once idle connections are gone (they close asynchronously). */
static int settled_fds(pid_t pid, int want)
{
    int n = proc_fd_count(pid);
    for (int i = 0; i < 200 && n > want; i++) {
        sleep_ms(50);
        n = proc_fd_count(pid);
    }
    return n;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) != 0) {
        fprintf(
            stderr,
            "usage: swap_client socket=PATH pid=PID model=NAME watch=DIR a=FILE b=FILE version_a=V "
            "version_b=V work=DIR tmp=DIR [swaps=N] [seconds=S]\n");
        return 2;
    }
    pid_t pid = (pid_t)o.pid;
    double start = now_s();
    int bad = 0;
    char why[2048];

    static client cl[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        cl[i].id = i;
        cl[i].o = &o;
        if (prepare(&cl[i]) != 0) {
            fprintf(stderr, "swap_client: cannot write the inputs under %s\n", o.work);
            return 1;
        }
    }
    backend_row cur;
    if (query_cpu(&o, &cur, why, sizeof why) != 0 || cur.started != 1 ||
        strcmp(cur.version, o.version[0]) != 0) {
        fprintf(stderr,
                "swap_client: expected build a (%s) of cpu to serve first, found '%s' (%s)\n",
                o.version[0], cur.version, why);
        return 1;
    }
    /* a first request (the host may set things up on it), then the host's descriptors at rest */
    char *reply = NULL;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "infer %s inputs=%s outdir=%s", o.model, cl[0].in_dir, cl[0].out_dir);
    if (admin_once(o.socket, cmd, &reply) != 1 || !check_output(&cl[0], reply)) {
        fprintf(stderr, "swap_client: the first request failed: %s %s\n", reply ? reply : "",
                cl[0].first_problem);
        free(reply);
        return 1;
    }
    free(reply);
    cl[0].first_problem[0] = '\0';
    sleep_ms(200);
    int fds_before = settled_fds(pid, 0);

    for (int i = 0; i < NCLIENTS; i++)
        pthread_create(&cl[i].thread, NULL, client_main, &cl[i]);
    while (total_served(cl) < NCLIENTS && now_s() - start < o.seconds)
        sleep_ms(5);

    /* build b first (a serves now); socket, socket, deploy, deploy, ...; one slow write midway */
    sample *windows = calloc((size_t)o.swaps, sizeof *windows);
    int swaps = 0;
    for (int i = 0; i < o.swaps && !bad; i++) {
        int b = (i + 1) % 2;
        method m = (i / 2) % 2 ? BY_DEPLOY : BY_SOCKET;
        if (i == o.swaps / 2 + 1)
            m = BY_SLOW_WRITE;
        long served_before = total_served(cl);
        windows[i].t0 = now_s();
        if (swap_once(&o, m, b, &cur, why, sizeof why) != 0) {
            fprintf(stderr, "swap_client: swap %d (%s, build %c): %s\n", i + 1, method_names[m],
                    'a' + b, why);
            bad = 1;
            break;
        }
        windows[i].t1 = now_s();
        swaps++;
        /* pace: every swap happens under load, with requests served between swaps */
        while (total_served(cl) < served_before + NCLIENTS && now_s() - start < o.seconds)
            sleep_ms(1);
        if (now_s() - start >= o.seconds) {
            fprintf(stderr, "swap_client: out of time (%.0f s) after %d swaps\n", o.seconds, swaps);
            bad = 1;
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NCLIENTS; i++)
        pthread_join(cl[i].thread, NULL);

    long served = 0, failed = 0, wrong = 0;
    double worst_swap = 0, worst = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        served += atomic_load(&cl[i].served);
        failed += cl[i].failed;
        wrong += cl[i].wrong;
        if (cl[i].first_problem[0])
            fprintf(stderr, "swap_client: client %d: %s\n", i, cl[i].first_problem);
        for (size_t k = 0; k < cl[i].num_samples; k++) {
            const sample *s = &cl[i].samples[k];
            double lat = s->t1 - s->t0;
            worst = lat > worst ? lat : worst;
            for (int w = 0; w < swaps; w++)
                if (s->t0 <= windows[w].t1 && s->t1 >= windows[w].t0 && lat > worst_swap)
                    worst_swap = lat;
        }
        free(cl[i].samples);
    }
    free(windows);

    /* after the last drain: one backend mapped, one private copy, descriptors back at rest */
    backend_row fin = {0};
    for (double until = now_s() + 30; now_s() < until; sleep_ms(20))
        if (query_cpu(&o, &fin, why, sizeof why) == 0 && fin.draining == 0)
            break;
    char dir_part[64];
    snprintf(dir_part, sizeof dir_part, "/aglm-%ld-", (long)pid);
    printf("after the drain:\n");
    int mapped = proc_mapped_files(pid, dir_part, "backend-cpu", 1);
    int copies = private_copies(o.tmp, pid, "backend-cpu");
    int fds_after = settled_fds(pid, fds_before);

    printf("requests served: %ld (failed %ld, wrong %ld)\n", served, failed, wrong);
    printf("swaps done: %d (half through the socket, half through the watched folder, one slow "
           "write)\n",
           swaps);
    printf("worst latency during a swap: %.1f ms (worst overall %.1f ms)\n", worst_swap * 1e3,
           worst * 1e3);
    printf("cpu backend: version %s, generation %u, %d draining\n", fin.version, fin.gen,
           fin.draining);
    printf("mapped copies of the backend: %d; private copies on disk: %d\n", mapped, copies);
    printf("host descriptors: %d before the clients, %d after\n", fds_before, fds_after);
    printf("run time: %.1f s\n", now_s() - start);

    if (swaps < o.swaps)
        bad = 1;
    if (failed || wrong) {
        fprintf(stderr, "swap_client: FAIL: %ld failed and %ld wrong requests\n", failed, wrong);
        bad = 1;
    }
    if (served < swaps) {
        fprintf(stderr, "swap_client: FAIL: only %ld requests for %d swaps\n", served, swaps);
        bad = 1;
    }
    if (fin.draining || fin.started != 1) {
        fprintf(stderr,
                "swap_client: FAIL: %d started and %d draining versions of cpu after the drain\n",
                fin.started, fin.draining);
        bad = 1;
    }
    if (mapped != 1 || copies != 1) {
        fprintf(
            stderr,
            "swap_client: FAIL: %d mapped and %d private copies of the backend, expected 1 and 1\n",
            mapped, copies);
        bad = 1;
    }
    if (fds_before < 0 || fds_after < 0 || abs(fds_after - fds_before) > NCLIENTS) {
        fprintf(stderr, "swap_client: FAIL: the host had %d descriptors before and %d after\n",
                fds_before, fds_after);
        bad = 1;
    }
    return bad;
}
