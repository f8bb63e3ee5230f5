#!/bin/bash
# The conformance suite as a ctest test: runs every ONNX backend node test on the cpu backend
# (scripts/conformance.lua) and passes when the runner worked and at least as many cases pass as
# floor.txt says. Failing cases do not fail it (their count is the product metric, recorded in
# docs/conformance.md); a drop below the floor does. Raise floor.txt when the count goes up.
#
# Environment (set by tests/CMakeLists.txt): AGLM_HOST, AGLM_SOURCE_DIR, AGLM_BUILD_DIR;
# AGLM_CONFORMANCE_DIR overrides the folder of cases (default ../shared/onnx-backend-tests/node
# beside the source tree). Exit status 77 (ctest's SKIP_RETURN_CODE) when that folder is absent.
set -u
host=${AGLM_HOST:?AGLM_HOST must name aglm-host}
src=${AGLM_SOURCE_DIR:?AGLM_SOURCE_DIR must name the source tree}
build=${AGLM_BUILD_DIR:?AGLM_BUILD_DIR must name the build tree}
dir=${AGLM_CONFORMANCE_DIR:-$src/../shared/onnx-backend-tests/node}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -d "$dir" ]; then
    echo "skipped: no ONNX backend node tests at $dir (set AGLM_CONFORMANCE_DIR)"
    exit 77
fi

report=$build/conformance-cpu.tsv
log=$build/conformance-cpu.log
"$host" --pipeline "$src/scripts/conformance.lua" -- backend=cpu dir="$dir" report="$report" \
    2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo "FAIL: the conformance runner exited with status $status"
    exit 1
fi

last=$(tail -n 1 "$log")
if ! [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    echo "FAIL: the runner's closing line is not 'N passed, N failed, N skipped': $last"
    exit 1
fi
passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} skipped=${BASH_REMATCH[3]}
cases=$(find "$dir" -mindepth 2 -maxdepth 2 -name model.onnx | wc -l)
if [ $((passed + failed + skipped)) -ne "$cases" ]; then
    echo "FAIL: $((passed + failed + skipped)) cases counted, $dir holds $cases"
    exit 1
fi
lines=$(wc -l < "$report")
if [ "$lines" -ne "$cases" ]; then
    echo "FAIL: the report $report has $lines lines for $cases cases"
    exit 1
fi
if grep -qvP '^test_\S+\t(pass|fail|skip)\t' "$report" || grep -qP '^\S+\tskip\t$' "$report"; then
    echo "FAIL: the report has a malformed line or a skip without a reason:"
    grep -vP '^test_\S+\t(pass|fail|skip)\t' "$report" | head -3
    grep -P '^\S+\tskip\t$' "$report" | head -3
    exit 1
fi

floor=$(grep -o '^[0-9]\+' "$here/floor.txt" | head -n 1)
if [ -z "$floor" ]; then
    echo "FAIL: $here/floor.txt holds no number"
    exit 1
fi
if [ "$passed" -lt "$floor" ]; then
    echo "FAIL: $passed cases pass, fewer than the floor of $floor (tests/conformance/floor.txt);" \
        "see $report"
    exit 1
fi
echo "ok: $passed passed (floor $floor), $failed failed, $skipped skipped; report $report"
