/* Internals of the `aglm` Lua module (docs/lua-api.md), shared by its lua_*.c files.
 *
 * Rule for every function that talks to a plugin: do all Lua allocation (userdata for results,
 * option strings, scratch buffers) before acquiring a plugin reference, and copy the error
 * message before releasing it, so a Lua error (a longjmp) never leaks a reference. */
#ifndef AGLM_HOST_LUA_INTERNAL_H
#define AGLM_HOST_LUA_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>

#include "aglm/aglm.h"
#include "registry.h"

#define HOST_LUA_GRAPH "aglm.graph"
#define HOST_LUA_TENSOR "aglm.tensor"
#define HOST_LUA_EXEC "aglm.exec"

/* Size of the buffer an error message is copied into before cleanup. */
#define HOST_LUA_MSG_MAX 2048

/* The registry the running script uses. */
host_registry *host_lua_registry(lua_State *L);
void host_lua_set_registry(lua_State *L, host_registry *reg);

/* Each adds its functions to the module table at the top of the stack and creates the
 * metatables it owns. */
void host_lua_open_graph(lua_State *L);
void host_lua_open_tensor(lua_State *L);
void host_lua_open_exec(lua_State *L);
void host_lua_open_plugins(lua_State *L);
void host_lua_open_util(lua_State *L);
void host_lua_open_optimize(lua_State *L);
/* Adds g:specialize to the graph metatable; call after host_lua_open_graph. */
void host_lua_open_specialize(lua_State *L);

/* The live graph at idx (raises for another type or a released graph). */
aglm_graph *host_lua_check_graph(lua_State *L, int idx);

/* The live tensor at idx (raises for another type or a released tensor). */
aglm_tensor *host_lua_check_tensor(lua_State *L, int idx);
/* The live tensor at idx, or NULL when the value is not a tensor. */
aglm_tensor *host_lua_to_tensor(lua_State *L, int idx);
/* Pushes a new empty tensor userdata and returns its descriptor, to be filled (it then owns
 * what it holds). */
aglm_tensor *host_lua_push_tensor(lua_State *L);

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
