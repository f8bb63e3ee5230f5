/* aglm.serve, aglm.listen, aglm.models and the print capture (lua_serve.h). */
#include "lua_serve.h"
#include "pass_runner.h"

#include <lauxlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "lua_internal.h"

static _Atomic(host_served *) bound;

static pthread_mutex_t want_lock = PTHREAD_MUTEX_INITIALIZER;
static int want_service; /* under want_lock */
static int service_running;
static char want_admin[108];

static _Thread_local host_lua_print_fn capture_fn;
static _Thread_local void *capture_ctx;

void host_lua_bind_served(host_served *s)
{
    atomic_store(&bound, s);
}

int host_lua_service_wanted(char *admin, size_t n)
{
    pthread_mutex_lock(&want_lock);
    int w = want_service;
    if (admin && n)
        snprintf(admin, n, "%s", want_admin);
    pthread_mutex_unlock(&want_lock);
    return w;
}

void host_lua_service_started(void)
{
    pthread_mutex_lock(&want_lock);
    service_running = 1;
    pthread_mutex_unlock(&want_lock);
}

void host_lua_capture_print(host_lua_print_fn fn, void *ctx)
{
    capture_fn = fn;
    capture_ctx = ctx;
}

static void set_admin(lua_State *L, const char *path, const char *who)
{
    if (strlen(path) == 0 || strlen(path) >= sizeof want_admin)
        luaL_error(L, "%s: admin socket path '%s' is empty or longer than %d bytes", who, path,
                   (int)sizeof want_admin - 1);
    pthread_mutex_lock(&want_lock);
    int running = service_running;
    if (!running) {
        snprintf(want_admin, sizeof want_admin, "%s", path);
        want_service = 1;
    }
    pthread_mutex_unlock(&want_lock);
    if (running)
        luaL_error(L, "%s: the host already serves; its admin socket is fixed at start", who);
}

/* aglm.serve(name, g, backend [, {level = "O2", print_ir = "after-each", admin = SOCKET}]) */
static int l_serve(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    aglm_graph *g = host_lua_check_graph(L, 2);
    const char *backend = luaL_checkstring(L, 3);
    int level = 0, print_ir = 0;
    const char *admin = NULL;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        lua_getfield(L, 4, "level");
        if (!lua_isnil(L, -1)) {
            const char *lv = luaL_tolstring(L, -1, NULL);
            level = host_served_parse_level(lv);
            if (level < 0)
                return luaL_error(L, "serve '%s': level '%s' is not O0, O1, O2 or O3", name, lv);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        lua_getfield(L, 4, "print_ir");
        if (!lua_isnil(L, -1)) {
            const char *pi = luaL_tolstring(L, -1, NULL);
            print_ir = host_print_ir_parse(pi);
            if (print_ir < 0)
                return luaL_error(L, "serve '%s': print_ir '%s' is not after-each or none", name,
                                  pi);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        lua_getfield(L, 4, "admin");
        admin = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
        lua_pop(L, 1);
    }
    host_served *s = atomic_load(&bound);
    if (!s)
        return luaL_error(L, "serve '%s': this host does not serve models", name);
    char *msg = host_lua_push_scratch(L, HOST_LUA_MSG_MAX);
    if (host_served_add_traced(s, name, g, backend, level, print_ir) != AGLM_OK)
        return luaL_error(L, "serve: %s", host_lua_save_error(msg));
    pthread_mutex_lock(&want_lock);
    want_service = 1;
    pthread_mutex_unlock(&want_lock);
    if (admin)
        set_admin(L, admin, "serve");
    return 0;
}

/* aglm.listen(SOCKET) */
static int l_listen(lua_State *L)
{
    set_admin(L, luaL_checkstring(L, 1), "listen");
    return 0;
}

/* aglm.models(): {{name=, backend=, generation=, level="O0", requests=, errors=}, ...} */
static int l_models(lua_State *L)
{
    host_served *s = atomic_load(&bound);
    host_served_info *rows = NULL;
    size_t n = 0;
    if (s && host_served_list(s, &rows, &n) != AGLM_OK)
        return luaL_error(L, "models: %s", aglm_last_error());
    if (rows)
        host_lua_adopt(L, rows); /* stays on the stack while the table is built */
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 6);
        lua_pushstring(L, rows[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, rows[i].backend);
        lua_setfield(L, -2, "backend");
        lua_pushinteger(L, (lua_Integer)rows[i].generation);
        lua_setfield(L, -2, "generation");
        lua_pushfstring(L, "O%d", rows[i].level);
        lua_setfield(L, -2, "level");
        lua_pushinteger(L, (lua_Integer)rows[i].requests);
        lua_setfield(L, -2, "requests");
        lua_pushinteger(L, (lua_Integer)rows[i].errors);
        lua_setfield(L, -2, "errors");
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    return 1;
}

/* print(...), as Lua's, but to the capture when this thread has one. Upvalue 1: the original. */
static int l_print(lua_State *L)
{
    if (!capture_fn) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, 0);
        return 0;
    }
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    capture_fn(capture_ctx, text, len);
    return 0;
}

/* What a script run through the admin socket may not call: os.exit would end the service
 * without a drain, and os.execute and io.popen would run a shell on the host's behalf. */
static int l_refused(lua_State *L)
{
    return luaL_error(L, "%s is not available to scripts run by the admin socket",
                      lua_tostring(L, lua_upvalueindex(1)));
}

static void refuse(lua_State *L, const char *lib, const char *fn)
{
    lua_getglobal(L, lib);
    if (lua_istable(L, -1)) {
        lua_pushfstring(L, "%s.%s", lib, fn);
        lua_pushcclosure(L, l_refused, 1);
        lua_setfield(L, -2, fn);
    }
    lua_pop(L, 1);
}

void host_lua_open_serve(lua_State *L)
{
    if (capture_fn) { /* this thread runs an admin `run` */
        refuse(L, "os", "exit");
        refuse(L, "os", "execute");
        refuse(L, "io", "popen");
    }
    static const luaL_Reg funcs[] = {
        {"serve", l_serve}, {"listen", l_listen}, {"models", l_models}, {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
    lua_getglobal(L, "print");
    if (lua_isfunction(L, -1)) {
        lua_pushcclosure(L, l_print, 1);
        lua_setglobal(L, "print");
    } else {
        lua_pop(L, 1);
    }
}
