# Shared by the tests that meet the SDK as a third party does (sourced, not run): install the
# build to a temporary prefix, build an example out of tree against it with CMake, and check
# what makes a plugin file loadable by any host.
#
# The caller sets SDK_TEST (its name, for messages) and SDK_TMP (a scratch folder it removes).
# Environment (set by ctest): AGLM_BUILD_DIR, AGLM_INSTALL_TEST_C_COMPILER (the compiler the
# build used, so a clang build also builds the examples with clang).
: "${AGLM_BUILD_DIR:?AGLM_BUILD_DIR is not set}"
SDK_CC=${AGLM_INSTALL_TEST_C_COMPILER:-cc}

sdk_die() {
    echo "$SDK_TEST: FAIL: $*" >&2
    exit 1
}

# sdk_quiet CMD...: runs CMD with its output in $SDK_TMP/sdk.log, shown only when it fails.
sdk_quiet() {
    "$@" >"$SDK_TMP/sdk.log" 2>&1 || { cat "$SDK_TMP/sdk.log" >&2; sdk_die "command failed: $*"; }
}

# sdk_install PREFIX: `cmake --install` of the build to PREFIX, checking that what a plugin
# author needs is there. Sets SDK_PREFIX, SDK_LIBDIR (the build's CMAKE_INSTALL_LIBDIR: lib, or
# lib/x86_64-linux-gnu) and PKG_CONFIG_PATH (exported) for the prefix.
sdk_install() {
    SDK_PREFIX=$1
    SDK_LIBDIR=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$AGLM_BUILD_DIR/CMakeCache.txt")
    SDK_LIBDIR=${SDK_LIBDIR:-lib}
    case $SDK_LIBDIR in
    /*) sdk_die "CMAKE_INSTALL_LIBDIR '$SDK_LIBDIR' is absolute: it cannot move to a temporary prefix" ;;
    esac
    echo "== cmake --install to $SDK_PREFIX"
    sdk_quiet cmake --install "$AGLM_BUILD_DIR" --prefix "$SDK_PREFIX"
    local f examples=share/doc/aglm/examples
    for f in bin/aglm-host "$SDK_LIBDIR/libaglm.so.0" include/aglm/aglm.h include/aglm/plugin.h \
        include/aglm/executor.h "$SDK_LIBDIR/pkgconfig/aglm.pc" \
        "$SDK_LIBDIR/cmake/aglm/aglmConfig.cmake" "$SDK_LIBDIR/cmake/aglm/aglmConfigVersion.cmake" \
        "$SDK_LIBDIR/cmake/aglm/aglmTargets.cmake" "$SDK_LIBDIR/cmake/aglm/aglmPlugin.cmake" \
        "$SDK_LIBDIR/aglm/plugins/backend-cpu.so" "$SDK_LIBDIR/aglm/plugins/frontend-yaml.so" \
        share/doc/aglm/GUIDE.md "$examples/plugin-template/CMakeLists.txt" \
        "$examples/backend-template/CMakeLists.txt" "$examples/backend-template/README.md"; do
        [ -e "$SDK_PREFIX/$f" ] || sdk_die "not installed: $f"
    done
    export PKG_CONFIG_PATH=$SDK_PREFIX/$SDK_LIBDIR/pkgconfig
}

# sdk_cmake_build SRC BUILD: configures the example in SRC against the installed SDK
# (find_package(aglm) must find SDK_PREFIX's package, not another one) with warnings as errors,
# and builds it in BUILD.
sdk_cmake_build() {
    local src=$1 build=$2
    sdk_quiet cmake -S "$src" -B "$build" -DCMAKE_PREFIX_PATH="$SDK_PREFIX" \
        -DCMAKE_C_COMPILER="$SDK_CC" -DCMAKE_C_FLAGS="-Werror" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    local found
    found=$(sed -n 's/^aglm_DIR:PATH=//p' "$build/CMakeCache.txt")
    [ "$found" = "$SDK_PREFIX/$SDK_LIBDIR/cmake/aglm" ] ||
        sdk_die "find_package(aglm) found '$found', not the installed package"
    sdk_quiet cmake --build "$build"
    # A consumer of aglm::aglm gets the installed headers, not the source tree's.
    grep -q -- "-I$SDK_PREFIX/include\|-isystem $SDK_PREFIX/include" "$build"/CMakeFiles/*/flags.make ||
        sdk_die "aglm::aglm did not give -I$SDK_PREFIX/include"
}

# sdk_check_plugin SO: SO links libaglm.so.0 by its SONAME, carries no rpath and exports
# aglm_plugin_entry alone.
sdk_check_plugin() {
    local so=$1 dyn exports
    [ -f "$so" ] || sdk_die "no $so was built"
    dyn=$(readelf -d -W "$so")
    grep -q 'NEEDED.*\[libaglm\.so\.0\]' <<<"$dyn" || sdk_die "$so does not link libaglm.so.0"
    ! grep -q 'RPATH\|RUNPATH' <<<"$dyn" || sdk_die "$so carries an rpath; plugins must not need one"
    exports=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }')
    [ "$exports" = aglm_plugin_entry ] || sdk_die "$so exports '$exports', want only aglm_plugin_entry"
}
