// lowbit internal: the driver's pre-pass and epilogue on AVX-512 (F, BW). Chosen by
// driver/ops.hpp; see there.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <limits>

#include "lowbit/detail/row_scan.hpp"
#include "lowbit/driver/ops_generic.hpp"

#define LOWBIT_TARGET_DRIVER512 \
  __attribute__((target("popcnt,avx2,fma,bmi2,avx512f,avx512bw,avx512vl,avx512dq,avx512cd")))

namespace lowbit {
namespace detail {

// Row scan, 64 codes per step; the tail is a masked load whose missing lanes are dropped from
// both the validity mask and the sum.
LOWBIT_TARGET_DRIVER512 inline std::uint32_t scan_row_avx512(const u_transform& t,
                                                             const std::uint8_t* row, std::size_t k,
                                                             bool& bad) noexcept {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i high = _mm512_set1_epi8(static_cast<char>(t.high));
  __m512i sums = zero, sums2 = zero;
  __mmask64 badm = 0;
  std::size_t x = 0;
  if (t.identity) {  // unsigned, odd-symmetric: valid iff no bit above the width; u = byte
    __mmask64 badm2 = 0;
    for (; x + 128 <= k; x += 128) {
      const __m512i v = _mm512_loadu_si512(row + x), w = _mm512_loadu_si512(row + x + 64);
      badm |= _mm512_test_epi8_mask(v, high);
      badm2 |= _mm512_test_epi8_mask(w, high);
      sums = _mm512_add_epi64(sums, _mm512_sad_epu8(v, zero));
      sums2 = _mm512_add_epi64(sums2, _mm512_sad_epu8(w, zero));
    }
    for (; x < k; x += 64) {
      const __mmask64 live = k - x >= 64 ? ~__mmask64{0} : (__mmask64{1} << (k - x)) - 1;
      const __m512i v = _mm512_maskz_loadu_epi8(live, row + x);  // missing lanes read as 0
      badm |= _mm512_test_epi8_mask(v, high);
      sums = _mm512_add_epi64(sums, _mm512_sad_epu8(v, zero));
    }
    badm |= badm2;
  } else {
    const __m512i sign = _mm512_set1_epi8(static_cast<char>(t.sign));
    const __m512i add = _mm512_set1_epi8(static_cast<char>(t.add));
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(t.flip));
    const __m512i mask = _mm512_set1_epi8(static_cast<char>(t.mask));
    const __m512i three = _mm512_set1_epi8(3), two = _mm512_set1_epi8(2);
    for (; x < k; x += 64) {
      const __mmask64 live = k - x >= 64 ? ~__mmask64{0} : (__mmask64{1} << (k - x)) - 1;
      const __m512i v = _mm512_maskz_loadu_epi8(live, row + x);
      const __m512i hi = _mm512_and_si512(v, high);
      __mmask64 b = _mm512_test_epi8_mask(v, high);
      if (t.sign_extension_ok)  // a negative int8 value: every high bit and the sign bit set
        b &= ~(_mm512_cmpeq_epi8_mask(hi, high) & _mm512_test_epi8_mask(v, sign));
      if (t.ternary) b |= _mm512_cmpeq_epi8_mask(_mm512_and_si512(v, three), two);
      badm |= b & live;
      const __m512i u = _mm512_and_si512(_mm512_xor_si512(_mm512_add_epi8(v, add), flip), mask);
      sums = _mm512_add_epi64(sums, _mm512_sad_epu8(_mm512_maskz_mov_epi8(live, u), zero));
    }
  }
  bad = badm != 0;
  // Horizontal sum by hand: _mm512_reduce_add_epi64 trips GCC 12's -Wuninitialized.
  alignas(64) std::uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(sums, sums2));
  std::uint64_t total = 0;
  for (const std::uint64_t l : lanes) total += l;
  return static_cast<std::uint32_t>(total);
}

// Validation without sums: OR every byte together, test the high bits once.
LOWBIT_TARGET_DRIVER512 inline bool any_high_avx512(const std::uint8_t* p, std::size_t n,
                                                    std::uint8_t high) noexcept {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  std::size_t x = 0;
  for (; x + 128 <= n; x += 128) {
    acc0 = _mm512_or_si512(acc0, _mm512_loadu_si512(p + x));
    acc1 = _mm512_or_si512(acc1, _mm512_loadu_si512(p + x + 64));
  }
  for (; x < n; x += 64) {
    const __mmask64 live = n - x >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n - x)) - 1;
    acc0 = _mm512_or_si512(acc0, _mm512_maskz_loadu_epi8(live, p + x));
  }
  return _mm512_test_epi8_mask(_mm512_or_si512(acc0, acc1),
                               _mm512_set1_epi8(static_cast<char>(high))) != 0;
}

