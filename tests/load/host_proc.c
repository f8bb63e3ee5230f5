/* /proc readers for the load test's leak checks. */
#include "host_proc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int proc_mapped_files(pid_t pid, const char *dir_part, const char *name_part, int print)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096], seen[16][1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *file = strchr(line, '/');
        if (!file || !strstr(file, dir_part) || !strstr(file, name_part))
            continue;
        file[strcspn(file, "\n")] = '\0';
        int known = 0;
        for (int i = 0; i < n && i < 16 && !known; i++)
            known = strcmp(seen[i], file) == 0;
        if (known)
            continue;
        if (n < 16)
            snprintf(seen[n], sizeof seen[n], "%s", file);
        if (print)
            printf("  mapped: %s\n", file);
        n++;
    }
    fclose(f);
    return n;
}

int proc_fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int private_copies(const char *root, pid_t pid, const char *name_part)
{
    DIR *d = opendir(root);
    if (!d)
        return -1;
    char prefix[64];
    int plen = snprintf(prefix, sizeof prefix, "aglm-%ld-", (long)pid);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)plen) != 0)
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", root, e->d_name);
        DIR *s = opendir(sub);
        if (!s)
            continue;
        struct dirent *c;
        while ((c = readdir(s)) != NULL) {
            size_t len = strlen(c->d_name);
            if (strncmp(c->d_name, name_part, strlen(name_part)) == 0 && len > 3 &&
                strcmp(c->d_name + len - 3, ".so") == 0) {
                printf("  private copy: %s/%s\n", sub, c->d_name);
                n++;
            }
        }
        closedir(s);
    }
    closedir(d);
    return n;
}
