-- Draws the model tests' input, exactly as ../shared/tools/ort-run.mjs --random NAME=SHAPE
-- --seed SEED draws it (xorshift32; each float32 element is the double rand()*2-1 rounded to
-- f32), and writes it as a .npy. The references were made from ort-run's draw, so this file lets
-- the tests carry only the outputs; run.sh checks it against two inputs ort-run wrote.
--
--   aglm-host --pipeline gen_input.lua -- shape=1x3x48x192 seed=1 out=FILE.npy
local aglm = require "aglm"
local args = ...

local shape, n = {}, 1
for d in assert(args.shape, "shape=D0xD1x... is required"):gmatch("[^x]+") do
  local v = assert(math.tointeger(tonumber(d)), "shape: not an integer: " .. d)
  shape[#shape + 1] = v
  n = n * v
end
local s = math.tointeger(tonumber(args.seed or "1")) & 0xffffffff
if s == 0 then s = 1 end

local values = {}
for i = 1, n do
  s = (s ~ (s << 13)) & 0xffffffff
  s = s ~ (s >> 17)
  s = (s ~ (s << 5)) & 0xffffffff
  values[i] = s / 4294967296.0 * 2 - 1
end
aglm.save_npy(assert(args.out, "out=FILE is required"), aglm.tensor("f32", shape, values))
