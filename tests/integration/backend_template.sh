#!/usr/bin/env bash
# The backend template as a third party meets it: install the build to a temporary prefix, build
# sdk/examples/backend-template (the "tiny" backend) from the installed copy with CMake and with
# the pkg-config command line of its README, then deploy it into a serving host's watched plugin
# folder and use it: a served model recompiled on tiny, its profile and Chrome trace, the one
# error listing the nodes it cannot run, a hot replace by the other build, and the ONNX
# conformance cases of its ops (scripts/conformance.lua ops=Add,Mul,Relu,MatMul), where every f32
# case must pass and every other one be reported as skipped for its dtype.
#
# Environment (set by ctest): AGLM_HOST, AGLM_SOURCE_DIR, AGLM_BUILD_DIR,
# AGLM_INSTALL_TEST_C_COMPILER; AGLM_CONFORMANCE_DIR overrides the folder of ONNX cases (default
# ../shared/onnx-backend-tests/node beside the source tree, as tests/conformance/run.sh). Without
# the cases everything else runs, then the test exits 77 (skipped).
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/admin.bash" # its EXIT trap stops the server and removes $TMP
SDK_TEST=backend_template SDK_TMP=$TMP
source "$(dirname "$0")/lib/sdk.bash"
cases=${AGLM_CONFORMANCE_DIR:-$AGLM_SOURCE_DIR/../shared/onnx-backend-tests/node}

sdk_install "$TMP/prefix"
template=$SDK_PREFIX/share/doc/aglm/examples/backend-template
scripts=$SDK_PREFIX/share/aglm/scripts
# From here on the installed host runs everything (the helpers of common.bash included), from an
# empty folder so that no ./etc/aglm.ini is found.
AGLM_HOST=$SDK_PREFIX/bin/aglm-host
cd "$TMP"

echo "== tiny with CMake (find_package(aglm))"
sdk_cmake_build "$template" "$TMP/cmake-build"
sdk_check_plugin "$TMP/cmake-build/backend-tiny.so"
pass "CMake built backend-tiny.so"

echo "== tiny with pkg-config (the README's command line)"
mkdir "$TMP/pc-build"
# shellcheck disable=SC2046 # pkg-config's output is meant to split into words
sdk_quiet "$SDK_CC" -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
    -o "$TMP/pc-build/backend-tiny.so" "$template/tiny.c" "$template/kernels.c" \
    $(pkg-config --cflags --libs aglm)
sdk_check_plugin "$TMP/pc-build/backend-tiny.so"
pass "cc with pkg-config built backend-tiny.so"

# x[2,3] -> MatMul W -> Add b -> Relu -> Mul s -> y. For x = [[1,2,3],[4,5,6]]:
#   x W = [[1+3, 2-3], [4+6, 5-6]] = [[4,-1],[10,-1]]; + b = [[4.5,-2],[10.5,-2]];
#   Relu = [[4.5,0],[10.5,0]]; * 2 = [[9,0],[21,0]]
cat >"$TMP/mlp.yaml" <<'YAML'
name: mlp
inputs:
  - {name: x, dtype: f32, shape: [2, 3]}
outputs:
  - {name: y, dtype: f32, shape: [2, 2]}
initializers:
  - {name: W, dtype: f32, shape: [3, 2], data: [1, 0, 0, 1, 1, -1]}
  - {name: b, dtype: f32, shape: [2], data: [0.5, -1]}
  - {name: s, dtype: f32, shape: [1], data: [2]}
nodes:
  - {op: MatMul, name: mm, inputs: [x, W], outputs: [h]}
  - {op: Add, name: bias, inputs: [h, b], outputs: [a]}
  - {op: Relu, name: relu, inputs: [a], outputs: [r]}
  - {op: Mul, name: scale, inputs: [r, s], outputs: [y]}
YAML
# Two nodes tiny refuses: an op it has no kernel for, and one of its ops on another dtype.
cat >"$TMP/refused.yaml" <<'YAML'
name: refused
inputs:
  - {name: x, dtype: f32, shape: [2]}
  - {name: i, dtype: i32, shape: [2]}
outputs:
  - {name: y}
  - {name: j}
