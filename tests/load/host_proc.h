/* What a process holds, read from /proc: mapped files and open descriptors. */
#ifndef AGLM_LOAD_HOST_PROC_H
#define AGLM_LOAD_HOST_PROC_H

#include <sys/types.h>

/* Distinct files mapped in pid whose path contains both `dir_part` and `name_part`; -1 if
 * /proc/PID/maps cannot be read. The paths go to stdout when `print` is set. */
int proc_mapped_files(pid_t pid, const char *dir_part, const char *name_part, int print);

/* Open file descriptors of pid, -1 if /proc/PID/fd cannot be read. */
int proc_fd_count(pid_t pid);

/* Files named NAME_PART*.so in every folder ROOT/aglm-PID-*: the host's private copies. */
int private_copies(const char *root, pid_t pid, const char *name_part);

#endif
