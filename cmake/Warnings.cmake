# Project-wide warnings; -Werror in the test build (scripts/test sets DIALER_WERROR).
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow=local -Wcast-align
                    -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false positives in Asio/Beast/Boost.JSON headers under -O2 + sanitizers.
  add_compile_options(-Wno-maybe-uninitialized -Wno-stringop-overflow -Wno-array-bounds
                      -Wno-dangling-pointer)
endif()
if(DIALER_WERROR)
  add_compile_options(-Werror)
endif()
