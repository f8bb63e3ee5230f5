#!/usr/bin/env bash
# The real-model test: fetches the models (fetch.sh), runs each case of cases.txt through
# scripts/cpu_fp32.lua and compares every output with ONNX Runtime's (ref/CASE/out/, made by
# make-refs.sh) within atol 1e-4 + rtol 1e-3 per element (compare.lua). Inputs are redrawn by
# gen_input.lua, first checked byte for byte against the inputs ort-run wrote for two cases.
#
# Environment (set by tests/CMakeLists.txt): AGLM_HOST, AGLM_SOURCE_DIR, AGLM_BUILD_DIR;
# AGLM_MODELS (the model cache, fetch.sh); AGLM_REAL_CASES="case1 case2" runs only those;
# AGLM_REAL_PASSES="dce,fold-batchnorm,..." runs the models through passes.lua with those passes
# applied instead of through scripts/cpu_fp32.lua; AGLM_REAL_LEVEL=O0..O3 runs cpu_fp32.lua at
# that level (level=; default the script's own, O2).
# Exit status 77 (ctest's SKIP_RETURN_CODE) when the models are not cached and cannot be fetched.
set -u
host=${AGLM_HOST:?AGLM_HOST must name aglm-host}
src=${AGLM_SOURCE_DIR:?AGLM_SOURCE_DIR must name the source tree}
build=${AGLM_BUILD_DIR:?AGLM_BUILD_DIR must name the build tree}
here=$src/tests/real
level=${AGLM_REAL_LEVEL:-}
case $level in
  ''|O[0-3]) ;;
  *) echo "FAIL: AGLM_REAL_LEVEL=$level: expected O0, O1, O2 or O3"; exit 1 ;;
esac
if [ -n "$level" ] && [ -n "${AGLM_REAL_PASSES:-}" ]; then
  echo "FAIL: AGLM_REAL_LEVEL and AGLM_REAL_PASSES are exclusive (a level is a list of passes)"
  exit 1
fi
work=$build/real-models${AGLM_REAL_PASSES:+-passes-${AGLM_REAL_PASSES//,/-}}${level:+-$level}
rm -rf "$work" && mkdir -p "$work"

list=$(bash "$here/fetch.sh" 2>"$work/fetch.log")
rc=$?
if [ "$rc" -eq 77 ]; then
  echo "skipped: the models are not cached and cannot be fetched: $(cat "$work/fetch.log")"
  exit 77
elif [ "$rc" -ne 0 ]; then
  echo "FAIL: fetching the models: $(cat "$work/fetch.log")"
  exit 1
fi
declare -A model
while read -r name path; do model[$name]=$path; done <<<"$list"

passed=0 failed=0 names=""
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); names="$names $1"; }

