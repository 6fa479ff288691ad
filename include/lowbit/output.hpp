// lowbit: output stages, fused into the GEMM's epilogue (one tile row at a time, while hot).
//
// Every stage starts from the exact integer T[m][n] = sum_k (a - a_zero)(w - w_zero[n]), where a
// and w are the values of the codes (format.hpp) and the zero points are integers in value space
// (real = scale * (value - zero_point)). Then:
//   int32_output      C = T.
//   float_output      C = clamp(float(T) * (a_scale * w_scale[n]) + bias[n], min, max):
//                     one float multiply by the per-channel product of scales, one add, a clamp
//                     (ReLU: min = 0; ReLU6: min = 0, max = 6).
//   quantized_output  integer-only requantization (gemmlowp/TFLite style fixed-point multipliers),
//                     identical on every ISA:
//                       x = T + bias[n]                       (int32 bias at scale a_s * w_s[n],
//                                                             wrapping add)
//                       y = round(x * M[n])                   M[n] = m0 * 2^(shift - 31) exactly:
//                           one rounding of the exact 64-bit product, halves away from zero,
//                           saturated to int32 (TFLite rounds twice, so it can differ on ties)
//                       v = clamp(y + out_zero, lo, hi)       lo/hi: the output format's range,
//                                                             narrowed by clamp_min/clamp_max
//                     For an odd-symmetric output format (values are odd), an even v moves to the
//                     odd neighbour away from zero (0 goes to +1) before clamping, as quantize()
//                     rounds. The output byte is the code for
//                     unsigned and odd-symmetric formats, and the value as int8_t for signed and
//                     ternary ones (lowbit's inputs accept both), so layers chain directly.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "lowbit/format.hpp"
#include "lowbit/status.hpp"

namespace lowbit {

// Zero points common to every stage. w_zeros: nullptr (all zero), or w_zero_count = 1 or N
// entries.
struct zero_points {
  std::int32_t a_zero = 0;
  const std::int32_t* w_zeros = nullptr;
  std::size_t w_zero_count = 1;

