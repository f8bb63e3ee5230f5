-- conformance_case.lua: runs one case of the ONNX backend node tests on a backend and says
-- whether it passed. scripts/conformance.lua runs it once per case, in a child process with a
-- time limit, so that a crash or a hang fails only that case.
--
--   aglm-host --pipeline scripts/conformance_case.lua -- case=DIR [backend=cpu] [frontend=NAME]
--
--   case      the case's folder: model.onnx and test_data_set_N/{input,output}_K.pb
--   backend   the backend plugin that compiles and runs the model (default cpu)
--   frontend  the frontend that reads the model and the .pb tensors (default: chosen by probe)
--
-- The last line of its output is "RESULT<TAB>pass|fail|skip<TAB>reason" and the exit status 0,
-- whatever the result; a bad argument exits 1. A case passes when every output matches
-- output_K.pb in dtype and shape, and in value within atol + rtol * |expected| (rtol 1e-3,
-- atol 1e-7) for floating point, NaN matching NaN and infinities matching themselves, exactly
-- otherwise, for every test_data_set_N. It is skipped only for a named reason: the backend
-- refuses an op, the frontend refuses a dtype, or a graph input or output is a sequence, map,
-- optional or sparse value (x:run takes and gives dense tensors only).

local aglm = require "aglm"
local args = ...

local RTOL, ATOL = 1e-3, 1e-7
local ACCEPTED = { case = true, backend = true, frontend = true }
local FLOAT = { f32 = true, f16 = true, bf16 = true, f64 = true }
-- ONNX element types libaglm has no dtype for; a frontend that refuses one names it.
local FOREIGN_DTYPES = { "float8e4m3fnuz", "float8e4m3fn", "float8e5m2fnuz", "float8e5m2",
  "float8e8m0", "float4e2m1", "uint4", "int4", "uint2", "int2", "complex64", "complex128", "string" }
-- What a graph input or output that is not a tensor is skipped for: x:run takes and gives tensors.
local KIND_REASONS = { sequence = "sequence values are not supported",
  map = "map values are not supported", optional = "optional values are not supported",
  sparse = "sparse tensor values are not supported" }

for k in pairs(args) do
  if not ACCEPTED[k] then
    error(("unknown argument '%s' (accepted: case, backend, frontend)"):format(k))
  end
end
if not args.case then error("case=DIR is required") end

local onnx = dofile(aglm.script_dir .. "/conformance_onnx.lua")
local case_dir = args.case
local backend = args.backend or "cpu"
local frontend_opts = args.frontend and { frontend = args.frontend } or nil

-- Ends the case: raises a verdict that the outer pcall prints (so the script still returns
-- normally and the host tears everything down as usual).
local VERDICT = {}
local function finish(result, reason)
  error(setmetatable({ result = result, reason = reason or "" }, VERDICT), 0)
end

-- The message of a Lua error without the "FILE:LINE: " that error() puts in front, with paths
-- inside the case folder made relative to it, and a path that only repeats the one before it
-- ("load 'm.onnx': m.onnx: ...") dropped.
local function bare(msg)
  msg = tostring(msg):gsub("^[^:\n]*%.lua:%d+: ", "")
  msg = msg:gsub(case_dir:gsub("%p", "%%%0") .. "/", "")
  msg = msg:gsub("^(%a+ )'([^']*)': %2: ", "%1'%2': ")
  return msg
end

-- The named reason for skipping when a frontend refuses something it cannot represent, or nil.
local function frontend_refusal(msg)
  local lower = msg:lower()
  if not (lower:find("support", 1, true) or lower:find("unknown", 1, true)) then return nil end
  local op = msg:match("unknown op '([^']+)'") or msg:match("op '([^']+)' is not supported")
  if op then return ("op %s not implemented"):format(op) end
  for _, name in ipairs(FOREIGN_DTYPES) do
    if lower:find("%f[%w]" .. name .. "%f[^%w]") then
      return ("dtype %s not supported"):format(name)
    end
  end
  for _, kind in ipairs({ "sequence", "optional", "sparse" }) do
    if lower:find("%f[%a]" .. kind .. "%f[%A]") then return KIND_REASONS[kind] end
  end
  return nil
end

