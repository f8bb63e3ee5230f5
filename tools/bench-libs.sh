#!/usr/bin/env bash
# The cpu backend's Conv kernel beside oneDNN and OpenBLAS on the real models' convolution
# shapes (tools/bench-libs.c lists them), with 1 and 2 threads: median ms and GFLOP/s of each,
# every output checked against a double-precision reference. Compiles the backend's kernel
# sources as they are now (at -O3, as the plugin is built) into an archive, so only what the
# Conv kernel needs gets linked, and runs one process per implementation and thread count so
# OpenMP's and OpenBLAS's idle spinning threads never share the cores with another pool.
#
#   tools/bench-libs.sh [BUILD_DIR] [REPS] [THREADS...]
#     BUILD_DIR: where libaglm.so is (default build); REPS: timed calls per shape (default 20,
#     fewer when a shape's calls would take over a second); THREADS: thread counts (default 1 2).
#   BENCH_LIBS_IMPLS: which of "ours dnnl-nchw dnnl-blocked openblas mixed" to run (default all;
#     mixed: oneDNN's blocked convolution then ours in one process, each pair timed, to show what
#     OpenMP's spinning workers cost our pool).
#   BENCH_LIBS_ROUNDS: passes over all of them, each cell keeping its fastest (default 1).
#   BENCH_LIBS_CLOCK: wall (default) or cpu, the process's CPU time: on a loaded machine the
#     better estimate of single-threaded cost (preemption not counted); with threads > 1 it
#     sums the threads, spinning included, so read only the threads=1 table then.
#   AGLM_CPU_SIMD: our kernels' SIMD path, as for the backend (default the fastest).
#
# Needs libdnnl-dev (oneDNN 2.x, OpenMP build) and libopenblas-dev (apt-get install -y
# libdnnl-dev libopenblas-dev). Exits non-zero when an implementation's output is wrong.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build} reps=${2:-20}
shift $(( $# < 2 ? $# : 2 ))
threads=${*:-1 2}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
[ -e "$build/libaglm.so" ] || { echo "bench-libs: no libaglm.so in $build (build first)" >&2; exit 1; }
[ -e /usr/include/dnnl.h ] || { echo "bench-libs: no oneDNN headers (apt-get install -y libdnnl-dev)" >&2; exit 1; }
cblas=
for d in /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas; do
  [ -e "$d/cblas.h" ] && { cblas=$d; break; }
done
[ -n "$cblas" ] || { echo "bench-libs: no OpenBLAS headers (apt-get install -y libopenblas-dev)" >&2; exit 1; }
cpu="$root/plugins/backends/cpu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every kernel source but the op table (which would pull in every family), so a file the Conv
# kernel starts to need is there without editing this script; the archive links only those used.
cc=${CC:-cc}
srcs=$(ls "$cpu"/kernels/*.c "$cpu/threadpool.c" | grep -v '/kernels/table\.c$')
# A file that does not compile (another kernel mid-edit) is skipped with a warning: the link
# below fails only if the Conv kernel needs it.
printf '%s\n' $srcs | xargs -P 2 -I{} sh -c \
  'o="$1/$(basename "$2" .c).o"; '"$cc"' -std=c11 -D_GNU_SOURCE -O3 -I "$3/plugin-api/include" -I "$4" -c "$2" -o "$o" 2>"$o.log" ||
   echo "bench-libs: warning: $2 does not compile now, left out:" "$(head -n 3 "$o.log")" >&2' \
  _ "$tmp" {} "$root" "$cpu"
ar rcs "$tmp/libkernels.a" "$tmp"/*.o
$cc -std=c11 -D_GNU_SOURCE -O3 -Wall -Wextra -I "$root/plugin-api/include" -I "$cpu" -I "$cblas" \
    -o "$tmp/bench-libs" "$root/tools/bench-libs.c" "$tmp/libkernels.a" \
    -L "$build" -laglm -Wl,-rpath,"$build" -ldnnl -lopenblas -lgomp -lpthread -lm

"$tmp/bench-libs" shapes > "$tmp/shapes.tsv"
status=0
# Rounds alternate the implementations so a burst of load from elsewhere hits one round, not one
# implementation; each cell keeps its fastest round's median.
for r in $(seq "${BENCH_LIBS_ROUNDS:-1}"); do
  for t in $threads; do
    for impl in ${BENCH_LIBS_IMPLS:-ours dnnl-nchw dnnl-blocked openblas mixed}; do
      # One runtime per process; OpenMP reads its thread count from the environment at start-up.
      OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$tmp/bench-libs" "$impl" "$t" "$reps" \
        >> "$tmp/times.tsv" || status=1
    done
  done
done

awk -F'\t' -v threads="$threads" -v clock="${BENCH_LIBS_CLOCK:-wall}" '
  $1 == "shape" { n = $2 + 1; gf[$2] = $3; what[$2] = $4; next }
  $1 == "time" {
    ran[$3] = 1
    if (!(($2, $3, $4) in ms) || $5 < ms[$2, $3, $4]) {
      ms[$2, $3, $4] = $5; extra[$2, $3, $4] = $6; info[$2, $3, $4] = $8
    }
    next
  }
  function cell(i, impl, t) {
    if (!((i, impl, t) in ms)) return impl in ran ? "failed" : "-"
    return sprintf("%.3f (%.1f)", ms[i, impl, t], gf[i] / (ms[i, impl, t] / 1000))
  }
  END {
    nt = split(threads, ts, " ")
    for (k = 1; k <= nt; k++) {
      t = ts[k]
      printf "\n### threads=%s: median ms (GFLOP/s), %s clock\n\n", t, clock
      print "| conv | GFLOP | ours | oneDNN NCHW | oneDNN blocked | + its reorders | OpenBLAS im2col+sgemm | of which im2col | best lib / ours |"
      print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
      for (i = 0; i < n; i++) {
        best = ""
        split("dnnl-nchw dnnl-blocked openblas", libs, " ")
        for (l = 1; l <= 3; l++)
          if ((i, libs[l], t) in ms && (best == "" || ms[i, libs[l], t] < ms[i, best, t])) best = libs[l]
        ratio = best != "" && (i, "ours", t) in ms ? sprintf("%.2fx (%s)", ms[i, "ours", t] / ms[i, best, t], best) : "-"
        printf "| %s | %.4f | %s | %s | %s | %s | %s | %s | %s |\n", what[i], gf[i], cell(i, "ours", t),
          cell(i, "dnnl-nchw", t), cell(i, "dnnl-blocked", t),
          (i, "dnnl-blocked", t) in ms ? sprintf("+%.3f", extra[i, "dnnl-blocked", t]) : "-",
          cell(i, "openblas", t),
          (i, "openblas", t) in ms ? sprintf("%.3f", extra[i, "openblas", t]) : "-", ratio
      }
    }
    if ("mixed" in ran) {
      for (k = 1; k <= nt; k++) {
        t = ts[k]
        printf "\n### threads=%s: oneDNN (OpenMP) and our pool in one process, median ms\n\n", t
        print "| conv | ours alone | oneDNN blocked alone | sum | oneDNN then ours, per pair | pair / sum |"
        print "| --- | ---: | ---: | ---: | ---: | ---: |"
        for (i = 0; i < n; i++) {
          if (!((i, "mixed", t) in ms) || !((i, "ours", t) in ms) || !((i, "dnnl-blocked", t) in ms)) continue
          sum = ms[i, "ours", t] + ms[i, "dnnl-blocked", t]
          printf "| %s | %.3f | %.3f | %.3f | %.3f | %.2fx |\n", what[i], ms[i, "ours", t],
            ms[i, "dnnl-blocked", t], sum, ms[i, "mixed", t], ms[i, "mixed", t] / sum
        }
      }
    }
    printf "\nImplementations (ours: SIMD path; oneDNN NCHW / blocked: its kernel):\n"
    for (i = 0; i < n; i++) printf "- %s: %s; %s / %s\n", what[i], info[i, "ours", ts[1]], info[i, "dnnl-nchw", ts[1]], info[i, "dnnl-blocked", ts[1]]
  }' "$tmp/shapes.tsv" "$tmp/times.tsv"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg); reps=$reps; oneDNN $(dpkg-query -W -f='${Version}' libdnnl2 2>/dev/null || echo '?'), OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?')"
echo "best lib / ours > 1 means the library is faster (reorders left out). \"+ its reorders\": ms to reorder the source from NCHW into oneDNN's blocked layout and the destination back, what a graph kept in NCHW would add. OpenBLAS's im2col (this tool's, plain C) runs on one thread; ours and oneDNN's times include their own im2col or input packing."
exit $status
