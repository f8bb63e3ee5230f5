#!/usr/bin/env bash
# Reproduces the tables of docs/benchmarks.md in one command: for each model at its benchmark
# shape, aglm's cpu median latency (scripts/cpu_fp32.lua bench=N threads=T) beside ONNX Runtime's
# (../shared/tools/ort-run.mjs --bench N --threads T) on the same input, run one after the other
# in the same invocation, then the ratio. Beside them: the model's GFLOP per run (convolution and
# matrix-product multiply-adds x 2, counted by the cpu backend's profile in a separate profile=1
# run; element-wise ops not counted), the GFLOP/s aglm's median reaches and its share of this
# CPU's MEASURED peak (tools/peak.c, compiled here with the system cc: a register-only FMA loop
# per SIMD path; the peak is the widest path's rate on T threads, printed under the table), and
# the peak resident memory (MiB) of the aglm-host process and of ONNX Runtime's node process over
# their benchmark runs (GNU time's %M, maximum RSS). Prints a markdown table, the peak
# measurement, the machine, and with --profile each model's aglm profile (profile=1).
#
# Models: the four real ones (ocr-rec ocr-det ocr-cls wakeword, tests/real/fetch.sh) and the four
# standard architectures of ../shared/tools/zoo.py (resnet50 mobilenetv2 vgg16 bert4, random
# weights, written to $AGLM_ZOO on first use; needs python3-onnx and python3-numpy). Default: all
# eight. Zoo models are timed over --zoo-iters runs (they take 50-500 ms each), real ones --iters.
#
#   tools/bench-models.sh [--iters N] [--zoo-iters N] [--threads T] [--profile]
#                         [--models "ocr-rec resnet50 ..."]
#
# Environment: AGLM_HOST (default build/aglm-host), AGLM_SHARED_TOOLS (default ../shared/tools
# beside the repository: ort-run.mjs, peers.sh and zoo.py), AGLM_MODELS (the model cache, see
# tests/real/fetch.sh), AGLM_ZOO (zoo.py's folder, default ~/.cache/aglm-zoo), CC (default cc).
# Needs GNU time as /usr/bin/time (Debian package `time`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
host=${AGLM_HOST:-$root/build/aglm-host}
tools=${AGLM_SHARED_TOOLS:-$root/../shared/tools}
real_models="ocr-rec ocr-det ocr-cls wakeword"
zoo_models="resnet50 mobilenetv2 vgg16 bert4"
iters=50 zoo_iters=10 threads=2 profile=0 models="$real_models $zoo_models"
while [ $# -gt 0 ]; do
  case $1 in
    --iters) iters=$2; shift 2 ;;
    --zoo-iters) zoo_iters=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --profile) profile=1; shift ;;
    --models) models=$2; shift 2 ;;
    *) echo "bench-models.sh: unknown argument '$1' (--iters N, --zoo-iters N, --threads T, --profile, --models LIST)" >&2; exit 2 ;;
  esac
