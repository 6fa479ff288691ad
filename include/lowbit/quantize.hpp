// lowbit: quantization helpers, the bridge from a fake-quantized (QAT) float model.
//
// Convention (as gemmlowp/TFLite, in value space): real = scale * (value - zero_point), where
// value is what a code means in its format (format.hpp). Quantizing x:
//   y = x / scale + zero_point               (float division)
//   value = the format's value nearest to y; ties go away from zero (std::round's rule). For
//           odd-symmetric formats the values are the odd integers, so an even y is a tie between
//           y - 1 and y + 1 and also goes away from zero (0 goes to +1).
//   value is then clamped to the format's range, and written as output bytes are (output.hpp):
//   the code for unsigned and odd-symmetric formats, the int8 value for signed and ternary ones.
// Choosing parameters from data:
//   symmetric:  zero_point = 0, scale = max|x| / q, q the largest positive value (unsigned:
//               2^b - 1, data must be >= 0; signed: 2^(b-1) - 1, so at least 2 bits; odd-symmetric:
//               2^b - 1; ternary: 1).
//   asymmetric: the range [min(x, 0), max(x, 0)] maps onto [min value, max value]:
//               scale = (hi - lo) / (vmax - vmin), zero_point = round(vmin - lo / scale), clamped;
//               unsigned and signed formats only (odd-symmetric and ternary are symmetric by
//               definition).
//   All-zero data gets scale 1.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "lowbit/detail/codes.hpp"
#include "lowbit/format.hpp"
#include "lowbit/output.hpp"
#include "lowbit/status.hpp"

namespace lowbit {

enum class quant_mode : std::uint8_t { symmetric, asymmetric };

struct quant_params {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

namespace detail {

inline std::int32_t nearest_value(format f, float y) noexcept {
  const float lo = static_cast<float>(min_value(f)), hi = static_cast<float>(max_value(f));
  if (!(y >= lo)) return min_value(f);  // also catches NaN: it quantizes to the minimum
  if (y > hi) return max_value(f);
  if (f.enc == encoding::odd_symmetric) {
    // Nearest odd integer: 2 * round((y - 1) / 2) + 1, with an even y going away from zero.
    const float t = std::floor(y);
    const std::int32_t base = static_cast<std::int32_t>(t);
    std::int32_t v;
    if (base % 2 != 0)
      v = base;  // y in [odd, odd + 1): nearest odd is base or base + 2
    else
      v = base - 1;
    const float d0 = y - static_cast<float>(v), d1 = static_cast<float>(v + 2) - y;
    if (d1 < d0 || (d1 == d0 && y >= 0)) v += 2;
    return v < min_value(f) ? min_value(f) : (v > max_value(f) ? max_value(f) : v);
  }
  const std::int32_t v = static_cast<std::int32_t>(std::round(y));
  return v < min_value(f) ? min_value(f) : (v > max_value(f) ? max_value(f) : v);
}

// Rows [0, n) of k elements at stride ld reach (n - 1) * ld + k elements: within size_t?
inline status check_extent(std::size_t n, std::size_t k, std::size_t ld,
                           const char* name) noexcept {
  if (n > 1 && ld != 0 && n - 1 > (std::numeric_limits<std::size_t>::max() - k) / ld)
    return {errc::size_overflow, name, static_cast<std::int64_t>(n)};
  return status::success();
}

inline status check_params(format f, quant_params p) noexcept {
  LOWBIT_RETURN_IF_ERROR(validate_format(f, "format.bits", "format.enc"));
  if (!(p.scale > 0.0f) || !std::isfinite(p.scale)) return {errc::invalid_argument, "params.scale"};
  return status::success();
}

}  // namespace detail

// Chooses scale and zero point for data x[0..n) in format f.
inline status choose_quant_params(const float* x, std::size_t n, format f, quant_mode mode,
                                  quant_params& out) noexcept {
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(f, "format.bits", "format.enc"));
  if (x == nullptr) return {errc::null_pointer, "x"};
  if (n == 0) return {errc::invalid_dimension, "n", 0, 1};
  float lo = 0.0f, hi = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return {errc::invalid_argument, "x (not finite)", std::int64_t(i)};
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  out = {};
  if (mode == quant_mode::symmetric) {
    std::int32_t q = 0;
    switch (f.enc) {
      case encoding::unsigned_int:
        if (lo < 0.0f) return {errc::unsupported_format, "symmetric unsigned with negative data"};
        q = max_value(f);
        break;
      case encoding::signed_int:
        q = max_value(f);
        break;
      case encoding::odd_symmetric:
        q = max_value(f);
        break;
      case encoding::ternary:
        q = 1;
        break;
    }
    if (q <= 0) return {errc::unsupported_format, "format.bits (no positive value)", f.bits, 2};
    const float m = -lo > hi ? -lo : hi;
    out.scale = m > 0.0f ? m / static_cast<float>(q) : 1.0f;
    return status::success();
  }
  if (f.enc == encoding::odd_symmetric || f.enc == encoding::ternary)
    return {errc::unsupported_format, "format.enc (symmetric by definition)",
            static_cast<std::int64_t>(f.enc)};
  const float vmin = static_cast<float>(min_value(f)), vmax = static_cast<float>(max_value(f));
  if (hi - lo <= 0.0f) return status::success();
  out.scale = (hi - lo) / (vmax - vmin);
  const float z = std::round(vmin - lo / out.scale);
  out.zero_point = static_cast<std::int32_t>(z < vmin ? vmin : (z > vmax ? vmax : z));
  return status::success();
}

// codes[i] = quantized x[i] (one output byte per code, see the file comment).
inline status quantize(const float* x, std::size_t n, format f, quant_params p,
                       std::uint8_t* codes_out) noexcept {
  LOWBIT_RETURN_IF_ERROR(detail::check_params(f, p));
  if (x == nullptr) return {errc::null_pointer, "x"};
  if (codes_out == nullptr) return {errc::null_pointer, "codes_out"};
  for (std::size_t i = 0; i < n; ++i) {
    const float y = x[i] / p.scale + static_cast<float>(p.zero_point);
    codes_out[i] = detail::output_byte(f, detail::nearest_value(f, y));
  }
  return status::success();
}

// x[i] = scale * (value(code i) - zero_point), codes one per byte or bit-packed (a 1 x n matrix).
inline status dequantize(const matrix_ref& codes_in, format f, quant_params p,
                         float* x_out) noexcept {
  LOWBIT_RETURN_IF_ERROR(detail::check_params(f, p));
  LOWBIT_RETURN_IF_ERROR(detail::validate_matrix(codes_in, f, "codes.data", "codes.rows",
                                                 "codes.cols", "codes.stride"));
  if (x_out == nullptr) return {errc::null_pointer, "x_out"};
  detail::u_table t;
  detail::make_u_table(f, t);
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(codes_in, f, t, "codes.data"));
  const std::size_t stride = detail::effective_stride(codes_in, f.bits);
  const auto* base = static_cast<const std::uint8_t*>(codes_in.data);
  for (std::size_t r = 0; r < codes_in.rows; ++r)
    for (std::size_t k = 0; k < codes_in.cols; ++k) {
      const std::uint8_t* row = base + r * stride;
      const std::uint32_t code = codes_in.store == storage::one_per_byte
                                     ? (row[k] & code_mask(f))
                                     : detail::read_bitpacked(row, k, f.bits);
      x_out[r * codes_in.cols + k] =
          p.scale * static_cast<float>(code_value(f, code) - p.zero_point);
    }
  return status::success();
}

