// lowbit: activation-sum lookup-table kernels for NEON (Armv7-A NEON and Armv8-A ASIMD).
//
// T-MAC's idea rather than DeepGEMM's product table: for one row of A and a group of 4 values of
// K, a 16-entry table holds T[x] = sum_t bit_t(x) * a[k + t], every subset sum of the 4
// activations. Bit plane p of 4 weights of one column is a 4-bit index x, and T[x] is their 4
// MACs for that plane: one TBL serves 16 columns x 4 MACs. The tables are built by the A packer
// (the driver packs an A block once and reuses it across every column tile), so the kernel only
// looks them up: per 8 values of K, per row and weight plane, 2 TBL + 2 ADD for 128 MACs.
// AArch64 looks up with TBL (vqtbl1q_u8), Armv7 with two VTBL.8 over a D-register pair
// (vtbl2_u8). Cells w1a1, w1a2, w2a1, w2a2; beyond, the table entries and the plane count grow
// and the int8 kernels win.
//
// Layout, per 8 values of K: A: per row, the two tables (K 0-3, K 4-7), 32 bytes. W: per weight
// plane, 16 bytes, one per column: low nibble = the plane's bits of K 0-3, high nibble = K 4-7.
//
// Bounds: a table entry is <= 4 * amax, so one 8-K step adds <= 8 * amax to a u8 lane of a plane
// accumulator; it is widened into u16 every F = floor(255 / (8 * amax)) steps (a1: 31, a2: 10).
// Each value of K adds <= wmax * amax = m to a u16 lane (planes weighted 2^p), so kc_max =
// floor(65535 / m) rounded down to 8: w1a1 65528, w1a2 and w2a1 21840, w2a2 7280.
#pragma once

#if defined(__ARM_NEON) || defined(__ARM_NEON__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/neon/neon_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace neon {

template <int MR>
struct lut_actsum_a_packer {
  static std::size_t panel_bytes(std::size_t kc) noexcept { return (kc + 7) / 8 * MR * 32; }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));  // padding rows: all-zero tables
    for (std::size_t k0 = 0; k0 < kc; k0 += 8, out += MR * 32)
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t g = 0; g < 2; ++g) {
          std::uint8_t v[4] = {0, 0, 0, 0};  // K beyond kc counts as a = 0
          for (std::size_t t = 0; t < 4; ++t)
            if (k0 + 4 * g + t < kc) v[t] = u[r * ldu + k0 + 4 * g + t];
          std::uint8_t* table = out + r * 32 + g * 16;
          for (unsigned x = 0; x < 16; ++x)
            table[x] = static_cast<std::uint8_t>(((x & 1) ? v[0] : 0) + ((x & 2) ? v[1] : 0) +
                                                 ((x & 4) ? v[2] : 0) + ((x & 8) ? v[3] : 0));
        }
  }
};

template <int WB>
struct lut_actsum_w_packer {
  static std::size_t panel_bytes(std::size_t kc) noexcept { return (kc + 7) / 8 * WB * 16; }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));  // padding columns and K: index 0, T[0] = 0
    for (std::size_t k0 = 0; k0 < kc; k0 += 8, out += WB * 16)
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t t = 0; t < 8 && k0 + t < kc; ++t)
          for (int p = 0; p < WB; ++p)
            out[p * 16 + r] |= static_cast<std::uint8_t>(((u[r * ldu + k0 + t] >> p) & 1u) << t);
  }
};

template <int WB, int AB, int MR>
struct lut_actsum_kernel {
  static_assert(WB >= 1 && WB <= 2 && AB >= 1 && AB <= 2, "cells w1a1..w2a2");
  static constexpr int NR = 16, KS = 8;
  static constexpr unsigned amax = (1u << AB) - 1, wmax = (1u << WB) - 1;
  static constexpr unsigned flush_every = 255u / (8u * amax);  // see the file comment
  static constexpr std::uint32_t kc_max = 65535u / (wmax * amax) / 8u * 8u;
  using pack_a_t = lut_actsum_a_packer<MR>;
  using pack_w_t = lut_actsum_w_packer<WB>;

  // Estimate (model in dot_neon.hpp: two ASIMD ops per cycle, loads not counted). Per step:
  // per row and plane 2 lookups + 2 ADD; per plane AND + USHR for the nibbles; per flush, per
  // row and plane, 2 (p + 1) UADDW. A lookup is one TBL on AArch64, two VTBL on Armv7.
#if defined(__aarch64__)
  static constexpr float tbl_ops = 1.0f;
#else
  static constexpr float tbl_ops = 2.0f;
#endif
  static constexpr float ops = MR * WB * 2.0f * (tbl_ops + 1.0f) + 2.0f * WB +
                               MR * (WB == 1 ? 2.0f : 6.0f) / static_cast<float>(flush_every);
  static constexpr float macs_per_cycle = 2.0f * KS * NR * MR / ops;

