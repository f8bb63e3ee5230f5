/* The executable userdata of the `aglm` Lua module and aglm.compile (lua_exec.c). */
#ifndef AGLM_HOST_LUA_EXEC_H
#define AGLM_HOST_LUA_EXEC_H

#include <lua.h>

#define HOST_LUA_EXEC "aglm.exec"

/* Adds compile to the module table at the top of the stack; creates the executable
 * metatable. */
void host_lua_open_exec(lua_State *L);

#endif
