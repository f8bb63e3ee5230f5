-- cpu_fp32.lua: load a model, optimise it at a level, compile it for the cpu backend in fp32,
-- run it, write the outputs and optionally benchmark it.
--
--   aglm-host --pipeline scripts/cpu_fp32.lua -- model=FILE inputs=DIR outdir=DIR [bench=N] [threads=T]
--                                                   [profile=1] [level=O2] [print_ir=after-each]
--                                                   [specialize=1] [runs=1]
--
--   model    the model file (any format a frontend plugin reads)
--   inputs   folder with one <name>.npy per model input; without it, inputs are random (seed 0)
--   outdir   folder that receives one <name>.npy per model output (created if missing);
--            without it, the outputs are printed
--   bench    after the run: warm up once, time N runs, print the latency as the last line
--   threads  worker threads of the cpu backend (0 or absent: aglm.ini's [plugin.cpu] threads,
--            else one per core)
--   profile  1: compile with the backend's profiling on and, after the runs (bench's included),
--            print the time per op type (sorted, with its share and node count), the 10 slowest
--            nodes, the peak bytes of intermediate tensors and the GFLOP per run (convolution
--            and matrix-product multiply-adds x 2, element-wise ops not counted) with the rate
--            the kernels reached, before the latency line. FILE.json: the same, and a Chrome
--            trace of every run written to FILE.json (chrome://tracing or Perfetto open it: one
--            event per node per run, op, input shapes and FLOPs in its args, subgraph bodies
--            nested inside the node running them)
--   level    O0 (no pass) to O3: the optimisation level, a list of passes (aglm-host
--            --list-levels, docs/levels.md); default O2. Passes of the level that are not
--            loaded are skipped with a warning
--   print_ir after-each: print the IR after every pass to stderr, under a header line
--            "# IR after pass 'NAME' (LEVEL, round R): BEFORE -> AFTER nodes, MS ms"
--   specialize 1 (default): before optimising, fix the model's input shapes to those of the
--            inputs (read or drawn) with g:specialize, so the passes see concrete dims (a
--            residual Add fuses into its Conv, Shape arithmetic folds); the compiled model then
--            takes only those shapes. 0: optimise and compile the declared (symbolic) shapes
--   runs     run the model N times (default 1) and write or print the last run's outputs: runs
--            after the first reuse the memory plan the first one sized, so runs=2 checks it
--
-- In file names every character of a tensor name outside [A-Za-z0-9_.-] becomes '_'.
-- With no arguments it runs models/default.yaml (beside this script) on random inputs and says
-- what it did. Every pipeline script keeps this contract.

local aglm = require "aglm"
local args = ...

local ACCEPTED = { "model", "inputs", "outdir", "bench", "threads", "profile", "level", "print_ir",
  "specialize", "runs" }

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

local function int_arg(name, min)
  local v = args[name]
  if v == nil then return nil end
  local n = math.tointeger(tonumber(v))
  if not n or n < min then
    error(("%s=%s: expected an integer >= %d"):format(name, v, min))
  end
  return n
end

local function type_str(dtype, shape)
  local dims = {}
  for i, d in ipairs(shape) do dims[i] = tostring(d) end
  return dtype .. "[" .. table.concat(dims, ",") .. "]"
end

-- A value's shape with symbolic dims set to 1, for generated inputs.
local function concrete_shape(v)
  if not v.shape then
    error(("input '%s' has an unknown shape: give its values with inputs=DIR"):format(v.name))
  end
  local shape = {}
  for i, d in ipairs(v.shape) do shape[i] = math.type(d) == "integer" and d or 1 end
  return shape
end

