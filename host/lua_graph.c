/* Graph userdata (owns an aglm_graph) and aglm.load, aglm.pass (lua_graph.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_internal.h"
#include "pass_runner.h"

#define PROBE_BYTES 4096

typedef struct lgraph {
    aglm_graph *g;
} lgraph;

static aglm_graph **push_graph(lua_State *L)
{
    lgraph *lg = lua_newuserdatauv(L, sizeof *lg, 0);
    lg->g = NULL;
    luaL_setmetatable(L, HOST_LUA_GRAPH);
    return &lg->g;
}

aglm_graph *host_lua_check_graph(lua_State *L, int idx)
{
    lgraph *lg = luaL_checkudata(L, idx, HOST_LUA_GRAPH);
    if (!lg->g)
        luaL_error(L, "graph was released");
    return lg->g;
}

static int g_release(lua_State *L)
{
    lgraph *lg = luaL_checkudata(L, 1, HOST_LUA_GRAPH);
    aglm_graph_free(lg->g);
    lg->g = NULL;
    return 0;
}

/* ---- aglm.load ------------------------------------------------------------------------- */

/* The started frontend that probes `path` most confidently, or NULL with the message in msg. */
static aglm_plugin_ref *pick_frontend(host_registry *reg, const char *path,
                                      const unsigned char *head, size_t head_len, char *msg)
{
    aglm_plugin_ref **refs = NULL;
    size_t count = 0;
    if (host_registry_acquire_all(reg, AGLM_KIND_FRONTEND, &refs, &count) != AGLM_OK) {
        snprintf(msg, HOST_LUA_MSG_MAX, "listing frontends: %s", aglm_last_error());
        return NULL;
    }
    aglm_plugin_ref *best = NULL;
    int best_score = 0;
    size_t used = 0;
    int len = snprintf(msg, HOST_LUA_MSG_MAX, "no frontend can read '%s' (tried: ", path);
    for (size_t i = 0; i < count; i++) {
        const aglm_plugin_desc *d = host_ref_desc(refs[i]);
        const aglm_frontend_ops *ops = d->ops;
        int score = 0;
        if (AGLM_HAS_MEMBER(aglm_frontend_ops, ops, probe) && ops->probe)
            score = ops->probe(host_ref_state(refs[i]), path, head, head_len);
        if (len > 0 && len < HOST_LUA_MSG_MAX)
            len += snprintf(msg + len, HOST_LUA_MSG_MAX - (size_t)len, "%s%s", used++ ? ", " : "",
                            d->name);
        if (score > best_score) {
            if (best)
                host_registry_release(best);
            best = refs[i];
            best_score = score;
        } else {
            host_registry_release(refs[i]);
        }
    }
    free(refs);
    if (!best && len > 0 && len < HOST_LUA_MSG_MAX)
        snprintf(msg + len, HOST_LUA_MSG_MAX - (size_t)len, "%s)", used ? "" : "none loaded");
    return best;
}

static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *frontend = NULL;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "frontend");
        frontend = lua_tostring(L, -1); /* stays on the stack, so alive */
    }
    aglm_options opts;
    host_lua_push_options(L, 2, "frontend", "load", &opts);
    unsigned char *head = host_lua_push_scratch(L, PROBE_BYTES);
    char *msg = host_lua_push_scratch(L, HOST_LUA_MSG_MAX);
    aglm_graph **out = push_graph(L);

    FILE *f = fopen(path, "rb");
    if (!f)
        return luaL_error(L, "cannot open '%s': %s", path, strerror(errno));
    size_t head_len = fread(head, 1, PROBE_BYTES, f);
    int read_err = ferror(f) ? errno : 0;
    fclose(f);
    if (read_err)
        return luaL_error(L, "cannot read '%s': %s", path, strerror(read_err));

    host_registry *reg = host_lua_registry(L);
    aglm_plugin_ref *ref;
    if (frontend) {
        ref = host_registry_acquire(reg, frontend, AGLM_KIND_FRONTEND);
        if (!ref)
            return luaL_error(L, "load '%s': %s", path, aglm_last_error());
    } else {
        ref = pick_frontend(reg, path, head, head_len, msg);
        if (!ref)
            return luaL_error(L, "%s", msg);
    }
    const aglm_plugin_desc *d = host_ref_desc(ref);
    const aglm_frontend_ops *ops = d->ops;
    aglm_status st;
    if (!AGLM_HAS_MEMBER(aglm_frontend_ops, ops, load) || !ops->load)
        st = aglm_error(AGLM_ERR_UNSUPPORTED, "frontend '%s' has no load", d->name);
    else
        st = ops->load(host_ref_state(ref), path, &opts, out);
    if (st != AGLM_OK) {
        host_lua_save_error(msg);
        aglm_graph_free(*out);
        *out = NULL;
    }
    host_registry_release(ref);
    if (st != AGLM_OK)
        return luaL_error(L, "load '%s': %s", path, msg);
    if (!*out)
        return luaL_error(L, "load '%s': the frontend returned no graph", path);
    return 1;
}

