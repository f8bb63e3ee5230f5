-- Writes a .npy file for the integration tests:
--   aglm-host --pipeline make_npy.lua -- out=FILE dtype=f32 shape=1,4 values=1,2,3,4
-- shape "" is a scalar; without values the tensor is random (seed=S, default 0).
local aglm = require "aglm"
local args = ...

local function list(s)
  local out = {}
  for item in (s or ""):gmatch("[^,]+") do
    out[#out + 1] = assert(tonumber(item), "not a number: " .. item)
  end
  return out
end

assert(args.out, "out=FILE is required")
local dtype, shape = args.dtype or "f32", list(args.shape)
local t
if args.values then
  t = aglm.tensor(dtype, shape, list(args.values))
else
  t = aglm.random(dtype, shape, tonumber(args.seed or "0"))
end
aglm.save_npy(args.out, t)
print(("wrote %s: %s"):format(args.out, tostring(t)))
