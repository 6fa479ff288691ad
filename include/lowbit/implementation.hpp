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
#pragma once

#if defined(LOWBIT_COMPILED) && !defined(LOWBIT_IMPLEMENTATION)
#error "lowbit/implementation.hpp: define LOWBIT_IMPLEMENTATION in the one TU that includes it"
#endif

#include "lowbit/conv.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/quantize.hpp"
