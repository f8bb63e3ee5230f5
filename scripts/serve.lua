-- serve.lua: load a model, compile it and serve it under a name; the host then keeps running as
-- a service until the admin `shutdown` command, SIGTERM or SIGINT (docs/admin.md).
--
--   aglm-host --pipeline scripts/serve.lua -- model=FILE name=NAME [backend=cpu] [level=O2] [print_ir=after-each]
--                                               [admin=SOCKET]
--
--   model    the model file (any format a frontend plugin reads)
--   name     the name clients use: `infer NAME inputs=DIR outdir=DIR` (default: the file's stem)
--   backend  the backend plugin that compiles it (default cpu)
--   level    O0 (no pass) to O3: the optimisation level, a list of passes run before compiling
--            (aglm-host --list-levels, docs/levels.md); default O2. Recompiles keep it
--   print_ir after-each: print the IR after every pass of the first compile to stderr
--   admin    the admin socket (default: aglm.ini's [admin] socket; none: no socket, signals only)

local aglm = require "aglm"
local args = ...

local ACCEPTED = { "model", "name", "backend", "level", "print_ir", "admin" }

local function check_args()
  local known, unknown = {}, {}
  for _, k in ipairs(ACCEPTED) do known[k] = true end
  for k in pairs(args) do
    if not known[k] then unknown[#unknown + 1] = "'" .. k .. "'" end
  end
  if #unknown > 0 then
    table.sort(unknown)
    error(("unknown argument%s %s (accepted: %s)"):format(#unknown > 1 and "s" or "",
      table.concat(unknown, ", "), table.concat(ACCEPTED, ", ")))
  end
  if not args.model then error("missing model=FILE (the model to serve)") end
end

check_args()
local name = args.name or aglm.file_stem(args.model:match("([^/]+)$"):gsub("%.[^.]*$", ""))
local backend = args.backend or "cpu"
local g = aglm.load(args.model)
local level = args.level or "O2"
aglm.serve(name, g, backend, { level = level, print_ir = args.print_ir })
g:release()
if args.admin then aglm.listen(args.admin) end
print(("serving %s as '%s' on %s at %s%s"):format(args.model, name, backend, level,
  args.admin and (", admin socket " .. args.admin) or ""))
