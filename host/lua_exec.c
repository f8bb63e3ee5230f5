/* Executable userdata and aglm.compile: a script's view of backend_exec.h. The userdata holds
 * the executable, and with it the counted reference on the backend version that compiled it,
 * until __gc or :release(). */
#include <stdio.h>
#include <string.h>

#include "backend_exec.h"
#include "lua_internal.h"

static int x_release(lua_State *L)
{
    host_backend_exec *x = luaL_checkudata(L, 1, HOST_LUA_EXEC);
    host_backend_release(x);
    return 0;
}

static host_backend_exec *check_exec(lua_State *L, int idx)
{
    host_backend_exec *x = luaL_checkudata(L, idx, HOST_LUA_EXEC);
    if (!x->exec)
        luaL_error(L, "executable was released");
    return x;
}

static int l_compile(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    const char *backend = luaL_checkstring(L, 2);
    aglm_options opts;
    host_lua_push_options(L, 3, NULL, "compile", &opts);
    char *msg = host_lua_push_scratch(L, HOST_LUA_MSG_MAX);
    host_backend_exec *x = lua_newuserdatauv(L, sizeof *x, 0);
    memset(x, 0, sizeof *x);
    luaL_setmetatable(L, HOST_LUA_EXEC);
    if (host_backend_compile(host_lua_registry(L), backend, g, &opts, x) != AGLM_OK)
        return luaL_error(L, "compile for '%s': %s", backend, host_lua_save_error(msg));
    return 1;
}

/* The input names, comma-separated, for errors that list them. */
static const char *input_names(const aglm_graph *sig, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < aglm_graph_num_inputs(sig) && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "",
                                aglm_value_name(aglm_graph_input(sig, i)));
    return buf;
}

/* Fills in[] from the table at idx: by name, or as an array in graph input order. */
static void collect_inputs(lua_State *L, int idx, const aglm_graph *sig, aglm_tensor *in)
{
    size_t n = aglm_graph_num_inputs(sig);
    char names[512];
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_rawgeti(L, idx, 1);
    int positional = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (positional) {
        size_t got = lua_rawlen(L, idx);
        if (got != n)
            luaL_error(L, "run: %d input(s) given, the graph takes %d (%s)", (int)got, (int)n,
                       input_names(sig, names, sizeof names));
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, idx, (lua_Integer)(i + 1));
            aglm_tensor *t = host_lua_to_tensor(L, -1);
            if (!t)
                luaL_error(L, "run: input %d ('%s') is not a tensor", (int)(i + 1),
                           aglm_value_name(aglm_graph_input(sig, i)));
            in[i] = *t;
            lua_pop(L, 1);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = aglm_value_name(aglm_graph_input(sig, i));
        lua_getfield(L, idx, name);
        if (lua_isnil(L, -1))
            luaL_error(L, "run: missing input '%s' (inputs: %s)", name,
                       input_names(sig, names, sizeof names));
        aglm_tensor *t = host_lua_to_tensor(L, -1);
        if (!t)
            luaL_error(L, "run: input '%s' is not a tensor", name);
        in[i] = *t;
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        const aglm_value *v = key ? aglm_graph_find_value(sig, key) : NULL;
        if (!v || !aglm_value_is_graph_input(v))
            luaL_error(L, "run: unknown input '%s' (inputs: %s)", luaL_tolstring(L, -1, NULL),
                       input_names(sig, names, sizeof names));
    }
}

