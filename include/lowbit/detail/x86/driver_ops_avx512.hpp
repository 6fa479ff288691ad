// lowbit internal: the driver's pre-pass and epilogue on AVX-512 (F, BW). Chosen by
// driver_ops.hpp; see there.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/driver_ops_generic.hpp"
#include "lowbit/detail/row_scan.hpp"

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

// requant_row_generic, 8 outputs per step in 64-bit lanes: the product x * m0 is exact in 64
// bits, rounded half away from zero by |p| + 2^(s-1) >> s with a per-lane s, then saturated,
// offset, made odd (odd-symmetric), clamped and narrowed exactly as the scalar rule does. The
// masked (maskz) forms avoid GCC 12's -Wuninitialized on the plain intrinsics' undefined operand.
LOWBIT_TARGET_DRIVER512 inline void requant_row_avx512(const std::int32_t* t, std::size_t n,
                                                       const requant_params& q,
                                                       std::uint8_t* dst) noexcept {
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi64(1);
  const __m512i i32max = _mm512_set1_epi64(0x7FFFFFFF), i32min = _mm512_set1_epi64(-0x80000000LL);
  const __m512i vzero = _mm512_set1_epi64(q.out_zero), vmask = _mm512_set1_epi64(q.mask);
  const __m512i vlo = _mm512_set1_epi64(q.lo), vhi = _mm512_set1_epi64(q.hi);
  const __m512i m0_one = _mm512_set1_epi64(q.mult[0].m0);
  const __m512i s_one = _mm512_set1_epi64(31 - q.mult[0].shift);
  const __m512i thirty_one = _mm512_set1_epi64(31);
  for (std::size_t j = 0; j < n; j += 8) {
    const __mmask8 live = n - j >= 8 ? __mmask8{0xFF} : static_cast<__mmask8>((1u << (n - j)) - 1);
    __m256i x32 = _mm256_maskz_loadu_epi32(live, t + j);
    if (q.bias) x32 = _mm256_add_epi32(x32, _mm256_maskz_loadu_epi32(live, q.bias + j));
    const __m512i x = _mm512_maskz_cvtepi32_epi64(0xFF, x32);
    __m512i m0 = m0_one, s = s_one;
    if (q.per_channel) {  // {m0, shift} pairs: one qword per column
      const __m512i ms = _mm512_maskz_loadu_epi64(live, q.mult + j);
      m0 = _mm512_maskz_srai_epi64(0xFF, _mm512_maskz_slli_epi64(0xFF, ms, 32), 32);
      s = _mm512_sub_epi64(thirty_one, _mm512_maskz_srai_epi64(0xFF, ms, 32));
      s = _mm512_mask_mov_epi64(thirty_one, live, s);  // dead lanes: any valid shift
    }
    const __m512i p = _mm512_maskz_mul_epi32(0xFF, x, m0);
    const __m512i half = _mm512_maskz_sllv_epi64(0xFF, one, _mm512_sub_epi64(s, one));
    const __m512i r =
        _mm512_maskz_srlv_epi64(0xFF, _mm512_add_epi64(_mm512_maskz_abs_epi64(0xFF, p), half), s);
    __m512i v = _mm512_mask_sub_epi64(r, _mm512_cmplt_epi64_mask(p, zero), zero, r);
    v = _mm512_maskz_min_epi64(0xFF, _mm512_maskz_max_epi64(0xFF, v, i32min), i32max);
    v = _mm512_add_epi64(v, vzero);
    if (q.odd) {
      const __mmask8 even = _mm512_testn_epi64_mask(v, one);
      const __mmask8 pos = _mm512_cmpge_epi64_mask(v, zero);
      v = _mm512_mask_add_epi64(v, even & pos, v, one);
      v = _mm512_mask_sub_epi64(v, even & static_cast<__mmask8>(~pos), v, one);
    }
    v = _mm512_maskz_min_epi64(0xFF, _mm512_maskz_max_epi64(0xFF, v, vlo), vhi);
    if (q.odd) v = _mm512_maskz_srai_epi64(0xFF, _mm512_add_epi64(v, vmask), 1);
    _mm512_mask_cvtepi64_storeu_epi8(dst + j, live, v);
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

// float_row_generic, 16 columns per step, the tail masked. The empty asm keeps each product a
// rounded value the add cannot fuse into an FMA, as in the scalar row.
LOWBIT_TARGET_DRIVER512 inline void float_row_avx512(const std::int32_t* t, std::size_t n,
                                                     const float_params& q, float* dst) noexcept {
  const __m512 a_scale = _mm512_set1_ps(q.a_scale), lo = _mm512_set1_ps(q.lo),
               hi = _mm512_set1_ps(q.hi), zero = _mm512_setzero_ps();
  const __m512 one_scale = _mm512_mul_ps(a_scale, _mm512_set1_ps(q.w_scales[0]));
  // The masked forms with an explicit source: GCC 12 warns on the plain ones' undefined source.
  const __mmask16 all = 0xFFFF;
  for (std::size_t j = 0; j < n; j += 16) {
    const __mmask16 k = n - j >= 16 ? all : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 scale = q.per_channel
                             ? _mm512_mul_ps(a_scale, _mm512_maskz_loadu_ps(k, q.w_scales + j))
                             : one_scale;
    __m512 v = _mm512_mul_ps(_mm512_mask_cvtepi32_ps(zero, all, _mm512_maskz_loadu_epi32(k, t + j)),
                             scale);
    __asm__("" : "+v"(v));
    if (q.bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, q.bias + j));
    // max(lo, v) and min(hi, v) return v when it is NaN, as the scalar comparisons do.
    v = _mm512_mask_min_ps(zero, all, hi, _mm512_mask_max_ps(zero, all, lo, v));
    _mm512_mask_storeu_ps(dst + j, k, v);
  }
}

inline const driver_ops& avx512_driver_ops() noexcept {
  static const driver_ops ops{
      "avx512",         &scan_row_avx512,   &exact_row_avx512, &requant_row_avx512,
      &any_high_avx512, &exact_tile_avx512, &float_row_avx512};
  return ops;
}

}  // namespace detail
}  // namespace lowbit
