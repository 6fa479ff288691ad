// lowbit: product lookup-table kernels (DeepGEMM) on AVX-512BW: vpshufb zmm, 16 entries
// (w + a <= 4 bits).
//
// Design (see product_common.hpp for the table, packers and accumulators): 64 consecutive k of one
// row (a << WB) and one column (w) per zmm; index = a | w, one vpshufb in the product table
// (broadcast to the four lanes, one register) gives 64 products of one output (i, j), added into
// its byte accumulator. Every F lookups vpsadbw widens the bytes into 64-bit lane sums kept on the
// stack; each (i, j)'s lanes are summed once per call.
//
// Tile 4 x 4: 16 byte accumulators + 4 A vectors + W + table + index and lookup temporaries: 25 of
// the 32 zmm registers. Per lookup vpord + vpshufb + vpaddb on ports 0 and 5: ceiling
// 64 * 2 / 3 = 42.7 MAC/cycle. These exist to be measured against the activation-sum kernels
// (lut_actsum_avx512bw.hpp), which reuse one table per row for the whole tile and do 2 or 4 MACs
// per looked-up byte.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/lut/product_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_LUTP_AVX512BW                                                                \
  __attribute__((                                                                                  \
      target("avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx2,avx,fma,bmi2,popcnt,sse4.2,sse4.1," \
             "ssse3")))

// A += R on bytes with the destination pinned to A: with the plain intrinsic GCC 12 computes the
// sum into the lookup's register and copies it back, one extra vmovdqa64 per lookup.
#if defined(__GNUC__) && !defined(__clang__)
#define LOWBIT_LUTP_ADD8(A, R) __asm__("vpaddb {%1, %0, %0|%0, %0, %1}" : "+v"(A) : "v"(R))
#else
#define LOWBIT_LUTP_ADD8(A, R) (A) = _mm512_add_epi8((A), (R))
#endif

namespace lowbit {
namespace kernels {
namespace lut {

constexpr feature_set avx512bw_lutp_features = detail::x86_avx512;

template <class Cell>
struct product_avx512bw {
  static constexpr int V = 64, MR = 4, NR = 4, mr = MR, nr = NR, k_step = V;
  static_assert(Cell::index_bits <= 4, "16-entry tables");
  static constexpr int F = Cell::flush_every;
  using pack = product_pack<Cell, MR, NR, V>;
  static constexpr std::uint32_t kc_max = pack::kc_max;
  static constexpr auto table = Cell::template make_table<16>();

