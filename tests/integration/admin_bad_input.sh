#!/usr/bin/env bash
# Bad input on the admin socket: each gets its ERR (and --ctl exits 1) or is dropped, and the host
# keeps serving: unknown commands, missing and extra arguments, paths that do not exist or lie
# outside the plugin folders, a replacement whose init fails (the old version keeps serving, the
# reply says why), a failing script, a script that tries to run a shell or end the host, clients
# that leave mid-reply, a flood of connections past max_clients, a line over 4 KiB, and --ctl's own
# usage and connection errors.
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/admin.bash"
cd "$AGLM_SOURCE_DIR"
MODELS="$AGLM_SOURCE_DIR/tests/models"
MAX_CLIENTS=4 make_plugin_dir
mkdir -p "$TMP/in"
make_npy "$TMP/in/A.npy" f32 2,3 1,2,3,4,5,6

start_server "$TMP/admin.sock" "$TMP/server" --config "$TMP/aglm.ini" \
    --pipeline scripts/serve.lua -- model="$MODELS/gemm_transb.yaml" name=m backend=counter admin="$TMP/admin.sock"

# expect_err_reply ERE WHAT: the last ctl exited 1 and its last line is "ERR ..." matching ERE.
expect_err_reply() {
    local last
    last=$(tail -n 1 "$TMP/out")
    if [ "$rc" -eq 1 ] && grep -Eq -- "$1" <<<"$last"; then pass "$2: $last"; else fail "$2 (exit $rc)"; fi
}

echo "# malformed commands"
ctl frobnicate
expect_err_reply "^ERR unknown command 'frobnicate' \(try help\)$" "an unknown command"
ctl load
expect_err_reply '^ERR load: missing argument \(usage: load PATH\)$' "load without its PATH"
ctl infer m
expect_err_reply '^ERR infer: missing option inputs=' "infer without inputs="
ctl infer m inputs="$TMP/in" outdir="$TMP/o" speed=max
expect_err_reply "^ERR infer: unknown option 'speed'" "infer with an unknown option"
ctl plugins all
expect_err_reply "^ERR plugins: extra argument 'all'" "plugins with an extra argument"
ctl unload counter now
expect_err_reply "^ERR unload: extra argument 'now'" "unload with an extra argument"
ctl help frobnicate
expect_err_reply "^ERR help: unknown command 'frobnicate'" "help for an unknown command"
ctl log-level loud
expect_err_reply "^ERR log-level: 'loud' is not error, warn, info, debug or trace$" "an unknown log level"
ctl recompile m level=O9
expect_err_reply "^ERR recompile: level 'O9' is not O0, O1, O2 or O3$" "an unknown optimisation level"
ctl recompile m backend=warp-drive
expect_err_reply "^ERR model 'm': compile for 'warp-drive': no plugin 'warp-drive'$" "recompile for a missing backend"
ctl infer nothere inputs="$TMP/in" outdir="$TMP/o"
expect_err_reply "^ERR no served model 'nothere'$" "infer of an unknown model"
ctl unload nothere
expect_err_reply "^ERR no plugin 'nothere'$" "unload of an unknown plugin"

echo "# paths that do not exist or are not allowed"
ctl load "$TMP/plugins/nope.so"
expect_err_reply "^ERR $TMP/plugins/nope.so: No such file or directory$" "load of a missing file"
ctl replace counter "$TMP/plugins/nope.so"
expect_err_reply "^ERR $TMP/plugins/nope.so: No such file or directory$" "replace from a missing file"
ctl infer m inputs="$TMP/nope" outdir="$TMP/o"
expect_err_reply "^ERR model 'm': inputs '$TMP/nope': No such file or directory$" "infer from a missing folder"
mkdir -p "$TMP/empty"
ctl infer m inputs="$TMP/empty" outdir="$TMP/o"
expect_err_reply "^ERR model 'm': missing input file '$TMP/empty/A.npy' for input 'A'$" "infer with an input file missing"
ctl run "$TMP/nope.lua"
expect_err_reply "^ERR run: $TMP/nope.lua: No such file or directory$" "run of a missing script"
ctl load "$AGLM_TEST_PLUGIN_DIR/base.so"
expect_err_reply "outside the plugin directories \(set \[admin\] allow_any_path = true to allow it\)$" \
    "load from outside the plugin folders"
ln -s "$AGLM_TEST_PLUGIN_DIR/base.so" "$TMP/plugins/sneaky.so"
ctl load "$TMP/plugins/sneaky.so"
expect_err_reply "outside the plugin directories" "a link inside the plugin folder to a file outside it"
ctl replace counter "$MODELS/gemm_transb.yaml"
expect_err_reply "outside the plugin directories" "replace from outside the plugin folders"
ctl load "$TMP/plugins"
expect_err_reply "^ERR $TMP/plugins: not a regular file$" "load of a folder"