  std::int32_t w_zero(std::size_t n) const noexcept {
    return w_zeros == nullptr ? 0 : w_zeros[w_zero_count == 1 ? 0 : n];
  }
};

// Every stage's `capacity` is the number of elements (bytes for quantized_output) the caller can
// have written at `data`; a call that needs more, (M - 1) * ld + N, fails with
// errc::buffer_too_small and writes nothing. 0 means the caller vouches for the size unchecked.
struct int32_output {
  std::int32_t* data = nullptr;
  std::size_t ld = 0;  // elements between rows of C; 0 = N
  zero_points zeros{};
  std::size_t capacity = 0;
};

struct float_output {
  float* data = nullptr;
  std::size_t ld = 0;  // 0 = N
  float a_scale = 1.0f;
  const float* w_scales = nullptr;  // w_scale_count = 1 (per tensor) or N (per channel)
  std::size_t w_scale_count = 1;
  const float* bias = nullptr;  // N entries or nullptr
  float clamp_min = -std::numeric_limits<float>::infinity();
  float clamp_max = std::numeric_limits<float>::infinity();
  zero_points zeros{};
  // Per-group weight scales (weights packed with pack_options::k_group = G): N x ceil(K / G)
  // floats, row n holding channel n's scales; they replace w_scales. The result is then
  //   clamp(a_scale * sum_g (w_group_scales[n][g] * float(T_g)) + bias[n])
  // with T_g the exact integer sum over group g, accumulated in float in group order.
  // Weights packed with their scales (pack_options::group_scales or group_scales_f16, the
  // recommended way: 16 bits a scale where exact, read with the weights) take a stage with
  // w_scales, w_group_scales and w_group_zeros all null and use the stored ones, with the same
  // result; giving w_group_scales (or w_group_zeros, or w_scales) as well is an error.
  const float* w_group_scales = nullptr;
  // Optional per-group weight zero points with w_group_scales (asymmetric weights, GPTQ/AWQ
  // style: real = w_group_scales[n][g] * (q - w_group_zeros[n][g]), q the weight's value):
  // N x ceil(K / G) integers in the weight format's value range [min_value, max_value] (for
  // unsigned formats, its codes). T_g is then the exact sum over the group of
  // (q - z_g) * (a - a_zero). They replace zeros.w_zeros, which must be left null.
  const std::int32_t* w_group_zeros = nullptr;
  std::size_t capacity = 0;
};

// A real multiplier as m0 * 2^(shift - 31), m0 in [2^30, 2^31) (or 0).
struct fixed_multiplier {
  std::int32_t m0 = 0;
  int shift = 0;
};

// The fixed-point form of a positive real multiplier (round to nearest).
inline status make_fixed_multiplier(double real, fixed_multiplier& out) noexcept {
  if (!(real >= 0.0) || !std::isfinite(real))
    return status::bad_real(errc::invalid_argument, "multiplier", real,
                            "a finite real, at least 0");
  if (real == 0.0) {
    out = {0, 0};
    return status::success();
  }
  int exp = 0;
  const double q = std::frexp(real, &exp);  // real = q * 2^exp, q in [0.5, 1)
  if (exp > 30) return {errc::invalid_argument, "multiplier exponent", exp, 30};
  std::int64_t m = static_cast<std::int64_t>(std::llround(q * 2147483648.0));
  if (m == (std::int64_t{1} << 31)) {
    // q rounded up to 1: the next exponent, unless that is past the range, where the largest
    // multiplier, (2^31 - 1) * 2^-1, is the nearest one to a real in [2^30 - 2^-2, 2^30).
    if (exp == 30) {
      m -= 1;
    } else {
      m /= 2;
      ++exp;
    }
  }
  if (exp < -31) return {errc::invalid_argument, "multiplier exponent", exp, -31};
  // exp < -31 would shift every int32 to zero anyway: callers get the error instead.
  out = {static_cast<std::int32_t>(m), exp};
  return status::success();
}

struct quantized_output {
  std::uint8_t* data = nullptr;
  std::size_t ld = 0;  // bytes between rows; 0 = N
  format out_format{8, encoding::unsigned_int};
  std::int32_t out_zero = 0;
  const fixed_multiplier* multipliers = nullptr;  // multiplier_count = 1 or N:
  std::size_t multiplier_count = 1;               // a_scale * w_scale[n] / out_scale
  const std::int32_t* bias = nullptr;             // N entries or nullptr
  std::int32_t clamp_min = std::numeric_limits<std::int32_t>::min();  // in output value space
  std::int32_t clamp_max = std::numeric_limits<std::int32_t>::max();
  zero_points zeros{};
  std::size_t capacity = 0;
};

namespace detail {

// a * b rounded once, never fused with a later add into an FMA (which rounds once for both):
// GCC contracts a*b+c by default in GNU modes (-ffp-contract=fast), Clang within an expression,
// whenever the target has FMA (-march=native), so float results would depend on the user's
// flags. The empty asm makes the product an opaque register value the add cannot absorb.
inline float mul_unfused(float a, float b) noexcept {
  float p = a * b;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__SSE__))
  __asm__("" : "+x"(p));
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
  __asm__("" : "+w"(p));
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__arm__) && defined(__ARM_FP)
  __asm__("" : "+t"(p));
#elif defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+m"(p));
#endif
  return p;
}

// The per-group float stage (float_output::w_group_scales): acc + scale_g * float(T_g), one
// group at a time in group order, then group_finish.
inline float group_term(float acc, float scale, std::int32_t t) noexcept {
  return acc + mul_unfused(scale, static_cast<float>(t));
}
inline float group_finish(const float_output& o, std::size_t n, float acc) noexcept {
  float v = mul_unfused(o.a_scale, acc);
  if (o.bias) v += o.bias[n];
  return v < o.clamp_min ? o.clamp_min : (v > o.clamp_max ? o.clamp_max : v);
}

