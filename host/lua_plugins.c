/* aglm.plugins, aglm.load_plugin, aglm.unload_plugin, aglm.replace_plugin: the registry, seen
 * from a script. */
#include "lua_internal.h"

static void set_string(lua_State *L, const char *key, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

static int l_plugins(lua_State *L)
{
    host_plugin_info *rows = NULL;
    size_t count = 0;
    if (host_registry_list(host_lua_registry(L), &rows, &count) != AGLM_OK)
        return luaL_error(L, "plugins: %s", aglm_last_error());
    host_lua_adopt(L, rows); /* a Lua error below cannot leak the listing */
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        const host_plugin_info *p = &rows[i];
        lua_createtable(L, 0, 8);
        set_string(L, "name", p->name);
        set_string(L, "kind", aglm_plugin_kind_name(p->kind));
        set_string(L, "version", p->version);
        set_string(L, "state", host_plugin_state_name(p->state));
        lua_pushinteger(L, (lua_Integer)p->refs);
        lua_setfield(L, -2, "refs");
        set_string(L, "file", p->file);
        lua_pushinteger(L, (lua_Integer)p->generation);
        lua_setfield(L, -2, "generation");
        set_string(L, "summary", p->summary);
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    return 1;
}

static int l_load_plugin(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char name[64] = "";
    if (host_registry_load(host_lua_registry(L), path, name) != AGLM_OK)
        return luaL_error(L, "load_plugin '%s': %s", path, aglm_last_error());
    lua_pushstring(L, name);
    return 1;
}

static int l_unload_plugin(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    int deferred = 0;
    if (host_registry_unload(host_lua_registry(L), name, &deferred) != AGLM_OK)
        return luaL_error(L, "unload_plugin '%s': %s", name, aglm_last_error());
    lua_pushstring(L, deferred ? "draining" : "unloaded");
    return 1;
}

static int l_replace_plugin(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *path = luaL_optstring(L, 2, NULL);
    if (host_registry_replace(host_lua_registry(L), name, path) != AGLM_OK)
        return luaL_error(L, "replace_plugin '%s': %s", name, aglm_last_error());
    aglm_plugin_ref *ref = host_registry_acquire(host_lua_registry(L), name, 0);
    if (!ref)
        return luaL_error(L, "replace_plugin '%s': %s", name, aglm_last_error());
    unsigned generation = host_ref_generation(ref);
    host_registry_release(ref);
    lua_pushinteger(L, (lua_Integer)generation);
    return 1;
}

void host_lua_open_plugins(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"plugins", l_plugins},
                                     {"load_plugin", l_load_plugin},
                                     {"unload_plugin", l_unload_plugin},
                                     {"replace_plugin", l_replace_plugin},
                                     {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
}
