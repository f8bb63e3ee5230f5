#!/usr/bin/env bash
# Optimisation levels (docs/levels.md): --list-levels, [levels] of aglm.ini and its errors,
# cpu_fp32.lua at level=O0 and O2 with print_ir=after-each (headers and node counts),
# aglm.optimize's report table, and the warning for a pass of a level that is not loaded.
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
cd "$AGLM_SOURCE_DIR"
MODELS="$AGLM_SOURCE_DIR/tests/models"
PIPELINE=scripts/cpu_fp32.lua
HDR='^# IR after pass'

# A config whose levels do not depend on which passes exist yet: dce (always built) and one
# pass that no plugin provides.
cat >"$TMP/levels.ini" <<'INI'
[host]
log_level = warn
[levels]
O1 = dce
O2 = O1, no-such-pass, dce
INI

echo "# --list-levels"
run "$AGLM_HOST" --list-levels
expect_rc 0 "--list-levels with the built-in table"
expect_out '^O0  \(no passes\)$' "O0 runs no pass"
expect_out '^O1  fold-constants( \[not loaded\])?, dce$' "O1 is fold-constants, dce"
expect_out '^O2  fold-constants( \[not loaded\])?, dce, fold-batchnorm( \[not loaded\])?, fuse( \[not loaded\])?, simplify( \[not loaded\])?, cse( \[not loaded\])?, dce$' \
    "O2 is O1 + fold-batchnorm, fuse, simplify, cse, dce"
expect_out '^O3  fold-constants.*, dce \(repeated until no pass changes the graph\)$' "O3 is O2's list to a fixed point"
expect_out '^levels: built-in' "it says the table is built in"
run "$AGLM_HOST" --config "$TMP/levels.ini" --list-levels
expect_rc 0 "--list-levels with [levels] in the config"
expect_out '^O1  dce$' "O1 from the config"
expect_out '^O2  dce, no-such-pass \[not loaded\], dce$' "O2 expands O1 and marks the pass not loaded"
expect_out '^O3  dce, no-such-pass \[not loaded\], dce \(repeated until no pass changes the graph\)$' \
    "O3, left out, follows O2"
expect_fixed_out() { if grep -Fq -- "$1" "$TMP/out"; then pass "$2"; else fail "$2: stdout lacks '$1'"; fi; }
expect_fixed_out "levels: [levels] of $TMP/levels.ini" "it names the file the levels come from"

echo "# a bad [levels] section"
printf '[levels]\nO1 = dce\nO2 = O3, dce\n' >"$TMP/bad.ini"
run "$AGLM_HOST" --config "$TMP/bad.ini" --list-levels
expect_rc 1 "a level naming a higher one is refused"
expect_fixed_err "$TMP/bad.ini:3: [levels] O2 = 'O3, dce': 'O3' is not a level below O2" \
    "the message names the file, line, key and entry"

echo "# cpu_fp32.lua at O0 and O2 with print_ir=after-each"
mkdir -p "$TMP/in"
"$AGLM_HOST" --pipeline "$HELPERS/make_npy.lua" -- out="$TMP/in/x.npy" dtype=f32 shape=2,3 \
    values=-1,2,-3,4,-5,6 >/dev/null
run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/dead_branch.yaml" inputs="$TMP/in" \
    outdir="$TMP/o0" level=O0 print_ir=after-each
expect_rc 0 "level=O0 runs"
expect_no_err "$HDR" "O0 runs no pass, so prints no IR"
run "$AGLM_HOST" --pipeline "$HELPERS/check_npy.lua" -- file="$TMP/o0/y.npy" dtype=f32 shape=2,3 values=0,2,0,4,0,6
expect_rc 0 "O0's output is Relu(x)"

run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/dead_branch.yaml" inputs="$TMP/in" \
    outdir="$TMP/o2" level=O2 print_ir=after-each
expect_rc 0 "level=O2 runs"
expect_err "^# IR after pass 'dce' \(O2, round 1\): 3 -> 1 nodes, [0-9.]+ ms$" \
    "the header after O2's first dce names the pass, the level and 3 -> 1 nodes"
expect_err "^# IR after pass 'dce' \(O2, round 1\): 1 -> 1 nodes, [0-9.]+ ms, unchanged$" \
    "O2's second dce changes nothing"
expect_err '^graph dead_branch\(%x: f32\[2,3\]\) -> \(%y: f32\[2,3\]\) \{$' "the IR follows the header"
if sed -n "/^# IR after pass 'dce'/,\$p" "$TMP/err" | grep -q Sigmoid; then
    fail "the dead Sigmoid is still printed after dce"
else
    pass "no IR printed after dce shows the dead Sigmoid"
fi
run "$AGLM_HOST" --pipeline "$HELPERS/check_npy.lua" -- file="$TMP/o2/y.npy" dtype=f32 shape=2,3 values=0,2,0,4,0,6
expect_rc 0 "O2's output is the same Relu(x)"

run "$AGLM_HOST" --pipeline "$PIPELINE" -- model="$MODELS/dead_branch.yaml" level=O5
expect_rc 1 "level=O5 is refused"
expect_err "level=O5: expected O0, O1, O2 or O3" "the message names the bad level"

echo "# a pass of the level that is not loaded"
run "$AGLM_HOST" --config "$TMP/levels.ini" --pipeline "$PIPELINE" -- model="$MODELS/dead_branch.yaml" \
    inputs="$TMP/in" outdir="$TMP/o3" level=O3 print_ir=after-each
expect_rc 0 "O3 runs without the missing pass"
expect_err "^aglm: warn: O3: pass 'no-such-pass' skipped: no plugin 'no-such-pass'$" "the missing pass is named"
n=$(grep -c "pass 'no-such-pass' skipped" "$TMP/err" || true)
rounds=$(grep -c "^# IR after pass 'dce' (O3, round 2)" "$TMP/err" || true)
if [ "$n" -eq 1 ] && [ "$rounds" -ge 1 ]; then
    pass "it is warned about once, though O3 ran its list twice"
else
    fail "warned $n times over $rounds second-round dce runs"
fi

echo "# aglm.optimize's report"
run "$AGLM_HOST" --config "$TMP/levels.ini" --pipeline "$HELPERS/optimize_report.lua" -- \
    model="$MODELS/dead_branch.yaml" level=O2 nodes_before=3 nodes_after=1 missing=no-such-pass
expect_rc 0 "the report of O2 checks out"
expect_out '^report ok O2 rounds=1 passes=dce:3->1,dce:1->1$' "it lists each pass with its node counts"
run "$AGLM_HOST" --pipeline "$HELPERS/optimize_report.lua" -- model="$MODELS/dead_branch.yaml" level=O0 \
    nodes_before=3 nodes_after=3
expect_rc 0 "the report of O0 checks out"
expect_out '^report ok O0 rounds=1 passes=$' "O0 runs no pass"
finish
