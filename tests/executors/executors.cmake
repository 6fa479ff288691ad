# The optional executors (include/lowbit/executors/): one test binary per engine this machine
# has (OpenMP from the compiler, oneTBB from libtbb-dev, pthreadpool from libpthreadpool-dev).
# A missing engine is reported and skipped.
#
# Under ThreadSanitizer (LOWBIT_SANITIZE=thread; docs/architecture.md, "Executors under
# ThreadSanitizer"). Debian's libgomp, libtbb and libpthreadpool are not instrumented, so TSan
# cannot see their synchronisation and reports every hand-over as a race unless told about it:
#   OpenMP: Clang only, with LLVM's libomp, which loads the Archer tool (libarcher.so, Debian
#     libomp-14-dev) into TSan programs to report OpenMP's synchronisation to TSan; TSAN_OPTIONS
#     ignore_noninstrumented_modules=1 (Archer's documented setting) leaves libomp's own
#     internals alone. GCC's libgomp has no such tool: not tested under TSan with GCC.
#   pthreadpool: the adapter annotates the hand-over (__tsan_release / __tsan_acquire); no
#     suppressions.
#   oneTBB: the adapter annotates the hand-over as for pthreadpool, and (Clang only) oneTBB's
#     headers are compiled uninstrumented (tsan_tbb_ignorelist.txt) with atomics uninstrumented
#     in that one test TU, so TBB's inline scheduler code counts as part of libtbb.
# The hidden test "[.race]" (run by hand) checks that a race between tasks is still reported.
set(LOWBIT_EXECUTOR_TESTS "")
function(lowbit_executor_test engine define)
  set(name test_executor_${engine})
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/executors/test_executor.cpp)
  target_link_libraries(${name} PRIVATE lowbit_test_main ${LOWBIT_DEV_LIBRARY} ${ARGN})
  target_compile_definitions(${name} PRIVATE ${define})
  lowbit_warnings(${name})
  set(props "")
  if(LOWBIT_EXECUTOR_TSAN AND engine STREQUAL "openmp")
    set(props PROPERTIES ENVIRONMENT "TSAN_OPTIONS=ignore_noninstrumented_modules=1")
  endif()
  catch_discover_tests(${name} TEST_PREFIX "${name}:" DISCOVERY_TIMEOUT 120 ${props})
  set(LOWBIT_EXECUTOR_TESTS ${LOWBIT_EXECUTOR_TESTS} ${name} PARENT_SCOPE)
endfunction()

set(LOWBIT_EXECUTOR_TSAN OFF)
if(LOWBIT_SANITIZE STREQUAL "thread")
  set(LOWBIT_EXECUTOR_TSAN ON)
endif()
set(LOWBIT_EXECUTOR_TSAN_CLANG OFF)
if(LOWBIT_EXECUTOR_TSAN AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(LOWBIT_EXECUTOR_TSAN_CLANG ON)
endif()

find_package(OpenMP QUIET COMPONENTS CXX)
if(OpenMP_CXX_FOUND AND LOWBIT_EXECUTOR_TSAN AND NOT LOWBIT_EXECUTOR_TSAN_CLANG)
  message(STATUS "lowbit: openmp_executor not tested under ThreadSanitizer without Clang "
                 "(libomp's Archer tool)")
elseif(OpenMP_CXX_FOUND)
  lowbit_executor_test(openmp LOWBIT_TEST_EXECUTOR_OPENMP OpenMP::OpenMP_CXX)
else()
  message(STATUS "lowbit: OpenMP not found; openmp_executor not tested")
endif()
# oneTBB and pthreadpool: the host's packages only (a cross build would find x86 ones).
if(NOT CMAKE_CROSSCOMPILING)
  find_package(TBB QUIET CONFIG)
  find_path(LOWBIT_PTHREADPOOL_INCLUDE_DIR pthreadpool.h)
  find_library(LOWBIT_PTHREADPOOL_LIBRARY pthreadpool)
endif()
if(TBB_FOUND AND LOWBIT_EXECUTOR_TSAN AND NOT LOWBIT_EXECUTOR_TSAN_CLANG)
  message(STATUS "lowbit: tbb_executor not tested under ThreadSanitizer without Clang "
                 "(sanitizer ignorelist)")
elseif(TBB_FOUND)
  lowbit_executor_test(tbb LOWBIT_TEST_EXECUTOR_TBB TBB::tbb)
  if(LOWBIT_EXECUTOR_TSAN)
    target_compile_options(test_executor_tbb PRIVATE
      -fsanitize-ignorelist=${CMAKE_CURRENT_SOURCE_DIR}/executors/tsan_tbb_ignorelist.txt
      -mllvm -tsan-instrument-atomics=0)
  endif()
else()
  message(STATUS "lowbit: oneTBB not found (Debian: libtbb-dev); tbb_executor not tested")
endif()
if(LOWBIT_PTHREADPOOL_INCLUDE_DIR AND LOWBIT_PTHREADPOOL_LIBRARY)
  lowbit_executor_test(pthreadpool LOWBIT_TEST_EXECUTOR_PTHREADPOOL ${LOWBIT_PTHREADPOOL_LIBRARY})
  target_include_directories(test_executor_pthreadpool PRIVATE ${LOWBIT_PTHREADPOOL_INCLUDE_DIR})
else()
  message(STATUS "lowbit: pthreadpool not found (Debian: libpthreadpool-dev); "
                 "pthreadpool_executor not tested")
endif()
