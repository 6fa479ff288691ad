// lowbit: the definitions of every public entry point, for the one translation unit that
// compiles lowbit in compile-once mode (config.hpp):
//
//   // lowbit_impl.cpp, the only TU that defines LOWBIT_IMPLEMENTATION; every TU of the program
//   // (this one too) is compiled with LOWBIT_COMPILED defined.
//   #define LOWBIT_IMPLEMENTATION
//   #include <lowbit/implementation.hpp>
//
// The CMake target lowbit::compiled is such a TU in a static library (it defines LOWBIT_COMPILED
// for whatever links it). Without LOWBIT_COMPILED this header is an ordinary include of them all.
//
// Split over TUs that compile in parallel: LOWBIT_IMPLEMENTATION_PARTS TUs, each with
// LOWBIT_IMPLEMENTATION and its own LOWBIT_IMPLEMENTATION_PART (0 .. PARTS - 1) defined:
//   0     the entry points, the registry, the scalar and NEON kernels
//   1..4  one x86 kernel family each: lookup tables, bitplane, int8 dot, GEMV (empty elsewhere)
// lowbit::compiled is built that way.
#pragma once

#define LOWBIT_IMPLEMENTATION_PARTS 5

#if defined(LOWBIT_COMPILED) && !defined(LOWBIT_IMPLEMENTATION)
#error "lowbit/implementation.hpp: define LOWBIT_IMPLEMENTATION in the one TU that includes it"
#endif

#if defined(LOWBIT_IMPLEMENTATION_PART)
#if !defined(LOWBIT_COMPILED)
#error "lowbit/implementation.hpp: LOWBIT_IMPLEMENTATION_PART needs LOWBIT_COMPILED in every TU"
#endif
#if LOWBIT_IMPLEMENTATION_PART < 0 || LOWBIT_IMPLEMENTATION_PART > LOWBIT_IMPLEMENTATION_PARTS - 1
#error "lowbit/implementation.hpp: LOWBIT_IMPLEMENTATION_PART must be 0, 1, 2, 3 or 4"
#endif
#endif

#if defined(LOWBIT_IMPLEMENTATION_PART) && LOWBIT_IMPLEMENTATION_PART != 0
#include "lowbit/dispatch/registry.hpp"  // one x86 kernel family
#else
#include "lowbit/conv.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/quantize.hpp"
#endif
