#!/usr/bin/env bash
# The SDK as a third party meets it: install the build to a temporary prefix, build the plugin
# template out of tree against that prefix (CMake with find_package, then make with pkg-config),
# load each build into the installed aglm-host, and run the template's pass in a pipeline to see
# it remove Identity nodes without changing the model's results.
#
# Environment (set by ctest): AGLM_BUILD_DIR, AGLM_INSTALL_TEST_C_COMPILER (the compiler the build
# used, so a clang build also builds the template with clang).
set -euo pipefail

plugin_name=example-fold-identity
plugin_file=pass-example-fold-identity.so

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SDK_TEST=sdk_install SDK_TMP=$tmp
source "$(dirname "$0")/lib/sdk.bash"
cc=$SDK_CC
fail() { sdk_die "$@"; }
quiet() { sdk_quiet "$@"; }

sdk_install "$tmp/prefix"
prefix=$SDK_PREFIX libdir=$SDK_LIBDIR
# The template is built from the installed copy, so the SDK is shown to be self-contained.
template=$prefix/share/doc/aglm/examples/plugin-template

echo "== pkg-config"
# pkgconf and pkg-config differ in trailing blanks; compare words.
cflags=$(pkg-config --cflags aglm | xargs)
libs=$(pkg-config --libs aglm | xargs)
[ "$cflags" = "-I$prefix/include" ] || fail "pkg-config --cflags aglm gave '$cflags', want '-I$prefix/include'"
[ "$libs" = "-L$prefix/$libdir -laglm" ] || fail "pkg-config --libs aglm gave '$libs', want '-L$prefix/$libdir -laglm'"
[ "$(pkg-config --variable=plugindir aglm)" = "$prefix/$libdir/aglm/plugins" ] ||
    fail "pkg-config --variable=plugindir aglm gave '$(pkg-config --variable=plugindir aglm)'"
pkg-config --atleast-version=0.1 aglm || fail "pkg-config: aglm older than 0.1"

echo "== template with CMake (find_package(aglm 0.1))"
cmake_build=$tmp/cmake-build
sdk_cmake_build "$template" "$cmake_build"
[ -f "$cmake_build/$plugin_file" ] || fail "CMake build made no $plugin_file"

echo "== template with make and pkg-config"
make_build=$tmp/make-build
quiet make -f "$template/Makefile" BUILDDIR="$make_build" CC="$cc" CFLAGS="-O2 -Werror"
[ -f "$make_build/$plugin_file" ] || fail "make built no $plugin_file"
[ ! -e "$template/$plugin_file" ] || fail "make wrote into the template's folder"

for so in "$cmake_build/$plugin_file" "$make_build/$plugin_file"; do
    sdk_check_plugin "$so"
done

# Run from an empty folder so the host's ./etc/aglm.ini look-up cannot find the repository's.
cd "$tmp"
unset AGLM_PLUGIN_PATH
host=$prefix/bin/aglm-host

# The FILE column of the started plugin NAME in $tmp/list (and of KIND, VERSION when given).
started_file() {
    awk -v n="$1" -v k="${2:-}" -v v="${3:-}" \
        '$1 == n && $4 == "started" && (k == "" || $2 == k) && (v == "" || $3 == v) { print $6 }' "$tmp/list"
}

for dir in "$cmake_build" "$make_build"; do
    echo "== aglm-host --plugin-dir $dir --list-plugins"
    "$host" --plugin-dir "$dir" --list-plugins >"$tmp/list" 2>"$tmp/list.err" ||
        { cat "$tmp/list" "$tmp/list.err" >&2; fail "--list-plugins failed"; }
    cat "$tmp/list"
    # Columns: NAME KIND VERSION STATE REFS FILE
    file=$(started_file "$plugin_name" pass 1.0.0)
    [ -n "$file" ] || { cat "$tmp/list.err" >&2; fail "$plugin_name from $dir is not listed as a started pass 1.0.0"; }
    [ "$(realpath "$file")" = "$(realpath "$dir/$plugin_file")" ] || fail "$plugin_name was loaded from $file, not $dir"
    # The installed host finds its own plugins with no flag.
    for p in cpu yaml; do
        file=$(started_file "$p")
        if [ -z "$file" ] || [ "$(realpath "$(dirname "$file")")" != "$(realpath "$prefix/$libdir/aglm/plugins")" ]; then
            fail "the installed host did not load its $p plugin from $prefix/$libdir/aglm/plugins"
        fi
    done