// round(x * m0 * 2^(shift - 31)) with halves away from zero, in one exact rounding (the 64-bit
// product is exact), saturated to int32.
inline std::int32_t apply_multiplier(std::int32_t x, fixed_multiplier m) noexcept {
  const std::int64_t p = std::int64_t{x} * m.m0;  // |p| < 2^62
  const int s = 31 - m.shift;                     // 1..62 (make_fixed_multiplier's range)
  const std::uint64_t mag = static_cast<std::uint64_t>(p < 0 ? -p : p);
  const std::uint64_t r = (mag + (std::uint64_t{1} << (s - 1))) >> s;
  const std::int64_t v = p < 0 ? -static_cast<std::int64_t>(r) : static_cast<std::int64_t>(r);
  return v > std::numeric_limits<std::int32_t>::max()
             ? std::numeric_limits<std::int32_t>::max()
             : (v < std::numeric_limits<std::int32_t>::min()
                    ? std::numeric_limits<std::int32_t>::min()
                    : static_cast<std::int32_t>(v));
}

// The output byte for value v of format f (v already in range and representable).
inline std::uint8_t output_byte(format f, std::int32_t v) noexcept {
  if (f.enc == encoding::signed_int || f.enc == encoding::ternary)
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(v));
  return static_cast<std::uint8_t>(code_of_value(f, v));
}

// The clamp bounds of a quantized stage: [clamp_min, clamp_max] within the format's range, moved
// inwards onto odd values for odd-symmetric formats (the values it can represent). lo > hi means
// the range holds no value (validate_stage rejects that).
inline void clamp_bounds(const quantized_output& q, std::int64_t& lo, std::int64_t& hi) noexcept {
  lo = min_value(q.out_format);
  hi = max_value(q.out_format);
  if (q.clamp_min > lo) lo = q.clamp_min;
  if (q.clamp_max < hi) hi = q.clamp_max;
  if (q.out_format.enc == encoding::odd_symmetric) {
    if ((lo & 1) == 0) ++lo;
    if ((hi & 1) == 0) --hi;
  }
}

// The output's row stride and reach, (M - 1) * ld + N elements, against its capacity.
template <class Stage>
status validate_extent(const Stage& o, std::size_t m, std::size_t n) noexcept {
  if (o.ld != 0 && o.ld < n)
    return {errc::leading_dimension_too_small, "out.ld", static_cast<std::int64_t>(o.ld),
            static_cast<std::int64_t>(n)};
  const std::size_t ld = o.ld ? o.ld : n;
  const std::size_t rows_before = m ? m - 1 : 0;
  if (ld != 0 && rows_before > (std::numeric_limits<std::size_t>::max() - n) / ld)
    return {errc::size_overflow, "out (M - 1) * ld + N", static_cast<std::int64_t>(m)};
  const std::size_t need = rows_before * ld + n;
  if (o.capacity != 0 && o.capacity < need)
    return {errc::buffer_too_small, "out.capacity", static_cast<std::int64_t>(o.capacity),
            static_cast<std::int64_t>(need)};
  return status::success();
}

// The zero points a format accepts: those within 510 (twice the span of an 8-bit format) of
// every value of the format, [max_value - 510, min_value + 510]. That admits the format's range
// and, beyond it, ranges of reals that exclude zero (2-bit codes for [1, 4]: zero point -1);
// it refuses zero points of another format or codes taken for values (1000 for 2-bit data), and
// keeps |value - zero| <= 510, so zero points never take the accumulator limit below
// 2^31 / 510^2 = 8256 (limits.hpp) and centered values fit int16 (docs/errors.md).
constexpr std::int32_t max_centered_value = 510;
constexpr std::int32_t zero_point_min(format f) noexcept {
  return max_value(f) - max_centered_value;
}
constexpr std::int32_t zero_point_max(format f) noexcept {
  return min_value(f) + max_centered_value;
}

