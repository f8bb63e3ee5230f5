/* aglm.file_stem, exists, mkdir, now, bench, log, and the helpers the other lua_*.c files share
 * (options tables, scratch buffers, saved error messages). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "lua_internal.h"

char *host_lua_save_error(char *buf)
{
    const char *msg = aglm_last_error();
    size_t len = strlen(msg);
    if (len >= HOST_LUA_MSG_MAX)
        len = HOST_LUA_MSG_MAX - 1;
    memcpy(buf, msg, len);
    buf[len] = '\0';
    return buf;
}

void *host_lua_push_scratch(lua_State *L, size_t size)
{
    void *p = lua_newuserdatauv(L, size ? size : 1, 0);
    memset(p, 0, size ? size : 1);
    return p;
}

typedef struct box {
    void *p;
} box;

static int box_gc(lua_State *L)
{
    box *b = lua_touserdata(L, 1);
    free(b->p);
    b->p = NULL;
    return 0;
}

static int box_new(lua_State *L)
{
    box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->p = NULL;
    if (luaL_newmetatable(L, "aglm.box")) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return 1;
}

void *host_lua_adopt(lua_State *L, void *p)
{
    lua_pushcfunction(L, box_new);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        free(p);
        lua_error(L);
    }
    ((box *)lua_touserdata(L, -1))->p = p;
    return p;
}

void host_lua_push_options(lua_State *L, int idx, const char *skip, const char *what,
                           aglm_options *out)
{
    idx = lua_absindex(L, idx);
    out->count = 0;
    out->items = NULL;
    if (lua_isnoneornil(L, idx)) {
        lua_newtable(L); /* an empty anchor keeps the stack shape the same */
        return;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n++;
        lua_pop(L, 1);
    }
    /* The anchor holds the converted strings and, at [0], the kv array, so both live as long
     * as the anchor is on the stack. */
    lua_createtable(L, (int)(2 * n), 1);
    int anchor = lua_gettop(L);
    aglm_kv *kv = host_lua_push_scratch(L, n * sizeof *kv);
    lua_rawseti(L, anchor, 0);
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "%s: option keys must be strings, got a %s", what, luaL_typename(L, -2));
        const char *key = lua_tostring(L, -2);
        if (skip && strcmp(key, skip) == 0) {
            lua_pop(L, 1);
            continue;
        }
        switch (lua_type(L, -1)) {
        case LUA_TSTRING: lua_pushvalue(L, -1); break;
        case LUA_TNUMBER:
            if (lua_isinteger(L, -1))
                lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, -1));
            else
                lua_pushfstring(L, "%f", lua_tonumber(L, -1));
            break;
        case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false"); break;
        default:
            luaL_error(L, "%s: option '%s' must be a string, number or boolean, got a %s", what,
                       key, luaL_typename(L, -1));
        }
        kv[count].value = lua_tostring(L, -1);
        lua_rawseti(L, anchor, (lua_Integer)(2 * count + 2));
        lua_pushvalue(L, -2);
        kv[count].key = lua_tostring(L, -1);
        lua_rawseti(L, anchor, (lua_Integer)(2 * count + 1));
        count++;
        lua_pop(L, 1);
    }
    out->count = count;
    out->items = kv;
}

/* ---- files ----------------------------------------------------------------------------- */

static int l_file_stem(lua_State *L)
{
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    char *buf = host_lua_push_scratch(L, len + 1);
    aglm_file_stem(name, buf, len + 1);
    lua_pushstring(L, buf);
    return 1;
}

static int l_exists(lua_State *L)
{
    struct stat st;
    lua_pushboolean(L, stat(luaL_checkstring(L, 1), &st) == 0);
    return 1;
}

static int make_dir(const char *path)
{
    struct stat st;
    if (mkdir(path, 0777) == 0)
        return 0;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (errno == EEXIST)
        errno = ENOTDIR;
    return -1;
}

static int l_mkdir(lua_State *L)
{
    size_t len;
    const char *path = luaL_checklstring(L, 1, &len);
    if (len == 0)
        return luaL_error(L, "mkdir: empty path");
    char *buf = host_lua_push_scratch(L, len + 1);
    memcpy(buf, path, len + 1);
    /* Every parent, then the folder itself: mkdir -p. */
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = make_dir(buf);
        *p = '/';
        if (rc != 0)
            return luaL_error(L, "mkdir '%s': %s", path, strerror(errno));
    }
    if (make_dir(buf) != 0)
        return luaL_error(L, "mkdir '%s': %s", path, strerror(errno));
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- time and benchmarks --------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int l_now(lua_State *L)
{
    lua_pushnumber(L, now_ms());
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void set_number(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static int l_bench(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_Integer n = luaL_checkinteger(L, 2);
    lua_Integer warmup = luaL_optinteger(L, 3, 1);
    if (n < 1 || n > 100000000)
        return luaL_error(L, "bench: iterations must be between 1 and 100000000, got %I",
                          (LUAI_UACINT)n);
    if (warmup < 0)
        return luaL_error(L, "bench: warm-up must be >= 0, got %I", (LUAI_UACINT)warmup);
    double *t = host_lua_push_scratch(L, (size_t)n * sizeof *t);
    for (lua_Integer i = 0; i < warmup; i++) {
        lua_pushvalue(L, 1);
        lua_call(L, 0, 0);
    }
    for (lua_Integer i = 0; i < n; i++) {
        lua_pushvalue(L, 1);
        double t0 = now_ms();
        lua_call(L, 0, 0);
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    /* Median of the middle pair for an even count; p90 by nearest rank. */
    double median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    lua_Integer p90 = (lua_Integer)ceil(0.9 * (double)n) - 1;
    double sum = 0;
    for (lua_Integer i = 0; i < n; i++)
        sum += t[i];
    lua_createtable(L, 0, 6);
    set_number(L, "median", median);
    set_number(L, "p90", t[p90 < 0 ? 0 : p90]);
    set_number(L, "min", t[0]);
    set_number(L, "max", t[n - 1]);
    set_number(L, "mean", sum / (double)n);
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "iters");
    return 1;
}

/* ---- logging --------------------------------------------------------------------------- */

static int l_log(lua_State *L)
{
    const char *level = luaL_checkstring(L, 1);
    const char *msg = luaL_checkstring(L, 2);
    int lv = host_log_parse_level(level);
    if (lv < 0)
        return luaL_error(L, "log: unknown level '%s' (error, warn, info, debug, trace)", level);
    host_log((aglm_log_level)lv, "lua", "%s", msg);
    return 0;
}

void host_lua_open_util(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"file_stem", l_file_stem}, {"exists", l_exists}, {"mkdir", l_mkdir}, {"now", l_now},
        {"bench", l_bench},         {"log", l_log},       {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
}
