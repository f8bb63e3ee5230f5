/* The registry's private folder, where plugin copies are dlopened from, and the sweep of folders
 * that dead processes left behind. */
#include "private_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static const char *tmp_root(void)
{
    const char *tmp = secure_getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

aglm_status host_private_dir_make(char **out, int *lock_fd)
{
    const char *tmp = tmp_root();
    char *dir;
    if (asprintf(&dir, "%s/aglm-%ld-XXXXXX", tmp, (long)getpid()) < 0)
        return aglm_error(AGLM_ERR_NOMEM, "out of memory creating the private plugin folder");
    if (!mkdtemp(dir)) { /* mkdtemp creates it 0700 */
        int e = errno;
        free(dir);
        return aglm_error(AGLM_ERR_IO, "cannot create the private plugin folder in %s: %s", tmp,
                          strerror(e));
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        rmdir(dir);
        aglm_status st = aglm_error(AGLM_ERR_IO, "cannot lock the private plugin folder %s: %s",
                                    dir, strerror(e));
        free(dir);
        return st;
    }
    *out = dir;
    *lock_fd = fd;
    return AGLM_OK;
}

/* Removes DIR if it holds nothing but plugin copies (*.so); anything else means it is not ours. */
static void remove_copies_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0)
            continue; /* left alone, and rmdir below fails */
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    if (rmdir(dir) == 0)
        host_log(AGLM_LOG_DEBUG, NULL, "removed %s, left by a process that is gone", dir);
}

void host_private_dir_sweep(void)
{
    const char *root = tmp_root();
    DIR *d = opendir(root);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid;
        char suffix[8];
        int end = 0;
        if (sscanf(e->d_name, "aglm-%ld-%7[A-Za-z0-9]%n", &pid, suffix, &end) != 2 ||
            e->d_name[end] != '\0' || strlen(suffix) != 6 || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to ask about */
        char *dir;
        if (asprintf(&dir, "%s/%s", root, e->d_name) < 0)
            continue;
        struct stat sb;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &sb) == 0 && sb.st_uid == geteuid() &&
            flock(fd, LOCK_EX | LOCK_NB) == 0)
            remove_copies_dir(dir);
        if (fd >= 0)
            close(fd);
        free(dir);
    }
    closedir(d);
}

void host_private_dir_remove(const char *dir)
{
    if (dir && rmdir(dir) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
        host_log(AGLM_LOG_WARN, NULL, "cannot remove %s: %s", dir, strerror(errno));
}
