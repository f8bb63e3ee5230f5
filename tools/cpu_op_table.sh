#!/usr/bin/env bash
# Prints the cpu backend's op table (Markdown) from its kernel tables, or with --write puts it
# into plugins/backends/cpu/README.md between the op-table markers.
#
#   tools/cpu_op_table.sh [BUILD_DIR] [--write]     (BUILD_DIR: where libaglm.so is; default build)
#
# It compiles tools/cpu_op_table.c with the plugin's sources (no optimisation: a few seconds).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=build write=0
for a in "$@"; do
    case "$a" in
    --write) write=1 ;;
    *) build=$a ;;
    esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac
[ -e "$build/libaglm.so" ] || { echo "cpu_op_table: no libaglm.so in $build (build first)" >&2; exit 1; }

cpu="$root/plugins/backends/cpu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
srcs=()
for f in "$cpu"/*.c "$cpu"/kernels/*.c; do
    [ "$f" = "$cpu/kernels/table.c" ] || srcs+=("$f")
done
${CC:-cc} -std=c11 -D_GNU_SOURCE -w -I "$root/plugin-api/include" -I "$cpu" -o "$tmp/op_table" \
    "$root/tools/cpu_op_table.c" "${srcs[@]}" -L "$build" -laglm -Wl,-rpath,"$build" -lpthread -lm
"$tmp/op_table" >"$tmp/table.md"

if [ "$write" = 0 ]; then
    cat "$tmp/table.md"
    exit 0
fi
readme="$cpu/README.md"
grep -q '^<!-- op-table:begin' "$readme" && grep -q '^<!-- op-table:end' "$readme" ||
    { echo "cpu_op_table: $readme lacks the op-table markers" >&2; exit 1; }
awk -v table="$tmp/table.md" '
    /^<!-- op-table:begin/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
    /^<!-- op-table:end/ { skip = 0 }
    !skip { print }' "$readme" >"$tmp/README.md"
cp "$tmp/README.md" "$readme"
echo "cpu_op_table: wrote the table into $readme ($(tail -n 1 "$tmp/table.md"))"
