/* Internals of the `aglm` Lua module (docs/lua-api.md): one include for its lua_*.c files,
 * which share each other's headers.
 *
 * Rule for every function that talks to a plugin: do all Lua allocation (userdata for results,
 * option strings, scratch buffers) before acquiring a plugin reference, and copy the error
 * message before releasing it, so a Lua error (a longjmp) never leaks a reference. */
#ifndef AGLM_HOST_LUA_INTERNAL_H
#define AGLM_HOST_LUA_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>

#include "aglm/aglm.h"
#include "lua_exec.h"
#include "lua_graph.h"
#include "lua_optimize.h"
#include "lua_plugins.h"
#include "lua_runtime.h"
#include "lua_specialize.h"
#include "lua_tensor.h"
#include "lua_util.h"
#include "registry.h"

#endif