LOWBIT_TARGET_DRIVER512 inline void exact_row_avx512(const std::int32_t* s, std::uint32_t alpha,
                                                     const std::uint32_t* rowcoef, std::uint32_t sa,
                                                     const std::uint32_t* colconst, std::size_t n,
                                                     std::int32_t* t) noexcept {
  const __m512i va = _mm512_set1_epi32(static_cast<int>(alpha));
  const __m512i vsa = _mm512_set1_epi32(static_cast<int>(sa));
  const bool unit = alpha == 1;
  for (std::size_t j = 0; j < n; j += 16) {
    const __mmask16 live =
        n - j >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (n - j)) - 1);
    __m512i v = _mm512_maskz_loadu_epi32(live, s + j);
    if (!unit) v = _mm512_mullo_epi32(v, va);
    const __m512i r = _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(live, rowcoef + j), vsa);
    v = _mm512_add_epi32(v, _mm512_add_epi32(r, _mm512_maskz_loadu_epi32(live, colconst + j)));
    _mm512_mask_storeu_epi32(t + j, live, v);
  }
}

LOWBIT_TARGET_DRIVER512 inline void exact_tile_avx512(const std::int32_t* s, std::size_t lds,
                                                      std::size_t rows, std::uint32_t alpha,
                                                      const std::uint32_t* rowcoef,
                                                      const std::uint32_t* rowsum,
                                                      const std::uint32_t* colconst, std::size_t n,
                                                      std::int32_t* t, std::size_t ldt) noexcept {
  if (n == 32) {  // a whole 32-column tile: the column terms stay in registers across its rows
    const __m512i va = _mm512_set1_epi32(static_cast<int>(alpha));
    const __m512i rc0 = _mm512_loadu_si512(rowcoef), rc1 = _mm512_loadu_si512(rowcoef + 16);
    const __m512i cc0 = _mm512_loadu_si512(colconst), cc1 = _mm512_loadu_si512(colconst + 16);
    for (std::size_t i = 0; i < rows; ++i) {
      const __m512i vsa = _mm512_set1_epi32(static_cast<int>(rowsum[i]));
      __m512i v0 = _mm512_loadu_si512(s + i * lds), v1 = _mm512_loadu_si512(s + i * lds + 16);
      if (alpha != 1) {
        v0 = _mm512_mullo_epi32(v0, va);
        v1 = _mm512_mullo_epi32(v1, va);
      }
      v0 = _mm512_add_epi32(v0, _mm512_add_epi32(_mm512_mullo_epi32(rc0, vsa), cc0));
      v1 = _mm512_add_epi32(v1, _mm512_add_epi32(_mm512_mullo_epi32(rc1, vsa), cc1));
      _mm512_storeu_si512(t + i * ldt, v0);
      _mm512_storeu_si512(t + i * ldt + 16, v1);
    }
    return;
  }
  for (std::size_t i = 0; i < rows; ++i)
    exact_row_avx512(s + i * lds, alpha, rowcoef, rowsum[i], colconst, n, t + i * ldt);
}

// One row of 16 exact results at s (the tile's optional terms, float_tile_fn); `live` masks the
// loads of a strip's tail.
LOWBIT_TARGET_DRIVER512 inline __m512i exact16_avx512(const std::int32_t* s, __mmask16 live,
                                                      __m512i alpha, bool unit, __m512i rowcoef,
                                                      bool has_row, std::uint32_t sa,
                                                      __m512i colconst) noexcept {
  __m512i v = _mm512_maskz_loadu_epi32(live, s);
  if (!unit) v = _mm512_mullo_epi32(v, alpha);
  if (has_row)
    v = _mm512_add_epi32(v, _mm512_mullo_epi32(rowcoef, _mm512_set1_epi32(static_cast<int>(sa))));
  return _mm512_add_epi32(v, colconst);  // zero when the tile has no column term
}

