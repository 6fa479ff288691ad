// lowbit internal: the activation pre-pass, fast. Validates every code and sums the u-codes of
// each row (the epilogue's row sums) in one read of A, and converts codes to u-codes where the
// format needs it. With one byte per code this runs per call over M x K bytes, which for low-bit
// kernels is comparable to the GEMM itself at small N, so it is vectorised: SSE2 (the x86-64
// baseline, no dispatch needed), NEON on Arm, plain C++ elsewhere.
//
// u-code of a byte x: u = ((x + add) XOR flip) AND mask, format.hpp's u_map_of applied to the
// whole byte (ternary codes 00, 01, 11 and the int8 values 0, 1, -1 all map to value + 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/detail/codes.hpp"
#include "lowbit/format.hpp"
#include "lowbit/matrix.hpp"
#include "lowbit/status.hpp"

#if defined(__SSE2__) && !defined(LOWBIT_PORTABLE)
#include <emmintrin.h>
#define LOWBIT_ROW_SCAN_SSE2 1
#elif defined(__aarch64__) && !defined(LOWBIT_PORTABLE)
#include <arm_neon.h>
#define LOWBIT_ROW_SCAN_NEON 1
#endif

namespace lowbit {
namespace detail {

struct u_transform {
  std::uint8_t add, flip, mask, high, sign;
  bool sign_extension_ok;  // signed and ternary bytes may be int8 values
  bool ternary;
  bool identity;  // u == x for every valid byte
};

inline u_transform make_u_transform(format f) noexcept {
  u_transform t{};
  t.mask = static_cast<std::uint8_t>(code_mask(f));
  t.high = static_cast<std::uint8_t>(~t.mask);
  t.sign = static_cast<std::uint8_t>(1u << (f.bits - 1));
  t.sign_extension_ok = f.enc == encoding::signed_int || f.enc == encoding::ternary;
  t.ternary = f.enc == encoding::ternary;
  const u_map m = u_map_of(f);  // the one u-code map (format.hpp)
  t.add = m.add;
  t.flip = m.flip;
  t.identity = m.add == 0 && m.flip == 0;
  return t;
}

inline bool byte_is_valid(const u_transform& t, std::uint8_t x) noexcept {
  const std::uint8_t hi = x & t.high;
  bool ok = hi == 0 || (t.sign_extension_ok && hi == t.high && (x & t.sign) != 0);
  if (t.ternary && (x & 3u) == 2u) ok = false;
  return ok;
}

inline std::uint8_t byte_to_u(const u_transform& t, std::uint8_t x) noexcept {
  return static_cast<std::uint8_t>(((x + t.add) ^ t.flip) & t.mask);
}

// Validates one row of bytes and returns the sum of its u-codes; `bad` is set when any byte is
// invalid (the caller then finds which).
inline std::uint32_t scan_row_bytes(const u_transform& t, const std::uint8_t* row, std::size_t k,
                                    bool& bad) noexcept {
  std::size_t x = 0;
  std::uint64_t sum = 0;
  bool any_bad = false;
#if defined(LOWBIT_ROW_SCAN_SSE2)
  const __m128i zero = _mm_setzero_si128();
  const __m128i high = _mm_set1_epi8(static_cast<char>(t.high));
  const __m128i sign = _mm_set1_epi8(static_cast<char>(t.sign));
  const __m128i add = _mm_set1_epi8(static_cast<char>(t.add));
  const __m128i flip = _mm_set1_epi8(static_cast<char>(t.flip));
  const __m128i mask = _mm_set1_epi8(static_cast<char>(t.mask));
  const __m128i three = _mm_set1_epi8(3), two = _mm_set1_epi8(2);
  const __m128i sext = t.sign_extension_ok ? _mm_set1_epi8(-1) : zero;
  const __m128i tern = t.ternary ? _mm_set1_epi8(-1) : zero;
  __m128i badv = zero, sums = zero;
  if (t.identity) {  // unsigned, odd-symmetric: valid iff no bit above the width; u = byte
    __m128i badv2 = zero, sums2 = zero;
    for (; x + 32 <= k; x += 32) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x));
      const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x + 16));
      badv = _mm_or_si128(badv, _mm_and_si128(v, high));
      badv2 = _mm_or_si128(badv2, _mm_and_si128(w, high));
      sums = _mm_add_epi64(sums, _mm_sad_epu8(v, zero));
      sums2 = _mm_add_epi64(sums2, _mm_sad_epu8(w, zero));
    }
    badv = _mm_or_si128(badv, badv2);
    sums = _mm_add_epi64(sums, sums2);
  }
  for (; x + 16 <= k; x += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x));
    const __m128i hi = _mm_and_si128(v, high);
    const __m128i hi_zero = _mm_cmpeq_epi8(hi, zero);
    const __m128i neg_ok = _mm_and_si128(
        sext,
        _mm_and_si128(_mm_cmpeq_epi8(hi, high), _mm_cmpeq_epi8(_mm_and_si128(v, sign), sign)));
    __m128i b = _mm_andnot_si128(_mm_or_si128(hi_zero, neg_ok), _mm_set1_epi8(-1));
    b = _mm_or_si128(b, _mm_and_si128(tern, _mm_cmpeq_epi8(_mm_and_si128(v, three), two)));
    badv = _mm_or_si128(badv, b);
    const __m128i u = _mm_and_si128(_mm_xor_si128(_mm_add_epi8(v, add), flip), mask);
    sums = _mm_add_epi64(sums, _mm_sad_epu8(u, zero));
  }
  any_bad = _mm_movemask_epi8(_mm_cmpeq_epi8(badv, zero)) != 0xFFFF;
  sum = static_cast<std::uint64_t>(_mm_cvtsi128_si64(sums)) +
        static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