static int x_run(lua_State *L)
{
    host_backend_exec *x = check_exec(L, 1);
    const aglm_graph *sig = x->sig;
    size_t n_in = aglm_graph_num_inputs(sig), n_out = aglm_graph_num_outputs(sig);
    aglm_tensor *in = host_lua_push_scratch(L, n_in * sizeof *in);
    collect_inputs(L, 2, sig, in);
    for (size_t i = 0; i < n_in; i++)
        in[i].flags &= ~AGLM_TENSOR_OWNS_DATA; /* borrowed copies of the descriptors */

    /* The result table and every output tensor exist before the backend runs, so nothing after
     * the run can raise and leak what it returned. */
    lua_createtable(L, 0, (int)n_out);
    int result = lua_gettop(L);
    aglm_tensor **slots = host_lua_push_scratch(L, n_out * sizeof *slots);
    for (size_t i = 0; i < n_out; i++) {
        slots[i] = host_lua_push_tensor(L);
        lua_setfield(L, result, aglm_value_name(aglm_graph_output(sig, i)));
    }
    aglm_tensor *out = host_lua_push_scratch(L, n_out * sizeof *out);
    char *msg = host_lua_push_scratch(L, HOST_LUA_MSG_MAX);
    if (host_backend_run(x, n_in, in, n_out, out) != AGLM_OK)
        return luaL_error(L, "run: %s", host_lua_save_error(msg));
    for (size_t i = 0; i < n_out; i++)
        *slots[i] = out[i];
    lua_settop(L, result);
    return 1;
}

static int x_backend(lua_State *L)
{
    host_backend_exec *x = check_exec(L, 1);
    lua_pushstring(L, host_ref_desc(x->ref)->name);
    lua_pushinteger(L, (lua_Integer)host_ref_generation(x->ref));
    return 2;
}

/* x:profile(): {runs=, peak_bytes=, flops=, arena_bytes=, nodes={{node=, op=, calls=, ms=},
 * ...}} in execution order for an executable compiled with profile=1; nil and a message when
 * the backend does not profile (its table predates the op, or leaves it NULL). */
static int x_profile(lua_State *L)
{
    host_backend_exec *x = check_exec(L, 1);
    aglm_profile p;
    if (!host_backend_profiles(x)) {
        lua_pushnil(L);
        lua_pushfstring(L, "backend %s does not profile", host_ref_desc(x->ref)->name);
        return 2;
    }
    if (host_backend_profile(x, &p) != AGLM_OK)
        return luaL_error(L, "profile: %s", aglm_last_error());
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, (lua_Integer)p.runs);
    lua_setfield(L, -2, "runs");
    lua_pushinteger(L, (lua_Integer)p.peak_bytes);
    lua_setfield(L, -2, "peak_bytes");
    lua_pushinteger(L, (lua_Integer)p.flops);
    lua_setfield(L, -2, "flops");
    lua_pushinteger(L, (lua_Integer)p.arena_bytes);
    lua_setfield(L, -2, "arena_bytes");
    lua_createtable(L, (int)p.count, 0);
    for (size_t i = 0; i < p.count; i++) {
        const aglm_profile_entry *e = &p.entries[i];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, e->node ? e->node : "");
        lua_setfield(L, -2, "node");
        lua_pushstring(L, e->op ? e->op : "?");
        lua_setfield(L, -2, "op");
        lua_pushinteger(L, (lua_Integer)e->calls);
        lua_setfield(L, -2, "calls");
        lua_pushnumber(L, e->total_ms);
        lua_setfield(L, -2, "ms");
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    lua_setfield(L, -2, "nodes");
    return 1;
}

static int x_tostring(lua_State *L)
{
    host_backend_exec *x = luaL_checkudata(L, 1, HOST_LUA_EXEC);
    if (!x->exec)
        lua_pushliteral(L, "executable (released)");
    else
        lua_pushfstring(L, "executable of '%s' on %s (generation %d)",
                        aglm_graph_name(x->sig) ? aglm_graph_name(x->sig) : "?",
                        host_ref_desc(x->ref)->name, (int)host_ref_generation(x->ref));
    return 1;
}

void host_lua_open_exec(lua_State *L)
{
    static const luaL_Reg methods[] = {{"run", x_run},
                                       {"backend", x_backend},
                                       {"profile", x_profile},
                                       {"release", x_release},
                                       {NULL, NULL}};
    static const luaL_Reg funcs[] = {{"compile", l_compile}, {NULL, NULL}};
    luaL_newmetatable(L, HOST_LUA_EXEC);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, x_release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, x_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}
