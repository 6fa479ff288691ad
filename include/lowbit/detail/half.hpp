// lowbit internal: IEEE binary16 <-> binary32, exact only. Pack-time group scales are stored
// in 16 bits when every one converts to binary16 and back to the same 32 bits
// (float_to_half_exact), and read back with half_to_float, which gives what x86's vcvtph2ps
// gives (NaNs come back quiet: a signalling binary16 NaN gets its quiet bit set, as the
// conversion instructions do).
#pragma once

#include <cstdint>
#include <cstring>

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

}  // namespace detail
}  // namespace lowbit
