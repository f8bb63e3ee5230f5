#!/usr/bin/env bash
# A/B of two builds of aglm on the real models, in one invocation: for each model, the two
# builds' cpu_fp32.lua benchmarks run alternately (A, B, A, B, ...) so the machine's load hits
# both alike; prints each round's medians, the median of the rounds per build and the ratio B/A.
# For a change that must keep speed ("within noise"): build the old commit in a worktree and
# point A at it.
#
#   git worktree add /tmp/base <old-commit> && (cd /tmp/base && ./aglm.sh build)
#   tools/bench-ab.sh --a /tmp/base --b . [--rounds 5] [--iters 30] [--threads 2] [--models "..."]
#
# --a/--b name source trees (each with build/aglm-host and scripts/). The models come from
# tests/real/fetch.sh (the model cache), inputs from tests/real/gen_input.lua (seed 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
a= b= rounds=5 iters=30 threads=2 models="ocr-rec ocr-det ocr-cls wakeword"
while [ $# -gt 0 ]; do
  case $1 in
    --a) a=$(cd "$2" && pwd); shift 2 ;;
    --b) b=$(cd "$2" && pwd); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    *) echo "bench-ab.sh: unknown argument '$1' (--a DIR --b DIR --rounds N --iters N --threads T --models LIST)" >&2; exit 2 ;;
  esac
done
[ -n "$a" ] && [ -n "$b" ] || { echo "bench-ab.sh: give --a DIR and --b DIR (source trees with build/aglm-host)" >&2; exit 2; }
for t in "$a" "$b"; do
  [ -x "$t/build/aglm-host" ] || { echo "bench-ab.sh: no $t/build/aglm-host" >&2; exit 1; }
done

# shellcheck source=bench-inputs.sh
source "$root/tools/bench-inputs.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bench() { # tree model inputs -> median ms of one cpu_fp32.lua bench run
  "$1/build/aglm-host" --pipeline "$1/scripts/cpu_fp32.lua" -- model="${path[$2]}" inputs="$3" \
    bench="$iters" threads="$threads" | tail -n 1 | sed -n 's/^latency_ms median=\([0-9.]*\).*/\1/p'
}

echo "A: $a ($(git -C "$a" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "B: $b ($(git -C "$b" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$b" diff --quiet 2>/dev/null || echo ', with uncommitted changes'))"
echo "| model | A medians (ms) | B medians (ms) | A median | B median | B / A |"
echo "| --- | --- | --- | ---: | ---: | ---: |"
for m in $models; do
  [ -n "${path[$m]:-}" ] || { echo "bench-ab.sh: unknown model '$m'" >&2; exit 2; }
  in=$work/$m/in
  mkdir -p "$in"
  file=$in/$(echo "${input[$m]}" | sed 's/[^A-Za-z0-9_.-]/_/g').npy
  "$b/build/aglm-host" --pipeline "$root/tests/real/gen_input.lua" -- shape="${shape[$m]}" seed=1 out="$file"
  ra=() rb=()
  for _ in $(seq "$rounds"); do
    ra+=("$(bench "$a" "$m" "$in")")
    rb+=("$(bench "$b" "$m" "$in")")
  done
  ma=$(printf '%s\n' "${ra[@]}" | median)
  mb=$(printf '%s\n' "${rb[@]}" | median)
  awk -v m="$m" -v la="${ra[*]}" -v lb="${rb[*]}" -v ma="$ma" -v mb="$mb" \
    'BEGIN { printf "| %s | %s | %s | %.3f | %.3f | %.2f |\n", m, la, lb, ma, mb, mb / ma }'
done
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg); rounds=$rounds bench=$iters threads=$threads"