// The float stage over a tile (float_tile_fn), 16 columns at a time: a strip's scales, bias and
// column terms are loaded once for all of its rows, the tail masked. Each value is
// float_row_generic's: the empty asm keeps each product a rounded value the add cannot fuse into an
// FMA.
LOWBIT_TARGET_DRIVER512 inline void float_tile_avx512(
    const std::int32_t* s, std::size_t lds, std::size_t rows, std::uint32_t alpha,
    const std::uint32_t* rowcoef, const std::uint32_t* rowsum, const std::uint32_t* colconst,
    std::size_t n, const float_params& q, float* dst, std::size_t ldd) noexcept {
  const __m512 a_scale = _mm512_set1_ps(q.a_scale), lo = _mm512_set1_ps(q.lo),
               hi = _mm512_set1_ps(q.hi), zero = _mm512_setzero_ps();
  const __m512 one_scale = _mm512_mul_ps(a_scale, _mm512_set1_ps(q.w_scales[0]));
  const __m512i va = _mm512_set1_epi32(static_cast<int>(alpha));
  const bool unit = alpha == 1, has_row = rowcoef != nullptr;
  const bool clamp_lo = q.lo != -std::numeric_limits<float>::infinity();
  const bool clamp_hi = q.hi != std::numeric_limits<float>::infinity();
  // The masked forms with an explicit source: GCC 12 warns on the plain ones' undefined source.
  const __mmask16 all = 0xFFFF;
  for (std::size_t j = 0; j < n; j += 16) {
    const __mmask16 k = n - j >= 16 ? all : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 scale = q.per_channel
                             ? _mm512_mul_ps(a_scale, _mm512_maskz_loadu_ps(k, q.w_scales + j))
                             : one_scale;
    const __m512 bias = q.bias ? _mm512_maskz_loadu_ps(k, q.bias + j) : zero;
    const __m512i rc = has_row ? _mm512_maskz_loadu_epi32(k, rowcoef + j) : _mm512_setzero_si512();
    const __m512i cc =
        colconst ? _mm512_maskz_loadu_epi32(k, colconst + j) : _mm512_setzero_si512();
    for (std::size_t i = 0; i < rows; ++i) {
      const __m512i t =
          exact16_avx512(s + i * lds + j, k, va, unit, rc, has_row, has_row ? rowsum[i] : 0, cc);
      __m512 v = _mm512_mul_ps(_mm512_mask_cvtepi32_ps(zero, all, t), scale);
      __asm__("" : "+v"(v));
      if (q.bias) v = _mm512_add_ps(v, bias);  // not for a missing bias: -0 + 0 is +0
      // max(lo, v) and min(hi, v) return v when it is NaN, as the scalar comparisons do; an
      // infinite bound returns v always, so it is skipped (ReLU has no upper one).
      if (clamp_lo) v = _mm512_mask_max_ps(zero, all, lo, v);
      if (clamp_hi) v = _mm512_mask_min_ps(zero, all, hi, v);
      _mm512_mask_storeu_ps(dst + i * ldd + j, k, v);
    }
  }
}

LOWBIT_TARGET_DRIVER512 inline void float_row_avx512(const std::int32_t* t, std::size_t n,
                                                     const float_params& q, float* dst) noexcept {
  float_tile_avx512(t, 0, 1, 1, nullptr, nullptr, nullptr, n, q, dst, 0);
}

