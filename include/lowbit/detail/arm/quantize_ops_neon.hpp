// lowbit internal: quantize_ops_body-inl.hpp for NEON (4 float lanes, q registers), in namespace
// detail::quantize_neon; chosen by quantize_ops.hpp. NEON is the baseline wherever __ARM_NEON is
// defined (AArch64; Armv7 built with -mfpu=neon), so no target attribute. AArch64's vector float
// arithmetic is IEEE like its scalar one. Armv7's NEON float arithmetic flushes denormals to
// zero, unlike VFP: GCC compiles generic float vectors to VFP there, one lane at a time (the
// division and add stay so), and the body runs the rounding with NEON intrinsics only on blocks
// whose quotients hold no denormal or NaN. Clang would compile the generic float vectors to NEON,
// so quantize_ops.hpp leaves 32-bit Arm with Clang to the scalar loop.
#pragma once

#if defined(__ARM_NEON) || defined(__ARM_NEON__)

#include "lowbit/detail/quantize_ops_types.hpp"

#define LOWBIT_QOPS_NS quantize_neon
#define LOWBIT_QOPS_ATTR
#define LOWBIT_QOPS_LANES 4
#include "lowbit/detail/quantize_ops_body-inl.hpp"

namespace lowbit {
namespace detail {

inline const quantize_ops& neon_quantize_ops() noexcept {
  static const quantize_ops ops{"neon", &quantize_neon::quantize_row, &quantize_neon::any_invalid,
                                &quantize_neon::dequantize_row};
  return ops;
}

}  // namespace detail
}  // namespace lowbit

#endif