inline status validate_zero_point(std::int32_t z, format f, const char* name) noexcept {
  if (z < zero_point_min(f) || z > zero_point_max(f))
    return status::out_of_range(errc::invalid_argument, name, z, zero_point_min(f),
                                zero_point_max(f));
  return status::success();
}

// The activation and weight zero points against the formats (after validate_stage, which checks
// w_zero_count).
inline status validate_zero_points(const zero_points& z, format af, format wf,
                                   std::size_t n) noexcept {
  LOWBIT_RETURN_IF_ERROR(validate_zero_point(z.a_zero, af, "zeros.a_zero"));
  if (z.w_zeros != nullptr)
    for (std::size_t j = 0; j < (z.w_zero_count == 1 ? 1 : n); ++j)
      LOWBIT_RETURN_IF_ERROR(validate_zero_point(z.w_zeros[j], wf, "zeros.w_zeros"));
  return status::success();
}

// Per-group weight zero points (float_output::w_group_zeros) for weights of format wf in
// `groups` K groups: each within wf's value range; only with w_group_scales and without
// per-channel zeros.w_zeros. Nothing is read when w_group_zeros is null.
inline status validate_group_zeros(const float_output& o, format wf, std::size_t n,
                                   std::size_t groups) noexcept {
  if (o.w_group_zeros == nullptr) return status::success();
  if (o.w_group_scales == nullptr)
    return {errc::null_pointer, "out.w_group_scales (needed with out.w_group_zeros)"};
  if (o.zeros.w_zeros != nullptr)
    return {errc::invalid_argument, "out.zeros.w_zeros (not with out.w_group_zeros)"};
  for (std::size_t x = 0; x < n * groups; ++x)
    if (o.w_group_zeros[x] < min_value(wf) || o.w_group_zeros[x] > max_value(wf))
      return status::out_of_range(errc::invalid_argument, "out.w_group_zeros", o.w_group_zeros[x],
                                  min_value(wf), max_value(wf));
  return status::success();
}

// Stage interface used by the driver: validate once, then store rows of exact T values.
inline status validate_zeros(const zero_points& z, std::size_t n) noexcept {
  if (z.w_zeros != nullptr && z.w_zero_count != 1 && z.w_zero_count != n)
    return {errc::dimension_mismatch, "zeros.w_zero_count",
            static_cast<std::int64_t>(z.w_zero_count), static_cast<std::int64_t>(n)};
  return status::success();
}

inline status validate_stage(const int32_output& o, std::size_t m, std::size_t n) noexcept {
  if (o.data == nullptr) return {errc::null_pointer, "out.data"};
  LOWBIT_RETURN_IF_ERROR(validate_extent(o, m, n));
  return validate_zeros(o.zeros, n);
}

// stored_group_scales: the weights hold pack-time group scales, which stand for both scale
// fields (gemm checks that neither is given).
inline status validate_stage(const float_output& o, std::size_t m, std::size_t n,
                             bool stored_group_scales = false) noexcept {
  if (o.data == nullptr) return {errc::null_pointer, "out.data"};
  LOWBIT_RETURN_IF_ERROR(validate_extent(o, m, n));
  if (o.w_scales == nullptr && o.w_group_scales == nullptr && !stored_group_scales)
    return {errc::null_pointer, "out.w_scales"};
  if (o.w_scale_count != 1 && o.w_scale_count != n)
    return {errc::dimension_mismatch, "out.w_scale_count",
            static_cast<std::int64_t>(o.w_scale_count), static_cast<std::int64_t>(n)};
  if (!(o.clamp_min <= o.clamp_max))
    return status::bad_real(errc::invalid_argument, "out.clamp_min", o.clamp_min,
                            "at most out.clamp_max =", true, o.clamp_max);
  return validate_zeros(o.zeros, n);
}

