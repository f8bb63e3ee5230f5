/* Tensor userdata (owns an aglm_tensor) and aglm.tensor, aglm.random, aglm.load_npy,
 * aglm.save_npy, aglm.load_tensor. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_internal.h"

typedef struct ltensor {
    aglm_tensor t;
    int live;
} ltensor;

aglm_tensor *host_lua_push_tensor(lua_State *L)
{
    ltensor *lt = lua_newuserdatauv(L, sizeof *lt, 0);
    memset(lt, 0, sizeof *lt);
    lt->live = 1;
    luaL_setmetatable(L, HOST_LUA_TENSOR);
    return &lt->t;
}

aglm_tensor *host_lua_to_tensor(lua_State *L, int idx)
{
    ltensor *lt = luaL_testudata(L, idx, HOST_LUA_TENSOR);
    return lt && lt->live ? &lt->t : NULL;
}

aglm_tensor *host_lua_check_tensor(lua_State *L, int idx)
{
    ltensor *lt = luaL_checkudata(L, idx, HOST_LUA_TENSOR);
    if (!lt->live)
        luaL_error(L, "tensor was released");
    return &lt->t;
}

static int t_release(lua_State *L)
{
    ltensor *lt = luaL_checkudata(L, 1, HOST_LUA_TENSOR);
    aglm_tensor_free(&lt->t);
    lt->live = 0;
    return 0;
}

/* Reads a shape array at idx into dims; returns the rank. */
static int check_shape(lua_State *L, int idx, int64_t *dims)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer rank = (lua_Integer)lua_rawlen(L, idx);
    if (rank > AGLM_MAX_RANK)
        luaL_error(L, "shape has rank %I, at most %d is supported", (LUAI_UACINT)rank,
                   AGLM_MAX_RANK);
    for (lua_Integer i = 0; i < rank; i++) {
        lua_rawgeti(L, idx, i + 1);
        int ok;
        lua_Integer d = lua_tointegerx(L, -1, &ok);
        if (!ok || d < 0)
            luaL_error(L, "shape: dim %I must be an integer >= 0, got %s", (LUAI_UACINT)(i + 1),
                       luaL_tolstring(L, -1, NULL));
        dims[i] = d;
        lua_pop(L, 1);
    }
    return (int)rank;
}

static aglm_dtype check_dtype(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    aglm_dtype dt = aglm_dtype_from_name(name);
    if (dt == AGLM_UNDEFINED || dt == AGLM_STRING)
        luaL_error(L, "unknown dtype '%s' (f32, f16, bf16, f64, i8, u8, i16, i32, i64, bool, ...)",
                   name);
    return dt;
}

/* Pushes a new tensor of dtype/shape (args at idx, idx+1), zero-filled. */
static aglm_tensor *push_new(lua_State *L, int idx)
{
    aglm_dtype dt = check_dtype(L, idx);
    int64_t dims[AGLM_MAX_RANK];
    int rank = check_shape(L, idx + 1, dims);
    aglm_tensor *t = host_lua_push_tensor(L);
    if (aglm_tensor_alloc(t, dt, rank, dims) != AGLM_OK)
        luaL_error(L, "tensor: %s", aglm_last_error());
    return t;
}

static int l_tensor(lua_State *L)
{
    lua_settop(L, 3); /* the new tensor goes to 4, whether or not values were given */
    aglm_tensor *t = push_new(L, 1);
    if (lua_isnoneornil(L, 3))
        return 1;
    luaL_checktype(L, 3, LUA_TTABLE);
    int64_t numel = aglm_tensor_numel(t);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 3);
    if (n != numel) {
        char shape[128];
        return luaL_error(L, "tensor: %I values for shape %s (%I elements)", (LUAI_UACINT)n,
                          aglm_shape_str(t->rank, t->dims, shape, sizeof shape),
                          (LUAI_UACINT)numel);
    }
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, 3, i + 1);
        double v;
        if (lua_isboolean(L, -1)) {
            v = lua_toboolean(L, -1);
        } else {
            int ok;
            v = (double)lua_tonumberx(L, -1, &ok);
            if (!ok)
                return luaL_error(L, "tensor: value %I is not a number", (LUAI_UACINT)(i + 1));
        }
        aglm_tensor_set_f64(t, i, v);
        lua_pop(L, 1);
    }
    return 1;
}

