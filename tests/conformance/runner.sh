#!/bin/bash
# Tests scripts/conformance.lua itself on cases with known outcomes (make_cases.lua), through a
# fixture frontend and a fixture backend (fixtures/*.c, compiled here) that pass, mismatch, crash,
# hang and refuse on purpose: each case's result and reason, the report, the closing line, the
# filter, and the refusal of a bad argument.
#
# Environment (set by tests/CMakeLists.txt): AGLM_HOST, AGLM_SOURCE_DIR, AGLM_CC (a C compiler),
# AGLM_INCLUDE_DIR (libaglm's public headers), AGLM_LIB_DIR (the folder of libaglm.so).
set -u
host=${AGLM_HOST:?}; src=${AGLM_SOURCE_DIR:?}; cc=${AGLM_CC:-cc}
inc=${AGLM_INCLUDE_DIR:-$src/plugin-api/include}; lib=${AGLM_LIB_DIR:?}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

mkdir -p "$tmp/plugins" "$tmp/cases"
for f in ir_frontend faulty_backend; do
    "$cc" -std=c11 -shared -fPIC -o "$tmp/plugins/$f.so" "$here/fixtures/$f.c" -I"$inc" \
        -L"$lib" -laglm || { echo "FAIL: cannot compile fixtures/$f.c"; exit 1; }
done
"$host" --pipeline "$here/make_cases.lua" -- dir="$tmp/cases" || { echo "FAIL: make_cases.lua"; exit 1; }

run() {
    "$host" --plugin-dir "$tmp/plugins" --pipeline "$src/scripts/conformance.lua" -- \
        backend=conftest-faulty frontend=conftest-ir dir="$tmp/cases" timeout=2 "$@"
}

out=$(run report="$tmp/report.tsv" 2>&1); status=$?
echo "$out"
[ "$status" -eq 0 ] || fail "the runner exited with status $status"
last=$(printf '%s\n' "$out" | tail -n 1)
[ "$last" = "2 passed, 8 failed, 2 skipped" ] || fail "closing line: '$last'"

# case, result, and a fixed string the reason must contain (empty: the reason must be empty)
expect() {
    local line
    line=$(grep -P "^$1\t" "$tmp/report.tsv")
    [ -n "$line" ] || { fail "$1: not in the report"; return; }
    local result reason
    result=$(printf '%s' "$line" | cut -f2)
    reason=$(printf '%s' "$line" | cut -f3)
    [ "$result" = "$2" ] || fail "$1: $result, expected $2 ($reason)"
    if [ -z "$3" ]; then
        [ -z "$reason" ] || fail "$1: reason '$reason', expected none"
    else
        case "$reason" in *"$3"*) ;; *) fail "$1: reason '$reason' lacks '$3'" ;; esac
    fi
}
expect test_relu_pass pass ""
expect test_identity_nan_inf pass ""
expect test_relu_second_set_wrong fail "test_data_set_1: output 'y': 1 of 4 values differ"
expect test_relu_wrong_dtype fail "output 'y': dtype f32, expected f64"
expect test_relu_wrong_shape fail "output 'y': shape [4], expected [2,2]"
expect test_relu_missing_output fail "0 output file(s) for 1 graph output(s)"
expect test_identity_inf_sign fail "got inf, expected -inf"
expect test_identity_float8 skip "dtype float8e4m3fn not supported"
# "crashed (signal 11)", or under AddressSanitizer "crashed (AddressSanitizer: SEGV ...)"
expect test_neg_crash fail "crashed ("
expect test_abs_hang fail "timed out after 2 s"
expect test_sigmoid_refused skip "op Sigmoid not implemented"
expect test_bad_model fail "load 'model.onnx'"
[ "$(wc -l < "$tmp/report.tsv")" -eq 12 ] || fail "the report has $(wc -l < "$tmp/report.tsv") lines, expected 12"
sort -c "$tmp/report.tsv" || fail "the report is not sorted by case"

# filter: a list of names, and a Lua pattern
out=$(run report="$tmp/r2.tsv" filter=test_relu_pass,test_neg_crash 2>&1)
[ "$(printf '%s\n' "$out" | tail -n 1)" = "1 passed, 1 failed, 0 skipped" ] || fail "filter list: $out"
out=$(run report="$tmp/r3.tsv" filter=^test_identity 2>&1)
[ "$(printf '%s\n' "$out" | tail -n 1)" = "1 passed, 1 failed, 1 skipped" ] || fail "filter pattern: $out"
[ "$(cut -f1 "$tmp/r3.tsv" | tr '\n' ' ')" = "test_identity_float8 test_identity_inf_sign test_identity_nan_inf " ] ||
    fail "filter pattern report: $(cut -f1 "$tmp/r3.tsv")"

# bad arguments stop the runner with a message naming them
out=$(run filter=test_nope, 2>&1) && fail "an unknown case name was accepted"
case "$out" in *"no case 'test_nope'"*) ;; *) fail "unknown case name: $out" ;; esac
out=$(run jobs=0 2>&1) && fail "jobs=0 was accepted"
case "$out" in *"jobs=0"*) ;; *) fail "jobs=0: $out" ;; esac
out=$(run colour=red 2>&1) && fail "an unknown argument was accepted"
case "$out" in *"unknown argument 'colour'"*) ;; *) fail "unknown argument: $out" ;; esac

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "runner: ok"
