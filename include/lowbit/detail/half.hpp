// lowbit internal: IEEE binary16 <-> binary32, exact only. Pack-time group scales are stored
// in 16 bits when every one converts to binary16 and back to the same 32 bits
// (float_to_half_exact), and read back with half_to_float, which gives what x86's vcvtph2ps
// gives (NaNs come back quiet: a signalling binary16 NaN gets its quiet bit set, as the
// conversion instructions do).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/isa.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(LOWBIT_PORTABLE)
#include <immintrin.h>
#define LOWBIT_HALF_AVX512 1
#elif defined(__aarch64__) && defined(__ARM_NEON) && !defined(LOWBIT_PORTABLE)
#include <arm_neon.h>
#define LOWBIT_HALF_NEON 1
#endif

namespace lowbit {
namespace detail {

inline float bits_to_float(std::uint32_t b) noexcept {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
inline std::uint32_t float_to_bits(float f) noexcept {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// The binary32 value of binary16 bits h (exact: every binary16 value is a binary32 value).
inline float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
  const std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
  if (exp == 0x1F)  // infinity, or a NaN (quiet, payload kept)
    return bits_to_float(sign | 0x7F800000u | (mant != 0 ? 0x400000u : 0u) | (mant << 13));
  if (exp != 0) return bits_to_float(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return bits_to_float(sign);  // +-0
  // Subnormal: mant * 2^-24, normalised.
  std::uint32_t e = 113, m = mant;
  while ((m & 0x400u) == 0) {
    m <<= 1;
    --e;
  }
  return bits_to_float(sign | (e << 23) | ((m & 0x3FFu) << 13));
}

// A signalling binary16 NaN made quiet (what half_to_float and vcvtph2ps read it as); other
// values unchanged.
inline std::uint16_t quiet_half(std::uint16_t h) noexcept {
  return (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0 ? static_cast<std::uint16_t>(h | 0x200u) : h;
}

// The binary16 bits of f when half_to_float gives f back bit for bit (zeros, infinities, quiet
// NaNs whose low 13 payload bits are zero, and values of 11 significant bits in binary16's
// range, subnormals included); false otherwise (h untouched).
inline bool float_to_half_exact(float f, std::uint16_t& h) noexcept {
  const std::uint32_t b = float_to_bits(f);
  const auto sign = static_cast<std::uint16_t>((b >> 16) & 0x8000u);
  const std::uint32_t exp = (b >> 23) & 0xFFu, mant = b & 0x7FFFFFu;
  if (exp == 0xFF) {
    if (mant == 0) {
      h = static_cast<std::uint16_t>(sign | 0x7C00u);
      return true;
    }
    if ((mant & 0x1FFFu) != 0 || (mant & 0x400000u) == 0) return false;
    h = static_cast<std::uint16_t>(sign | 0x7C00u | (mant >> 13));
    return true;
  }
  if (exp == 0) {  // zero, or a binary32 subnormal (below binary16's range)
    if (mant != 0) return false;
    h = sign;
    return true;
  }
  const int e = static_cast<int>(exp) - 127;
  if (e > 15 || e < -24) return false;
  if (e >= -14) {
    if ((mant & 0x1FFFu) != 0) return false;
    h = static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(e + 15) << 10 | (mant >> 13));
    return true;
  }
  // A binary16 subnormal: (2^23 + mant) * 2^(e - 23) = m * 2^-24, m = (2^23 + mant) >> -(e + 1).
  const std::uint32_t full = 0x800000u | mant;
  const int shift = -(e + 1);  // 14..23
  if ((full & ((1u << shift) - 1)) != 0) return false;
  h = static_cast<std::uint16_t>(sign | (full >> shift));
  return true;
}

#if defined(LOWBIT_HALF_AVX512)
__attribute__((target(LOWBIT_X86_TARGET_AVX512))) inline void halves_to_floats_avx512(
    const std::uint16_t* h, std::size_t n, float* out) noexcept {
  std::size_t x = 0;
  for (; x + 16 <= n; x += 16)
    _mm512_storeu_ps(
        out + x,
        _mm512_maskz_cvtph_ps(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + x))));
  for (; x < n; ++x) out[x] = half_to_float(h[x]);
}
#endif

#if defined(LOWBIT_HALF_NEON)
// AArch64's fcvtl: exact, NaNs quiet with their payload (the default FPCR: no default-NaN mode,
// binary16 subnormals not flushed); Armv7 NEON would flush subnormals, so it converts one by one.
inline void halves_to_floats_neon(const std::uint16_t* h, std::size_t n, float* out) noexcept {
  std::size_t x = 0;
  for (; x + 4 <= n; x += 4)
    vst1q_f32(out + x, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + x))));
  for (; x < n; ++x) out[x] = half_to_float(h[x]);
}
#endif

// out[x] = half_to_float(h[x]) for x < n: vcvtph2ps (the same values) when `features` (the
// running kernel's) include AVX-512, fcvtl on AArch64, else one element at a time.
inline void halves_to_floats(const std::uint16_t* h, std::size_t n, float* out,
                             feature_set features) noexcept {
#if defined(LOWBIT_HALF_AVX512)
  if ((features & x86_avx512) == x86_avx512) return halves_to_floats_avx512(h, n, out);
#elif defined(LOWBIT_HALF_NEON)
  (void)features;
  return halves_to_floats_neon(h, n, out);
#else
  (void)features;
#endif
  for (std::size_t x = 0; x < n; ++x) out[x] = half_to_float(h[x]);
}

}  // namespace detail
}  // namespace lowbit