done

# x -> Identity -> a -> Relu -> b -> Identity -> y, and a second output z = Identity(x) that the
# pass must keep (folding it would rename the graph input x).
cat >"$tmp/model.yaml" <<'YAML'
name: identities
inputs:
  - {name: x, dtype: f32, shape: [2, 3]}
outputs:
  - {name: y}
  - {name: z}
nodes:
  - {op: Identity, name: id_in, inputs: [x], outputs: [a]}
  - {op: Relu, name: relu, inputs: [a], outputs: [b]}
  - {op: Identity, name: id_out, inputs: [b], outputs: [y]}
  - {op: Identity, name: id_keep, inputs: [x], outputs: [z]}
YAML

cat >"$tmp/fold.lua" <<'LUA'
-- Runs the template pass and checks that it removed the foldable Identity nodes, kept the one
-- that names an output after a graph input, and left the model's results unchanged.
local args = aglm.args
if args.plugin then
  local name = aglm.load_plugin(args.plugin)
  assert(name == "example-fold-identity", "load_plugin returned " .. tostring(name))
end
local g = aglm.load(args.model)
local xs = {-1.5, 2, -3, 4, 0, -6}
local x = aglm.tensor("f32", {2, 3}, xs)

local function results(graph)
  local exe = aglm.compile(graph, "cpu")
  local out = exe:run({x = x})
  exe:release()
  return out
end

local before = g:num_nodes()
local changed = aglm.pass(g, "example-fold-identity")
local after = g:num_nodes()
assert(changed == true, "the pass reported no change")
assert(before == 4 and after == 2, ("node count %d -> %d, want 4 -> 2"):format(before, after))
g:verify()
assert(not aglm.pass(g, "example-fold-identity"), "a second run still changed the graph")

local names = {}
for _, o in ipairs(g:outputs()) do names[#names + 1] = o.name end
assert(table.concat(names, ",") == "y,z", "outputs are now " .. table.concat(names, ","))
assert(g:inputs()[1].name == "x", "input renamed to " .. g:inputs()[1].name)

local out = results(g)
for i, v in ipairs(xs) do
  local y, z = out.y:get(i), out.z:get(i)
  assert(y == math.max(v, 0), ("y[%d] = %g, want %g"):format(i, y, math.max(v, 0)))
  assert(z == v, ("z[%d] = %g, want %g"):format(i, z, v))
end
print(("fold-identity: %d -> %d nodes, results unchanged"):format(before, after))
LUA

# The plugin's [plugin.NAME] section reaches its init: report = true logs each removal.
cat >"$tmp/aglm.ini" <<'INI'
[plugin.example-fold-identity]
report = true
INI

run_pipeline() {
    "$host" --config "$tmp/aglm.ini" --log-level info "$@" >"$tmp/run" 2>"$tmp/run.err" ||
        { cat "$tmp/run" "$tmp/run.err" >&2; fail "pipeline failed: $*"; }
    cat "$tmp/run"
    grep -q '^fold-identity: 4 -> 2 nodes, results unchanged$' "$tmp/run" || fail "pipeline did not report the fold"
    grep -q "removing Identity 'id_out'" "$tmp/run.err" ||
        { cat "$tmp/run.err" >&2; fail "the [plugin.$plugin_name] config section did not reach init"; }
}

echo "== pipeline with the CMake build from --plugin-dir"
run_pipeline --plugin-dir "$cmake_build" --pipeline "$tmp/fold.lua" -- model="$tmp/model.yaml"

echo "== pipeline with the make build hot-loaded by aglm.load_plugin"
run_pipeline --pipeline "$tmp/fold.lua" -- model="$tmp/model.yaml" plugin="$make_build/$plugin_file"

echo "== cmake --install of the template into the host's plugin folder"
quiet cmake --install "$cmake_build" --prefix "$prefix"
"$host" --list-plugins >"$tmp/list" 2>"$tmp/list.err" || { cat "$tmp/list.err" >&2; fail "--list-plugins failed"; }
file=$(started_file "$plugin_name" pass)
if [ -z "$file" ] || [ "$(realpath "$file")" != "$(realpath "$prefix/$libdir/aglm/plugins/$plugin_file")" ]; then
    cat "$tmp/list" "$tmp/list.err" >&2
    fail "the installed $plugin_file was not loaded with no flags"
fi

echo "sdk_install: OK"
