# Tests that are not Catch2 executables: -fno-exceptions, the four ways to consume lowbit, and the
# whole suite again under QEMU as older x86 CPUs (dispatch must never pick what they lack).

# The library with exceptions off (header-only, so the whole library again: not in the sanitizer
# builds, whose other tests run the same error paths, and with GCC only: the -fno-exceptions
# branches are preprocessor choices, and the Clang suite compiles the library header-only in
# float_bits).
if(LOWBIT_SANITIZE STREQUAL "" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_executable(test_noexcept noexcept/test_noexcept.cpp)
  target_link_libraries(test_noexcept PRIVATE lowbit::lowbit)
  target_compile_options(test_noexcept PRIVATE -fno-exceptions)
  lowbit_warnings(test_noexcept)
  add_test(NAME noexcept:error_paths COMMAND test_noexcept)
endif()

# The header's version macros are the project's version.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/lowbit/version.hpp LOWBIT_VERSION_LINES
     REGEX "#define LOWBIT_VERSION_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3"
       LOWBIT_HEADER_VERSION "${LOWBIT_VERSION_LINES}")
if(NOT LOWBIT_HEADER_VERSION STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "lowbit/version.hpp says ${LOWBIT_HEADER_VERSION}, CMakeLists.txt "
                      "${PROJECT_VERSION}")
endif()

# Every public header compiles alone, header-only and in compile-once mode.
if(NOT CMAKE_CROSSCOMPILING)
  add_test(NAME headers:compile_alone
           COMMAND ${CMAKE_COMMAND} -DCXX=${CMAKE_CXX_COMPILER} -DINCLUDE=${PROJECT_SOURCE_DIR}/include
                   -DOUT=${CMAKE_CURRENT_BINARY_DIR}/headers_alone -P
                   ${CMAKE_CURRENT_SOURCE_DIR}/headers_alone.cmake)
  # COST: ctest starts the longest tests first, so they do not run alone at the end.
  set_tests_properties(headers:compile_alone PROPERTIES TIMEOUT 600 COST 1000)
endif()

# Consumers (not under cross-compilation: they build for the host).
if(NOT CMAKE_CROSSCOMPILING AND LOWBIT_SANITIZE STREQUAL "")
  foreach(mode find_package add_subdirectory vendored cortex-m7)
    add_test(NAME consumer:${mode}
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/consumers/run ${mode} ${PROJECT_SOURCE_DIR}
                     ${CMAKE_CURRENT_BINARY_DIR}/consumer-${mode})
    # The consumers build with this build's generator and compiler (a fresh machine may have
    # Ninja and no make).
    set_tests_properties(consumer:${mode} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 COST 500
      ENVIRONMENT "CMAKE_GENERATOR=${CMAKE_GENERATOR};CXX=${CMAKE_CXX_COMPILER}")
  endforeach()
endif()

# Older CPUs: QEMU user mode kills a binary that executes an instruction the CPU model lacks.
if(NOT CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND
   LOWBIT_SANITIZE STREQUAL "")
  find_program(LOWBIT_QEMU_X86_64 qemu-x86_64)
  if(LOWBIT_QEMU_X86_64)
    set(LOWBIT_QEMU_TESTS test_gemm test_scalar test_errors test_driver_ops test_groups
                          test_one_packing
                          ${LOWBIT_QEMU_EXTRA_TESTS})
    if(TARGET test_noexcept)
      list(APPEND LOWBIT_QEMU_TESTS test_noexcept)
    endif()
    foreach(kt ${LOWBIT_TEST_SOURCES})
      get_filename_component(n ${kt} NAME_WE)
      if(kt MATCHES "/kernels/")
        list(APPEND LOWBIT_QEMU_TESTS ${n})
      endif()
    endforeach()
    list(REMOVE_DUPLICATES LOWBIT_QEMU_TESTS)
    foreach(cpu Nehalem Haswell)
      foreach(t ${LOWBIT_QEMU_TESTS})
        add_test(NAME qemu-${cpu}:${t} COMMAND ${LOWBIT_QEMU_X86_64} -cpu ${cpu} $<TARGET_FILE:${t}>)
        set_tests_properties(qemu-${cpu}:${t} PROPERTIES TIMEOUT 900 LABELS qemu)
      endforeach()
    endforeach()
  else()
    message(STATUS "lowbit: qemu-x86_64 not found; older-CPU dispatch tests skipped")
  endif()
endif()
include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz.cmake)  # libFuzzer targets (LOWBIT_BUILD_FUZZERS)
include(${CMAKE_CURRENT_SOURCE_DIR}/executors/executors.cmake)  # optional executors, per engine

