/* The tensor userdata of the `aglm` Lua module, .npy and tensor-file I/O (lua_tensor.c). */
#ifndef AGLM_HOST_LUA_TENSOR_H
#define AGLM_HOST_LUA_TENSOR_H

#include <lua.h>
#include "aglm/aglm.h"

#define HOST_LUA_TENSOR "aglm.tensor"

/* Adds the tensor functions to the module table at the top of the stack; creates the tensor
 * metatable. */
void host_lua_open_tensor(lua_State *L);

/* The live tensor at idx (raises for another type or a released tensor). */
aglm_tensor *host_lua_check_tensor(lua_State *L, int idx);
/* The live tensor at idx, or NULL when the value is not a tensor. */
aglm_tensor *host_lua_to_tensor(lua_State *L, int idx);
/* Pushes a new empty tensor userdata and returns its descriptor, to be filled (it then owns
 * what it holds). */
aglm_tensor *host_lua_push_tensor(lua_State *L);

#endif
