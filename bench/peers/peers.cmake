# Peer libraries for bench_peers (included from bench/CMakeLists.txt after the bench_* targets
# exist). Each peer is optional: LOWBIT_BENCH_<PEER> defaults ON when its headers and library are
# found, and a missing one is skipped with a STATUS message. An enabled peer adds
# LOWBIT_HAVE_<PEER>=1 to bench_peers. Peers' headers are SYSTEM includes: their warnings are
# not ours to fix under -Werror.
if(NOT TARGET bench_peers)
  return()
endif()

set(LOWBIT_PEERS_DIR ${CMAKE_CURRENT_LIST_DIR})

# lowbit_bench_peer(<PEER> <description> <found>): declares the option and reports the outcome.
# Sets LOWBIT_PEER_ENABLED in the caller's scope.
macro(lowbit_bench_peer peer description found)
  option(LOWBIT_BENCH_${peer} "Benchmark ${description} in bench_peers" ${found})
  set(LOWBIT_PEER_ENABLED OFF)
  if(LOWBIT_BENCH_${peer} AND ${found})
    set(LOWBIT_PEER_ENABLED ON)
    target_compile_definitions(bench_peers PRIVATE LOWBIT_HAVE_${peer}=1)
    message(STATUS "lowbit bench: peer ${description}: enabled")
  elseif(LOWBIT_BENCH_${peer})
    message(STATUS "lowbit bench: peer ${description}: not found, skipped")
  else()
    message(STATUS "lowbit bench: peer ${description}: disabled (LOWBIT_BENCH_${peer}=OFF)")
  endif()
endmacro()

