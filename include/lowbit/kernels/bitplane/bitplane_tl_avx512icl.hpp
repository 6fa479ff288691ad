// lowbit: w2a2 bitplane kernels on AVX-512 VPOPCNTDQ with three ternary-logic terms per K chunk
// instead of four plane pairs.
//
// The plain bitplane kernel pays one and + popcount + add for each of the 2 x 2 plane pairs
// (a_q AND w_p). Over u-codes a = a0 + 2 a1 and w = w0 + 2 w1 the product table a * w is not
// rank 4 for terms a vpternlogq can form from three planes: with eq3(x, y, z) = 1 where x, y and
// z are all equal (vpternlogq immediate 0x81),
//
//   a * w = 2 (eq3(a1, w0, w1) + eq3(w1, a0, a1)) + (a0 AND w0) + 2 ([w != 0] + w1)
//           + 2 ([a != 0] + a1) - 4,
//
// which holds for all 16 (a, w) (eq3(a1, w0, w1) - [w == 0] = a1 ([w == 3] - [w == 0]) and
// eq3(w1, a0, a1) - [a == 0] = w1 ([a == 3] - [a == 0])). Summed over the Kp padded K
// positions (padding is u = 0 on both sides, where the identity holds too):
//
//   S = 2 (P1 + P3) + P2 + colc[j] + 2 (popcount(a0 | a1) + popcount(a1))[i] - 4 Kp
//
// with P1, P3, P2 the popcounts of the three terms. colc[j] = 2 (popcount(w0 | w1) +
// popcount(w1)) is stored with the W panel and the row counts with the A panel (the A packer,
// or finish_a_panel for the panels conv2d assembles), so the kernel only adds them. A search
// over the terms one vpternlogq can form (one plane of one operand against two of the other,
// modulo row- and column-only sums) finds no identity with two terms, and none with three whose
// row part is a multiple of sum(a) (which the driver's row sums could have carried).
//
// Cost: three vpternlogq/vpandq + vpopcntq + vpaddq per 512 positions instead of four and +
// popcount + add, 9 vector ops per 512 w2a2 MACs instead of 12. vpternlogq overwrites its first
// operand and every operand here is used again, so each term also takes a fresh broadcast of its
// A word; on Zen 5 that broadcast occupies a vector pipe like a register copy would (11 ops, not
// 9): measured 171-182 MAC/cycle against the plain kernel's 160-166, 1.04-1.10x (cache-resident,
// N = 64 and 256, K = 2048, same runs). On Intel cores, where popcount has one port and a broadcast
// load none, the count of popcounts (3 against 4) bounds it; not measured there.
//
// Signed weights (SW, offset 2): S' = S - 2 sum(a) moves only the row term, to
// -2 popcount(a0 AND a1), so the same W panel serves both and the epilogue needs no row sums.
//
// Horner over the weights: the two weight-2 terms over all of K, double, then the weight-1
// term (the plain kernel's and/popcount/add chunk), so one accumulator per (row, 8 columns)
// and no shifts.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/bitplane/bitplane_avx512icl.hpp"
#include "lowbit/kernels/bitplane/bitplane_common_x86.hpp"
#include "lowbit/kernels/bitplane/bitplane_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_BPTL512 __attribute__((target(LOWBIT_BITPLANE_TARGET_AVX512)))

