/* g:specialize, fixing a graph's symbolic dimensions (lua_specialize.c). */
#ifndef AGLM_HOST_LUA_SPECIALIZE_H
#define AGLM_HOST_LUA_SPECIALIZE_H

#include <lua.h>

/* Adds g:specialize to the graph metatable; call after host_lua_open_graph. */
void host_lua_open_specialize(lua_State *L);

#endif
