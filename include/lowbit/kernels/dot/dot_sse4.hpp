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

#include <cstdint>
#include <cstring>

#define LOWBIT_DOT_NS sse4
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_SSE4
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit {
namespace kernels {
namespace dot {
namespace sse4 {

struct ops {
  using vec = __m128i;
  static constexpr int lanes = 4;
  LOWBIT_DOT_OP static vec zero() noexcept { return _mm_setzero_si128(); }
  LOWBIT_DOT_OP static vec load(const std::uint8_t* p) noexcept {
    return _mm_load_si128(reinterpret_cast<const vec*>(p));
  }
  LOWBIT_DOT_OP static vec loadu(const std::int32_t* p) noexcept {
    return _mm_loadu_si128(reinterpret_cast<const vec*>(p));
  }
  LOWBIT_DOT_OP static void storeu(std::int32_t* p, vec v) noexcept {
    _mm_storeu_si128(reinterpret_cast<vec*>(p), v);
  }
  LOWBIT_DOT_OP static vec bcast4(const std::uint8_t* p) noexcept {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm_set1_epi32(v);
  }
  LOWBIT_DOT_OP static vec ones16() noexcept { return _mm_set1_epi16(1); }
  LOWBIT_DOT_OP static vec add16(vec a, vec b) noexcept { return _mm_add_epi16(a, b); }
  LOWBIT_DOT_OP static vec add32(vec a, vec b) noexcept { return _mm_add_epi32(a, b); }
  LOWBIT_DOT_OP static vec maddubs(vec a, vec b) noexcept { return _mm_maddubs_epi16(a, b); }
  LOWBIT_DOT_OP static vec madd16(vec a, vec b) noexcept { return _mm_madd_epi16(a, b); }
};

}  // namespace sse4
}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_DOT_NS
#undef LOWBIT_DOT_TARGET
#undef LOWBIT_DOT_OP
#undef LOWBIT_DOT_ENTRY

#endif  // __x86_64__