inline status validate_stage(const quantized_output& o, std::size_t m, std::size_t n) noexcept {
  if (o.data == nullptr) return {errc::null_pointer, "out.data"};
  LOWBIT_RETURN_IF_ERROR(validate_extent(o, m, n));
  if (!is_valid(o.out_format))
    return {errc::invalid_bits, "out.out_format.bits", o.out_format.bits, max_bits};
  if (o.multipliers == nullptr) return {errc::null_pointer, "out.multipliers"};
  if (o.multiplier_count != 1 && o.multiplier_count != n)
    return {errc::dimension_mismatch, "out.multiplier_count",
            static_cast<std::int64_t>(o.multiplier_count), static_cast<std::int64_t>(n)};
  // make_fixed_multiplier's range: the rounding shift 31 - shift must lie in 1..62.
  for (std::size_t j = 0; j < o.multiplier_count; ++j)
    if (o.multipliers[j].shift > 30 || o.multipliers[j].shift < -31)
      return status::out_of_range(errc::invalid_argument, "out.multipliers[].shift",
                                  o.multipliers[j].shift, -31, 30);
  if (o.clamp_min > o.clamp_max)
    return status::out_of_range(errc::invalid_argument, "out.clamp_min", o.clamp_min,
                                std::numeric_limits<std::int32_t>::min(), o.clamp_max);
  // The clamp range must hold a value of the output format (odd values for odd-symmetric),
  // else requantization would clamp to a value with no code and emit a byte outside the format.
  std::int64_t lo = 0, hi = 0;
  clamp_bounds(o, lo, hi);
  if (lo > hi) {
    const std::int32_t vmin = min_value(o.out_format), vmax = max_value(o.out_format);
    if (o.clamp_max < vmin)
      return status::out_of_range(errc::invalid_argument, "out.clamp_max", o.clamp_max, vmin,
                                  std::numeric_limits<std::int32_t>::max());
    if (o.clamp_min > vmax)
      return status::out_of_range(errc::invalid_argument, "out.clamp_min", o.clamp_min,
                                  std::numeric_limits<std::int32_t>::min(), vmax);
    return status::expecting(errc::invalid_argument, "out.clamp_min", o.clamp_min,
                             "[out.clamp_min, out.clamp_max] to hold a value of out_format (an "
                             "odd one for odd-symmetric formats)",
                             vmax);
  }
  LOWBIT_RETURN_IF_ERROR(validate_zero_point(o.out_zero, o.out_format, "out.out_zero"));
  return validate_zeros(o.zeros, n);
}

// Stores T[0..len) of row m, columns n0.., through the stage.
inline void store_row(const int32_output& o, std::size_t n_total, std::size_t m, std::size_t n0,
                      std::size_t len, const std::int32_t* t) noexcept {
  std::int32_t* dst = o.data + m * (o.ld ? o.ld : n_total) + n0;
  for (std::size_t j = 0; j < len; ++j) dst[j] = t[j];
}

// The float stage's per-row arguments for a run of columns starting at the run's first: column
// j's scale is a_scale * w_scales[j] (w_scales[0] for all when not per_channel).
struct float_params {
  const float* w_scales;
  const float* bias;  // bias[j], or nullptr
  bool per_channel;
  float a_scale, lo, hi;
};

inline float_params float_params_at(const float_output& o, std::size_t n0) noexcept {
  const bool per_channel = o.w_scale_count != 1;
  return {per_channel ? o.w_scales + n0 : o.w_scales,
          o.bias ? o.bias + n0 : nullptr,
          per_channel,
          o.a_scale,
          o.clamp_min,
          o.clamp_max};
}

// dst[j] = clamp(float(t[j]) * (a_scale * w_scale[j]) + bias[j], lo, hi) for j < len: two
// products rounded one at a time, one add, then the clamp (a NaN stays NaN). Every ISA's row
// (driver_ops) computes exactly this.
inline void float_row_generic(const std::int32_t* t, std::size_t len, const float_params& q,
                              float* dst) noexcept {
  for (std::size_t j = 0; j < len; ++j) {
    const float scale = q.a_scale * q.w_scales[q.per_channel ? j : 0];
    float v = mul_unfused(static_cast<float>(t[j]), scale);
    if (q.bias) v += q.bias[j];
    v = v < q.lo ? q.lo : (v > q.hi ? q.hi : v);
    dst[j] = v;
  }
}

