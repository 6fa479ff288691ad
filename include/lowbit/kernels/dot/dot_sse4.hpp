// lowbit: int8 dot-product kernels on SSSE3 / SSE4.1 (pmaddubsw / pmaddwd on xmm).
//
// Panels hold one byte per u-code (dot_pack_x86.hpp, k4 layout): activations as u8, weights as
// s8 (u - w_offset). Per 4 values of K, the 4 A bytes of row i are broadcast and pmaddubsw
// multiplies them with 4 columns' 4 W bytes, giving per column two int16 pair sums.
//
// - 8-bit variant (dot_maddubs, pair_max > 32767 / 8): pmaddwd by ones widens each pair sum to
//   int32 at once and paddd accumulates (3 ops per 16 MACs). It never saturates: the pair sum
//   is at most 2 * 127 * 128 = 32512 (w8a7), 2 * 255 * 64 = 32640 (w7a8, weights as u - 64).
// - low-bit variant (pair_max <= 32767 / 8): the int16 pair sums are added with paddw for up
//   to nflush = floor(32767 / pair_max) steps before one pmaddwd widens them into the int32
//   sums (2 ops per 16 MACs); e.g. w4a4: 2 * 15 * 15 = 450 per step, 72 steps.
// - w8a8 (dot_madd16): 2 * 255 * 128 saturates pmaddubsw, so u-codes are packed as int16 and
//   pmaddwd alone does 8 MACs per op, exact in int32 (2 * 255 * 255 < 2^31).
// All int32 sums wrap mod 2^32, which is what S is defined as, so kc is limited only by the
// driver's blocking. Tiles 4 x 8: 8 accumulators + 2 W + 1 broadcast + constants fit 16 xmm.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/dot/dot_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_DOT128 __attribute__((target("popcnt,ssse3,sse4.1,sse4.2")))

namespace lowbit {
namespace kernels {
namespace dot {

constexpr feature_set sse4_dot_features = detail::x86_sse4;

LOWBIT_TARGET_DOT128 inline __m128i dot_bcast4_sse4(const std::uint8_t* p) noexcept {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return _mm_set1_epi32(v);
}

template <int MR, int NV, int WB, int AB>
struct dot_maddubs_sse4 {
  static constexpr int L = 4;  // int32 lanes per vector
  static constexpr int NR = NV * L;
  static constexpr int k_step = 4;
  static constexpr int w_offset = dot_w_offset(WB, AB);
  static constexpr int pair_max = dot_pair_max(WB, AB);
  static_assert(pair_max <= 32767, "pmaddubsw would saturate: use dot_madd16");
  static constexpr int nflush = 32767 / pair_max;  // int16 steps before widening
  static constexpr bool low = nflush >= 8;
  static constexpr std::uint32_t kc_max = 1u << 20;  // int32 sums wrap mod 2^32: no bound

  using pack_a_t = dot_pack_k4<MR, 0>;
  using pack_w_t = dot_pack_k4<NR, w_offset>;

  LOWBIT_TARGET_DOT128 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                       std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::size_t nk = (kc + 3) / 4;
    const __m128i ones = _mm_set1_epi16(1);
    __m128i acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm_setzero_si128();

    if constexpr (!low) {
      for (std::size_t s = 0; s < nk; ++s, a += 4 * MR, w += 4 * NR) {
        __m128i wv[NV];
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j)
          wv[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(w + 16 * j));
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
          const __m128i av = dot_bcast4_sse4(a + 4 * i);
#pragma GCC unroll 8
          for (int j = 0; j < NV; ++j)
            acc[i][j] =
                _mm_add_epi32(acc[i][j], _mm_madd_epi16(_mm_maddubs_epi16(av, wv[j]), ones));
        }
      }
    } else {
      // acc holds the int32 sums; the int16 partial sums live in s16 for nflush steps.
      for (std::size_t s0 = 0; s0 < nk; s0 += nflush) {
        const std::size_t s1 = s0 + nflush < nk ? s0 + nflush : nk;
        __m128i s16[MR][NV];
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
          for (int j = 0; j < NV; ++j) s16[i][j] = _mm_setzero_si128();
        for (std::size_t s = s0; s < s1; ++s, a += 4 * MR, w += 4 * NR) {
          __m128i wv[NV];
#pragma GCC unroll 8
          for (int j = 0; j < NV; ++j)
            wv[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(w + 16 * j));
#pragma GCC unroll 8
          for (int i = 0; i < MR; ++i) {
            const __m128i av = dot_bcast4_sse4(a + 4 * i);
#pragma GCC unroll 8
            for (int j = 0; j < NV; ++j)
              s16[i][j] = _mm_add_epi16(s16[i][j], _mm_maddubs_epi16(av, wv[j]));
          }
        }
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
          for (int j = 0; j < NV; ++j)
            acc[i][j] = _mm_add_epi32(acc[i][j], _mm_madd_epi16(s16[i][j], ones));
      }
    }

#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        auto* ci = reinterpret_cast<__m128i*>(c + i * ldc + L * j);
        __m128i r = acc[i][j];
        if (accumulate) r = _mm_add_epi32(r, _mm_loadu_si128(ci));
        _mm_storeu_si128(ci, r);
      }
  }
};

template <int MR, int NV>
struct dot_madd16_sse4 {
  static constexpr int L = 4;
  static constexpr int NR = NV * L;
  static constexpr int k_step = 2;
  static constexpr int w_offset = 0;
  static constexpr std::uint32_t kc_max = 1u << 20;  // int32 sums wrap mod 2^32: no bound

  using pack_a_t = dot_pack_k2_i16<MR>;
  using pack_w_t = dot_pack_k2_i16<NR>;

  LOWBIT_TARGET_DOT128 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                       std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::size_t nk = (kc + 1) / 2;
    __m128i acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm_setzero_si128();
    for (std::size_t s = 0; s < nk; ++s, a += 4 * MR, w += 4 * NR) {
      __m128i wv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j)
        wv[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(w + 16 * j));
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const __m128i av = dot_bcast4_sse4(a + 4 * i);  // two int16 values of K
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j)
          acc[i][j] = _mm_add_epi32(acc[i][j], _mm_madd_epi16(av, wv[j]));
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        auto* ci = reinterpret_cast<__m128i*>(c + i * ldc + L * j);
        __m128i r = acc[i][j];
        if (accumulate) r = _mm_add_epi32(r, _mm_loadu_si128(ci));
        _mm_storeu_si128(ci, r);
      }
  }
};

}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_DOT128

#endif  // __x86_64__
