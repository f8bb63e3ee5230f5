#!/usr/bin/env bash
# scripts/cpu_fp32.lua end to end: the default run, YAML models whose outputs were computed by
# hand (tests/models/*.yaml, see their comments), the inputs/outdir file contract, bench=N, and
# the errors a user meets (wrong input shape, missing input file, unknown argument).
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
cd "$AGLM_SOURCE_DIR"
MODELS="$AGLM_SOURCE_DIR/tests/models"
PIPELINE=scripts/cpu_fp32.lua

# make_npy FILE DTYPE SHAPE VALUES
make_npy() {
    "$AGLM_HOST" --pipeline "$HELPERS/make_npy.lua" -- out="$1" dtype="$2" shape="$3" values="$4" >/dev/null
}

# check_npy FILE SHAPE VALUES WHAT: the file holds these f32 values (within 1e-5 relative).
check_npy() {
    run "$AGLM_HOST" --pipeline "$HELPERS/check_npy.lua" -- file="$1" dtype=f32 shape="$2" values="$3"
    if [ "$rc" -eq 0 ]; then pass "$4: $(cat "$TMP/out")"; else fail "$4"; fi
}

# model_case NAME INPUT_SHAPE INPUT_VALUES OUTPUT OUTPUT_SHAPE EXPECTED [INPUT]
model_case() {
    local name=$1 in_shape=$2 in_values=$3 out=$4 out_shape=$5 expected=$6 input=${7:-x}
    local dir="$TMP/$name"
    mkdir -p "$dir/in"
    make_npy "$dir/in/$input.npy" f32 "$in_shape" "$in_values"
    run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/$name.yaml" inputs="$dir/in" outdir="$dir/out"
    expect_rc 0 "$name.yaml runs"
    expect_out "^output $out: f32\[$out_shape\] -> $dir/out/$out\.npy$" "$name.yaml reports its output file"
    check_npy "$dir/out/$out.npy" "$out_shape" "$expected" "$name.yaml output $out matches the hand computation"
}

echo "# the default run"
run "$AGLM_HOST" --pipeline "$PIPELINE"
expect_rc 0 "cpu_fp32.lua with no arguments"
expect_out '^model .*models/default\.yaml: [0-9]+ nodes' "it names the model it ran"
expect_out '^input x: f32\[1,1,8,8\] \(random, seed 0\)$' "it describes the generated input"
expect_out '^output y: f32\[1,10\] top: \[[0-9]\]=' "it shows the output's top values"
first=$(cat "$TMP/out")
run env -C "$TMP" "$AGLM_HOST" --pipeline "$AGLM_SOURCE_DIR/$PIPELINE"
expect_rc 0 "the default run from another folder finds the model beside the script"
if [ "$(grep '^output' "$TMP/out")" = "$(grep '^output' <<<"$first")" ]; then
    pass "seeded inputs give the same outputs twice"
else
    fail "seeded inputs give the same outputs twice"
fi

echo "# models with outputs computed by hand"
model_case add_relu 2,3 1,-2,3,-4,5,-6 y 2,3 1.5,0,0,0,4,4
model_case matmul_add_softmax 2,2 1,2,0,-1 y 2,3 \
    0.21194156,0.21194156,0.57611688,0.46831053,0.06337894,0.46831053
model_case gemm_transb 2,3 1,2,3,4,5,6 Y 2,2 9,1,21,1 A
model_case conv_1ch 1,1,3,3 1,2,3,4,5,6,7,8,9 y 1,1,2,2 37.5,47.5,67.5,77.5
model_case npy_bias 3 1,-1,0.5 y 3 3,0,4

echo "# tensor names outside [A-Za-z0-9_.-] map to '_' in file names"
mkdir -p "$TMP/names/in"
cat >"$TMP/names/model.yaml" <<'EOF'
# out/y:0 = Relu(in/x:0) * 2, names as exporters write them
name: odd_names
inputs:
  - {name: "in/x:0", dtype: f32, shape: [4]}
outputs:
  - {name: "out/y:0"}
initializers:
  - {name: "two", dtype: f32, shape: [], data: 2}