# oneDNN (libdnnl-dev). Its Debian build threads with GNU OpenMP; bench_peers holds that runtime
# to one thread through omp_set_num_threads, so it links libgomp itself.
find_path(LOWBIT_ONEDNN_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
find_library(LOWBIT_ONEDNN_LIBRARY dnnl)
find_library(LOWBIT_GOMP_LIBRARY NAMES gomp libgomp.so.1)
set(_found OFF)
if(LOWBIT_ONEDNN_INCLUDE_DIR AND LOWBIT_ONEDNN_LIBRARY AND LOWBIT_GOMP_LIBRARY)
  set(_found ON)
endif()
lowbit_bench_peer(ONEDNN "oneDNN (libdnnl-dev)" ${_found})
if(LOWBIT_PEER_ENABLED)
  target_include_directories(bench_peers SYSTEM PRIVATE ${LOWBIT_ONEDNN_INCLUDE_DIR})
  target_link_libraries(bench_peers PRIVATE ${LOWBIT_ONEDNN_LIBRARY} ${LOWBIT_GOMP_LIBRARY})
endif()

# XNNPACK (libxnnpack-dev); xnnpack.h includes pthreadpool.h (libpthreadpool-dev).
find_path(LOWBIT_XNNPACK_INCLUDE_DIR xnnpack.h)
find_path(LOWBIT_PTHREADPOOL_INCLUDE_DIR pthreadpool.h)
find_library(LOWBIT_XNNPACK_LIBRARY XNNPACK)
set(_found OFF)
if(LOWBIT_XNNPACK_INCLUDE_DIR AND LOWBIT_PTHREADPOOL_INCLUDE_DIR AND LOWBIT_XNNPACK_LIBRARY)
  set(_found ON)
endif()
lowbit_bench_peer(XNNPACK "XNNPACK (libxnnpack-dev, libpthreadpool-dev)" ${_found})
if(LOWBIT_PEER_ENABLED)
  target_include_directories(bench_peers SYSTEM PRIVATE ${LOWBIT_XNNPACK_INCLUDE_DIR}
                                                        ${LOWBIT_PTHREADPOOL_INCLUDE_DIR})
  target_link_libraries(bench_peers PRIVATE ${LOWBIT_XNNPACK_LIBRARY})
endif()

# gemmlowp (libgemmlowp-dev, header-only). It selects its kernel at compile time, so its one
# source file gets AVX2; bench_peers registers it only on CPUs that have AVX2.
find_path(LOWBIT_GEMMLOWP_INCLUDE_DIR gemmlowp/public/gemmlowp.h)
set(_found OFF)
if(LOWBIT_GEMMLOWP_INCLUDE_DIR AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64"
   AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set(_found ON)
endif()
lowbit_bench_peer(GEMMLOWP "gemmlowp (libgemmlowp-dev)" ${_found})
if(LOWBIT_PEER_ENABLED)
  target_sources(bench_peers PRIVATE ${LOWBIT_PEERS_DIR}/gemmlowp.cpp)
  target_include_directories(bench_peers SYSTEM PRIVATE ${LOWBIT_GEMMLOWP_INCLUDE_DIR})
  set_source_files_properties(${LOWBIT_PEERS_DIR}/gemmlowp.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma" COMPILE_DEFINITIONS GEMMLOWP_ENABLE_AVX2)
  find_package(Threads REQUIRED)
  target_link_libraries(bench_peers PRIVATE Threads::Threads)
endif()

# Eigen (libeigen3-dev, header-only), fp32. Its one source file gets AVX-512; bench_peers
# registers it only on CPUs with AVX-512F/DQ/BW/VL.
find_path(LOWBIT_EIGEN_INCLUDE_DIR Eigen/Core PATH_SUFFIXES eigen3)
set(_found OFF)
if(LOWBIT_EIGEN_INCLUDE_DIR AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64"
   AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set(_found ON)
endif()
lowbit_bench_peer(EIGEN "Eigen (libeigen3-dev)" ${_found})
if(LOWBIT_PEER_ENABLED)
  target_sources(bench_peers PRIVATE ${LOWBIT_PEERS_DIR}/eigen.cpp)
  target_include_directories(bench_peers SYSTEM PRIVATE ${LOWBIT_EIGEN_INCLUDE_DIR})
  set_source_files_properties(${LOWBIT_PEERS_DIR}/eigen.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx512f;-mavx512dq;-mavx512bw;-mavx512vl;-mavx2;-mfma")
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 flags _mm512_undefined_ps (deliberately uninitialised) once Eigen's kernel inlines
    # it; reported at the intrinsic, outside what SYSTEM includes silence.
    set_property(SOURCE ${LOWBIT_PEERS_DIR}/eigen.cpp APPEND PROPERTY
      COMPILE_OPTIONS -Wno-maybe-uninitialized)
  endif()
endif()

# QNNPACK as built into Debian's libtorch 1.13 (libtorch-dev, libtorch_cpu.so). libtorch installs
# no QNNPACK headers; qnnpack.hpp declares the two exported entry points it calls, whose
# signatures are those of PyTorch 1.13, hence the version check. Point
# LOWBIT_QNNPACK_TORCH_LIBRARY and LOWBIT_QNNPACK_TORCH_VERSION_H at another libtorch 1.13 build
# to use that instead.
find_library(LOWBIT_QNNPACK_TORCH_LIBRARY torch_cpu)
find_file(LOWBIT_QNNPACK_TORCH_VERSION_H torch/version.h
  PATH_SUFFIXES torch/csrc/api/include)
set(_found OFF)
if(LOWBIT_QNNPACK_TORCH_LIBRARY AND LOWBIT_QNNPACK_TORCH_VERSION_H)
  file(STRINGS ${LOWBIT_QNNPACK_TORCH_VERSION_H} _torch_minor
    REGEX "#define TORCH_VERSION_MINOR")
  file(STRINGS ${LOWBIT_QNNPACK_TORCH_VERSION_H} _torch_major
    REGEX "#define TORCH_VERSION_MAJOR")
  if(_torch_major MATCHES " 1$" AND _torch_minor MATCHES " 13$")
    set(_found ON)
  else()
    message(STATUS "lowbit bench: libtorch is not 1.13 (${_torch_major} ${_torch_minor}); "
                   "the QNNPACK declarations in qnnpack.hpp are for 1.13")
  endif()
endif()
lowbit_bench_peer(QNNPACK "QNNPACK in libtorch 1.13 (libtorch-dev)" ${_found})
if(LOWBIT_PEER_ENABLED)
  target_link_libraries(bench_peers PRIVATE ${LOWBIT_QNNPACK_TORCH_LIBRARY})
endif()

# ggml (llama.cpp's tensor library), prebuilt: bench_peers loads it at run time from
# $LOWBIT_GGML_DIR (peers/ggml.hpp; no headers or library at build time). On Arm only, where the
# board kit (scripts/bench-arm) bundles the npm packages' libraries.
set(_found OFF)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm)")
  set(_found ON)
endif()
lowbit_bench_peer(GGML "ggml (prebuilt, loaded from LOWBIT_GGML_DIR at run time)" ${_found})
if(LOWBIT_PEER_ENABLED)
  target_link_libraries(bench_peers PRIVATE ${CMAKE_DL_LIBS})
endif()

# bench_conv (bench/bench_conv.cpp) benchmarks oneDNN's and XNNPACK's convolutions, under the same
# options and discovery as above.
if(TARGET bench_conv)
  if(LOWBIT_BENCH_ONEDNN AND LOWBIT_ONEDNN_INCLUDE_DIR AND LOWBIT_ONEDNN_LIBRARY
     AND LOWBIT_GOMP_LIBRARY)
    target_compile_definitions(bench_conv PRIVATE LOWBIT_HAVE_ONEDNN=1)
    target_include_directories(bench_conv SYSTEM PRIVATE ${LOWBIT_ONEDNN_INCLUDE_DIR})
    target_link_libraries(bench_conv PRIVATE ${LOWBIT_ONEDNN_LIBRARY} ${LOWBIT_GOMP_LIBRARY})
  endif()
  if(LOWBIT_BENCH_XNNPACK AND LOWBIT_XNNPACK_INCLUDE_DIR AND LOWBIT_PTHREADPOOL_INCLUDE_DIR
     AND LOWBIT_XNNPACK_LIBRARY)
    target_compile_definitions(bench_conv PRIVATE LOWBIT_HAVE_XNNPACK=1)
    target_include_directories(bench_conv SYSTEM PRIVATE ${LOWBIT_XNNPACK_INCLUDE_DIR}
                                                         ${LOWBIT_PTHREADPOOL_INCLUDE_DIR})
    target_link_libraries(bench_conv PRIVATE ${LOWBIT_XNNPACK_LIBRARY})
  endif()
endif()

unset(_found)