# gen_input.lua must draw what ort-run drew, or no reference below means anything.
for keep in "$here"/ref/*/in/*.npy; do
  case=$(basename "$(dirname "$(dirname "$keep")")")
  shape=$(awk -v c="$case" '$1 == c { print $4 }' "$here/cases.txt")
  mkdir -p "$work/gen-check/$case"
  if "$host" --pipeline "$here/gen_input.lua" -- shape="$shape" seed=1 \
       out="$work/gen-check/$case/$(basename "$keep")" >"$work/gen-check/$case.log" 2>&1 &&
     cmp -s "$keep" "$work/gen-check/$case/$(basename "$keep")"; then
    echo "ok gen_input.lua draws ort-run's input of $case"
  else
    fail "gen_input:$case" "gen_input.lua does not draw ort-run's input (see $work/gen-check)"
  fi
done

while read -r case name input shape; do
  case $case in ''|'#'*) continue ;; esac
  if [ -n "${AGLM_REAL_CASES:-}" ] && [[ " $AGLM_REAL_CASES " != *" $case "* ]]; then continue; fi
  dir=$work/$case
  mkdir -p "$dir/in"
  stem=$(echo "$input" | sed 's/[^A-Za-z0-9_.-]/_/g')
  if ! "$host" --pipeline "$here/gen_input.lua" -- shape="$shape" seed=1 out="$dir/in/$stem.npy" \
       >"$dir/gen.log" 2>&1; then
    fail "$case" "cannot draw its input: $(tail -n 1 "$dir/gen.log")"
    continue
  fi
  if [ -n "${AGLM_REAL_PASSES:-}" ]; then
    runner=("$here/passes.lua" -- passes="$AGLM_REAL_PASSES")
  else
    # runs=2: the outputs compared are the second run's, made in the memory plan the first sized.
    runner=("$src/scripts/cpu_fp32.lua" -- runs=2 ${level:+level=$level})
  fi
  if ! "$host" --pipeline "${runner[@]}" model="${model[$name]}" inputs="$dir/in" \
       outdir="$dir/out" >"$dir/run.log" 2>&1; then
    fail "$case" "cpu_fp32.lua failed: $(tail -n 1 "$dir/run.log")"
    continue
  fi
  files=$(cd "$here/ref/$case/out" && ls *.npy | paste -sd, -)
  if "$host" --pipeline "$here/compare.lua" -- ref="$here/ref/$case/out" out="$dir/out" \
       files="$files" >"$dir/compare.log" 2>&1; then
    echo "ok $case: $(grep -h '^ok' "$dir/compare.log" | cut -d' ' -f2- | paste -sd';' -)"
    passed=$((passed + 1))
  else
    fail "$case" "$(grep -h '^FAIL' "$dir/compare.log" | cut -d' ' -f2- | paste -sd';' -)"
    tail -n 1 "$dir/compare.log" | grep -v '^FAIL' | sed 's/^/  /'
  fi
done <"$here/cases.txt"

# profile=1: the report a user reads (op table, slowest nodes, peak bytes, GFLOP per run), on
# outputs that still match (profiling must not change what runs). wakeword's counted work is its
# three Gemm: [1,2400] x [2400,32], [1,32] x [32,32], [1,32] x [32,1]: 77,856 multiply-adds,
# 155,712 flops.
pdir=$work/profile
if [ -z "${AGLM_REAL_PASSES:-}" ] && [ -z "$level" ] && [ -d "$work/wakeword-1x25x96/in" ]; then
  if "$host" --pipeline "$src/scripts/cpu_fp32.lua" -- model="${model[wakeword]}" \
       inputs="$work/wakeword-1x25x96/in" outdir="$pdir/out" profile=1 bench=3 >"$pdir.log" 2>&1 &&
     "$host" --pipeline "$here/compare.lua" -- ref="$here/ref/wakeword-1x25x96/out" out="$pdir/out" \
       files=39.npy >/dev/null 2>&1; then
    nodes=$(sed -n 's/^profile: 5 runs, \([0-9]*\) nodes, [0-9.]* ms per run in kernels$/\1/p' "$pdir.log")
    counted=$(awk '/^op /{t=1; next} /^slowest nodes:/{t=0} t{s+=$4} END{print s+0}' "$pdir.log")
    slow=$(awk '/^slowest nodes:/{t=1; next} /^peak/{t=0} t' "$pdir.log" | wc -l)
    # Its three Gemm count as Gemm or, once fuse takes their activation, aglm.FusedMatMul.
    if [ -n "$nodes" ] && [ "$nodes" -gt 0 ] && [ "$counted" = "$nodes" ] &&
       [ "$slow" -eq $((nodes < 10 ? nodes : 10)) ] &&
       [ "$(awk '/^(Gemm|(aglm\.)?FusedMatMul) +[0-9.]+ +[0-9.]+% +[0-9]+$/ { s += $4 } END { print s + 0 }' \
             "$pdir.log")" = 3 ] &&
       grep -q '^peak arena bytes: [1-9][0-9]* ' "$pdir.log" &&
       grep -q '^peak heap intermediate bytes: [0-9][0-9]* ' "$pdir.log" &&
       grep -q '^GFLOP per run: 0\.0001557 (conv/matmul multiply-adds x 2), [0-9.]* GFLOP/s$' "$pdir.log" &&
       tail -n 1 "$pdir.log" | grep -q '^latency_ms median='; then
      echo "ok profile=1: $nodes nodes over 5 runs, per-op table, $slow slowest, peak bytes, GFLOP, outputs match"
    else
      fail "profile" "the profile=1 report is not what docs say (see $pdir.log)"
    fi
  else
    fail "profile" "cpu_fp32.lua profile=1 failed or changed the outputs: $(tail -n 1 "$pdir.log")"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
