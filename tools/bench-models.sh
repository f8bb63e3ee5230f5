#!/usr/bin/env bash
# Reproduces the table of docs/benchmarks.md in one command: for each real model at its benchmark
# shape, aglm's cpu median latency (scripts/cpu_fp32.lua bench=N threads=T) beside ONNX Runtime's
# (../shared/tools/ort-run.mjs --bench N --threads T) on the same input, run one after the other
# in the same invocation, then the ratio. Beside them: the model's GFLOP per run (convolution and
# matrix-product multiply-adds x 2, counted by the cpu backend's profile in a separate profile=1
# run; element-wise ops not counted), the GFLOP/s aglm's median reaches and its share of this
# CPU's peak (the derivation is printed under the table), and the peak resident memory (MiB) of
# the aglm-host process and of ONNX Runtime's node process over their benchmark runs (GNU time's
# %M, maximum RSS). Prints a markdown table, the machine, and with --profile each model's aglm
# profile (profile=1) after the table.
#
#   tools/bench-models.sh [--iters N] [--threads T] [--profile] [--models "ocr-rec ocr-det ..."]
#
# Environment: AGLM_HOST (default build/aglm-host), AGLM_SHARED_TOOLS (default ../shared/tools
# beside the repository: ort-run.mjs and peers.sh), AGLM_MODELS (the model cache, see
# tests/real/fetch.sh). Needs GNU time as /usr/bin/time (Debian package `time`).
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
[ -x /usr/bin/time ] || { echo "bench-models.sh: no GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
bash "$tools/peers.sh" >/dev/null

# This CPU's peak f32 rate for the cores the benchmark uses: cores x max MHz x flop per cycle,
# flop per cycle from the widest vector FMA /proc/cpuinfo lists (2 FMA pipes assumed).
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " ${flags#*:} " == *" $1 "* ]]; }
if has avx512f; then fpc=64 why="AVX-512F: 2 x 512-bit FMA x 16 lanes x 2"
elif has avx2 && has fma; then fpc=32 why="AVX2+FMA: 2 x 256-bit FMA x 8 lanes x 2"
elif has avx; then fpc=16 why="AVX without FMA: 256-bit add + mul x 8 lanes"
else fpc=8 why="SSE: 128-bit add + mul x 4 lanes"
fi
mhz=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^CPU max MHz: *//p' | head -n 1)
mhz_from="lscpu 'CPU max MHz'"
if [ -z "$mhz" ] && [ -r /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq ]; then
  mhz=$(awk '{ print $1 / 1000 }' /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq)
  mhz_from="cpufreq cpuinfo_max_freq"
fi
if [ -z "$mhz" ]; then
  mhz=$(awk -F: '/^cpu MHz/ { if ($2 > m) m = $2 } END { print m + 0 }' /proc/cpuinfo)
  mhz_from="highest 'cpu MHz' in /proc/cpuinfo (no max MHz exposed)"
fi
cores=$(nproc)
[ "$threads" -lt "$cores" ] && cores=$threads
peak=$(awk -v c="$cores" -v m="$mhz" -v f="$fpc" 'BEGIN { printf "%.1f", c * m * f / 1000 }')

declare -A path input shape
while read -r name file; do path[$name]=$file; done < <(bash "$root/tests/real/fetch.sh")
input[wakeword]=onnx::Flatten_0 shape[wakeword]=1x25x96
input[ocr-cls]=x shape[ocr-cls]=1x3x48x192
input[ocr-rec]=x shape[ocr-rec]=1x3x48x320
input[ocr-det]=x shape[ocr-det]=1x3x640x640

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| model | input | aglm cpu median (ms) | ONNX Runtime median (ms) | aglm / ORT | GFLOP | aglm GFLOP/s | % of peak | aglm peak RSS (MiB) | ORT peak RSS (MiB) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for m in $models; do
  [ -n "${path[$m]:-}" ] || { echo "bench-models.sh: unknown model '$m'" >&2; exit 2; }
  in=$work/$m/in
  mkdir -p "$in"
  file=$in/$(echo "${input[$m]}" | sed 's/[^A-Za-z0-9_.-]/_/g').npy
  "$host" --pipeline "$root/tests/real/gen_input.lua" -- shape="${shape[$m]}" seed=1 out="$file"
  a=$(/usr/bin/time -f %M -o "$work/$m/aglm.rss" "$host" --pipeline "$root/scripts/cpu_fp32.lua" -- \
        model="${path[$m]}" inputs="$in" outdir="$work/$m/out" bench="$iters" threads="$threads" | tail -n 1)
  a=$(echo "$a" | sed -n 's/^latency_ms median=\([0-9.]*\).*/\1/p')
  o=$(/usr/bin/time -f %M -o "$work/$m/ort.rss" node "$tools/ort-run.mjs" "${path[$m]}" \
        --input "${input[$m]}=$file" --threads "$threads" --bench "$iters" | tail -n 1)
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
echo "Peak: $cores cores (threads=$threads, of $(nproc)) x $mhz MHz ($mhz_from) x $fpc flop/cycle ($why) = $peak GFLOP/s."
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg); bench=$iters threads=$threads"
if [ "$profile" -eq 1 ]; then
  for m in $models; do
    echo
    echo "## $m [${shape[$m]}] profile=1 bench=10 threads=$threads"
    "$host" --pipeline "$root/scripts/cpu_fp32.lua" -- model="${path[$m]}" inputs="$work/$m/in" \
      outdir="$work/$m/out" bench=10 threads="$threads" profile=1 | sed -n '/^profile:/,$p'
  done
fi
