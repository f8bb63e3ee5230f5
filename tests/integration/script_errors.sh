#!/usr/bin/env bash
# Pipeline scripts that fail, and scripts that drive the registry: errors print
# "aglm-host: FILE:LINE: message" and exit 1; plugins load, unload and replace from Lua, and an
# executable keeps running on the backend version that compiled it across a replace.
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
cd "$AGLM_SOURCE_DIR"
MODELS="$AGLM_SOURCE_DIR/tests/models"
S="$TMP/scripts"
mkdir -p "$S"

echo "# Lua errors"
printf 'local x = 1\nlocal y = = 2\n' >"$S/syntax.lua"
run "$AGLM_HOST" --pipeline "$S/syntax.lua"
expect_rc 1 "a syntax error"
expect_fixed_err "aglm-host: $S/syntax.lua:2: " "the message gives FILE:LINE"

printf -- '-- a comment\nlocal function f() error("boom") end\nf()\n' >"$S/runtime.lua"
run "$AGLM_HOST" --pipeline "$S/runtime.lua"
expect_rc 1 "error() at run time"
expect_fixed_err "aglm-host: $S/runtime.lua:2: boom" "the message gives FILE:LINE of the error"
expect_no_err "stack traceback" "no traceback at the default log level"
run "$AGLM_HOST" --log-level debug --pipeline "$S/runtime.lua"
expect_rc 1 "the same error at --log-level debug"
expect_err "stack traceback:" "a traceback at --log-level debug"

printf 'error({code = 3})\n' >"$S/table_error.lua"
run "$AGLM_HOST" --pipeline "$S/table_error.lua"
expect_rc 1 "error() with a table"
expect_err "\(error object is a table value\)" "the message says what was raised"

run "$AGLM_HOST" --pipeline "$S/does_not_exist.lua"
expect_rc 1 "a script that does not exist"
expect_fixed_err "cannot open $S/does_not_exist.lua" "the message names the script"

printf 'assert(aglm.args.a == "1" and aglm.args.b == "x=y", "args")\nlocal t = ...\nassert(t == aglm.args)\nprint("args ok")\n' >"$S/args.lua"
run "$AGLM_HOST" --pipeline "$S/args.lua" -- a=1 b=x=y
expect_rc 0 "arguments reach aglm.args and ..."
expect_out "^args ok$" "the script saw a=1 and b=x=y"

echo "# aglm calls that fail"
printf 'local g = aglm.load(aglm.script_dir .. "/nope.yaml")\n' >"$S/missing_model.lua"
run "$AGLM_HOST" --pipeline "$S/missing_model.lua"
expect_rc 1 "aglm.load of a missing file"
expect_fixed_err "aglm-host: $S/missing_model.lua:1: cannot open '$S/nope.yaml': No such file or directory" \
    "the message gives FILE:LINE and the file"

printf 'not a model: no frontend claims these bytes\n' >"$S/weights.bin"
printf 'aglm.load(aglm.script_dir .. "/weights.bin")\n' >"$S/no_frontend.lua"
run "$AGLM_HOST" --pipeline "$S/no_frontend.lua"
expect_rc 1 "aglm.load of a file no frontend reads"
expect_fixed_err "no frontend can read '$S/weights.bin' (tried: onnx, yaml)" "the message lists the frontends tried"

cat >"$S/unknown_backend.lua" <<EOF
local g = aglm.load("$MODELS/add_relu.yaml")
local x = aglm.compile(g, "tpu9000")
EOF
run "$AGLM_HOST" --pipeline "$S/unknown_backend.lua"
expect_rc 1 "compiling for an unknown backend"
expect_fixed_err "aglm-host: $S/unknown_backend.lua:2: compile for 'tpu9000': " "the message gives FILE:LINE and the backend"
expect_err "tpu9000'?$" "the registry's reason names it too"

cat >"$S/wrong_kind.lua" <<EOF
local g = aglm.load("$MODELS/add_relu.yaml")
aglm.pass(g, "cpu")
EOF
run "$AGLM_HOST" --pipeline "$S/wrong_kind.lua"
expect_rc 1 "running a backend as a pass"
expect_fixed_err "pass 'cpu': " "the message names the pass"

