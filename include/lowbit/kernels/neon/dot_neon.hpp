// lowbit: int8 dot-product kernels for baseline NEON (Armv7-A NEON, Armv8-A ASIMD), no dotprod.
//
// u-codes stay one per byte. For each (row, column) pair a 16-byte load of each operand covers 16
// values of K: UMULL/UMLAL multiply 8 u8 pairs into u16 lanes, and UADALP folds pairs of u16
// lanes into a u32x4 accumulator, reduced across lanes once per tile. They serve every cell up to
// w8a8 on both architectures (the fallback below dotprod), so kc is unbounded: the u32 lanes wrap
// modulo 2^32, which is exactly the contract's arithmetic.
//
// The narrow step is the u16 lane: L products are summed in it (one UMULL then L-1 UMLAL) before
// UADALP widens it, so L * wmax * amax must stay <= 65535:
//   L = 1: 255 * 255 = 65025            -> w8a8
//   L = 2: 2 * 255 * 127 = 64770        -> w8a7 and w7a8 (one UADALP per 16 K instead of two)
//   L = 4: 4 * 127 * 127 = 64516        -> w7a7 and below (one UADALP per 32 K)
// Tiles: 4x4 on AArch64 (16 accumulators of its 32 registers); 2x4 on Armv7, which has 16 Q
// registers (8 accumulators, 2-4 A rows, one W row and a product at a time).
#pragma once

#if defined(__ARM_NEON) || defined(__ARM_NEON__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/neon/neon_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace neon {

template <int MR, int NR, int L>
struct dot_widen {
  static_assert(L == 1 || L == 2 || L == 4, "products per u16 lane");
  static constexpr int KS = L == 4 ? 32 : 16;  // K per step: one or two 16-byte loads per row
  using pack_a_t = rowblock_packer<MR, KS>;
  using pack_w_t = rowblock_packer<NR, KS>;

  // Registers live in the K loop: the accumulators, the A rows of the step, the current and the
  // next W column (loaded ahead) and two u16 products. Armv7 (16 Q registers) loads W columns
  // ahead only when that fits.
  static constexpr int loads = KS / 16;  // 16-byte loads per row or column and step
  static constexpr bool w_ahead = MR * NR + MR * loads + 2 * loads + 2 <= q_registers;

  // Every loop over rows and columns is unrolled, so that the MR x NR accumulators stay in
  // registers through the K loop (neon_common.hpp: fill, pin, store_reduced); a barrier
  // (schedule_barrier) between the columns of a step.
  static void run(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                  std::size_t ldc, bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    uint32x4_t acc[MR][NR];
    fill(acc, vdupq_n_u32(0));

    for (std::size_t k = 0; k < kc; k += KS, a += MR * KS, w += NR * KS) {
      uint8x16_t va[MR][loads];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
        for (int h = 0; h < loads; ++h) va[i][h] = vld1q_u8(a + i * KS + h * 16);
      uint8x16_t next[loads];
      if (w_ahead) {
#pragma GCC unroll 2
        for (int h = 0; h < loads; ++h) next[h] = vld1q_u8(w + h * 16);
      }
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) {
        uint8x16_t vw[loads];
#pragma GCC unroll 2
        for (int h = 0; h < loads; ++h) vw[h] = w_ahead ? next[h] : vld1q_u8(w + j * KS + h * 16);
        if (w_ahead && j + 1 < NR) {
#pragma GCC unroll 2
          for (int h = 0; h < loads; ++h) next[h] = vld1q_u8(w + (j + 1) * KS + h * 16);
        }
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
          if (L == 4) {
            uint16x8_t p = vmull_u8(vget_low_u8(va[i][0]), vget_low_u8(vw[0]));
            p = mlal_high(p, va[i][0], vw[0]);
            p = vmlal_u8(p, vget_low_u8(va[i][loads - 1]), vget_low_u8(vw[loads - 1]));
            p = mlal_high(p, va[i][loads - 1], vw[loads - 1]);
            acc[i][j] = vpadalq_u16(acc[i][j], p);
          } else {
            const uint16x8_t lo = vmull_u8(vget_low_u8(va[i][0]), vget_low_u8(vw[0]));
            if (L == 2) {
              acc[i][j] = vpadalq_u16(acc[i][j], mlal_high(lo, va[i][0], vw[0]));
            } else {
              acc[i][j] = vpadalq_u16(acc[i][j], lo);
              acc[i][j] = vpadalq_u16(acc[i][j], mull_high(va[i][0], vw[0]));
            }
          }
        }
        schedule_barrier();
      }
    }
    pin(acc);
    store_reduced(
        c, ldc, acc, accumulate, [](uint32x4_t v) __attribute__((always_inline)) { return v; });
  }
};