  // The u16 lanes gain plane p's u8 accumulator 2^p times (UADDW / UADDW2 per half).
  static inline void widen(uint16x8_t& lo, uint16x8_t& hi, uint8x16_t acc) noexcept {
    lo = vaddw_u8(lo, vget_low_u8(acc));
#if defined(__aarch64__)
    hi = vaddw_high_u8(hi, acc);
#else
    hi = vaddw_u8(hi, vget_high_u8(acc));
#endif
  }

  // The tables of rows r and r + 1 (64 adjacent bytes): one 4-register LD1 on AArch64.
  static inline void load_tables2(const std::uint8_t* a, uint8x16_t* t) noexcept {
#if defined(__aarch64__)
    const uint8x16x4_t v = vld1q_u8_x4(a);
    t[0] = v.val[0], t[1] = v.val[1], t[2] = v.val[2], t[3] = v.val[3];
#else
    t[0] = vld1q_u8(a), t[1] = vld1q_u8(a + 16), t[2] = vld1q_u8(a + 32), t[3] = vld1q_u8(a + 48);
#endif
  }

  // Every loop over rows and planes is unrolled, so that the accumulators stay in registers (a
  // rolled loop over an array makes GCC keep it on the stack). The K loop runs in blocks of at
  // most flush_every steps, each block starting from zeroed u8 accumulators and ending with
  // their widening, so the step loop itself has no flush test.
  static void run(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                  std::size_t ldc, bool accumulate) noexcept {
    static_assert(MR % 2 == 0, "tables are loaded two rows at a time");
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const uint8x16_t low_nibble = vdupq_n_u8(0x0F);
    uint16x8_t lo[MR], hi[MR];  // columns 0-7 and 8-15
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) lo[i] = hi[i] = vdupq_n_u16(0);
    std::size_t steps = (kc + KS - 1) / KS;
    while (steps != 0) {
      std::size_t block = steps < flush_every ? steps : flush_every;
      steps -= block;
      uint8x16_t acc[MR][WB];  // one u8 accumulator per row and weight plane
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
        for (int p = 0; p < WB; ++p) acc[i][p] = vdupq_n_u8(0);
      do {
        uint8x16_t idx0[WB], idx1[WB];
#pragma GCC unroll 2
        for (int p = 0; p < WB; ++p) {
          const uint8x16_t v = vld1q_u8(w + p * 16);
          idx0[p] = vandq_u8(v, low_nibble);
          idx1[p] = vshrq_n_u8(v, 4);
        }
#pragma GCC unroll 4
        for (int i = 0; i < MR; i += 2) {
          uint8x16_t t[4];  // row i: t[0] (K 0-3), t[1] (K 4-7); row i + 1: t[2], t[3]
          load_tables2(a + i * 32, t);
#pragma GCC unroll 2
          for (int r = 0; r < 2; ++r)
#pragma GCC unroll 2
            for (int p = 0; p < WB; ++p) {
              acc[i + r][p] = vaddq_u8(acc[i + r][p], lookup16(t[2 * r], idx0[p]));
              acc[i + r][p] = vaddq_u8(acc[i + r][p], lookup16(t[2 * r + 1], idx1[p]));
            }
        }
        a += MR * 32;
        w += WB * 16;
      } while (--block != 0);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
        for (int p = 0; p < WB; ++p)
#pragma GCC unroll 2
          for (int times = 0; times < (1 << p); ++times) widen(lo[i], hi[i], acc[i][p]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i, c += ldc) {
      store4(c, vmovl_u16(vget_low_u16(lo[i])), accumulate);
      store4(c + 4, vmovl_u16(vget_high_u16(lo[i])), accumulate);
      store4(c + 8, vmovl_u16(vget_low_u16(hi[i])), accumulate);
      store4(c + 12, vmovl_u16(vget_high_u16(hi[i])), accumulate);
    }
  }
};

// Tiles: 4x16 on AArch64; 2x16 on Armv7 (16 Q registers: 4-8 accumulators, 2-4 index vectors).
#if defined(__aarch64__)
#define LOWBIT_NEON_LUT_TILE "_4x16c8__neon"
#else
#define LOWBIT_NEON_LUT_TILE "_2x16c8__neon"
#endif

inline ukernel_list lut_ukernels() noexcept {
#define LOWBIT_NEON_LUT(w, a)                                                                \
  neon_desc<lut_actsum_kernel<w, a, tile_mr>>("lut_actsum_w" #w "a" #a LOWBIT_NEON_LUT_TILE, \
                                              algorithm::lut_actsum, w, a, tile_mr, 16)
  static const ukernel_desc list[] = {
      LOWBIT_NEON_LUT(1, 1),
      LOWBIT_NEON_LUT(1, 2),
      LOWBIT_NEON_LUT(2, 1),
      LOWBIT_NEON_LUT(2, 2),
  };
#undef LOWBIT_NEON_LUT
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_NEON_LUT_TILE

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#endif  // NEON
