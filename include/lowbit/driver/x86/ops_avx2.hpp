// lowbit internal: the driver's pre-pass and epilogue on AVX2. Chosen by driver/ops.hpp; see
// there. The row scans and the requantizing row are this level's own; the exact, float and
// fused-tile rows are ops_body_x86-inl.hpp's on ymm.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/detail/row_scan.hpp"
#include "lowbit/driver/ops_generic.hpp"
#include "lowbit/isa.hpp"

#define LOWBIT_DRIVER_NS driver_avx2
#define LOWBIT_DRIVER_TARGET LOWBIT_X86_TARGET_AVX2
#define LOWBIT_DRIVER_VEC detail::x86::vec_avx2
#include "lowbit/driver/x86/ops_body_x86-inl.hpp"

#define LOWBIT_TARGET_DRIVER_AVX2 __attribute__((target(LOWBIT_X86_TARGET_AVX2)))

namespace lowbit {
namespace detail {

// Row scan, 32 codes per step; the general formats and the tail go through the SSE2 scan.
LOWBIT_TARGET_DRIVER_AVX2 inline std::uint32_t scan_row_avx2(const u_transform& t,
                                                             const std::uint8_t* row, std::size_t k,
                                                             bool& bad) noexcept {
  if (!t.identity) return scan_row_bytes(t, row, k, bad);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i high = _mm256_set1_epi8(static_cast<char>(t.high));
  __m256i badv = zero, badv2 = zero, sums = zero, sums2 = zero;
  std::size_t x = 0;
  for (; x + 64 <= k; x += 64) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + x));
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + x + 32));
    badv = _mm256_or_si256(badv, _mm256_and_si256(v, high));
    badv2 = _mm256_or_si256(badv2, _mm256_and_si256(w, high));
    sums = _mm256_add_epi64(sums, _mm256_sad_epu8(v, zero));
    sums2 = _mm256_add_epi64(sums2, _mm256_sad_epu8(w, zero));
  }
  bool tail_bad = false;
  const std::uint32_t tail = scan_row_bytes(t, row + x, k - x, tail_bad);
  badv = _mm256_or_si256(badv, badv2);
  sums = _mm256_add_epi64(sums, sums2);
  bad = tail_bad || !_mm256_testz_si256(badv, badv);
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(_mm_cvtsi128_si64(s)) +
                                    static_cast<std::uint64_t>(_mm_extract_epi64(s, 1))) +
         tail;
}

// Validation without sums: OR every byte together, test the high bits once.
LOWBIT_TARGET_DRIVER_AVX2 inline bool any_high_avx2(const std::uint8_t* p, std::size_t n,
                                                    std::uint8_t high) noexcept {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  std::size_t x = 0;
  for (; x + 64 <= n; x += 64) {
    acc0 = _mm256_or_si256(acc0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + x)));
    acc1 = _mm256_or_si256(acc1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + x + 32)));
  }
  const __m256i hi =
      _mm256_and_si256(_mm256_or_si256(acc0, acc1), _mm256_set1_epi8(static_cast<char>(high)));
  std::uint8_t tail = 0;
  for (; x < n; ++x) tail |= p[x];
  return !_mm256_testz_si256(hi, hi) || (tail & high) != 0;
}

// The level's table; requant_row (below) is declared by the body.
inline const driver_ops& avx2_driver_ops() noexcept {
  static const driver_ops ops = driver_avx2::table("avx2", &scan_row_avx2, &any_high_avx2);
  return ops;
}

namespace driver_avx2 {

// requant_row_generic, 4 outputs per step in 64-bit lanes (AVX2 has no 64-bit abs, min/max or
// arithmetic shift: signs are taken apart with compares and xor, bounds applied with blends); the
// last n % 4 outputs go through the scalar rule.
LOWBIT_TARGET_DRIVER_AVX2 inline void requant_row(const std::int32_t* t, std::size_t n,
                                                  const requant_params& q,
                                                  std::uint8_t* dst) noexcept {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi64x(1);
  const __m256i i32max = _mm256_set1_epi64x(0x7FFFFFFF), i32min = _mm256_set1_epi64x(-0x80000000LL);
  const __m256i vzero = _mm256_set1_epi64x(q.out_zero), vmask = _mm256_set1_epi64x(q.mask);
  const __m256i vlo = _mm256_set1_epi64x(q.lo), vhi = _mm256_set1_epi64x(q.hi);
  const __m256i thirty_one = _mm256_set1_epi64x(31);
  const __m256i pick_low =
      _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 8, -1, -1,
                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i m0_one = _mm256_set1_epi64x(q.mult[0].m0);
  const __m256i s_one = _mm256_set1_epi64x(31 - q.mult[0].shift);
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    __m128i x32 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + j));
    if (q.bias)
      x32 = _mm_add_epi32(x32, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q.bias + j)));
    const __m256i x = _mm256_cvtepi32_epi64(x32);
    __m256i m0 = m0_one, s = s_one;
    if (q.per_channel) {  // {m0, shift} pairs: m0 from the even dwords, shift from the odd ones
      const __m256i ms = _mm256_permutevar8x32_epi32(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.mult + j)),
          _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
      m0 = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(ms));
      s = _mm256_sub_epi64(thirty_one, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(ms, 1)));
    }
    const __m256i p = _mm256_mul_epi32(x, m0);
    const __m256i neg = _mm256_cmpgt_epi64(zero, p);
    const __m256i mag = _mm256_sub_epi64(_mm256_xor_si256(p, neg), neg);
    const __m256i half = _mm256_sllv_epi64(one, _mm256_sub_epi64(s, one));
    const __m256i r = _mm256_srlv_epi64(_mm256_add_epi64(mag, half), s);
    __m256i v = _mm256_sub_epi64(_mm256_xor_si256(r, neg), neg);
    v = _mm256_blendv_epi8(v, i32max, _mm256_cmpgt_epi64(v, i32max));
    v = _mm256_blendv_epi8(v, i32min, _mm256_cmpgt_epi64(i32min, v));
    v = _mm256_add_epi64(v, vzero);
    if (q.odd) {  // an even value moves one step away from zero
      const __m256i even = _mm256_cmpeq_epi64(_mm256_and_si256(v, one), zero);
      const __m256i away = _mm256_or_si256(one, _mm256_cmpgt_epi64(zero, v));  // +1 or -1
      v = _mm256_add_epi64(v, _mm256_and_si256(even, away));
    }
    v = _mm256_blendv_epi8(v, vlo, _mm256_cmpgt_epi64(vlo, v));
    v = _mm256_blendv_epi8(v, vhi, _mm256_cmpgt_epi64(v, vhi));
    if (q.odd) v = _mm256_srli_epi64(_mm256_add_epi64(v, vmask), 1);  // v + mask >= 0 here
    const __m256i b = _mm256_shuffle_epi8(v, pick_low);  // low byte of each lane, per half
    const __m128i four =
        _mm_unpacklo_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    const auto bytes = static_cast<std::uint32_t>(_mm_cvtsi128_si32(four));
    std::memcpy(dst + j, &bytes, 4);
  }
  if (j < n) requant_row_generic(t + j, n - j, requant_params_at(q, j), dst + j);
}

}  // namespace driver_avx2
}  // namespace detail
}  // namespace lowbit