template <class K>
constexpr ukernel_desc dot_desc(const char* name, feature_set f, int wb, int ab, int mr, int nr,
                                float mpc) noexcept {
  // u32 accumulators wrap modulo 2^32 (the contract), so no bound beyond the u16 step.
  return describe_kernel<K>(name, algorithm::dot_i8, f, wb, ab, mr, nr, K::KS, 1u << 30, mpc);
}

// The 8 x 8 tile of the extension kernels (UDOT, UMMLA) on the rowblock layout, KS values of K
// a block.
template <int KS_>
struct rowblock_8x8 {
  static constexpr int MR = 8, NR = 8, KS = KS_;
  using pack_a_t = rowblock_packer<MR, KS>;
  using pack_w_t = rowblock_packer<NR, KS>;
};

// The family of one w8a8 kernel K that names itself, its features and its rate (K::name,
// K::features, K::macs_per_cycle): the dotprod and i8mm families.
template <class K>
inline ukernel_list one_kernel_family() noexcept {
  static const ukernel_desc list[] = {
      dot_desc<K>(K::name, K::features, 8, 8, K::MR, K::NR, K::macs_per_cycle)};
  return {list, 1};
}

// macs_per_cycle: an estimate, not a measurement (no Arm hardware here; QEMU timings mean
// nothing). Model: a core issuing two 128-bit ASIMD operations per cycle (Cortex-A76 /
// Neoverse-N1 class; loads go to separate pipes and are not counted), so estimate = MACs per
// inner-loop ASIMD arithmetic operation x 2. Per 16 MACs of one (row, column) pair:
//   L = 1: 2 UMULL + 2 UADALP = 4 ops -> 8;  L = 2: 3 ops -> 10.7;  L = 4: 2.5 ops -> 12.8.
// See docs/arm.md for every family's figures on the same model.
using dot_w8a8 = dot_widen<tile_mr, 4, 1>;
using dot_w8a7 = dot_widen<tile_mr, 4, 2>;
using dot_w7a7 = dot_widen<tile_mr, 4, 4>;
#if defined(__aarch64__)
#define LOWBIT_NEON_DOT_NAME(w, a, ks) "dot_w" #w "a" #a "_4x4c" #ks "__neon"
#else
#define LOWBIT_NEON_DOT_NAME(w, a, ks) "dot_w" #w "a" #a "_2x4c" #ks "__neon"
#endif

inline ukernel_list dot_ukernels() noexcept {
  constexpr feature_set f = bit(cpu_feature::neon);
  static const ukernel_desc list[] = {
      dot_desc<dot_w8a8>(LOWBIT_NEON_DOT_NAME(8, 8, 16), f, 8, 8, tile_mr, 4, 8.0f),
      // w8a7 and w7a8 are the same code: the u16 bound only involves the product of maxima.
      dot_desc<dot_w8a7>(LOWBIT_NEON_DOT_NAME(8, 7, 16), f, 8, 7, tile_mr, 4, 10.7f),
      dot_desc<dot_w8a7>(LOWBIT_NEON_DOT_NAME(7, 8, 16), f, 7, 8, tile_mr, 4, 10.7f),
      dot_desc<dot_w7a7>(LOWBIT_NEON_DOT_NAME(7, 7, 32), f, 7, 7, tile_mr, 4, 12.8f),
  };
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_NEON_DOT_NAME

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#endif  // NEON
