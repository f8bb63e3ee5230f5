-- Compares every .npy of a reference folder with the file of the same name in an output folder,
-- as the model tests judge them (the rule of ../shared/tools/npy-compare.mjs): dtype and shape
-- equal, and every element within |out - ref| <= atol + rtol * |ref| (NaN never passes).
-- Prints one line per file (max abs and rel error, elements off) and exits 1 (a Lua error) when
-- any file fails.
--
--   aglm-host --pipeline compare.lua -- ref=DIR out=DIR [files=a.npy,b.npy] [atol=1e-4] [rtol=1e-3]
local aglm = require "aglm"
local args = ...

local ref_dir = assert(args.ref, "ref=DIR is required")
local out_dir = assert(args.out, "out=DIR is required")
local atol = tonumber(args.atol or "1e-4")
local rtol = tonumber(args.rtol or "1e-3")
assert(args.files, "files=a.npy,... is required (the reference files to compare)")

local function shape_str(t)
  local dims = {}
  for i, d in ipairs(t:shape()) do dims[i] = tostring(d) end
  return t:dtype() .. "[" .. table.concat(dims, ",") .. "]"
end

local failed = {}
for file in args.files:gmatch("[^,]+") do
  local out_path = out_dir .. "/" .. file
  local verdict
  if not aglm.exists(out_path) then
    verdict = "missing " .. out_path
  else
    local r, o = aglm.load_npy(ref_dir .. "/" .. file), aglm.load_npy(out_path)
    if shape_str(r) ~= shape_str(o) then
      verdict = ("got %s, reference %s"):format(shape_str(o), shape_str(r))
    else
      local rv, ov = r:totable(), o:totable()
      local max_abs, max_rel, bad, first = 0, 0, 0, nil
      for i = 1, #rv do
        local err = math.abs(ov[i] - rv[i])
        if not (err <= atol + rtol * math.abs(rv[i])) then
          bad = bad + 1
          first = first or i
        end
        if err == err then
          max_abs = math.max(max_abs, err)
          if rv[i] ~= 0 then max_rel = math.max(max_rel, err / math.abs(rv[i])) end
        end
      end
      local stats = ("%s max_abs=%.3g max_rel=%.3g"):format(shape_str(r), max_abs, max_rel)
      if bad > 0 then
        verdict = ("%s: %d of %d elements off, first at flat index %d: got %.9g, reference %.9g")
          :format(stats, bad, #rv, first - 1, ov[first], rv[first])
      else
        print(("ok %s: %s"):format(file, stats))
      end
    end
  end
  if verdict then
    print(("FAIL %s: %s"):format(file, verdict))
    failed[#failed + 1] = file
  end
end
if #failed > 0 then
  error(("%d file%s differ%s from the reference: %s"):format(#failed, #failed > 1 and "s" or "",
    #failed > 1 and "" or "s", table.concat(failed, ", ")), 0)
end
