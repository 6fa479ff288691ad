// lowbit: 64-entry activation-sum lookup-table kernels for AArch64 (TBL with four registers).
//
// The 16-entry kernels of lut_neon.hpp index a table with 4 weight bits; AArch64's TBL also
// takes a table of four registers (vqtbl4q_u8: 64 bytes, indices 0-63), so an index can hold 6
// weight bits, as the x86 vpermb kernels (lut_avx512vbmi.hpp (actsum_nv1)) do:
//
//   w1: the bits of 6 one-bit weights, T[x] = sum_{t<6} bit_t(x) * a[k + t];
//   w2: 3 two-bit weights (x = w0 | w1 << 2 | w2 << 4), T[x] = sum_{t<3} w_t(x) * a[k + t].
//
// For one row of A and one K group (6 values for w1, 3 for w2) the A packer builds the 64 sums,
// and one TBL gives 16 columns their whole contribution of that group. w2 thus needs no weight
// planes: the weights' values are in the table. Per step of 12 values of K (G = 2 groups for
// w1, 4 for w2), per row and 16 columns: G lookups + G byte ADDs for 16 x 12 MACs, against the
// 16-entry kernels' 2 W lookups + 2 W ADDs per 16 x 8 MACs. The price is in the A panel: 64
// bytes per group and row, one LD1 of four registers per table, so the tile is 32 columns wide
// (each table loaded once serves two lookups), and the packer builds 64 entries per 6 (w1) or 3
// (w2) activations instead of 16 per 4.
//
// Layout, per step of 12 values of K: A: per row, G tables of 64 bytes (group g = K 6g..6g+5
// for w1, 3g..3g+2 for w2), G * 64 bytes per row. W: per group, 32 bytes, one per column: the
// 6-bit index of that column's weights of the group. K beyond kc: a = 0 in the tables and index
// 0 in W (T[0] = 0 anyway).
//
// Tile 4 x 32: 16 u16 and 8 u8 accumulators, 2G index vectors and a 4-register table; for w2
// (8 index vectors) GCC keeps 8 of the u16 accumulators on the stack across the K blocks (8
// loads and stores per block). Instruction counts under QEMU (docs/arm-insn-count.md) put 4 x 32
// below 4 x 16 and 2 x 32 in every cell all the same, and below 3 x 32 where it was counted.
//
// Bound: every value of K adds at most m = wmax * amax to a column (a table entry is the sum of
// the group's weight x activation products), so one 12-K step adds <= 12 m to a u8 lane of a
// row's accumulator. The u8 accumulators are widened into u16 lanes every
// F = floor(255 / (12 m)) steps: w1a1 21, w1a2 and w2a1 7, w2a2 2 (12 x 9 x 2 = 216 <= 255).
// A u16 lane holds the sum over all of kc, <= kc x m, so kc_max = floor(65535 / m) rounded down
// to a multiple of 12: w1a1 65532, w1a2 and w2a1 21840, w2a2 7272.
#pragma once

#if defined(__aarch64__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/neon/lut_neon.hpp"
#include "lowbit/kernels/neon/neon_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace neon {

// Per weight width: K values per 6-bit index (group) and groups per 12-K step.
template <int WB>
struct tbl4_groups {
  static_assert(WB == 1 || WB == 2, "6 index bits: 6 one-bit or 3 two-bit weights");
  static constexpr int k_per_group = 6 / WB;
  static constexpr int groups = 12 / k_per_group;
};

template <int WB, int MR>
struct lut_tbl4_a_packer {
  static constexpr int KG = tbl4_groups<WB>::k_per_group, G = tbl4_groups<WB>::groups;
  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return (kc + 11) / 12 * static_cast<std::size_t>(MR * G * 64);
  }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));  // padding rows: all-zero tables
    constexpr unsigned field = (1u << WB) - 1;
    for (std::size_t k0 = 0; k0 < kc; k0 += 12, out += MR * G * 64)
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t g = 0; g < G; ++g) {
          unsigned v[KG] = {};  // K beyond kc counts as a = 0
          for (std::size_t t = 0; t < KG; ++t)
            if (k0 + g * KG + t < kc) v[t] = u[r * ldu + k0 + g * KG + t];
          std::uint8_t* table = out + (r * G + g) * 64;
          for (unsigned x = 0; x < 64; ++x) {
            unsigned s = 0;
            for (int t = 0; t < KG; ++t) s += ((x >> (WB * t)) & field) * v[t];
            table[x] = static_cast<std::uint8_t>(s);  // <= 6 x 3 or 3 x 3 x 3: fits
          }
        }
  }
};

