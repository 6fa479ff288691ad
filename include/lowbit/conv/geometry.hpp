// lowbit internal (conv): parameter validation and the geometry every convolution path shares:
// K groups across taps, the padding code, the window-row gap and the direct 1x1 test.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/conv/declarations.hpp"
#include "lowbit/detail/codes.hpp"
#include "lowbit/format.hpp"
#include "lowbit/limits.hpp"
#include "lowbit/status.hpp"

namespace lowbit {
namespace detail {

inline status validate_conv_params(const conv_params& p) noexcept {
  if (p.groups == 0) return {errc::invalid_argument, "params.groups", 0};
  if (p.in_channels == 0) return {errc::invalid_dimension, "params.in_channels", 0, 1};
  if (p.out_channels == 0) return {errc::invalid_dimension, "params.out_channels", 0, 1};
  if (p.in_channels % p.groups != 0)
    return {errc::invalid_argument, "params.groups (does not divide in_channels)",
            static_cast<std::int64_t>(p.groups), static_cast<std::int64_t>(p.in_channels)};
  if (p.out_channels % p.groups != 0)
    return {errc::invalid_argument, "params.groups (does not divide out_channels)",
            static_cast<std::int64_t>(p.groups), static_cast<std::int64_t>(p.out_channels)};
  if (p.kernel_h == 0 || p.kernel_w == 0) return {errc::invalid_dimension, "params.kernel", 0, 1};
  if (p.stride_h == 0 || p.stride_w == 0) return {errc::invalid_argument, "params.stride", 0};
  if (p.dilation_h == 0 || p.dilation_w == 0) return {errc::invalid_argument, "params.dilation", 0};
  const std::size_t lim = std::size_t{1} << 24;
  if (p.kernel_h > lim || p.kernel_w > lim || p.stride_h > lim || p.stride_w > lim ||
      p.dilation_h > lim || p.dilation_w > lim || p.pad_top > lim || p.pad_left > lim ||
      p.pad_bottom > lim || p.pad_right > lim || p.in_channels > lim || p.out_channels > lim)
    return {errc::invalid_dimension, "params (a size above 2^24)", 0,
            static_cast<std::int64_t>(lim)};
  // K = kernel_h * kernel_w * in_channels / groups, and the weights' size, within size_t.
  std::size_t taps = 0, k = 0, bytes = 0;
  if (!mul_size(p.kernel_h, p.kernel_w, taps) || !mul_size(taps, p.in_per_group(), k) ||
      !mul_size(k, p.out_channels, bytes) || !mul_size(bytes, sizeof(std::int32_t), bytes))
    return {errc::size_overflow, "params (kernel_h * kernel_w * in_channels / groups)",
            static_cast<std::int64_t>(p.kernel_h)};
  return status::success();
}

// The intersections of taps (cg channels each) with K groups (k_group positions each), numbered
// in K order: a tap inside one group is one segment, a tap across a group boundary several. The
// segments before tap t number t + floor(t*cg/G) - floor(t*cg/lcm(cg, G)): one per boundary, of a
// tap or of a group, in (0, t*cg], counting shared boundaries once.
struct kgroup_segments {
  std::size_t taps, cg, k_group;

  std::size_t before(std::size_t t) const noexcept {
    const std::uint64_t x = std::uint64_t{t} * cg, l = lcm(cg, k_group);
    return static_cast<std::size_t>(t + x / k_group - x / l);
  }
  std::size_t count() const noexcept { return before(taps); }
  // Segment of tap t in K group g (g one of the groups tap t's channels fall in).
  std::size_t index(std::size_t t, std::size_t g) const noexcept {
    return before(t) + g - t * cg / k_group;
  }
  // The K groups tap t's channels fall in: [first, last].
  std::size_t first_group(std::size_t t) const noexcept { return t * cg / k_group; }
  std::size_t last_group(std::size_t t) const noexcept { return ((t + 1) * cg - 1) / k_group; }
  // Channels of tap t in group g.
  std::size_t length(std::size_t t, std::size_t g) const noexcept {
    const std::size_t lo = t * cg > g * k_group ? t * cg : g * k_group;
    const std::size_t hi = (t + 1) * cg < (g + 1) * k_group ? (t + 1) * cg : (g + 1) * k_group;
    return hi - lo;
  }
  static std::uint64_t lcm(std::uint64_t a, std::uint64_t b) noexcept {
    std::uint64_t x = a, y = b;
    while (y != 0) {
      const std::uint64_t r = x % y;
      x = y;
      y = r;
    }
    return a / x * b;
  }
};

// The u-code used for padded taps, and the value (minus zero point) it stands for: 0 when the
// format can represent the zero point exactly.
struct pad_code {
  std::uint8_t u;
  std::int32_t centered;  // value(u) - a_zero; nonzero only when no exact zero exists
};

inline pad_code make_pad_code(format af, std::int32_t a_zero) noexcept {
  const std::int32_t c = code_of_value(af, a_zero);
  if (c >= 0) return {u_code(af, static_cast<std::uint32_t>(c)), 0};
  const affine_map m = affine_of(af);
  return {0, m.beta - a_zero};  // u = 0 means value beta
}

// The window-row gap that makes kernel_w * in_c bytes a multiple of 4 (the k step of every
// kernel that reads window rows in place), or 0 when the layout does not apply: one group
// spanning every channel, undilated rows, and a weight format with a zero value to fill the gap.
inline std::size_t window_row_gap(const conv_params& p, format wf) noexcept {
  const std::size_t row = p.kernel_w * p.in_channels;
  if (p.groups != 1 || p.dilation_w != 1 || row % 4 == 0 || code_of_value(wf, 0) < 0) return 0;
  return 4 - row % 4;
}

// A 1x1 convolution with unit strides and no padding: its A is the input matrix itself.
inline bool direct_1x1(const conv_params& p) noexcept {
  return p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
         p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
}

}  // namespace detail
}  // namespace lowbit
