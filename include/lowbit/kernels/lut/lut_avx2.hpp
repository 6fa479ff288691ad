// lowbit: lookup-table kernels on AVX2 (vpshufb ymm, 16-entry tables): the vector ops of
// lut_body_x86-inl.hpp on ymm, and the kernels it then defines in namespace lut::avx2
// (actsum_nv2, product; registered in lut_x86.hpp).
//
// A 16-byte table is broadcast to both lanes straight from memory (vbroadcasti128 is a pure load).
// - actsum_nv2, tile 4 x 64: 8 byte accumulators + 2 index vectors + table + temporary = 12 ymm.
//   Ceiling (lookup + add on three ports, two lookups per cycle): 48 bytes per cycle times the
//   MACs per byte, 192 (w1) and 96 (w2), less 3/F ops per lookup for widening.
// - product, tile 2 x 4 (the setting of DeepGEMM's paper): 8 byte accumulators + 2 A vectors + W
//   + table + index and lookup temporaries: 14 of the 16 ymm. Per lookup vpor + vpshufb + vpaddb
//   on three ports: ceiling 32 MAC/cycle.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include "lowbit/detail/x86/vec.hpp"

#define LOWBIT_LUT_NS avx2
#define LOWBIT_LUT_TARGET LOWBIT_LUT_TARGET_AVX2
#include "lowbit/kernels/lut/lut_body_x86-inl.hpp"

namespace lowbit {
namespace kernels {
namespace lut {
namespace avx2 {

struct ops : detail::x86::vec_avx2 {
  static constexpr int table_bytes = 16;
  LOWBIT_LUT_OP static vec table(const std::uint8_t* p) noexcept {
    return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
  }
  LOWBIT_LUT_OP static vec lookup(vec t, vec idx) noexcept { return _mm256_shuffle_epi8(t, idx); }
  LOWBIT_LUT_OP static void acc8(vec& a, vec r) noexcept {
#if defined(__GNUC__) && !defined(__clang__)
    __asm__("vpaddb {%1, %0, %0|%0, %0, %1}" : "+x"(a) : "x"(r));
#else
    a = _mm256_add_epi8(a, r);
#endif
  }
  LOWBIT_LUT_OP static vec widen16(vec h, int half) noexcept {
    return _mm256_cvtepu16_epi32(half ? _mm256_extracti128_si256(h, 1) : _mm256_castsi256_si128(h));
  }
  // 64-bit lanes of s0..s3 -> 32-bit lanes (only the low halves matter) -> one 128-bit lane of
  // the four sums.
  LOWBIT_LUT_OP static __m128i sum4(vec s0, vec s1, vec s2, vec s3) noexcept {
    const vec t01 = _mm256_blend_epi32(s0, _mm256_slli_epi64(s1, 32), 0xAA);
    const vec t23 = _mm256_blend_epi32(s2, _mm256_slli_epi64(s3, 32), 0xAA);
    const vec u =
        _mm256_add_epi32(_mm256_unpacklo_epi64(t01, t23), _mm256_unpackhi_epi64(t01, t23));
    return _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
  }
};

}  // namespace avx2
}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#include "lowbit/kernels/lut/lut_end_x86-inl.hpp"

#endif  // __x86_64__
