/* The memory planner: given each intermediate value's lifetime (the steps that produce it and
 * last read it) and size, places the values at offsets of one arena so that no two values alive
 * at the same step overlap, and the arena is small. */
#ifndef CPU_MEMPLAN_H
#define CPU_MEMPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "aglm/status.h"

/* Offsets are multiples of this, so every value starts as aligned as aglm_tensor_alloc's. */
#define MEMPLAN_ALIGN 64u
/* The offset of a value that has no place in the arena. */
#define MEMPLAN_NONE UINT64_MAX

typedef struct memplan_value {
    int first, last; /* steps that produce it and last read it (inclusive); first < 0: not planned */
    uint64_t bytes;  /* 0: not planned */
    int32_t share;   /* index of a value whose region this one takes over in place, or -1: the
                      * two then hold one region for both lifetimes (the caller has checked
                      * that the step producing this one is the other's last reader) */
} memplan_value;

/* Fills offset[i] for each of the n values (MEMPLAN_NONE for one not planned) and *arena_bytes
 * with the arena they need. Greedy: largest region first, each into the tightest gap among the
 * regions placed so far whose lifetimes overlap its own. Errors only when out of memory. */
aglm_status memplan_assign(size_t n, const memplan_value *v, uint64_t *offset,
                           uint64_t *arena_bytes);

/* bytes rounded up to MEMPLAN_ALIGN (0 stays 0). */
uint64_t memplan_round(uint64_t bytes);

#endif
