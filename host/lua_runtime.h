/* The Lua 5.4 runtime that runs pipeline scripts with the `aglm` module (docs/lua-api.md). */
#ifndef AGLM_HOST_LUA_RUNTIME_H
#define AGLM_HOST_LUA_RUNTIME_H

#include <lua.h>

#include "registry.h"

/* Runs `script` in a fresh Lua state with the module, the arguments ("key=value" strings) in the
 * table aglm.args (also the script's `...`). Returns the process exit status: 0 on success, 1 on
 * a script or run-time error (printed as "FILE:LINE: message" to stderr). */
int host_lua_run_pipeline(host_registry *reg, const char *script, int argc, char *const *argv);

/* The registry the running script uses, and setting it on a new state. */
host_registry *host_lua_registry(lua_State *L);
void host_lua_set_registry(lua_State *L, host_registry *reg);

#endif
