#!/usr/bin/env bash
# The admin socket end to end: scripts/serve.lua keeps the host running, and every command works
# through aglm-host --ctl: help, plugins, load, unload, replace (served models follow the new
# backend), models, infer (the pipeline scripts' file contract, outputs checked by hand values),
# recompile, run, stats, log-level and shutdown (drains, exit 0).
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/admin.bash"
cd "$AGLM_SOURCE_DIR"
MODELS="$AGLM_SOURCE_DIR/tests/models"
make_plugin_dir
mkdir -p "$TMP/in"
# gemm_transb.yaml: A = [[1,2,3],[4,5,6]] gives Y = [[9,1],[21,1]] (see the model's comments)
make_npy "$TMP/in/A.npy" f32 2,3 1,2,3,4,5,6

echo "# serve.lua: a model on the counter backend (its output is the build's version)"
start_server "$TMP/admin.sock" "$TMP/server" --config "$TMP/aglm.ini" --log-level info \
    --pipeline scripts/serve.lua -- model="$MODELS/gemm_transb.yaml" name=m backend=counter admin="$TMP/admin.sock"
pass "the host serves and answers on its socket"
if grep -q "^serving .*gemm_transb.yaml as 'm' on counter at O2, admin socket $TMP/admin.sock$" "$TMP/server.out"; then
    pass "serve.lua says what it serves"
else
    fail "serve.lua's line: $(cat "$TMP/server.out")"
fi
mode=$(stat -c %a "$TMP/admin.sock")
if [ "$mode" = 600 ]; then pass "the socket is mode 0600"; else fail "the socket is mode $mode"; fi

echo "# help"
ctl help
expect_rc 0 "help"
for c in help plugins load unload replace models infer recompile run stats log-level shutdown; do
    expect_out "^$c( |$)" "help lists $c"
done
expect_out '^OK$' "the reply ends with OK"
ctl help infer
expect_out '^infer MODEL inputs=DIR outdir=DIR$' "help infer shows its usage"

echo "# plugins and models"
ctl plugins
expect_rc 0 "plugins"
expect_out '^NAME +KIND +VERSION +STATE +REFS +GEN +FILE$' "plugins has a header"
expect_out "^counter +backend +[0-9.]+ +started +1 +1 +$TMP/plugins/counter_v1.so$" "counter v1 serves, one reference (the model)"
expect_out '^cpu +backend ' "the default folder's cpu backend is there"
ctl models
expect_rc 0 "models"
expect_out '^m +counter +1 +O2 +A: f32\[2,3\]$' "models shows m on counter generation 1 at O2"

echo "# infer"
ctl infer m inputs="$TMP/in" outdir="$TMP/out1"
expect_rc 0 "infer m"
expect_out "^output Y: f32\[\] -> $TMP/out1/Y.npy$" "infer names its output file"
check_npy "$TMP/out1/Y.npy" "" 1 "counter v1 computed it"

echo "# run: a script served a second model, on cpu"
ctl run scripts/serve.lua model="$MODELS/gemm_transb.yaml" name=g backend=cpu
expect_rc 0 "run serve.lua"
expect_out "^serving .*gemm_transb.yaml as 'g' on cpu at O2$" "the script's print() is the reply"
ctl infer g inputs="$TMP/in" outdir="$TMP/out2"
expect_rc 0 "infer g"
check_npy "$TMP/out2/Y.npy" 2,2 9,1,21,1 "g's output matches the hand computation"

echo "# replace: the served model follows the new backend"
ctl replace counter "$TMP/plugins/counter_v2.so"
expect_rc 0 "replace counter with v2"
expect_out '^replaced counter: generation 2$' "replace reports the generation"
expect_out '^model m: on counter generation 2$' "replace reports the model that followed"
ctl infer m inputs="$TMP/in" outdir="$TMP/out3"
check_npy "$TMP/out3/Y.npy" "" 2 "m now runs on v2"
ctl plugins
if grep -q "counter_v1" "$TMP/out"; then fail "v1 should have drained"; else pass "v1 drained and is gone"; fi
ctl replace counter
expect_rc 0 "replace counter from its own file"
expect_out '^replaced counter: generation 3$' "generation 3"

echo "# recompile"
ctl recompile m backend=cpu level=O1
expect_rc 0 "recompile m on cpu at O1"
expect_out '^model m: on cpu generation 1 at O1$' "recompile says where the model runs"
ctl infer m inputs="$TMP/in" outdir="$TMP/out4"
check_npy "$TMP/out4/Y.npy" 2,2 9,1,21,1 "m now computes on cpu"
ctl recompile g level=O2
expect_out '^model g: on cpu generation 1 at O2$' "recompile g at O2"
ctl models
expect_out '^m +cpu +1 +O1 ' "models shows m on cpu at O1"
expect_out '^g +cpu +1 +O2 ' "models shows g at O2"

echo "# unload and load"
ctl unload counter
expect_rc 0 "unload counter"
expect_out '^unloaded counter$' "nothing held it: unloaded at once"
ctl plugins
if grep -q '^counter ' "$TMP/out"; then fail "counter is still listed"; else pass "counter is gone"; fi
ctl load "$TMP/plugins/counter_v1.so"
expect_rc 0 "load counter v1 again"
expect_out "^loaded counter: generation 4 from $TMP/plugins/counter_v1.so$" "load reports name, generation and file"

echo "# stats and log-level"
ctl stats
expect_rc 0 "stats"
expect_out '^model m requests=3 errors=0 p50_ms=[0-9.]+ p90_ms=[0-9.]+ p99_ms=[0-9.]+ max_ms=[0-9.]+ backend=cpu generation=1 level=O1 compiles=4$' \
    "stats counts m's requests and latency"
expect_out '^model g requests=1 errors=0 ' "stats counts g's"
expect_out '^plugin cpu generation=1 state=started refs=2$' "the two models hold the cpu backend"
expect_out '^plugin counter generation=4 state=started refs=0$' "counter is held by nobody"
ctl log-level debug
expect_out '^log-level debug$' "log-level sets"
ctl log-level
expect_out '^log-level debug$' "log-level shows"

echo "# shutdown"
ctl shutdown
expect_rc 0 "shutdown answers OK"
wait_exit 20
if [ "$server_rc" -eq 0 ]; then pass "the host drained and exited 0"; else fail "the host exited $server_rc"; fi
if [ -e "$TMP/admin.sock" ]; then fail "the socket file is left behind"; else pass "the socket file is removed"; fi
if grep -q "the shutdown command: draining" "$TMP/server.err"; then pass "the log says why it stopped"; else fail "no drain line in the log"; fi
finish