nodes:
  - {op: Relu, inputs: ["in/x:0"], outputs: ["r:0"]}
  - {op: Mul, inputs: ["r:0", two], outputs: ["out/y:0"]}
EOF
make_npy "$TMP/names/in/in_x_0.npy" f32 4 -1,0.5,2,-3
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$TMP/names/model.yaml" inputs="$TMP/names/in" outdir="$TMP/names/out"
expect_rc 0 "a model with '/' and ':' in its tensor names"
expect_out "^output out/y:0: f32\[4\] -> $TMP/names/out/out_y_0\.npy$" "out/y:0 is written as out_y_0.npy"
check_npy "$TMP/names/out/out_y_0.npy" 4 0,1,4,0 "out_y_0.npy holds Relu(in/x:0) * 2"

echo "# inputs without outdir: outputs are printed, not written"
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/add_relu.yaml" inputs="$TMP/add_relu/in"
expect_rc 0 "inputs without outdir"
expect_out '^output y: f32\[2,3\] = 1\.5 0 0 0 4 4$' "the output values are printed"

echo "# outdir is created with its parents; threads=2 gives the same results"
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/matmul_add_softmax.yaml" \
    inputs="$TMP/matmul_add_softmax/in" outdir="$TMP/deep/a/b" threads=2
expect_rc 0 "outdir=deep/a/b threads=2"
check_npy "$TMP/deep/a/b/y.npy" 2,3 0.21194156,0.21194156,0.57611688,0.46831053,0.06337894,0.46831053 \
    "the output written with 2 threads matches"

echo "# bench=N"
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/add_relu.yaml" inputs="$TMP/add_relu/in" \
    outdir="$TMP/bench" bench=3
expect_rc 0 "bench=3"
last=$(tail -n 1 "$TMP/out")
if [[ "$last" =~ ^latency_ms\ median=[0-9]+\.[0-9]{3}\ p90=[0-9]+\.[0-9]{3}\ min=[0-9]+\.[0-9]{3}\ iters=3$ ]]; then
    pass "the last line is the latency: $last"
else
    fail "the last line is the latency, got: $last"
fi
run "$AGLM_HOST" --pipeline "$PIPELINE" -- bench=0
expect_rc 1 "bench=0"
expect_err 'bench=0: expected an integer >= 1' "the message names the argument"

echo "# errors"
mkdir -p "$TMP/wrong"
make_npy "$TMP/wrong/x.npy" f32 3,2 1,2,3,4,5,6
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/add_relu.yaml" inputs="$TMP/wrong" outdir="$TMP/wrong/out"
expect_rc 1 "an input of the wrong shape"
expect_err "input 'x'" "the message names the input"
expect_err 'f32\[2,3\]' "the message gives the expected shape"
expect_err 'f32\[3,2\]' "the message gives the actual shape"
expect_err '^aglm-host: .*cpu_fp32\.lua:[0-9]+: ' "the message starts with the script's file:line"
if [ -e "$TMP/wrong/out/y.npy" ]; then fail "no output is written after the error"; else pass "no output is written after the error"; fi

mkdir -p "$TMP/empty"
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/add_relu.yaml" inputs="$TMP/empty" outdir="$TMP/empty/out"
expect_rc 1 "a missing input file"
expect_fixed_err "missing input file '$TMP/empty/x.npy' for input 'x'" "the message names the file and the input"

run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/add_relu.yaml" input="$TMP/add_relu/in"
expect_rc 1 "an unknown argument"
expect_err "unknown argument 'input' \(accepted: model, inputs, outdir, bench, threads, profile, level, print_ir, specialize, runs\)" \
    "the message lists the accepted arguments"

run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$TMP/nothing.yaml"
expect_rc 1 "a model file that does not exist"
expect_fixed_err "cannot open '$TMP/nothing.yaml': No such file or directory" "the message names the file"

run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/bad_unknown_op.yaml"
expect_rc 1 "a model with an unknown op"
expect_fixed_err "load '$MODELS/bad_unknown_op.yaml'" "the message says which load failed"
expect_err "unknown op" "the frontend's reason follows"

finish
