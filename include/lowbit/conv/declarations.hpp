// lowbit: the declarations of lowbit/conv.hpp (include that header; this one exists so the
// convolution code in this folder can see them without the definitions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <utility>

#include "lowbit/config.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/executor.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/output.hpp"
#include "lowbit/packed_weights.hpp"
#include "lowbit/status.hpp"
#include "lowbit/workspace.hpp"

namespace lowbit {

struct tensor_shape {  // NHWC
  std::size_t n = 1, h = 1, w = 1, c = 1;
};

struct conv_params {
  std::size_t in_channels = 0, out_channels = 0;
  std::size_t kernel_h = 1, kernel_w = 1;
  std::size_t stride_h = 1, stride_w = 1;
  std::size_t dilation_h = 1, dilation_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::size_t groups = 1;  // in_channels and out_channels divisible by it; depthwise: in_channels

  std::size_t in_per_group() const noexcept { return groups ? in_channels / groups : 0; }
  std::size_t out_per_group() const noexcept { return groups ? out_channels / groups : 0; }
  std::size_t taps() const noexcept { return kernel_h * kernel_w; }
  bool depthwise() const noexcept { return groups > 1 && in_per_group() == 1; }
  // Output height / width for an input, or 0 when the geometry yields no output.
  std::size_t out_h(std::size_t in_h) const noexcept {
    const std::size_t span = dilation_h * (kernel_h - 1) + 1, padded = in_h + pad_top + pad_bottom;
    return padded < span ? 0 : (padded - span) / stride_h + 1;
  }
  std::size_t out_w(std::size_t in_w) const noexcept {
    const std::size_t span = dilation_w * (kernel_w - 1) + 1, padded = in_w + pad_left + pad_right;
    return padded < span ? 0 : (padded - span) / stride_w + 1;
  }
};

// Convolution weights packed once: one packed GEMM weight matrix per group (N = out_c / groups,
// K = kernel_h * kernel_w * in_c / groups), or the depthwise layout; plus per-tap weight value
// sums for exact padding correction. All of it comes from the allocator (set_allocator), so with
// LOWBIT_NO_HEAP the weights are packed into caller memory; pack_conv_weights_size tells how much.
namespace detail {
struct conv_access;

// An array of T built in memory from the allocator (aligned_buffer), never from operator new:
// packing conv weights then needs no heap under LOWBIT_NO_HEAP. T's default constructor,
// move and destructor must not throw.
template <class T>
class allocated_array {
  static_assert(alignof(T) <= cache_line, "aligned_buffer gives cache_line alignment");

 public:
  allocated_array() noexcept = default;
  allocated_array(allocated_array&& o) noexcept
      : buffer_(std::move(o.buffer_)),
        items_(std::exchange(o.items_, nullptr)),
        count_(std::exchange(o.count_, 0)) {}
  allocated_array& operator=(allocated_array&& o) noexcept {
    if (this != &o) {
      reset();
      buffer_ = std::move(o.buffer_);
      items_ = std::exchange(o.items_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }
  allocated_array(const allocated_array&) = delete;
  allocated_array& operator=(const allocated_array&) = delete;
  ~allocated_array() { reset(); }

  // Bytes create(count) asks the allocator for.
  static constexpr std::size_t bytes(std::size_t count) noexcept { return count * sizeof(T); }
  // Replaces the contents with `count` default-constructed T; false when out of memory.
  bool create(std::size_t count) noexcept {
    reset();
    if (count == 0) return true;
    if (count > std::numeric_limits<std::size_t>::max() / sizeof(T) ||
        !buffer_.allocate(bytes(count)))
      return false;
    items_ = static_cast<T*>(buffer_.data());
    for (; count_ < count; ++count_) ::new (static_cast<void*>(items_ + count_)) T();
    return true;
  }
  void reset() noexcept {
    while (count_ > 0) items_[--count_].~T();
    items_ = nullptr;
    buffer_.release();
  }
  T* get() const noexcept { return items_; }
  std::size_t size() const noexcept { return count_; }
  explicit operator bool() const noexcept { return items_ != nullptr; }

 private:
  aligned_buffer buffer_;
  T* items_ = nullptr;
  std::size_t count_ = 0;
};
}  // namespace detail

class packed_conv_weights {
 public:
  packed_conv_weights() noexcept = default;
  // Moving leaves the source empty, as if default-constructed: conv2d refuses it
  // (errc::wrong_packing). Once packed, the weights are only read: concurrent conv2d calls on
  // different threads may share them, each with its own workspace.
  packed_conv_weights(packed_conv_weights&& o) noexcept { take(o); }
  packed_conv_weights& operator=(packed_conv_weights&& o) noexcept {
    if (this != &o) take(o);
    return *this;
  }
  packed_conv_weights(const packed_conv_weights&) = delete;
  packed_conv_weights& operator=(const packed_conv_weights&) = delete;

