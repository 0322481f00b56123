# The one place that sets warning and sanitizer flags for foliocheck's own code.
add_library(foliocheck_flags INTERFACE)
target_compile_options(foliocheck_flags INTERFACE -Wall -Wextra)
if(FOLIOCHECK_WERROR)
  target_compile_options(foliocheck_flags INTERFACE -Werror)
endif()