/* splitmix64: small, fast, and the same sequence on every machine for a seed. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int l_random(lua_State *L)
{
    uint64_t state = (uint64_t)luaL_optinteger(L, 3, 0);
    lua_settop(L, 2);
    aglm_tensor *t = push_new(L, 1);
    int64_t numel = aglm_tensor_numel(t);
    for (int64_t i = 0; i < numel; i++) {
        uint64_t r = next_random(&state);
        double v;
        if (aglm_dtype_is_float(t->dtype))
            v = (double)(r >> 11) * 0x1.0p-53 * 2.0 - 1.0; /* [-1, 1) */
        else if (t->dtype == AGLM_BOOL)
            v = (double)(r & 1);
        else
            v = (double)(r % 10); /* [0, 10) */
        aglm_tensor_set_f64(t, i, v);
    }
    return 1;
}

static int l_load_npy(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    aglm_tensor *t = host_lua_push_tensor(L);
    if (aglm_npy_load(path, t) != AGLM_OK)
        return luaL_error(L, "load_npy: %s", aglm_last_error());
    return 1;
}

static int l_save_npy(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    aglm_tensor *t = host_lua_check_tensor(L, 2);
    if (aglm_npy_save(path, t) != AGLM_OK)
        return luaL_error(L, "save_npy: %s", aglm_last_error());
    return 0;
}

/* ---- aglm.load_tensor ------------------------------------------------------------------ */

#define PROBE_BYTES 4096

static int has_load_tensor(const aglm_frontend_ops *ops)
{
    return AGLM_HAS_MEMBER(aglm_frontend_ops, ops, load_tensor) && ops->load_tensor;
}

static int probe_score(aglm_plugin_ref *ref, const char *path, const unsigned char *head,
                       size_t head_len)
{
    const aglm_frontend_ops *ops = host_ref_desc(ref)->ops;
    if (!AGLM_HAS_MEMBER(aglm_frontend_ops, ops, probe) || !ops->probe)
        return 0;
    return ops->probe(host_ref_state(ref), path, head, head_len);
}

/* Among the started frontends that read tensor files: the most confident by probe; when none
 * claims the file (a TensorProto has no magic to recognise), "onnx", else the first by name.
 * NULL with the message in msg when no frontend reads tensor files. */
static aglm_plugin_ref *pick_tensor_frontend(host_registry *reg, const char *path,
                                             const unsigned char *head, size_t head_len, char *msg)
{
    aglm_plugin_ref **refs = NULL;
    size_t count = 0;
    if (host_registry_acquire_all(reg, AGLM_KIND_FRONTEND, &refs, &count) != AGLM_OK) {
        snprintf(msg, HOST_LUA_MSG_MAX, "listing frontends: %s", aglm_last_error());
        return NULL;
    }
    aglm_plugin_ref *best = NULL, *onnx = NULL, *first = NULL;
    int best_score = 0;
    for (size_t i = 0; i < count; i++) {
        if (!has_load_tensor(host_ref_desc(refs[i])->ops))
            continue;
        int score = probe_score(refs[i], path, head, head_len);
        if (score > best_score) {
            best = refs[i];
            best_score = score;
        }
        if (strcmp(host_ref_desc(refs[i])->name, "onnx") == 0)
            onnx = refs[i];
        if (!first)
            first = refs[i];
    }
    aglm_plugin_ref *pick = best ? best : onnx ? onnx : first;
    int len = snprintf(msg, HOST_LUA_MSG_MAX, "no frontend reads tensor files (loaded: ");
    for (size_t i = 0; i < count; i++) {
        if (!pick && len > 0 && len < HOST_LUA_MSG_MAX)
            len += snprintf(msg + len, HOST_LUA_MSG_MAX - (size_t)len, "%s%s", i ? ", " : "",
                            host_ref_desc(refs[i])->name);
        if (refs[i] != pick)
            host_registry_release(refs[i]);
    }
    if (!pick && len > 0 && len < HOST_LUA_MSG_MAX)
        snprintf(msg + len, HOST_LUA_MSG_MAX - (size_t)len, "%s)", count ? "" : "none");
    free(refs);
    return pick;
}

