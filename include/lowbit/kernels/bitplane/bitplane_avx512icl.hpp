// lowbit: bitplane popcount kernels on AVX-512 with VPOPCNTDQ (Ice Lake and later).
//
// S[i][j] = sum_{p,q} 2^(p+q) * popcount(A_q[i] AND W_p[j]) over unsigned bit planes, so every
// encoding is exact (the driver maps u-codes to values) and zero padding contributes nothing.
// Columns live in vector lanes: a W chunk holds 64 consecutive K bits of each of 8 columns (one
// u64 lane per column) and the A chunk of a row is broadcast to all lanes, so for every pair of
// (row, 8 columns) one vpandq + vpopcntq + vpaddq does 8 x 64 = 512 one-bit MACs and the
// accumulator lanes already are C[i][j]: no horizontal reduction at the end. vpopcntq issues
// once per cycle and the and/add share the two 512-bit ports, so the method's ceiling is
// 512 MACs per 1.5 cycles = 341 MAC/cycle for w1a1, divided by the Wbits * Abits plane pairs.
//
// Tile 6 x 32 (K step 64 bits): 24 accumulators + 4 W vectors + 1 A broadcast + 1 temporary fit
// the 32 zmm registers; per chunk 10 loads feed 72 vector ops. Plane pairs are grouped by weight
// class s = p + q and visited from the highest class down (Horner: acc = 2 * acc between
// classes), so there is no per-pair shift and no extra accumulator.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowbit/kernels/bitplane/bitplane_common_x86.hpp"
#include "lowbit/kernels/bitplane/bitplane_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_BP512 __attribute__((target(LOWBIT_BITPLANE_TARGET_AVX512)))

namespace lowbit {
namespace kernels {
namespace bitplane {

// SW (signed weights): W planes hold u - 2^(WB-1) in two's complement and the top plane counts
// negative, so S' = sum ua * (uw - 2^(WB-1)) (w_offset 2^(WB-1)): for signed weights that is
// the weights' values, and the driver needs no row sums of A.
template <int WB, int AB, int MR, int NR, bool SW = false>
struct bitplane_avx512icl {
  static_assert(NR % 8 == 0, "8 columns per vector");
  static_assert(WB >= 1 && WB <= 8 && AB >= 1 && AB <= 8, "1..8-bit planes");
  static constexpr int KB = 64;  // K bits per chunk (one u64 lane)
  static constexpr int JB = NR / 8;
  // 64-bit lanes gain at most 64 * 2^(WB + AB - 2) <= 2^20 per chunk: no overflow below 2^43
  // chunks, so only the driver's blocking limits kc; the sum is truncated mod 2^32 at the end.
  static constexpr std::uint32_t kc_max = 1u << 20;

  using pack_a_t = bitplane_pack_runs_avx512<MR, AB, KB>;
  // perf, 3136 x 64 x 576 w1a1: the vptestmb packer is ~10% of the call, ~0.07 cycle per code.
  static constexpr float a_pack_cycles = 0.07f;
  using pack_w_t =
      std::conditional_t<SW, bitplane_pack_signed_w<NR, WB, KB>, bitplane_pack_avx512<NR, WB, KB>>;
  // An indirect A: runs of codes copied by the packer (window rows of at most 64 codes), and
  // runs of planes read in place (run_plane_runs) from conv2d's bit-plane image, whose rows
  // are [plane][64-bit chunk] words: a one-row panel.
  static constexpr a_runs_contract a_runs() noexcept {
    a_runs_contract c = copied_code_runs<pack_a_t>();
    c.kinds |= static_cast<std::uint8_t>(a_run_kind::planes);
    c.kept = static_cast<std::uint8_t>(a_run_kind::planes);
    c.make = &from_runs;
    c.table_offset = sizeof(plane_runs_panel);
    c.run = &run_plane_runs;
    c.plane_row = &bitplane_pack_avx512<1, AB, KB>::pack;
    return c;
  }
  static void from_runs(const a_run_table& t, std::size_t rows, void* dst) noexcept {
    if (t.kind == a_run_kind::planes)
      keep_plane_runs(t, AB, MR, dst);
    else
      pack_a_t::pack_runs(t.slot, t.n_runs, t.len, rows, dst);
  }

  LOWBIT_TARGET_BP512 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                      std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint64_t*>(a_panel);
    const auto* w = static_cast<const std::uint64_t*>(w_panel);
    const std::size_t nch = (kc + KB - 1) / KB;
    const std::size_t a_plane = nch * MR, w_plane = nch * NR;  // in u64 words

    __m512i acc[MR][JB];
    zero(acc);

