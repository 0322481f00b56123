# Takes the rmap code out of the kernel trees of FOLIOCHECK_LINUX_DIR(S) at build time (kernel/extract.py).
#
# foliocheck_kernel_trees(<names_var> <dirs_var>)
#   The trees to build: FOLIOCHECK_LINUX_DIRS (a ;-list whose entries are DIR or NAME=DIR) and
#   FOLIOCHECK_LINUX_DIR (one DIR). A tree without a NAME is named linux-<version> after its
#   Makefile (linux-7.3.4); two trees with one name are a configure error.
#
# foliocheck_kernel_variant(<tree_name> <tree_dir> <config> <bits> <out_dir> <outputs_var>)
#   Adds the build step that regenerates <out_dir>/kernel_{tree.h,decls.inc,protos.inc,bodies.inc}
#   for one configuration and word size whenever one of the tree's files named in
#   kernel/symbols.def, the symbol list or the extractor changes: editing the tree and running
#   ninja rebuilds that tree's implementation from the edited code.
#
# foliocheck_kernel_style(<tree_dir> <style_var> <version_var> <configs_var>)
#   What the extractor makes of the tree; a tree foliocheck cannot use is a configure error.


find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(FOLIOCHECK_KERNEL_EXTRACTOR ${PROJECT_SOURCE_DIR}/kernel/extract.py)
set(FOLIOCHECK_KERNEL_SYMBOLS ${PROJECT_SOURCE_DIR}/kernel/symbols.def)

function(foliocheck_kernel_style tree style_var version_var configs_var)
  execute_process(
    COMMAND ${Python3_EXECUTABLE} ${FOLIOCHECK_KERNEL_EXTRACTOR} --tree ${tree} --print-style
    RESULT_VARIABLE rc OUTPUT_VARIABLE detected ERROR_VARIABLE err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "kernel tree ${tree}: ${err}")
  endif()
  string(REPLACE " " ";" detected "${detected}")
  list(POP_FRONT detected style version)
  set(${style_var} ${style} PARENT_SCOPE)
  set(${version_var} ${version} PARENT_SCOPE)
  set(${configs_var} ${detected} PARENT_SCOPE)
endfunction()

function(foliocheck_kernel_trees names_var dirs_var)
  set(entries ${FOLIOCHECK_LINUX_DIRS})
  if(FOLIOCHECK_LINUX_DIR)
    list(APPEND entries ${FOLIOCHECK_LINUX_DIR})
  endif()
  set(names)
  set(dirs)
  foreach(entry IN LISTS entries)
    if(entry MATCHES "^([A-Za-z0-9._+-]+)=(.+)$")
      set(name ${CMAKE_MATCH_1})
      set(dir ${CMAKE_MATCH_2})
    else()
      set(name "")
      set(dir ${entry})
    endif()
    get_filename_component(dir "${dir}" ABSOLUTE)
    if(NOT EXISTS ${dir}/Makefile)
      message(FATAL_ERROR "kernel tree ${dir}: no Makefile (not a kernel tree?)")
    endif()
    if(name STREQUAL "")
      foliocheck_kernel_style(${dir} style version configs)
      set(name linux-${version})
    endif()
    if(name IN_LIST names OR name STREQUAL "kernel")
      message(FATAL_ERROR "kernel tree ${dir}: the name '${name}' is taken; name the trees "
                          "apart with NAME=DIR in FOLIOCHECK_LINUX_DIRS")
    endif()
    list(APPEND names ${name})
    list(APPEND dirs ${dir})
  endforeach()
  set(${names_var} ${names} PARENT_SCOPE)
  set(${dirs_var} ${dirs} PARENT_SCOPE)
endfunction()

# The tree's files the extractor reads: every file symbols.def names, plus what detection reads.
function(foliocheck_kernel_tree_files tree out_var)
  file(STRINGS ${FOLIOCHECK_KERNEL_SYMBOLS} lines REGEX "^FOLIOCHECK_KSYM")
  set(tree_files ${tree}/Makefile ${tree}/include/linux/rmap.h)
  foreach(line IN LISTS lines)
    if(line MATCHES "^FOLIOCHECK_KSYM\\([a-z_]+, *\"([^\"]+)\"")
      if(EXISTS ${tree}/${CMAKE_MATCH_1})
        list(APPEND tree_files ${tree}/${CMAKE_MATCH_1})
      endif()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES tree_files)
  set(${out_var} ${tree_files} PARENT_SCOPE)
endfunction()

