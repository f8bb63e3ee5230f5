-- Compares a .npy file with expected values, for the integration tests:
--   aglm-host --pipeline check_npy.lua -- file=FILE shape=1,3 values=1,2,3 [dtype=f32] [tol=1e-5]
-- or with another file: expect=FILE. An element passes when |got - want| <= tol * (1 + |want|).
-- Exits 1 (a Lua error) naming the first element that differs.
local aglm = require "aglm"
local args = ...

local function list(s)
  local out = {}
  for item in (s or ""):gmatch("[^,]+") do
    out[#out + 1] = assert(tonumber(item), "not a number: " .. item)
  end
  return out
end

local function shape_str(shape)
  local dims = {}
  for i, d in ipairs(shape) do dims[i] = tostring(d) end
  return "[" .. table.concat(dims, ",") .. "]"
end

assert(args.file, "file=FILE is required")
local got = aglm.load_npy(args.file)
local want_shape, want_values, want_dtype
if args.expect then
  local e = aglm.load_npy(args.expect)
  want_shape, want_values, want_dtype = e:shape(), e:totable(), e:dtype()
else
  want_shape, want_values, want_dtype = list(args.shape), list(args.values), args.dtype
end
local tol = tonumber(args.tol or "1e-5")

if want_dtype and got:dtype() ~= want_dtype then
  error(("%s: dtype %s, expected %s"):format(args.file, got:dtype(), want_dtype), 0)
end
if shape_str(got:shape()) ~= shape_str(want_shape) then
  error(("%s: shape %s, expected %s"):format(args.file, shape_str(got:shape()), shape_str(want_shape)), 0)
end
local values = got:totable()
if #values ~= #want_values then
  error(("%s: %d values, expected %d"):format(args.file, #values, #want_values), 0)
end
local worst = 0
for i, want in ipairs(want_values) do
  local err = math.abs(values[i] - want)
  if err > tol * (1 + math.abs(want)) then
    error(("%s: element %d is %.9g, expected %.9g"):format(args.file, i, values[i], want), 0)
  end
  worst = math.max(worst, err)
end
print(("ok %s: %s%s, %d values match (max error %.3g)"):format(args.file, got:dtype(),
  shape_str(got:shape()), #values, worst))
