-- summary.lua: turns a conformance report into docs/conformance.md, a table by op.
--
--   aglm-host --pipeline tests/conformance/summary.lua -- [report=FILE] [out=FILE] [dir=DIR]
--             [backend=cpu] [seconds=S]
--
--   report   the runner's report (default build/conformance-<backend>.tsv in the repository)
--   out      the page to write (default docs/conformance.md in the repository)
--   dir      the case folders, read to find each case's op (default ../shared/onnx-backend-tests/node)
--   backend  the backend the report is for, for the page's title and command (default cpu)
--   seconds  how long the run took, to quote on the page
--
-- A case's op is the op_type of its model's only node; an `_expanded` case (a function body of
-- many nodes) counts under the op of its twin; any other many-node model counts under the op
-- whose name its case name starts with.

local aglm = require "aglm"
local args = ...

local ACCEPTED = { report = true, out = true, dir = true, backend = true, seconds = true }
for k in pairs(args) do
  if not ACCEPTED[k] then
    error(("unknown argument '%s' (accepted: report, out, dir, backend, seconds)"):format(k))
  end
end

local root = aglm.script_dir .. "/../.."
local backend = args.backend or "cpu"
local report = args.report or (root .. "/build/conformance-" .. backend .. ".tsv")
local out = args.out or (root .. "/docs/conformance.md")
local dir = args.dir or (root .. "/../shared/onnx-backend-tests/node")

local onnx = dofile(root .. "/scripts/conformance_onnx.lua")

local function model_ops(path)
  local m = onnx.read_model(path)
  return m and m.ops
end

-- ---- the report --------------------------------------------------------------------------

