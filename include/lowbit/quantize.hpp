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
// Those are the min-max parameters (quant_calibration::min_max). At a few bits they waste the
// levels on the tails (a 2-bit Gaussian rounds almost everything to zero), so by default
// (quant_calibration::automatic) widths up to 4 bits use quant_calibration::mse instead:
//   symmetric:  scale = r * (the min-max scale) for the clip ratio r in (0, 1] that minimizes
//               sum_i (x_i - dequantized x_i)^2, the codes rounded exactly as quantize() rounds;
//               r is searched on a geometric grid (2^(-j/4), j = 0..31, ratio 1 first; the scan
//               stops once the clipped values alone cost more than the best so far), then
//               refined twice around the best (steps of 2^(1/32), then 2^(1/128)).
//   asymmetric: the range [r_lo * min, r_hi * max] replaces [min, max]: the same search with
//               r_lo = r_hi, then each end alone around the best; the scale and zero point are
//               the min-max rule's for that range.
//   1-bit odd-symmetric (binary, values -1 and +1): scale = mean |x|, the exact minimizer of
//               that error (as XNOR-Net scales), also available as quant_calibration::mean_abs.
// The search includes the min-max parameters, so its error is never above theirs; it is
// deterministic (no randomness, no allocation, the same choice whatever the compiler flags) and
// costs some 12 to 25 passes over the data (40 to 85 asymmetric), see docs/quantize.md.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "lowbit/detail/codes.hpp"
#include "lowbit/detail/quantize_ops.hpp"
#include "lowbit/format.hpp"
#include "lowbit/output.hpp"
#include "lowbit/status.hpp"

namespace lowbit {

enum class quant_mode : std::uint8_t { symmetric, asymmetric };

// How choose_quant_params picks the parameters (file comment).
enum class quant_calibration : std::uint8_t {
  automatic,  // mse up to 4 bits, min_max above
  min_max,    // the data's range
  mse,        // the scale (and, asymmetric, the range) minimizing the squared error
  mean_abs    // 1-bit odd-symmetric only: scale = mean |x|
};

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

// The checks choose_quant_params makes on the data, and its range: lo = min(x, 0), hi = max(x, 0).
inline status scan_quant_data(const float* x, std::size_t n, format f, quant_mode mode,
                              quant_calibration method, float& lo, float& hi) noexcept {
  lo = 0.0f;
  hi = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return {errc::invalid_argument, "x (not finite)", std::int64_t(i)};
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  if (mode == quant_mode::symmetric) {
    if (f.enc == encoding::unsigned_int && lo < 0.0f)
      return {errc::unsupported_format, "symmetric unsigned with negative data"};
    if (f.enc != encoding::ternary && max_value(f) <= 0)
      return {errc::unsupported_format, "format.bits (no positive value)", f.bits, 2};
  } else if (f.enc == encoding::odd_symmetric || f.enc == encoding::ternary) {
    return {errc::unsupported_format, "format.enc (symmetric by definition)",
            static_cast<std::int64_t>(f.enc)};
  }
  if (method == quant_calibration::mean_abs && (f.enc != encoding::odd_symmetric || f.bits != 1))
    return {errc::unsupported_format, "calibration (mean_abs needs 1-bit odd_symmetric)", f.bits,
            1};
  return status::success();
}

// The min-max parameters mapping [lo, hi] (lo <= 0 <= hi, lo < hi) onto the format's values.
inline quant_params range_params(float lo, float hi, format f) noexcept {
  const float vmin = static_cast<float>(min_value(f)), vmax = static_cast<float>(max_value(f));
  quant_params p;
  p.scale = (hi - lo) / (vmax - vmin);
  const float z = std::round(vmin - lo / p.scale);
  p.zero_point = static_cast<std::int32_t>(z < vmin ? vmin : (z > vmax ? vmax : z));
  return p;
}

// nearest_value(f, y) for y already in [min_value(f), max_value(f)] (so |y| <= 255), without
// libm calls (std::round and std::floor are calls on baseline x86-64): the search runs it about
// 40 times per element. The same results, ties included (tests/test_calibration.cpp).
inline std::int32_t nearest_value_in_range(format f, float y) noexcept {
  // Comparisons as 0/1 terms rather than branches: the data decide them at random.
  if (f.enc == encoding::odd_symmetric) {
    // The odd integer 2 * floor(y / 2) + 1; an even y is a tie, and a negative one goes down.
    const float h = y * 0.5f;  // exact but for subnormals, whose floor it does not change
    std::int32_t m = static_cast<std::int32_t>(h);  // toward zero
    m -= static_cast<std::int32_t>(h < static_cast<float>(m));
    const std::int32_t v =
        2 * m + 1 - 2 * static_cast<std::int32_t>(y < 0.0f && h == static_cast<float>(m));
    return v < min_value(f) ? min_value(f) : (v > max_value(f) ? max_value(f) : v);
  }
  // Halves away from zero, as std::round: y - trunc(y) is exact.
  const std::int32_t v = static_cast<std::int32_t>(y);
  const float frac = y - static_cast<float>(v);
  return v + static_cast<std::int32_t>(frac >= 0.5f) - static_cast<std::int32_t>(frac <= -0.5f);
}

// The squared error sum_i (x_i - dequantized x_i)^2 of the codes quantize() writes for p, and
// the part of it from values beyond the format's range (clamped to its end values).
struct quant_error {
  double total = 0.0, clipped = 0.0;
};

// The product scale * (value - zero_point) is exact in double (24 by at most 9 significant bits)
// and the square of a float is too, so no FMA contraction changes the sums: the search picks the
// same parameters whatever the caller's compiler flags.
inline quant_error quant_sq_error(const float* x, std::size_t n, format f,
                                  quant_params p) noexcept {
  const float zp = static_cast<float>(p.zero_point);
  const float lo = static_cast<float>(min_value(f)), hi = static_cast<float>(max_value(f));
  const double s = static_cast<double>(p.scale);
  quant_error e;
  for (std::size_t i = 0; i < n; ++i) {
    const float y = x[i] / p.scale + zp;
    const bool inside = y >= lo && y <= hi;
    const std::int32_t v =
        inside ? nearest_value_in_range(f, y) : (y < lo ? min_value(f) : max_value(f));
    const float d =
        static_cast<float>(static_cast<double>(x[i]) - s * static_cast<double>(v - p.zero_point));
    const double d2 = static_cast<double>(d) * static_cast<double>(d);
    e.total += d2;
    e.clipped += inside ? 0.0 : d2;
  }
  return e;
}

// The clip-ratio search of quant_calibration::mse (file comment). Ratios are products of the
// tables' exact float constants and powers of two: no libm, the same grid on every platform.
class mse_search {
 public:
  mse_search(const float* x, std::size_t n, format f, quant_mode mode, float lo, float hi) noexcept
      : x_(x), n_(n), f_(f), symmetric_(mode == quant_mode::symmetric), lo_(lo), hi_(hi) {
    if (symmetric_) {
      const float m = -lo > hi ? -lo : hi;
      const std::int32_t q = f.enc == encoding::ternary ? 1 : max_value(f);
      s_max_ = m / static_cast<float>(q);
    }
  }

