#!/bin/bash
# aglm.load_tensor (docs/lua-api.md) through the onnx frontend: a hand-encoded TensorProto reads
# back with its dtype, shape and values; a dtype libaglm lacks, a missing file and a frontend
# without tensor files each fail with a message naming the problem.
set -eu
host=${AGLM_HOST:?AGLM_HOST must name aglm-host}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# TensorProto{dims: [2], data_type: FLOAT (1), name: "t", raw_data: 1.0f, -2.0f (little-endian)}
printf '\x08\x02\x10\x01\x42\x01t\x4a\x08\x00\x00\x80\x3f\x00\x00\x00\xc0' > "$tmp/t.pb"
# TensorProto{dims: [1], data_type: FLOAT8E4M3FN (17), raw_data: one byte}
printf '\x08\x01\x10\x11\x4a\x01\x38' > "$tmp/f8.pb"

cat > "$tmp/check.lua" <<'LUA'
local aglm = require "aglm"
local dir = aglm.args.dir
local function expect_error(what, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error(what .. ": expected an error") end
  return tostring(err)
end
local function contains(s, part)
  if not s:find(part, 1, true) then error(("expected %q in: %s"):format(part, s)) end
end

local t = aglm.load_tensor(dir .. "/t.pb")
assert(t:dtype() == "f32", "dtype " .. t:dtype())
local shape = t:shape()
assert(#shape == 1 and shape[1] == 2, "shape")
local v = t:totable()
assert(v[1] == 1.0 and v[2] == -2.0, ("values %s, %s"):format(v[1], v[2]))
t = aglm.load_tensor(dir .. "/t.pb", { frontend = "onnx" })
assert(t:get(2) == -2.0)

local err = expect_error("float8", aglm.load_tensor, dir .. "/f8.pb")
contains(err, "f8.pb")
contains(err, "float8e4m3fn")
err = expect_error("missing", aglm.load_tensor, dir .. "/missing.pb")
contains(err, "cannot open '" .. dir .. "/missing.pb'")
err = expect_error("yaml", aglm.load_tensor, dir .. "/t.pb", { frontend = "yaml" })
contains(err, "frontend 'yaml' reads no tensor files")
err = expect_error("nope", aglm.load_tensor, dir .. "/t.pb", { frontend = "nope" })
contains(err, "nope")
err = expect_error("option", aglm.load_tensor, dir .. "/t.pb", { fronted = "onnx" })
contains(err, "unknown option 'fronted'")
print("ok")
LUA
out=$("$host" --pipeline "$tmp/check.lua" -- dir="$tmp" 2>&1) || { echo "$out"; exit 1; }
[ "$out" = ok ] || { echo "unexpected output: $out"; exit 1; }
echo "load_tensor: ok"
