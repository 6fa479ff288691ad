// lowbit: bitplane popcount kernels on AVX2.
//
// Same sum as the AVX-512 kernels, S = sum_{p,q} 2^(p+q) popcount(A_q AND W_p), with the same
// lane-per-column layout (64 K bits of 4 columns per ymm, A broadcast), so the 64-bit lanes of the
// totals are C[i][j] directly. AVX2 has no vector popcount: each AND result is counted with the
// nibble lookup (vpshufb of the low and of the high nibbles into a 16-entry table of bit counts).
// Byte counts accumulate over up to 31 chunks (at most 8 per chunk per byte: 31 * 8 = 248 < 256),
// then vpsadbw widens them into the 64-bit lanes, shifted by the plane pair's weight p + q.
//
// Tile 4 x 8: 8 byte counters + 2 W vectors + 1 A broadcast + 2 constants + 3 temporaries fill
// the 16 ymm registers. About 8 vector ops per 256 one-bit MACs on three ports: a ceiling near
// 96 MAC/cycle for w1a1, divided by the plane pairs otherwise.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/bitplane/bitplane_common_x86.hpp"
#include "lowbit/kernels/bitplane/bitplane_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_BP256 __attribute__((target(LOWBIT_BITPLANE_TARGET_AVX2)))

namespace lowbit {
namespace kernels {
namespace bitplane {

template <int WB, int AB, int MR, int NR>
struct bitplane_avx2 {
  static_assert(NR % 4 == 0, "4 columns per vector");
  static_assert(WB >= 1 && WB <= 8 && AB >= 1 && AB <= 8, "1..8-bit planes");
  static constexpr int KB = 64;  // K bits per chunk (one u64 lane)
  static constexpr int JB = NR / 4;
  // Byte counters are flushed every 31 chunks inside run(); the 64-bit totals gain at most
  // 64 * 2^(WB + AB - 2) per chunk, so only the driver's blocking limits kc.
  static constexpr std::uint32_t kc_max = 1u << 20;
  static constexpr std::size_t flush_chunks = 31;  // 31 chunks * 8 per byte = 248 <= 255

  using pack_a_t = bitplane_pack_x86<MR, AB, KB>;
  using pack_w_t = bitplane_pack_x86<NR, WB, KB>;
  // Panels are [plane][64-bit chunk][row] words: conv2d may assemble them from plane rows
  // (a one-row panel each).
  static constexpr a_runs_contract a_runs() noexcept {
    a_runs_contract c;
    c.plane_row = &bitplane_pack_x86<1, AB, KB>::pack;
    return c;
  }

  LOWBIT_TARGET_BP256 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                      std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint64_t*>(a_panel);
    const auto* w = static_cast<const std::uint64_t*>(w_panel);
    const std::size_t nch = (kc + KB - 1) / KB;
    const std::size_t a_plane = nch * MR, w_plane = nch * NR;  // in u64 words
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                         1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low4 = _mm256_set1_epi8(0x0F);

    __m256i tot[MR][JB];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < JB; ++j) tot[i][j] = _mm256_setzero_si256();

    for (int p = 0; p < WB; ++p)
      for (int q = 0; q < AB; ++q) {
        const __m128i shift = _mm_cvtsi32_si128(p + q);
        const std::uint64_t* ap = a + static_cast<std::size_t>(q) * a_plane;
        const std::uint64_t* wp = w + static_cast<std::size_t>(p) * w_plane;
        for (std::size_t c0 = 0; c0 < nch; c0 += flush_chunks) {
          const std::size_t c1 = c0 + flush_chunks < nch ? c0 + flush_chunks : nch;
          __m256i cnt[MR][JB];
#pragma GCC unroll 8
          for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < JB; ++j) cnt[i][j] = _mm256_setzero_si256();
          for (std::size_t ch = c0; ch < c1; ++ch, ap += MR, wp += NR) {
            __m256i wv[JB];
#pragma GCC unroll 8
            for (int j = 0; j < JB; ++j)
              wv[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(wp + 4 * j));
#pragma GCC unroll 8
            for (int i = 0; i < MR; ++i) {
              const __m256i av = _mm256_set1_epi64x(static_cast<long long>(ap[i]));
#pragma GCC unroll 8
              for (int j = 0; j < JB; ++j) {
                const __m256i x = _mm256_and_si256(av, wv[j]);
                const __m256i lo = _mm256_and_si256(x, low4);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low4);
                cnt[i][j] = _mm256_add_epi8(
                    cnt[i][j],
                    _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi)));
              }
            }
          }
#pragma GCC unroll 8
          for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < JB; ++j)
              tot[i][j] = _mm256_add_epi64(
                  tot[i][j],
                  _mm256_sll_epi64(_mm256_sad_epu8(cnt[i][j], _mm256_setzero_si256()), shift));
        }
      }

#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < JB; ++j) store_low32(c + i * ldc + 4 * j, tot[i][j], accumulate);
  }
};

}  // namespace bitplane
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_BP256

#endif  // __x86_64__
