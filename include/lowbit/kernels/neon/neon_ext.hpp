// lowbit: the Armv8.2 dot-product (UDOT) and Armv8.6 int8 matrix-multiply (UMMLA) instructions
// for kernels compiled under a target attribute in an Armv8.0 translation unit (AArch64).
//
// GCC and Clang 16 and later declare the arm_neon.h intrinsics for such functions. Clang up to
// 15 declares them only when the whole TU targets the feature (__ARM_FEATURE_DOTPROD), and
// rejects the "arch=armv8.2-a+..." attribute string: there the attributes name the feature alone
// and the same instructions are written as inline assembly. LOWBIT_UDOT_LANEQ(acc, w, a, L),
// LOWBIT_UDOT(acc, w, a) and LOWBIT_UMMLA(acc, a, w) mean vdotq_laneq_u32, vdotq_u32 and
// vmmlaq_u32 in either case.
#pragma once

#if defined(__aarch64__)

#include <arm_neon.h>

#if defined(__clang__) && __clang_major__ < 16
#define LOWBIT_NEON_TARGET_DOTPROD __attribute__((target("dotprod")))
#define LOWBIT_NEON_TARGET_I8MM __attribute__((target("i8mm")))

namespace lowbit {
namespace kernels {
namespace neon {
namespace ext {

template <int L>
__attribute__((always_inline)) LOWBIT_NEON_TARGET_DOTPROD static inline uint32x4_t udot_laneq(
    uint32x4_t acc, uint8x16_t w, uint8x16_t a) noexcept {
  static_assert(L >= 0 && L < 4, "UDOT (by element) takes lanes 0..3");
  __asm__("udot %0.4s, %1.16b, %2.4b[%3]" : "+w"(acc) : "w"(w), "w"(a), "i"(L));
  return acc;
}

__attribute__((always_inline)) LOWBIT_NEON_TARGET_DOTPROD static inline uint32x4_t udot(
    uint32x4_t acc, uint8x16_t w, uint8x16_t a) noexcept {
  __asm__("udot %0.4s, %1.16b, %2.16b" : "+w"(acc) : "w"(w), "w"(a));
  return acc;
}

__attribute__((always_inline)) LOWBIT_NEON_TARGET_I8MM static inline uint32x4_t ummla(
    uint32x4_t acc, uint8x16_t a, uint8x16_t w) noexcept {
  __asm__("ummla %0.4s, %1.16b, %2.16b" : "+w"(acc) : "w"(a), "w"(w));
  return acc;
}

}  // namespace ext
}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#define LOWBIT_UDOT_LANEQ(acc, w, a, lane) ::lowbit::kernels::neon::ext::udot_laneq<lane>(acc, w, a)
#define LOWBIT_UDOT(acc, w, a) ::lowbit::kernels::neon::ext::udot(acc, w, a)
#define LOWBIT_UMMLA(acc, a, w) ::lowbit::kernels::neon::ext::ummla(acc, a, w)

#else
#define LOWBIT_NEON_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#define LOWBIT_NEON_TARGET_I8MM __attribute__((target("arch=armv8.2-a+i8mm")))
#define LOWBIT_UDOT_LANEQ(acc, w, a, lane) vdotq_laneq_u32(acc, w, a, lane)
#define LOWBIT_UDOT(acc, w, a) vdotq_u32(acc, w, a)
#define LOWBIT_UMMLA(acc, a, w) vmmlaq_u32(acc, a, w)
#endif

#endif  // __aarch64__
