-- conformance.lua: runs the ONNX backend node tests on a backend and reports each case.
--
--   aglm-host --pipeline scripts/conformance.lua -- [backend=cpu] [dir=DIR] [filter=F] [ops=OPS]
--             [report=FILE] [jobs=N] [timeout=S] [frontend=NAME] [verbose=1]
--
--   backend   the backend plugin to test (default cpu)
--   dir       the folder of cases (default ../shared/onnx-backend-tests/node beside the
--             repository, found from this script's folder)
--   filter    a Lua pattern a case's name must contain (filter=^test_conv), or a comma-separated
--             list of case names (filter=test_abs,test_add; one name: filter=test_add,)
--   ops       a comma-separated list of op types (ops=Add,Mul,Relu): only the cases whose every
--             node is one of them, the cases of those ops (test_add_bcast, not the expanded
--             functions that use Add among other ops); with filter, a case must match both
--   report    the report to write (default build/conformance-<backend>.tsv in the repository):
--             one line per case run, "case<TAB>pass|fail|skip<TAB>reason", sorted by case
--   jobs      cases run at once (default: one per core, `nproc`)
--   timeout   seconds a case may take before it counts as failed (default 20)
--   frontend  the frontend that reads models and .pb tensors (default: chosen by probe)
--   verbose   1: print every case as it ends; default: only failures and a progress line
--
-- Each case runs scripts/conformance_case.lua in its own aglm-host process (same executable,
-- same --config, --plugin-dir and --log-level as this one, so a backend that only --plugin-dir
-- finds is tested as well) under `timeout`, so a crash or a hang fails that case only: "crashed
-- (signal 11)" (under AddressSanitizer "crashed (AddressSanitizer: SEGV ...)"), "timed out
-- after 20 s". The closing line is exactly "N passed, N failed, N skipped". The exit status is
-- 0 whenever the runner itself worked, whatever the cases did.

local aglm = require "aglm"
local args = ...

local ACCEPTED = { "backend", "dir", "filter", "ops", "report", "jobs", "timeout", "frontend",
  "verbose" }

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
end

local function int_arg(name, default, min)
  local v = args[name]
  if v == nil then return default end
  local n = math.tointeger(tonumber(v))
  if not n or n < min then
    error(("%s=%s: expected an integer >= %d"):format(name, v, min))
  end
  return n
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

-- The command that started this host, minus --pipeline and the script's arguments: the
-- executable and the options that choose its configuration and plugins.
local function host_command()
  local f = io.open("/proc/self/cmdline", "rb")
  if not f then error("cannot read /proc/self/cmdline to find the aglm-host executable") end
  local raw = f:read("a")
  f:close()
  local argv = {}
  for word in raw:gmatch("([^%z]*)%z") do argv[#argv + 1] = word end
  local words, i = { quote(argv[1]) }, 2
  while i <= #argv and argv[i] ~= "--" do
    local a = argv[i]
    if a == "--pipeline" then
      i = i + 1
    elseif not a:find("^%-%-pipeline=") then
      words[#words + 1] = quote(a)
    end
    i = i + 1
  end
  return table.concat(words, " ")
end

local function read_lines(cmd)
  local p = assert(io.popen(cmd, "r"))
  local lines = {}
  for line in p:lines() do lines[#lines + 1] = line end
  local ok, how, code = p:close()
  if not ok then error(("'%s' failed (%s %s)"):format(cmd, how, code)) end
  return lines
end

local function list_cases(dir, filter)
  if not aglm.exists(dir) then error(("no test folder '%s' (give dir=DIR)"):format(dir)) end
  local all, by_name = {}, {}
  for _, name in ipairs(read_lines("ls -1 " .. quote(dir))) do
    if aglm.exists(dir .. "/" .. name .. "/model.onnx") then
      all[#all + 1] = name
      by_name[name] = true
    end
  end
  table.sort(all)
  if not filter then return all end
  local picked = {}
  if filter:find(",", 1, true) then
    local seen = {}
    for name in filter:gmatch("[^,%s]+") do
      if not by_name[name] then error(("filter: no case '%s' in '%s'"):format(name, dir)) end
      if not seen[name] then picked[#picked + 1] = name end
      seen[name] = true
    end
    table.sort(picked)
  else
    local ok, err = pcall(string.find, "", filter)
    if not ok then error(("filter=%s: %s"):format(filter, err)) end
    for _, name in ipairs(all) do
      if name:find(filter) then picked[#picked + 1] = name end
    end
  end
  return picked
end

-- The cases of `names` whose model has nodes and only nodes of the ops listed in `ops`.
local function cases_of_ops(dir, names, ops)
  local wanted = {}
  for op in ops:gmatch("[^,%s]+") do wanted[op] = true end
  if not next(wanted) then error("ops=: expected a comma-separated list of op types") end
  local onnx = dofile(aglm.script_dir .. "/conformance_onnx.lua")
  local picked = {}
  for _, name in ipairs(names) do
    local info = onnx.read_model(dir .. "/" .. name .. "/model.onnx")
    local all = info and #info.ops > 0
    for _, op in ipairs(info and info.ops or {}) do all = all and wanted[op] end
    if all then picked[#picked + 1] = name end
  end
  return picked
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- result, reason for a case from its exit status and its output.
local function classify(rc, out, timeout)
  if rc == 124 or rc == 137 then return "fail", ("timed out after %d s"):format(timeout) end
  if rc > 128 then
    return "fail", ("crashed (signal %d)"):format(rc - 128)
  end
  local result, reason
  for r, why in out:gmatch("RESULT\t(%a+)\t([^\n]*)") do result, reason = r, why end
  if rc ~= 0 then
    -- Under a sanitizer a crash is its report and exit status 1, not a signal.
    local tool, what = out:match("ERROR: (%a+Sanitizer): ([^\n]*)")
    if tool == "AddressSanitizer" or tool == "MemorySanitizer" or tool == "ThreadSanitizer" then
      return "fail", ("crashed (%s: %s)"):format(tool, what)
    elseif tool then
      return "fail", ("%s: %s"):format(tool, what)
    end
    local ub = out:match("(runtime error: [^\n]*)")
    if ub then return "fail", "UndefinedBehaviorSanitizer: " .. ub end
    -- Otherwise the host's own error line ("aglm-host: ...") says what went wrong.
    local why = out:match("aglm%-host: ([^\n]*)") or out:match("([^\n]+)\n?$") or "no output"
    -- A pass or a skip followed by a bad exit (a leak report, an error while tearing down) is
    -- a failure too.
    if result == "fail" then return result, reason end
    return "fail", ("exit status %d: %s"):format(rc, why)
  end
  if not result then return "fail", "the case printed no result" end
  return result, reason
end

check_args()
local backend = args.backend or "cpu"
-- One case per core by default: a case is one small process, mostly waiting on the CPU.
local function cores()
  local p = io.popen("nproc 2>/dev/null")
  local n = p and tonumber(p:read("l") or "")
  if p then p:close() end
  return n and n >= 1 and math.tointeger(n) or 2
end

local jobs = int_arg("jobs", nil, 1) or cores()
local timeout = int_arg("timeout", 20, 1)
local verbose = args.verbose == "1"
local repo = dirname(aglm.script_dir)
if aglm.script_dir == "." then repo = ".." end
local dir = args.dir or (repo .. "/../shared/onnx-backend-tests/node")
local report = args.report or (repo .. "/build/conformance-" .. aglm.file_stem(backend) .. ".tsv")
local case_script = aglm.script_dir .. "/conformance_case.lua"
if not aglm.exists(case_script) then error(("missing '%s'"):format(case_script)) end

local cases = list_cases(dir, args.filter)
if args.ops then cases = cases_of_ops(dir, cases, args.ops) end
if #cases == 0 then
  error(("no case in '%s' matches%s%s"):format(dir, args.filter and (" filter=" .. args.filter) or "",
    args.ops and (" ops=" .. args.ops) or ""))
end

local tmp = read_lines("mktemp -d")[1]
local ok, err = pcall(function()
  -- One worker per case: the case's output goes to its own file, and one line "STATUS MS NAME"
  -- (a single short write, so lines of parallel workers never mix) to the pipe we read.
  local worker = tmp .. "/worker.sh"
  local w = assert(io.open(worker, "w"))
  w:write("start=$(date +%s%N)\n")
  w:write(("timeout -k 5 %d %s --pipeline %s -- case=%s/\"$1\" backend=%s%s >%s/\"$1\".out 2>&1 </dev/null\n")
    :format(timeout, host_command(), quote(case_script), quote(dir), quote(backend),
      args.frontend and (" frontend=" .. quote(args.frontend)) or "", quote(tmp)))
  w:write('rc=$?\necho "$rc $(( ($(date +%s%N) - start) / 1000000 )) $1"\n')
  w:close()
  local list = assert(io.open(tmp .. "/cases", "w"))
  list:write(table.concat(cases, "\n"), "\n")
  list:close()

  print(("running %d case(s) on %s, %d at a time, %d s each at most"):format(#cases, backend, jobs, timeout))
  local start = aglm.now()
  local results, counts, done, times = {}, { pass = 0, fail = 0, skip = 0 }, 0, {}
  local p = assert(io.popen(("xargs -d '\\n' -n 1 -P %d sh %s < %s"):format(jobs, quote(worker),
    quote(tmp .. "/cases")), "r"))
  for line in p:lines() do
    local rc, ms, name = line:match("^(%d+) (%d+) (.+)$")
    if rc then
      times[#times + 1] = { name = name, ms = tonumber(ms) }
      local out_path = tmp .. "/" .. name .. ".out"
      local result, reason = classify(tonumber(rc), read_file(out_path) or "", timeout)
      os.remove(out_path)
      reason = reason:gsub("[\t\r\n]+", " ")
      results[name] = { result, reason }
      counts[result] = (counts[result] or 0) + 1
      done = done + 1
      if verbose or result == "fail" then
        print(("%-4s %s%s"):format(result, name, reason ~= "" and ("  " .. reason) or ""))
      end
      if not verbose and done % 200 == 0 then
        print(("... %d/%d cases (%d passed, %d failed, %d skipped)"):format(done, #cases,
          counts.pass, counts.fail, counts.skip))
      end
    end
  end
  p:close()
  local seconds = (aglm.now() - start) / 1000

  -- A case whose worker never reported (xargs itself was killed) is a failure, never silent.
  for _, name in ipairs(cases) do
    if not results[name] then
      results[name] = { "fail", "the runner got no status for it" }
      counts.fail = counts.fail + 1
    end
  end

  aglm.mkdir(dirname(report))
  local f = io.open(report, "w")
  if not f then error(("cannot write the report '%s'"):format(report)) end
  for _, name in ipairs(cases) do
    f:write(name, "\t", results[name][1], "\t", results[name][2], "\n")
  end
  f:close()
  table.sort(times, function(a, b) return a.ms > b.ms end)
  local slow = {}
  for i = 1, math.min(5, #times) do slow[i] = ("%s %d ms"):format(times[i].name, times[i].ms) end
  print(("%d case(s) in %.1f s with %d job(s); slowest: %s"):format(#cases, seconds, jobs,
    table.concat(slow, ", ")))
  print("report: " .. report)
  print(("%d passed, %d failed, %d skipped"):format(counts.pass, counts.fail, counts.skip))
end)
os.execute("rm -rf " .. quote(tmp))
if not ok then error(err, 0) end
