// lowbit: small helpers shared by the Arm NEON kernel families (Armv7-A NEON and Armv8-A ASIMD).
//
// Only intrinsics both architectures have, or a per-architecture spelling of the same operation,
// so each family file is written once for the `neon` feature level.
#pragma once

#if defined(__ARM_NEON) || defined(__ARM_NEON__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace neon {

// Vector registers, for the kernels' register budgets: 32 on AArch64, 16 Q registers on Armv7.
#if defined(__aarch64__)
constexpr int q_registers = 32;
#else
constexpr int q_registers = 16;
#endif

// Rows of the baseline families' tiles (widening int8, bitplane, 16-entry tables): 4 on AArch64,
// 2 on Armv7, whose 16 Q registers hold half the accumulators.
#if defined(__aarch64__)
constexpr int tile_mr = 4;
#else
constexpr int tile_mr = 2;
#endif

// The descriptor of a baseline NEON kernel K (its K step KS, kc_max and macs_per_cycle).
template <class K>
constexpr ukernel_desc neon_desc(const char* name, algorithm algo, int wb, int ab, int mr,
                                 int nr) noexcept {
  return describe_kernel<K>(name, algo, bit(cpu_feature::neon), wb, ab, mr, nr, K::KS, K::kc_max,
                            K::macs_per_cycle);
}

// Empty volatile asm statements: GCC moves no instruction across them, so its pre-allocation
// scheduler cannot hoist every column's products ahead of the accumulations (more live values
// than registers: it spills accumulators). The second one also orders memory, so that loads
// repeated after it are not merged with earlier ones into a long-lived register.
__attribute__((always_inline)) inline void schedule_barrier() noexcept { __asm__ __volatile__(""); }
__attribute__((always_inline)) inline void reload_barrier() noexcept {
  __asm__ __volatile__("" ::: "memory");
}

// The helpers below are always inlined into the kernels' loops, so each kernel compiles as if it
// were written out.

// Every accumulator set to v. The loops over tiles are unrolled, so that the accumulators stay in
// registers (a rolled loop over an array makes GCC keep it on the stack and load, add and store
// each accumulator per step).
template <int MR, int NR, class V>
__attribute__((always_inline)) inline void fill(V (&acc)[MR][NR], V v) noexcept {
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) acc[i][j] = v;
}

// Every accumulator passes through a register at the end of the K loop: without this, GCC 12 for
// Armv7 splits their live ranges around the final reduction and stores some of them to the stack
// in every iteration.
template <int MR, int NR, class V>
__attribute__((always_inline)) inline void pin(V (&acc)[MR][NR]) noexcept {
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) __asm__("" : "+w"(acc[i][j]));
}

// Upper-half widening multiply(-accumulate): one UMULL2/UMLAL2 on AArch64, a plain VMULL/VMLAL of
// the high D register on Armv7 (Q registers alias D pairs there, so the split is free).
inline uint16x8_t mull_high(uint8x16_t a, uint8x16_t b) noexcept {
#if defined(__aarch64__)
  return vmull_high_u8(a, b);
#else
  return vmull_u8(vget_high_u8(a), vget_high_u8(b));
#endif
}

inline uint16x8_t mlal_high(uint16x8_t acc, uint8x16_t a, uint8x16_t b) noexcept {
#if defined(__aarch64__)
  return vmlal_high_u8(acc, a, b);
#else
  return vmlal_u8(acc, vget_high_u8(a), vget_high_u8(b));
#endif
}

// {sum(a), sum(b), sum(c), sum(d)}: three pairwise adds on AArch64, six D-register ones on Armv7.
inline uint32x4_t hsum4(uint32x4_t a, uint32x4_t b, uint32x4_t c, uint32x4_t d) noexcept {
#if defined(__aarch64__)
  return vpaddq_u32(vpaddq_u32(a, b), vpaddq_u32(c, d));
#else
  const uint32x4_t ab = vcombine_u32(vpadd_u32(vget_low_u32(a), vget_high_u32(a)),
                                     vpadd_u32(vget_low_u32(b), vget_high_u32(b)));
  const uint32x4_t cd = vcombine_u32(vpadd_u32(vget_low_u32(c), vget_high_u32(c)),
                                     vpadd_u32(vget_low_u32(d), vget_high_u32(d)));
  return vcombine_u32(vpadd_u32(vget_low_u32(ab), vget_high_u32(ab)),
                      vpadd_u32(vget_low_u32(cd), vget_high_u32(cd)));
#endif
}

// c[0..3] = (accumulate ? c[0..3] : 0) + s, wrapping modulo 2^32 as the contract requires.
inline void store4(std::int32_t* c, uint32x4_t s, bool accumulate) noexcept {
  if (accumulate) s = vaddq_u32(s, vreinterpretq_u32_s32(vld1q_s32(c)));
  vst1q_s32(c, vreinterpretq_s32_u32(s));
}

// Rows of C from an MR x NR tile of vector accumulators, each lane sum of acc[i][j] being
// C[i][j]: four columns at a time, widened to u32 lanes by to_u32 and reduced across lanes.
template <int MR, int NR, class V, class F>
__attribute__((always_inline)) inline void store_reduced(std::int32_t* c, std::size_t ldc,
                                                         V (&acc)[MR][NR], bool accumulate,
                                                         F&& to_u32) noexcept {
  static_assert(NR % 4 == 0, "columns are reduced four at a time");
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int j = 0; j < NR; j += 4)
      store4(c + i * ldc + j,
             hsum4(to_u32(acc[i][j]), to_u32(acc[i][j + 1]), to_u32(acc[i][j + 2]),
                   to_u32(acc[i][j + 3])),
             accumulate);
}

// 16 byte lookups in a 16-entry table; indices >= 16 give 0 on both architectures.
inline uint8x16_t lookup16(uint8x16_t table, uint8x16_t idx) noexcept {
#if defined(__aarch64__)
  return vqtbl1q_u8(table, idx);
#else
  uint8x8x2_t t;
  t.val[0] = vget_low_u8(table);
  t.val[1] = vget_high_u8(table);
  return vcombine_u8(vtbl2_u8(t, vget_low_u8(idx)), vtbl2_u8(t, vget_high_u8(idx)));
#endif
}

// The packed layout the int8 kernels share: K in blocks of KS; within a block, R rows of KS
// consecutive u-codes (row-major), so one 16-byte load reads 16 values of K for one row. Rows
// beyond `rows` and K beyond `kc` are zero (u = 0 adds nothing to the dot product).
template <int R, int KS>
struct rowblock_packer {
  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return (kc + KS - 1) / KS * KS * static_cast<std::size_t>(R);
  }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));
    for (std::size_t k0 = 0; k0 < kc; k0 += KS, out += KS * R) {
      const std::size_t n = kc - k0 < KS ? kc - k0 : KS;
      for (std::size_t r = 0; r < rows; ++r) std::memcpy(out + r * KS, u + r * ldu + k0, n);
    }
  }
};

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#endif  // NEON
