# The mutant gate: `explore` must kill every mutant of model/mutants.def within depth 6 on scaled
# geometry. One test per mutant, so that ctest -j spreads them over the cores and names a survivor.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/model/mutants.def)
file(STRINGS ${PROJECT_SOURCE_DIR}/model/mutants.def foliocheck_mutant_lines REGEX "^FOLIOCHECK_MUTANT\\(")
foreach(line IN LISTS foliocheck_mutant_lines)
  if(NOT line MATCHES "^FOLIOCHECK_MUTANT\\([A-Za-z0-9_]+, *\"([^\"]+)\"")
    message(FATAL_ERROR "model/mutants.def: cannot read the mutant name in: ${line}")
  endif()
  set(mutant ${CMAKE_MATCH_1})
  # The budget is a safety net against a hang, far above the usual few seconds; running out of it
  # counts as a survival and fails the test.
  add_test(NAME "explore kills mutant ${mutant} within depth 6"
           COMMAND foliocheck mutants --engine=explore --mutant=${mutant} --budget=40 --verbose)
  set_tests_properties("explore kills mutant ${mutant} within depth 6" PROPERTIES LABELS mutants TIMEOUT 120)
endforeach()
