#!/usr/bin/env bash
# Set-up, build and the two everyday commands.
#
#   ./aglm.sh run  [key=value ...]   install what is missing, build the host and plugins, run
#                                    scripts/cpu_fp32.lua
#   ./aglm.sh test [ctest args ...]  install what is missing, build, run the test suite (ctest)
#   ./aglm.sh build                  install what is missing and build everything
#
# Environment: BUILD_DIR (default build), CC (gcc or clang), AGLM_SANITIZE (address,undefined or
# thread), AGLM_WERROR (ON in CI), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
PACKAGES="build-essential cmake pkg-config liblua5.4-dev libyaml-dev libinih-dev libcmocka-dev"
# The test suite also checks the tree's format (tools/format-check.sh) and generates the zoo
# models (../shared/tools/zoo.py, run with /usr/bin/python3).
TEST_PACKAGES="clang-format python3-onnx python3-numpy"

need_packages() {
    local want="$PACKAGES ${EXTRA_PACKAGES:-}" missing=""
    case "${CC:-}" in *clang*) want="$want clang" ;; esac
    for p in $want; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "aglm.sh: installing$missing" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# build [TARGET ...]: configure, then build the targets named (default: everything, tests too).
build() {
    need_packages
    cmake -S . -B "$BUILD_DIR" -DAGLM_WERROR="${AGLM_WERROR:-OFF}" \
        -DAGLM_SANITIZE="${AGLM_SANITIZE:-}" ${CMAKE_ARGS:-} >/dev/null
    local targets=()
    [ $# -eq 0 ] || targets=(--target "$@")
    cmake --build "$BUILD_DIR" -j "$JOBS" "${targets[@]}"
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
    build) build ;;
    run)
        # Only what the pipeline runs: the host (with libaglm) and every plugin, not the tests.
        build aglm-host aglm_all_plugins
        exec "$BUILD_DIR/aglm-host" --pipeline scripts/cpu_fp32.lua -- "$@"
        ;;
    test)
        EXTRA_PACKAGES=$TEST_PACKAGES build
        ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" "$@"
        ;;
    *)
        # the comment block at the top of this file
        awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'
        [ "$cmd" = help ] || exit 2
        ;;
esac
