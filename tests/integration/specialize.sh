#!/usr/bin/env bash
# g:specialize (docs/lua-api.md): fixing a graph's input shapes and re-inferring, each refusal
# (rank, a fixed dim, a dtype, a name that is no input, a symbolic input left out, a dim that is
# not a count, a symbol given two values) with the graph left unchanged; and cpu_fp32.lua, which specialises by default so
# `fuse` folds a residual Add it cannot prove over symbolic dims, with specialize=0 turning it off.
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
cd "$AGLM_SOURCE_DIR"
MODEL="$AGLM_SOURCE_DIR/tests/models/conv_residual_sym.yaml"
PIPELINE=scripts/cpu_fp32.lua

echo "# g:specialize from Lua"
cat >"$TMP/spec.lua" <<'LUA'
local aglm = require "aglm"
local model = aglm.args.model
local function shape_str(v)
  local d = {}
  for i, x in ipairs(v.shape) do d[i] = tostring(x) end
  return "[" .. table.concat(d, ",") .. "]"
end
local g = aglm.load(model)
print("declared " .. shape_str(g:inputs()[1]) .. " " .. shape_str(g:inputs()[2]) .. " -> " ..
  shape_str(g:outputs()[1]))
local r = { 1, 2, 4, 5 }
-- Each refusal: the message, then the inputs' shapes, which must still be the declared ones.
local bad = {
  rank = { x = { 1, 2, 6 }, r = r },
  fixed = { x = { 1, 3, 6, 7 }, r = r },
  dtype = { x = aglm.tensor("i64", { 1, 2, 6, 7 }), r = r },
  name = { x = { 1, 2, 6, 7 }, r = r, z = { 1 } },
  missing = { x = { 1, 2, 6, 7 } },
  dim = { x = { 1, 2, "H", 7 }, r = r },
  negative = { x = { 1, 2, -6, 7 }, r = r },
  symbol = { x = { 1, 2, 6, 7 }, r = { 2, 2, 4, 5 } },
}
for _, what in ipairs({ "rank", "fixed", "dtype", "name", "missing", "dim", "negative", "symbol" }) do
  local ok, err = pcall(g.specialize, g, bad[what])
  print(("refused %s: %s %s; still %s %s"):format(what, tostring(not ok), tostring(err),
    shape_str(g:inputs()[1]), shape_str(g:inputs()[2])))
end
local same = g:specialize({ x = { 1, 2, 6, 7 }, r = r })
print("specialized " .. shape_str(g:inputs()[1]) .. " " .. shape_str(g:inputs()[2]) .. " -> " ..
  shape_str(g:outputs()[1]) .. " returns g: " .. tostring(same == g))
-- A tensor gives its shape; a static input may then be left out.
local h = aglm.load(model)
h:specialize({ x = aglm.random("f32", { 3, 2, 6, 7 }), r = { 3, 2, 4, 5 } })
print("from a tensor " .. shape_str(h:inputs()[1]) .. " -> " .. shape_str(h:outputs()[1]))
h:specialize({ r = { 3, 2, 4, 5 } })
print("static input left out " .. shape_str(h:inputs()[1]))
LUA
run "$AGLM_HOST" --pipeline "$TMP/spec.lua" -- model="$MODEL"
expect_rc 0 "the specialize script runs"
expect_out '^declared \[N,2,H,W\] \[N,2,4,5\] -> \[N,2,4,5\]$' "the declared shapes, before"
still='; still \[N,2,H,W\] \[N,2,4,5\]$'
expect_out "^refused rank: true .*specialize: input 'x': expected f32\[N,2,H,W\], got f32\[1,2,6\]$still" \
  "a shape of another rank is refused, naming the input and both types; the graph is unchanged"
expect_out "^refused fixed: true .*specialize: input 'x': expected f32\[N,2,H,W\], got f32\[1,3,6,7\]$still" \
  "a shape contradicting a fixed dim is refused, naming the input and both types"
