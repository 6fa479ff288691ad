// lowbit: small-M (GEMV, batch decoding) bitplane kernels on AVX-512 with VPOPCNTDQ, for weights
// and activations of 1 or 2 bits.
//
// When both operands are 1 or 2 bits, S = sum_{p,q} 2^(p+q) * popcount(A_q AND W_p) over the
// unsigned bit planes, and one vpandq + vpopcntq + vpaddq does 8 columns x 64 k = 512 one-bit
// MACs. At M = 1 the bitplane family's 6 x 32 tile wastes 5/6 of its work and, with its Horner
// loop over plane *pairs*, reads each weight plane once per activation plane. These kernels are
// built for the weight stream instead:
//
//  - Panels: the bitplane packer's (bitplane_pack_x86.hpp, 64-bit K blocks): W is
//    [plane p][64-k chunk][column][u64], bit-dense (WB / 8 bytes per weight, no padding beyond
//    K rounded to 64), so one chunk of one plane is NR / 8 consecutive zmm loads; A is
//    [plane q][chunk][row][u64], K / 8 bytes per plane at M = 1 (1 KiB for a2, K = 4096): L1.
//  - Inner loop, per 64-k chunk of weight plane p: load the NR / 8 W vectors once, and for every
//    row i and activation plane q broadcast A_q's 64-bit chunk and do and / popcount / add into
//    acc[i][q][j]. Every W byte is loaded exactly once per tile, whatever AB is.
//  - Lanes are columns (one u64 lane = one column's 64 k): the accumulator lanes already are the
//    per-column sums, so there is no horizontal reduction. Weight planes are visited from the
//    highest down with one doubling of the accumulators between planes (Horner: once per plane
//    per tile, not per chunk), and the activation planes are combined (acc[q] << q) once at the
//    end of the tile.
//  - Every W cache line is prefetched (prefetcht0) 2 KiB ahead of its load.
//  - Latency: the loop-carried chain is one vpaddq (1 cycle) per accumulator and there are
//    MR * AB * NR / 8 >= 8 independent accumulators, against a throughput of 1.5 cycles per
//    accumulator update (3 ops on ports 0/5): the popcounts' latency is covered.
//
// Cost: 3 vector ops per 512 MACs on the two 512-bit ports, so at most 341 MAC/cycle (w1a1),
// i.e. 42 B/cycle of 1-bit weights; WB * AB plane pairs divide the MAC rate.
//
// Accumulator bound (kc_max): a 64-bit lane of acc[i][q] gains at most 64 per chunk and weight
// plane. After the Horner doublings over WB <= 2 planes it holds at most (2^WB - 1) * 64 * nch
// <= 3 * round_up(kc, 64), and the final sum over q at most (2^WB - 1)(2^AB - 1) round_up(kc, 64)
// <= 9 * 2^20 < 2^24 for kc <= kc_max = 2^20. So every intermediate is exact (far below 2^63)
// and the kept low 32 bits are S itself; 2^20 only keeps the driver's K blocks reasonable.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/bitplane/bitplane_common_x86.hpp"
#include "lowbit/kernels/bitplane/bitplane_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

// The bitplane tile kernels' AVX-512 target (bitplane_common_x86.hpp).
#define LOWBIT_TARGET_GEMV_BP512 __attribute__((target(LOWBIT_BITPLANE_TARGET_AVX512)))

namespace lowbit {
namespace kernels {
namespace gemv {

// The feature set the code below is compiled for (read back from its target string).
constexpr feature_set avx512icl_gemv_bitplane_features = bitplane::avx512icl_bitplane_features;

template <int WB, int AB, int MR, int NR>
struct gemv_bitplane_avx512icl {
  static_assert(WB >= 1 && WB <= 2 && AB >= 1 && AB <= 2, "1- and 2-bit operands");
  static_assert(NR % 8 == 0, "8 columns per vector");
  static constexpr int nr = NR;
  static constexpr int JB = NR / 8;
  static_assert(MR * AB * JB <= 24, "accumulators, W vectors and broadcasts fit 32 zmm");
  static constexpr int k_step = 64;                  // K bits per chunk (one u64 lane)
  static constexpr std::uint32_t kc_max = 1u << 20;  // see the accumulator bound above
  static constexpr float bytes_per_weight = WB / 8.0f;
  static constexpr std::size_t prefetch_words = 2048 / 8;  // W prefetch distance, in u64

  using pack_a_t = bitplane::bitplane_pack_x86<MR, AB, k_step>;
  using pack_w_t = bitplane::bitplane_pack_x86<NR, WB, k_step>;

  LOWBIT_TARGET_GEMV_BP512 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                           std::int32_t* c, std::size_t ldc,
                                           bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint64_t*>(a_panel);
    const auto* w = static_cast<const std::uint64_t*>(w_panel);
    const std::size_t nch = (kc + k_step - 1) / k_step;
    const std::size_t a_plane = nch * MR, w_plane = nch * NR;  // in u64 words

    __m512i acc[MR][AB][JB];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
      for (int q = 0; q < AB; ++q)
#pragma GCC unroll 16
        for (int j = 0; j < JB; ++j) acc[i][q][j] = _mm512_setzero_si512();

    for (int p = WB - 1; p >= 0; --p) {
      if (p != WB - 1) {  // Horner: the planes above p weigh twice as much as plane p
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
          for (int q = 0; q < AB; ++q)
#pragma GCC unroll 16
            for (int j = 0; j < JB; ++j)
              acc[i][q][j] = _mm512_add_epi64(acc[i][q][j], acc[i][q][j]);
      }
      const std::uint64_t* wp = w + static_cast<std::size_t>(p) * w_plane;
      const std::uint64_t* ap = a;
      for (std::size_t ch = 0; ch < nch; ++ch, wp += NR, ap += MR) {
        __m512i wv[JB];
#pragma GCC unroll 16
        for (int j = 0; j < JB; ++j) {
          // Software prefetch 2 KiB ahead (measured: 5-15% faster when the panels stream from
          // L2/L3, as at N = K = 4096; 8 KiB helps less, prefetcht1 is slower). Past the end of
          // the panel it touches the next tile's panel; a prefetch never faults.
          _mm_prefetch(reinterpret_cast<const char*>(wp + prefetch_words + 8 * j), _MM_HINT_T0);
          wv[j] = _mm512_load_si512(wp + 8 * j);
        }
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
          for (int q = 0; q < AB; ++q) {
            const __m512i av = _mm512_set1_epi64(
                static_cast<long long>(ap[static_cast<std::size_t>(q) * a_plane + i]));
#pragma GCC unroll 16
            for (int j = 0; j < JB; ++j)
              acc[i][q][j] =
                  _mm512_add_epi64(acc[i][q][j], _mm512_popcnt_epi64(_mm512_and_si512(av, wv[j])));
          }
      }
    }

#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
      for (int j = 0; j < JB; ++j) {
        __m512i s = acc[i][0][j];
        if (AB == 2)
          s = _mm512_add_epi64(s, _mm512_add_epi64(acc[i][AB - 1][j], acc[i][AB - 1][j]));
        // The low 32 bits of each lane (S is mod 2^32; here S < 2^24 anyway).
        bitplane::store_low32(c + i * ldc + 8 * j, s, accumulate);
      }
  }
};

}  // namespace gemv
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_GEMV_BP512

#endif  // __x86_64__
