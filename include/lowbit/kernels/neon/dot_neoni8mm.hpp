// lowbit: int8 matrix-multiply kernels for the Armv8.6-A i8mm extension (UMMLA), AArch64 only.
//
// UMMLA multiplies a 2x8 block of u8 (two rows of A, 8 values of K) by the transpose of another
// 2x8 block (two columns of W, the same 8 values of K) and adds the 2x2 product, as u32, to the
// four lanes of the accumulator: {r0.c0, r0.c1, r1.c0, r1.c1}. 32 MACs per instruction, twice a
// UDOT, with no narrow intermediate: every cell up to w8a8 is served and kc is unbounded (u32
// lanes wrap modulo 2^32, the contract's arithmetic).
//
// Layout ("c8"): K in groups of 8; per group, MR rows x 8 bytes of A and NR columns x 8 bytes of W
// (the rowblock layout the other int8 kernels use), so rows 2p and 2p + 1 of a group are one 16-
// byte register, exactly UMMLA's operand. Tile 8x8: 4 row pairs x 4 column pairs = 16
// accumulators; per group one 4-register LD1 for A and one for W, then 16 UMMLA (512 MACs).
// 16 + 8 = 24 of the 32 vector registers. At the end each pair of accumulators of a row pair is
// unzipped (ZIP1/ZIP2 on 64-bit lanes) into two rows of 4 columns.
//
// The translation unit stays Armv8.0 (the baseline must run on a Cortex-A53): only run() is
// compiled for armv8.2-a+i8mm, and dispatch selects it only when the CPU reports i8mm.
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

// macs_per_cycle: an estimate (no Arm hardware here). The op model of dot_neon.hpp (two 128-bit
// ASIMD ops per cycle, loads not counted) would give 16 UMMLA per 512 MACs -> 64; the UDOT
// kernel's 32 scaled by executed instructions per MAC (bench/arm/insn-count, UDOT 8x8 0.0743,
// UMMLA 8x8 0.0433) gives 55. Both rank it below the 64-entry w1 tables (76.2, 71.2) and the
// bitplane w1a1 kernel (85.3), yet llvm-mca (bench/arm/mca, docs/arm-mca.md) gives UMMLA the
// fewest cycles per MAC of every NEON kernel on every core model it has. The figure used is the
// 64-entry w1a1 kernel's 76.2 times the smallest ratio of its cycles to UMMLA's over those
// models (1.13, cortex-a53 and cortex-a55): 86, so UMMLA ranks first wherever i8mm exists.
struct dot_ummla_8x8c8 : rowblock_8x8<8> {
  static constexpr const char* name = "dot_w8a8_8x8c8__neoni8mm";
  static constexpr feature_set features =
      lowbit::features(cpu_feature::neon, cpu_feature::neon_dotprod, cpu_feature::neon_i8mm);
  static constexpr float macs_per_cycle = 86.0f;

  LOWBIT_NEON_TARGET_I8MM static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                          std::int32_t* c, std::size_t ldc,
                                          bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    // acc[p][q]: rows 2p, 2p+1 x columns 2q, 2q+1. The loops over acc are unrolled so that it
    // stays in registers.
    uint32x4_t acc[MR / 2][NR / 2];
#pragma GCC unroll 4
    for (int p = 0; p < MR / 2; ++p)
#pragma GCC unroll 4
      for (int q = 0; q < NR / 2; ++q) acc[p][q] = vdupq_n_u32(0);
    for (std::size_t k = 0; k < kc; k += KS, a += MR * KS, w += NR * KS) {
      const uint8x16x4_t va = vld1q_u8_x4(a), vw = vld1q_u8_x4(w);
#pragma GCC unroll 4
      for (int p = 0; p < MR / 2; ++p)
#pragma GCC unroll 4
        for (int q = 0; q < NR / 2; ++q) acc[p][q] = LOWBIT_UMMLA(acc[p][q], va.val[p], vw.val[q]);
    }
#pragma GCC unroll 4
    for (int p = 0; p < MR / 2; ++p, c += 2 * ldc) {
#pragma GCC unroll 2
      for (int q = 0; q < NR / 2; q += 2) {
        const uint64x2_t x = vreinterpretq_u64_u32(acc[p][q]);
        const uint64x2_t y = vreinterpretq_u64_u32(acc[p][q + 1]);
        store4(c + 2 * q, vreinterpretq_u32_u64(vzip1q_u64(x, y)), accumulate);
        store4(c + ldc + 2 * q, vreinterpretq_u32_u64(vzip2q_u64(x, y)), accumulate);
      }
    }
  }
};

inline ukernel_list i8mm_ukernels() noexcept { return one_kernel_family<dot_ummla_8x8c8>(); }

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#endif  // __aarch64__