template <int WB, int NR>
struct lut_tbl4_w_packer {
  static constexpr int KG = tbl4_groups<WB>::k_per_group, G = tbl4_groups<WB>::groups;
  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return (kc + 11) / 12 * static_cast<std::size_t>(G * NR);
  }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));  // padding columns and K: index 0, T[0] = 0
    for (std::size_t k0 = 0; k0 < kc; k0 += 12, out += G * NR)
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t t = 0; t < 12 && k0 + t < kc; ++t)
          out[t / KG * NR + r] |= static_cast<std::uint8_t>((u[r * ldu + k0 + t] & ((1u << WB) - 1))
                                                            << (WB * (t % KG)));
  }
};

template <int WB, int AB, int MR, int NR>
struct lut_tbl4_kernel {
  static_assert(AB >= 1 && AB <= 2, "cells w1a1..w2a2");
  static_assert(NR == 32, "two index vectors per group (G x 2 = 4 or 8: whole LD1 x4)");
  static constexpr int KS = 12, G = tbl4_groups<WB>::groups, NH = NR / 16;
  static constexpr unsigned m = ((1u << WB) - 1) * ((1u << AB) - 1);
  static constexpr unsigned flush_every = 255u / (12u * m);  // see the file comment
  static constexpr std::uint32_t kc_max = 65535u / m / 12u * 12u;
  static_assert(flush_every >= 1, "a step must fit a u8 lane");
  using pack_a_t = lut_tbl4_a_packer<WB, MR>;
  using pack_w_t = lut_tbl4_w_packer<WB, NR>;

  // Dispatch's figure from executed instructions per MAC under QEMU (bench/arm/insn-count
  // -K 528, per call, a K both k steps divide; docs/arm-insn-count.md), not from the op model of
  // lut_neon.hpp, which would count a 4-register TBL as one op like a 1-register one (no core
  // promises that) and leaves out the table loads (15-20% of this loop).
  static constexpr float insn_per_mac_16 =
      WB == 1 ? (AB == 1 ? 0.0525f : 0.0549f) : (AB == 1 ? 0.0922f : 0.0975f);
  static constexpr float insn_per_mac_64 =
      WB == 1 ? (AB == 1 ? 0.0312f : 0.0334f) : (AB == 1 ? 0.0643f : 0.0733f);
  // Two scalings, the smaller one used: the 16-entry kernel's figure times the count ratio
  // (w1a1 94.4, w1a2 89.6, w2a1 39.9, w2a2 35.5), and the UDOT kernel's 32 times the UDOT /
  // 64-entry count ratio, 32 x 0.0743 / insn_per_mac_64 (w1a1 76.2, w1a2 71.2, w2a1 37.0, w2a2
  // 32.4). The second is the smaller in every cell.
  static constexpr float from_lut16 =
      lut_actsum_kernel<WB, AB, 4>::macs_per_cycle * insn_per_mac_16 / insn_per_mac_64;
  static constexpr float from_udot = 32.0f * 0.0743f / insn_per_mac_64;
  static constexpr float from_counts = from_lut16 < from_udot ? from_lut16 : from_udot;
  // Instruction counts weigh a 4-register TBL and LD1 like one-register ones. llvm-mca's cycle
  // estimates (bench/arm/mca, docs/arm-mca.md) put these kernels behind the 16-entry ones for
  // w2 on every core model it has, so the figure is also capped at the 16-entry kernel's rate
  // times its cycles / these cycles on the model most favourable to these kernels
  // (cortex-a53; marginal cycles per MAC, 16-entry over 64-entry). The cap binds for w2 only:
  // w2a1 23.8, w2a2 22.1 (below the 16-entry 27.8 and 26.7); w1 keeps 76.2 and 71.2, above
  // the 16-entry kernels as the in-order models have it (the A57 and apple-m1 models do not:
  // their profiles in core_profile.hpp rank them by those models' cycles).
  static constexpr float a53_cycle_ratio = WB == 1
                                               ? (AB == 1 ? 0.0942f / 0.0682f : 0.0977f / 0.0710f)
                                               : (AB == 1 ? 0.1097f / 0.1285f : 0.1160f / 0.1400f);
  static constexpr float from_cycles =
      lut_actsum_kernel<WB, AB, 4>::macs_per_cycle * a53_cycle_ratio;
  static constexpr float macs_per_cycle = from_counts < from_cycles ? from_counts : from_cycles;
  // A packing per activation: 64 table bytes per 6 (w1) or 3 (w2) values of K against the
  // 16-entry packer's 16 per 4, so its 0.25 cycles scaled by the bytes built.
  static constexpr float a_pack_cycles = 0.25f * (64.0f * WB / 6.0f) / (16.0f / 4.0f);

