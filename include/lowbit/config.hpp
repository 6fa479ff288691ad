// lowbit: build configuration, detected from the toolchain; each can be set by the user first.
//   LOWBIT_NO_THREADS   no std::thread / thread_local (bare-metal newlib has no gthreads)
//   LOWBIT_NO_GETENV    ignore LOWBIT_ISA / LOWBIT_ALGO / LOWBIT_CORE / LOWBIT_VERBOSE, and print
//                       nothing (their warnings and logs are the only output lowbit writes);
//                       set by itself on bare metal (Arm without Linux)
//   LOWBIT_NO_HEAP      never call operator new: owned memory (packed weights, owning
//                       workspaces) comes only from lowbit::set_allocator (aligned_buffer.hpp)
//   LOWBIT_PORTABLE     compile only the portable scalar kernels (no SIMD, no target attributes)
//   LOWBIT_STATIC_DISPATCH  no run-time CPU detection: use what -march promised
//   (dispatch/cpu_features) LOWBIT_EXCEPTIONS   (status.hpp) set when the compiler has exceptions
//   on
#pragma once

#include <cstddef>

#if !defined(LOWBIT_NO_THREADS) && defined(__GLIBCXX__) && !defined(_GLIBCXX_HAS_GTHREADS)
#define LOWBIT_NO_THREADS 1
#endif

#if !defined(LOWBIT_NO_GETENV) && defined(__arm__) && !defined(__linux__) && !defined(__APPLE__)
#define LOWBIT_NO_GETENV 1  // bare metal: no environment, no stdio to write warnings to
#endif

#if !defined(LOWBIT_PORTABLE) && defined(__arm__) && !defined(__linux__) && \
    !(defined(__ARM_NEON) || defined(__ARM_NEON__))
#define LOWBIT_PORTABLE 1  // bare-metal Arm without NEON (Cortex-M): the scalar kernel only
#endif

// Compile-once mode (docs/architecture.md, "Compiling lowbit once"). By default every translation
// unit compiles what it calls (header-only). With LOWBIT_COMPILED defined in every TU, the public
// entry points (pack_weights, gemm, conv2d, ...) are only declared, and one TU that also defines
// LOWBIT_IMPLEMENTATION (lowbit/implementation.hpp, or the CMake target lowbit::compiled)
// defines them: the kernels are compiled once instead of in every TU that includes lowbit.
#if defined(LOWBIT_COMPILED)
#define LOWBIT_API
#else
#define LOWBIT_API inline
#endif
#if defined(LOWBIT_COMPILED) && !defined(LOWBIT_IMPLEMENTATION)
#define LOWBIT_DECLARATIONS_ONLY 1
#endif
