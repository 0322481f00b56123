# Takes the rmap code out of the kernel tree at FOLIOCHECK_LINUX_DIR at build time (kernel/extract.py).
#
# foliocheck_kernel_extract(<out_dir> <outputs_var>)
#   Checks the tree at configure time (a tree foliocheck cannot use, or a FOLIOCHECK_KERNEL_CONFIG
#   its style does not have, is a configure error naming the file), then adds the build step that
#   regenerates <out_dir>/kernel_{tree.h,decls.inc,protos.inc,bodies.inc} whenever one of the tree's
#   files named in kernel/symbols.def, the symbol list or the extractor changes: editing the tree and
#   running ninja rebuilds the `kernel` implementation from the edited code.
#   Sets FOLIOCHECK_KERNEL_STYLE, FOLIOCHECK_KERNEL_SEMANTICS and FOLIOCHECK_KERNEL_VERSION.

set(FOLIOCHECK_KERNEL_CONFIG "" CACHE STRING
    "Configuration to build the tree's rmap code for: v6.12 (6.12-style trees); mm-id, no-page-mapcount or no-mm-id (trees with the mm-id helpers); empty: the tree's default")

function(foliocheck_kernel_extract out_dir outputs_var)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(extractor ${PROJECT_SOURCE_DIR}/kernel/extract.py)
  set(symbols ${PROJECT_SOURCE_DIR}/kernel/symbols.def)
  get_filename_component(tree "${FOLIOCHECK_LINUX_DIR}" ABSOLUTE)

  execute_process(
    COMMAND ${Python3_EXECUTABLE} ${extractor} --tree ${tree} --symbols ${symbols}
            --out ${out_dir} --config "${FOLIOCHECK_KERNEL_CONFIG}" --print-style
    RESULT_VARIABLE rc OUTPUT_VARIABLE detected ERROR_VARIABLE err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FOLIOCHECK_LINUX_DIR=${FOLIOCHECK_LINUX_DIR}: ${err}")
  endif()
  string(REPLACE " " ";" detected "${detected}")
  list(GET detected 0 style)
  list(GET detected 1 semantics)
  list(GET detected 2 version)
  set(FOLIOCHECK_KERNEL_STYLE ${style} PARENT_SCOPE)
  set(FOLIOCHECK_KERNEL_SEMANTICS ${semantics} PARENT_SCOPE)
  set(FOLIOCHECK_KERNEL_VERSION ${version} PARENT_SCOPE)
  message(STATUS "foliocheck: `kernel` is Linux ${version} from ${tree} (${style}-style tree, semantics=${semantics}, 64-bit)")

  # The tree's files the extractor reads: every file symbols.def names, plus what detection reads.
  file(STRINGS ${symbols} lines REGEX "^FOLIOCHECK_KSYM")
  set(tree_files ${tree}/Makefile ${tree}/include/linux/rmap.h)
  foreach(line IN LISTS lines)
    if(line MATCHES "^FOLIOCHECK_KSYM\\([a-z]+, *\"([^\"]+)\"")
      list(APPEND tree_files ${tree}/${CMAKE_MATCH_1})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES tree_files)

  set(outputs ${out_dir}/kernel_tree.h ${out_dir}/kernel_decls.inc ${out_dir}/kernel_protos.inc
              ${out_dir}/kernel_bodies.inc)
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${Python3_EXECUTABLE} ${extractor} --tree ${tree} --symbols ${symbols}
            --out ${out_dir} --config "${FOLIOCHECK_KERNEL_CONFIG}"
    # The generated files are only rewritten when they change; touch them so ninja sees them done.
    COMMAND ${CMAKE_COMMAND} -E touch ${outputs}
    DEPENDS ${extractor} ${symbols} ${tree_files}
    COMMENT "Taking the rmap code out of ${tree}"
    VERBATIM)
  set(${outputs_var} ${outputs} PARENT_SCOPE)
endfunction()

# foliocheck_kernel_object_library(<name> <generated_dir> <generated files>...)
#   An OBJECT library of the extracted code (kernel/kernel_rmap.c) and its glue
#   (kernel/kernel_impl.cpp). It links nothing of foliocheck_impl's on purpose: it becomes part of
#   foliocheck_impl's interface, and consuming foliocheck_impl would list its objects twice.
function(foliocheck_kernel_object_library name gen)
  set(dir ${PROJECT_SOURCE_DIR}/kernel)
  add_library(${name} OBJECT ${dir}/kernel_rmap.c ${dir}/kernel_impl.cpp ${ARGN})
  set_target_properties(${name} PROPERTIES C_STANDARD 11 C_EXTENSIONS ON)
  target_include_directories(${name} PRIVATE ${gen} ${dir} ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE foliocheck_flags Boost::headers)
  # The kernel's own C dialect: wrapping signed arithmetic and no strict aliasing (its Makefile's
  # -fno-strict-overflow -fno-strict-aliasing), and the warnings its build leaves off.
  set_source_files_properties(${dir}/kernel_rmap.c TARGET_DIRECTORY ${name} PROPERTIES
    COMPILE_OPTIONS "-fwrapv;-fno-strict-aliasing;-Wno-unused-parameter;-Wno-sign-compare;-Wno-unused-function")
endfunction()

# foliocheck_kernel_join_fuzz_model(<object library>)
#   fuzz/CMakeLists.txt builds foliocheck_fuzz_base after this directory: once the top-level
#   directory is done, hand it the instrumented kernel objects the way foliocheck_impl has them.
function(foliocheck_kernel_join_fuzz_model objects)
  cmake_language(EVAL CODE "
    cmake_language(DEFER DIRECTORY \"${PROJECT_SOURCE_DIR}\" CALL _foliocheck_kernel_join_fuzz_now ${objects})")
endfunction()

function(_foliocheck_kernel_join_fuzz_now objects)
  if(TARGET foliocheck_fuzz_base)
    target_sources(foliocheck_fuzz_base INTERFACE $<TARGET_OBJECTS:${objects}>)
  else()
    message(WARNING "foliocheck: no foliocheck_fuzz_base target; the fuzzers run without `kernel`")
  endif()
endfunction()
