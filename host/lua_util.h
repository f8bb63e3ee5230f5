/* Helpers every file of the `aglm` Lua module uses (options, scratch memory, error copies),
 * and aglm.file_stem, exists, mkdir, now, bench and log (lua_util.c). */
#ifndef AGLM_HOST_LUA_UTIL_H
#define AGLM_HOST_LUA_UTIL_H

#include <stddef.h>
#include <lua.h>
#include "aglm/aglm.h"

/* Size of the buffer an error message is copied into before cleanup. */
#define HOST_LUA_MSG_MAX 2048

/* Adds the utility functions to the module table at the top of the stack. */
void host_lua_open_util(lua_State *L);

/* Converts the table at idx (or nil/none) into options whose strings stay alive as long as the
 * anchor this pushes on the stack. Keys must be strings; values strings, numbers or booleans.
 * Key `skip` (may be NULL) is left out. `what` prefixes errors ("compile"). */
void host_lua_push_options(lua_State *L, int idx, const char *skip, const char *what,
                           aglm_options *out);

/* Pushes a zeroed scratch buffer of `size` bytes that the collector frees. */
void *host_lua_push_scratch(lua_State *L, size_t size);

/* Hands malloc'd p to the collector: pushes a userdata that frees it, and returns p. Should even
 * that allocation fail, p is freed before the error propagates, so p never leaks. */
void *host_lua_adopt(lua_State *L, void *p);

/* Copies aglm_last_error() into buf (HOST_LUA_MSG_MAX bytes) and returns buf. */
char *host_lua_save_error(char *buf);

#endif