-- "op A not implemented" (or "ops A, B not implemented"), from a compile error that lists the
-- nodes the backend cannot run: "... cannot run 2 nodes: 'n0' (Foo), 'n1' (Bar on f16)".
local function backend_refusal(msg)
  local list = msg:match("cannot run .-: (.*)$")
  if not list then return nil end
  local ops, seen = {}, {}
  for inner in list:gmatch("'[^']*' %(([^)]*)%)") do
    local op, dtype = inner:match("^(%S+) on (%S+)$")
    local what = op and ("%s for %s"):format(op, dtype) or inner
    if not seen[what] then
      seen[what] = true
      ops[#ops + 1] = what
    end
  end
  if #ops == 0 then return nil end
  return ("op%s %s not implemented"):format(#ops > 1 and "s" or "", table.concat(ops, ", "))
end

local function shape_str(s)
  local dims = {}
  for i, d in ipairs(s) do dims[i] = tostring(d) end
  return "[" .. table.concat(dims, ",") .. "]"
end

local function same_shape(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

-- nil when got matches want; otherwise what differs.
local function compare(name, got, want)
  if got:dtype() ~= want:dtype() then
    return ("output '%s': dtype %s, expected %s"):format(name, got:dtype(), want:dtype())
  end
  local gs, ws = got:shape(), want:shape()
  if not same_shape(gs, ws) then
    return ("output '%s': shape %s, expected %s"):format(name, shape_str(gs), shape_str(ws))
  end
  local a, b = got:totable(), want:totable()
  local float = FLOAT[got:dtype()]
  local bad, first, worst, worst_diff = 0, nil, nil, -1
  for i = 1, #b do
    local x, y = a[i], b[i]
    if x ~= y then
      local ok = false
      if float then
        if x ~= x and y ~= y then
          ok = true
        elseif y == y and x == x and math.abs(y) ~= math.huge then
          ok = math.abs(x - y) <= ATOL + RTOL * math.abs(y)
        end
      end
      if not ok then
        bad = bad + 1
        first = first or i
        local diff = math.abs(x - y)
        if diff ~= diff then diff = math.huge end
        if diff > worst_diff then worst, worst_diff = i, diff end
      end
    end
  end
  if bad == 0 then return nil end
  local fmt = float and "%.9g" or "%d"
  return ("output '%s': %d of %d values differ; first at [%d]: got " .. fmt .. ", expected " ..
    fmt .. "; largest at [%d]: got " .. fmt .. ", expected " .. fmt):format(name, bad, #b,
    first - 1, a[first], b[first], worst - 1, a[worst], b[worst])
end

local function count_files(dir, prefix)
  local n = 0
  while aglm.exists(("%s/%s_%d.pb"):format(dir, prefix, n)) do n = n + 1 end
  return n
end

-- Reads a .pb tensor; on failure finishes the case (skip for a named refusal, else fail).
local function read_tensor(path, what)
  local ok, t = pcall(aglm.load_tensor, path, frontend_opts)
  if ok then return t end
  local msg = bare(t)
  local reason = frontend_refusal(msg)
  if reason then finish("skip", reason) end
  finish("fail", ("%s: %s"):format(what, msg))
end

local function run_data_set(g, x, dir, label)
  local ins, outs = g:inputs(), g:outputs()
  local n_in, n_out = count_files(dir, "input"), count_files(dir, "output")
  if n_in ~= #ins then
    finish("fail", ("%s: %d input file(s) for %d graph input(s)"):format(label, n_in, #ins))
  end
  if n_out ~= #outs then
    finish("fail", ("%s: %d output file(s) for %d graph output(s)"):format(label, n_out, #outs))
  end
  local inputs = {}
  for i = 1, n_in do
    inputs[i] = read_tensor(("%s/input_%d.pb"):format(dir, i - 1), ("%s input %d"):format(label, i - 1))
  end
  local expected = {}
  for i = 1, n_out do
    expected[i] = read_tensor(("%s/output_%d.pb"):format(dir, i - 1), ("%s output %d"):format(label, i - 1))
  end
  local ok, got = pcall(x.run, x, inputs)
  if not ok then finish("fail", ("%s: %s"):format(label, bare(got))) end
  for i, v in ipairs(outs) do
    local t = got[v.name]
    if not t then finish("fail", ("%s: output '%s' missing"):format(label, v.name)) end
    local diff = compare(v.name, t, expected[i])
    if diff then finish("fail", ("%s: %s"):format(label, diff)) end
  end
end

local function run_case()
  local model = case_dir .. "/model.onnx"
  if not aglm.exists(model) then finish("fail", ("no model.onnx in '%s'"):format(case_dir)) end

  -- Values that are not tensors cannot be fed or compared, whatever the frontend and backend do.
  local info = onnx.read_model(model)
  if info then
    for _, list in ipairs({ info.inputs, info.outputs }) do
      for _, kind in ipairs(list) do
        if KIND_REASONS[kind] then finish("skip", KIND_REASONS[kind]) end
      end
    end
  end

  local ok, g = pcall(aglm.load, model, frontend_opts)
  if not ok then
    local msg = bare(g)
    local reason = frontend_refusal(msg)
    if reason then finish("skip", reason) end
    finish("fail", msg)
  end

  local x
  ok, x = pcall(aglm.compile, g, backend)
  if not ok then
    local msg = bare(x)
    local reason = backend_refusal(msg)
    if reason then finish("skip", reason) end
    finish("fail", msg)
  end

  local sets = 0
  while aglm.exists(("%s/test_data_set_%d"):format(case_dir, sets)) do
    run_data_set(g, x, ("%s/test_data_set_%d"):format(case_dir, sets), "test_data_set_" .. sets)
    sets = sets + 1
  end
  if sets == 0 then finish("fail", "no test_data_set_0") end
  finish("pass", "")
end

local ok, verdict = pcall(run_case)
if not ok and getmetatable(verdict) ~= VERDICT then
  verdict = { result = "fail", reason = "runner error: " .. tostring(verdict) }
end
local reason = verdict.reason:gsub("[\t\r\n]+", " ")
if #reason > 400 then reason = reason:sub(1, 397) .. "..." end
io.write("RESULT\t", verdict.result, "\t", reason, "\n")
io.stdout:flush()