/* ---- passes ---------------------------------------------------------------------------- */

static int l_pass(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    const char *name = luaL_checkstring(L, 2);
    aglm_options opts;
    host_lua_push_options(L, 3, NULL, "pass", &opts);
    char *msg = host_lua_push_scratch(L, HOST_LUA_MSG_MAX);
    int changed;
    if (host_pass_run_one(host_lua_registry(L), g, name, &opts, &changed) != AGLM_OK)
        return luaL_error(L, "%s", host_lua_save_error(msg));
    lua_pushboolean(L, changed);
    return 1;
}

/* ---- methods --------------------------------------------------------------------------- */

/* {name=, dtype=, shape={1, "N", "?"}}; shape is absent when the rank is unknown. */
static void push_value_info(lua_State *L, const aglm_value *v)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, aglm_value_name(v));
    lua_setfield(L, -2, "name");
    lua_pushstring(L, aglm_dtype_name(aglm_value_dtype(v)));
    lua_setfield(L, -2, "dtype");
    int rank = aglm_value_rank(v);
    if (rank < 0)
        return;
    lua_createtable(L, rank, 0);
    for (int i = 0; i < rank; i++) {
        aglm_dim d = aglm_value_dim(v, i);
        if (d.value >= 0)
            lua_pushinteger(L, (lua_Integer)d.value);
        else
            lua_pushstring(L, d.sym ? d.sym : "?");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "shape");
}

static int g_inputs(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    size_t n = aglm_graph_num_inputs(g);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_value_info(L, aglm_graph_input(g, i));
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    return 1;
}

static int g_outputs(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    size_t n = aglm_graph_num_outputs(g);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_value_info(L, aglm_graph_output(g, i));
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    return 1;
}

static int g_text(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    int full = lua_toboolean(L, 2);
    char *text = aglm_graph_to_text(g, full ? 0u : AGLM_PRINT_ELIDE_CONSTANTS);
    if (!text)
        return luaL_error(L, "text: %s", aglm_last_error());
    lua_pushstring(L, host_lua_adopt(L, text));
    return 1;
}

static int g_tostring(lua_State *L)
{
    lgraph *lg = luaL_checkudata(L, 1, HOST_LUA_GRAPH);
    if (!lg->g) {
        lua_pushliteral(L, "graph (released)");
        return 1;
    }
    lua_settop(L, 1);
    return g_text(L);
}

static int g_verify(lua_State *L)
{
    if (aglm_graph_verify(host_lua_check_graph(L, 1)) != AGLM_OK)
        return luaL_error(L, "verify: %s", aglm_last_error());
    lua_pushboolean(L, 1);
    return 1;
}

static int g_num_nodes(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)aglm_graph_num_nodes(host_lua_check_graph(L, 1)));
    return 1;
}

static int g_clone(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    aglm_graph **out = push_graph(L);
    *out = aglm_graph_clone(g);
    if (!*out)
        return luaL_error(L, "clone: %s", aglm_last_error());
    return 1;
}

void host_lua_open_graph(lua_State *L)
{
    static const luaL_Reg methods[] = {{"inputs", g_inputs},       {"outputs", g_outputs},
                                       {"text", g_text},           {"verify", g_verify},
                                       {"num_nodes", g_num_nodes}, {"clone", g_clone},
                                       {"release", g_release},     {NULL, NULL}};
    static const luaL_Reg funcs[] = {
        {"load", l_load}, {"pass", l_pass}, {NULL, NULL}}; /* aglm.passes: lua_optimize.c */
    luaL_newmetatable(L, HOST_LUA_GRAPH);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, g_release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, g_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}
