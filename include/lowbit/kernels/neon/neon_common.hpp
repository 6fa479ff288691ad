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

namespace lowbit {
namespace kernels {
namespace neon {

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