expect_out "^refused dtype: true .*specialize: input 'x': expected f32\[N,2,H,W\], got i64\[1,2,6,7\]$still" \
  "a tensor of another dtype is refused"
expect_out "^refused name: true .*specialize: 'z' is not an input of the graph \(inputs: x, r\)$still" \
  "a name that is no input is refused, listing the inputs"
expect_out "^refused missing: true .*specialize: input 'r' \(f32\[N,2,4,5\]\) has no shape given and is not static$still" \
  "a symbolic input left out is refused"
expect_out "^refused dim: true .*specialize: input 'x': dim 2 is H, expected an integer >= 0$still" \
  "a dim that is not an integer is refused, naming its position"
expect_out "^refused negative: true .*dim 2 is -6, expected an integer >= 0$still" \
  "a negative dim is refused"
expect_out "^refused symbol: true .*specialize: input 'r': dim 0 is N=1 in input 'x' but 2 here$still" \
  "a symbol given two values is refused, naming both inputs"
expect_out '^specialized \[1,2,6,7\] \[1,2,4,5\] -> \[1,2,4,5\] returns g: true$' \
  "specialising sets the inputs' dims and re-infers the output's"
expect_out '^from a tensor \[3,2,6,7\] -> \[3,2,4,5\]$' "a tensor gives its shape"
expect_out '^static input left out \[3,2,6,7\]$' "a static input may be left out"

echo "# cpu_fp32.lua specialises before the passes (specialize=1 by default)"
mkdir -p "$TMP/in"
"$AGLM_HOST" --pipeline "$HELPERS/make_npy.lua" -- out="$TMP/in/x.npy" dtype=f32 shape=1,2,6,7 \
    values=$(seq -s, -41 42 | sed 's/\([0-9]\)\(,\|$\)/\1.5\2/g') >/dev/null
"$AGLM_HOST" --pipeline "$HELPERS/make_npy.lua" -- out="$TMP/in/r.npy" dtype=f32 shape=1,2,4,5 \
    values=$(seq -s, -20 19) >/dev/null
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODEL" inputs="$TMP/in" outdir="$TMP/spec" \
    level=O2 print_ir=after-each
expect_rc 0 "level=O2 runs specialised"
expect_err "^# IR after pass 'fuse' \(O2, round 1\): 3 -> 1 nodes" "fuse folds Conv, the residual Add and Relu into one node"
expect_err '= aglm\.FusedConv\(%x, %w, %b, %r\)' "the residual is the FusedConv's 4th input"
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODEL" inputs="$TMP/in" outdir="$TMP/nospec" \
    level=O2 print_ir=after-each specialize=0
expect_rc 0 "specialize=0 runs"
expect_no_err 'aglm\.FusedConv\(%x, %w, %b, %r\)' "without it fuse cannot prove the Add's shape: no residual input"
expect_err '%c: f32\[N,2,\?,\?\] = Conv\(%x, %w, %b\)' "over symbolic dims the Conv output's spatial dims are unknown"
expect_err '= Add\(%c, %r\)' "so the Add stays a node of its own"
if cmp -s "$TMP/spec/y.npy" "$TMP/nospec/y.npy"; then pass "both give the same output"; else
  fail "the specialised and the symbolic run give different outputs"; fi
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODEL" inputs="$TMP/in" specialize=2
expect_rc 1 "specialize=2 is refused"
expect_err 'specialize=2: expected 0 or 1' "the message says what specialize takes"
"$AGLM_HOST" --pipeline "$HELPERS/make_npy.lua" -- out="$TMP/in/x.npy" dtype=f32 shape=1,3,2,2 \
    values=1,2,3,4,5,6,7,8,9,10,11,12 >/dev/null
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODEL" inputs="$TMP/in"
expect_rc 1 "an input contradicting the model is refused before optimising"
expect_err "specialize: input 'x': expected f32\[N,2,H,W\], got f32\[1,3,2,2\]" \
  "the error names the input, the declared and the given types"
finish