// Per output channel: one row of w (N rows of K, row stride ld floats) per channel.
inline status choose_quant_params_per_channel(const float* w, std::size_t n, std::size_t k,
                                              std::size_t ld, format f, quant_mode mode,
                                              quant_params* out) noexcept {
  if (w == nullptr) return {errc::null_pointer, "w"};
  if (out == nullptr) return {errc::null_pointer, "params_out"};
  if (n == 0) return {errc::invalid_dimension, "N", 0, 1};
  if (ld < k) return {errc::leading_dimension_too_small, "ld", std::int64_t(ld), std::int64_t(k)};
  LOWBIT_RETURN_IF_ERROR(detail::check_extent(n, k, ld, "N * ld"));
  for (std::size_t r = 0; r < n; ++r)
    LOWBIT_RETURN_IF_ERROR(choose_quant_params(w + r * ld, k, f, mode, out[r]));
  return status::success();
}

inline status quantize_per_channel(const float* w, std::size_t n, std::size_t k, std::size_t ld,
                                   format f, const quant_params* params, std::uint8_t* codes_out,
                                   std::size_t ld_codes) noexcept {
  if (w == nullptr) return {errc::null_pointer, "w"};
  if (params == nullptr) return {errc::null_pointer, "params"};
  if (ld < k) return {errc::leading_dimension_too_small, "ld", std::int64_t(ld), std::int64_t(k)};
  if (ld_codes < k)
    return {errc::leading_dimension_too_small, "ld_codes", std::int64_t(ld_codes), std::int64_t(k)};
  if (codes_out == nullptr) return {errc::null_pointer, "codes_out"};
  LOWBIT_RETURN_IF_ERROR(detail::check_extent(n, k, ld, "N * ld"));
  LOWBIT_RETURN_IF_ERROR(detail::check_extent(n, k, ld_codes, "N * ld_codes"));
  // Every row's parameters first: a bad one leaves codes_out untouched.
  for (std::size_t r = 0; r < n; ++r) LOWBIT_RETURN_IF_ERROR(detail::check_params(f, params[r]));
  for (std::size_t r = 0; r < n; ++r)
    LOWBIT_RETURN_IF_ERROR(quantize(w + r * ld, k, f, params[r], codes_out + r * ld_codes));
  return status::success();
}

}  // namespace lowbit
