#!/usr/bin/env bash
# GFLOP/s of the cpu backend's f32 GEMM on every SIMD path this CPU runs (portable, avx2), for
# square sizes and the shapes the real models' convolutions produce. Compiles tools/bench-gemm.c
# with the backend's GEMM sources at -O3, as the plugin is built.
#
#   tools/bench-gemm.sh [BUILD_DIR] [THREADS] [REPS]   (BUILD_DIR: where libaglm.so is; default build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build} threads=${2:-1} reps=${3:-10}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
[ -e "$build/libaglm.so" ] || { echo "bench-gemm: no libaglm.so in $build (build first)" >&2; exit 1; }
cpu="$root/plugins/backends/cpu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -std=c11 -D_GNU_SOURCE -O3 -I "$root/plugin-api/include" -I "$cpu" -o "$tmp/bench-gemm" \
    "$root/tools/bench-gemm.c" "$cpu/threadpool.c" "$cpu/kernels/gemm.c" "$cpu/kernels/gemv.c" "$cpu/kernels/gemm_avx2.c" \
    "$cpu/kernels/simd.c" -L "$build" -laglm -Wl,-rpath,"$build" -lpthread -lm
"$tmp/bench-gemm" "$threads" "$reps"
