/* Where the host finds its configuration and its plugins, relative to the executable, so a build
 * tree (build/aglm-host, build/plugins) and an installed tree (bin/, lib/aglm/plugins, etc/aglm)
 * both work without flags. */
#include "cli_paths.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef AGLM_PLUGIN_INSTALL_DIR
#define AGLM_PLUGIN_INSTALL_DIR "lib/aglm/plugins"
#endif

int host_exe_dir(char *out, size_t n)
{
    char buf[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (len <= 0)
        return -1;
    buf[len] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (strlen(buf) + 1 > n)
        return -1;
    memcpy(out, buf, strlen(buf) + 1);
    return 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Writes exe_dir/rel into out; 0 when it does not fit. */
static int join(char *out, size_t n, const char *exe_dir, const char *rel)
{
    int len = snprintf(out, n, "%s/%s", exe_dir, rel);
    return len > 0 && (size_t)len < n;
}

int host_find_config(const char *exe_dir, char *out, size_t n)
{
    static const char *const beside_exe[] = {"../etc/aglm/aglm.ini", "../etc/aglm.ini"};
    if (is_file("etc/aglm.ini") && snprintf(out, n, "etc/aglm.ini") < (int)n)
        return 1;
    if (!exe_dir)
        return 0;
    for (size_t i = 0; i < sizeof beside_exe / sizeof beside_exe[0]; i++)
        if (join(out, n, exe_dir, beside_exe[i]) && is_file(out))
            return 1;
    return 0;
}

int host_default_plugin_dir(const char *exe_dir, char *out, size_t n)
{
    if (!exe_dir)
        return 0;
    if (join(out, n, exe_dir, "plugins") && is_dir(out))
        return 1;
    /* CMAKE_INSTALL_LIBDIR may be set to an absolute path */
    if (AGLM_PLUGIN_INSTALL_DIR[0] == '/') {
        if (snprintf(out, n, "%s", AGLM_PLUGIN_INSTALL_DIR) < (int)n && is_dir(out))
            return 1;
    } else if (join(out, n, exe_dir, "../" AGLM_PLUGIN_INSTALL_DIR) && is_dir(out)) {
        return 1;
    }
    if (join(out, n, exe_dir, "../lib/aglm/plugins") && is_dir(out))
        return 1;
    return 0;
}