nodes:
  - {op: Sigmoid, name: sig, inputs: [x], outputs: [y]}
  - {op: Add, name: add_i, inputs: [i, i], outputs: [j]}
YAML
mkdir -p "$TMP/in" "$TMP/watched" "$TMP/run"
make_npy "$TMP/in/x.npy" f32 2,3 1,2,3,4,5,6
cat >"$TMP/aglm.ini" <<'INI'
[host]
plugin_dirs = watched
INI

echo "== a host serving mlp on cpu, watching $TMP/watched"
start_server "$TMP/run/admin.sock" "$TMP/server" --config "$TMP/aglm.ini" --log-level info \
    --pipeline "$scripts/serve.lua" -- model="$TMP/mlp.yaml" name=mlp level=O1 admin="$TMP/run/admin.sock"
pass "the installed host serves mlp on cpu"

echo "== deploy backend-tiny.so (CMake build) into the watched folder"
cp "$TMP/cmake-build/backend-tiny.so" "$TMP/watched/.backend-tiny.so.tmp"
mv "$TMP/watched/.backend-tiny.so.tmp" "$TMP/watched/backend-tiny.so"
# wait_listed GEN: until `plugins` shows tiny started at generation GEN from the watched file.
wait_listed() {
    local row="^tiny +backend +1\.0\.0 +started +[0-9]+ +$1 +$TMP/watched/backend-tiny\.so$"
    for _ in $(seq 150); do
        ctl plugins
        if grep -Eq -- "$row" "$TMP/out"; then
            pass "the host lists tiny generation $1 from the watched folder"
            return
        fi
        sleep 0.1
    done
    fail "tiny generation $1 is not listed after 15 s"
    sed 's/^/       /' "$TMP/server.err" | tail -20
    exit 1
}
wait_listed 1
if grep -q "watch: $TMP/watched/backend-tiny.so .*loaded plugin 'tiny'" "$TMP/server.err"; then
    pass "the watcher logged the load"
else
    fail "no watcher line for backend-tiny.so: $(grep watch: "$TMP/server.err" || true)"
fi

echo "== the served model on tiny"
ctl recompile mlp backend=tiny
expect_rc 0 "recompile mlp backend=tiny"
expect_out '^model mlp: on tiny generation 1 at O1$' "mlp runs on tiny"
ctl infer mlp inputs="$TMP/in" outdir="$TMP/out1"
expect_rc 0 "infer mlp on tiny"
check_npy "$TMP/out1/y.npy" 2,2 9,0,21,0 "tiny computed MatMul, Add, Relu, Mul"
ctl recompile mlp level=O2
expect_rc 1 "recompile mlp at O2 on tiny is refused"
expect_out "^ERR model 'mlp': compile for 'tiny': backend tiny cannot run 1 node: 'mm' \(aglm\.FusedMatMul\)$" \
    "O2 fuses the MatMul chain into the one node tiny cannot run"
ctl models
expect_out '^mlp +tiny +1 +O1 ' "mlp keeps serving on tiny at O1"

echo "== profile, trace and the unsupported-node error, in a pipeline"
cat >"$TMP/tiny.lua" <<'LUA'
-- Compiles a model on tiny with profile=1 and a trace, runs it twice and prints the profile;
-- or prints the compile error.
local g = aglm.load(aglm.args.model)
local ok, x = pcall(aglm.compile, g, "tiny", {profile = 1, trace = aglm.args.trace})
if not ok then
  print("error: " .. tostring(x))
  return
end
local xs = aglm.tensor("f32", {2, 3}, {1, 2, 3, 4, 5, 6})
x:run({x = xs})
local y = x:run({x = xs}).y
print(("y = %g,%g,%g,%g"):format(y:get(1), y:get(2), y:get(3), y:get(4)))
local p = x:profile()
for _, n in ipairs(p.nodes) do print(("node %s %s calls=%d"):format(n.node, n.op, n.calls)) end
print(("runs=%d flops=%d arena_bytes=%d"):format(p.runs, p.flops, p.arena_bytes))
x:release()
LUA
run "$AGLM_HOST" --plugin-dir "$TMP/watched" --pipeline "$TMP/tiny.lua" -- model="$TMP/mlp.yaml" \
    trace="$TMP/trace.json"
