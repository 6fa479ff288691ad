// lowbit internal: whether the portable code uses xsimd (detail/portable_simd.hpp), decided
// without including xsimd: headers every TU includes (quantize.hpp) read only this.
//
// On when LOWBIT_HAVE_XSIMD (CMake, when it finds xsimd) or LOWBIT_USE_XSIMD (a vendored build's
// opt-in) is defined, off when LOWBIT_NO_XSIMD is, and always off without a SIMD baseline
// (Cortex-M: xsimd does not build against newlib) or without the header.
//   LOWBIT_XSIMD        1 when xsimd is used (integer batches)
//   LOWBIT_XSIMD_FLOAT  1 when float batches are used too: not on Armv7, whose NEON float
//                       instructions flush denormals to zero where the scalar (VFP) code does not
//   LOWBIT_XSIMD_MUL32  1 when 32-bit integer multiplies are vector instructions (NEON, SSE4.1;
//                       xsimd 8.1 multiplies them one lane at a time on SSE2)
#pragma once

#include "lowbit/config.hpp"

#if !defined(LOWBIT_NO_XSIMD) && (defined(LOWBIT_HAVE_XSIMD) || defined(LOWBIT_USE_XSIMD)) && \
    (defined(__SSE2__) || defined(__ARM_NEON) || defined(__ARM_NEON__)) && defined(__has_include)
#if __has_include(<xsimd/xsimd.hpp>)
#define LOWBIT_XSIMD 1
#if !(defined(__arm__) && !defined(__aarch64__))
#define LOWBIT_XSIMD_FLOAT 1
#endif
#if defined(__SSE4_1__) || defined(__ARM_NEON) || defined(__ARM_NEON__)
#define LOWBIT_XSIMD_MUL32 1
#endif
#endif
#endif

namespace lowbit {
namespace detail {

// What the portable code runs on: "xsimd" or "scalar" (lowbit_info, tests).
inline const char* portable_path() noexcept {
#if defined(LOWBIT_XSIMD)
  return "xsimd";
#else
  return "scalar";
#endif
}

}  // namespace detail
}  // namespace lowbit
