// lowbit: activation-sum lookup-table kernels on AVX2 (vpshufb ymm, 16-entry tables).
//
// Design (see actsum_common.hpp for the tables, packers and accumulator bounds): 4 index bits
// per byte (4 k of 1-bit or 2 k of 2-bit weights), so 4 (w1) or 2 (w2) MACs per looked-up byte.
// The 16-byte table of one (row, group) is broadcast to both lanes straight from the bank
// (vbroadcasti128 is a pure load), addressed by the 16-bit offset the A packer stored, and reused
// for the NV index vectors of the tile; each index vector is loaded once per group and reused by
// the MR rows. Per lookup: vpshufb (ports 1, 5) + vpaddb (ports 0, 1, 5); every F lookups 3 ops
// widen the bytes into 16-bit sums, which live on the stack (16 ymm registers hold only the
// byte accumulators, indices and the table).
//
// Tile 4 x 64 (NV = 2): 8 byte accumulators + 2 index vectors + table + temporary = 12 ymm.
// Ceiling (lookup + add on three ports, two lookups per cycle): 48 bytes per cycle times the MACs
// per byte, 192 (w1) and 96 (w2), less 3/F ops per lookup for widening.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/lut/actsum_common.hpp"
#include "lowbit/kernels/lut/actsum_pack_sse41.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_LUT_AVX2 \
  __attribute__((target("avx2,avx,fma,bmi2,popcnt,sse4.2,sse4.1,ssse3")))

// acc += r on bytes with the destination pinned to the accumulator (see the loop below).
#if defined(__GNUC__) && !defined(__clang__)
#define LOWBIT_LUT_ADD8(A, R) __asm__("vpaddb {%1, %0, %0|%0, %0, %1}" : "+x"(A) : "x"(R))
#else
#define LOWBIT_LUT_ADD8(A, R) (A) = _mm256_add_epi8((A), (R))
#endif

namespace lowbit {
namespace kernels {
namespace lut {

constexpr feature_set avx2_lut_features = detail::x86_avx2;

template <class Cell, int MR>
struct actsum_avx2 {
  static constexpr int NV = 2;  // two index vectors per group (named accumulators below)
  static constexpr int V = 32, NDW = Cell::digits, G = Cell::k_group;
  static constexpr int NR = NV * V / NDW, mr = MR, nr = NR, k_step = G;
  static constexpr std::uint32_t kc_max = Cell::kc_max;
  static constexpr int F = Cell::flush_every;
  using pack = actsum_pack_sse41<Cell, MR, V, NV>;  // vector packer, validates and sums
  static_assert(Cell::table_bytes == 16 && Cell::chunks == 1, "pshufb tables: 16 entries");
  static_assert(MR >= 1 && MR <= 6, "six rows of named accumulators");

  LOWBIT_TARGET_LUT_AVX2 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                         std::int32_t* c, std::size_t ldc,
                                         bool accumulate) noexcept {
    const auto* ao = static_cast<const std::uint16_t*>(a_panel);
    const auto* wp = static_cast<const __m256i*>(w_panel);
    const std::uint8_t* bank = Cell::bank.t;
    const std::size_t ng = Cell::groups(kc);
    const __m256i zero = _mm256_setzero_si256();

    // 16-bit sums X, Y (NDW = 1) or Z = X (NDW = 2); touched once per F groups.
    __m256i X[MR][NV], Y[MR][NV];
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < NV; ++v) X[i][v] = Y[i][v] = zero;

    // Byte accumulators as named variables, updated by LOWBIT_LUT_ADD8 (explicit register
    // blocking): from an array, or with the plain intrinsic, GCC 12 computes each sum into the
    // lookup's register and copies it back, one extra move per lookup.
    __m256i a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero,
            a31 = zero, a40 = zero, a41 = zero, a50 = zero, a51 = zero;
    for (std::size_t g0 = 0; g0 < ng; g0 += F) {
      const std::size_t n = ng - g0 < static_cast<std::size_t>(F) ? ng - g0 : F;
#pragma GCC unroll 1  // a peeled copy per possible trip count would undo the blocking
      for (std::size_t g = 0; g < n; ++g, ao += MR, wp += NV) {
        const __m256i i0 = _mm256_load_si256(wp), i1 = _mm256_load_si256(wp + 1);
        // One row: its table, looked up for the tile's two index vectors.
#define LOWBIT_LUT_ROW(R)                                                \
  if (R < MR) {                                                          \
    const __m256i t = _mm256_broadcastsi128_si256(                       \
        _mm_load_si128(reinterpret_cast<const __m128i*>(bank + ao[R]))); \
    LOWBIT_LUT_ADD8(a##R##0, _mm256_shuffle_epi8(t, i0));                \
    LOWBIT_LUT_ADD8(a##R##1, _mm256_shuffle_epi8(t, i1));                \
  }
        LOWBIT_LUT_ROW(0)
        LOWBIT_LUT_ROW(1)
        LOWBIT_LUT_ROW(2)
        LOWBIT_LUT_ROW(3)
        LOWBIT_LUT_ROW(4)
        LOWBIT_LUT_ROW(5)
#undef LOWBIT_LUT_ROW
      }
      const __m256i acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21},
                                 {a30, a31}, {a40, a41}, {a50, a51}};
      if (NDW == 1) {
        for (int i = 0; i < MR; ++i)
          for (int v = 0; v < NV; ++v) {
            X[i][v] = _mm256_add_epi16(X[i][v], acc[i][v]);
            Y[i][v] = _mm256_add_epi16(Y[i][v], _mm256_srli_epi16(acc[i][v], 8));
          }
      } else {
        const __m256i coef =
            _mm256_set1_epi16(static_cast<short>(((1 << Cell::digit_bits) << 8) | 1));
        for (int i = 0; i < MR; ++i)
          for (int v = 0; v < NV; ++v)
            X[i][v] = _mm256_add_epi16(X[i][v], _mm256_maddubs_epi16(acc[i][v], coef));
      }
      a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = a40 = a41 = a50 = a51 = zero;
    }

    // Widen the 16-bit column sums to int32 and store (or add to) the tile.
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < NV; ++v) {
        std::int32_t* cp = c + static_cast<std::size_t>(i) * ldc + v * (V / NDW);
        __m256i h[2];
        int nh = 1;
        if (NDW == 1) {
          h[0] = _mm256_sub_epi16(X[i][v], _mm256_slli_epi16(Y[i][v], 8));  // columns 0..15
          h[1] = Y[i][v];                                                   // columns 16..31
          nh = 2;
        } else {
          h[0] = X[i][v];  // columns 0..15
        }
        for (int q = 0; q < nh; ++q)
          for (int half = 0; half < 2; ++half) {
            const __m128i s16 =
                half ? _mm256_extracti128_si256(h[q], 1) : _mm256_castsi256_si128(h[q]);
            __m256i s = _mm256_cvtepu16_epi32(s16);
            auto* p = reinterpret_cast<__m256i*>(cp + 16 * q + 8 * half);
            if (accumulate) s = _mm256_add_epi32(s, _mm256_loadu_si256(p));
            _mm256_storeu_si256(p, s);
          }
      }
  }
};

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_LUT_ADD8

#endif  // __x86_64__
