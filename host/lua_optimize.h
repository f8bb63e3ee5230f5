/* aglm.optimize and aglm.passes (lua_optimize.c). */
#ifndef AGLM_HOST_LUA_OPTIMIZE_H
#define AGLM_HOST_LUA_OPTIMIZE_H

#include <lua.h>

/* Adds optimize and passes to the module table at the top of the stack. */
void host_lua_open_optimize(lua_State *L);

#endif
