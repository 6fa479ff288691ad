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

# xsimd: optional, header-only. When found, the portable code (the scalar kernel, the baseline
# driver ops, quantize / dequantize at the scalar ISA level) uses its batches for the target's own
# architecture (include/lowbit/detail/portable_simd_config.hpp). Found by its header, as cpuinfo:
# Debian's package config adds nothing a header-only library needs. A cross build gets a folder
# of its own holding only a link to xsimd, so the cross compiler never searches the host's
# /usr/include.
function(lowbit_find_xsimd)
  if(TARGET lowbit_xsimd)
    return()
  endif()
  find_path(LOWBIT_XSIMD_INCLUDE_DIR xsimd/xsimd.hpp)
  if(LOWBIT_XSIMD_INCLUDE_DIR)
    set(dir "${LOWBIT_XSIMD_INCLUDE_DIR}")
    if(CMAKE_CROSSCOMPILING)
      set(dir "${CMAKE_BINARY_DIR}/lowbit-xsimd-include")
      file(MAKE_DIRECTORY "${dir}")
      if(NOT EXISTS "${dir}/xsimd")
        file(CREATE_LINK "${LOWBIT_XSIMD_INCLUDE_DIR}/xsimd" "${dir}/xsimd" SYMBOLIC)
      endif()
    endif()
    add_library(lowbit_xsimd INTERFACE IMPORTED GLOBAL)
    set_target_properties(lowbit_xsimd PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${dir}"
      INTERFACE_COMPILE_DEFINITIONS LOWBIT_HAVE_XSIMD=1)
    message(STATUS "lowbit: portable path: xsimd (${LOWBIT_XSIMD_INCLUDE_DIR}/xsimd)")
  else()
    message(STATUS "lowbit: portable path: scalar (xsimd not found)")
  endif()
endfunction()

function(lowbit_link_dependencies target)
  if(NOT DEFINED LOWBIT_USE_CPUINFO OR LOWBIT_USE_CPUINFO)
    lowbit_find_cpuinfo()
  endif()
  if(TARGET lowbit_cpuinfo)
    target_link_libraries(${target} INTERFACE $<BUILD_INTERFACE:lowbit_cpuinfo>)
  endif()
  if(NOT DEFINED LOWBIT_USE_XSIMD OR LOWBIT_USE_XSIMD)
    lowbit_find_xsimd()
  else()
    message(STATUS "lowbit: portable path: scalar (LOWBIT_USE_XSIMD=OFF)")
  endif()
  if(TARGET lowbit_xsimd AND (NOT DEFINED LOWBIT_USE_XSIMD OR LOWBIT_USE_XSIMD))
    target_link_libraries(${target} INTERFACE $<BUILD_INTERFACE:lowbit_xsimd>)
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