local rows = {}
do
  local f = io.open(report, "r")
  if not f then error(("cannot read the report '%s'"):format(report)) end
  for line in f:lines() do
    local name, result, reason = line:match("^([^\t]+)\t(%a+)\t?(.*)$")
    if not name then error(("%s: not a report line: %s"):format(report, line)) end
    rows[#rows + 1] = { name = name, result = result, reason = reason }
  end
  f:close()
end
if #rows == 0 then error(("the report '%s' is empty"):format(report)) end

local ops_of, single, known = {}, {}, {}
for _, r in ipairs(rows) do
  local ops = model_ops(dir .. "/" .. r.name .. "/model.onnx")
  ops_of[r.name] = ops
  if ops and #ops == 1 then
    single[r.name] = ops[1]
    known[ops[1]] = true
  end
end

local squashed = {}
for op in pairs(known) do squashed[#squashed + 1] = { op = op, key = op:lower():gsub("[^%w]", "") } end
table.sort(squashed, function(a, b) return #a.key > #b.key end)

local function op_of(name)
  if single[name] then return single[name] end
  local twin = name:gsub("_expanded_ver%d+$", ""):gsub("_expanded$", "")
  if single[twin] then return single[twin] end
  local key = name:gsub("^test_", ""):lower():gsub("[^%w]", "")
  for _, s in ipairs(squashed) do
    if key:sub(1, #s.key) == s.key then return s.op end
  end
  local ops = ops_of[name]
  return ops and ops[1] or "(model unreadable)"
end

-- A reason without the case-specific details, so that like reasons count together.
local function reason_kind(reason)
  local r = reason:gsub("^test_data_set_%d+: ", "")
  r = r:gsub(";.*$", ""):gsub("%d+ of %d+ values differ", "values differ")
  r = r:gsub("^load '[^']*': ", "load: "):gsub("'[^']*/([^'/]*)'", "'%1'")
  if #r > 90 then r = r:sub(1, 87) .. "..." end
  return r
end

local by_op, totals = {}, { cases = 0, pass = 0, fail = 0, skip = 0 }
for _, r in ipairs(rows) do
  local op = op_of(r.name)
  local e = by_op[op]
  if not e then
    e = { op = op, cases = 0, pass = 0, fail = 0, skip = 0, reasons = {} }
    by_op[op] = e
  end
  e.cases = e.cases + 1
  e[r.result] = (e[r.result] or 0) + 1
  totals.cases = totals.cases + 1
  totals[r.result] = (totals[r.result] or 0) + 1
  if r.result ~= "pass" then
    local k = r.result .. ": " .. reason_kind(r.reason)
    e.reasons[k] = (e.reasons[k] or 0) + 1
  end
end

local function main_reasons(e, n)
  local list = {}
  for k, c in pairs(e.reasons) do list[#list + 1] = { k = k, c = c } end
  table.sort(list, function(a, b) return a.c > b.c or (a.c == b.c and a.k < b.k) end)
  local parts = {}
  for i = 1, math.min(n, #list) do
    parts[i] = ("%s (%d)"):format(list[i].k:gsub("|", "\\|"):gsub("`", "'"), list[i].c)
  end
  if #list > n then parts[#parts + 1] = ("%d other reason%s"):format(#list - n, #list - n > 1 and "s" or "") end
  return table.concat(parts, "; ")
end

local ops = {}
for _, e in pairs(by_op) do ops[#ops + 1] = e end
local function sort_key(op) return op:gsub("^.*%.", ""):lower() end
table.sort(ops, function(a, b) return sort_key(a.op) < sort_key(b.op) end)

local lines = {}
local function add(s) lines[#lines + 1] = s end
add(("# Conformance: ONNX backend node tests on `%s`"):format(backend))
add("")
add(("**%d cases: %d passed, %d failed, %d skipped** (%d ops), %s%s."):format(totals.cases,
  totals.pass, totals.fail, totals.skip, #ops, os.date("!%Y-%m-%d %H:%M UTC"),
  args.seconds and (", the run took %s s"):format(args.seconds) or ""))
add("")
add("Generated from the runner's report by")
add("")
add("    build/aglm-host --pipeline scripts/conformance.lua -- backend=" .. backend)
add("    build/aglm-host --pipeline tests/conformance/summary.lua -- backend=" .. backend ..
  (args.seconds and (" seconds=" .. args.seconds) or ""))
add("")
add("The cases are `../shared/onnx-backend-tests/node` (its README says how a case passes: every " ..
  "output equal in dtype and shape, values within rtol 1e-3, atol 1e-7 for floating point, exact " ..
  "otherwise). Each runs in its own `aglm-host` process with a 20 s limit, so a crash or a hang " ..
  "fails that case only. A case is skipped only for a named reason: the backend refuses an op " ..
  "(`op X not implemented`), the frontend refuses a dtype libaglm lacks (`dtype float8e4m3fn not " ..
  "supported`), or a graph input or output is a sequence or optional value, which `x:run` cannot " ..
  "take or give. `ctest -L conformance` runs the suite on cpu and fails when fewer cases pass than " ..
  "`tests/conformance/floor.txt` says.")
add("")
add("A case counts under the op of its model's node; an `_expanded` case (the op's function body " ..
  "built from other ops) under its twin's op.")
add("")
add("Other backends and subsets: `backend=cuda`, `filter=^test_conv` (a Lua pattern) or " ..
  "`filter=test_abs,test_add` (names), `jobs=N` (default: one per core), `timeout=S` (default 20), " ..
  "`report=FILE` (default `build/conformance-<backend>.tsv`: one line per case, " ..
  "`case<TAB>pass|fail|skip<TAB>reason`), `verbose=1`. The closing line is always " ..
  "`N passed, N failed, N skipped`.")
add("")
add("## By op")
add("")
add("| op | cases | passed | failed | skipped | main reasons (failures and skips) |")
add("| --- | ---: | ---: | ---: | ---: | --- |")
for _, e in ipairs(ops) do
  add(("| %s | %d | %d | %d | %d | %s |"):format(e.op, e.cases, e.pass, e.fail, e.skip, main_reasons(e, 2)))
end
add(("| **total** | %d | %d | %d | %d | |"):format(totals.cases, totals.pass, totals.fail, totals.skip))

-- Skips by reason, with the dtype or op named, most frequent first.
local skip_reasons, failing = {}, {}
for _, r in ipairs(rows) do
  if r.result == "skip" then
    skip_reasons[r.reason] = (skip_reasons[r.reason] or 0) + 1
  elseif r.result == "fail" then
    failing[#failing + 1] = r
  end
end
local sorted = {}
for k, c in pairs(skip_reasons) do sorted[#sorted + 1] = { k = k, c = c } end
table.sort(sorted, function(a, b) return a.c > b.c or (a.c == b.c and a.k < b.k) end)
add("")
add("## Skips by reason")
add("")
add("| reason | cases |")
add("| --- | ---: |")
for _, e in ipairs(sorted) do add(("| %s | %d |"):format(e.k:gsub("|", "\\|"), e.c)) end

add("")
add("## Failing cases")
add("")
if #failing == 0 then add("None.") end
local MAX_LISTED = 150
for i, r in ipairs(failing) do
  if i > MAX_LISTED then
    add(("- ... and %d more (see the report)"):format(#failing - MAX_LISTED))
    break
  end
  local why = r.reason:gsub("`", "'")
  if #why > 200 then why = why:sub(1, 197) .. "..." end
  add(("- `%s`: %s"):format(r.name, why))
end

local f = io.open(out, "w")
if not f then error(("cannot write '%s'"):format(out)) end
f:write(table.concat(lines, "\n"), "\n")
f:close()
print(("%s: %d ops, %d cases (%d passed, %d failed, %d skipped)"):format(out, #ops, totals.cases,
  totals.pass, totals.fail, totals.skip))
