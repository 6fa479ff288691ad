// lowbit: activation-sum lookup-table kernels on AVX-512 VBMI (vpermb, 64-entry tables).
//
// Design (see actsum_common.hpp for the tables, packers and accumulator bounds): one vpermb looks
// up 64 index bytes (64 columns, or 32 columns x 2 weight digits) in the 64-byte table of one
// (row, group of G k), so with 6 index bits it does 6 (w1), 3 (w2), 2 (w3) or 1.5 (w4, two
// digits) MACs per byte. The table comes straight from the bank as vpermb's memory operand,
// addressed by the 16-bit offset the A packer stored; the index vector is loaded once per group
// and reused by the MR rows. Per lookup: vpermb (port 5) + vpaddb into a byte accumulator, and
// every F lookups 3 ops (NDW = 1) or 2 (NDW = 2) widen the bytes into 16-bit sums.
//
// Why not vpermi2b (128 entries): it runs at half vpermb's rate (0.5/cycle here) while a 7th
// index bit adds at most 7/6 the MACs per lookup, so for activation-sum tables it never pays;
// wider cells use weight digits (w4a2) or chunked tables (w2a4) on vpermb instead.
//
// Tile MR x NR with NR = 64 (32 for two digits): MR byte accumulators + 2 * MR (or MR) 16-bit
// sums + the index vector and a temporary: 26 of the 32 zmm registers at MR = 8, no spills.
// Ceiling (lookup + add on ports 0 and 5, one vpermb per cycle): 64 * MACs per byte per cycle,
// i.e. 384 (w1), 192 (w2), 128 (w3), 96 (w4); the widening adds 3/F ops per lookup.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <type_traits>

#include "lowbit/kernels/lut/actsum_common.hpp"
#include "lowbit/kernels/lut/actsum_pack_vbmi.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_LUT_VBMI                                                                  \
  __attribute__((target(                                                                        \
      "avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx512vbmi,avx2,avx,fma,bmi2,popcnt,sse4.2," \
      "sse4.1,ssse3")))

// A += R (bytes: epi8, words: epi16) with the destination pinned to A (see run()).
#if defined(__GNUC__) && !defined(__clang__)
#define LOWBIT_LUT_ADD(T, A, R) LOWBIT_LUT_ADD_##T(A, R)
#define LOWBIT_LUT_ADD_epi8(A, R) __asm__("vpaddb {%1, %0, %0|%0, %0, %1}" : "+v"(A) : "v"(R))
#define LOWBIT_LUT_ADD_epi16(A, R) __asm__("vpaddw {%1, %0, %0|%0, %0, %1}" : "+v"(A) : "v"(R))
#else
#define LOWBIT_LUT_ADD(T, A, R) (A) = _mm512_add_##T((A), (R))
#endif

namespace lowbit {
namespace kernels {
namespace lut {

constexpr feature_set avx512vbmi_lut_features = detail::x86_avx512 | bit(cpu_feature::avx512vbmi);

// SW: the signed-weight sibling (actsum_cell::make_bank_signed): weights at offset 2^(WB-1).
template <class Cell, int MR, bool SW = false>
struct actsum_avx512vbmi {
  static constexpr int V = 64, NV = 1, NDW = Cell::digits, G = Cell::k_group;
  static constexpr int NR = V / NDW, mr = MR, nr = NR, k_step = G;
  static constexpr std::uint32_t kc_max = Cell::kc_max;
  static constexpr int F = Cell::flush_every;
  static constexpr int NCH = Cell::chunks;
  // The vector packer where it serves the cell (it validates and sums too), else the scalar one.
  using pack = std::conditional_t<actsum_pack_vbmi_serves<Cell> && MR == 8,
                                  actsum_pack_vbmi<Cell, MR, V, NV>, actsum_pack<Cell, MR, V, NV>>;
  static_assert(Cell::table_bytes == 64, "vpermb tables have 64 entries");
  static_assert(MR >= 1 && MR <= 8, "eight named accumulators");
  static_assert(!SW || Cell::signable, "signed banks: one chunk, one digit per weight");
  static constexpr int w_offset = SW ? static_cast<int>(Cell::w_offset_signed) : 0;
  static constexpr bool packed_offsets = NCH == 1 && MR == 8;
  // Built once, at compile time, for the cells whose sibling is registered.
  static constexpr typename Cell::bank_t signed_bank() noexcept {
    if constexpr (SW)
      return Cell::make_bank_signed();
    else
      return {};
  }
  static constexpr typename Cell::bank_t bank_s = signed_bank();

