// lowbit: weights packed once, for one kernel.
//
// An owning, 64-byte aligned, movable object that remembers the weight format, N, K, the kernel
// it was packed for (its name, algorithm, tile and bit widths) and the K blocking. Layout:
//   [column sums of u-codes: N x uint32, then N per K group when packed in groups; 64-aligned]
//   [panel 0: K block 0 | K block 1 | ...] [panel 1: ...] ...    (a panel = NR rows of W)
// Each K block is one micro-panel in the kernel's own layout, at a 64-byte aligned offset.
//
// A moved-from object is empty. Once packed, the object is only read: any number of gemm and
// conv2d calls on different threads may share it at the same time, each with its own workspace
// (the default per-thread one is). Only repacking or destroying it must not race with a call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/format.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {

class packed_weights;
namespace detail {
struct packed_weights_access;
}

class packed_weights {
 public:
  packed_weights() noexcept = default;
  // Moving leaves the source empty, as if default-constructed: gemm refuses it
  // (errc::wrong_packing).
  packed_weights(packed_weights&& o) noexcept { take(o); }
  packed_weights& operator=(packed_weights&& o) noexcept {
    if (this != &o) take(o);
    return *this;
  }
  packed_weights(const packed_weights&) = delete;
  packed_weights& operator=(const packed_weights&) = delete;

  bool empty() const noexcept { return kernel_ == nullptr; }
  format weight_format() const noexcept { return format_; }
  // The activation bit width the kernel was chosen for (activations may have fewer bits).
  int activation_bits() const noexcept { return a_bits_; }
  std::size_t rows() const noexcept { return n_; }  // N
  std::size_t cols() const noexcept { return k_; }  // K
  const char* kernel_name() const noexcept { return kernel_ ? kernel_->name : ""; }
  // The kernel a gemm or conv2d call with m rows of activations runs: the packed kernel, or its
  // shorter-tile sibling over the same panels when that one pads m less (kernel_for_rows).
  const char* kernel_name(std::size_t m) const noexcept {
    return kernel_ ? kernels::kernel_for_rows(*kernel_, m).name : "";
  }
  algorithm kernel_algorithm() const noexcept {
    return kernel_ ? kernel_->algo : algorithm::automatic;
  }
  const kernels::ukernel_desc* kernel() const noexcept { return kernel_; }
  std::size_t size_bytes() const noexcept { return buffer_.size(); }

  // Layout, for the driver.
  std::size_t kc() const noexcept { return kc_; }
  std::size_t k_blocks() const noexcept { return kc_ ? (k_ + kc_ - 1) / kc_ : 0; }
  const std::uint32_t* column_sums() const noexcept {
    return reinterpret_cast<const std::uint32_t*>(buffer_.bytes());
  }
  // Weights are stored as u - w_offset(): the kernel's own offset, or one pack_weights chose so
  // that the stored number is the weight's value (ukernel.hpp).
  int w_offset() const noexcept { return w_offset_; }
  // K group size when packed for per-group scales (each group is one K block), else 0.
  std::size_t k_group() const noexcept { return k_group_; }
  // Column sums of group g (N entries), when k_group() != 0.
  const std::uint32_t* group_column_sums(std::size_t g) const noexcept {
    return column_sums() + (g + 1) * n_;
  }
  const void* panel(std::size_t tile, std::size_t kblock) const noexcept {
    return buffer_.bytes() + panels_offset_ + tile * panel_stride_ + kblock * kblock_stride_;
  }

 private:
  friend struct detail::packed_weights_access;
  // Takes every member of o and leaves o as default-constructed (a new member goes here too).
  void take(packed_weights& o) noexcept {
    buffer_ = std::move(o.buffer_);
    kernel_ = std::exchange(o.kernel_, nullptr);
    format_ = std::exchange(o.format_, format{});
    a_bits_ = std::exchange(o.a_bits_, 0);
    w_offset_ = std::exchange(o.w_offset_, 0);
    n_ = std::exchange(o.n_, 0);
    k_ = std::exchange(o.k_, 0);
    kc_ = std::exchange(o.kc_, 0);
    k_group_ = std::exchange(o.k_group_, 0);
    panels_offset_ = std::exchange(o.panels_offset_, 0);
    panel_stride_ = std::exchange(o.panel_stride_, 0);
    kblock_stride_ = std::exchange(o.kblock_stride_, 0);
  }

  detail::aligned_buffer buffer_;
  const kernels::ukernel_desc* kernel_ = nullptr;
  format format_{};
  int a_bits_ = 0;
  int w_offset_ = 0;
  std::size_t n_ = 0, k_ = 0, kc_ = 0, k_group_ = 0;
  std::size_t panels_offset_ = 0, panel_stride_ = 0, kblock_stride_ = 0;
};

namespace detail {
// The packer's door into packed_weights (keeps the public surface read-only).
struct packed_weights_access {
  static detail::aligned_buffer& buffer(packed_weights& p) noexcept { return p.buffer_; }
  static void set_layout(packed_weights& p, const kernels::ukernel_desc* k, format f, int a_bits,
                         std::size_t n, std::size_t kk, std::size_t kc, std::size_t panels_offset,
                         std::size_t panel_stride, std::size_t kblock_stride, int w_offset,
                         std::size_t k_group = 0) noexcept {
    p.kernel_ = k;
    p.format_ = f;
    p.a_bits_ = a_bits;
    p.n_ = n;
    p.k_ = kk;
    p.kc_ = kc;
    p.panels_offset_ = panels_offset;
    p.panel_stride_ = panel_stride;
    p.kblock_stride_ = kblock_stride;
    p.k_group_ = k_group;
    p.w_offset_ = w_offset;
  }
  static void clear(packed_weights& p) noexcept { p = packed_weights{}; }
};
}  // namespace detail

}  // namespace lowbit
