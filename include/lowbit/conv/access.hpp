// lowbit internal (conv): conv_access, the one door into packed_conv_weights' members for the
// packing and conv2d code in this folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "lowbit/conv/declarations.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/packed_weights.hpp"

namespace lowbit {
namespace detail {

struct conv_access {
  static packed_weights* groups(const packed_conv_weights& w) noexcept { return w.groups_.get(); }
  static const std::int32_t* tap_sums(const packed_conv_weights& w) noexcept {
    return reinterpret_cast<const std::int32_t*>(w.tap_sums_.data());
  }
  static const std::int16_t* depthwise_values(const packed_conv_weights& w) noexcept {
    return reinterpret_cast<const std::int16_t*>(w.depthwise_values_.data());
  }
  static const packed_weights* gapped(const packed_conv_weights& w) noexcept {
    return w.gapped_.get();
  }
  static std::size_t row_gap(const packed_conv_weights& w) noexcept { return w.row_gap_; }
  static void set_gapped(packed_conv_weights& w, allocated_array<packed_weights> g,
                         std::size_t gap) noexcept {
    w.gapped_ = std::move(g);
    w.row_gap_ = gap;
  }
  static packed_conv_weights& self(packed_conv_weights& w) noexcept { return w; }
  static allocated_array<packed_weights>& groups_slot(packed_conv_weights& w) noexcept {
    return w.groups_;
  }
  static aligned_buffer& tap_sums_buffer(packed_conv_weights& w) noexcept { return w.tap_sums_; }
  static aligned_buffer& depthwise_buffer(packed_conv_weights& w) noexcept {
    return w.depthwise_values_;
  }
  static const std::int32_t* kgroup_sums(const packed_conv_weights& w) noexcept {
    return reinterpret_cast<const std::int32_t*>(w.kgroup_sums_.data());
  }
  static aligned_buffer& kgroup_sums_buffer(packed_conv_weights& w) noexcept {
    return w.kgroup_sums_;
  }
  static void finish(packed_conv_weights& w, const conv_params& p, format wf, int a_bits,
                     std::size_t k_group) noexcept {
    w.params_ = p;
    w.wf_ = wf;
    w.a_bits_ = a_bits;
    w.k_group_ = k_group;
  }
};

}  // namespace detail
}  // namespace lowbit