cat >"$S/bad_inputs.lua" <<EOF
local g = aglm.load("$MODELS/add_relu.yaml")
local x = aglm.compile(g, "cpu")
local ok, err = pcall(x.run, x, {})
print("empty: " .. err)
ok, err = pcall(x.run, x, {x = aglm.tensor("f32", {2, 3}), z = aglm.tensor("f32", {1})})
print("extra: " .. err)
ok, err = pcall(x.run, x, {x = aglm.tensor("i64", {2, 3})})
print("dtype: " .. err)
x:run({x = aglm.tensor("f32", {2, 4})})
EOF
run "$AGLM_HOST" --pipeline "$S/bad_inputs.lua"
expect_rc 1 "running on a wrong input"
expect_out "^empty: .*missing input 'x' \(inputs: x\)" "a missing input is named"
expect_out "^extra: .*unknown input 'z' \(inputs: x\)" "an unknown input is named"
expect_out "^dtype: .*input 'x'.*i64" "a wrong dtype is named"
expect_fixed_err "aglm-host: $S/bad_inputs.lua:9: run: input 'x'" "the uncaught one stops the script at its line"

echo "# plugins from Lua: unload, load, replace"
cat >"$S/plugins.lua" <<EOF
local function find(name, state)
  for _, p in ipairs(aglm.plugins()) do
    if p.name == name and (state == nil or p.state == state) then return p end
  end
end
local function count(name)
  local n = 0
  for _, p in ipairs(aglm.plugins()) do if p.name == name then n = n + 1 end end
  return n
end
local dce = assert(find("dce", "started"), "dce is not loaded")
print(("listed dce: kind=%s version=%s refs=%d generation=%d"):format(dce.kind, dce.version, dce.refs, dce.generation))
print("unload: " .. aglm.unload_plugin("dce"))
assert(count("dce") == 0, "dce is still listed after unload")
local g = aglm.load("$MODELS/dead_branch.yaml")
local ok, err = pcall(aglm.pass, g, "dce")
assert(not ok)
print("pass after unload: " .. err)
print("load_plugin: " .. aglm.load_plugin(dce.file))
local before = assert(find("dce", "started"), "dce is not listed after load_plugin").generation
local after = aglm.replace_plugin("dce")
assert(after == before + 1, ("generation %d after replace, expected %d"):format(after, before + 1))
assert(find("dce", "started").generation == after, "plugins() does not show the new generation")
assert(count("dce") == 1, "the unreferenced old version still lingers")
print(("replace: generation %d -> %d"):format(before, after))
local nodes = g:num_nodes()
assert(aglm.pass(g, "dce"), "dce changed nothing")
print(("dce after replace: %d -> %d nodes"):format(nodes, g:num_nodes()))
ok, err = pcall(aglm.load_plugin, aglm.script_dir .. "/not_elf.so")
assert(not ok)
print("bad load_plugin: " .. err)
assert(find("dce", "started") and find("cpu", "started"), "a refused load disturbed the others")
EOF
echo "not a shared object" >"$S/not_elf.so"
run "$AGLM_HOST" --pipeline "$S/plugins.lua"
expect_rc 0 "a script that unloads, loads and replaces dce"
expect_out "^listed dce: kind=pass version=[^ ]+ refs=0 generation=1$" "aglm.plugins() lists dce"
expect_out "^unload: unloaded$" "an unreferenced plugin unloads at once"
expect_out "^pass after unload: .*pass 'dce': .*dce" "the unloaded pass is gone"
expect_out "^load_plugin: dce$" "load_plugin returns the name"
expect_out "^replace: generation [0-9]+ -> [0-9]+$" "replace_plugin returns the next generation"
expect_out "^dce after replace: 3 -> 1 nodes$" "the replaced dce works"
expect_out "^bad load_plugin: .*not_elf\.so" "a refused load_plugin names the file"

echo "# an executable holds its backend version across a replace"
cat >"$S/exec_replace.lua" <<EOF
local function find(name, state)
  for _, p in ipairs(aglm.plugins()) do
    if p.name == name and p.state == state then return p end
  end
