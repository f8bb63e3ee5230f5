# Shared by the integration tests (sourced, not run): a scratch folder, a runner that captures
# stdout, stderr and the exit status, and checks that print what they verify.
: "${AGLM_HOST:?set AGLM_HOST to the aglm-host executable}"
: "${AGLM_SOURCE_DIR:?set AGLM_SOURCE_DIR to the source tree}"
AGLM_BUILD_DIR=${AGLM_BUILD_DIR:-$(dirname "$AGLM_HOST")}
AGLM_PLUGIN_DIR=${AGLM_PLUGIN_DIR:-$AGLM_BUILD_DIR/plugins}
AGLM_TEST_PLUGIN_DIR=${AGLM_TEST_PLUGIN_DIR:-$AGLM_BUILD_DIR/tests/plugins}
HELPERS="$AGLM_SOURCE_DIR/tests/integration/lua"
unset AGLM_PLUGIN_PATH

TMP=$(mktemp -d "${TMPDIR:-/tmp}/aglm-it.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
rc=0

# run CMD...: stdout to $TMP/out, stderr to $TMP/err, exit status to $rc.
run() {
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    set -e
}

show() {
    echo "     command output (stdout):"; sed 's/^/       /' "$TMP/out" | head -40
    echo "     command output (stderr):"; sed 's/^/       /' "$TMP/err" | head -40
}

pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; show; failures=$((failures + 1)); }
skip() { echo "skip $*"; }

# expect_rc N WHAT
expect_rc() {
    if [ "$rc" -eq "$1" ]; then pass "$2 (exit $rc)"; else fail "$2: exit $rc, expected $1"; fi
}
# expect_out ERE WHAT / expect_err ERE WHAT / expect_no_err ERE WHAT
expect_out() {
    if grep -Eq -- "$1" "$TMP/out"; then pass "$2"; else fail "$2: stdout lacks /$1/"; fi
}
expect_err() {
    if grep -Eq -- "$1" "$TMP/err"; then pass "$2"; else fail "$2: stderr lacks /$1/"; fi
}
expect_no_err() {
    if grep -Eq -- "$1" "$TMP/err"; then fail "$2: stderr has /$1/"; else pass "$2"; fi
}
# expect_fixed_err STRING WHAT: a literal substring of stderr (paths with regex characters).
expect_fixed_err() {
    if grep -Fq -- "$1" "$TMP/err"; then pass "$2"; else fail "$2: stderr lacks '$1'"; fi
}

finish() {
    if [ "$failures" -gt 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "all checks passed"
}
