# aglm_plugin(<target> SOURCES <src>... [LIBS <lib>...] [INSTALL_DESTINATION <dir>] [NO_INSTALL])
#
# Builds one aglm plugin: a MODULE library <target>.so (no "lib" prefix) with hidden symbol
# visibility, so the only symbol it exports is aglm_plugin_entry (AGLM_DEFINE_PLUGIN marks it).
# It links aglm::aglm plus LIBS. It gets no build RPATH: the host has libaglm loaded already and
# the dynamic loader matches it by SONAME, so a plugin built here loads the same as installed.
#
# `cmake --install` puts it in INSTALL_DESTINATION, by default aglm_PLUGIN_INSTALL_DIR
# (lib/aglm/plugins) under the install prefix: install with the prefix aglm was installed to and
# the host loads it at start-up with no flags.
function(aglm_plugin target)
  cmake_parse_arguments(P "NO_INSTALL" "INSTALL_DESTINATION" "SOURCES;LIBS" ${ARGN})
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "aglm_plugin(${target}): unexpected arguments: ${P_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT P_SOURCES)
    message(FATAL_ERROR "aglm_plugin(${target}): no SOURCES")
  endif()
  if(NOT TARGET aglm::aglm)
    message(FATAL_ERROR "aglm_plugin(${target}): call find_package(aglm) first")
  endif()

  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    SKIP_BUILD_RPATH ON)
  target_link_libraries(${target} PRIVATE aglm::aglm ${P_LIBS})

  if(NOT P_NO_INSTALL)
    set(dest "${P_INSTALL_DESTINATION}")
    if(NOT dest)
      set(dest "${aglm_PLUGIN_INSTALL_DIR}")
    endif()
    if(NOT dest)
      set(dest "lib/aglm/plugins")
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${dest}")
  endif()
endfunction()
