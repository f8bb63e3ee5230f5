-- passes.lua: cpu_fp32.lua's run with a chosen list of passes applied first, for checking that
-- passes keep the real models within tolerance of ONNX Runtime (run.sh with AGLM_REAL_PASSES).
--
--   aglm-host --pipeline tests/real/passes.lua -- model=FILE inputs=DIR outdir=DIR
--             passes=NAME,NAME,... [bench=N] [threads=T]
--
-- Prints "nodes BEFORE -> AFTER" and, with bench, the latency line of cpu_fp32.lua.
local aglm = require "aglm"
local args = ...

for _, k in ipairs({ "model", "inputs", "outdir", "passes" }) do
  if not args[k] then error(("missing argument %s="):format(k)) end
end
local names = {}
for name in args.passes:gmatch("[^,]+") do names[#names + 1] = name end

local g = aglm.load(args.model)
local before = g:num_nodes()
aglm.passes(g, names)
print(("nodes %d -> %d after %s"):format(before, g:num_nodes(), table.concat(names, ",")))
local copts = {}
local threads = tonumber(args.threads or "0")
if threads > 0 then copts.threads = threads end
local x = aglm.compile(g, "cpu", copts)
local inputs = {}
for _, v in ipairs(g:inputs()) do
  inputs[v.name] = aglm.load_npy(args.inputs .. "/" .. aglm.file_stem(v.name) .. ".npy")
end
local outputs = x:run(inputs)
aglm.mkdir(args.outdir)
for _, v in ipairs(g:outputs()) do
  aglm.save_npy(args.outdir .. "/" .. aglm.file_stem(v.name) .. ".npy", outputs[v.name])
end
local bench = tonumber(args.bench or "0")
if bench > 0 then
  local r = aglm.bench(function() x:run(inputs) end, bench, 1)
  print(("latency_ms median=%.3f p90=%.3f min=%.3f iters=%d"):format(r.median, r.p90, r.min, r.iters))
end