#elif defined(LOWBIT_ROW_SCAN_NEON)
  const uint8x16_t high = vdupq_n_u8(t.high), sign = vdupq_n_u8(t.sign), add = vdupq_n_u8(t.add);
  const uint8x16_t flip = vdupq_n_u8(t.flip), mask = vdupq_n_u8(t.mask);
  const uint8x16_t sext = vdupq_n_u8(t.sign_extension_ok ? 0xFF : 0);
  const uint8x16_t tern = vdupq_n_u8(t.ternary ? 0xFF : 0);
  uint8x16_t badv = vdupq_n_u8(0);
  uint32x4_t sums = vdupq_n_u32(0);
  for (; x + 16 <= k; x += 16) {
    const uint8x16_t v = vld1q_u8(row + x);
    const uint8x16_t hi = vandq_u8(v, high);
    const uint8x16_t ok =
        vorrq_u8(vceqzq_u8(hi), vandq_u8(sext, vandq_u8(vceqq_u8(hi, high), vtstq_u8(v, sign))));
    uint8x16_t b = vmvnq_u8(ok);
    b = vorrq_u8(b, vandq_u8(tern, vceqq_u8(vandq_u8(v, vdupq_n_u8(3)), vdupq_n_u8(2))));
    badv = vorrq_u8(badv, b);
    const uint8x16_t u = vandq_u8(veorq_u8(vaddq_u8(v, add), flip), mask);
    sums = vpadalq_u16(sums, vpaddlq_u8(u));
  }
  any_bad = vmaxvq_u8(badv) != 0;
  sum = vaddvq_u32(sums);
#endif
  for (; x < k; ++x) {
    any_bad |= !byte_is_valid(t, row[x]);
    sum += byte_to_u(t, row[x]);
  }
  bad = any_bad;
  return static_cast<std::uint32_t>(sum);
}

// Whether any of n bytes has a bit of `high` set: validation alone for unsigned and
// odd-symmetric codes (valid iff no bit above the width), when the row sums are not needed.
inline bool any_high_bytes(const std::uint8_t* p, std::size_t n, std::uint8_t high) noexcept {
  std::size_t x = 0;
  bool bad = false;
#if defined(LOWBIT_ROW_SCAN_SSE2)
  __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
  for (; x + 32 <= n; x += 32) {
    acc0 = _mm_or_si128(acc0, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + x)));
    acc1 = _mm_or_si128(acc1, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + x + 16)));
  }
  const __m128i hi =
      _mm_and_si128(_mm_or_si128(acc0, acc1), _mm_set1_epi8(static_cast<char>(high)));
  bad = _mm_movemask_epi8(_mm_cmpeq_epi8(hi, _mm_setzero_si128())) != 0xFFFF;
#elif defined(LOWBIT_ROW_SCAN_NEON)
  uint8x16_t acc = vdupq_n_u8(0);
  for (; x + 16 <= n; x += 16) acc = vorrq_u8(acc, vld1q_u8(p + x));
  bad = vmaxvq_u8(vandq_u8(acc, vdupq_n_u8(high))) != 0;
#endif
  std::uint8_t tail = 0;
  for (; x < n; ++x) tail |= p[x];
  return bad || (tail & high) != 0;
}

inline void convert_row_bytes(const u_transform& t, const std::uint8_t* row, std::size_t k,
                              std::uint8_t* out) noexcept {
  std::size_t x = 0;
#if defined(LOWBIT_ROW_SCAN_SSE2)
  const __m128i add = _mm_set1_epi8(static_cast<char>(t.add));
  const __m128i flip = _mm_set1_epi8(static_cast<char>(t.flip));
  const __m128i mask = _mm_set1_epi8(static_cast<char>(t.mask));
  for (; x + 16 <= k; x += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + x));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + x),
                     _mm_and_si128(_mm_xor_si128(_mm_add_epi8(v, add), flip), mask));
  }
