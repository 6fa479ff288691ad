// lowbit: lookup-table kernels on SSSE3 + SSE4.1 (pshufb xmm, 16-entry tables): the vector ops of
// lut_body_x86-inl.hpp on xmm, and the kernels it then defines in namespace lut::sse41
// (actsum_nv2, product; registered in lut_x86.hpp).
//
// pshufb overwrites its table operand, so each lookup works on a copy of the table (a load or an
// eliminated move, no ALU op). SSE4.1 is needed only for pmovzxwd and pblendw at the end.
// - actsum_nv2, tile 4 x 32: 8 byte accumulators + 2 index vectors + table copies fit 16 xmm.
//   Ceiling (lookup + add on three ports, two lookups per cycle): 24 bytes per cycle times the
//   MACs per byte, 96 (w1) and 48 (w2), less 3/F ops per lookup for widening.
// - product, tile 2 x 4: 8 byte accumulators + 2 A vectors + W + table + temporaries: 14 of the
//   16 xmm. Per lookup por + pshufb + paddb on three ports: ceiling 16 MAC/cycle.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include "lowbit/detail/x86/vec.hpp"

#define LOWBIT_LUT_NS sse41
#define LOWBIT_LUT_TARGET LOWBIT_LUT_TARGET_SSE41
#include "lowbit/kernels/lut/lut_body_x86-inl.hpp"

namespace lowbit {
namespace kernels {
namespace lut {
namespace sse41 {

struct ops : detail::x86::vec_sse4 {
  static constexpr int table_bytes = 16;
  LOWBIT_LUT_OP static vec table(const std::uint8_t* p) noexcept { return load(p); }
  LOWBIT_LUT_OP static vec lookup(vec t, vec idx) noexcept { return _mm_shuffle_epi8(t, idx); }
  LOWBIT_LUT_OP static void acc8(vec& a, vec r) noexcept {
#if defined(__GNUC__) && !defined(__clang__)
    __asm__("paddb {%1, %0|%0, %1}" : "+x"(a) : "x"(r));
#else
    a = _mm_add_epi8(a, r);
#endif
  }
  LOWBIT_LUT_OP static vec widen16(vec h, int half) noexcept {
    return _mm_cvtepu16_epi32(half ? _mm_srli_si128(h, 8) : h);
  }
  // 64-bit lanes of s0..s3 -> 32-bit lanes (only the low halves matter) -> the four sums.
  LOWBIT_LUT_OP static __m128i sum4(vec s0, vec s1, vec s2, vec s3) noexcept {
    const vec t01 = _mm_blend_epi16(s0, _mm_slli_epi64(s1, 32), 0xCC);
    const vec t23 = _mm_blend_epi16(s2, _mm_slli_epi64(s3, 32), 0xCC);
    return _mm_add_epi32(_mm_unpacklo_epi64(t01, t23), _mm_unpackhi_epi64(t01, t23));
  }
};

}  // namespace sse41
}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#include "lowbit/kernels/lut/lut_end_x86-inl.hpp"

#endif  // __x86_64__
