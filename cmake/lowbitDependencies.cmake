# Finds lowbit's optional dependencies and links them into a target. Used by the build tree and,
# through lowbitConfig.cmake, by consumers of an installed lowbit.
include(GNUInstallDirs)
include(CMakeFindDependencyMacro OPTIONAL)

# cpuinfo: optional. Debian's cpuinfo CMake package config is broken (it points at
# /usr/lib/lib/...), so find the header and library directly.
function(lowbit_find_cpuinfo)
  if(TARGET lowbit_cpuinfo)
    return()
  endif()
  find_path(LOWBIT_CPUINFO_INCLUDE_DIR cpuinfo.h)
  find_library(LOWBIT_CPUINFO_LIBRARY cpuinfo)
  if(LOWBIT_CPUINFO_INCLUDE_DIR AND LOWBIT_CPUINFO_LIBRARY)
    add_library(lowbit_cpuinfo INTERFACE IMPORTED GLOBAL)
    set_target_properties(lowbit_cpuinfo PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${LOWBIT_CPUINFO_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${LOWBIT_CPUINFO_LIBRARY}"
      INTERFACE_COMPILE_DEFINITIONS LOWBIT_HAVE_CPUINFO=1)
    message(STATUS "lowbit: CPU features from cpuinfo (${LOWBIT_CPUINFO_LIBRARY})")
  else()
    message(STATUS "lowbit: cpuinfo not found; CPU features from compiler builtins")
  endif()
endfunction()

function(lowbit_link_dependencies target)
  if(NOT DEFINED LOWBIT_USE_CPUINFO OR LOWBIT_USE_CPUINFO)
    lowbit_find_cpuinfo()
  endif()
  if(TARGET lowbit_cpuinfo)
    target_link_libraries(${target} INTERFACE $<BUILD_INTERFACE:lowbit_cpuinfo>)
  endif()
  find_package(Threads QUIET)
  if(Threads_FOUND)
    target_link_libraries(${target} INTERFACE Threads::Threads)
  endif()
endfunction()

# Warnings for lowbit's own targets (tests, benchmarks, examples), errors with LOWBIT_WERROR.
function(lowbit_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra)
    if(LOWBIT_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(LOWBIT_SANITIZE STREQUAL "address,undefined")
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC 12's own AVX-512 headers (_mm512_undefined_*: "__Y = __Y") trip -Wuninitialized
      # under the sanitizers' instrumentation: a false positive in system code, not ours.
      target_compile_options(${target} PRIVATE -Wno-uninitialized)
    endif()
  elseif(LOWBIT_SANITIZE STREQUAL "thread")
    target_compile_options(${target} PRIVATE -fsanitize=thread)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
endfunction()
