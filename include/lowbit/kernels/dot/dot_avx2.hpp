// lowbit: int8 dot-product kernels on AVX2 (vpmaddubsw / vpmaddwd on ymm): the vector ops of
// dot_body_x86-inl.hpp on ymm, and the kernels it then defines in namespace dot::avx2
// (dot_maddubs, dot_madd16; registered in dot_x86.hpp).
//
// 3 ops per 32 MACs (8-bit), 2 per 32 (low-bit), 2 per 16 (w8a8). Tiles 4 x 16: 8 accumulators
// + 2 W + 1 broadcast + constants fit 16 ymm.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include "lowbit/detail/x86/vec.hpp"

#define LOWBIT_DOT_NS avx2
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_AVX2
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit {
namespace kernels {
namespace dot {
namespace avx2 {

struct ops : detail::x86::vec_avx2 {};

}  // namespace avx2
}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_DOT_NS
#undef LOWBIT_DOT_TARGET
#undef LOWBIT_DOT_OP
#undef LOWBIT_DOT_ENTRY

#endif  // __x86_64__
