// lowbit: int8 dot-product kernels for Armv8.2-A dotprod (UDOT), AArch64 only.
//
// UDOT (by element) adds, to each u32 lane of the accumulator, the dot product of 4 u8 of W (one
// column, 4 values of K) with 4 u8 of A (one row, broadcast from a lane of the A register): 16
// MACs per instruction with no narrow intermediate, so every cell up to w8a8 is served and kc is
// unbounded (u32 lanes wrap modulo 2^32, the contract's arithmetic).
//
// Layout (XNNPACK's "c4"): K in groups of 4; per group, MR rows x 4 bytes of A, NR columns x 4
// bytes of W. Tile 8x8: 16 accumulators, 2 A + 2 W registers per group, 16 UDOT per 4 loads.
//
// The translation unit stays Armv8.0 (the baseline must run on a Cortex-A53): only run() is
// compiled for armv8.2-a+dotprod, and dispatch selects it only when the CPU reports dotprod.
#pragma once

#if defined(__aarch64__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/neon/dot_neon.hpp"
#include "lowbit/kernels/neon/neon_common.hpp"
#include "lowbit/kernels/neon/neon_ext.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace neon {

// macs_per_cycle: estimate on the model of dot_neon.hpp (two 128-bit ASIMD ops per cycle, loads
// not counted): 16 UDOT per 256 MACs -> 32.
struct dot_udot_8x8c4 : rowblock_8x8<4> {
  static constexpr const char* name = "dot_w8a8_8x8c4__neondot";
  static constexpr feature_set features =
      lowbit::features(cpu_feature::neon, cpu_feature::neon_dotprod);
  static constexpr float macs_per_cycle = 32.0f;

  // One group of 4 values of K: a0 = rows 0-3, a1 = rows 4-7, w0 = columns 0-3, w1 = 4-7.
  LOWBIT_NEON_TARGET_DOTPROD static inline void group(uint32x4_t (&acc)[MR][2], uint8x16_t a0,
                                                      uint8x16_t a1, uint8x16_t w0,
                                                      uint8x16_t w1) noexcept {
    acc[0][0] = LOWBIT_UDOT_LANEQ(acc[0][0], w0, a0, 0);
    acc[0][1] = LOWBIT_UDOT_LANEQ(acc[0][1], w1, a0, 0);
    acc[1][0] = LOWBIT_UDOT_LANEQ(acc[1][0], w0, a0, 1);
    acc[1][1] = LOWBIT_UDOT_LANEQ(acc[1][1], w1, a0, 1);
    acc[2][0] = LOWBIT_UDOT_LANEQ(acc[2][0], w0, a0, 2);
    acc[2][1] = LOWBIT_UDOT_LANEQ(acc[2][1], w1, a0, 2);
    acc[3][0] = LOWBIT_UDOT_LANEQ(acc[3][0], w0, a0, 3);
    acc[3][1] = LOWBIT_UDOT_LANEQ(acc[3][1], w1, a0, 3);
    acc[4][0] = LOWBIT_UDOT_LANEQ(acc[4][0], w0, a1, 0);
    acc[4][1] = LOWBIT_UDOT_LANEQ(acc[4][1], w1, a1, 0);
    acc[5][0] = LOWBIT_UDOT_LANEQ(acc[5][0], w0, a1, 1);
    acc[5][1] = LOWBIT_UDOT_LANEQ(acc[5][1], w1, a1, 1);
    acc[6][0] = LOWBIT_UDOT_LANEQ(acc[6][0], w0, a1, 2);
    acc[6][1] = LOWBIT_UDOT_LANEQ(acc[6][1], w1, a1, 2);
    acc[7][0] = LOWBIT_UDOT_LANEQ(acc[7][0], w0, a1, 3);
    acc[7][1] = LOWBIT_UDOT_LANEQ(acc[7][1], w1, a1, 3);
  }

  // The main loop takes two groups (8 values of K) per iteration: one 4-register LD1 for A and
  // one for W (64 bytes each, the two groups are adjacent in the panels), then 32 UDOT. 16
  // accumulators + 8 operands = 24 of the 32 vector registers. An odd last group runs alone.
  LOWBIT_NEON_TARGET_DOTPROD static void run(std::size_t kc, const void* a_panel,
                                             const void* w_panel, std::int32_t* c, std::size_t ldc,
                                             bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    // acc[i][h]: row i, columns 4h..4h+3. The loops over acc are unrolled so that it stays in
    // registers (a rolled loop makes GCC keep the array on the stack).
    uint32x4_t acc[MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = vdupq_n_u32(0);
    std::size_t groups = (kc + KS - 1) / KS;
    for (; groups >= 2; groups -= 2, a += 2 * MR * KS, w += 2 * NR * KS) {
      const uint8x16x4_t va = vld1q_u8_x4(a), vw = vld1q_u8_x4(w);
      group(acc, va.val[0], va.val[1], vw.val[0], vw.val[1]);
      group(acc, va.val[2], va.val[3], vw.val[2], vw.val[3]);
    }
    if (groups != 0) group(acc, vld1q_u8(a), vld1q_u8(a + 16), vld1q_u8(w), vld1q_u8(w + 16));
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i, c += ldc) {
      store4(c, acc[i][0], accumulate);
      store4(c + 4, acc[i][1], accumulate);
    }
  }
};

inline ukernel_list dotprod_ukernels() noexcept { return one_kernel_family<dot_udot_8x8c4>(); }

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#endif  // __aarch64__
