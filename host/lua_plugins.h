/* aglm.plugins, load_plugin, unload_plugin and replace_plugin: scripts managing plugins
 * (lua_plugins.c). */
#ifndef AGLM_HOST_LUA_PLUGINS_H
#define AGLM_HOST_LUA_PLUGINS_H

#include <lua.h>

/* Adds those functions to the module table at the top of the stack. */
void host_lua_open_plugins(lua_State *L);

#endif
