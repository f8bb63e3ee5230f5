/* The graph userdata of the `aglm` Lua module, aglm.load and aglm.pass (lua_graph.c). */
#ifndef AGLM_HOST_LUA_GRAPH_H
#define AGLM_HOST_LUA_GRAPH_H

#include <lua.h>
#include "aglm/aglm.h"

#define HOST_LUA_GRAPH "aglm.graph"

/* Adds load and pass to the module table at the top of the stack; creates the graph metatable. */
void host_lua_open_graph(lua_State *L);

/* The live graph at idx (raises for another type or a released graph). */
aglm_graph *host_lua_check_graph(lua_State *L, int idx);

#endif