inline void store_row(const float_output& o, std::size_t n_total, std::size_t m, std::size_t n0,
                      std::size_t len, const std::int32_t* t) noexcept {
  float_row_generic(t, len, float_params_at(o, n0), o.data + m * (o.ld ? o.ld : n_total) + n0);
}

// Stores row m, columns n0 .. n0 + len, of a per-group float stage from the exact per-group
// results T_g[j] = t[g * group_stride + j], g < groups.
inline void store_row_groups(const float_output& o, std::size_t n_total, std::size_t m,
                             std::size_t n0, std::size_t len, const std::int32_t* t,
                             std::size_t groups, std::size_t group_stride) noexcept {
  float* dst = o.data + m * (o.ld ? o.ld : n_total) + n0;
  for (std::size_t j = 0; j < len; ++j) {
    const float* scales = o.w_group_scales + (n0 + j) * groups;
    float acc = 0.0f;
    for (std::size_t g = 0; g < groups; ++g)
      acc = group_term(acc, scales[g], t[g * group_stride + j]);
    dst[j] = group_finish(o, n0 + j, acc);
  }
}

// The requantization rule (docs/architecture.md, output stages) for a run of columns, with
// everything per format hoisted.
struct requant_params {
  const std::int32_t* bias;      // bias[j] for the run's column j, or nullptr
  const fixed_multiplier* mult;  // mult[j] when per_channel, else mult[0]
  bool per_channel;
  bool odd;  // odd-symmetric output: values odd, code (v + mask) / 2
  std::int32_t out_zero;
  std::int32_t lo, hi;  // clamp bounds: representable values of the format
  std::int32_t mask;
};

inline requant_params make_requant_params(const quantized_output& o) noexcept {
  const format f = o.out_format;
  requant_params q{};
  q.bias = o.bias;
  q.mult = o.multipliers;
  q.per_channel = o.multiplier_count != 1;
  q.odd = f.enc == encoding::odd_symmetric;
  q.out_zero = o.out_zero;
  std::int64_t lo = 0, hi = 0;
  clamp_bounds(o, lo, hi);
  q.lo = static_cast<std::int32_t>(lo);
  q.hi = static_cast<std::int32_t>(hi);
  q.mask = static_cast<std::int32_t>(code_mask(f));
  return q;
}

// The same parameters for the run starting at column n0.
inline requant_params requant_params_at(const requant_params& q, std::size_t n0) noexcept {
  requant_params r = q;
  if (r.bias) r.bias += n0;
  if (r.per_channel) r.mult += n0;
  return r;
}

inline void requant_row_generic(const std::int32_t* t, std::size_t len, const requant_params& q,
                                std::uint8_t* dst) noexcept {
  for (std::size_t j = 0; j < len; ++j) {
    const std::uint32_t xb =
        static_cast<std::uint32_t>(t[j]) + static_cast<std::uint32_t>(q.bias ? q.bias[j] : 0);
    std::int64_t v = std::int64_t{apply_multiplier(static_cast<std::int32_t>(xb),
                                                   q.mult[q.per_channel ? j : 0])} +
                     q.out_zero;
    if (q.odd && (v & 1) == 0) v += v >= 0 ? 1 : -1;
    v = v < q.lo ? q.lo : (v > q.hi ? q.hi : v);
    dst[j] = static_cast<std::uint8_t>(q.odd ? (v + q.mask) >> 1 : v);
  }
}

inline void store_row(const quantized_output& o, std::size_t n_total, std::size_t m, std::size_t n0,
                      std::size_t len, const std::int32_t* t) noexcept {
  requant_row_generic(t, len, requant_params_at(make_requant_params(o), n0),
                      o.data + m * (o.ld ? o.ld : n_total) + n0);
}

}  // namespace detail
}  // namespace lowbit
