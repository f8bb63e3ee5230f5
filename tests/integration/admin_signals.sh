#!/usr/bin/env bash
# A serving host and signals: SIGTERM and SIGINT drain (a command in flight echo "# a plain pipeline still ends on SIGTERM (the default action)"
"$AGLM_HOST" --pipeline "$TMP/hold.lua" -- gate="$TMP/gate" >"$TMP/plain.out" 2>"$TMP/plain.err" &
SERVER_PID=$!
sleep 0.3
kill -TERM "$SERVER_PID"
wait_exit 20
if [ "$server_rc" -eq 143 ]; then pass "SIGTERM ends a pipeline (exit 143)"; else fail "SIGTERM: exit $server_rc"; fi
finishes and its
# reply goes out) and exit 0; SIGHUP re-reads aglm.ini (the log level changes live; a broken file
# changes nothing and the host carries on). A host serving without an admin socket stops on
# SIGTERM too.
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/admin.bash"
cd "$AGLM_SOURCE_DIR"
MODEL="$AGLM_SOURCE_DIR/tests/models/gemm_transb.yaml"
make_plugin_dir
mkfifo "$TMP/gate"
printf 'local f = assert(io.open(aglm.args.gate))\nf:read("a")\nprint("held done")\n' >"$TMP/hold.lua"

serve() {
    start_server "$TMP/admin.sock" "$TMP/server" --config "$TMP/aglm.ini" --log-level info \
        --pipeline scripts/serve.lua -- model="$MODEL" name=m backend=counter admin="$TMP/admin.sock"
}

for sig in TERM INT; do
    echo "# SIG$sig with a command in flight"
    serve
    timeout 60 "$AGLM_HOST" --ctl "$SOCK" run "$TMP/hold.lua" gate="$TMP/gate" >"$TMP/held" 2>&1 &
    held=$!
    for _ in $(seq 100); do grep -q "admin: running script" "$TMP/server.err" && break; sleep 0.05; done
    kill -"$sig" "$SERVER_PID"
    sleep 0.5
    if kill -0 "$SERVER_PID" 2>/dev/null; then pass "SIG$sig: the host waits for the command in flight"; else fail "SIG$sig: it did not wait"; fi
    timeout 10 bash -c 'echo go >"$1"' _ "$TMP/gate"
    set +e
    wait "$held"
    held_rc=$?
    set -e
    if [ "$held_rc" -eq 0 ] && grep -q '^held done$' "$TMP/held"; then
        pass "SIG$sig: the command in flight got its reply"
    else
        fail "SIG$sig: the command in flight: exit $held_rc, $(cat "$TMP/held")"
    fi
    wait_exit 20
    if [ "$server_rc" -eq 0 ]; then pass "SIG$sig: exit 0 after the drain"; else fail "SIG$sig: exit $server_rc"; fi
    if grep -q "SIG$sig: draining" "$TMP/server.err"; then pass "SIG$sig: logged"; else fail "SIG$sig: no log line"; fi
    if [ -e "$TMP/admin.sock" ]; then fail "SIG$sig: the socket is left behind"; else pass "SIG$sig: the socket is removed"; fi
done

echo "# SIGHUP re-reads aglm.ini"
serve
ctl log-level
expect_out '^log-level info$' "the level from --log-level"
sed -i 's/^\[host\]$/[host]\nlog_level = debug/' "$TMP/aglm.ini"
kill -HUP "$SERVER_PID"
level=
for _ in $(seq 100); do
    level=$("$AGLM_HOST" --ctl "$SOCK" log-level 2>/dev/null | head -n 1 || true)
    [ "$level" = "log-level debug" ] && break
    sleep 0.05
done
if [ "$level" = "log-level debug" ]; then pass "SIGHUP applied log_level = debug"; else fail "after SIGHUP: '$level'"; fi
if grep -q "SIGHUP: re-reading $TMP/aglm.ini" "$TMP/server.err"; then pass "SIGHUP is logged"; else fail "no SIGHUP log line"; fi
echo "[host" >>"$TMP/aglm.ini"
kill -HUP "$SERVER_PID"
for _ in $(seq 100); do grep -q "the running configuration is unchanged" "$TMP/server.err" && break; sleep 0.05; done
if grep -q "SIGHUP: .*aglm.ini:[0-9]*: .*(the running configuration is unchanged)" "$TMP/server.err"; then
    pass "a broken aglm.ini is reported with its line and changes nothing"
else
    fail "no error for the broken aglm.ini: $(grep SIGHUP "$TMP/server.err" || true)"
fi
alive "the host still serves after a failed reload"
ctl log-level
expect_out '^log-level debug$' "the level stays"
ctl shutdown
wait_exit 20
if [ "$server_rc" -eq 0 ]; then pass "shutdown: exit 0"; else fail "shutdown: exit $server_rc"; fi

echo "# serving without an admin socket"
sed -i '$d' "$TMP/aglm.ini" # the broken line of the reload test
"$AGLM_HOST" --config "$TMP/aglm.ini" --pipeline scripts/serve.lua -- model="$MODEL" name=m backend=counter \
    >"$TMP/plain.out" 2>"$TMP/plain.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "^serving " "$TMP/plain.out" 2>/dev/null && break; sleep 0.05; done
sleep 0.2
if kill -0 "$SERVER_PID" 2>/dev/null; then pass "it keeps running after the script"; else fail "it exited: $(cat "$TMP/plain.err")"; fi
kill -TERM "$SERVER_PID"
wait_exit 20
if [ "$server_rc" -eq 0 ]; then pass "SIGTERM: exit 0"; else fail "SIGTERM: exit $server_rc"; fi
echo "# a plain pipeline still ends on SIGTERM (the default action)"
"$AGLM_HOST" --pipeline "$TMP/hold.lua" -- gate="$TMP/gate" >"$TMP/plain.out" 2>"$TMP/plain.err" &
SERVER_PID=$!
sleep 0.3
kill -TERM "$SERVER_PID"
wait_exit 20
if [ "$server_rc" -eq 143 ]; then pass "SIGTERM ends a pipeline (exit 143)"; else fail "SIGTERM: exit $server_rc"; fi
finish
