#!/usr/bin/env bash
# Swaps under load: a host serves gemm_transb.yaml on the cpu backend while tests/load/swap_client
# sends requests from four threads and replaces the backend 52 times, alternating two builds of
# it, half through the admin socket and half by deploying the file into the watched plugin
# folder, once by a plain slow write. No request may fail or be wrong; afterwards one copy of the
# backend is mapped, one private copy exists and the host's descriptors are back at rest. Then
# the host shuts down cleanly. Bounded: about 10 s normally, a minute under TSan.
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
cd "$AGLM_SOURCE_DIR"

CLIENT="$AGLM_BUILD_DIR/swap_client"
BUILD_B="$AGLM_BUILD_DIR/tests/load/cpu_b/backend-cpu.so"
for f in "$CLIENT" "$BUILD_B" "$AGLM_PLUGIN_DIR/backend-cpu.so"; do
    if [ ! -e "$f" ]; then
        echo "FAIL $f is missing (build the whole tree first)"
        exit 1
    fi
done

# The watched folder starts empty: the plugins come from the build's default folder. The two
# builds are staged outside it (replace takes any path here: allow_any_path).
mkdir -p "$TMP/watched" "$TMP/stage/a" "$TMP/stage/b" "$TMP/work" "$TMP/tmp" "$TMP/run"
chmod 700 "$TMP/run"
cp "$AGLM_PLUGIN_DIR/backend-cpu.so" "$TMP/stage/a/backend-cpu.so"
cp "$BUILD_B" "$TMP/stage/b/backend-cpu.so"
SOCK="$TMP/run/admin.sock"
cat >"$TMP/aglm.ini" <<EOF
[host]
plugin_dirs = watched
unload_on_remove = false
log_level = info
[admin]
allow_any_path = true
max_clients = 32
[plugin.cpu]
threads = 2
EOF

# The host's private copies go to $TMP/tmp, where the client counts them.
TMPDIR="$TMP/tmp" "$AGLM_HOST" --config "$TMP/aglm.ini" --log-level info --pipeline scripts/serve.lua -- \
    model="$AGLM_SOURCE_DIR/tests/models/gemm_transb.yaml" name=gemm backend=cpu admin="$SOCK" \
    >"$TMP/host.out" 2>"$TMP/host.err" &
HOST_PID=$!
stop_host() {
    if kill -0 "$HOST_PID" 2>/dev/null; then
        kill -KILL "$HOST_PID" 2>/dev/null || true
        wait "$HOST_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap stop_host EXIT
host_log() {
    echo "     host log (last lines):"
    tail -n 30 "$TMP/host.err" | sed 's/^/       /'
}

for _ in $(seq 300); do
    if "$AGLM_HOST" --ctl "$SOCK" plugins >/dev/null 2>&1; then break; fi
    kill -0 "$HOST_PID" 2>/dev/null || break
    sleep 0.1
done
if ! "$AGLM_HOST" --ctl "$SOCK" plugins >/dev/null 2>&1; then
    echo "FAIL the host did not come up on $SOCK"
    host_log
    exit 1
fi
pass "the host serves gemm on cpu"

set +e
timeout 280 "$CLIENT" socket="$SOCK" pid="$HOST_PID" model=gemm watch="$TMP/watched" \
    a="$TMP/stage/a/backend-cpu.so" b="$TMP/stage/b/backend-cpu.so" version_a=0.1.0 version_b=0.1.0+swap-b \
    work="$TMP/work" tmp="$TMP/tmp" swaps=52 seconds=240 >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
cat "$TMP/out"
if [ "$rc" -eq 0 ]; then
    pass "52 swaps under load: no failed or wrong request, one backend left, no leak"
else
    fail "the swap client (exit $rc)"
    host_log
fi

# The watcher logged each deploy with its outcome; the slow write was never acted on half-way.
deploys=$(grep -c "watch: .*/watched/backend-cpu.so .*: replaced plugin 'cpu'" "$TMP/host.err" || true)
if [ "$deploys" -ge 26 ]; then
    pass "the watcher logged $deploys replaces from the watched folder"
else
    fail "the watcher logged $deploys replaces from the watched folder, expected at least 26"
    host_log
fi
if grep -q "watch: .*backend-cpu.so.*\(not loaded\|refused\)" "$TMP/host.err"; then
    fail "the watcher refused a file (a half-written one was looked at?)"
    grep "watch: " "$TMP/host.err" | grep -v "replaced plugin" | head -5
else
    pass "no watched file was refused"
fi

run timeout 60 "$AGLM_HOST" --ctl "$SOCK" shutdown
expect_rc 0 "shutdown"
for _ in $(seq 600); do
    kill -0 "$HOST_PID" 2>/dev/null || break
    sleep 0.1
done
set +e
wait "$HOST_PID"
host_rc=$?
set -e
if [ "$host_rc" -eq 0 ]; then pass "the host drained and exited 0"; else fail "the host exited $host_rc"; host_log; fi
if grep -q "Sanitizer" "$TMP/host.err"; then
    fail "a sanitizer reported in the host"
    grep -A12 "Sanitizer" "$TMP/host.err" | head -40 | sed 's/^/       /'
else
    pass "no sanitizer report from the host"
fi
leftover=$(find "$TMP/tmp" -mindepth 1 | head -5)
if [ -z "$leftover" ]; then pass "no private folder or copy left behind"; else fail "left behind: $leftover"; fi
finish