    for (int s = WB + AB - 2; s >= 0; --s) {
      if (s != WB + AB - 2) double_all(acc);
      const int p_lo = s - (AB - 1) > 0 ? s - (AB - 1) : 0, p_hi = s < WB - 1 ? s : WB - 1;
      for (int p = p_lo; p <= p_hi; ++p) {
        const std::uint64_t* ap = a + static_cast<std::size_t>(s - p) * a_plane;
        const std::uint64_t* wp = w + static_cast<std::size_t>(p) * w_plane;
        if (SW && p == WB - 1) {
          for (std::size_t ch = 0; ch < nch; ++ch, ap += MR, wp += NR)
            chunk<true>(acc, wp, [&](int i) { return ap[i]; });
        } else {
          for (std::size_t ch = 0; ch < nch; ++ch, ap += MR, wp += NR)
            chunk<false>(acc, wp, [&](int i) { return ap[i]; });
        }
      }
    }
    store(acc, c, ldc, accumulate);
  }

  // run() over a plane_runs_panel: each row's plane words read where they are (conv2d's
  // bit-plane image of its input), K run by run, so no panel is assembled.
  LOWBIT_TARGET_BP512 __attribute__((noinline)) static void run_plane_runs(
      std::size_t, const void* a_panel, const void* w_panel, std::int32_t* c, std::size_t ldc,
      bool accumulate) noexcept {
    plane_runs_panel h;
    const std::uint8_t* const* runs = read_plane_runs(a_panel, h);
    const auto* w = static_cast<const std::uint64_t*>(w_panel);
    const std::size_t w_plane = h.n_runs * h.run_words * NR;
    __m512i acc[MR][JB];
    zero(acc);
    for (int s = WB + AB - 2; s >= 0; --s) {
      if (s != WB + AB - 2) double_all(acc);
      const int p_lo = s - (AB - 1) > 0 ? s - (AB - 1) : 0, p_hi = s < WB - 1 ? s : WB - 1;
      for (int p = p_lo; p <= p_hi; ++p) {
        const std::uint64_t* wp = w + static_cast<std::size_t>(p) * w_plane;
        const std::uint8_t* const* plane_runs =
            runs + static_cast<std::size_t>(s - p) * h.n_runs * MR;
        for (std::size_t g = 0; g < h.n_runs; ++g) {
          const std::uint64_t* rp[MR];
#pragma GCC unroll 8
          for (int i = 0; i < MR; ++i)
            rp[i] = plane_words(plane_runs[g * MR + static_cast<std::size_t>(i)]);
          if (SW && p == WB - 1) {
            for (std::size_t ch = 0; ch < h.run_words; ++ch, wp += NR)
              chunk<true>(acc, wp, [&](int i) { return rp[i][ch]; });
          } else {
            for (std::size_t ch = 0; ch < h.run_words; ++ch, wp += NR)
              chunk<false>(acc, wp, [&](int i) { return rp[i][ch]; });
          }
        }
      }
    }
    store(acc, c, ldc, accumulate);
  }

  // The tile's steps, shared with the ternary-logic w2a2 kernel (bitplane_tl_avx512icl.hpp).
  LOWBIT_TARGET_BP512 __attribute__((always_inline)) static inline void zero(
      __m512i (&acc)[MR][JB]) noexcept {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < JB; ++j) acc[i][j] = _mm512_setzero_si512();
  }

  // One 64-bit K chunk: the JB weight vectors, then per row its A word (a_word(i)) broadcast;
  // the counts are subtracted for the sign plane (Negative).
  template <bool Negative, class AWord>
  LOWBIT_TARGET_BP512 __attribute__((always_inline)) static inline void chunk(
      __m512i (&acc)[MR][JB], const std::uint64_t* wp, AWord a_word) noexcept {
    __m512i wv[JB];
#pragma GCC unroll 8
    for (int j = 0; j < JB; ++j) wv[j] = _mm512_load_si512(wp + 8 * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512i av = _mm512_set1_epi64(static_cast<long long>(a_word(i)));
#pragma GCC unroll 8
      for (int j = 0; j < JB; ++j)
        acc[i][j] =
            Negative
                ? _mm512_sub_epi64(acc[i][j], _mm512_popcnt_epi64(_mm512_and_si512(av, wv[j])))
                : _mm512_add_epi64(acc[i][j], _mm512_popcnt_epi64(_mm512_and_si512(av, wv[j])));
    }
  }

  LOWBIT_TARGET_BP512 __attribute__((always_inline)) static inline void double_all(
      __m512i (&acc)[MR][JB]) noexcept {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < JB; ++j) acc[i][j] = _mm512_add_epi64(acc[i][j], acc[i][j]);
  }

  LOWBIT_TARGET_BP512 __attribute__((always_inline)) static inline void store(
      __m512i (&acc)[MR][JB], std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < JB; ++j) store_low32(c + i * ldc + 8 * j, acc[i][j], accumulate);
  }
};

}  // namespace bitplane
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_BP512

#endif  // __x86_64__
