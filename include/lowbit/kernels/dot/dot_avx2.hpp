// lowbit: int8 dot-product kernels on AVX2 (vpmaddubsw / vpmaddwd on ymm): the vector ops of
// dot_body_x86-inl.hpp on ymm, and the kernels it then defines in namespace dot::avx2
// (dot_maddubs, dot_madd16; registered in dot_x86.hpp).
//
// 3 ops per 32 MACs (8-bit), 2 per 32 (low-bit), 2 per 16 (w8a8). Tiles 4 x 16: 8 accumulators
// + 2 W + 1 broadcast + constants fit 16 ymm.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#define LOWBIT_DOT_NS avx2
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_AVX2
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit {
namespace kernels {
namespace dot {
namespace avx2 {

struct ops {
  using vec = __m256i;
  static constexpr int lanes = 8;
  LOWBIT_DOT_OP static vec zero() noexcept { return _mm256_setzero_si256(); }
  LOWBIT_DOT_OP static vec load(const std::uint8_t* p) noexcept {
    return _mm256_load_si256(reinterpret_cast<const vec*>(p));
  }
  LOWBIT_DOT_OP static vec loadu(const std::int32_t* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const vec*>(p));
  }
  LOWBIT_DOT_OP static void storeu(std::int32_t* p, vec v) noexcept {
    _mm256_storeu_si256(reinterpret_cast<vec*>(p), v);
  }
  LOWBIT_DOT_OP static vec bcast4(const std::uint8_t* p) noexcept {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  LOWBIT_DOT_OP static vec ones16() noexcept { return _mm256_set1_epi16(1); }
  LOWBIT_DOT_OP static vec add16(vec a, vec b) noexcept { return _mm256_add_epi16(a, b); }
  LOWBIT_DOT_OP static vec add32(vec a, vec b) noexcept { return _mm256_add_epi32(a, b); }
  LOWBIT_DOT_OP static vec maddubs(vec a, vec b) noexcept { return _mm256_maddubs_epi16(a, b); }
  LOWBIT_DOT_OP static vec madd16(vec a, vec b) noexcept { return _mm256_madd_epi16(a, b); }
};

}  // namespace avx2
}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_DOT_NS
#undef LOWBIT_DOT_TARGET
#undef LOWBIT_DOT_OP
#undef LOWBIT_DOT_ENTRY

#endif  // __x86_64__
