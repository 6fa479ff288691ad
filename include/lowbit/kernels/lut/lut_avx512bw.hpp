// lowbit: lookup-table kernels on AVX-512BW (vpshufb zmm, 16-entry tables): the vector ops of
// lut_body_x86-inl.hpp on zmm, and the kernels it then defines in namespace lut::avx512bw
// (actsum_nv1, product; registered in lut_x86.hpp). lut_avx512vbmi.hpp reuses these ops with
// 64-entry tables.
//
// A 16-byte table is broadcast to the four 128-bit lanes straight from memory (vbroadcasti32x4
// is a pure load). These serve AVX-512 cores without VBMI (Skylake-SP, Cascade Lake): at w2 the
// 64-entry vpermb tables do 1.5x the MACs per byte.
// - actsum_nv1, tile 8 x 64: 8 byte accumulators + 16 16-bit sums + index + temporaries: 26 of
//   the 32 zmm. Ceiling (lookup + add on ports 0 and 5): 64 * MACs per byte per cycle, 256 (w1)
//   and 128 (w2), less 3/F ops per lookup for widening.
// - product, tile 4 x 4: 16 byte accumulators + 4 A vectors + W + table + index and lookup
//   temporaries: 25 of the 32 zmm. Per lookup vpord + vpshufb + vpaddb on ports 0 and 5: ceiling
//   64 * 2 / 3 = 42.7 MAC/cycle.
//
// The masked forms with a zero pass-through below are the plain ones without GCC 12's
// -Wuninitialized on the plain intrinsics' undefined operands.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include "lowbit/detail/x86/vec.hpp"

#define LOWBIT_LUT_NS avx512bw
#define LOWBIT_LUT_TARGET LOWBIT_LUT_TARGET_AVX512BW
#include "lowbit/kernels/lut/lut_body_x86-inl.hpp"

// A += R with the destination pinned to A (see lut_body_x86-inl.hpp), as `OP zmm_a, zmm_a, zmm_r`.
#if defined(__GNUC__) && !defined(__clang__)
#define LOWBIT_LUT_ACC512(OP, A, R, ADD) __asm__(OP " {%1, %0, %0|%0, %0, %1}" : "+v"(A) : "v"(R))
#else
#define LOWBIT_LUT_ACC512(OP, A, R, ADD) (A) = ADD((A), (R))
#endif

namespace lowbit {
namespace kernels {
namespace lut {
namespace avx512bw {

struct ops : detail::x86::vec_avx512 {
  static constexpr int table_bytes = 16;
  LOWBIT_LUT_OP static vec table(const std::uint8_t* p) noexcept {
    return _mm512_mask_broadcast_i32x4(zero(), 0xFFFF,
                                       _mm_load_si128(reinterpret_cast<const __m128i*>(p)));
  }
  LOWBIT_LUT_OP static vec lookup(vec t, vec idx) noexcept { return _mm512_shuffle_epi8(t, idx); }
  LOWBIT_LUT_OP static void acc8(vec& a, vec r) noexcept {
    LOWBIT_LUT_ACC512("vpaddb", a, r, _mm512_add_epi8);
  }
  LOWBIT_LUT_OP static void acc16(vec& a, vec r) noexcept {
    LOWBIT_LUT_ACC512("vpaddw", a, r, _mm512_add_epi16);
  }
  // (GCC 12 implements even the 256-bit cast as an extract with an undefined operand.)
  LOWBIT_LUT_OP static vec widen16(vec h, int half) noexcept {
    const __m256i s16 = half ? _mm512_mask_extracti64x4_epi64(_mm256_setzero_si256(), 0xFF, h, 1)
                             : _mm512_mask_extracti64x4_epi64(_mm256_setzero_si256(), 0xFF, h, 0);
    return _mm512_mask_cvtepu16_epi32(zero(), 0xFFFF, s16);
  }
  // 64-bit lanes of s0..s3 -> 32-bit lanes (only the low halves matter) -> one 128-bit lane of
  // the four sums.
  LOWBIT_LUT_OP static __m128i sum4(vec s0, vec s1, vec s2, vec s3) noexcept {
    const vec z = zero();
    const vec t01 = _mm512_mask_blend_epi32(0xAAAA, s0, _mm512_mask_slli_epi64(z, 0xFF, s1, 32));
    const vec t23 = _mm512_mask_blend_epi32(0xAAAA, s2, _mm512_mask_slli_epi64(z, 0xFF, s3, 32));
    vec u = _mm512_add_epi32(_mm512_mask_unpacklo_epi64(z, 0xFF, t01, t23),
                             _mm512_mask_unpackhi_epi64(z, 0xFF, t01, t23));
    u = _mm512_add_epi32(u, _mm512_mask_shuffle_i32x4(z, 0xFFFF, u, u, 0x4E));  // other half
    u = _mm512_add_epi32(u, _mm512_mask_shuffle_i32x4(z, 0xFFFF, u, u, 0xB1));  // next lane
    return _mm512_mask_extracti32x4_epi32(_mm_setzero_si128(), 0xF, u, 0);
  }
};

}  // namespace avx512bw
}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_LUT_ACC512
#include "lowbit/kernels/lut/lut_end_x86-inl.hpp"

#endif  // __x86_64__
