/* Creating and removing the admin socket's file (admin_socket.h). */
#include "admin_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int is_private_dir(const struct stat *sb)
{
    return S_ISDIR(sb->st_mode) && sb->st_uid == geteuid() && (sb->st_mode & 022) == 0;
}

/* 1 when something accepts connections on the socket at path. */
static int someone_listens(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Removes a leftover of this user at path (a socket nobody listens on, or a link), or says why
 * it cannot. Absent is fine. */
static aglm_status clear_stale(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT
                   ? AGLM_OK
                   : aglm_error(AGLM_ERR_IO, "admin socket '%s': %s", path, strerror(errno));
    if (sb.st_uid != geteuid())
        return aglm_error(AGLM_ERR_EXISTS,
                          "admin socket '%s': the path exists and belongs to uid %u", path,
                          (unsigned)sb.st_uid);
    if (!S_ISSOCK(sb.st_mode) && !S_ISLNK(sb.st_mode))
        return aglm_error(AGLM_ERR_EXISTS, "admin socket '%s': the path exists and is not a socket",
                          path);
    if (someone_listens(path))
        return aglm_error(AGLM_ERR_EXISTS, "admin socket '%s': another process listens on it",
                          path);
    if (unlink(path) != 0)
        return aglm_error(AGLM_ERR_IO, "admin socket '%s': cannot remove the stale file: %s", path,
                          strerror(errno));
    return AGLM_OK;
}

/* The folder to create the socket in: the path's own when private, else a private folder made
 * (or reused) beside it. */
static aglm_status pick_dir(host_admin_socket *s, const char *dir, const char *base)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return aglm_error(AGLM_ERR_NOT_FOUND, "admin socket '%s': folder '%s': %s", s->path, dir,
                          strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return aglm_error(AGLM_ERR_INVALID, "admin socket '%s': '%s' is not a folder", s->path,
                          dir);
    if (is_private_dir(&sb)) {
        snprintf(s->real, sizeof s->real, "%s", s->path);
        return AGLM_OK;
    }
    char priv[PATH_MAX];
    if (snprintf(priv, sizeof priv, "%s/.aglm-admin-%u", dir, (unsigned)geteuid()) >=
        (int)sizeof priv)
        return aglm_error(AGLM_ERR_INVALID, "admin socket '%s': path too long", s->path);
    if (mkdir(priv, 0700) == 0)
        snprintf(s->made_dir, sizeof s->made_dir, "%s", priv);
    else if (errno != EEXIST)
        return aglm_error(AGLM_ERR_IO, "admin socket '%s': cannot create '%s': %s", s->path, priv,
                          strerror(errno));
    if (lstat(priv, &sb) != 0 || !is_private_dir(&sb) || (sb.st_mode & 077) != 0)
        return aglm_error(AGLM_ERR_STATE,
                          "admin socket '%s': '%s' is not a folder of uid %u with mode 0700",
                          s->path, priv, (unsigned)geteuid());
    if (snprintf(s->real, sizeof s->real, "%s/%s", priv, base) >=
        (int)sizeof((struct sockaddr_un *)0)->sun_path)
        return aglm_error(AGLM_ERR_INVALID,
                          "admin socket '%s': the private path '%s' is too long for a socket",
                          s->path, s->real);
    s->linked = 1;
    return AGLM_OK;
}

aglm_status host_admin_socket_open(const char *path, host_admin_socket *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path || !*path || strlen(path) >= sizeof sa.sun_path)
        return aglm_error(AGLM_ERR_INVALID, "admin socket '%s': empty or longer than %zu bytes",
                          path ? path : "", sizeof sa.sun_path - 1);
    snprintf(s->path, sizeof s->path, "%s", path);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    if (!*base)
        return aglm_error(AGLM_ERR_INVALID, "admin socket '%s': the path names a folder", path);
    char basebuf[256];
    if (snprintf(basebuf, sizeof basebuf, "%s", base) >= (int)sizeof basebuf)
        return aglm_error(AGLM_ERR_INVALID, "admin socket '%s': name too long", path);
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';

    aglm_status st = pick_dir(s, dir, basebuf);
    if (st == AGLM_OK)
        st = clear_stale(s->real);
    if (st == AGLM_OK && s->linked)
        st = clear_stale(s->path);
    if (st != AGLM_OK) {
        if (s->made_dir[0])
            rmdir(s->made_dir);
        return st;
    }
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->fd < 0) {
        st = aglm_error(AGLM_ERR_IO, "admin socket '%s': socket: %s", path, strerror(errno));
        goto fail;
    }
    if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s->real) >= (int)sizeof sa.sun_path) {
        st = aglm_error(AGLM_ERR_INVALID, "admin socket '%s': too long for a socket path", s->real);
        goto fail;
    }
    /* umask makes the file 0600 from its creation; chmod again in case umask is ignored */
    mode_t old = umask(0177);
    int rc = bind(s->fd, (struct sockaddr *)&sa, sizeof sa);
    int bind_errno = errno;
    umask(old);
    if (rc != 0) {
        st = aglm_error(AGLM_ERR_IO, "admin socket '%s': bind: %s", s->real, strerror(bind_errno));
        goto fail;
    }
    if (chmod(s->real, 0600) != 0 || listen(s->fd, 64) != 0) {
        st = aglm_error(AGLM_ERR_IO, "admin socket '%s': %s", s->real, strerror(errno));
        unlink(s->real);
        goto fail;
    }
    if (s->linked && symlink(s->real, s->path) != 0) {
        st = aglm_error(AGLM_ERR_IO, "admin socket '%s': cannot link it to '%s': %s", path, s->real,
                        strerror(errno));
        unlink(s->real);
        goto fail;
    }
    return AGLM_OK;
fail:
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->made_dir[0])
        rmdir(s->made_dir);
    return st;
}

void host_admin_socket_close(host_admin_socket *s)
{
    if (s->fd < 0)
        return;
    close(s->fd);
    s->fd = -1;
    if (s->linked) {
        char target[PATH_MAX];
        ssize_t n = readlink(s->path, target, sizeof target - 1);
        if (n > 0 && (size_t)n == strlen(s->real) && memcmp(target, s->real, (size_t)n) == 0)
            unlink(s->path); /* only our own link */
    }
    unlink(s->real);
    if (s->made_dir[0])
        rmdir(s->made_dir);
}