static int l_load_tensor(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *frontend = NULL;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        /* the op takes no options, so any other key is a mistake worth naming */
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "frontend") != 0)
                return luaL_error(L, "load_tensor: unknown option '%s' (accepted: frontend)",
                                  luaL_tolstring(L, -1, NULL));
        }
        lua_getfield(L, 2, "frontend");
        frontend = lua_tostring(L, -1); /* stays on the stack, so alive */
    }
    unsigned char *head = host_lua_push_scratch(L, PROBE_BYTES);
    char *msg = host_lua_push_scratch(L, HOST_LUA_MSG_MAX);
    aglm_tensor *t = host_lua_push_tensor(L);

    FILE *f = fopen(path, "rb");
    if (!f)
        return luaL_error(L, "load_tensor: cannot open '%s': %s", path, strerror(errno));
    size_t head_len = fread(head, 1, PROBE_BYTES, f);
    int read_err = ferror(f) ? errno : 0;
    fclose(f);
    if (read_err)
        return luaL_error(L, "load_tensor: cannot read '%s': %s", path, strerror(read_err));

    host_registry *reg = host_lua_registry(L);
    aglm_plugin_ref *ref;
    if (frontend) {
        ref = host_registry_acquire(reg, frontend, AGLM_KIND_FRONTEND);
        if (!ref)
            return luaL_error(L, "load_tensor '%s': %s", path, aglm_last_error());
    } else {
        ref = pick_tensor_frontend(reg, path, head, head_len, msg);
        if (!ref)
            return luaL_error(L, "load_tensor '%s': %s", path, msg);
    }
    const aglm_plugin_desc *d = host_ref_desc(ref);
    aglm_status st;
    if (!has_load_tensor(d->ops))
        st = aglm_error(AGLM_ERR_UNSUPPORTED, "frontend '%s' reads no tensor files", d->name);
    else
        st = ((const aglm_frontend_ops *)d->ops)->load_tensor(host_ref_state(ref), path, t);
    if (st != AGLM_OK) {
        host_lua_save_error(msg);
        aglm_tensor_free(t);
        memset(t, 0, sizeof *t);
    }
    host_registry_release(ref);
    if (st != AGLM_OK)
        return luaL_error(L, "load_tensor '%s': %s", path, msg);
    return 1;
}

/* ---- methods --------------------------------------------------------------------------- */

static int t_shape(lua_State *L)
{
    aglm_tensor *t = host_lua_check_tensor(L, 1);
    lua_createtable(L, t->rank, 0);
    for (int i = 0; i < t->rank; i++) {
        lua_pushinteger(L, (lua_Integer)t->dims[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int t_dtype(lua_State *L)
{
    lua_pushstring(L, aglm_dtype_name(host_lua_check_tensor(L, 1)->dtype));
    return 1;
}

static int t_numel(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)aglm_tensor_numel(host_lua_check_tensor(L, 1)));
    return 1;
}

/* Integers exactly (an i64 does not fit a double), floats as numbers. */
static void push_element(lua_State *L, const aglm_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case AGLM_I64: lua_pushinteger(L, (lua_Integer)((const int64_t *)t->data)[i]); break;
    case AGLM_U64: lua_pushinteger(L, (lua_Integer)((const uint64_t *)t->data)[i]); break;
    default:
        if (aglm_dtype_is_int(t->dtype) || t->dtype == AGLM_BOOL)
            lua_pushinteger(L, (lua_Integer)aglm_tensor_get_f64(t, i));
        else
            lua_pushnumber(L, aglm_tensor_get_f64(t, i));
    }
}

static void check_cpu(lua_State *L, const aglm_tensor *t)
{
    if (t->device != AGLM_DEVICE_CPU)
        luaL_error(L, "tensor is on a device, not in host memory");
}

static int t_get(lua_State *L)
{
    aglm_tensor *t = host_lua_check_tensor(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);
    int64_t numel = aglm_tensor_numel(t);
    if (i < 1 || i > numel)
        return luaL_error(L, "get: index %I out of range [1, %I]", (LUAI_UACINT)i,
                          (LUAI_UACINT)numel);
    check_cpu(L, t);
    push_element(L, t, i - 1);
    return 1;
}

static int t_totable(lua_State *L)
{
    aglm_tensor *t = host_lua_check_tensor(L, 1);
    int64_t numel = aglm_tensor_numel(t);
    check_cpu(L, t);
    if (numel > INT32_MAX)
        return luaL_error(L, "totable: %I elements are too many for a table", (LUAI_UACINT)numel);
    lua_createtable(L, (int)numel, 0);
    for (int64_t i = 0; i < numel; i++) {
        push_element(L, t, i);
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
    }
    return 1;
}

static int t_tostring(lua_State *L)
{
    ltensor *lt = luaL_checkudata(L, 1, HOST_LUA_TENSOR);
    char shape[256];
    if (!lt->live)
        lua_pushliteral(L, "tensor (released)");
    else
        lua_pushfstring(L, "tensor %s%s", aglm_dtype_name(lt->t.dtype),
                        aglm_shape_str(lt->t.rank, lt->t.dims, shape, sizeof shape));
    return 1;
}

void host_lua_open_tensor(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"shape", t_shape},     {"dtype", t_dtype},     {"numel", t_numel}, {"get", t_get},
        {"totable", t_totable}, {"release", t_release}, {NULL, NULL}};
    static const luaL_Reg funcs[] = {{"tensor", l_tensor},           {"random", l_random},
                                     {"load_npy", l_load_npy},       {"save_npy", l_save_npy},
                                     {"load_tensor", l_load_tensor}, {NULL, NULL}};
    luaL_newmetatable(L, HOST_LUA_TENSOR);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, t_release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, t_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}