end
local g = aglm.load("$MODELS/add_relu.yaml")
local x = aglm.tensor("f32", {2, 3}, {1, -2, 3, -4, 5, -6})
local function values(exec)
  return table.concat(exec:run({x = x}).y:totable(), " ")
end
local old = aglm.compile(g, "cpu")
local name, gen1 = old:backend()
local gen2 = aglm.replace_plugin("cpu")
local new = aglm.compile(g, "cpu")
print(("old exec: %s generation %d, new exec: generation %d"):format(name, gen1, select(2, new:backend())))
print("old exec after replace: " .. values(old))
print("new exec: " .. values(new))
local d = assert(find("cpu", "draining"), "the old cpu is not draining")
print(("draining: generation %d refs %d"):format(d.generation, d.refs))
old:release()
assert(not find("cpu", "draining"), "the old cpu still drains after release")
print("old version gone after release")
print("unload while referenced: " .. aglm.unload_plugin("cpu"))
print("held exec after unload: " .. values(new))
new = nil
collectgarbage()
collectgarbage()
assert(not find("cpu", "draining"), "the unloaded cpu still drains after collection")
local ok, err = pcall(aglm.compile, g, "cpu")
print("compile after unload: " .. err)
EOF
run "$AGLM_HOST" --pipeline "$S/exec_replace.lua"
expect_rc 0 "a script that replaces cpu while holding an executable"
expect_out "^old exec: cpu generation 1, new exec: generation 2$" "each executable names its generation"
expect_out "^old exec after replace: 1.5 0(.0)? 0(.0)? 0(.0)? 4(.0)? 4(.0)?$" "the old executable still runs"
expect_out "^new exec: 1.5 0(.0)? 0(.0)? 0(.0)? 4(.0)? 4(.0)?$" "the new one gives the same results"
expect_out "^draining: generation 1 refs 1$" "the old version drains with one reference"
expect_out "^old version gone after release$" "release finishes the drain"
expect_out "^unload while referenced: draining$" "unloading a referenced backend defers"
expect_out "^held exec after unload: 1.5 " "the executable runs after its backend is unloaded"
expect_out "^compile after unload: .*compile for 'cpu'" "the collected executable let the unload finish"

if [ -e "$AGLM_TEST_PLUGIN_DIR/counter_v1.so" ] && [ -e "$AGLM_TEST_PLUGIN_DIR/counter_v2.so" ]; then
    echo "# results of the version that compiled (counter_v1 -> counter_v2)"
    cat >"$S/counter.lua" <<EOF
local dir = "$AGLM_TEST_PLUGIN_DIR"
local g = aglm.load("$MODELS/add_relu.yaml")
local input = {x = aglm.tensor("f32", {2, 3})}
assert(aglm.load_plugin(dir .. "/counter_v1.so") == "counter")
local v1 = aglm.compile(g, "counter")
print("v1 before replace: " .. v1:run(input).y:get(1))
print("replace: generation " .. aglm.replace_plugin("counter", dir .. "/counter_v2.so"))
local v2 = aglm.compile(g, "counter")
print("v1 after replace: " .. v1:run(input).y:get(1))
print("v2: " .. v2:run(input).y:get(1))
local ok, err = pcall(aglm.replace_plugin, "counter", dir .. "/counter_bad_init.so")
print("failed replace: " .. tostring(err))
print("v2 after failed replace: " .. aglm.compile(g, "counter"):run(input).y:get(1))
EOF
    run "$AGLM_HOST" --pipeline "$S/counter.lua"
    expect_rc 0 "the counter fixtures"
    expect_out "^v1 before replace: 1(\.0)?$" "version 1 computes 1"
    expect_out "^replace: generation 2$" "the replace makes generation 2"
    expect_out "^v1 after replace: 1(\.0)?$" "an executable of version 1 still gives 1 after the replace"
    expect_out "^v2: 2(\.0)?$" "a new compile gives version 2's result"
    expect_out "^failed replace: .*counter_bad_init\.so" "a failing replacement is refused with its file"
    expect_out "^v2 after failed replace: 2(\.0)?$" "version 2 keeps serving"
else
    skip "counter fixtures not built in $AGLM_TEST_PLUGIN_DIR"
fi

finish