function(foliocheck_kernel_variant name tree config bits out_dir outputs_var)
  foliocheck_kernel_tree_files(${tree} tree_files)
  set(outputs ${out_dir}/kernel_tree.h ${out_dir}/kernel_decls.inc ${out_dir}/kernel_protos.inc
              ${out_dir}/kernel_bodies.inc)
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${Python3_EXECUTABLE} ${FOLIOCHECK_KERNEL_EXTRACTOR} --tree ${tree}
            --symbols ${FOLIOCHECK_KERNEL_SYMBOLS} --out ${out_dir} --config ${config}
            --bits ${bits} --name ${name}
    # The generated files are only rewritten when they change; touch them so ninja sees them done.
    COMMAND ${CMAKE_COMMAND} -E touch ${outputs}
    DEPENDS ${FOLIOCHECK_KERNEL_EXTRACTOR} ${FOLIOCHECK_KERNEL_SYMBOLS} ${tree_files}
    COMMENT "Taking the rmap code out of ${tree} (${config}, ${bits}-bit)"
    VERBATIM)
  set(${outputs_var} ${outputs} PARENT_SCOPE)
endfunction()

# foliocheck_kernel_variant_object(<target> <variant>)
#   One translation unit per variant (GENERATED_DIR|OUTPUTS): kernel/kernel_rmap.c compiled with
#   that variant's generated headers, as an object library.
function(foliocheck_kernel_variant_object target variant)
  string(REPLACE "|" ";" parts "${variant}")
  list(GET parts 0 gen)
  list(GET parts 1 outputs)
  string(REPLACE "," ";" outputs "${outputs}")
  add_library(${target} OBJECT ${PROJECT_SOURCE_DIR}/kernel/kernel_rmap.c ${outputs})
  set_target_properties(${target} PROPERTIES C_STANDARD 11 C_EXTENSIONS ON)
  target_include_directories(${target} PRIVATE ${gen} ${PROJECT_SOURCE_DIR}/kernel
                             ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PRIVATE foliocheck_flags)
endfunction()

# foliocheck_kernel_object_libraries(<name> <variants_dir> <libraries_var> <variant>...)
#   OBJECT libraries: <name> for the glue (kernel/kernel_impl.cpp, which includes
#   <variants_dir>/kernel_variants.inc) and <name>_<i> for each variant's compilation of
#   kernel/kernel_rmap.c (a variant is GENERATED_DIR|OUTPUTS, the outputs ,-separated). Sets
#   <libraries_var> to all of them. They link nothing of foliocheck_impl's on purpose: their
#   objects become part of foliocheck_impl's interface, and consuming foliocheck_impl would list
#   them twice. FOLIOCHECK_KERNEL_EXTRA_OPTIONS (a list) is added to every compilation.
function(foliocheck_kernel_object_libraries name variants_dir libraries_var)
  set(dir ${PROJECT_SOURCE_DIR}/kernel)
  add_library(${name} OBJECT ${dir}/kernel_impl.cpp ${variants_dir}/kernel_variants.inc)
  target_include_directories(${name} PRIVATE ${variants_dir} ${dir} ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE foliocheck_flags Boost::headers)
  target_compile_options(${name} PRIVATE ${FOLIOCHECK_KERNEL_EXTRA_OPTIONS})
  set(libraries ${name})
  set(i 0)
  foreach(variant IN LISTS ARGN)
    foliocheck_kernel_variant_object(${name}_${i} "${variant}")
    target_compile_options(${name}_${i} PRIVATE ${FOLIOCHECK_KERNEL_EXTRA_OPTIONS})
    list(APPEND libraries ${name}_${i})
    math(EXPR i "${i} + 1")
  endforeach()
  # The kernel's own C dialect: wrapping signed arithmetic and no strict aliasing (its
  # Makefile's -fno-strict-overflow -fno-strict-aliasing), and the warnings its build leaves off.
  # A source file's options come after the target's (-Wall -Wextra), which clang needs.
  set_source_files_properties(${dir}/kernel_rmap.c TARGET_DIRECTORY ${name} PROPERTIES
    COMPILE_OPTIONS "-fwrapv;-fno-strict-aliasing;-Wno-unused-parameter;-Wno-sign-compare;-Wno-unused-function")
  set(${libraries_var} ${libraries} PARENT_SCOPE)
endfunction()

# foliocheck_kernel_join_fuzz_model(<fuzz base library> <object library>...)
#   fuzz/CMakeLists.txt builds its model libraries after this directory: once the top-level
#   directory is done, hand one of them the instrumented kernel objects the way foliocheck_impl
#   has them.
function(foliocheck_kernel_join_fuzz_model base)
  cmake_language(EVAL CODE "
    cmake_language(DEFER DIRECTORY \"${PROJECT_SOURCE_DIR}\" CALL _foliocheck_kernel_join_fuzz_now ${base} ${ARGN})")
endfunction()

function(_foliocheck_kernel_join_fuzz_now base)
  if(TARGET ${base})
    foreach(objects IN LISTS ARGN)
      target_sources(${base} INTERFACE $<TARGET_OBJECTS:${objects}>)
    endforeach()
  else()
    message(WARNING "foliocheck: no ${base} target; the fuzzers run without the kernel")
  endif()
endfunction()