  quant_params run() noexcept {
    consider(1.0f, 1.0f);  // min-max first: ties keep it, and nothing worse is returned
    static constexpr float quarter[4] = {1.0f, 0.840896415f, 0.707106781f, 0.594603558f};
    // Smaller ratios until the clipped values alone cost the best error so far. Symmetric,
    // every clipped value's error grows as the scale shrinks, so no smaller ratio can do better;
    // asymmetric (the zero point moves with the range) the scan waits for twice the best.
    const double stop = symmetric_ ? 1.0 : 2.0;
    for (int j = 1; j < 32; ++j) {
      const float r = quarter[j % 4] / static_cast<float>(1u << (j / 4));
      if (consider(r, r) && last_clipped_ >= stop * best_err_) break;
    }
    static constexpr float fine32[6] = {0.937083817f, 0.957603281f, 0.978572062f,
                                        1.02189715f,  1.04427378f,  1.0671404f};
    static constexpr float fine128[6] = {0.983885612f, 0.989228013f, 0.994599423f,
                                         1.0054299f,   1.01088929f,  1.01637831f};
    refine(fine32, 6, true, true);
    refine(fine128, 6, true, true);
    if (!symmetric_) {
      static constexpr float coarse4[8] = {0.5f,        0.594603558f, 0.707106781f, 0.840896415f,
                                           1.18920712f, 1.41421356f,  1.68179283f,  2.0f};
      // Each end alone (an end at 0 has nothing to clip).
      for (int end = 0; end < 2; ++end) {
        const bool low = end == 0;
        if ((low ? lo_ : hi_) == 0.0f) continue;
        refine(coarse4, 8, low, !low);
        refine(fine32, 6, low, !low);
        refine(fine128, 6, low, !low);
      }
    }
    return best_;
  }

