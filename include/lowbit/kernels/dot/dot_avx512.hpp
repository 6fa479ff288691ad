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

#include <cstdint>
#include <cstring>

#define LOWBIT_DOT_NS avx512
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_AVX512
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit {
namespace kernels {
namespace dot {
namespace avx512 {

struct ops {
  using vec = __m512i;
  static constexpr int lanes = 16;
  LOWBIT_DOT_OP static vec zero() noexcept { return _mm512_setzero_si512(); }
  LOWBIT_DOT_OP static vec load(const std::uint8_t* p) noexcept {
    return _mm512_load_si512(reinterpret_cast<const vec*>(p));
  }
  LOWBIT_DOT_OP static vec loadu(const std::int32_t* p) noexcept {
    return _mm512_loadu_si512(reinterpret_cast<const vec*>(p));
  }
  LOWBIT_DOT_OP static void storeu(std::int32_t* p, vec v) noexcept {
    _mm512_storeu_si512(reinterpret_cast<vec*>(p), v);
  }
  LOWBIT_DOT_OP static vec bcast4(const std::uint8_t* p) noexcept {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  LOWBIT_DOT_OP static vec ones16() noexcept { return _mm512_set1_epi16(1); }
  LOWBIT_DOT_OP static vec add16(vec a, vec b) noexcept { return _mm512_add_epi16(a, b); }
  LOWBIT_DOT_OP static vec add32(vec a, vec b) noexcept { return _mm512_add_epi32(a, b); }
  LOWBIT_DOT_OP static vec maddubs(vec a, vec b) noexcept { return _mm512_maddubs_epi16(a, b); }
  LOWBIT_DOT_OP static vec madd16(vec a, vec b) noexcept { return _mm512_madd_epi16(a, b); }
};

}  // namespace avx512
}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_DOT_NS
#undef LOWBIT_DOT_TARGET
#undef LOWBIT_DOT_OP
#undef LOWBIT_DOT_ENTRY

#endif  // __x86_64__