# Static dispatch: a -march build that detects nothing at run time picks kernels from the
# compile-time feature set only (here x86-64-v3, i.e. AVX2; the suite's GEMM tests run on it).
# GCC builds only: it reads the predefined feature macros, which Clang defines alike.
if(NOT CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND
   LOWBIT_SANITIZE STREQUAL "" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_executable(test_static_dispatch test_gemm.cpp)
  target_link_libraries(test_static_dispatch PRIVATE lowbit_test_main)
  target_compile_definitions(test_static_dispatch PRIVATE LOWBIT_STATIC_DISPATCH=1)
  target_compile_options(test_static_dispatch PRIVATE -march=x86-64-v3)
  lowbit_warnings(test_static_dispatch)
  add_test(NAME static_dispatch:avx2 COMMAND test_static_dispatch)
endif()

# Float results must not depend on the flags of the user's translation unit (FMA contraction:
# GCC's default under gnu++17 is -ffp-contract=fast, Clang contracts within expressions).
# float_bits prints every float of the public float paths under every ISA level the host runs;
# built with this build's flags and again with -O3 -march=native -ffp-contract=fast (FMA
# available; "fast" also makes Clang contract across statements, as GCC does), both as gnu++17,
# the two outputs must match bit for bit (tests/float_bits/compare.sh). An aarch64 baseline has
# FMA already, so there the baseline is compared with a -ffp-contract=off build instead; other
# targets (armv7 NEON has no FMA) and sanitizer builds skip the check.
if(LOWBIT_SANITIZE STREQUAL "")
  include(CheckCXXCompilerFlag)
  set(LOWBIT_FLOAT_BITS_VARIANT "")
  if(NOT CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    check_cxx_compiler_flag(-march=native LOWBIT_HAVE_MARCH_NATIVE)
    check_cxx_compiler_flag(-ffp-contract=fast LOWBIT_HAVE_FP_CONTRACT_FAST)
    if(LOWBIT_HAVE_MARCH_NATIVE AND LOWBIT_HAVE_FP_CONTRACT_FAST)
      set(LOWBIT_FLOAT_BITS_VARIANT native)
      set(LOWBIT_FLOAT_BITS_FLAGS -O3 -march=native -ffp-contract=fast)
      set(LOWBIT_FLOAT_BITS_TEST native_vs_baseline)
    endif()
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    check_cxx_compiler_flag(-ffp-contract=off LOWBIT_HAVE_FP_CONTRACT_OFF)
    if(LOWBIT_HAVE_FP_CONTRACT_OFF)
      set(LOWBIT_FLOAT_BITS_VARIANT nocontract)
      set(LOWBIT_FLOAT_BITS_FLAGS -ffp-contract=off)
      set(LOWBIT_FLOAT_BITS_TEST baseline_vs_nocontract)
    endif()
  endif()
  if(LOWBIT_FLOAT_BITS_VARIANT)
    foreach(t float_bits float_bits_${LOWBIT_FLOAT_BITS_VARIANT})
      add_executable(${t} float_bits/float_bits.cpp)
      target_link_libraries(${t} PRIVATE lowbit::lowbit)
      set_target_properties(${t} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
                                            CXX_EXTENSIONS ON)
      lowbit_warnings(${t})
    endforeach()
    target_compile_options(float_bits_${LOWBIT_FLOAT_BITS_VARIANT} PRIVATE
                           ${LOWBIT_FLOAT_BITS_FLAGS})
    add_test(NAME float_bits:${LOWBIT_FLOAT_BITS_TEST}
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/float_bits/compare.sh
                     ${CMAKE_CURRENT_BINARY_DIR}/float_bits.out $<TARGET_FILE:float_bits>
                     $<TARGET_FILE:float_bits_${LOWBIT_FLOAT_BITS_VARIANT}>
                     ${CMAKE_CROSSCOMPILING_EMULATOR})
    set_tests_properties(float_bits:${LOWBIT_FLOAT_BITS_TEST} PROPERTIES TIMEOUT 300)
  endif()
endif()

# The default packing's layouts follow the core profile's rates (packing/layout_choice.hpp), so
# its tests also run under every x86 profile, whatever the host's own is.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND TARGET test_one_packing)
  foreach(core reference zen4 zen5 icelake)
    add_test(NAME core-${core}:test_one_packing COMMAND test_one_packing)
    set_tests_properties(core-${core}:test_one_packing PROPERTIES ENVIRONMENT LOWBIT_CORE=${core})
  endforeach()
endif()
