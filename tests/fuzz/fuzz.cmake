# libFuzzer targets (tests/fuzz/fuzz_*.cpp), built only with Clang and -DLOWBIT_BUILD_FUZZERS=ON.
# scripts/fuzz configures its own build tree with them and runs each for a bounded time.
option(LOWBIT_BUILD_FUZZERS "Build the libFuzzer targets (Clang only)" OFF)
if(LOWBIT_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(WARNING "lowbit: LOWBIT_BUILD_FUZZERS needs Clang (libFuzzer); fuzzers skipped")
  else()
    # The library compiled once for all fuzzers, with the coverage instrumentation libFuzzer
    # steers by (fuzzer-no-link) and the same sanitizers; each target sees declarations only.
    # In parts (CMakeLists.txt), so both cores compile it.
    file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz_impl)
    lowbit_implementation_sources(LOWBIT_FUZZ_IMPL ${CMAKE_CURRENT_BINARY_DIR}/fuzz_impl)
    add_library(lowbit_fuzz_impl STATIC ${LOWBIT_FUZZ_IMPL})
    target_link_libraries(lowbit_fuzz_impl PUBLIC lowbit::lowbit)
    target_compile_definitions(lowbit_fuzz_impl PUBLIC LOWBIT_COMPILED)
    lowbit_warnings(lowbit_fuzz_impl)
    # -O1 -g1: fast enough to fuzz, lines in stack traces; UBSan findings abort (no recover).
    target_compile_options(lowbit_fuzz_impl PRIVATE -O1 -g1 -fno-omit-frame-pointer
                           -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all)
    # Parts 1-4 are the x86 kernel families. There Clang's pointer-overflow check cost three
    # quarters of the fuzz build (2-3x each part's compile time, in SIMD address arithmetic); the
    # entry points, driver and packers of part 0, where fuzzed shapes make the offsets, keep it,
    # and the GCC sanitizer suite runs every kernel's tests with it.
    list(REMOVE_AT LOWBIT_FUZZ_IMPL 0)
    set_source_files_properties(${LOWBIT_FUZZ_IMPL} PROPERTIES COMPILE_OPTIONS
                                -fno-sanitize=pointer-overflow)
    file(GLOB LOWBIT_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/fuzz_*.cpp)
    foreach(src ${LOWBIT_FUZZ_SOURCES})
      get_filename_component(name ${src} NAME_WE)
      add_executable(${name} ${src})
      target_link_libraries(${name} PRIVATE lowbit_fuzz_impl)
      lowbit_warnings(${name})
      target_compile_options(${name} PRIVATE -O1 -g -fno-omit-frame-pointer
                             -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
      target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    endforeach()
  endif()
endif()