namespace lowbit {
namespace kernels {
namespace bitplane {

// The w2 bit-plane W panel followed by each column's constant colc[j] (int64, NR of them).
template <int NR>
struct bitplane_tl_pack_w : bitplane_pack_avx512<NR, 2, 64> {
  using base = bitplane_pack_avx512<NR, 2, 64>;

  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return base::panel_bytes(kc) + NR * sizeof(std::int64_t);
  }

  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    base::pack(u, ldu, rows, kc, dst);
    const auto* w = static_cast<const std::uint64_t*>(dst);
    const std::size_t plane = base::blocks(kc) * NR;
    std::int64_t colc[NR];
    for (int j = 0; j < NR; ++j) {
      std::int64_t s = 0;
      for (std::size_t x = static_cast<std::size_t>(j); x < plane; x += NR)
        s += __builtin_popcountll(w[x] | w[plane + x]) + __builtin_popcountll(w[plane + x]);
      colc[j] = 2 * s;
    }
    std::memcpy(static_cast<std::uint8_t*>(dst) + base::panel_bytes(kc), colc, sizeof colc);
  }
};

// The w2 A panel (the plain bitplane kernels' layout) followed by each row's counts behind the
// row term (file comment): MR int64 popcount(a0 | a1) + popcount(a1), then MR int64
// popcount(a0 AND a1) for the signed-weight sibling, so both read the same panels. Counted once
// per panel here, not once per column tile in the kernel: at K = 576 and 16 columns per call
// that pass cost a quarter of the kernel's time.
template <int MR>
struct bitplane_tl_pack_a : bitplane_pack_runs_avx512<MR, 2, 64> {
  static_assert(MR >= 1 && MR <= 8, "a chunk's rows fit one vector");
  using base = bitplane_pack_runs_avx512<MR, 2, 64>;
  static constexpr std::size_t tail_bytes = (2 * MR * sizeof(std::int64_t) + 63) / 64 * 64;

  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return base::panel_bytes(kc) + tail_bytes;
  }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    base::pack(u, ldu, rows, kc, dst);
    count_panel(kc, dst);
  }
  static bool pack_checked(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                           void* dst, std::uint32_t* sums, std::uint8_t high) noexcept {
    const bool bad = base::pack_checked(u, ldu, rows, kc, dst, sums, high);
    count_panel(kc, dst);
    return bad;
  }
  static void pack_runs(const std::uint8_t* const* runs, std::size_t n_runs, std::size_t run_bytes,
                        std::size_t rows, void* dst) noexcept {
    base::pack_runs(runs, n_runs, run_bytes, rows, dst);
    count_panel(n_runs * run_bytes, dst);
  }

  // The counts of a packed panel (rows in lanes: a chunk's MR words of a plane are consecutive).
  LOWBIT_TARGET_BPTL512 static void count_panel(std::size_t kc, void* panel) noexcept {
    constexpr __mmask8 rows = static_cast<__mmask8>((1u << MR) - 1);
    const auto* a = static_cast<const std::uint64_t*>(panel);
    const std::size_t a_plane = base::blocks(kc) * MR;
    __m512i u = _mm512_setzero_si512(), s = _mm512_setzero_si512();
    for (std::size_t x = 0; x < a_plane; x += MR) {
      const __m512i a0 = _mm512_maskz_loadu_epi64(rows, a + x);
      const __m512i a1 = _mm512_maskz_loadu_epi64(rows, a + a_plane + x);
      u = _mm512_add_epi64(u, _mm512_add_epi64(_mm512_popcnt_epi64(_mm512_or_si512(a0, a1)),
                                               _mm512_popcnt_epi64(a1)));
      s = _mm512_add_epi64(s, _mm512_popcnt_epi64(_mm512_and_si512(a0, a1)));
    }
    auto* out =
        reinterpret_cast<std::int64_t*>(static_cast<std::uint8_t*>(panel) + base::panel_bytes(kc));
    _mm512_mask_storeu_epi64(out, rows, u);
    _mm512_mask_storeu_epi64(out + MR, rows, s);
  }

  // The count one kernel reads (Signed: popcount(a0 AND a1), else popcount(a0 | a1) +
  // popcount(a1)) for a plane_runs_panel, into its row-term slot at [Signed ? MR : 0]; a row's
  // words one by one: conv2d's runs are short (3 x 64 codes: 3 words), where scalar popcounts
  // beat vector ones and their horizontal sums (perf, 56 x 56 x 64 3x3 layer: 6% against 9%). Once
  // per panel, but such panels are short too, so only the count the kernel needs.
  template <bool Signed>
  LOWBIT_TARGET_BPTL512 static void count_plane_runs(void* panel) noexcept {
    plane_runs_panel h;
    std::memcpy(&h, panel, sizeof h);
    const std::uint8_t* const* runs = plane_runs_panel::table(panel);
    const std::uint8_t* const* runs1 = runs + h.n_runs * MR;  // plane 1's table
    std::int64_t* out = plane_runs_panel::row_terms(panel, 2, h.n_runs, MR) + (Signed ? MR : 0);
    for (std::size_t i = 0; i < static_cast<std::size_t>(MR); ++i) {
      std::int64_t n = 0;
      for (std::size_t g = 0; g < h.n_runs; ++g) {
        const std::uint64_t* r0 = plane_words(runs[g * MR + i]);
        const std::uint64_t* r1 = plane_words(runs1[g * MR + i]);
        for (std::size_t x = 0; x < h.run_words; ++x)
          n += Signed ? static_cast<std::int64_t>(_mm_popcnt_u64(r0[x] & r1[x]))
                      : static_cast<std::int64_t>(_mm_popcnt_u64(r0[x] | r1[x]) +
                                                  _mm_popcnt_u64(r1[x]));
      }
      out[i] = n;
    }
  }
};