 private:
  quant_params params(float r_lo, float r_hi) const noexcept {
    if (symmetric_) {
      quant_params p;
      p.scale = r_hi == 1.0f ? s_max_ : s_max_ * r_hi;
      return p;
    }
    return range_params(lo_ * r_lo, hi_ * r_hi, f_);
  }

  // Evaluates one candidate (false: not a valid one) and keeps it if it is the best so far.
  bool consider(float r_lo, float r_hi) noexcept {
    if (!(r_lo > 0.0f && r_lo <= 1.0f && r_hi > 0.0f && r_hi <= 1.0f)) return false;
    const quant_params p = params(r_lo, r_hi);
    if (!(p.scale > 0.0f) || !std::isfinite(p.scale)) return false;
    const quant_error e = quant_sq_error(x_, n_, f_, p);
    last_clipped_ = e.clipped;
    if (have_ && !(e.total < best_err_)) return true;
    have_ = true;
    best_err_ = e.total;
    best_ = p;
    best_lo_ = r_lo;
    best_hi_ = r_hi;
    return true;
  }

  // Steps from the best ratios so far: the low end's, the high end's, or both by the same step.
  void refine(const float* steps, int count, bool low, bool high) noexcept {
    const float r_lo = best_lo_, r_hi = best_hi_;
    for (int i = 0; i < count; ++i)
      consider(low ? r_lo * steps[i] : r_lo, high ? r_hi * steps[i] : r_hi);
  }

  const float* x_;
  std::size_t n_;
  format f_;
  bool symmetric_;
  float lo_, hi_, s_max_ = 1.0f;
  bool have_ = false;
  double best_err_ = 0.0, last_clipped_ = 0.0;
  quant_params best_{};
  float best_lo_ = 1.0f, best_hi_ = 1.0f;
};

// Parameters for data that passed scan_quant_data (range lo, hi) by the given method.
inline quant_params compute_quant_params(const float* x, std::size_t n, format f, quant_mode mode,
                                         quant_calibration method, float lo, float hi) noexcept {
  quant_params out;
  if (hi - lo <= 0.0f) return out;  // all zero: scale 1
  if (method == quant_calibration::automatic)
    method = f.bits <= 4 ? quant_calibration::mse : quant_calibration::min_max;
  if (method == quant_calibration::mean_abs ||
      (method == quant_calibration::mse && f.enc == encoding::odd_symmetric && f.bits == 1)) {
    // Binary: sign(x) * s has squared error sum x^2 - 2 s sum |x| + n s^2, least at mean |x|.
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(std::fabs(x[i]));
    const float s = static_cast<float>(sum / static_cast<double>(n));
    out.scale = s > 0.0f ? s : 1.0f;
    return out;
  }
  if (method == quant_calibration::mse) return mse_search(x, n, f, mode, lo, hi).run();
  if (mode == quant_mode::symmetric) {
    const float m = -lo > hi ? -lo : hi;
    const std::int32_t q = f.enc == encoding::ternary ? 1 : max_value(f);
    out.scale = m / static_cast<float>(q);
    return out;
  }
  return range_params(lo, hi, f);
}

inline status check_calibration(quant_calibration method) noexcept {
  if (static_cast<std::uint8_t>(method) > static_cast<std::uint8_t>(quant_calibration::mean_abs))
    return {errc::invalid_argument, "calibration", static_cast<std::int64_t>(method)};
  return status::success();
}

}  // namespace detail

