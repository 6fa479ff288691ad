// lowbit internal: what the vector quantize / dequantize rows (quantize_ops.hpp) are given: a
// format's constants for one call, and the table of one ISA's row functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/format.hpp"

namespace lowbit {
namespace detail {

// quantize: y = x / scale + zero; clamp to [lo, hi]; nearest value (odd integers if odd); the
// output byte is ((value + out_add) >> out_shift) & 0xFF.
struct quantize_row_params {
  float scale;
  float zero;
  float lo;
  float hi;
  std::int32_t out_add;
  std::int32_t out_shift;
  bool odd;
};

inline quantize_row_params make_quantize_row_params(format f, float scale,
                                                    std::int32_t zero_point) noexcept {
  const bool odd = f.enc == encoding::odd_symmetric;
  return {scale,
          static_cast<float>(zero_point),
          static_cast<float>(min_value(f)),
          static_cast<float>(max_value(f)),
          odd ? static_cast<std::int32_t>(code_mask(f)) : 0,
          odd ? 1 : 0,
          odd};
}

// One-per-byte validity (codes.hpp's code_of_byte): a byte is bad if it has a bit above the
// width (high) and is not a sign-extended negative value (when sign_extension_ok: every high bit
// and the sign bit set), or if it is ternary code 2.
struct code_check {
  std::uint8_t high;
  std::uint8_t sign;
  bool sign_extension_ok;
  bool ternary;
};

inline code_check make_code_check(format f) noexcept {
  return {static_cast<std::uint8_t>(~code_mask(f) & 0xFFu),
          static_cast<std::uint8_t>(1u << (f.bits - 1)),
          f.enc == encoding::signed_int || f.enc == encoding::ternary, f.enc == encoding::ternary};
}

// dequantize: u = byte & mask; value = ((u ^ sign) - sign) << shift, + offset (beta - zero_point)
// in uint32 (mod 2^32); x = float(int32 value) * scale. Ternary's valid codes 0, 1, 3 are the
// 2-bit two's complement values 0, 1, -1, so it shares the signed form.
struct dequantize_row_params {
  float scale;
  std::uint32_t mask;
  std::uint32_t sign;
  std::uint32_t shift;
  std::uint32_t offset;
};

inline dequantize_row_params make_dequantize_row_params(format f, float scale,
                                                        std::int32_t zero_point) noexcept {
  const bool sign_extend = f.enc == encoding::signed_int || f.enc == encoding::ternary;
  const bool odd = f.enc == encoding::odd_symmetric;
  const std::uint32_t beta = odd ? 0u - code_mask(f) : 0u;
  return {scale, code_mask(f), sign_extend ? 1u << (f.bits - 1) : 0u, odd ? 1u : 0u,
          beta - static_cast<std::uint32_t>(zero_point)};
}

// One ISA's rows. quantize_row writes n codes; any_invalid tells whether any of n one-per-byte
// codes is invalid; dequantize_row turns n valid one-per-byte codes into floats.
struct quantize_ops {
  const char* isa;
  void (*quantize_row)(const float* x, std::size_t n, const quantize_row_params& p,
                       std::uint8_t* out) noexcept;
  bool (*any_invalid)(const std::uint8_t* codes, std::size_t n, const code_check& c) noexcept;
  void (*dequantize_row)(const std::uint8_t* codes, std::size_t n, const dequantize_row_params& p,
                         float* out) noexcept;
};

}  // namespace detail
}  // namespace lowbit
