/* Runs a pipeline script: a fresh Lua state, the standard libraries, the `aglm` module, the
 * arguments, and one error report "aglm-host: FILE:LINE: message" on failure. */
#include "lua_runtime.h"

#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "lua_internal.h"
#include "lua_serve.h"

#define REGISTRY_KEY "aglm.host_registry"

typedef struct pipeline {
    host_registry *reg;
    const char *script;
    int argc;
    char *const *argv;
} pipeline;

host_registry *host_lua_registry(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
    host_registry *reg = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return reg;
}

void host_lua_set_registry(lua_State *L, host_registry *reg)
{
    lua_pushlightuserdata(L, reg);
    lua_setfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
}

/* Turns the error value into a string; at --log-level debug and above adds a traceback. */
static int message_handler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (host_log_level() >= AGLM_LOG_DEBUG)
        luaL_traceback(L, L, msg, 1);
    else
        lua_pushstring(L, msg);
    return 1;
}

/* aglm.script_dir: the folder of the script as given ("." when it has none), so a script finds
 * files shipped beside it wherever it is run from. */
static void push_script_dir(lua_State *L, const char *script)
{
    const char *slash = strrchr(script, '/');
    if (!slash)
        lua_pushliteral(L, ".");
    else if (slash == script)
        lua_pushliteral(L, "/");
    else
        lua_pushlstring(L, script, (size_t)(slash - script));
}

static int open_module(lua_State *L)
{
    lua_newtable(L);
    host_lua_open_graph(L);
    host_lua_open_specialize(L);
    host_lua_open_optimize(L);
    host_lua_open_tensor(L);
    host_lua_open_exec(L);
    host_lua_open_plugins(L);
    host_lua_open_util(L);
    host_lua_open_serve(L);
    lua_pushliteral(L, AGLM_VERSION_STRING);
    lua_setfield(L, -2, "version");
    return 1;
}

static void push_args(lua_State *L, int argc, char *const *argv)
{
    lua_createtable(L, 0, argc);
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq)
            continue; /* the command line refuses these; a host test may not */
        lua_pushlstring(L, argv[i], (size_t)(eq - argv[i]));
        lua_pushstring(L, eq + 1);
        lua_settable(L, -3);
    }
}

/* Everything that can raise runs here, under the outer lua_pcall. */
static int run_protected(lua_State *L)
{
    pipeline *p = lua_touserdata(L, 1);
    luaL_openlibs(L);
    host_lua_set_registry(L, p->reg);

    luaL_requiref(L, "aglm", open_module, 1); /* package.loaded.aglm and the global */
    push_args(L, p->argc, p->argv);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "args");
    push_script_dir(L, p->script);
    lua_setfield(L, -3, "script_dir");
    lua_pushstring(L, p->script);
    lua_setfield(L, -3, "script");
    int args = lua_gettop(L);

    lua_pushcfunction(L, message_handler);
    int handler = lua_gettop(L);
    if (luaL_loadfilex(L, p->script, "t") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, args);
    if (lua_pcall(L, 1, 0, handler) != LUA_OK)
        return lua_error(L);
    return 0;
}

int host_lua_run_pipeline(host_registry *reg, const char *script, int argc, char *const *argv)
{
    pipeline p = {reg, script, argc, argv};
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "aglm-host: %s: cannot create a Lua state (out of memory)\n", script);
        aglm_error(AGLM_ERR_NOMEM, "%s: cannot create a Lua state (out of memory)", script);
        return 1;
    }
    host_log(AGLM_LOG_DEBUG, NULL, "running pipeline '%s' with %d argument(s)", script, argc);
    lua_pushcfunction(L, run_protected);
    lua_pushlightuserdata(L, &p);
    int rc = 0;
    char err[HOST_LUA_MSG_MAX] = ""; /* the message, for callers (aglm_last_error) */
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fflush(stdout);
        fprintf(stderr, "aglm-host: %s\n", msg ? msg : "(error object is not a string)");
        snprintf(err, sizeof err, "%s", msg ? msg : "(error object is not a string)");
        rc = 1;
    }
    /* Collects every graph, tensor and executable; executables release their backends here,
     * before the caller frees the registry. */
    lua_close(L);
    fflush(stdout);
    if (rc)
        aglm_error(AGLM_ERR_INVALID, "%s", err);
    return rc;
}
