/* Helpers shared by the watcher tests: a watched temporary plugin folder, copying fixture plugins
 * into it the ways deploy tools do, and bounded waits on the registry's listing. */
#ifndef AGLM_TEST_WATCH_FIXTURES_H
#define AGLM_TEST_WATCH_FIXTURES_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "registry_fixtures.h"
#include "watch.h"

/* Long enough for a TSan build on a loaded machine; a pass takes milliseconds. */
#define WAIT_MS 20000

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The whole of a file, malloc'd; *len its size. NULL if unreadable. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        *len = (size_t)n;
    return buf;
}

/* Writes the first `len` bytes of `data` to dst (created or truncated), in one go. */
static inline int write_bytes(const char *dst, const char *data, size_t len)
{
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    return close(fd) == 0 && done == len ? 0 : -1;
}

/* cp: rewrites dst in place (the watcher sees IN_CLOSE_WRITE). */
static inline int copy_file(const char *src, const char *dst)
{
    size_t len;
    char *data = slurp(src, &len);
    if (!data)
        return -1;
    int rc = write_bytes(dst, data, len);
    free(data);
    return rc;
}

/* A deploy tool: writes DIR/.NAME.tmp, then renames it to DIR/NAME (IN_MOVED_TO). */
static inline int deploy_file(const char *src, const char *dir, const char *name)
{
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    if (copy_file(src, tmp) != 0)
        return -1;
    return rename(tmp, dst);
}

/* The generation of started `name`, 0 if none. */
static inline unsigned started_gen(host_registry *r, const char *name)
{
    host_plugin_info *rows;
    size_t n;
    unsigned gen = 0;
    if (host_registry_list(r, &rows, &n) != AGLM_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].state == HOST_PLUGIN_STARTED && strcmp(rows[i].name, name) == 0)
            gen = rows[i].generation;
    free(rows);
    return gen;
}

/* The file started `name` was loaded from ("" if none), in a static buffer. */
static inline const char *started_file(host_registry *r, const char *name)
{
    static char file[1024];
    host_plugin_info *rows;
    size_t n;
    file[0] = '\0';
    if (host_registry_list(r, &rows, &n) != AGLM_OK)
        return file;
    for (size_t i = 0; i < n; i++)
        if (rows[i].state == HOST_PLUGIN_STARTED && strcmp(rows[i].name, name) == 0)
            snprintf(file, sizeof file, "%s", rows[i].file);
    free(rows);
    return file;
}

/* Waits until started `name` has generation `gen` (0: is not started). 1 if it did in time. */
static inline int wait_gen(host_registry *r, const char *name, unsigned gen)
{
    for (int waited = 0; waited < WAIT_MS; waited += 5) {
        if (started_gen(r, name) == gen)
            return 1;
        sleep_ms(5);
    }
    return 0;
}

/* Waits until no version is left draining or being unloaded: a replace or unload done by the
 * watcher thread finishes the old version on that thread, after the new one is visible. */
static inline int wait_no_draining(host_registry *r)
{
    for (int waited = 0; waited < WAIT_MS; waited += 5) {
        if (host_registry_num_draining(r) == 0)
            return 1;
        sleep_ms(5);
    }
    return 0;
}

/* Events are handled in order: once a sentinel plugin dropped after some event has loaded, that
 * event has been handled. Deploys fixture `base` as NAME.so into dir and waits for it, then
 * unloads it and deletes the file again (it stays unloaded: that file's removal finds no plugin).
 */
static inline int sync_watcher(host_registry *r, const char *dir)
{
    char path[4096];
    if (deploy_file(fixture("base"), dir, "zz_sentinel.so") != 0)
        return 0;
    int ok = 0;
    for (int waited = 0; waited < WAIT_MS && !ok; waited += 5) {
        ok = started_gen(r, "base") != 0;
        if (!ok)
            sleep_ms(5);
    }
    if (ok)
        ok = host_registry_unload(r, "base", NULL) == AGLM_OK;
    snprintf(path, sizeof path, "%s/zz_sentinel.so", dir);
    unlink(path);
    return ok;
}

#endif
