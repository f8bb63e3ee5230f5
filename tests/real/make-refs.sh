#!/usr/bin/env bash
# Remakes the reference outputs under tests/real/ref/ with ONNX Runtime (../shared/tools/ort-run.mjs,
# onnxruntime-node 1.30.0 from ../shared/tools/peers.sh): for each case of cases.txt, the input is
# --random INPUT=SHAPE --seed 1, and ref/CASE/out/ receives every output as .npy. Inputs are not
# kept (the test redraws them with gen_input.lua), except the two small ones listed in KEEP_INPUTS,
# which the test uses to prove that gen_input.lua draws exactly what ort-run drew.
#
#   bash tests/real/make-refs.sh [SHARED_TOOLS_DIR]   (default: ../shared/tools beside the repo)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${1:-$here/../../../shared/tools}
KEEP_INPUTS="wakeword-1x25x96 ocr-cls-1x3x48x192"
bash "$tools/peers.sh" >/dev/null
declare -A path
while read -r name file; do path[$name]=$file; done < <(bash "$here/fetch.sh")
grep -v '^#' "$here/cases.txt" | while read -r case model input shape; do
  [ -n "$case" ] || continue
  out=$here/ref/$case
  rm -rf "$out" && mkdir -p "$out/out"
  indir=$(mktemp -d)
  node "$tools/ort-run.mjs" "${path[$model]}" --random "$input=$shape" --seed 1 --threads 1 \
    --outdir "$out/out" --indir "$indir" | tail -n 1
  case " $KEEP_INPUTS " in *" $case "*) mkdir -p "$out/in" && cp "$indir"/*.npy "$out/in/" ;; esac
  rm -rf "$indir"
done
