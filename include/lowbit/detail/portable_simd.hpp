// lowbit internal: xsimd for the portable code (the scalar kernel, the baseline driver ops, and
// quantize / dequantize at the scalar ISA level), compiled for the translation unit's own
// architecture: SSE2 (or whatever -march gives) on x86-64, NEON on AArch64 and Armv7 -mfpu=neon.
// When it is on: detail/portable_simd_config.hpp. xsimd 8.1 cannot serve the run-time dispatched
// x86 levels (its batches do not live in target-attributed functions of a baseline TU): those
// keep their intrinsics, as the NEON sets do.
#pragma once

#include <cstdint>

#include "lowbit/detail/portable_simd_config.hpp"

#if defined(LOWBIT_XSIMD)
#include <xsimd/xsimd.hpp>
#endif

namespace lowbit {
namespace detail {

#if defined(LOWBIT_XSIMD)
// Batches of exactly 4 lanes (the scalar kernel's 4-column tiles), whatever the widest
// architecture of the build is: SSE or NEON registers.
using xs_f4 = xsimd::make_sized_batch_t<float, 4>;
using xs_i4 = xsimd::make_sized_batch_t<std::int32_t, 4>;
using xs_u4 = xsimd::make_sized_batch_t<std::uint32_t, 4>;
#endif

// xsimd's architecture name for the portable code ("sse2", "neon64", ...; "none" without xsimd).
inline const char* portable_arch() noexcept {
#if defined(LOWBIT_XSIMD)
  return xs_u4::arch_type::name();
#else
  return "none";
#endif
}

// A float product the following add cannot fuse into an FMA (the compiler contracts a * b + c,
// written with intrinsics too, unless told not to): the empty asm makes it an opaque register.
#if defined(LOWBIT_XSIMD_FLOAT)
template <class B>
inline B xs_unfused(B p) noexcept {
  auto r = p.data;
#if defined(__SSE2__)
  __asm__("" : "+x"(r));
#elif defined(__aarch64__)
  __asm__("" : "+w"(r));
#else
  __asm__("" : "+m"(r));
#endif
  return B(r);
}
#endif

}  // namespace detail
}  // namespace lowbit