template <int MR, int NR, bool SW = false>
struct bitplane_tl_w2a2_avx512icl {
  static_assert(NR % 8 == 0, "8 columns per vector");
  static_assert(MR >= 1 && MR <= 8, "a chunk's rows fit one vector (the row terms)");
  static constexpr int KB = 64;  // K bits per chunk (one u64 lane)
  static constexpr int JB = NR / 8;
  // 64-bit lanes: a chunk adds at most 5 * 64 per lane, so only the driver's blocking limits kc;
  // the sum is truncated mod 2^32 at the end.
  static constexpr std::uint32_t kc_max = 1u << 20;
  // The plain w2a2 kernel of this tile: its zeroing, weight-1 chunk, doubling and store are
  // this kernel's too.
  using plain = bitplane_avx512icl<2, 2, MR, NR>;

  // The A side is the plain w2a2 kernel's (panels, packers, conv2d plane images and runs) plus
  // the row counts, which panels made from runs or assembled by conv2d get here.
  using pack_a_t = bitplane_tl_pack_a<MR>;
  static constexpr float a_pack_cycles = 0.07f;
  using pack_w_t = bitplane_tl_pack_w<NR>;
  static constexpr a_runs_contract a_runs() noexcept {
    a_runs_contract c = plain::a_runs();
    c.make = &from_runs;
    c.run = &run_plane_runs;
    c.finish = &finish_a_panel;
    return c;
  }
  static void from_runs(const a_run_table& t, std::size_t rows, void* dst) noexcept {
    if (t.kind == a_run_kind::planes) {
      keep_plane_runs(t, 2, MR, dst);
      pack_a_t::template count_plane_runs<SW>(dst);
    } else {
      pack_a_t::pack_runs(t.slot, t.n_runs, t.len, rows, dst);
    }
  }
  static void finish_a_panel(std::size_t kc, void* a_panel) noexcept {
    pack_a_t::count_panel(kc, a_panel);
  }

  LOWBIT_TARGET_BPTL512 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                        std::int32_t* c, std::size_t ldc,
                                        bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint64_t*>(a_panel);
    const auto* w = static_cast<const std::uint64_t*>(w_panel);
    const std::size_t nch = (kc + KB - 1) / KB;
    const std::size_t a_plane = nch * MR, w_plane = nch * NR;
    const auto* row = reinterpret_cast<const std::int64_t*>(a + 2 * a_plane) + (SW ? MR : 0);