done
[ -x "$host" ] || { echo "bench-models.sh: no aglm-host at $host (set AGLM_HOST)" >&2; exit 1; }
[ -f "$tools/ort-run.mjs" ] || { echo "bench-models.sh: no ort-run.mjs in $tools (set AGLM_SHARED_TOOLS)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-models.sh: no GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
bash "$tools/peers.sh" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# This CPU's peak f32 rate, measured: tools/peak.c runs a register-only loop of 12 independent
# FMA chains per SIMD path the CPU has (AVX-512F, AVX2+FMA, portable scalar) on 1 and on T
# threads; the peak is the widest path's T-thread rate.
${CC:-cc} -O2 -fno-tree-vectorize -pthread -o "$work/peak" "$root/tools/peak.c"
"$work/peak" "$threads" > "$work/peak.txt"
widest=$(sed -n 's/^widest //p' "$work/peak.txt")
peak=$(awk -v w="$widest" -v t="$threads" '$1 == "path" && $2 == w && $4 == t { print $6 }' "$work/peak.txt")
[ -n "$peak" ] || { echo "bench-models.sh: tools/peak.c gave no rate:" >&2; cat "$work/peak.txt" >&2; exit 1; }

# shellcheck source=bench-inputs.sh
source "$root/tools/bench-inputs.sh"
# Zoo models: generated on first use (seeded, the same bytes everywhere); zoo.py prints
# NAME PATH INPUT=D0xD1x... for each.
want_zoo=""
for m in $models; do [[ " $zoo_models " == *" $m "* ]] && want_zoo="$want_zoo $m"; done
if [ -n "$want_zoo" ]; then
  # shellcheck disable=SC2086
  while read -r name file spec; do
    path[$name]=$file input[$name]=${spec%%=*} shape[$name]=${spec#*=}
  done < <(/usr/bin/python3 "$tools/zoo.py" $want_zoo)
fi
echo "| model | input | aglm cpu median (ms) | ONNX Runtime median (ms) | aglm / ORT | GFLOP | aglm GFLOP/s | % of peak | aglm peak RSS (MiB) | ORT peak RSS (MiB) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for m in $models; do
  [ -n "${path[$m]:-}" ] || { echo "bench-models.sh: unknown model '$m'" >&2; exit 2; }
  n=$iters
  [[ " $zoo_models " == *" $m "* ]] && n=$zoo_iters
  in=$work/$m/in
  mkdir -p "$in"
  file=$in/$(echo "${input[$m]}" | sed 's/[^A-Za-z0-9_.-]/_/g').npy
  "$host" --pipeline "$root/tests/real/gen_input.lua" -- shape="${shape[$m]}" seed=1 out="$file"
  a=$(/usr/bin/time -f %M -o "$work/$m/aglm.rss" "$host" --pipeline "$root/scripts/cpu_fp32.lua" -- \
        model="${path[$m]}" inputs="$in" outdir="$work/$m/out" bench="$n" threads="$threads" | tail -n 1)
  a=$(echo "$a" | sed -n 's/^latency_ms median=\([0-9.]*\).*/\1/p')
  o=$(/usr/bin/time -f %M -o "$work/$m/ort.rss" node "$tools/ort-run.mjs" "${path[$m]}" \
        --input "${input[$m]}=$file" --threads "$threads" --bench "$n" | tail -n 1)
  o=$(echo "$o" | sed -n 's/.*"median":\([0-9.]*\).*/\1/p')
  # The flop count comes from a profiled run apart from the timed ones (profiling adds a timer
  # and a lock per node).
  gf=$("$host" --pipeline "$root/scripts/cpu_fp32.lua" -- model="${path[$m]}" inputs="$in" \
        outdir="$work/$m/out" bench=1 threads="$threads" profile=1 |
       sed -n 's/^GFLOP per run: \([0-9.e+-]*\) .*/\1/p')
  awk -v m="$m" -v s="[$(echo "${shape[$m]}" | tr x ,)]" -v a="$a" -v o="$o" -v gf="${gf:-0}" \
      -v peak="$peak" -v ra="$(tail -n 1 "$work/$m/aglm.rss")" -v ro="$(tail -n 1 "$work/$m/ort.rss")" \
    'BEGIN { r = gf / (a / 1000)
             printf "| %s | %s | %.3f | %.3f | %.1fx | %.4g | %.1f | %.1f%% | %.0f | %.0f |\n",
                    m, s, a, o, a / o, gf, r, 100 * r / peak, ra / 1024, ro / 1024 }'
done
echo
rates() { awk -v p="$1" '$1 == "path" && $2 == p { printf "%s%s thread%s %s", s, $4, $4 == 1 ? "" : "s", $6; s = ", " }' "$work/peak.txt"; }
echo "Peak: $peak GFLOP/s, measured by tools/peak.c (register-only FMA loop, 12 independent accumulators, best of 10 repeats of ~0.05 s each; GFLOP/s):"
for p in avx512f avx2-fma scalar; do
  if grep -q "^path $p skipped" "$work/peak.txt"; then
    echo "- $p: not on this CPU, skipped"
  else
    echo "- $p: $(rates "$p")$([ "$p" = "$widest" ] && echo " <- the peak (widest path, threads=$threads)")"
  fi
done
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg); bench=$iters (zoo: $zoo_iters) threads=$threads"
if [ "$profile" -eq 1 ]; then
  for m in $models; do
    echo
    echo "## $m [${shape[$m]}] profile=1 bench=10 threads=$threads"
    "$host" --pipeline "$root/scripts/cpu_fp32.lua" -- model="${path[$m]}" inputs="$work/$m/in" \
      outdir="$work/$m/out" bench=10 threads="$threads" profile=1 | sed -n '/^profile:/,$p'
  done
fi
