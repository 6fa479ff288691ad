// lowbit: int8 dot-product kernels on AVX-512BW without VNNI (vpmaddubsw / vpmaddwd on zmm): the
// vector ops of dot_body_x86-inl.hpp on zmm, and the kernels it then defines in namespace
// dot::avx512 (dot_maddubs, dot_madd16; registered in dot_x86.hpp).
//
// 3 ops per 64 MACs (8-bit), 2 per 64 (low-bit), 2 per 32 (w8a8). Tiles 8 x 32: 16 accumulators
// (+ 16 int16 partial sums in the low-bit variant, whose int32 sums then live in memory) + 2 W
// + 1 broadcast fit 32 zmm.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include "lowbit/detail/x86/vec.hpp"

#define LOWBIT_DOT_NS avx512
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_AVX512
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit {
namespace kernels {
namespace dot {
namespace avx512 {

struct ops : detail::x86::vec_avx512 {};

}  // namespace avx512
}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_DOT_NS
#undef LOWBIT_DOT_TARGET
#undef LOWBIT_DOT_OP
#undef LOWBIT_DOT_ENTRY

#endif  // __x86_64__
