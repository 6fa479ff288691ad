// lowbit internal: the driver's own vector work per call, at the widest ISA the chosen kernel
// already requires.
//
// Besides the microkernel, every call validates and sums the activation rows (the pre-pass),
// turns each tile's u-code sums into exact int32 results (the epilogue) and, for 8-bit-or-less
// outputs, requantizes them (64-bit products and a rounding shift per output) or applies the
// float stage. At small N these cost as much as the kernel, and the x86-64 baseline (SSE2) has no
// 32-bit vector multiply, so each is compiled again for SSE4.1, AVX2 and AVX-512 with target
// attributes. The set is chosen from the kernel's feature set: a call never executes an
// instruction its kernel could not. On Arm, NEON is baseline (AArch64, and Armv7 built with
// -mfpu=neon): its set is always used.
#pragma once

#include "lowbit/driver/ops_generic.hpp"
#include "lowbit/isa.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(LOWBIT_PORTABLE)
#include "lowbit/driver/x86/ops_avx2.hpp"
#include "lowbit/driver/x86/ops_avx512.hpp"
#include "lowbit/driver/x86/ops_sse4.hpp"
#define LOWBIT_X86_DRIVER_OPS 1
#elif defined(__ARM_NEON) && !defined(LOWBIT_PORTABLE)
#include "lowbit/driver/arm/ops_neon.hpp"
#define LOWBIT_NEON_DRIVER_OPS 1
#endif

namespace lowbit {
namespace detail {

// The widest set whose features are all in `kernel_features`.
inline const driver_ops& driver_ops_for(feature_set kernel_features) noexcept {
#if defined(LOWBIT_X86_DRIVER_OPS)
  if ((kernel_features & x86_avx512) == x86_avx512) return avx512_driver_ops();
  if ((kernel_features & x86_avx2) == x86_avx2) return avx2_driver_ops();
  if ((kernel_features & x86_sse4) == x86_sse4) return sse4_driver_ops();
#elif defined(LOWBIT_NEON_DRIVER_OPS)
  (void)kernel_features;
  return neon_driver_ops();
#else
  (void)kernel_features;
#endif
  return baseline_driver_ops();
}

}  // namespace detail
}  // namespace lowbit
