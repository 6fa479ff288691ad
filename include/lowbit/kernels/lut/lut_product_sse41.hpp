// lowbit: product lookup-table kernels (DeepGEMM) on SSSE3 + SSE4.1: pshufb xmm, 16 entries
// (w + a <= 4 bits).
//
// Design (see product_common.hpp for the table, packers and accumulators): 16 consecutive k of one
// row (a << WB) and one column (w) per xmm; index = a | w, one pshufb in the product table gives
// 16 products of one output (i, j), added into its byte accumulator. pshufb overwrites its table
// operand, so each lookup works on a copy (an eliminated register move). Every F lookups psadbw
// widens the bytes into 64-bit lane sums kept on the stack; each (i, j)'s lanes are summed once
// per call. (SSE4.1 is part of the level, not needed by the code.)
//
// Tile 2 x 4: 8 byte accumulators + 2 A vectors + W + table + temporaries: 14 of the 16 xmm
// registers. Per lookup por + pshufb + paddb on three ports: ceiling 16 MAC/cycle. These exist to
// be measured against the activation-sum kernels (lut_actsum_sse41.hpp), which reuse one table
// per row for the whole tile and do 2 or 4 MACs per looked-up byte.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/lut/product_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_LUTP_SSE41 __attribute__((target("ssse3,sse4.1")))

// A += R on bytes with the destination pinned to A: with the plain intrinsic GCC 12 computes the
// sum into the lookup's register and copies it back, one extra movdqa per lookup.
#if defined(__GNUC__) && !defined(__clang__)
#define LOWBIT_LUTP_ADD8(A, R) __asm__("paddb {%1, %0|%0, %1}" : "+x"(A) : "x"(R))
#else
#define LOWBIT_LUTP_ADD8(A, R) (A) = _mm_add_epi8((A), (R))
#endif

namespace lowbit {
namespace kernels {
namespace lut {

constexpr feature_set sse41_lutp_features = features(cpu_feature::ssse3, cpu_feature::sse41);

template <class Cell>
struct product_sse41 {
  static constexpr int V = 16, MR = 2, NR = 4, mr = MR, nr = NR, k_step = V;
  static constexpr int F = Cell::flush_every;
  static_assert(Cell::index_bits <= 4, "16-entry tables");
  using pack = product_pack<Cell, MR, NR, V>;
  static constexpr std::uint32_t kc_max = pack::kc_max;
  static constexpr auto table = Cell::template make_table<16>();

  LOWBIT_TARGET_LUTP_SSE41 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                           std::int32_t* c, std::size_t ldc,
                                           bool accumulate) noexcept {
    const auto* ap = static_cast<const __m128i*>(a_panel);
    const auto* wp = static_cast<const __m128i*>(w_panel);
    const std::size_t nb = pack::blocks(kc);
    const __m128i zero = _mm_setzero_si128();
    const __m128i tab = _mm_load_si128(reinterpret_cast<const __m128i*>(table.t));
    alignas(16) std::uint64_t sum[MR * NR][2];  // 64-bit lane sums, written by the first flush

    // Byte accumulators as named variables (explicit register blocking; see LOWBIT_LUTP_ADD8).
    __m128i a00 = zero, a01 = zero, a02 = zero, a03 = zero, a10 = zero, a11 = zero, a12 = zero,
            a13 = zero;
    // At least one pass (kc >= 1), so the first flush initialises every lane sum.
    std::size_t b0 = 0;
    do {
      const std::size_t n = nb - b0 < static_cast<std::size_t>(F) ? nb - b0 : F;
#pragma GCC unroll 1  // a peeled copy per possible trip count would undo the blocking
      for (std::size_t b = 0; b < n; ++b, ap += MR, wp += NR) {
        const __m128i x0 = _mm_load_si128(ap), x1 = _mm_load_si128(ap + 1);
        // Column J: its 16 k of w, looked up with each row's a.
#define LOWBIT_LUTP_COL(J)                                               \
  {                                                                      \
    const __m128i w = _mm_load_si128(wp + J);                            \
    LOWBIT_LUTP_ADD8(a0##J, _mm_shuffle_epi8(tab, _mm_or_si128(x0, w))); \
    LOWBIT_LUTP_ADD8(a1##J, _mm_shuffle_epi8(tab, _mm_or_si128(x1, w))); \
  }
        LOWBIT_LUTP_COL(0)
        LOWBIT_LUTP_COL(1)
        LOWBIT_LUTP_COL(2)
        LOWBIT_LUTP_COL(3)
#undef LOWBIT_LUTP_COL
      }
      // Widen: 8 bytes of each accumulator into each 64-bit lane sum.
#define LOWBIT_LUTP_FLUSH(I, J)                                            \
  {                                                                        \
    auto* s = reinterpret_cast<__m128i*>(sum[I * NR + J]);                 \
    const __m128i d = _mm_sad_epu8(a##I##J, zero);                         \
    _mm_store_si128(s, b0 == 0 ? d : _mm_add_epi64(_mm_load_si128(s), d)); \
    a##I##J = zero;                                                        \
  }
      LOWBIT_LUTP_FLUSH(0, 0)
      LOWBIT_LUTP_FLUSH(0, 1)
      LOWBIT_LUTP_FLUSH(0, 2)
      LOWBIT_LUTP_FLUSH(0, 3)
      LOWBIT_LUTP_FLUSH(1, 0)
      LOWBIT_LUTP_FLUSH(1, 1)
      LOWBIT_LUTP_FLUSH(1, 2)
      LOWBIT_LUTP_FLUSH(1, 3)
#undef LOWBIT_LUTP_FLUSH
      b0 += F;
    } while (b0 < nb);

    // Each output's 2 lane sums, truncated to 32 bits (the contract's wrap-around): per row, a
    // transpose-and-add of its NR = 4 outputs' lane vectors.
    static_assert(NR == 4, "four outputs per row reduce into one 128-bit vector");
    for (int i = 0; i < MR; ++i) {
      const __m128i s[4] = {_mm_load_si128(reinterpret_cast<const __m128i*>(sum[i * NR])),
                            _mm_load_si128(reinterpret_cast<const __m128i*>(sum[i * NR + 1])),
                            _mm_load_si128(reinterpret_cast<const __m128i*>(sum[i * NR + 2])),
                            _mm_load_si128(reinterpret_cast<const __m128i*>(sum[i * NR + 3]))};
      // 64-bit lanes of outputs 0..3 -> 32-bit lanes (only the low halves matter) -> the four
      // sums.
      const __m128i t01 = _mm_blend_epi16(s[0], _mm_slli_epi64(s[1], 32), 0xCC);
      const __m128i t23 = _mm_blend_epi16(s[2], _mm_slli_epi64(s[3], 32), 0xCC);
      __m128i r = _mm_add_epi32(_mm_unpacklo_epi64(t01, t23), _mm_unpackhi_epi64(t01, t23));
      auto* out = reinterpret_cast<__m128i*>(c + static_cast<std::size_t>(i) * ldc);
      if (accumulate) r = _mm_add_epi32(r, _mm_loadu_si128(out));
      _mm_storeu_si128(out, r);
    }
  }
};

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_LUTP_ADD8

#endif  // __x86_64__
