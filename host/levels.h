/* Optimisation levels O0..O3: each an ordered list of pass names (docs/levels.md).
 *
 * A level is only a list of names, so the host stays ignorant of what any pass does. The lists
 * come from the [levels] section of aglm.ini, a level absent from it keeps its built-in list:
 *
 *   [levels]
 *   O1 = fold-constants, dce
 *   O2 = O1, simplify, cse, fold-batchnorm, fuse, dce   ; a lower level's name expands to its list
 *   O3 = O2
 *   iterate = O3                                         ; levels repeated until nothing changes
 *
 * The table in force is process-wide (the host reads it at start); host_pass_run_level uses it.
 * All functions are safe to call from several threads. */
#ifndef AGLM_HOST_LEVELS_H
#define AGLM_HOST_LEVELS_H

#include <stddef.h>
#include <stdio.h>
#include "aglm/status.h"
#include "registry.h"

#define HOST_NUM_LEVELS 4
#define HOST_LEVEL_MAX_PASSES 32
/* Rounds of an iterated level before the driver stops even if a pass still changes the graph. */
#define HOST_LEVEL_MAX_ROUNDS 8

typedef struct host_level {
    char passes[HOST_LEVEL_MAX_PASSES][64];
    size_t count;
    int iterate; /* repeat the list until no pass changes the graph */
} host_level;

typedef struct host_levels {
    host_level level[HOST_NUM_LEVELS];
    int from_config; /* a [levels] section set at least one level */
} host_levels;

/* The built-in table (O0: none; O1: fold-constants, dce; O2: O1 + simplify, cse,
 * fold-batchnorm, fuse, dce; O3: O2's list iterated). */
void host_levels_defaults(host_levels *l);

/* The built-in table with the [levels] section of the ini at `path` applied (path NULL: the
 * built-in table). A bad list is an error naming the file, the key and the entry. */
aglm_status host_levels_read(const char *path, host_levels *l);

/* "O0".."O3" (also "o2" and "2") to 0..3; -1 otherwise. */
int host_level_parse(const char *text);

/* The process's table: set it (copied), or copy it out (the built-in one until set). */
void host_levels_set(const host_levels *l);
void host_levels_get(host_levels *out);

#endif
