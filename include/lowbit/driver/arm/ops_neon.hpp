// lowbit internal: the driver's epilogue and output stages on NEON (AArch64, and Armv7 built with
// -mfpu=neon, where NEON is baseline). Chosen by driver/ops.hpp; see there. The row scans stay the
// baseline's code.
//
// The float stage is vectorised on AArch64 only: Armv7's Advanced SIMD always flushes subnormal
// inputs and results to zero and returns the default NaN, so it cannot give the scalar (VFP) row's
// bits; Armv7 keeps float_row_generic there.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/driver/ops_generic.hpp"

namespace lowbit {
namespace detail {

// exact_row_terms (the optional terms of float_tile_fn), 4 columns per step.
inline void exact_row_terms_neon(const std::int32_t* s, std::uint32_t alpha,
                                 const std::uint32_t* rowcoef, std::uint32_t sa,
                                 const std::uint32_t* colconst, std::size_t n,
                                 std::int32_t* t) noexcept {
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    uint32x4_t v = vreinterpretq_u32_s32(vld1q_s32(s + j));
    if (alpha != 1) v = vmulq_n_u32(v, alpha);
    if (rowcoef) v = vmlaq_n_u32(v, vld1q_u32(rowcoef + j), sa);
    if (colconst) v = vaddq_u32(v, vld1q_u32(colconst + j));
    vst1q_s32(t + j, vreinterpretq_s32_u32(v));
  }
  exact_row_terms(s + j, alpha, rowcoef ? rowcoef + j : nullptr, sa,
                  colconst ? colconst + j : nullptr, n - j, t + j);
}

inline void exact_row_neon(const std::int32_t* s, std::uint32_t alpha, const std::uint32_t* rowcoef,
                           std::uint32_t sa, const std::uint32_t* colconst, std::size_t n,
                           std::int32_t* t) noexcept {
  exact_row_terms_neon(s, alpha, rowcoef, sa, colconst, n, t);
}

#if defined(__aarch64__)
// float_row_generic, 4 columns per step (the tail through it). The empty asm keeps each product
// a rounded value the add cannot fuse into an FMA (GCC contracts vmulq + vaddq by default). The
// clamp is a compare and select, as in the scalar row: FMAX/FMIN order -0 below +0, which the
// scalar comparisons do not, and a NaN compares false and stays.
inline void float_row_neon(const std::int32_t* t, std::size_t n, const float_params& q,
                           float* dst) noexcept {
  const float32x4_t a_scale = vdupq_n_f32(q.a_scale), lo = vdupq_n_f32(q.lo),
                    hi = vdupq_n_f32(q.hi);
  const float32x4_t one_scale = vmulq_f32(a_scale, vdupq_n_f32(q.w_scales[0]));
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float32x4_t scale =
        q.per_channel ? vmulq_f32(a_scale, vld1q_f32(q.w_scales + j)) : one_scale;
    float32x4_t v = vmulq_f32(vcvtq_f32_s32(vld1q_s32(t + j)), scale);
    __asm__("" : "+w"(v));
    if (q.bias) v = vaddq_f32(v, vld1q_f32(q.bias + j));
    v = vbslq_f32(vcltq_f32(v, lo), lo, v);
    v = vbslq_f32(vcgtq_f32(v, hi), hi, v);
    vst1q_f32(dst + j, v);
  }
  if (j < n) float_row_generic(t + j, n - j, float_params_at(q, j), dst + j);
}
#else
inline void float_row_neon(const std::int32_t* t, std::size_t n, const float_params& q,
                           float* dst) noexcept {
  float_row_generic(t, n, q, dst);
}
#endif

// requant_row_generic, 4 outputs per step. The products x * m0 are exact in 64-bit lanes;
// rounding half away from zero is the arithmetic shift (p + 2^(s-1) - [p < 0]) >> s (vshl by
// -s, per lane), the narrowing to int32 saturates, and the offset is a saturating add, which
// the clamp to [lo, hi] (inside int32) makes the same as the exact sum. Making the value odd
// after the clamp commutes with it (lo and hi are odd then).
inline void requant_row_neon(const std::int32_t* t, std::size_t n, const requant_params& q,
                             std::uint8_t* dst) noexcept {
  const int32x4_t lo = vdupq_n_s32(q.lo), hi = vdupq_n_s32(q.hi), zero = vdupq_n_s32(q.out_zero);
  const int32x4_t mask = vdupq_n_s32(q.mask), one = vdupq_n_s32(1), thirty_one = vdupq_n_s32(31);
  const int64x2_t one64 = vdupq_n_s64(1);
  const int32x4_t m0_one = vdupq_n_s32(q.mult[0].m0);
  const int32x4_t s_one = vsubq_s32(thirty_one, vdupq_n_s32(q.mult[0].shift));
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    int32x4_t x = vld1q_s32(t + j);
    if (q.bias) x = vaddq_s32(x, vld1q_s32(q.bias + j));  // wrapping, as the scalar rule
    int32x4_t m0 = m0_one, s = s_one;
    if (q.per_channel) {  // {m0, shift} pairs: de-interleaved by the load
      const int32x4x2_t ms = vld2q_s32(reinterpret_cast<const std::int32_t*>(q.mult + j));
      m0 = ms.val[0];
      s = vsubq_s32(thirty_one, ms.val[1]);
    }
    const int64x2_t p_lo = vmull_s32(vget_low_s32(x), vget_low_s32(m0));
    const int64x2_t p_hi = vmull_s32(vget_high_s32(x), vget_high_s32(m0));
    const int64x2_t s_lo = vmovl_s32(vget_low_s32(s)), s_hi = vmovl_s32(vget_high_s32(s));
    const int64x2_t half_lo = vshlq_s64(one64, vsubq_s64(s_lo, one64));
    const int64x2_t half_hi = vshlq_s64(one64, vsubq_s64(s_hi, one64));
    const int64x2_t r_lo = vshlq_s64(vaddq_s64(vaddq_s64(p_lo, half_lo), vshrq_n_s64(p_lo, 63)),
                                     vsubq_s64(vdupq_n_s64(0), s_lo));
    const int64x2_t r_hi = vshlq_s64(vaddq_s64(vaddq_s64(p_hi, half_hi), vshrq_n_s64(p_hi, 63)),
                                     vsubq_s64(vdupq_n_s64(0), s_hi));
    int32x4_t v = vcombine_s32(vqmovn_s64(r_lo), vqmovn_s64(r_hi));
    v = vminq_s32(vmaxq_s32(vqaddq_s32(v, zero), lo), hi);
    if (q.odd) {  // an even value moves one step away from zero, then code = (v + mask) / 2
      v = vorrq_s32(vaddq_s32(v, vshrq_n_s32(v, 31)), one);
      v = vshrq_n_s32(vaddq_s32(v, mask), 1);
    }
    const int16x4_t h = vmovn_s32(v);
    const uint8x8_t b = vreinterpret_u8_s8(vmovn_s16(vcombine_s16(h, h)));
    const std::uint32_t bytes = vget_lane_u32(vreinterpret_u32_u8(b), 0);
    std::memcpy(dst + j, &bytes, 4);
  }
  if (j < n) requant_row_generic(t + j, n - j, requant_params_at(q, j), dst + j);
}

// The tiles: ops_generic.hpp's loops around these rows.
using neon_set =
    untargeted_set<&exact_row_neon, &exact_row_terms_neon, &float_row_neon, &requant_row_neon>;

inline const driver_ops& neon_driver_ops() noexcept {
  static const driver_ops ops = neon_set::table("neon");
  return ops;
}

}  // namespace detail
}  // namespace lowbit
