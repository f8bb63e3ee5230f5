#!/usr/bin/env bash
# Median ms and GFLOP/s of the cpu backend's convolution driver (kernels/conv_gemm.c) on the real
# models' heaviest conv shapes, on every SIMD path this CPU runs, beside the im2col + GEMM
# lowering it replaced. Compiles tools/bench-conv.c with the backend's sources at -O3, as the
# plugin is built.
#
#   tools/bench-conv.sh [BUILD_DIR] [THREADS] [REPS] [FILTER]   (BUILD_DIR: where libaglm.so is;
#   default build; FILTER: only shapes whose name contains it, e.g. "3x3")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build} threads=${2:-1} reps=${3:-10} filter=${4:-}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
[ -e "$build/libaglm.so" ] || { echo "bench-conv: no libaglm.so in $build (build first)" >&2; exit 1; }
cpu="$root/plugins/backends/cpu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -std=c11 -D_GNU_SOURCE -O3 -I "$root/plugin-api/include" -I "$cpu" -I "$cpu/kernels" \
    -o "$tmp/bench-conv" "$root/tools/bench-conv.c" "$cpu/threadpool.c" "$cpu/kernels/conv_gemm.c" "$cpu/kernels/conv_winograd.c" \
    "$cpu/kernels/gemm.c" "$cpu/kernels/gemv.c" "$cpu/kernels/gemm_avx2.c" "$cpu/kernels/simd.c" \
    -L "$build" -laglm -Wl,-rpath,"$build" -lpthread -lm
"$tmp/bench-conv" "$threads" "$reps" "$filter"