// Chooses scale and zero point for data x[0..n) in format f, by `method` (file comment).
inline status choose_quant_params(const float* x, std::size_t n, format f, quant_mode mode,
                                  quant_calibration method, quant_params& out) noexcept {
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(f, "format.bits", "format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::check_calibration(method));
  if (x == nullptr) return {errc::null_pointer, "x"};
  if (n == 0) return {errc::invalid_dimension, "n", 0, 1};
  float lo = 0.0f, hi = 0.0f;
  LOWBIT_RETURN_IF_ERROR(detail::scan_quant_data(x, n, f, mode, method, lo, hi));
  out = detail::compute_quant_params(x, n, f, mode, method, lo, hi);
  return status::success();
}

// The same with quant_calibration::automatic: the MSE search up to 4 bits, min-max above.
inline status choose_quant_params(const float* x, std::size_t n, format f, quant_mode mode,
                                  quant_params& out) noexcept {
  return choose_quant_params(x, n, f, mode, quant_calibration::automatic, out);
}

// codes[i] = quantized x[i] (one output byte per code, see the file comment).
inline status quantize(const float* x, std::size_t n, format f, quant_params p,
                       std::uint8_t* codes_out) noexcept {
  LOWBIT_RETURN_IF_ERROR(detail::check_params(f, p));
  if (x == nullptr) return {errc::null_pointer, "x"};
  if (codes_out == nullptr) return {errc::null_pointer, "codes_out"};
  // Vector rows where the ISA cap allows (detail/quantize_ops.hpp), the same bits as this loop.
  if (const detail::quantize_ops* ops = detail::quantize_ops_for(allowed_features())) {
    ops->quantize_row(x, n, detail::make_quantize_row_params(f, p.scale, p.zero_point), codes_out);
    return status::success();
  }
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
  const std::size_t stride = detail::effective_stride(codes_in, f.bits);
  const auto* base = static_cast<const std::uint8_t*>(codes_in.data);
  const std::size_t cols = codes_in.cols;
  detail::u_table t;
  if (const detail::quantize_ops* ops = detail::quantize_ops_for(allowed_features())) {
    // Vector rows (detail/quantize_ops.hpp), the same bits as the loop below. Every code is
    // checked before anything is written; a row with a bad code gets the scalar search, which
    // names the first one.
    if (codes_in.store == storage::one_per_byte) {
      const detail::code_check check = detail::make_code_check(f);
      for (std::size_t r = 0; r < codes_in.rows; ++r)
        if (ops->any_invalid(base + r * stride, cols, check)) {
          detail::make_u_table(f, t);
          LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(codes_in, f, t, "codes.data"));
          break;
        }
    } else {
      detail::make_u_table(f, t);
      LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(codes_in, f, t, "codes.data"));
    }
    const detail::dequantize_row_params dq =
        detail::make_dequantize_row_params(f, p.scale, p.zero_point);
    for (std::size_t r = 0; r < codes_in.rows; ++r) {
      const std::uint8_t* row = base + r * stride;
      if (codes_in.store == storage::one_per_byte) {
        ops->dequantize_row(row, cols, dq, x_out + r * cols);
        continue;
      }
      std::uint8_t unpacked[256];  // bit-packed codes, one per byte, a chunk at a time
      for (std::size_t k0 = 0; k0 < cols; k0 += sizeof unpacked) {
        const std::size_t m = cols - k0 < sizeof unpacked ? cols - k0 : sizeof unpacked;
        for (std::size_t k = 0; k < m; ++k)
          unpacked[k] = static_cast<std::uint8_t>(detail::read_bitpacked(row, k0 + k, f.bits));
        ops->dequantize_row(unpacked, m, dq, x_out + r * cols + k0);
      }
    }
    return status::success();
  }
  detail::make_u_table(f, t);
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(codes_in, f, t, "codes.data"));
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

// Per output channel: one row of w (N rows of K, row stride ld floats) per channel. Every row is
// checked before any parameters are written.
inline status choose_quant_params_per_channel(const float* w, std::size_t n, std::size_t k,
                                              std::size_t ld, format f, quant_mode mode,
                                              quant_calibration method,
                                              quant_params* out) noexcept {
  if (w == nullptr) return {errc::null_pointer, "w"};
  if (out == nullptr) return {errc::null_pointer, "params_out"};
  if (n == 0) return {errc::invalid_dimension, "N", 0, 1};
  if (ld < k) return {errc::leading_dimension_too_small, "ld", std::int64_t(ld), std::int64_t(k)};
  LOWBIT_RETURN_IF_ERROR(detail::check_extent(n, k, ld, "N * ld"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(f, "format.bits", "format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::check_calibration(method));
  if (k == 0) return {errc::invalid_dimension, "n", 0, 1};
  float lo = 0.0f, hi = 0.0f;
  for (std::size_t r = 0; r < n; ++r)
    LOWBIT_RETURN_IF_ERROR(detail::scan_quant_data(w + r * ld, k, f, mode, method, lo, hi));
  for (std::size_t r = 0; r < n; ++r) {
    const float* row = w + r * ld;
    (void)detail::scan_quant_data(row, k, f, mode, method, lo, hi);  // checked above
    out[r] = detail::compute_quant_params(row, k, f, mode, method, lo, hi);
  }
  return status::success();
}

// The same with quant_calibration::automatic.
inline status choose_quant_params_per_channel(const float* w, std::size_t n, std::size_t k,
                                              std::size_t ld, format f, quant_mode mode,
                                              quant_params* out) noexcept {
  return choose_quant_params_per_channel(w, n, k, ld, f, mode, quant_calibration::automatic, out);
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
