/* aglm-host --list-levels (levels_print.c): the level table with the passes that are not
 * loaded marked. Apart from levels.c because it asks the registry, which the table does not. */
#ifndef AGLM_HOST_LEVELS_PRINT_H
#define AGLM_HOST_LEVELS_PRINT_H

#include <stdio.h>

#include "registry.h"

/* --list-levels: one line per level, "O2  fold-constants [not loaded], dce, ..." (passes not
 * started in reg marked), " (repeated until no pass changes the graph)" after an iterated one,
 * then where the table comes from (config_path: the ini read, or NULL). */
void host_levels_print(host_registry *reg, const char *config_path, FILE *out);

#endif
