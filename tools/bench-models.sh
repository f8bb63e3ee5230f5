#!/usr/bin/env bash
# Reproduces the table of docs/benchmarks.md in one command: for each real model at its benchmark
# shape, aglm's cpu median latency (scripts/cpu_fp32.lua bench=N threads=T) beside ONNX Runtime's
# (../shared/tools/ort-run.mjs --bench N --threads T) on the same input, run one after the other
# in the same invocation, then the ratio. Prints a markdown table, the machine, and with
# --profile each model's aglm profile (profile=1) after the table.
#
#   tools/bench-models.sh [--iters N] [--threads T] [--profile] [--models "ocr-rec ocr-det ..."]
#
# Environment: AGLM_HOST (default build/aglm-host), AGLM_SHARED_TOOLS (default ../shared/tools
# beside the repository: ort-run.mjs and peers.sh), AGLM_MODELS (the model cache, see
# tests/real/fetch.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
host=${AGLM_HOST:-$root/build/aglm-host}
tools=${AGLM_SHARED_TOOLS:-$root/../shared/tools}
iters=50 threads=2 profile=0 models="ocr-rec ocr-det ocr-cls wakeword"
while [ $# -gt 0 ]; do
  case $1 in
    --iters) iters=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --profile) profile=1; shift ;;
    --models) models=$2; shift 2 ;;
    *) echo "bench-models.sh: unknown argument '$1' (--iters N, --threads T, --profile, --models LIST)" >&2; exit 2 ;;
  esac
done
[ -x "$host" ] || { echo "bench-models.sh: no aglm-host at $host (set AGLM_HOST)" >&2; exit 1; }
[ -f "$tools/ort-run.mjs" ] || { echo "bench-models.sh: no ort-run.mjs in $tools (set AGLM_SHARED_TOOLS)" >&2; exit 1; }
bash "$tools/peers.sh" >/dev/null

declare -A path input shape
while read -r name file; do path[$name]=$file; done < <(bash "$root/tests/real/fetch.sh")
input[wakeword]=onnx::Flatten_0 shape[wakeword]=1x25x96
input[ocr-cls]=x shape[ocr-cls]=1x3x48x192
input[ocr-rec]=x shape[ocr-rec]=1x3x48x320
input[ocr-det]=x shape[ocr-det]=1x3x640x640

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| model | input | aglm cpu median (ms) | ONNX Runtime median (ms) | aglm / ORT |"
echo "| --- | --- | ---: | ---: | ---: |"
for m in $models; do
  [ -n "${path[$m]:-}" ] || { echo "bench-models.sh: unknown model '$m'" >&2; exit 2; }
  in=$work/$m/in
  mkdir -p "$in"
  file=$in/$(echo "${input[$m]}" | sed 's/[^A-Za-z0-9_.-]/_/g').npy
  "$host" --pipeline "$root/tests/real/gen_input.lua" -- shape="${shape[$m]}" seed=1 out="$file"
  a=$("$host" --pipeline "$root/scripts/cpu_fp32.lua" -- model="${path[$m]}" inputs="$in" \
        outdir="$work/$m/out" bench="$iters" threads="$threads" | tail -n 1)
  a=$(echo "$a" | sed -n 's/^latency_ms median=\([0-9.]*\).*/\1/p')
  o=$(node "$tools/ort-run.mjs" "${path[$m]}" --input "${input[$m]}=$file" --threads "$threads" \
        --bench "$iters" | tail -n 1)
  o=$(echo "$o" | sed -n 's/.*"median":\([0-9.]*\).*/\1/p')
  ratio=$(awk -v a="$a" -v o="$o" 'BEGIN { printf "%.1fx", a / o }')
  printf '| %s | [%s] | %.3f | %.3f | %s |\n' "$m" "$(echo "${shape[$m]}" | tr x ,)" "$a" "$o" "$ratio"
done
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg); bench=$iters threads=$threads"
if [ "$profile" -eq 1 ]; then
  for m in $models; do
    echo
    echo "## $m [${shape[$m]}] profile=1 bench=10 threads=$threads"
    "$host" --pipeline "$root/scripts/cpu_fp32.lua" -- model="${path[$m]}" inputs="$work/$m/in" \
      outdir="$work/$m/out" bench=10 threads="$threads" profile=1 | sed -n '/^profile:/,$p'
  done
fi
