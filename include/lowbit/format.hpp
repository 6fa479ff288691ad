// lowbit: operand formats, the one definition of what a code means.
//
// A format is a bit width (1..8) and an encoding. Every encoding is an affine image of an
// unsigned "u-code" u in [0, 2^bits - 1]:  value = alpha * u + beta. Kernels compute dot
// products of u-codes; the epilogue maps them back to values exactly (see docs/architecture.md).
//
//   encoding        code -> value                         u-code             alpha  beta
//   unsigned_int    c                                     c                  1      0
//   signed_int      two's complement of the b-bit code    c XOR 2^(b-1)      1      -2^(b-1)
//   odd_symmetric   2c - (2^b - 1)  (1-bit: {-1,+1})      c                  2      -(2^b - 1)
//   ternary (b=2)   0b00 -> 0, 0b01 -> +1, 0b11 -> -1     value + 1          1      -1
//                   (0b10 is not a valid ternary code)
#pragma once

#include <cstdint>

namespace lowbit {

enum class encoding : std::uint8_t { unsigned_int, signed_int, odd_symmetric, ternary };

constexpr const char* encoding_name(encoding e) noexcept {
  switch (e) {
    case encoding::unsigned_int:
      return "unsigned";
    case encoding::signed_int:
      return "signed";
    case encoding::odd_symmetric:
      return "odd_symmetric";
    case encoding::ternary:
      return "ternary";
  }
  return "?";
}

struct format {
  int bits = 8;
  encoding enc = encoding::unsigned_int;

  constexpr bool operator==(const format& o) const noexcept {
    return bits == o.bits && enc == o.enc;
  }
  constexpr bool operator!=(const format& o) const noexcept { return !(*this == o); }
};

constexpr int min_bits = 1;
constexpr int max_bits = 8;

// A format lowbit supports: 1..8 bits, a known encoding, ternary only as 2 bits.
constexpr bool is_valid(format f) noexcept {
  if (f.bits < min_bits || f.bits > max_bits) return false;
  switch (f.enc) {
    case encoding::unsigned_int:
    case encoding::signed_int:
    case encoding::odd_symmetric:
      return true;
    case encoding::ternary:
      return f.bits == 2;
  }
  return false;
}

constexpr std::uint32_t code_mask(format f) noexcept { return (1u << f.bits) - 1u; }

// The affine map from u-code to value.
struct affine_map {
  std::int32_t alpha;
  std::int32_t beta;
};

constexpr affine_map affine_of(format f) noexcept {
  switch (f.enc) {
    case encoding::unsigned_int:
      return {1, 0};
    case encoding::signed_int:
      return {1, -(std::int32_t{1} << (f.bits - 1))};
    case encoding::odd_symmetric:
      return {2, -static_cast<std::int32_t>(code_mask(f))};
    case encoding::ternary:
      return {1, -1};
  }
  return {1, 0};
}

// Whether `code` (already masked to `bits`) is a valid code of the format.
constexpr bool is_valid_code(format f, std::uint32_t code) noexcept {
  return code <= code_mask(f) && !(f.enc == encoding::ternary && code == 2u);
}

// The value of a valid code (low `bits` bits).
constexpr std::int32_t code_value(format f, std::uint32_t code) noexcept {
  switch (f.enc) {
    case encoding::unsigned_int:
      return static_cast<std::int32_t>(code);
    case encoding::signed_int: {
      const std::uint32_t sign = 1u << (f.bits - 1);
      return static_cast<std::int32_t>(code ^ sign) - static_cast<std::int32_t>(sign);
    }
    case encoding::odd_symmetric:
      return 2 * static_cast<std::int32_t>(code) - static_cast<std::int32_t>(code_mask(f));
    case encoding::ternary:
      return code == 1u ? 1 : (code == 3u ? -1 : 0);
  }
  return 0;
}

// The one code -> u-code map, as byte operations: u = ((code + add) XOR flip) AND code_mask.
// Signed: flip the sign bit; ternary: add 1 (codes 00, 01, 11, values 0, 1, -1, to value + 1);
// unsigned and odd-symmetric: the code itself. u_code, the byte table (detail::u_table,
// detail/codes.hpp) and the driver's vectorised form (detail::u_transform, detail/row_scan.hpp)
// all derive from it.
struct u_map {
  std::uint8_t add;
  std::uint8_t flip;
};

constexpr u_map u_map_of(format f) noexcept {
  switch (f.enc) {
    case encoding::unsigned_int:
    case encoding::odd_symmetric:
      return {0, 0};
    case encoding::signed_int:
      return {0, static_cast<std::uint8_t>(1u << (f.bits - 1))};
    case encoding::ternary:
      return {1, 0};
  }
  return {0, 0};
}

// The u-code of a valid code: value == alpha * u + beta.
constexpr std::uint8_t u_code(format f, std::uint32_t code) noexcept {
  const u_map m = u_map_of(f);
  return static_cast<std::uint8_t>(((code + m.add) ^ m.flip) & code_mask(f));
}

constexpr std::int32_t min_value(format f) noexcept {
  const affine_map m = affine_of(f);
  return m.beta;
}

constexpr std::int32_t max_value(format f) noexcept {
  const affine_map m = affine_of(f);
  return f.enc == encoding::ternary ? 1
                                    : m.alpha * static_cast<std::int32_t>(code_mask(f)) + m.beta;
}

// The code of a value, or -1 when the format cannot represent it exactly.
constexpr std::int32_t code_of_value(format f, std::int32_t v) noexcept {
  if (v < min_value(f) || v > max_value(f)) return -1;
  switch (f.enc) {
    case encoding::unsigned_int:
      return v;
    case encoding::signed_int:
      return v & static_cast<std::int32_t>(code_mask(f));
    case encoding::odd_symmetric: {
      const std::int32_t t = v + static_cast<std::int32_t>(code_mask(f));
      return (t & 1) ? -1 : t / 2;
    }
    case encoding::ternary:
      return v == 0 ? 0 : (v == 1 ? 1 : 3);
  }
  return -1;
}

}  // namespace lowbit
