/* The Lua side of serving (docs/lua-api.md): aglm.serve, aglm.listen and aglm.models, and the
 * capture of print() for the admin `run` command.
 *
 * Scripts register models in the process's served-model set (bound by main before any script
 * runs). A script that served a model, or asked for an admin socket, makes the host keep
 * running as a service after it returns. */
#ifndef AGLM_HOST_LUA_SERVE_H
#define AGLM_HOST_LUA_SERVE_H

#include <stddef.h>
#include <lua.h>

#include "served.h"

/* Adds aglm.serve, aglm.listen, aglm.models to the module table at the top of the stack, and
 * wraps the global print so a capture (below) can take its output. Under a capture (a script
 * run by the admin socket) os.exit, os.execute and io.popen raise instead. */
void host_lua_open_serve(lua_State *L);

/* The served-model set scripts register into (NULL: aglm.serve raises). */
void host_lua_bind_served(host_served *s);

/* 1 when a script served a model or called aglm.listen; admin (n bytes) gets the socket path it
 * asked for, or "". */
int host_lua_service_wanted(char *admin, size_t n);
/* Called once the service runs: aglm.listen raises from then on (the socket is fixed). */
void host_lua_service_started(void);

/* While set on this thread, print() from scripts run by this thread goes to fn instead of
 * stdout. NULL stops the capture. */
typedef void (*host_lua_print_fn)(void *ctx, const char *text, size_t len);
void host_lua_capture_print(host_lua_print_fn fn, void *ctx);

#endif
