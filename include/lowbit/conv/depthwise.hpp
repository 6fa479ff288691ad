// lowbit internal (conv): direct depthwise convolution (groups == in_channels). No GEMM: the
// input's centered values (a - a_zero) once as int16, the weights' (w - w_zero) once per call,
// then per output pixel and inside tap one multiply-add per channel over contiguous int16.
// Padded taps are real zeros and add nothing, so no padding correction is needed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "lowbit/conv/a_sources.hpp"
#include "lowbit/conv/access.hpp"
#include "lowbit/detail/row_scan.hpp"
#include "lowbit/output.hpp"

namespace lowbit {
namespace detail {

// Scratch for depthwise_conv: centered activations, centered weights, and one row of
// accumulators per K group of kg taps (kg = taps without per-group scales).
inline std::size_t depthwise_scratch_bytes(std::size_t input_codes, std::size_t taps,
                                           std::size_t out_c, std::size_t kg) noexcept {
  const std::size_t kgroups = (taps + kg - 1) / kg;
  return round64(input_codes * sizeof(std::int16_t)) +
         round64(taps * out_c * sizeof(std::int16_t)) +
         round64(kgroups * out_c * sizeof(std::int32_t));
}

// Every output pixel of the validated input geo.input through the stage. kg: taps per K group
// (the weights' k_group with per-group scales, else taps). scratch: depthwise_scratch_bytes.
template <class Stage>
void depthwise_conv(const im2col_source& geo, const packed_conv_weights& w, const Stage& out,
                    std::size_t kg, std::uint8_t* scratch) noexcept {
  const conv_params& p = *geo.p;
  const zero_points& z = *geo.zeros;
  const std::size_t taps = p.taps(), oc = p.out_channels, c_in = geo.in.c;
  const std::size_t codes = geo.in.n * geo.in.h * geo.in.w * c_in;
  const std::size_t m = geo.in.n * geo.out_h * geo.out_w, kgroups = (taps + kg - 1) / kg;
  const std::size_t mult = p.out_per_group();  // output channels per input channel
  auto* a16 = reinterpret_cast<std::int16_t*>(scratch);
  auto* w16 = reinterpret_cast<std::int16_t*>(scratch + round64(codes * sizeof(std::int16_t)));
  auto* acc = reinterpret_cast<std::int32_t*>(reinterpret_cast<std::uint8_t*>(w16) +
                                              round64(taps * oc * sizeof(std::int16_t)));
  const affine_map ma = affine_of(geo.f);
  const u_transform t = make_u_transform(geo.f);
  for (std::size_t i = 0; i < codes; ++i)
    a16[i] = static_cast<std::int16_t>(ma.alpha * byte_to_u(t, geo.input[i]) + ma.beta - z.a_zero);
  const std::int16_t* wv = conv_access::depthwise_values(w);
  for (std::size_t tp = 0; tp < taps; ++tp)
    for (std::size_t c = 0; c < oc; ++c)
      w16[tp * oc + c] = static_cast<std::int16_t>(wv[tp * oc + c] - z.w_zero(c));
  bool grouped = false;
  if constexpr (std::is_same<Stage, float_output>::value) grouped = out.w_group_scales != nullptr;
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < kgroups * oc; ++c) acc[c] = 0;
    geo.for_each_tap(r, [&](std::size_t tap, bool inside, std::size_t pixel) {
      if (!inside) return;
      const std::int16_t* wt = w16 + tap * oc;
      const std::int16_t* x = a16 + pixel * c_in;
      std::int32_t* a = acc + (tap / kg) * oc;  // this tap's K group
      if (mult == 1) {
        for (std::size_t c = 0; c < oc; ++c) a[c] += std::int32_t{x[c]} * wt[c];
      } else {
        for (std::size_t c = 0; c < oc; ++c) a[c] += std::int32_t{x[c / mult]} * wt[c];
      }
    });
    if constexpr (std::is_same<Stage, float_output>::value) {
      if (grouped) {
        store_row_groups(out, oc, r, 0, oc, acc, kgroups, oc);
        continue;
      }
    }
    store_row(out, oc, r, 0, oc, acc);
  }
}

}  // namespace detail
}  // namespace lowbit
