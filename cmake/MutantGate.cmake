# The mutant gate: `explore` must kill every mutant of impl/mutants.def within depth 6 on scaled
# geometry. One test per mutant, so that ctest -j spreads them over the cores and names a survivor.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/impl/mutants.def)
file(STRINGS ${PROJECT_SOURCE_DIR}/impl/mutants.def foliocheck_mutant_lines REGEX "^FOLIOCHECK_MUTANT\\(")
foreach(line IN LISTS foliocheck_mutant_lines)
  if(NOT line MATCHES "^FOLIOCHECK_MUTANT\\([A-Za-z0-9_]+, *\"([^\"]+)\"")
    message(FATAL_ERROR "impl/mutants.def: cannot read the mutant name in: ${line}")
  endif()
  set(mutant ${CMAKE_MATCH_1})
  # The budget is a safety net against a hang, far above the usual few seconds; running out of it
  # counts as a survival and fails the test.
  add_test(NAME "explore kills mutant ${mutant} within depth 6"
           COMMAND foliocheck mutants --engine=explore --depth=6 --mutant=${mutant} --budget=150 --verbose)
  set_tests_properties("explore kills mutant ${mutant} within depth 6" PROPERTIES LABELS mutants TIMEOUT 300)
endforeach()

# The gate can fail: a mutant that needs four operations survives a search of depth 1, and that is
# exit status 1, not 0 (nor 2, a usage error).
add_test(NAME "the mutant gate fails when a mutant survives"
         COMMAND sh -c "$<TARGET_FILE:foliocheck> mutants --engine=explore --depth=1 --mutant=ebusy-first-page-only --budget=40; test $? -eq 1")
set_tests_properties("the mutant gate fails when a mutant survives" PROPERTIES LABELS mutants)
