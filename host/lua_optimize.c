/* aglm.optimize and aglm.passes: the pass driver (pass_runner.h) seen from a script. */
#include <string.h>

#include "lua_internal.h"
#include "pass_runner.h"

#define REPORT_HOLDER "aglm.pass_report"

/* A report whose arrays the collector frees, so a Lua error while it is read cannot leak them. */
static int holder_gc(lua_State *L)
{
    host_pass_report_free(luaL_checkudata(L, 1, REPORT_HOLDER));
    return 0;
}

static host_pass_report *push_holder(lua_State *L)
{
    host_pass_report *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, REPORT_HOLDER);
    return r;
}

/* Reads print_ir and verify from the options table at idx (absent: 0) into o, and pushes the
 * pass options (every other key) with their anchor. */
static void read_opts(lua_State *L, int idx, const char *what, host_pass_run_opts *o,
                      aglm_options *pass_opts)
{
    idx = lua_absindex(L, idx);
    if (lua_isnoneornil(L, idx)) {
        host_lua_push_options(L, idx, NULL, what, pass_opts);
        return;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    int top = lua_gettop(L);
    lua_getfield(L, idx, "print_ir");
    if (!lua_isnil(L, -1)) {
        const char *v = lua_isboolean(L, -1) ? (lua_toboolean(L, -1) ? "after-each" : "none")
                                             : luaL_tolstring(L, -1, NULL);
        o->print_ir = host_print_ir_parse(v);
        if (o->print_ir < 0)
            luaL_error(L, "%s: print_ir '%s' is not after-each or none", what, v);
    }
    lua_settop(L, top);
    lua_getfield(L, idx, "verify");
    o->verify = lua_isboolean(L, -1) ? lua_toboolean(L, -1)
                                     : (lua_isnil(L, -1) ? 0 : luaL_checkinteger(L, -1) != 0);
    lua_settop(L, top);
    /* a copy without the driver's own keys: those never reach a pass */
    lua_newtable(L);
    int copy = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING && (strcmp(lua_tostring(L, -2), "print_ir") == 0 ||
                                               strcmp(lua_tostring(L, -2), "verify") == 0)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, copy);
    }
    host_lua_push_options(L, copy, NULL, what, pass_opts);
}

static void set_num(lua_State *L, const char *key, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, key);
}

/* {level=, nodes_before=, nodes_after=, ms=, rounds=, passes={{name=, round=, nodes_before=,
 * nodes_after=, changed=, ms=}, ...}, missing={NAME, ...}} */
static void push_report(lua_State *L, const host_pass_report *r)
{
    lua_createtable(L, 0, 7);
    lua_pushstring(L, r->label);
    lua_setfield(L, -2, "level");
    set_int(L, "nodes_before", (lua_Integer)r->nodes_before);
    set_int(L, "nodes_after", (lua_Integer)r->nodes_after);
    set_num(L, "ms", r->ms);
    set_int(L, "rounds", r->rounds);
    lua_createtable(L, (int)r->num_passes, 0);
    for (size_t i = 0; i < r->num_passes; i++) {
        const host_pass_stat *s = &r->passes[i];
        lua_createtable(L, 0, 6);
        lua_pushstring(L, s->name);
        lua_setfield(L, -2, "name");
        set_int(L, "round", s->round);
        set_int(L, "nodes_before", (lua_Integer)s->nodes_before);
        set_int(L, "nodes_after", (lua_Integer)s->nodes_after);
        lua_pushboolean(L, s->changed);
        lua_setfield(L, -2, "changed");
        set_num(L, "ms", s->ms);
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    lua_setfield(L, -2, "passes");
    lua_createtable(L, (int)r->num_missing, 0);
    for (size_t i = 0; i < r->num_missing; i++) {
        lua_pushstring(L, r->missing[i]);
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    lua_setfield(L, -2, "missing");
}

static int check_level(lua_State *L, int idx)
{
    int level = -1;
    if (lua_type(L, idx) == LUA_TNUMBER && lua_isinteger(L, idx)) {
        lua_Integer n = lua_tointeger(L, idx);
        level = n >= 0 && n < HOST_NUM_LEVELS ? (int)n : -1;
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        level = host_level_parse(lua_tostring(L, idx));
    }
    if (level < 0)
        luaL_error(L, "optimize: level '%s' is not O0, O1, O2 or O3", luaL_tolstring(L, idx, NULL));
    return level;
}

/* aglm.optimize(g, level [, opts]) */
static int l_optimize(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    int level = check_level(L, 2);
    host_pass_run_opts o = {0};
    aglm_options pass_opts;
    read_opts(L, 3, "optimize", &o, &pass_opts);
    o.pass_opts = &pass_opts;
    char *msg = host_lua_push_scratch(L, HOST_LUA_MSG_MAX);
    host_pass_report *r = push_holder(L);
    if (host_pass_run_level(host_lua_registry(L), g, level, &o, r) != AGLM_OK)
        return luaL_error(L, "optimize O%d: %s", level, host_lua_save_error(msg));
    push_report(L, r);
    return 1;
}

/* aglm.passes(g, {name, ...} [, opts]): how many changed the graph, and the report. */
static int l_passes(lua_State *L)
{
    aglm_graph *g = host_lua_check_graph(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    host_pass_run_opts o = {0};
    aglm_options pass_opts;
    read_opts(L, 3, "passes", &o, &pass_opts);
    o.pass_opts = &pass_opts;
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    const char **names = host_lua_push_scratch(L, (size_t)(n > 0 ? n : 1) * sizeof *names);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, i);
        names[i - 1] = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        lua_pop(L, 1); /* still referenced by the table, which is on the stack */
        if (!names[i - 1])
            return luaL_error(L, "passes: entry %I is not a pass name", (LUAI_UACINT)i);
    }
    char *msg = host_lua_push_scratch(L, HOST_LUA_MSG_MAX);
    host_pass_report *r = push_holder(L);
    if (host_pass_run(host_lua_registry(L), g, names, (size_t)n, &o, r) != AGLM_OK)
        return luaL_error(L, "%s", host_lua_save_error(msg));
    lua_Integer changed = 0;
    for (size_t i = 0; i < r->num_passes; i++)
        changed += r->passes[i].changed != 0;
    lua_pushinteger(L, changed);
    push_report(L, r);
    return 2;
}

void host_lua_open_optimize(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"optimize", l_optimize}, {"passes", l_passes}, {NULL, NULL}};
    luaL_newmetatable(L, REPORT_HOLDER);
    lua_pushcfunction(L, holder_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}