  LOWBIT_TARGET_LUTP_AVX512BW static void run(std::size_t kc, const void* a_panel,
                                              const void* w_panel, std::int32_t* c, std::size_t ldc,
                                              bool accumulate) noexcept {
    const auto* ap = static_cast<const __m512i*>(a_panel);
    const auto* wp = static_cast<const __m512i*>(w_panel);
    const std::size_t nb = pack::blocks(kc);
    const __m512i zero = _mm512_setzero_si512();
    // The masked broadcast with a pass-through is the plain one without GCC 12's
    // -Wuninitialized on the intrinsic's undefined operand.
    const __m512i tab = _mm512_mask_broadcast_i32x4(
        zero, 0xFFFF, _mm_load_si128(reinterpret_cast<const __m128i*>(table.t)));
    alignas(64) std::uint64_t sum[MR * NR][8];  // 64-bit lane sums, written by the first flush

    // Byte accumulators as named variables (explicit register blocking; see LOWBIT_LUTP_ADD8).
    __m512i a00 = zero, a01 = zero, a02 = zero, a03 = zero, a10 = zero, a11 = zero, a12 = zero,
            a13 = zero, a20 = zero, a21 = zero, a22 = zero, a23 = zero, a30 = zero, a31 = zero,
            a32 = zero, a33 = zero;
    // At least one pass (kc >= 1), so the first flush initialises every lane sum.
    std::size_t b0 = 0;
    do {
      const std::size_t n = nb - b0 < static_cast<std::size_t>(F) ? nb - b0 : F;
#pragma GCC unroll 1  // a peeled copy per possible trip count would undo the blocking
      for (std::size_t b = 0; b < n; ++b, ap += MR, wp += NR) {
        const __m512i x0 = _mm512_load_si512(ap), x1 = _mm512_load_si512(ap + 1),
                      x2 = _mm512_load_si512(ap + 2), x3 = _mm512_load_si512(ap + 3);
        // Column J: its 64 k of w, looked up with each row's a.
#define LOWBIT_LUTP_LOOK(I, J) \
  LOWBIT_LUTP_ADD8(a##I##J, _mm512_shuffle_epi8(tab, _mm512_or_si512(x##I, w)));
#define LOWBIT_LUTP_COL(J)                       \
  {                                              \
    const __m512i w = _mm512_load_si512(wp + J); \
    LOWBIT_LUTP_LOOK(0, J)                       \
    LOWBIT_LUTP_LOOK(1, J)                       \
    LOWBIT_LUTP_LOOK(2, J)                       \
    LOWBIT_LUTP_LOOK(3, J)                       \
  }
        LOWBIT_LUTP_COL(0)
        LOWBIT_LUTP_COL(1)
        LOWBIT_LUTP_COL(2)
        LOWBIT_LUTP_COL(3)
#undef LOWBIT_LUTP_COL
#undef LOWBIT_LUTP_LOOK
      }
      // Widen: 8 bytes of each accumulator into each 64-bit lane sum.
#define LOWBIT_LUTP_FLUSH(I, J)                                                     \
  {                                                                                 \
    auto* s = reinterpret_cast<__m512i*>(sum[I * NR + J]);                          \
    const __m512i d = _mm512_sad_epu8(a##I##J, zero);                               \
    _mm512_store_si512(s, b0 == 0 ? d : _mm512_add_epi64(_mm512_load_si512(s), d)); \
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
      LOWBIT_LUTP_FLUSH(2, 0)
      LOWBIT_LUTP_FLUSH(2, 1)
      LOWBIT_LUTP_FLUSH(2, 2)
      LOWBIT_LUTP_FLUSH(2, 3)
      LOWBIT_LUTP_FLUSH(3, 0)
      LOWBIT_LUTP_FLUSH(3, 1)
      LOWBIT_LUTP_FLUSH(3, 2)
      LOWBIT_LUTP_FLUSH(3, 3)
#undef LOWBIT_LUTP_FLUSH
      b0 += F;
    } while (b0 < nb);

    // Each output's 8 lane sums, truncated to 32 bits (the contract's wrap-around): per row, a
    // transpose-and-add of its NR = 4 outputs' lane vectors.
    static_assert(NR == 4, "four outputs per row reduce into one 128-bit vector");
    for (int i = 0; i < MR; ++i) {
      const __m512i s[4] = {_mm512_load_si512(reinterpret_cast<const __m512i*>(sum[i * NR])),
                            _mm512_load_si512(reinterpret_cast<const __m512i*>(sum[i * NR + 1])),
                            _mm512_load_si512(reinterpret_cast<const __m512i*>(sum[i * NR + 2])),
                            _mm512_load_si512(reinterpret_cast<const __m512i*>(sum[i * NR + 3]))};
      // 64-bit lanes of outputs 0..3 -> 32-bit lanes (only the low halves matter) -> one 128-bit
      // lane of the four sums. The masked forms with a zero pass-through are the plain ones
      // without GCC 12's -Wuninitialized on the intrinsics' undefined operands.
      const __m512i z = _mm512_setzero_si512();
      const __m512i t01 =
          _mm512_mask_blend_epi32(0xAAAA, s[0], _mm512_mask_slli_epi64(z, 0xFF, s[1], 32));
      const __m512i t23 =
          _mm512_mask_blend_epi32(0xAAAA, s[2], _mm512_mask_slli_epi64(z, 0xFF, s[3], 32));
      __m512i u = _mm512_add_epi32(_mm512_mask_unpacklo_epi64(z, 0xFF, t01, t23),
                                   _mm512_mask_unpackhi_epi64(z, 0xFF, t01, t23));
      u = _mm512_add_epi32(u, _mm512_mask_shuffle_i32x4(z, 0xFFFF, u, u, 0x4E));  // other half
      u = _mm512_add_epi32(u, _mm512_mask_shuffle_i32x4(z, 0xFFFF, u, u, 0xB1));  // next lane
      __m128i r = _mm512_mask_extracti32x4_epi32(_mm_setzero_si128(), 0xF, u, 0);
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