#elif defined(LOWBIT_ROW_SCAN_NEON)
  const uint8x16_t add = vdupq_n_u8(t.add), flip = vdupq_n_u8(t.flip), mask = vdupq_n_u8(t.mask);
  for (; x + 16 <= k; x += 16)
    vst1q_u8(out + x, vandq_u8(veorq_u8(vaddq_u8(vld1q_u8(row + x), add), flip), mask));
#endif
  for (; x < k; ++x) out[x] = byte_to_u(t, row[x]);
}

// Validates rows [r0, r0 + nr) of `m` and writes each row's sum of u-codes (mod 2^32) into
// sums[row - r0]. On an invalid code returns errc::invalid_code naming its flat index
// (row * cols + col) in `m`. `scan_row` is the one-row scan for one-byte codes (driver/ops.hpp:
// an AVX2 or AVX-512 version when the kernel allows it); by default the baseline scan_row_bytes.
inline status scan_row_block(const matrix_ref& m, format f, std::size_t r0, std::size_t nr,
                             std::uint32_t* sums, const char* name,
                             std::uint32_t (*scan_row)(const u_transform&, const std::uint8_t*,
                                                       std::size_t,
                                                       bool&) noexcept = nullptr) noexcept {
  if (scan_row == nullptr) scan_row = &scan_row_bytes;
  const u_transform t = make_u_transform(f);
  const std::size_t stride = effective_stride(m, f.bits);
  const auto* base = static_cast<const std::uint8_t*>(m.data);
  for (std::size_t i = 0; i < nr; ++i) {
    const std::size_t r = r0 + i;
    const std::uint8_t* row = base + r * stride;
    if (m.store == storage::one_per_byte) {
      bool bad = false;
      sums[i] = scan_row(t, row, m.cols, bad);
      if (bad)
        for (std::size_t k = 0; k < m.cols; ++k)
          if (!byte_is_valid(t, row[k]))
            return {errc::invalid_code, name, static_cast<std::int64_t>(r * m.cols + k)};
    } else {
      std::uint32_t s = 0;
      for (std::size_t k = 0; k < m.cols; ++k) {
        const std::uint32_t c = read_bitpacked(row, k, f.bits);
        if (!is_valid_code(f, c))
          return {errc::invalid_code, name, static_cast<std::int64_t>(r * m.cols + k)};
        s += u_code(f, c);
      }
      sums[i] = s;
    }
  }
  return status::success();
}

// Validates rows [r0, r0 + nr) of `m` without summing them (the kernel's weights store values, so
// the epilogue needs no row sums). Same error as scan_row_block. `any_high` is the driver's
// vector check (driver/ops.hpp); it serves unsigned and odd-symmetric one-byte codes, which
// are valid iff no bit above the width is set; other formats go through the full scan.
inline status validate_row_block(const matrix_ref& m, format f, std::size_t r0, std::size_t nr,
                                 std::uint32_t* scratch_sums, const char* name,
                                 bool (*any_high)(const std::uint8_t*, std::size_t,
                                                  std::uint8_t) noexcept,
                                 std::uint32_t (*scan_row)(const u_transform&, const std::uint8_t*,
                                                           std::size_t, bool&) noexcept) noexcept {
  const u_transform t = make_u_transform(f);
  if (m.store != storage::one_per_byte || !t.identity)
    return scan_row_block(m, f, r0, nr, scratch_sums, name, scan_row);
  if (t.high == 0) return status::success();  // 8-bit codes: every byte is valid
  const std::size_t stride = effective_stride(m, f.bits);
  const auto* base = static_cast<const std::uint8_t*>(m.data) + r0 * stride;
  // Contiguous rows are one span: one call, one reduction.
  const bool bad = stride == m.cols ? any_high(base, nr * m.cols, t.high) : [&] {
    for (std::size_t i = 0; i < nr; ++i)
      if (any_high(base + i * stride, m.cols, t.high)) return true;
    return false;
  }();
  if (!bad) return status::success();
  for (std::size_t i = 0; i < nr; ++i)
    for (std::size_t k = 0; k < m.cols; ++k)
      if (!byte_is_valid(t, base[i * stride + k]))
        return {errc::invalid_code, name, static_cast<std::int64_t>((r0 + i) * m.cols + k)};
  return status::success();
}

// All rows of `m`; see scan_row_block.
inline status scan_rows(const matrix_ref& m, format f, std::uint32_t* sums, const char* name,
                        std::uint32_t (*scan_row)(const u_transform&, const std::uint8_t*,
                                                  std::size_t, bool&) noexcept = nullptr) noexcept {
  return scan_row_block(m, f, 0, m.rows, sums, name, scan_row);
}

}  // namespace detail
}  // namespace lowbit
