// lowbit internal (conv): an output stage restricted to one convolution group's output channels.
#pragma once

#include <cstddef>

#include "lowbit/output.hpp"

namespace lowbit {
namespace detail {

// A stage restricted to the output columns of one group: shifts the data pointer and every
// per-channel array by the group's first channel (per-group scales: kgroups of them a channel),
// and fixes the row stride to out_c.
inline zero_points group_zeros(const zero_points& z, std::size_t c0) noexcept {
  zero_points g = z;
  if (g.w_zeros && g.w_zero_count != 1) g.w_zeros += c0;
  return g;
}
// What every stage restricts: the data pointer, the row stride and the weight zero points.
template <class Stage>
Stage group_base(const Stage& o, std::size_t c0, std::size_t oc) noexcept {
  Stage g = o;
  g.ld = o.ld ? o.ld : oc;
  g.data += c0;
  g.zeros = group_zeros(o.zeros, c0);
  return g;
}
inline int32_output group_stage(const int32_output& o, std::size_t c0, std::size_t oc,
                                std::size_t) noexcept {
  return group_base(o, c0, oc);
}
inline float_output group_stage(const float_output& o, std::size_t c0, std::size_t oc,
                                std::size_t kgroups) noexcept {
  float_output g = group_base(o, c0, oc);
  if (g.w_scales && g.w_scale_count != 1) g.w_scales += c0;
  if (g.w_group_scales) g.w_group_scales += c0 * kgroups;
  if (g.bias) g.bias += c0;
  return g;
}
inline quantized_output group_stage(const quantized_output& o, std::size_t c0, std::size_t oc,
                                    std::size_t) noexcept {
  quantized_output g = group_base(o, c0, oc);
  if (g.multiplier_count != 1) g.multipliers += c0;
  if (g.bias) g.bias += c0;
  return g;
}
// Per-group stages see counts of 1 or out_per_group entries.
inline void group_zero_count(zero_points& z, std::size_t ng, std::size_t oc) noexcept {
  if (z.w_zeros && z.w_zero_count == oc) z.w_zero_count = ng;
}
template <class Stage>
Stage group_counts(Stage s, std::size_t, std::size_t) noexcept {
  return s;
}
inline float_output group_counts(float_output s, std::size_t ng, std::size_t oc) noexcept {
  if (s.w_scale_count == oc) s.w_scale_count = ng;
  group_zero_count(s.zeros, ng, oc);
  return s;
}
inline int32_output group_counts(int32_output s, std::size_t ng, std::size_t oc) noexcept {
  group_zero_count(s.zeros, ng, oc);
  return s;
}
inline quantized_output group_counts(quantized_output s, std::size_t ng, std::size_t oc) noexcept {
  if (s.multiplier_count == oc) s.multiplier_count = ng;
  group_zero_count(s.zeros, ng, oc);
  return s;
}

}  // namespace detail
}  // namespace lowbit
