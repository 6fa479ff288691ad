// lowbit internal: validating caller codes and turning them into u-codes, one per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "lowbit/format.hpp"
#include "lowbit/matrix.hpp"
#include "lowbit/status.hpp"

namespace lowbit {
namespace detail {

inline std::size_t effective_stride(const matrix_ref& m, int bits) noexcept {
  return m.stride ? m.stride : row_bytes(m.store, m.cols, bits);
}

// Checks a matrix argument's pointer, dimensions and stride. `name` prefixes argument names.
inline status validate_matrix(const matrix_ref& m, format f, const char* name_data,
                              const char* name_rows, const char* name_cols,
                              const char* name_stride) noexcept {
  if (m.rows == 0 || m.rows > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    return {errc::invalid_dimension, name_rows, static_cast<std::int64_t>(m.rows),
            std::numeric_limits<std::int32_t>::max()};
  if (m.cols == 0 || m.cols > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    return {errc::invalid_dimension, name_cols, static_cast<std::int64_t>(m.cols),
            std::numeric_limits<std::int32_t>::max()};
  if (m.data == nullptr) return {errc::null_pointer, name_data};
  if (m.store != storage::one_per_byte && m.store != storage::bitpacked)
    return {errc::invalid_argument, name_data, static_cast<std::int64_t>(m.store)};
  const std::size_t need = row_bytes(m.store, m.cols, f.bits);
  if (m.stride != 0 && m.stride < need)
    return {errc::leading_dimension_too_small, name_stride, static_cast<std::int64_t>(m.stride),
            static_cast<std::int64_t>(need)};
  const std::size_t stride = m.stride ? m.stride : need;
  if (stride != 0 && m.rows > std::numeric_limits<std::size_t>::max() / stride)
    return {errc::size_overflow, name_rows, static_cast<std::int64_t>(m.rows)};
  return status::success();
}

inline status validate_format(format f, const char* bits_name, const char* enc_name) noexcept {
  switch (f.enc) {
    case encoding::unsigned_int:
    case encoding::signed_int:
    case encoding::odd_symmetric:
    case encoding::ternary:
      break;
    default:
      return {errc::invalid_encoding, enc_name, static_cast<std::int64_t>(f.enc)};
  }
  if (f.bits < min_bits || f.bits > max_bits)
    return {errc::invalid_bits, bits_name, f.bits, max_bits};
  if (f.enc == encoding::ternary && f.bits != 2) return {errc::invalid_bits, bits_name, f.bits, 2};
  return status::success();
}

// Reads code k of a bit-packed row (see matrix.hpp for the bit order).
inline std::uint32_t read_bitpacked(const std::uint8_t* row, std::size_t k, int bits) noexcept {
  const std::size_t bit = k * static_cast<std::size_t>(bits);
  const std::size_t byte = bit / 8;
  const unsigned shift = static_cast<unsigned>(bit % 8);
  std::uint32_t v = row[byte];
  if (shift + static_cast<unsigned>(bits) > 8) v |= std::uint32_t{row[byte + 1]} << 8;
  return (v >> shift) & ((1u << bits) - 1u);
}

// The code a one-per-byte entry holds, or a value > 255 when the byte is invalid for the format.
inline std::uint32_t code_of_byte(format f, std::uint8_t x) noexcept {
  const std::uint32_t mask = code_mask(f);
  const std::uint32_t code = x & mask;
  const std::uint32_t high = x & ~mask & 0xFFu;
  if (high != 0) {
    const bool sign_extended = (f.enc == encoding::signed_int || f.enc == encoding::ternary) &&
                               high == (~mask & 0xFFu) && (code >> (f.bits - 1)) != 0;
    if (!sign_extended) return 0x100u;
  }
  return is_valid_code(f, code) ? code : 0x100u;
}

// A 256-entry byte -> u-code table for one-per-byte input; `valid` tells which bytes are valid.
struct u_table {
  std::uint8_t u[256];
  bool valid[256];
  bool identity;  // every valid byte maps to itself (unsigned and odd-symmetric formats)
};

inline void make_u_table(format f, u_table& t) noexcept {
  t.identity = true;
  for (unsigned x = 0; x < 256; ++x) {
    const std::uint32_t c = code_of_byte(f, static_cast<std::uint8_t>(x));
    t.valid[x] = c <= 0xFFu;
    t.u[x] = t.valid[x] ? u_code(f, c) : 0;
    if (t.valid[x] && t.u[x] != x) t.identity = false;
  }
}

// Finds the first invalid code; returns status invalid_code naming the flat index, or success.
inline status find_invalid_code(const matrix_ref& m, format f, const u_table& t,
                                const char* name) noexcept {
  const std::size_t stride = effective_stride(m, f.bits);
  const auto* base = static_cast<const std::uint8_t*>(m.data);
  for (std::size_t r = 0; r < m.rows; ++r) {
    const std::uint8_t* row = base + r * stride;
    if (m.store == storage::one_per_byte) {
      // Fast path for the common case: OR of the bits above the width.
      bool bad = false;
      for (std::size_t k = 0; k < m.cols; ++k) bad |= !t.valid[row[k]];
      if (!bad) continue;
      for (std::size_t k = 0; k < m.cols; ++k)
        if (!t.valid[row[k]])
          return {errc::invalid_code, name, static_cast<std::int64_t>(r * m.cols + k)};
    } else if (f.enc == encoding::ternary) {
      for (std::size_t k = 0; k < m.cols; ++k)
        if (read_bitpacked(row, k, f.bits) == 2u)
          return {errc::invalid_code, name, static_cast<std::int64_t>(r * m.cols + k)};
    }
  }
  return status::success();
}

// Writes u-codes of rows [r0, r0 + nr) and columns [k0, k0 + nk) into dst (row stride ldd).
// Assumes the codes were validated.
inline void to_u_codes(const matrix_ref& m, format f, const u_table& t, std::size_t r0,
                       std::size_t nr, std::size_t k0, std::size_t nk, std::uint8_t* dst,
                       std::size_t ldd) noexcept {
  const std::size_t stride = effective_stride(m, f.bits);
  const auto* base = static_cast<const std::uint8_t*>(m.data);
  for (std::size_t r = 0; r < nr; ++r) {
    const std::uint8_t* row = base + (r0 + r) * stride;
    std::uint8_t* out = dst + r * ldd;
    if (m.store == storage::one_per_byte) {
      if (t.identity)
        std::memcpy(out, row + k0, nk);
      else
        for (std::size_t k = 0; k < nk; ++k) out[k] = t.u[row[k0 + k]];
    } else {
      for (std::size_t k = 0; k < nk; ++k) out[k] = u_code(f, read_bitpacked(row, k0 + k, f.bits));
    }
  }
}

// The value of code k of row r of a validated matrix.
inline std::int32_t code_value_at(const matrix_ref& m, format f, std::size_t r,
                                  std::size_t k) noexcept {
  const auto* row = static_cast<const std::uint8_t*>(m.data) + r * effective_stride(m, f.bits);
  const std::uint32_t code =
      m.store == storage::one_per_byte ? (row[k] & code_mask(f)) : read_bitpacked(row, k, f.bits);
  return code_value(f, code);
}

// a * b in size_t, or false on overflow.
inline bool mul_size(std::size_t a, std::size_t b, std::size_t& out) noexcept {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace detail
}  // namespace lowbit
