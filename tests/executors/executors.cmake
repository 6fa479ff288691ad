# The optional executors (include/lowbit/executors/): one test binary per engine this machine
# has (OpenMP from the compiler, oneTBB from libtbb-dev, pthreadpool from libpthreadpool-dev).
# A missing engine is reported and skipped. Not run under ThreadSanitizer: Debian's libgomp,
# libtbb and libpthreadpool are not instrumented, so TSan cannot see their synchronisation and
# reports every hand-over between the caller and the workers as a race (tried: all three do).
set(LOWBIT_EXECUTOR_TESTS "")
function(lowbit_executor_test engine define)
  set(name test_executor_${engine})
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/executors/test_executor.cpp)
  target_link_libraries(${name} PRIVATE lowbit_test_main ${LOWBIT_DEV_LIBRARY} ${ARGN})
  target_compile_definitions(${name} PRIVATE ${define})
  lowbit_warnings(${name})
  catch_discover_tests(${name} TEST_PREFIX "${name}:" DISCOVERY_TIMEOUT 120)
  set(LOWBIT_EXECUTOR_TESTS ${LOWBIT_EXECUTOR_TESTS} ${name} PARENT_SCOPE)
endfunction()

find_package(OpenMP QUIET COMPONENTS CXX)
if(OpenMP_CXX_FOUND)
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
if(TBB_FOUND)
  lowbit_executor_test(tbb LOWBIT_TEST_EXECUTOR_TBB TBB::tbb)
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
