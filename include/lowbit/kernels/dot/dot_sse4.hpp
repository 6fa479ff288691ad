// lowbit: int8 dot-product kernels on SSSE3 / SSE4.1 (pmaddubsw / pmaddwd on xmm): the vector ops
// of dot_body_x86-inl.hpp on xmm, and the kernels it then defines in namespace dot::sse4
// (dot_maddubs, dot_madd16; registered in dot_x86.hpp).
//
// pmaddubsw + pmaddwd + paddd: 3 ops per 16 MACs (8-bit), pmaddubsw + paddw: 2 ops per 16 MACs
// (low-bit), pmaddwd + paddd: 2 ops per 8 MACs (w8a8). Tiles 4 x 8: 8 accumulators + 2 W + 1
// broadcast + constants fit 16 xmm.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include "lowbit/detail/x86/vec.hpp"

#define LOWBIT_DOT_NS sse4
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_SSE4
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit::kernels::dot::sse4 {

struct ops : detail::x86::vec_sse4 {};

}  // namespace lowbit::kernels::dot::sse4

#include "lowbit/kernels/dot/dot_end_x86-inl.hpp"

#endif  // __x86_64__
