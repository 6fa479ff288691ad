// lowbit internal: the driver's epilogue and output stages on SSE4.1 (with SSSE3 and SSE4.2, the
// sse4 ISA level), for CPUs without AVX2. Chosen by driver/ops.hpp; see there. The row scans stay
// the baseline's SSE2 code; the requantizing row is this level's own; the exact, float and
// fused-tile rows are ops_body_x86-inl.hpp's on xmm.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "lowbit/driver/ops_generic.hpp"
#include "lowbit/isa.hpp"

#define LOWBIT_DRIVER_NS driver_sse4
#define LOWBIT_DRIVER_TARGET LOWBIT_X86_TARGET_SSE4
#define LOWBIT_DRIVER_VEC detail::x86::vec_sse4
#include "lowbit/driver/x86/ops_body_x86-inl.hpp"

#define LOWBIT_TARGET_DRIVER_SSE4 __attribute__((target(LOWBIT_X86_TARGET_SSE4)))

namespace lowbit {
namespace detail {

// The level's table; requant_row (below) is declared by the body.
inline const driver_ops& sse4_driver_ops() noexcept {
  static const driver_ops ops = driver_sse4::table("sse4", &scan_row_bytes, &any_high_bytes);
  return ops;
}

namespace driver_sse4 {

// requant_row_generic, 4 outputs per step, for rounding shifts s = 31 - shift >= 31 (multipliers
// below 1, the usual case; other groups of 4 and the tail take the scalar rule). The products
// x * m0 are exact in 64-bit lanes (columns 0, 2 in one vector, 1, 3 in another). SSE4 has no
// 64-bit arithmetic shift, so rounding half away from zero, (p + 2^(s-1) - [p < 0]) >> s, is done
// on p + 2^62 (non-negative, and a multiple of 2^s added) with a logical shift, 2^(62-s) taken
// off after. With s >= 31 the result is within int32 (no saturation); clamping y to
// [lo - out_zero, hi - out_zero] then is clamping y + out_zero to [lo, hi], and making the value
// odd after the clamp commutes with it (lo, hi are odd then).
LOWBIT_TARGET_DRIVER_SSE4 inline void requant_row(const std::int32_t* t, std::size_t n,
                                                  const requant_params& q,
                                                  std::uint8_t* dst) noexcept {
  const std::int64_t ylo = std::int64_t{q.lo} - q.out_zero, yhi = std::int64_t{q.hi} - q.out_zero;
  if (ylo > std::numeric_limits<std::int32_t>::max() ||
      yhi < std::numeric_limits<std::int32_t>::min() || (!q.per_channel && q.mult[0].shift > 0)) {
    requant_row_generic(t, n, q, dst);
    return;
  }
  const __m128i vlo = _mm_set1_epi32(static_cast<std::int32_t>(
      ylo < std::numeric_limits<std::int32_t>::min() ? std::numeric_limits<std::int32_t>::min()
                                                     : ylo));
  const __m128i vhi = _mm_set1_epi32(static_cast<std::int32_t>(
      yhi > std::numeric_limits<std::int32_t>::max() ? std::numeric_limits<std::int32_t>::max()
                                                     : yhi));
  const __m128i vzero = _mm_set1_epi32(q.out_zero), vmask = _mm_set1_epi32(q.mask);
  const __m128i one32 = _mm_set1_epi32(1), zero = _mm_setzero_si128();
  const __m128i pick_bytes =
      _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  // p + 2^62 + 2^(s-1), and 2^(62-s), for a rounding shift s.
  auto round_add = [](int s) { return (std::int64_t{1} << 62) + (std::int64_t{1} << (s - 1)); };
  auto unbias = [](int s) { return std::int64_t{1} << (62 - s); };
  const int s_one = 31 - q.mult[0].shift;
  const __m128i m0_one = _mm_set1_epi32(q.mult[0].m0), cnt_one = _mm_cvtsi32_si128(s_one);
  const __m128i add_one = _mm_set1_epi64x(round_add(s_one)),
                unbias_one = _mm_set1_epi64x(unbias(s_one));
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + j));
    if (q.bias) x = _mm_add_epi32(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q.bias + j)));
    const __m128i xo = _mm_shuffle_epi32(x, 0xF5);  // columns 1, 3 into the low dwords
    __m128i re, ro;
    if (q.per_channel) {
      const fixed_multiplier* m = q.mult + j;
      if (m[0].shift > 0 || m[1].shift > 0 || m[2].shift > 0 || m[3].shift > 0) {
        requant_row_generic(t + j, 4, requant_params_at(q, j), dst + j);
        continue;
      }
      const int s0 = 31 - m[0].shift, s1 = 31 - m[1].shift, s2 = 31 - m[2].shift,
                s3 = 31 - m[3].shift;
      const __m128i me = _mm_setr_epi32(m[0].m0, 0, m[2].m0, 0);
      const __m128i mo = _mm_setr_epi32(m[1].m0, 0, m[3].m0, 0);
      const __m128i pe = _mm_mul_epi32(x, me), po = _mm_mul_epi32(xo, mo);
      const __m128i ue =
          _mm_add_epi64(_mm_add_epi64(pe, _mm_set_epi64x(round_add(s2), round_add(s0))),
                        _mm_cmpgt_epi64(zero, pe));
      const __m128i uo =
          _mm_add_epi64(_mm_add_epi64(po, _mm_set_epi64x(round_add(s3), round_add(s1))),
                        _mm_cmpgt_epi64(zero, po));
      re = _mm_blend_epi16(_mm_srl_epi64(ue, _mm_cvtsi32_si128(s0)),
                           _mm_srl_epi64(ue, _mm_cvtsi32_si128(s2)), 0xF0);
      ro = _mm_blend_epi16(_mm_srl_epi64(uo, _mm_cvtsi32_si128(s1)),
                           _mm_srl_epi64(uo, _mm_cvtsi32_si128(s3)), 0xF0);
      re = _mm_sub_epi64(re, _mm_set_epi64x(unbias(s2), unbias(s0)));
      ro = _mm_sub_epi64(ro, _mm_set_epi64x(unbias(s3), unbias(s1)));
    } else {
      const __m128i pe = _mm_mul_epi32(x, m0_one), po = _mm_mul_epi32(xo, m0_one);
      re = _mm_srl_epi64(_mm_add_epi64(_mm_add_epi64(pe, add_one), _mm_cmpgt_epi64(zero, pe)),
                         cnt_one);
      ro = _mm_srl_epi64(_mm_add_epi64(_mm_add_epi64(po, add_one), _mm_cmpgt_epi64(zero, po)),
                         cnt_one);
      re = _mm_sub_epi64(re, unbias_one);
      ro = _mm_sub_epi64(ro, unbias_one);
    }
    __m128i v = _mm_blend_epi16(re, _mm_slli_epi64(ro, 32), 0xCC);  // columns back in order
    v = _mm_add_epi32(_mm_min_epi32(_mm_max_epi32(v, vlo), vhi), vzero);
    if (q.odd) {  // an even value moves one step away from zero, then code = (v + mask) / 2
      v = _mm_or_si128(_mm_add_epi32(v, _mm_srai_epi32(v, 31)), one32);
      v = _mm_srai_epi32(_mm_add_epi32(v, vmask), 1);
    }
    const auto bytes =
        static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_shuffle_epi8(v, pick_bytes)));
    std::memcpy(dst + j, &bytes, 4);
  }
  if (j < n) requant_row_generic(t + j, n - j, requant_params_at(q, j), dst + j);
}

}  // namespace driver_sse4
}  // namespace detail
}  // namespace lowbit
