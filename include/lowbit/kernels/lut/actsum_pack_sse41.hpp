// lowbit: the activation-sum A packer for 16-entry tables (k-pairs and k-quads) in vector code.
//
// The scalar packer (actsum_common.hpp) spends about 1.5 cycles per activation code, as much as
// the AVX2 w2a2 kernel spends on 64 columns: at N = 64..128 packing decided whether the tables
// could beat the int8 kernel at all. Here one pmaddubsw turns a row's k-pairs into table offsets
// (16 * (u0 + 2^AB * u1) in one 16-bit lane; k-quads take a pmaddwd more), and a 16-bit transpose
// interleaves MR rows into the panel's (group, row) order: about 0.15 cycle per code in whole
// GEMMs, reading A from L3 included (perf: 5-12% of AVX2 w2a2 calls at N = 64..128).
//
// 128-bit SSSE3/SSE4.1 code, so the SSE4.1, AVX2 and AVX-512BW kernels share one packer (their
// features include SSE4.1).
//
// pack_checked also validates and sums as it reads (ukernel_desc::pack_a_checked): the GEMM
// driver then skips its separate pass over the block's rows. Offsets computed from an invalid
// code are garbage, but the driver never runs a kernel on a panel the packer flagged.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/lut/actsum_common.hpp"
#include "lowbit/kernels/lut/lut_targets_x86.hpp"

#define LOWBIT_TARGET_ACTSUM_PACK __attribute__((target(LOWBIT_LUT_TARGET_SSE41)))

namespace lowbit {
namespace kernels {
namespace lut {

template <class Cell, int MR, int V, int NV>
struct actsum_pack_sse41 : actsum_pack<Cell, MR, V, NV> {
  using base = actsum_pack<Cell, MR, V, NV>;
  static constexpr int G = Cell::k_group, AB = Cell::a_bits;
  static_assert(Cell::table_bytes == 16 && Cell::chunks == 1, "one 16-entry table per group");
  static_assert(G == 2 || G == 4, "k-pairs or k-quads");
  static_assert(MR == 4 || MR == 8, "a 4- or 8-row 16-bit transpose");
  // Groups per step: one 8-lane vector of offsets per row, from 8 * G codes.
  static constexpr std::size_t step_groups = 8, step_codes = step_groups * G;

  LOWBIT_TARGET_ACTSUM_PACK static void pack_a(const std::uint8_t* u, std::size_t ldu,
                                               std::size_t rows, std::size_t kc,
                                               void* dst) noexcept {
    pack_rows<false>(u, ldu, rows, kc, dst, nullptr);
  }

  // pack_a that returns whether any byte has a bit of `high` and adds each row's u-code sum to
  // sums[r] (exact when it returns false).
  LOWBIT_TARGET_ACTSUM_PACK static bool pack_checked(const std::uint8_t* u, std::size_t ldu,
                                                     std::size_t rows, std::size_t kc, void* dst,
                                                     std::uint32_t* sums,
                                                     std::uint8_t high) noexcept {
    const unsigned any = pack_rows<true>(u, ldu, rows, kc, dst, sums);
    return (any & high) != 0;
  }

 private:
  // Row r's offsets for groups [g, g + 8) as 8 lanes of 16 bits. Valid codes give at most
  // 16 * 255: no lane saturates.
  LOWBIT_TARGET_ACTSUM_PACK static inline __m128i offsets(__m128i v0, __m128i v1) noexcept {
    if constexpr (G == 2) {
      (void)v1;
      // 16 * u0 + 16 * 2^AB * u1 for each byte pair.
      return _mm_maddubs_epi16(v0, _mm_set1_epi16(static_cast<short>(((16 << AB) << 8) | 16)));
    } else {
      // (u0 + 2^AB u1) + 2^(2 AB) (u2 + 2^AB u3), times 16: pairs, then pairs of pairs.
      const __m128i c1 = _mm_set1_epi16(static_cast<short>(((1 << AB) << 8) | 1));
      const __m128i c2 = _mm_set1_epi32((16 << (2 * AB)) << 16 | 16);
      const __m128i q0 = _mm_madd_epi16(_mm_maddubs_epi16(v0, c1), c2);
      const __m128i q1 = _mm_madd_epi16(_mm_maddubs_epi16(v1, c1), c2);
      return _mm_packus_epi32(q0, q1);
    }
  }

