# Shared by the admin socket tests (sourced after common.bash): a served host in the background,
# a client, and bounded waits. The server is killed on exit whatever happens.
SERVER_PID=
SOCK=
server_rc=

cleanup_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup_server EXIT

# start_server SOCKET LOG ARGS...: runs aglm-host ARGS in the background (stdout to LOG.out,
# stderr to LOG.err) and waits, 15 s at most, until SOCKET answers.
start_server() {
    SOCK=$1
    local log=$2
    shift 2
    "$AGLM_HOST" "$@" >"$log.out" 2>"$log.err" &
    SERVER_PID=$!
    for _ in $(seq 150); do
        if "$AGLM_HOST" --ctl "$SOCK" log-level >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL the server did not come up on $SOCK"
    sed 's/^/       /' "$log.err" | head -40
    exit 1
}

# ctl COMMAND...: one command through aglm-host --ctl (30 s at most); output and status as run.
ctl() {
    run timeout 30 "$AGLM_HOST" --ctl "$SOCK" "$@"
}

# wait_exit SECONDS: waits for the server to exit; server_rc is its status (124: it did not
# exit in time and was killed).
wait_exit() {
    for _ in $(seq $(($1 * 10))); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        server_rc=124
    else
        set +e
        wait "$SERVER_PID"
        server_rc=$?
        set -e
    fi
    SERVER_PID=
}

# alive WHAT: the server process still runs and answers.
alive() {
    if kill -0 "$SERVER_PID" 2>/dev/null && "$AGLM_HOST" --ctl "$SOCK" log-level >/dev/null 2>&1; then
        pass "$1"
    else
        fail "$1: the server is gone or does not answer"
    fi
}

# make_npy FILE DTYPE SHAPE VALUES
make_npy() {
    "$AGLM_HOST" --pipeline "$HELPERS/make_npy.lua" -- out="$1" dtype="$2" shape="$3" values="$4" >/dev/null
}

# check_npy FILE SHAPE VALUES WHAT: the file holds these f32 values.
check_npy() {
    run "$AGLM_HOST" --pipeline "$HELPERS/check_npy.lua" -- file="$1" dtype=f32 shape="$2" values="$3"
    if [ "$rc" -eq 0 ]; then pass "$4: $(cat "$TMP/out")"; else fail "$4"; fi
}

# A plugin folder with the counter fixture's builds (all named "counter": the scan loads v1, the
# first that inits; the others are there for replace), and an aglm.ini using it.
make_plugin_dir() {
    mkdir -p "$TMP/plugins"
    cp "$AGLM_TEST_PLUGIN_DIR/counter_v1.so" "$AGLM_TEST_PLUGIN_DIR/counter_v2.so" \
       "$AGLM_TEST_PLUGIN_DIR/counter_bad_init.so" "$TMP/plugins/"
    cat >"$TMP/aglm.ini" <<INI
[host]
plugin_dirs = $TMP/plugins
[admin]
max_clients = ${MAX_CLIENTS:-8}
idle_timeout_s = 30
INI
}