local function read_inputs(g, dir)
  local inputs, described = {}, {}
  for i, v in ipairs(g:inputs()) do
    local t, origin
    if dir then
      local path = dir .. "/" .. aglm.file_stem(v.name) .. ".npy"
      if not aglm.exists(path) then
        error(("missing input file '%s' for input '%s'"):format(path, v.name))
      end
      t, origin = aglm.load_npy(path), path
    else
      t, origin = aglm.random(v.dtype, concrete_shape(v), i - 1), ("random, seed %d"):format(i - 1)
    end
    inputs[v.name] = t
    described[#described + 1] = ("input %s: %s (%s)"):format(v.name, type_str(t:dtype(), t:shape()), origin)
  end
  return inputs, described
end

-- "[3]=0.912 [7]=0.455 ..." for the k largest values.
local function top_values(t, k)
  local values = t:totable()
  local order = {}
  for i = 1, #values do order[i] = i end
  table.sort(order, function(a, b) return values[a] > values[b] end)
  local parts = {}
  for i = 1, math.min(k, #order) do
    parts[i] = ("[%d]=%.4g"):format(order[i] - 1, values[order[i]])
  end
  return table.concat(parts, " ")
end

local function first_values(t, k)
  local parts = {}
  for i = 1, math.min(k, t:numel()) do parts[i] = ("%.6g"):format(t:get(i)) end
  if t:numel() > k then parts[#parts + 1] = ("... (%d values)"):format(t:numel()) end
  return table.concat(parts, " ")
end

-- Time per op type and the slowest nodes, from x:profile().
local function print_profile(x)
  local p, why = x:profile()
  if not p then
    print("profile: " .. why)
    return
  end
  local total, by_op, order = 0, {}, {}
  for _, n in ipairs(p.nodes) do
    -- A subgraph's nodes ("Loop_1::body::Add") run inside their holder's time: listed among
    -- the slowest, not summed twice.
    if n.node:find("::", 1, true) then goto continue end
    total = total + n.ms
    local o = by_op[n.op]
    if not o then
      o = { op = n.op, ms = 0, nodes = 0 }
      by_op[n.op] = o
      order[#order + 1] = o
    end
    o.ms, o.nodes = o.ms + n.ms, o.nodes + 1
    ::continue::
  end
  local runs = math.max(p.runs, 1)
  table.sort(order, function(a, b) return a.ms > b.ms end)
  print(("profile: %d runs, %d nodes, %.3f ms per run in kernels"):format(p.runs, #p.nodes,
    total / runs))
  print(("%-24s %10s %7s %6s"):format("op", "ms/run", "%", "nodes"))
  for _, o in ipairs(order) do
    print(("%-24s %10.3f %6.1f%% %6d"):format(o.op, o.ms / runs,
      total > 0 and 100 * o.ms / total or 0, o.nodes))
  end
  local slow = {}
  for i, n in ipairs(p.nodes) do slow[i] = n end
  table.sort(slow, function(a, b) return a.ms > b.ms end)
  print(("slowest nodes:"))
  for i = 1, math.min(10, #slow) do
    local n = slow[i]
    print(("  %-40s %-20s %10.3f ms/run %6.1f%%"):format(n.node, n.op, n.ms / runs,
      total > 0 and 100 * n.ms / total or 0))
  end
  if p.peak_bytes > 0 then
    -- The arena holds what the memory plan placed; the rest (graph outputs, sizes the plan did
    -- not foresee, the unplanned first run) came from the heap.
    local arena = p.arena_bytes or 0
    local heap = p.peak_bytes - arena
    print(("peak arena bytes: %d (%.1f MiB)"):format(arena, arena / 1048576))
    print(("peak heap intermediate bytes: %d (%.1f MiB)"):format(heap, heap / 1048576))
  else
    print("peak intermediate bytes: unknown")
  end
  -- flops and the kernel time are both summed over the same runs, so their ratio is the rate
  -- the kernels ran at (element-wise work counted in the time, not in the flops).
  local flops = p.flops or 0
  if flops > 0 and total > 0 then
    print(("GFLOP per run: %.4g (conv/matmul multiply-adds x 2), %.1f GFLOP/s"):format(
      flops / runs / 1e9, flops / (total * 1e6)))
  else
    print("GFLOP per run: unknown (no conv or matmul counted)")
  end
end

check_args()
local bench = int_arg("bench", 1)
local runs = int_arg("runs", 1) or 1
local threads = int_arg("threads", 0)
-- profile=1 prints the profile; profile=FILE.json writes a trace too.
local trace = args.profile and args.profile:match("%.json$") and args.profile or nil
local profile = trace and 1 or int_arg("profile", 0)
if profile and profile > 1 then
  error(("profile=%s: expected 0, 1 or a FILE.json for a Chrome trace"):format(args.profile))
end
profile = profile == 1
local specialize = int_arg("specialize", 0)
if specialize and specialize > 1 then
  error(("specialize=%s: expected 0 or 1"):format(args.specialize))
end
specialize = specialize ~= 0
local default_run = args.model == nil
local model = args.model or (aglm.script_dir .. "/models/default.yaml")

local level = args.level or "O2"
if not level:match("^O[0-3]$") then error(("level=%s: expected O0, O1, O2 or O3"):format(level)) end
if args.print_ir and args.print_ir ~= "after-each" and args.print_ir ~= "none" then
  error(("print_ir=%s: expected after-each or none"):format(args.print_ir))
end

local g = aglm.load(model)
local inputs, described = read_inputs(g, args.inputs)
if specialize then g:specialize(inputs) end
local report = aglm.optimize(g, level, { print_ir = args.print_ir })
local copts = {}
if (threads or 0) > 0 then copts.threads = threads end
if profile then copts.profile = 1 end
if trace then copts.trace = trace end
local x = aglm.compile(g, "cpu", copts)

if default_run then
  print(("model %s: %d nodes, %d after %s, compiled for cpu (fp32)"):format(model,
    report.nodes_before, report.nodes_after, level))
  for _, line in ipairs(described) do print(line) end
end

local outputs
for _ = 1, runs do outputs = x:run(inputs) end
if args.outdir then aglm.mkdir(args.outdir) end
for _, v in ipairs(g:outputs()) do
  local t = outputs[v.name]
  local line = ("output %s: %s"):format(v.name, type_str(t:dtype(), t:shape()))
  if args.outdir then
    local path = args.outdir .. "/" .. aglm.file_stem(v.name) .. ".npy"
    aglm.save_npy(path, t)
    print(line .. " -> " .. path)
  elseif default_run then
    print(line .. " top: " .. top_values(t, 3))
  else
    print(line .. " = " .. first_values(t, 16))
  end
end

local r = bench and aglm.bench(function() x:run(inputs) end, bench, 1)
if profile then print_profile(x) end
if trace then print(("trace: %s (open it in chrome://tracing or Perfetto)"):format(trace)) end
if r then
  print(("latency_ms median=%.3f p90=%.3f min=%.3f iters=%d"):format(r.median, r.p90, r.min, r.iters))
end