  // Stores 8 groups of MR rows (x[r] = row r's 8 offsets) in (group, row) order.
  LOWBIT_TARGET_ACTSUM_PACK static inline void store_transposed(const __m128i* x,
                                                                std::uint16_t* out) noexcept {
    auto* o = reinterpret_cast<__m128i*>(out);
    if constexpr (MR == 4) {
      // Words: rows (0, 1) and (2, 3) per group, then 32-bit pairs: two groups per vector.
      const __m128i a0 = _mm_unpacklo_epi16(x[0], x[1]), a1 = _mm_unpackhi_epi16(x[0], x[1]);
      const __m128i b0 = _mm_unpacklo_epi16(x[2], x[3]), b1 = _mm_unpackhi_epi16(x[2], x[3]);
      _mm_storeu_si128(o + 0, _mm_unpacklo_epi32(a0, b0));  // groups 0, 1
      _mm_storeu_si128(o + 1, _mm_unpackhi_epi32(a0, b0));  // groups 2, 3
      _mm_storeu_si128(o + 2, _mm_unpacklo_epi32(a1, b1));  // groups 4, 5
      _mm_storeu_si128(o + 3, _mm_unpackhi_epi32(a1, b1));  // groups 6, 7
    } else {
      __m128i a[8], b[8];
      for (int j = 0; j < 4; ++j) {  // (rows 2j, 2j + 1) of groups 0-3 and 4-7
        a[2 * j] = _mm_unpacklo_epi16(x[2 * j], x[2 * j + 1]);
        a[2 * j + 1] = _mm_unpackhi_epi16(x[2 * j], x[2 * j + 1]);
      }
      for (int h = 0; h < 2; ++h) {  // (rows 0-3) and (rows 4-7) of two groups each
        b[4 * h + 0] = _mm_unpacklo_epi32(a[h], a[2 + h]);
        b[4 * h + 1] = _mm_unpackhi_epi32(a[h], a[2 + h]);
        b[4 * h + 2] = _mm_unpacklo_epi32(a[4 + h], a[6 + h]);
        b[4 * h + 3] = _mm_unpackhi_epi32(a[4 + h], a[6 + h]);
      }
      for (int h = 0; h < 2; ++h)  // one group of 8 rows per vector
        for (int q = 0; q < 2; ++q) {
          _mm_storeu_si128(o + 4 * h + 2 * q, _mm_unpacklo_epi64(b[4 * h + q], b[4 * h + 2 + q]));
          _mm_storeu_si128(o + 4 * h + 2 * q + 1,
                           _mm_unpackhi_epi64(b[4 * h + q], b[4 * h + 2 + q]));
        }
    }
  }

  // The loop of both: 8 groups of the MR rows per step, then the K tail in scalar code. Checked
  // adds each row's byte sums (psadbw) to sums[r] and returns the OR of every byte read.
  template <bool Checked>
  LOWBIT_TARGET_ACTSUM_PACK static inline unsigned pack_rows(const std::uint8_t* u, std::size_t ldu,
                                                             std::size_t rows, std::size_t kc,
                                                             void* dst,
                                                             std::uint32_t* sums) noexcept {
    auto* out = static_cast<std::uint16_t*>(dst);
    const std::size_t nv = kc / step_codes;
    const __m128i zero = _mm_setzero_si128();
    __m128i any = zero, total[MR];
    for (int r = 0; r < MR; ++r) total[r] = zero;
    for (std::size_t s = 0; s < nv; ++s, out += step_groups * MR) {
      __m128i x[MR];
      for (int r = 0; r < MR; ++r) {
        if (static_cast<std::size_t>(r) >= rows) {  // padding rows: code 0, the zero table
          x[r] = zero;
          continue;
        }
        const std::uint8_t* p = u + static_cast<std::size_t>(r) * ldu + s * step_codes;
        const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i v1 =
            G == 4 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)) : zero;
        x[r] = offsets(v0, v1);
        if constexpr (Checked) {
          any = _mm_or_si128(any, _mm_or_si128(v0, v1));
          total[r] = _mm_add_epi64(total[r],
                                   _mm_add_epi64(_mm_sad_epu8(v0, zero), _mm_sad_epu8(v1, zero)));
        }
      }
      store_transposed(x, out);
    }
    unsigned any_tail = 0;
    if constexpr (Checked) {
      any = _mm_or_si128(any, _mm_srli_si128(any, 8));
      any = _mm_or_si128(any, _mm_srli_si128(any, 4));
      any = _mm_or_si128(any, _mm_srli_si128(any, 2));
      any = _mm_or_si128(any, _mm_srli_si128(any, 1));
      any_tail = static_cast<unsigned>(_mm_cvtsi128_si32(any)) & 0xFFu;
      for (std::size_t r = 0; sums != nullptr && r < rows; ++r) {  // (nullptr: validation only)
        const __m128i t = total[r];
        sums[r] += static_cast<std::uint32_t>(_mm_cvtsi128_si64(t)) +
                   static_cast<std::uint32_t>(_mm_extract_epi64(t, 1));
      }
    }
    // The last kc % (8 G) codes: whole groups of the panel's layout, so the scalar packer writes
    // them; Checked reads them once more for the OR and the sums.
    const std::size_t k0 = nv * step_codes;
    if (k0 < kc) {
      base::pack_a(u + k0, ldu, rows, kc - k0, out);
      if constexpr (Checked)
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t k = k0; k < kc; ++k) {
            any_tail |= u[r * ldu + k];
            if (sums != nullptr) sums[r] += u[r * ldu + k];
          }
    }
    return any_tail;
  }
};

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_ACTSUM_PACK

#endif  // __x86_64__