  // Every loop over rows and groups is unrolled, so that the accumulators stay in registers. K
  // runs in blocks of at most flush_every steps, each starting from zeroed u8 accumulators and
  // ending with their widening, so the step loop has no flush test.
  static void run(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                  std::size_t ldc, bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    uint16x8_t lo[MR][NH], hi[MR][NH];  // columns 16h + 0-7 and 16h + 8-15
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
      for (int h = 0; h < NH; ++h) lo[i][h] = hi[i][h] = vdupq_n_u16(0);
    std::size_t steps = (kc + KS - 1) / KS;
    while (steps != 0) {
      std::size_t block = steps < flush_every ? steps : flush_every;
      steps -= block;
      uint8x16_t acc[MR][NH];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
        for (int h = 0; h < NH; ++h) acc[i][h] = vdupq_n_u8(0);
      do {
        uint8x16_t idx[G * NH];  // group g, columns 16h..16h+15: idx[g * NH + h]
#pragma GCC unroll 2
        for (int q = 0; q < G * NH; q += 4) {
          const uint8x16x4_t v = vld1q_u8_x4(w + q * 16);
          idx[q] = v.val[0], idx[q + 1] = v.val[1], idx[q + 2] = v.val[2], idx[q + 3] = v.val[3];
        }
        // The tables in panel order through one pointer: LD1 of four registers has no offset
        // form, only post-increment. Left to itself GCC turns the unrolled a += 64 into one
        // base + constant per table (an ADD each); the empty asm hides the increments' sum from
        // it, so every load becomes LD1 {..}, [a], #64.
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
          for (int g = 0; g < G; ++g) {
            const uint8x16x4_t table = vld1q_u8_x4(a);
#pragma GCC unroll 2
            for (int h = 0; h < NH; ++h)
              acc[i][h] = vaddq_u8(acc[i][h], vqtbl4q_u8(table, idx[g * NH + h]));
            a += 64;
            __asm__("" : "+r"(a));
          }
        w += G * NR;
      } while (--block != 0);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
        for (int h = 0; h < NH; ++h) {
          lo[i][h] = vaddw_u8(lo[i][h], vget_low_u8(acc[i][h]));
          hi[i][h] = vaddw_high_u8(hi[i][h], acc[i][h]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i, c += ldc)
#pragma GCC unroll 2
      for (int h = 0; h < NH; ++h) {
        store4(c + 16 * h, vmovl_u16(vget_low_u16(lo[i][h])), accumulate);
        store4(c + 16 * h + 4, vmovl_u16(vget_high_u16(lo[i][h])), accumulate);
        store4(c + 16 * h + 8, vmovl_u16(vget_low_u16(hi[i][h])), accumulate);
        store4(c + 16 * h + 12, vmovl_u16(vget_high_u16(hi[i][h])), accumulate);
      }
  }
};

constexpr int lut_tbl4_mr = 4, lut_tbl4_nr = 32;

template <int WB, int AB, int MR = lut_tbl4_mr, int NR = lut_tbl4_nr>
constexpr ukernel_desc lut_tbl4_desc(const char* name) noexcept {
  using K = lut_tbl4_kernel<WB, AB, MR, NR>;  // its a_pack_cycles is read by describe_kernel
  return describe_kernel<K>(name, algorithm::lut_actsum, bit(cpu_feature::neon), WB, AB, MR, NR,
                            K::KS, K::kc_max, K::macs_per_cycle);
}

inline ukernel_list lut_tbl4_ukernels() noexcept {
#define LOWBIT_NEON_LUT64(w, a) lut_tbl4_desc<w, a>("lut_actsum_w" #w "a" #a "_4x32c12__neon64")
  static const ukernel_desc list[] = {
      LOWBIT_NEON_LUT64(1, 1),
      LOWBIT_NEON_LUT64(1, 2),
      LOWBIT_NEON_LUT64(2, 1),
      LOWBIT_NEON_LUT64(2, 2),
  };
#undef LOWBIT_NEON_LUT64
  return {list, sizeof(list) / sizeof(list[0])};
}

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#endif  // __aarch64__