expect_rc 0 "mlp compiles and runs on tiny in a pipeline"
expect_out '^y = 9,0,21,0$' "the pipeline gets y"
for n in "mm MatMul" "bias Add" "relu Relu" "scale Mul"; do
    expect_out "^node $n calls=2$" "the profile times node $n"
done
# 2 FLOPs per multiply-add of the MatMul ([2,3] x [3,2]: 12), two runs; the shapes are static,
# so the intermediates live in a planned arena.
expect_out '^runs=2 flops=48 arena_bytes=[1-9][0-9]*$' "FLOPs and the planned arena come from the runtime layer"
if grep -q '"name": *"mm"' "$TMP/trace.json" 2>/dev/null; then
    pass "trace=FILE wrote a Chrome trace naming the nodes"
else
    fail "no Chrome trace with node mm in $TMP/trace.json"
fi
run "$AGLM_HOST" --plugin-dir "$TMP/watched" --pipeline "$TMP/tiny.lua" -- model="$TMP/refused.yaml"
expect_out "^error: compile for 'tiny': backend tiny cannot run 2 nodes: 'sig' \(Sigmoid\), 'add_i' \(Add on i32\)$" \
    "one error lists every node tiny refuses, and why"

echo "== replace: the pkg-config build dropped over it"
cp "$TMP/pc-build/backend-tiny.so" "$TMP/watched/.backend-tiny.so.tmp"
mv "$TMP/watched/.backend-tiny.so.tmp" "$TMP/watched/backend-tiny.so"
wait_listed 2
for _ in $(seq 150); do
    ctl models
    grep -Eq '^mlp +tiny +2 ' "$TMP/out" && break
    sleep 0.1
done
expect_out '^mlp +tiny +2 +O1 ' "mlp followed tiny to generation 2"
ctl infer mlp inputs="$TMP/in" outdir="$TMP/out2"
check_npy "$TMP/out2/y.npy" 2,2 9,0,21,0 "generation 2 computes the same"

echo "== ONNX conformance of Add, Mul, Relu, MatMul on tiny"
if [ ! -d "$cases" ]; then
    finish
    echo "skipped: no ONNX backend node tests at $cases (set AGLM_CONFORMANCE_DIR)"
    exit 77
fi
run "$AGLM_HOST" --plugin-dir "$TMP/watched" --pipeline "$scripts/conformance.lua" -- backend=tiny \
    dir="$cases" ops=Add,Mul,Relu,MatMul report="$TMP/report.tsv" jobs=2 verbose=1
expect_rc 0 "conformance.lua ran"
sed 's/^/     /' "$TMP/out"
last=$(tail -n 1 "$TMP/out")
if [[ $last =~ ^([0-9]+)\ passed,\ 0\ failed,\ ([0-9]+)\ skipped$ ]]; then
    pass "no case failed: $last"
else
    fail "closing line: '$last'"
fi
# The cases the backend claims (f32) pass; each of the others is a skip that says which op and
# dtype were refused, in the report and in the runner's output.
for c in test_add test_add_bcast test_mul test_mul_bcast test_relu test_matmul_2d test_matmul_3d \
    test_matmul_4d; do
    if grep -Pq "^$c\tpass\t$" "$TMP/report.tsv"; then pass "$c passes"; else fail "$c: $(grep -P "^$c\t" "$TMP/report.tsv")"; fi
done
odd=$(grep -Pv '^test_\w+\t(pass\t|skip\top (Add|Mul|Relu|MatMul) for (i|u)(8|16|32|64) not implemented)$' \
    "$TMP/report.tsv" || true)
if [ -z "$odd" ]; then pass "every other case is skipped for an integer dtype"; else fail "unexpected results: $odd"; fi
if grep -Pq "^skip test_add_int8  op Add for i8 not implemented$" "$TMP/out"; then
    pass "the runner shows a refused dtype as: skip test_add_int8  op Add for i8 not implemented"
else
    fail "the runner's line for test_add_int8"
fi
ctl shutdown
wait_exit 15
if [ "$server_rc" = 0 ]; then pass "the host drained and exited 0"; else fail "the host exited $server_rc"; fi
finish