echo "# a replacement whose init fails: the old version keeps serving"
ctl replace counter "$TMP/plugins/counter_bad_init.so"
expect_err_reply "^ERR $TMP/plugins/counter_bad_init.so: init of 'counter' failed: counter: cannot open its device$" \
    "the reply says why the replace failed"
ctl infer m inputs="$TMP/in" outdir="$TMP/o1"
expect_rc 0 "m still answers"
check_npy "$TMP/o1/Y.npy" "" 1 "on counter v1"
ctl plugins
expect_out "^counter +backend +[0-9.]+ +started +1 +1 " "counter generation 1 still serves"

echo "# a script that fails"
printf 'print("before")\nerror("boom")\n' >"$TMP/bad.lua"
ctl run "$TMP/bad.lua"
expect_out '^before$' "its output up to the failure is in the reply"
expect_err_reply "^ERR run: $TMP/bad.lua:2: boom$" "the script's error is the reply"

printf 'os.execute("touch %s/ran")\n' "$TMP" >"$TMP/shell.lua"
ctl run "$TMP/shell.lua"
expect_err_reply "^ERR run: $TMP/shell.lua:1: os.execute is not available to scripts run by the admin socket$" \
    "a script cannot run a shell through the socket"
if [ -e "$TMP/ran" ]; then fail "the shell ran"; else pass "nothing ran"; fi
printf 'os.exit(3)\n' >"$TMP/exit.lua"
ctl run "$TMP/exit.lua"
expect_err_reply "os.exit is not available" "a script cannot end the service"
alive "the host still serves after os.exit was refused"

echo "# a line over 4 KiB"
long=$(head -c 5000 /dev/zero | tr '\0' a)
ctl load "$long"
expect_err_reply '^ERR line too long \(more than 4096 bytes\)$' "a 5000-byte line is refused"
alive "the host still serves after the long line"

echo "# clients that leave mid-reply"
{
    for _ in $(seq 20); do
        "$AGLM_HOST" --ctl "$SOCK" help >/dev/null 2>&1 &
        kill -KILL $! 2>/dev/null || true
        wait $! || true
        timeout 5 "$AGLM_HOST" --ctl "$SOCK" plugins 2>/dev/null | head -c 10 >/dev/null || true
    done
} 2>/dev/null
alive "the host still serves after 40 clients left early"

echo "# a flood of connections past max_clients (4)"
# Each served client runs a script that waits on a FIFO, so four slots stay taken until the
# test writes to it; the other six must be told "too many clients" meanwhile.
mkfifo "$TMP/gate"
printf 'local f = assert(io.open(aglm.args.gate))\nf:read("a")\nprint("held done")\n' >"$TMP/hold.lua"
pids=()
for i in $(seq 10); do
    timeout 60 "$AGLM_HOST" --ctl "$SOCK" run "$TMP/hold.lua" gate="$TMP/gate" >"$TMP/flood.$i" 2>&1 &
    pids+=($!)
done
refused=0
for _ in $(seq 300); do
    refused=$(cat "$TMP"/flood.* | grep -c '^ERR too many clients (at most 4)$' || true)
    [ "$refused" -ge 6 ] && break
    sleep 0.05
done
if [ "$refused" -eq 6 ]; then pass "six of ten clients are told 'too many clients'"; else fail "$refused refused"; fi
ctl log-level
expect_err_reply '^ERR too many clients \(at most 4\)$' "an eleventh is refused too while four are held"
timeout 10 bash -c 'echo go >"$1"' _ "$TMP/gate" # releases every reader
ok=0
for i in $(seq 10); do
    set +e
    wait "${pids[$((i - 1))]}"
    r=$?
    set -e
    if [ "$r" -eq 0 ] && grep -q '^held done$' "$TMP/flood.$i"; then ok=$((ok + 1)); fi
done
if [ "$ok" -eq 4 ]; then pass "the four held clients got their replies"; else fail "$ok clients got OK"; fi
alive "the host still serves after the flood"
ctl infer m inputs="$TMP/in" outdir="$TMP/o2"
expect_rc 0 "and infers"

kill -TERM "$SERVER_PID"
wait_exit 20
if [ "$server_rc" -eq 0 ]; then pass "SIGTERM: exit 0"; else fail "SIGTERM: exit $server_rc"; fi

echo "# --ctl usage and connection errors"
run "$AGLM_HOST" --ctl "$TMP/admin.sock" help
expect_rc 2 "--ctl to a socket nobody serves"
expect_fixed_err "aglm-host: --ctl: cannot connect to '$TMP/admin.sock': No such file or directory" "it says why"
run "$AGLM_HOST" --ctl "$TMP/admin.sock"
expect_rc 2 "--ctl without a command"
expect_err '^usage: aglm-host --ctl SOCKET COMMAND' "it prints its usage"
finish
