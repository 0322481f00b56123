# The one place that sets warning and sanitizer flags for foliocheck's own code.
option(FOLIOCHECK_SANITIZE "Build everything with ASan+UBSan, no recovery" OFF)

add_library(foliocheck_flags INTERFACE)
target_compile_options(foliocheck_flags INTERFACE -Wall -Wextra)
if(FOLIOCHECK_WERROR)
  target_compile_options(foliocheck_flags INTERFACE -Werror)
endif()
if(FOLIOCHECK_SANITIZE)
  # Global, so that the tests, properties and tools built on the model are checked alike.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# Release with gcc at -O2, not CMake's -O3: g++ 12's libstdc++ string concatenation trips a false
# -Wrestrict at -O3 (GCC PR 105329), and -Werror would turn it into a broken build. clang keeps
# -O3 (the bench preset: explore 1.01 to 1.03 times as fast as at -O2, docs/explore.md).
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(CMAKE_CXX_FLAGS_RELEASE "-O3 -DNDEBUG" CACHE STRING "Release flags" FORCE)
else()
  set(CMAKE_CXX_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags" FORCE)
endif()
