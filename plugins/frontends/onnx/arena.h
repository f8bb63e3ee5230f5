/* A bump allocator for the decoded messages of one load: everything it hands out is freed at
 * once, so a decoder that fails half-way leaves nothing behind. */
#ifndef AGLM_ONNX_ARENA_H
#define AGLM_ONNX_ARENA_H

#include <stddef.h>

typedef struct ox_arena_block ox_arena_block;

typedef struct ox_arena {
    ox_arena_block *head;
    size_t used; /* bytes handed out, all blocks together */
} ox_arena;

/* count * size zeroed bytes aligned for any scalar, or NULL on overflow or exhaustion. count 0
 * gives a valid pointer to nothing. */
void *ox_alloc(ox_arena *a, size_t count, size_t size);

void ox_arena_free(ox_arena *a);

#endif