    __m512i acc[MR][JB];
    plain::zero(acc);
    const std::uint64_t* a0 = a;
    const std::uint64_t* a1 = a + a_plane;
    for (std::size_t x = 0; x < nch; ++x)
      twos(
          acc, w + x * NR, w + w_plane + x * NR, [&](int i) { return a0 + x * MR + i; },
          [&](int i) { return a1 + x * MR + i; });
    plain::double_all(acc);
    for (std::size_t x = 0; x < nch; ++x)
      plain::template chunk<false>(acc, w + x * NR, [&](int i) { return a0[x * MR + i]; });
    finish(acc, w + 2 * w_plane, row, nch, c, ldc, accumulate);
  }

  // run() over a plane_runs_panel (conv2d's bit-plane image read in place, run by run).
  LOWBIT_TARGET_BPTL512 __attribute__((noinline)) static void run_plane_runs(
      std::size_t, const void* a_panel, const void* w_panel, std::int32_t* c, std::size_t ldc,
      bool accumulate) noexcept {
    plane_runs_panel h;
    const std::uint8_t* const* runs = read_plane_runs(a_panel, h);
    const auto* w = static_cast<const std::uint64_t*>(w_panel);
    const std::size_t nch = h.n_runs * h.run_words, w_plane = nch * NR;
    const std::uint8_t* const* runs1 = runs + h.n_runs * MR;  // plane 1's table
    const std::int64_t* row = plane_runs_panel::row_terms(a_panel, 2, h.n_runs, MR) + (SW ? MR : 0);

    __m512i acc[MR][JB];
    plain::zero(acc);
    const std::uint64_t* wp = w;
    for (std::size_t g = 0; g < h.n_runs; ++g) {
      const std::uint64_t* p0[MR];
      const std::uint64_t* p1[MR];
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        p0[i] = plane_words(runs[g * MR + static_cast<std::size_t>(i)]);
        p1[i] = plane_words(runs1[g * MR + static_cast<std::size_t>(i)]);
      }
      for (std::size_t x = 0; x < h.run_words; ++x, wp += NR)
        twos(
            acc, wp, wp + w_plane, [&](int i) { return p0[i] + x; },
            [&](int i) { return p1[i] + x; });
    }
    plain::double_all(acc);
    wp = w;
    for (std::size_t g = 0; g < h.n_runs; ++g) {
      const std::uint64_t* p0[MR];
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) p0[i] = plane_words(runs[g * MR + static_cast<std::size_t>(i)]);
      for (std::size_t x = 0; x < h.run_words; ++x, wp += NR)
        plain::template chunk<false>(acc, wp, [&](int i) { return p0[i][x]; });
    }
    finish(acc, w + 2 * w_plane, row, nch, c, ldc, accumulate);
  }

 private:
  // Row i's A word at p broadcast by a load the compiler may not merge with another:
  // vpternlogq overwrites its first operand, and every operand of these terms is used again
  // (the A words across columns, the W vectors across rows), so a shared value would cost a
  // register copy per term.
  LOWBIT_TARGET_BPTL512 __attribute__((always_inline)) static inline __m512i fresh_broadcast(
      const std::uint64_t* p) noexcept {
    __m512i r;
    __asm__ volatile("vpbroadcastq %1, %0" : "=v"(r) : "m"(*p));
    return r;
  }

  // The weight-2 terms of one chunk: eq3(a1, w0, w1) and eq3(w1, a0, a1) per row and column,
  // row i's A words at a0_at(i) and a1_at(i).
  template <class A0, class A1>
  LOWBIT_TARGET_BPTL512 __attribute__((always_inline)) static inline void twos(
      __m512i (&acc)[MR][JB], const std::uint64_t* w0p, const std::uint64_t* w1p, A0 a0_at,
      A1 a1_at) noexcept {
    __m512i w0[JB], w1[JB];
#pragma GCC unroll 8
    for (int j = 0; j < JB; ++j) {
      w0[j] = _mm512_load_si512(w0p + 8 * j);
      w1[j] = _mm512_load_si512(w1p + 8 * j);
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512i a1 = _mm512_set1_epi64(static_cast<long long>(*a1_at(i)));
#pragma GCC unroll 8
      for (int j = 0; j < JB; ++j) {
        const __m512i t1 = _mm512_popcnt_epi64(
            _mm512_ternarylogic_epi64(fresh_broadcast(a1_at(i)), w0[j], w1[j], 0x81));
        const __m512i t3 = _mm512_popcnt_epi64(
            _mm512_ternarylogic_epi64(fresh_broadcast(a0_at(i)), w1[j], a1, 0x81));
        acc[i][j] = _mm512_add_epi64(acc[i][j], _mm512_add_epi64(t1, t3));
      }
    }
  }

  // Adds the column and row terms; the plain kernel's store keeps the low 32 bits (mod 2^32).
  LOWBIT_TARGET_BPTL512 __attribute__((always_inline)) static inline void finish(
      __m512i (&acc)[MR][JB], const std::uint64_t* colc_words, const std::int64_t* row,
      std::size_t nch, std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    const auto* colc = reinterpret_cast<const std::int64_t*>(colc_words);
    const auto kp4 = static_cast<long long>(4 * KB * nch);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512i r = _mm512_set1_epi64((SW ? -2 : 2) * static_cast<long long>(row[i]) - kp4);
#pragma GCC unroll 8
      for (int j = 0; j < JB; ++j)
        acc[i][j] =
            _mm512_add_epi64(_mm512_add_epi64(acc[i][j], r), _mm512_loadu_si512(colc + 8 * j));
    }
    plain::store(acc, c, ldc, accumulate);
  }
};

}  // namespace bitplane
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_BPTL512

#endif  // __x86_64__
