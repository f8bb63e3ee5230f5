#!/usr/bin/env bash
# Checks aglm's cpu outputs on the standard architectures of ../shared/tools/zoo.py against ONNX
# Runtime's, at several optimisation levels. For each model: the input drawn as ort-run's
# --random NAME=SHAPE --seed 1 would draw it (tests/real/gen_input.lua), ONNX Runtime's outputs
# on that file (ort-run.mjs --input ... --outdir REF), then for each level aglm's outputs
# (scripts/cpu_fp32.lua level=L outdir=OUT) compared with ../shared/tools/npy-compare.mjs
# (default atol 1e-4 + rtol 1e-3 per element; --atol/--rtol change them). Prints one line per
# model and level: PASS/FAIL, max abs error, max rel error, SQNR; exits 1 if any failed.
#
#   tools/zoo-compare.sh [--levels "O0 O2 O3"] [--models "resnet50 mobilenetv2 vgg16 bert4"]
#                        [--threads T] [--atol A] [--rtol R] [--keep DIR]
#
# Environment: AGLM_HOST (default build/aglm-host), AGLM_SHARED_TOOLS (default ../shared/tools:
# ort-run.mjs, npy-compare.mjs, peers.sh, zoo.py), AGLM_ZOO (zoo.py's folder). Needs Debian's
# python3-onnx and python3-numpy for zoo.py (first use writes about 220 MB of models).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
host=${AGLM_HOST:-$root/build/aglm-host}
tools=${AGLM_SHARED_TOOLS:-$root/../shared/tools}
levels="O0 O2 O3" models="resnet50 mobilenetv2 vgg16 bert4" threads=2 atol=1e-4 rtol=1e-3 keep=""
while [ $# -gt 0 ]; do
  case $1 in
    --levels) levels=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --atol) atol=$2; shift 2 ;;
    --rtol) rtol=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "zoo-compare.sh: unknown argument '$1' (--levels L, --models M, --threads T, --atol A, --rtol R, --keep DIR)" >&2; exit 2 ;;
  esac
done
[ -x "$host" ] || { echo "zoo-compare.sh: no aglm-host at $host (set AGLM_HOST)" >&2; exit 1; }
bash "$tools/peers.sh" >/dev/null
if [ -n "$keep" ]; then work=$keep; mkdir -p "$work"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi

fail=0
# shellcheck disable=SC2086
while read -r name file spec; do
  inname=${spec%%=*} shape=${spec#*=}
  d=$work/$name
  mkdir -p "$d/in"
  in=$d/in/${inname//[^A-Za-z0-9_.-]/_}.npy
  "$host" --pipeline "$root/tests/real/gen_input.lua" -- shape="$shape" seed=1 out="$in"
  node "$tools/ort-run.mjs" "$file" --input "$inname=$in" --threads "$threads" --outdir "$d/ref" >/dev/null
  for l in $levels; do
    rm -rf "$d/out-$l"
    if ! "$host" --pipeline "$root/scripts/cpu_fp32.lua" -- model="$file" inputs="$d/in" \
         outdir="$d/out-$l" level="$l" threads="$threads" > "$d/aglm-$l.log" 2>&1; then
      echo "$name $l FAIL: aglm-host failed: $(tail -n 1 "$d/aglm-$l.log")"
      fail=1
      continue
    fi
    if node "$tools/npy-compare.mjs" "$d/ref" "$d/out-$l" --atol "$atol" --rtol "$rtol" > "$d/cmp-$l.txt" 2>&1; then
      r=PASS
    else
      r=FAIL fail=1
    fi
    echo "$name [$(echo "$shape" | tr x ,)] $l $r: $(grep -v 'passed,' "$d/cmp-$l.txt" | tr '\n' ' ')"
  done
done < <(/usr/bin/python3 "$tools/zoo.py" $models)
exit $fail