  LOWBIT_TARGET_LUT_VBMI static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                         std::int32_t* c, std::size_t ldc,
                                         bool accumulate) noexcept {
    const auto* ao = static_cast<const std::uint16_t*>(a_panel);
    const auto* wp = static_cast<const std::uint8_t*>(w_panel);
    const std::uint8_t* bank;
    if constexpr (SW)  // (the other bank is never emitted)
      bank = bank_s.t;
    else
      bank = Cell::bank.t;
    const std::size_t ng = Cell::groups(kc);
    const __m512i zero = _mm512_setzero_si512();

    // Every loop-carried vector is a named variable updated by LOWBIT_LUT_ADD (explicit register
    // blocking): from arrays, or with the plain intrinsics, GCC 12 computes each sum into a
    // temporary register and copies it back, one extra vmovdqa64 per lookup.
    // 16-bit sums x, y (NDW = 1) or z = x (NDW = 2), and byte accumulators a.
    __m512i x0 = zero, x1 = zero, x2 = zero, x3 = zero, x4 = zero, x5 = zero, x6 = zero, x7 = zero;
    __m512i y0 = zero, y1 = zero, y2 = zero, y3 = zero, y4 = zero, y5 = zero, y6 = zero, y7 = zero;
    __m512i a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
    const __m512i coef = _mm512_set1_epi16(static_cast<short>(((1 << Cell::digit_bits) << 8) | 1));
    // Widens row R's bytes into its 16-bit sums (see actsum_common.hpp).
#define LOWBIT_LUT_WIDEN(R, B)                                  \
  if (NDW == 1) {                                               \
    LOWBIT_LUT_ADD(epi16, x##R, B);                             \
    LOWBIT_LUT_ADD(epi16, y##R, _mm512_srli_epi16(B, 8));       \
  } else {                                                      \
    LOWBIT_LUT_ADD(epi16, x##R, _mm512_maddubs_epi16(B, coef)); \
  }
    for (std::size_t g0 = 0; g0 < ng; g0 += F) {
      const std::size_t n = ng - g0 < static_cast<std::size_t>(F) ? ng - g0 : F;
#pragma GCC unroll 1  // a peeled copy per possible trip count would undo the blocking
      for (std::size_t g = 0; g < n; ++g, ao += MR * NCH, wp += V) {
        const __m512i idx = _mm512_load_si512(wp);
        // A full tile's 8 one-chunk offsets come in two 64-bit loads and are split by shifts:
        // a zmm table load takes both of Zen 4's wide load slots, so a scalar load per row
        // would fill the third and make loads the limit.
        std::uint64_t off_lo = 0, off_hi = 0;
        if (packed_offsets) {
          std::memcpy(&off_lo, ao, 8);
          std::memcpy(&off_hi, ao + 4, 8);
        }
        // One row: its table (the sum of NCH bank tables) looked up for the tile's columns. The
        // masked vpermb with a pass-through is the plain one without GCC 12's -Wuninitialized on
        // the intrinsic's undefined operand.
        // With F = 1 (entries above 127) each lookup is widened at once.
#define LOWBIT_LUT_ROW(R)                                                                     \
  if (R < MR) {                                                                               \
    __m512i t = _mm512_load_si512(                                                            \
        bank + (packed_offsets                                                                \
                    ? static_cast<std::uint16_t>((R < 4 ? off_lo : off_hi) >> (16 * (R & 3))) \
                    : ao[R * NCH]));                                                          \
    if (NCH > 1) t = _mm512_add_epi8(t, _mm512_load_si512(bank + ao[R * NCH + 1]));           \
    if (NCH > 2) t = _mm512_add_epi8(t, _mm512_load_si512(bank + ao[R * NCH + 2]));           \
    const __m512i r = _mm512_mask_permutexvar_epi8(zero, ~__mmask64{0}, idx, t);              \
    if (F == 1) {                                                                             \
      LOWBIT_LUT_WIDEN(R, r)                                                                  \
    } else {                                                                                  \
      LOWBIT_LUT_ADD(epi8, a##R, r);                                                          \
    }                                                                                         \
  }
        LOWBIT_LUT_ROW(0)
        LOWBIT_LUT_ROW(1)
        LOWBIT_LUT_ROW(2)
        LOWBIT_LUT_ROW(3)
        LOWBIT_LUT_ROW(4)
        LOWBIT_LUT_ROW(5)
        LOWBIT_LUT_ROW(6)
        LOWBIT_LUT_ROW(7)
#undef LOWBIT_LUT_ROW
      }
      if (F > 1) {
#define LOWBIT_LUT_FLUSH(R)   \
  if (R < MR) {               \
    LOWBIT_LUT_WIDEN(R, a##R) \
    a##R = zero;              \
  }
        LOWBIT_LUT_FLUSH(0)
        LOWBIT_LUT_FLUSH(1)
        LOWBIT_LUT_FLUSH(2)
        LOWBIT_LUT_FLUSH(3)
        LOWBIT_LUT_FLUSH(4)
        LOWBIT_LUT_FLUSH(5)
        LOWBIT_LUT_FLUSH(6)
        LOWBIT_LUT_FLUSH(7)
#undef LOWBIT_LUT_FLUSH
      }
    }
#undef LOWBIT_LUT_WIDEN
    const __m512i X[8] = {x0, x1, x2, x3, x4, x5, x6, x7}, Y[8] = {y0, y1, y2, y3, y4, y5, y6, y7};

    // Widen the 16-bit column sums to int32 (less the signed bank's bias per group) and store
    // (or add to) the tile.
    const __m512i bias = _mm512_set1_epi32(static_cast<int>(SW ? Cell::signed_bias * ng : 0));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      std::int32_t* ci = c + static_cast<std::size_t>(i) * ldc;
      __m512i h[2];
      int nh = 1;
      if (NDW == 1) {
        h[0] = _mm512_sub_epi16(X[i], _mm512_slli_epi16(Y[i], 8));  // columns 0..31
        h[1] = Y[i];                                                // columns 32..63
        nh = 2;
      } else {
        h[0] = X[i];  // columns 0..31
      }
      for (int q = 0; q < nh; ++q)
        for (int half = 0; half < 2; ++half) {
          // (GCC 12 implements even the 256-bit cast as an extract with an undefined operand.)
          const __m256i s16 =
              half ? _mm512_mask_extracti64x4_epi64(_mm256_setzero_si256(), 0xFF, h[q], 1)
                   : _mm512_mask_extracti64x4_epi64(_mm256_setzero_si256(), 0xFF, h[q], 0);
          __m512i s = _mm512_mask_cvtepu16_epi32(zero, 0xFFFF, s16);
          if (SW) s = _mm512_sub_epi32(s, bias);
          std::int32_t* cp = ci + 32 * q + 16 * half;
          if (accumulate) s = _mm512_add_epi32(s, _mm512_loadu_si512(cp));
          _mm512_storeu_si512(cp, s);
        }
    }
  }
};

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_LUT_ADD
#undef LOWBIT_LUT_ADD_epi8
#undef LOWBIT_LUT_ADD_epi16

#endif  // __x86_64__