// requant_row_generic over a tile (requant_tile_fn), 16 columns at a time; a strip's bias,
// multipliers, shifts and rounding constants are set up once for all of its rows. The products
// x * m0 are exact in 64-bit lanes, even columns in one vector and odd ones in another. Rounding
// half away from zero, |p| + 2^(s-1) >> s with the sign put back, is the arithmetic shift
// (p + 2^(s-1) - [p < 0]) >> s. Saturating to int32 and then clamping y + out_zero to [lo, hi]
// is clamping y to [lo - out_zero, hi - out_zero] (held within int32), so the clamp happens in
// the 64-bit lanes, and the rest, made odd after the clamp (lo and hi are odd then, so that
// commutes with the clamp), in 32-bit lanes. An out_zero so far out that no y reaches the range
// takes the scalar rule.
LOWBIT_TARGET_DRIVER512 inline void requant_tile_avx512(
    const std::int32_t* s, std::size_t lds, std::size_t rows, std::uint32_t alpha,
    const std::uint32_t* rowcoef, const std::uint32_t* rowsum, const std::uint32_t* colconst,
    std::size_t n, const requant_params& q, std::size_t q_col, std::uint8_t* dst,
    std::size_t ldd) noexcept {
  const std::int64_t ylo = std::int64_t{q.lo} - q.out_zero, yhi = std::int64_t{q.hi} - q.out_zero;
  if (ylo > std::numeric_limits<std::int32_t>::max() ||
      yhi < std::numeric_limits<std::int32_t>::min()) {
    requant_tile_generic(s, lds, rows, alpha, rowcoef, rowsum, colconst, n, q, q_col, dst, ldd);
    return;
  }
  const auto ylo32 = static_cast<std::int32_t>(ylo < std::numeric_limits<std::int32_t>::min()
                                                   ? std::numeric_limits<std::int32_t>::min()
                                                   : ylo);
  const auto yhi32 = static_cast<std::int32_t>(yhi > std::numeric_limits<std::int32_t>::max()
                                                   ? std::numeric_limits<std::int32_t>::max()
                                                   : yhi);
  const __m512i vylo = _mm512_set1_epi64(ylo32), vyhi = _mm512_set1_epi64(yhi32);
  const __m512i vlo = _mm512_set1_epi32(ylo32), vhi = _mm512_set1_epi32(yhi32);
  const __m512i one = _mm512_set1_epi64(1), one32 = _mm512_set1_epi32(1);
  const __m512i vzero = _mm512_set1_epi32(q.out_zero), vmask = _mm512_set1_epi32(q.mask);
  const __m512i thirty_one = _mm512_set1_epi32(31);
  // Dword 2k of the even vector, then dword 2k of the odd one: the columns back in order.
  const __m512i interleave =
      _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  const __m512i pick_m0 =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i pick_shift =
      _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i va = _mm512_set1_epi32(static_cast<int>(alpha));
  const bool unit = alpha == 1, has_row = rowcoef != nullptr;
  const __mmask16 all = 0xFFFF;
  const std::int32_t* const bias_col = q.bias ? q.bias + q_col : nullptr;
  const fixed_multiplier* const mult = q.per_channel ? q.mult + q_col : q.mult;
  for (std::size_t j = 0; j < n; j += 16) {
    const __mmask16 k = n - j >= 16 ? all : static_cast<__mmask16>((1u << (n - j)) - 1);
    __m512i m0, sh;       // per column, as dwords
    if (q.per_channel) {  // {m0, shift} pairs, 8 to a vector
      const __m512i ms0 = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(k), mult + j);
      const __m512i ms1 = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(k >> 8), mult + j + 8);
      m0 = _mm512_permutex2var_epi32(ms0, pick_m0, ms1);
      sh = _mm512_permutex2var_epi32(ms0, pick_shift, ms1);  // missing columns: 0, a valid shift
    } else {
      m0 = _mm512_set1_epi32(mult[0].m0);
      sh = _mm512_set1_epi32(mult[0].shift);
    }
    const __m512i s32 = _mm512_sub_epi32(thirty_one, sh);  // 1..62
    const __m512i m0_odd = _mm512_maskz_srli_epi64(0xFF, m0, 32);
    const __m512i s_even = _mm512_maskz_mov_epi32(0x5555, s32),
                  s_odd = _mm512_maskz_srli_epi64(0xFF, s32, 32);
    const __m512i half_even = _mm512_maskz_sllv_epi64(0xFF, one, _mm512_sub_epi64(s_even, one));
    const __m512i half_odd = _mm512_maskz_sllv_epi64(0xFF, one, _mm512_sub_epi64(s_odd, one));
    const __m512i bias =
        bias_col ? _mm512_maskz_loadu_epi32(k, bias_col + j) : _mm512_setzero_si512();
    const __m512i rc = has_row ? _mm512_maskz_loadu_epi32(k, rowcoef + j) : _mm512_setzero_si512();
    const __m512i cc =
        colconst ? _mm512_maskz_loadu_epi32(k, colconst + j) : _mm512_setzero_si512();
    if (_mm512_mask_cmplt_epi32_mask(k, s32, _mm512_set1_epi32(32)) == 0) {
      // Every shift s >= 32 (multipliers below 1/2, the usual case): the high dword of
      // p + 2^(s-1) - [p < 0] shifted by s - 32 is the result, already within int32, so the
      // lanes go back to 32 bits before the shift and the clamp. Shuffles and compares rather
      // than 64-bit shifts keep port 0 (shifts, multiplies, min/max) from limiting the rate.
      const __m512i s_hi = _mm512_sub_epi32(s32, _mm512_set1_epi32(32));
      const __m512i zero = _mm512_setzero_si512();
      for (std::size_t i = 0; i < rows; ++i) {
        const __m512i x = _mm512_add_epi32(
            exact16_avx512(s + i * lds + j, k, va, unit, rc, has_row, has_row ? rowsum[i] : 0, cc),
            bias);
        const __m512i pe = _mm512_maskz_mul_epi32(0xFF, x, m0);
        const __m512i po = _mm512_maskz_mul_epi32(
            0xFF, _mm512_maskz_shuffle_epi32(0xFFFF, x, _MM_PERM_DDBB), m0_odd);
        __m512i te = _mm512_add_epi64(pe, half_even);
        te = _mm512_mask_sub_epi64(te, _mm512_cmplt_epi64_mask(pe, zero), te, one);
        __m512i to = _mm512_add_epi64(po, half_odd);
        to = _mm512_mask_sub_epi64(to, _mm512_cmplt_epi64_mask(po, zero), to, one);
        // High dwords: the even products' moved down into the even slots, the odd ones' in place.
        __m512i v = _mm512_mask_mov_epi32(to, 0x5555,
                                          _mm512_maskz_shuffle_epi32(0xFFFF, te, _MM_PERM_DDBB));
        v = _mm512_maskz_srav_epi32(0xFFFF, v, s_hi);
        v = _mm512_add_epi32(
            _mm512_maskz_min_epi32(0xFFFF, _mm512_maskz_max_epi32(0xFFFF, v, vlo), vhi), vzero);
        if (q.odd) {
          v = _mm512_or_si512(_mm512_add_epi32(v, _mm512_maskz_srai_epi32(0xFFFF, v, 31)), one32);
          v = _mm512_maskz_srai_epi32(0xFFFF, _mm512_add_epi32(v, vmask), 1);
        }
        _mm_mask_storeu_epi8(dst + i * ldd + j, k, _mm512_maskz_cvtepi32_epi8(all, v));
      }
      continue;
    }
    for (std::size_t i = 0; i < rows; ++i) {
      const __m512i x = _mm512_add_epi32(
          exact16_avx512(s + i * lds + j, k, va, unit, rc, has_row, has_row ? rowsum[i] : 0, cc),
          bias);  // wrapping, as the scalar rule
      const __m512i pe = _mm512_maskz_mul_epi32(0xFF, x, m0);
      const __m512i po = _mm512_maskz_mul_epi32(0xFF, _mm512_maskz_srli_epi64(0xFF, x, 32), m0_odd);
      __m512i re = _mm512_maskz_srav_epi64(
          0xFF,
          _mm512_add_epi64(_mm512_add_epi64(pe, half_even), _mm512_maskz_srai_epi64(0xFF, pe, 63)),
          s_even);
      __m512i ro = _mm512_maskz_srav_epi64(
          0xFF,
          _mm512_add_epi64(_mm512_add_epi64(po, half_odd), _mm512_maskz_srai_epi64(0xFF, po, 63)),
          s_odd);
      re = _mm512_maskz_min_epi64(0xFF, _mm512_maskz_max_epi64(0xFF, re, vylo), vyhi);
      ro = _mm512_maskz_min_epi64(0xFF, _mm512_maskz_max_epi64(0xFF, ro, vylo), vyhi);
      __m512i v = _mm512_add_epi32(_mm512_permutex2var_epi32(re, interleave, ro), vzero);
      if (q.odd) {  // an even value moves one step away from zero, then code = (v + mask) / 2
        v = _mm512_or_si512(_mm512_add_epi32(v, _mm512_maskz_srai_epi32(0xFFFF, v, 31)), one32);
        v = _mm512_maskz_srai_epi32(0xFFFF, _mm512_add_epi32(v, vmask), 1);
      }
      _mm_mask_storeu_epi8(dst + i * ldd + j, k, _mm512_maskz_cvtepi32_epi8(all, v));
    }
  }
}

LOWBIT_TARGET_DRIVER512 inline void requant_row_avx512(const std::int32_t* t, std::size_t n,
                                                       const requant_params& q,
                                                       std::uint8_t* dst) noexcept {
  requant_tile_avx512(t, 0, 1, 1, nullptr, nullptr, nullptr, n, q, 0, dst, 0);
}

inline const driver_ops& avx512_driver_ops() noexcept {
  static const driver_ops ops{"avx512",
                              &scan_row_avx512,
                              &exact_row_avx512,
                              &requant_row_avx512,
                              &any_high_avx512,
                              &exact_tile_avx512,
                              &float_row_avx512,
                              &float_tile_avx512,
                              &requant_tile_avx512};
  return ops;
}

}  // namespace detail
}  // namespace lowbit
