-- make_cases.lua: writes the cases runner.sh runs scripts/conformance.lua on, with the fixture
-- frontend conftest-ir (IR text models, .npy tensors) and backend conftest-faulty.
--   aglm-host --pipeline tests/conformance/make_cases.lua -- dir=DIR
local aglm = require "aglm"
local dir = assert(aglm.args.dir, "dir=DIR is required")

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function one_node(op, dtype)
  dtype = dtype or "f32"
  return ("graph g(%%x: %s[4]) -> (%%y: %s[4]) {\n  opset ai.onnx 17\n  %%y: %s[4] = %s(%%x)\n}\n")
    :format(dtype, dtype, dtype, op)
end

-- sets: an array of {inputs, outputs} (arrays of tensors), one per test_data_set_N.
local function case(name, model, sets)
  local d = dir .. "/" .. name
  aglm.mkdir(d)
  write(d .. "/model.onnx", model)
  for s, set in ipairs(sets) do
    local sd = ("%s/test_data_set_%d"):format(d, s - 1)
    aglm.mkdir(sd)
    for i, t in ipairs(set[1]) do aglm.save_npy(("%s/input_%d.pb"):format(sd, i - 1), t) end
    for i, t in ipairs(set[2]) do aglm.save_npy(("%s/output_%d.pb"):format(sd, i - 1), t) end
  end
end

local function f32(values) return aglm.tensor("f32", { #values }, values) end
local x = f32({ -1, 2, -3, 4 })
local nan, inf = 0 / 0, 1 / 0

-- within rtol 1e-3 of 4: passes; the second data set differs from the first
case("test_relu_pass", one_node("Relu"), { { { x }, { f32({ 0, 2, 0, 4.003 }) } },
  { { f32({ 5, -5, 0, 1 }) }, { f32({ 5, 0, 0, 1 }) } } })
case("test_relu_second_set_wrong", one_node("Relu"), { { { x }, { f32({ 0, 2, 0, 4 }) } },
  { { x }, { f32({ 0, 2, 0, 4.01 }) } } })
case("test_relu_wrong_dtype", one_node("Relu"), { { { x }, { aglm.tensor("f64", { 4 }, { 0, 2, 0, 4 }) } } })
case("test_relu_wrong_shape", one_node("Relu"), { { { x }, { aglm.tensor("f32", { 2, 2 }, { 0, 2, 0, 4 }) } } })
case("test_relu_missing_output", one_node("Relu"), { { { x }, {} } })
case("test_identity_nan_inf", one_node("Identity"), { { { f32({ nan, inf, -inf, 1 }) }, { f32({ nan, inf, -inf, 1 }) } } })
case("test_identity_inf_sign", one_node("Identity"), { { { f32({ nan, inf, -inf, 1 }) }, { f32({ nan, -inf, -inf, 1 }) } } })
case("test_identity_float8", one_node("Identity"), { { { x }, { x } } })
case("test_neg_crash", one_node("Neg"), { { { x }, { x } } })
case("test_abs_hang", one_node("Abs"), { { { x }, { x } } })
case("test_sigmoid_refused", one_node("Sigmoid"), { { { x }, { x } } })
case("test_bad_model", "graph {", { { { x }, { x } } })
