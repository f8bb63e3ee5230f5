/* g:specialize{name = shape or tensor, ...}: fixes a graph's input shapes and re-infers every
 * shape, so passes run before compiling see concrete dims (a residual Add whose operands are
 * provably the conv output's shape, Shape chains that fold). libaglm's aglm_graph_specialize
 * does the checking and the re-inference; this file turns the Lua table into its descriptors. */
#include <stdio.h>
#include <string.h>

#include "lua_internal.h"

/* Index of the graph input named `name`, or -1. */
static long find_input(const aglm_graph *g, const char *name)
{
    size_t n = aglm_graph_num_inputs(g);
    for (size_t i = 0; i < n; i++)
        if (strcmp(aglm_value_name(aglm_graph_input(g, i)), name) == 0)
            return (long)i;
    return -1;
}

/* "x, y" for error messages. */
static const char *input_names(lua_State *L, const aglm_graph *g)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t n = aglm_graph_num_inputs(g);
    for (size_t i = 0; i < n; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, aglm_value_name(aglm_graph_input(g, i)));
    }
    if (!n)
        luaL_addstring(&b, "none");
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* Fills *d (dtype, rank, dims; no data) from the shape array or tensor at the top of the stack,
 * for input `v`: a shape takes the input's declared dtype. */
static void read_spec(lua_State *L, const aglm_value *v, aglm_tensor *d)
{
    const char *name = aglm_value_name(v);
    memset(d, 0, sizeof *d);
    const aglm_tensor *t = host_lua_to_tensor(L, -1);
    if (t) {
        d->dtype = t->dtype;
        d->rank = t->rank;
        memcpy(d->dims, t->dims, sizeof d->dims);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "specialize: input '%s': expected a shape {d1, d2, ...} or a tensor, got %s",
                   name, luaL_typename(L, -1));
    lua_Integer rank = luaL_len(L, -1);
    if (rank > AGLM_MAX_RANK)
        luaL_error(L, "specialize: input '%s': shape of rank %d, at most %d", name, (int)rank,
                   AGLM_MAX_RANK);
    d->dtype = aglm_value_dtype(v);
    d->rank = (int32_t)rank;
    for (lua_Integer i = 1; i <= rank; i++) {
        lua_rawgeti(L, -1, i);
        int ok = 0;
        lua_Integer dim = lua_tointegerx(L, -1, &ok);
        if (!ok || dim < 0)
            luaL_error(L, "specialize: input '%s': dim %d is %s, expected an integer >= 0", name,
                       (int)(i - 1), luaL_tolstring(L, -1, NULL));
        d->dims[i - 1] = (int64_t)dim;
        lua_pop(L, 1);
    }
}

/* g:specialize(shapes): shapes maps input names to shapes or tensors. An input left out keeps its
 * type when that is fully static, and is an error otherwise. Returns g. */
static int g_specialize(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t n = aglm_graph_num_inputs(g);
    aglm_tensor *desc = host_lua_push_scratch(L, (n ? n : 1) * sizeof *desc);
    unsigned char *given = host_lua_push_scratch(L, n ? n : 1);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "specialize: keys must be input names, got a %s",
                              luaL_typename(L, -2));
        const char *name = lua_tostring(L, -2);
        long i = find_input(g, name);
        if (i < 0)
            return luaL_error(L, "specialize: '%s' is not an input of the graph (inputs: %s)", name,
                              input_names(L, g));
        read_spec(L, aglm_graph_input(g, (size_t)i), &desc[i]);
        given[i] = 1;
        lua_pop(L, 1);
    }
    for (size_t i = 0; i < n; i++) {
        if (given[i])
            continue;
        const aglm_value *v = aglm_graph_input(g, i);
        if (!aglm_value_is_static(v)) {
            char type[256];
            return luaL_error(L, "specialize: input '%s' (%s) has no shape given and is not static",
                              aglm_value_name(v), aglm_value_type_str(v, type, sizeof type));
        }
        desc[i].dtype = aglm_value_dtype(v);
        desc[i].rank = aglm_value_rank(v);
        for (int d = 0; d < desc[i].rank; d++)
            desc[i].dims[d] = aglm_value_dim(v, d).value;
    }
    /* Only dtype, rank and dims are read; data stays NULL. */
    if (aglm_graph_specialize(g, n, desc) != AGLM_OK)
        return luaL_error(L, "specialize: %s", aglm_last_error());
    lua_settop(L, 1);
    return 1;
}

void host_lua_open_specialize(lua_State *L)
{
    luaL_getmetatable(L, HOST_LUA_GRAPH);
    lua_getfield(L, -1, "__index");
    lua_pushcfunction(L, g_specialize);
    lua_setfield(L, -2, "specialize");
    lua_pop(L, 2);
}
