#!/usr/bin/env bash
# aglm-host's command line: help, version, plugin listing, usage errors, plugin folders from
# --plugin-dir and AGLM_PLUGIN_PATH, and configuration files.
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
cd "$AGLM_SOURCE_DIR" # as a user runs it: ./etc/aglm.ini is found here

echo "# --help and --version"
run "$AGLM_HOST" --help
expect_rc 0 "--help"
expect_out '^usage: aglm-host' "--help prints the usage"
expect_out '--pipeline FILE' "--help documents --pipeline"
run "$AGLM_HOST" --version
expect_rc 0 "--version"
expect_out '^aglm-host [0-9]+\.[0-9]+\.[0-9]+ \(libaglm [0-9.]+, plugin ABI [0-9]+\.[0-9]+\)$' \
    "--version prints host, libaglm and ABI versions"

echo "# --list-plugins"
run "$AGLM_HOST" --list-plugins
expect_rc 0 "--list-plugins"
expect_out '^NAME +KIND +VERSION +STATE +REFS +FILE$' "the header names every column"
for row in "yaml frontend" "cpu backend" "dce pass"; do
    set -- $row
    expect_out "^$1 +$2 +[^ ]+ +started +0 +.*/$2-$1\.so$" "$1 is listed as a started $2 with its file"
done
# Aligned columns: each row's kind starts where the header's KIND does.
col=$(awk 'NR == 1 { print index($0, "KIND") }' "$TMP/out")
bad=$(awk -v c="$col" 'NR > 1 && substr($0, c - 1, 1) != " " { print }' "$TMP/out")
misaligned=$(awk -v c="$col" 'NR > 1 && substr($0, c, 1) == " " { print }' "$TMP/out")
if [ -n "$col" ] && [ "$col" -gt 1 ] && [ -z "$bad$misaligned" ]; then
    pass "columns are aligned (KIND at column $col in every row)"
else
    fail "columns are not aligned at column $col: $bad$misaligned"
fi

echo "# the default plugin folder is found from the executable, whatever the current folder"
run env -C "$TMP" "$AGLM_HOST" --list-plugins
expect_rc 0 "--list-plugins from another folder"
expect_out '^cpu +backend +.* started ' "cpu is found beside the executable"

echo "# usage errors exit 2 with a hint"
run "$AGLM_HOST"
expect_rc 2 "no action"
expect_err '^usage: aglm-host' "no action prints the usage to stderr"
run "$AGLM_HOST" --bogus-flag
expect_rc 2 "an unknown flag"
expect_err "unknown option '--bogus-flag'" "the message names the flag"
expect_err "aglm-host --help" "the message points to --help"
run "$AGLM_HOST" --log-level loud --list-plugins
expect_rc 2 "an unknown log level"
expect_err "unknown log level 'loud'" "the message names the level"
run "$AGLM_HOST" --pipeline
expect_rc 2 "--pipeline without a file"
expect_err "--pipeline needs a FILE" "the message says what is missing"
run "$AGLM_HOST" --pipeline scripts/cpu_fp32.lua -- model
expect_rc 2 "a pipeline argument that is not key=value"
expect_err "'model' is not key=value" "the message names the argument"
run "$AGLM_HOST" --list-plugins --pipeline scripts/cpu_fp32.lua
expect_rc 2 "two actions"

echo "# plugin folders: refusals are logged, the host carries on"
mkdir -p "$TMP/plugins"
echo "this is not a shared object" >"$TMP/plugins/not_elf.so"
run "$AGLM_HOST" --plugin-dir "$TMP/plugins" --list-plugins
expect_rc 0 "--plugin-dir with a broken plugin"
expect_fixed_err "not_elf.so" "the refusal names the file"
expect_err '^aglm: (warn|error): ' "the refusal is a log line"
expect_out '^cpu +backend +.* started ' "good plugins are still listed"

if compgen -G "$AGLM_TEST_PLUGIN_DIR/*.so" >/dev/null; then
    run "$AGLM_HOST" --plugin-dir "$AGLM_TEST_PLUGIN_DIR" --list-plugins
    expect_rc 0 "--plugin-dir with the fixture plugins"
    expect_fixed_err "$AGLM_TEST_PLUGIN_DIR/" "fixture refusals are logged with their files"
    expect_out '^yaml +frontend +.* started ' "yaml is still listed"
    if grep -Fq "$AGLM_TEST_PLUGIN_DIR/" "$TMP/out"; then
        pass "fixtures that load are listed with their files"
        fixture_listed=1
    else
        skip "no fixture plugin loads cleanly"
        fixture_listed=0
    fi
    export AGLM_PLUGIN_PATH="$TMP/nonexistent:$AGLM_TEST_PLUGIN_DIR"
    run "$AGLM_HOST" --list-plugins
    unset AGLM_PLUGIN_PATH
    expect_rc 0 "AGLM_PLUGIN_PATH with the fixtures"
    if [ "$fixture_listed" = 1 ]; then
        expect_out "$AGLM_TEST_PLUGIN_DIR/" "AGLM_PLUGIN_PATH folders are scanned"
    else
        expect_fixed_err "$AGLM_TEST_PLUGIN_DIR/" "AGLM_PLUGIN_PATH folders are scanned"
    fi
else
    skip "no fixture plugins in $AGLM_TEST_PLUGIN_DIR"
fi
export AGLM_PLUGIN_PATH="$TMP/plugins"
run "$AGLM_HOST" --list-plugins
unset AGLM_PLUGIN_PATH
expect_rc 0 "AGLM_PLUGIN_PATH with a broken plugin"
expect_fixed_err "not_elf.so" "AGLM_PLUGIN_PATH is scanned (its refusal is logged)"

echo "# configuration files"
printf '[host]\nlog_level = info\nthis line is not a setting\n' >"$TMP/broken.ini"
run "$AGLM_HOST" --config "$TMP/broken.ini" --list-plugins
expect_rc 1 "a config that does not parse"
expect_fixed_err "broken.ini:3" "the error names file:line"
run "$AGLM_HOST" --config "$TMP/missing.ini" --list-plugins
expect_rc 1 "a config that does not exist"
expect_fixed_err "missing.ini" "the error names the file"
printf '[host]\nlog_level = info\n' >"$TMP/info.ini"
run "$AGLM_HOST" --config "$TMP/info.ini" --list-plugins
expect_rc 0 "a config with log_level = info"
expect_err '^aglm: info: ' "the config's log level applies"
run "$AGLM_HOST" --config "$TMP/info.ini" --log-level error --list-plugins
expect_rc 0 "--log-level with the same config"
expect_no_err '^aglm: info: ' "--log-level wins over the config"
printf '[plugin.dce]\nenabled = false\n' >"$TMP/nodce.ini"
run "$AGLM_HOST" --config "$TMP/nodce.ini" --list-plugins
expect_rc 0 "a config that disables dce"
if grep -Eq '^dce ' "$TMP/out"; then fail "dce is skipped when disabled"; else pass "dce is skipped when disabled"; fi

finish
