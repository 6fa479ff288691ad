// lowbit: product lookup-table kernels (DeepGEMM) on AVX2: vpshufb ymm, 16 entries
// (w + a <= 4 bits), the setting of DeepGEMM's paper.
//
// Design (see product_common.hpp for the table, packers and accumulators): 32 consecutive k of one
// row (a << WB) and one column (w) per ymm; index = a | w, one vpshufb in the product table
// (both lanes, one register) gives 32 products of one output (i, j), added into its byte
// accumulator. Every F lookups vpsadbw widens the bytes into 64-bit lane sums kept on the stack;
// each (i, j)'s lanes are summed once per call.
//
// Tile 2 x 4: 8 byte accumulators + 2 A vectors + W + table + index and lookup temporaries: 14 of
// the 16 ymm registers. Per lookup vpor + vpshufb + vpaddb on three ports: ceiling 32 MAC/cycle.
// These exist to be measured against the activation-sum kernels (lut_actsum_avx2.hpp), which
// reuse one table per row for the whole tile and do 2 or 4 MACs per looked-up byte.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/lut/product_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_LUTP_AVX2 \
  __attribute__((target("avx2,avx,fma,bmi2,popcnt,sse4.2,sse4.1,ssse3")))

// A += R on bytes with the destination pinned to A: with the plain intrinsic GCC 12 computes the
// sum into the lookup's register and copies it back, one extra vmovdqa per lookup.
#if defined(__GNUC__) && !defined(__clang__)
#define LOWBIT_LUTP_ADD8(A, R) __asm__("vpaddb {%1, %0, %0|%0, %0, %1}" : "+x"(A) : "x"(R))
#else
#define LOWBIT_LUTP_ADD8(A, R) (A) = _mm256_add_epi8((A), (R))
#endif

namespace lowbit {
namespace kernels {
namespace lut {

constexpr feature_set avx2_lutp_features = detail::x86_avx2;

template <class Cell>
struct product_avx2 {
  static constexpr int V = 32, MR = 2, NR = 4, mr = MR, nr = NR, k_step = V;
  static constexpr int F = Cell::flush_every;
  static_assert(Cell::index_bits <= 4, "16-entry tables");
  using pack = product_pack<Cell, MR, NR, V>;
  static constexpr std::uint32_t kc_max = pack::kc_max;
  static constexpr auto table = Cell::template make_table<16>();

  LOWBIT_TARGET_LUTP_AVX2 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                          std::int32_t* c, std::size_t ldc,
                                          bool accumulate) noexcept {
    const auto* ap = static_cast<const __m256i*>(a_panel);
    const auto* wp = static_cast<const __m256i*>(w_panel);
    const std::size_t nb = pack::blocks(kc);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i tab =
        _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(table.t)));
    alignas(32) std::uint64_t sum[MR * NR][4];  // 64-bit lane sums, written by the first flush

    // Byte accumulators as named variables (explicit register blocking; see LOWBIT_LUTP_ADD8).
    __m256i a00 = zero, a01 = zero, a02 = zero, a03 = zero, a10 = zero, a11 = zero, a12 = zero,
            a13 = zero;
    // At least one pass (kc >= 1), so the first flush initialises every lane sum.
    std::size_t b0 = 0;
    do {
      const std::size_t n = nb - b0 < static_cast<std::size_t>(F) ? nb - b0 : F;
#pragma GCC unroll 1  // a peeled copy per possible trip count would undo the blocking
      for (std::size_t b = 0; b < n; ++b, ap += MR, wp += NR) {
        const __m256i x0 = _mm256_load_si256(ap), x1 = _mm256_load_si256(ap + 1);
        // Column J: its 32 k of w, looked up with each row's a.
#define LOWBIT_LUTP_COL(J)                                                     \
  {                                                                            \
    const __m256i w = _mm256_load_si256(wp + J);                               \
    LOWBIT_LUTP_ADD8(a0##J, _mm256_shuffle_epi8(tab, _mm256_or_si256(x0, w))); \
    LOWBIT_LUTP_ADD8(a1##J, _mm256_shuffle_epi8(tab, _mm256_or_si256(x1, w))); \
  }
        LOWBIT_LUTP_COL(0)
        LOWBIT_LUTP_COL(1)
        LOWBIT_LUTP_COL(2)
        LOWBIT_LUTP_COL(3)
#undef LOWBIT_LUTP_COL
      }
      // Widen: 8 bytes of each accumulator into each 64-bit lane sum.
#define LOWBIT_LUTP_FLUSH(I, J)                                                     \
  {                                                                                 \
    auto* s = reinterpret_cast<__m256i*>(sum[I * NR + J]);                          \
    const __m256i d = _mm256_sad_epu8(a##I##J, zero);                               \
    _mm256_store_si256(s, b0 == 0 ? d : _mm256_add_epi64(_mm256_load_si256(s), d)); \
    a##I##J = zero;                                                                 \
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

    // Each output's 4 lane sums, truncated to 32 bits (the contract's wrap-around): per row, a
    // transpose-and-add of its NR = 4 outputs' lane vectors.
    static_assert(NR == 4, "four outputs per row reduce into one 128-bit vector");
    for (int i = 0; i < MR; ++i) {
      const __m256i s[4] = {_mm256_load_si256(reinterpret_cast<const __m256i*>(sum[i * NR])),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(sum[i * NR + 1])),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(sum[i * NR + 2])),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(sum[i * NR + 3]))};
      // 64-bit lanes of outputs 0..3 -> 32-bit lanes (only the low halves matter) -> one 128-bit
      // lane of the four sums.
      const __m256i t01 = _mm256_blend_epi32(s[0], _mm256_slli_epi64(s[1], 32), 0xAA);
      const __m256i t23 = _mm256_blend_epi32(s[2], _mm256_slli_epi64(s[3], 32), 0xAA);
      const __m256i u =
          _mm256_add_epi32(_mm256_unpacklo_epi64(t01, t23), _mm256_unpackhi_epi64(t01, t23));
      __m128i r = _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
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
