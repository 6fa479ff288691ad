// lowbit internal: the driver's pre-pass and epilogue on AVX2. Included by driver_ops.hpp only;
// see there.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/row_scan.hpp"

#define LOWBIT_TARGET_DRIVER_AVX2 __attribute__((target("popcnt,avx2,fma,bmi2")))

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

LOWBIT_TARGET_DRIVER_AVX2 inline void exact_row_avx2(const std::int32_t* s, std::uint32_t alpha,
                                                     const std::uint32_t* rowcoef, std::uint32_t sa,
                                                     const std::uint32_t* colconst, std::size_t n,
                                                     std::int32_t* t) noexcept {
  const __m256i va = _mm256_set1_epi32(static_cast<int>(alpha));
  const __m256i vsa = _mm256_set1_epi32(static_cast<int>(sa));
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + j));
    if (alpha != 1) v = _mm256_mullo_epi32(v, va);
    const __m256i r =
        _mm256_mullo_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rowcoef + j)), vsa);
    v = _mm256_add_epi32(
        v, _mm256_add_epi32(r, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(colconst + j))));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(t + j), v);
  }
  exact_row_generic(s + j, alpha, rowcoef + j, sa, colconst + j, n - j, t + j);
}

inline const driver_ops& avx2_driver_ops() noexcept {
  static const driver_ops ops{"avx2", &scan_row_avx2, &exact_row_avx2, &requant_row_generic};
  return ops;
}

}  // namespace detail
}  // namespace lowbit
