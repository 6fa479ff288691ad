# Tests that are not Catch2 executables: -fno-exceptions, the four ways to consume lowbit, and the
# whole suite again under QEMU as older x86 CPUs (dispatch must never pick what they lack).

# The library with exceptions off.
add_executable(test_noexcept noexcept/test_noexcept.cpp)
target_link_libraries(test_noexcept PRIVATE lowbit::lowbit)
target_compile_options(test_noexcept PRIVATE -fno-exceptions)
lowbit_warnings(test_noexcept)
add_test(NAME noexcept:error_paths COMMAND test_noexcept)

# Consumers (not under cross-compilation: they build for the host).
if(NOT CMAKE_CROSSCOMPILING AND LOWBIT_SANITIZE STREQUAL "")
  foreach(mode find_package add_subdirectory vendored cortex-m7)
    add_test(NAME consumer:${mode}
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/consumers/run ${mode} ${PROJECT_SOURCE_DIR}
                     ${CMAKE_CURRENT_BINARY_DIR}/consumer-${mode})
    # The consumers build with this build's generator and compiler (a fresh machine may have
    # Ninja and no make).
    set_tests_properties(consumer:${mode} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
      ENVIRONMENT "CMAKE_GENERATOR=${CMAKE_GENERATOR};CXX=${CMAKE_CXX_COMPILER}")
  endforeach()
endif()

# Older CPUs: QEMU user mode kills a binary that executes an instruction the CPU model lacks.
if(NOT CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND
   LOWBIT_SANITIZE STREQUAL "")
  find_program(LOWBIT_QEMU_X86_64 qemu-x86_64)
  if(LOWBIT_QEMU_X86_64)
    set(LOWBIT_QEMU_TESTS test_gemm test_scalar test_errors test_noexcept test_driver_ops
                          ${LOWBIT_QEMU_EXTRA_TESTS})
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

# Static dispatch: a -march build that detects nothing at run time picks kernels from the
# compile-time feature set only (here x86-64-v3, i.e. AVX2; the suite's GEMM tests run on it).
if(NOT CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND
   LOWBIT_SANITIZE STREQUAL "")
  add_executable(test_static_dispatch test_gemm.cpp)
  target_link_libraries(test_static_dispatch PRIVATE lowbit_test_main)
  target_compile_definitions(test_static_dispatch PRIVATE LOWBIT_STATIC_DISPATCH=1)
  target_compile_options(test_static_dispatch PRIVATE -march=x86-64-v3)
  lowbit_warnings(test_static_dispatch)
  add_test(NAME static_dispatch:avx2 COMMAND test_static_dispatch)
endif()