  bool empty() const noexcept { return params_.groups == 0; }
  const conv_params& params() const noexcept { return params_; }
  format weight_format() const noexcept { return wf_; }
  int activation_bits() const noexcept { return a_bits_; }
  // K group size when packed for per-group weight scales (pack_options::k_group), else 0.
  std::size_t k_group() const noexcept { return k_group_; }
  // The GEMM kernel used (or "depthwise_direct").
  const char* kernel_name() const noexcept {
    return params_.depthwise() ? "depthwise_direct"
                               : (groups_ ? groups_.get()[0].kernel_name() : "");
  }

 private:
  friend struct detail::conv_access;
  // Takes every member of o and leaves o as default-constructed (a new member goes here too).
  void take(packed_conv_weights& o) noexcept {
    groups_ = std::move(o.groups_);
    gapped_ = std::move(o.gapped_);
    row_gap_ = std::exchange(o.row_gap_, 0);
    tap_sums_ = std::move(o.tap_sums_);
    depthwise_values_ = std::move(o.depthwise_values_);
    kgroup_sums_ = std::move(o.kgroup_sums_);
    k_group_ = std::exchange(o.k_group_, 0);
    params_ = o.params_;
    o.params_ = conv_params{};
    o.params_.groups = 0;  // empty()
    wf_ = std::exchange(o.wf_, format{});
    a_bits_ = std::exchange(o.a_bits_, 0);
  }

  detail::allocated_array<packed_weights> groups_;  // one per group (not depthwise)
  // Few input channels (a first layer: 7 taps x 3 channels = 21 bytes per window row): the same
  // weights again with each window row's K padded by row_gap_ zero weights to whole k steps of a
  // kernel that keeps runs of codes (reads window rows in place, ukernel_desc::a_runs), which reads
  // the row_gap_ input bytes after each window row and multiplies them by zero. Empty: none.
  detail::allocated_array<packed_weights> gapped_;
  std::size_t row_gap_ = 0;
  detail::aligned_buffer tap_sums_;          // int32 [out_c][taps]: sum over in channels of w
  detail::aligned_buffer depthwise_values_;  // int16 [taps][out_c]: weight values (depthwise)
  // With k_group (not depthwise): int32 [out_c][segments], the sum of w over each intersection
  // of a tap's channels with a K group, in K order (padding correction per K group).
  detail::aligned_buffer kgroup_sums_;
  std::size_t k_group_ = 0;
  conv_params params_{0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
  format wf_{};
  int a_bits_ = 0;
};

// Packs OHWI weight codes (one per byte) for convolutions with these parameters. With
// opt.k_group, the weights are packed in K groups for float_output::w_group_scales (K =
// kernel_h * kernel_w * in_channels / groups, in OHWI order).
LOWBIT_API status pack_conv_weights(const std::uint8_t* w_ohwi, const conv_params& p, format wf,
                                    format af, packed_conv_weights& out,
                                    const pack_options& opt = {}) noexcept;

// Bytes pack_conv_weights asks the allocator (set_allocator) for with these arguments, each
// request rounded up to 64: a 64-byte aligned arena of this size that never frees (a bump
// allocator) holds every request, including the packing's temporaries; an allocator that frees
// needs less. It depends on the shape, formats, options and the kernel dispatch picks on this
// CPU, not on the weight values. 0 when pack_conv_weights would refuse the arguments. When the
// allocator fails, pack_conv_weights returns errc::out_of_memory with this number as value().
LOWBIT_API std::size_t pack_conv_weights_size(const conv_params& p, format wf, format af,
                                              const pack_options& opt = {}) noexcept;

// out = conv2d(input, weights) through an output stage (int32_output, float_output,
// quantized_output). The output is NHWC: row = (n, y, x) pixel, out_c channels per row. Threads
// come from `ex` (nullptr: the calling thread) or the default executor. One packed_conv_weights
// may serve concurrent calls on different threads, each with its own workspace.
LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const int32_output& out, workspace& ws,
                         executor* ex) noexcept;
LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const float_output& out, workspace& ws,
                         executor* ex) noexcept;
LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const quantized_output& out, workspace& ws,
                         executor* ex) noexcept;
template <class Stage>
status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
              const packed_conv_weights& w, const Stage& out, workspace& ws) noexcept {
  return conv2d(input_nhwc, in, af, w, out, ws, default_executor());
}
template <class Stage>
status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
              const packed_conv_weights& w, const Stage& out) noexcept {
  return conv2d(input_nhwc, in, af, w, out, detail::thread_workspace(), default_executor());
}

}  // namespace lowbit
