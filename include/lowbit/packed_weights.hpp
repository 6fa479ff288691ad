// lowbit: weights packed once, for every M.
//
// An owning, 64-byte aligned, movable object that remembers the weight format, N, K, the kernel
// it was packed for (its name, algorithm, tile and bit widths) and the K blocking. Where the host
// has bit-dense small-M kernels (kernels/gemv, kernels/neon/gemv_neon.hpp) for 1/2/4-bit weights
// whose panels the int8 kernels can take unpacked, a default packing stores that one bit-dense
// layout only:
// M = 1..8 run the small-M kernels on it, larger M the main kernel on panels the driver unpacks
// per call (unpacks_for). Otherwise it may also hold the weights in up to two small-M layouts
// (each a nested packed_weights): a call runs the layout for_rows(M) names, chosen per call from
// M (docs/gemv.md). Layout of each:
//   [column sums of u-codes: N x uint32, 64-aligned]
//   [packed in K groups: per column panel, per group, NR column sums (zero past N); 64-aligned]
//   [with pack-time group scales: per column panel, per group, NR scales (binary16 or binary32,
//    zero past N); 64-aligned] [their zero points, if given, the same way (int8 or int16)]
//   [panel 0: K block 0 | K block 1 | ...] [panel 1: ...] ...    (a panel = NR rows of W)
// Each K block is one micro-panel in the kernel's own layout, at a 64-byte aligned offset.
//
// A moved-from object is empty. Once packed, the object is only read: any number of gemm and
// conv2d calls on different threads may share it at the same time, each with its own workspace
// (the default per-thread one is). Only repacking or destroying it must not race with a call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/format.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {

class packed_weights;
// Unpacks one K block's stored panel (kc values a row) into the main kernel's panel at dst, each
// weight stored as u - w_offset (kernels/gemv/gemv_pack_x86.hpp gemv_unpack_k4,
// kernels/neon/gemv_unpack_neon.hpp gemv_unpack_rowblock).
using panel_unpack_fn = void (*)(const void* src, std::size_t kc, void* dst, int w_offset);
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
  ~packed_weights() { drop_small(); }

  bool empty() const noexcept { return kernel_ == nullptr; }
  format weight_format() const noexcept { return format_; }
  // The activation bit width the kernel was chosen for (activations may have fewer bits).
  int activation_bits() const noexcept { return a_bits_; }
  std::size_t rows() const noexcept { return n_; }  // N
  std::size_t cols() const noexcept { return k_; }  // K
  // The kernel of the main layout (the one large M runs; conv2d always runs it).
  const char* kernel_name() const noexcept { return kernel_ ? kernel_->name : ""; }
  // The kernel whose panels are stored: kernel(), or the bit-dense one a call unpacks from.
  const kernels::ukernel_desc* stored_kernel() const noexcept {
    return stored_ ? stored_ : kernel_;
  }
  // Whether a gemm call with m rows runs kernel_for_call(m) on panels unpacked per call from the
  // stored bit-dense ones (stored as u - unpack_w_offset(), with the stored K blocking).
  bool unpacks_for(std::size_t m) const noexcept {
    return unpack_ != nullptr && kernel_for_call(m).bytes_per_weight == 0.0f;
  }
  panel_unpack_fn unpack_fn() const noexcept { return unpack_; }
  int unpack_w_offset() const noexcept { return unpack_w_offset_; }
  // Unpacks K block kb (kc values a column) of kernel()'s column tile t into its panel at dst.
  // A stored panel holds one or more such tiles (NEON: 8 stored columns, 4-column widening
  // tiles), tile t being part t % parts of stored panel t / parts, part_bytes apart in a block.
  void unpack_panel(std::size_t t, std::size_t kb, std::size_t kc, void* dst) const noexcept {
    const auto* src = static_cast<const std::uint8_t*>(panel(t / unpack_parts_, kb)) +
                      t % unpack_parts_ * unpack_part_bytes_;
    unpack_(src, kc, dst, unpack_w_offset_);
  }
  // The layout a gemm call with m rows of activations runs: a small-M layout packed for m, or
  // this object's own.
  const packed_weights& for_rows(std::size_t m) const noexcept {
    const std::size_t i = m < sizeof(small_for_m_) ? small_for_m_[m] : 0;
    return i != 0 ? *small_[i - 1] : *this;
  }
  // The kernel a gemm call with m rows of activations runs: for_rows(m)'s kernel, or its
  // shorter-tile sibling over the same panels when that one pads m less (kernel_for_rows).
  // conv2d runs the main layout: kernel_for_rows(*kernel(), m).
  const char* kernel_name(std::size_t m) const noexcept {
    const packed_weights& l = for_rows(m);
    return l.kernel_ ? l.kernel_for_call(m).name : "";
  }
  // The kernel a call with m rows runs on this layout (not empty): for m <= 8 the one the
  // packing chose (the kernel, or another over the same panels: a shorter or taller tile, or
  // the 8-row GEMV kernel on a 1-row kernel's layout), else kernel_for_rows.
  const kernels::ukernel_desc& kernel_for_call(std::size_t m) const noexcept {
    const kernels::ukernel_desc* r = m < sizeof(small_for_m_) ? run_for_m_[m] : nullptr;
    return r != nullptr ? *r : kernels::kernel_for_rows(*kernel_, m);
  }
  // Small-M layouts held besides the main one (0..2), and the i-th of them.
  std::size_t small_layouts() const noexcept {
    return (small_[0] != nullptr) + (small_[1] != nullptr);
  }
  const packed_weights* small_layout(std::size_t i) const noexcept {
    return i < 2 ? small_[i] : nullptr;
  }
  algorithm kernel_algorithm() const noexcept {
    return kernel_ ? kernel_->algo : algorithm::automatic;
  }
  const kernels::ukernel_desc* kernel() const noexcept { return kernel_; }
  // Bytes of packed weights held, every layout counted: column sums, pack-time group scales and
  // zero points, and panels, with their 64-byte alignment padding; panels unpacked per call live in
  // the call's workspace, not here (docs/gemv.md has bytes per weight for the default cases).
  std::size_t size_bytes() const noexcept {
    std::size_t s = buffer_.size();
    for (const packed_weights* l : small_)
      if (l != nullptr) s += l->buffer_.size();
    return s;
  }

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
  // The per-group column sums of column panel `tile`, when k_group() != 0: group g's sums of the
  // panel's NR columns at [g * NR + j] (zero past N), k_blocks() groups a panel, in the order
  // the grouped driver reads them (one contiguous run per panel, nothing to gather per call).
  const std::uint32_t* group_column_sums(std::size_t tile) const noexcept {
    return column_sums() + group_sums_offset(n_) +
           tile * k_blocks() * (kernel_ != nullptr ? kernel_->nr : 0);
  }
  // The kernel's column panel width, NR (the per-panel group tables are padded to it).
  std::size_t nr() const noexcept { return kernel_ != nullptr ? kernel_->nr : 0; }
  // Where the per-group column sums start, in uint32 after the N column sums (64-aligned).
  static constexpr std::size_t group_sums_offset(std::size_t n) noexcept {
    return (n + 15) / 16 * 16;
  }
  // Per-group scales stored at pack time (pack_options::group_scales / group_scales_f16):
  // bytes a scale, 2 (IEEE binary16 bits) or 4 (float); 0 when none are stored. Every layout
  // of a packing holds them (the small-M ones too, in their own column panels).
  std::size_t group_scale_bytes() const noexcept { return gscale_bytes_; }
  bool has_group_scales() const noexcept { return gscale_bytes_ != 0; }
  // Column panel `tile`'s stored scales: group g's NR scales at [g * NR + j] (zero past N), as
  // group_scale_bytes() says (std::uint16_t binary16 bits, or float); one contiguous run per
  // panel, k_blocks() groups, in the order the grouped kernels read them.
  const void* group_scales(std::size_t tile) const noexcept {
    return buffer_.bytes() + gscales_offset_ + tile * k_blocks() * nr() * gscale_bytes_;
  }
  // The same for stored per-group zero points (pack_options::group_zeros): 1 (int8) or 2
  // (int16) bytes each, 0 when none are stored.
  std::size_t group_zero_bytes() const noexcept { return gzero_bytes_; }
  bool has_group_zeros() const noexcept { return gzero_bytes_ != 0; }
  const void* group_zeros(std::size_t tile) const noexcept {
    return buffer_.bytes() + gzeros_offset_ + tile * k_blocks() * nr() * gzero_bytes_;
  }
  // Channel n's stored zero point of group g.
  std::int32_t group_zero(std::size_t n, std::size_t g) const noexcept {
    const std::size_t r = nr(), at = g * r + n % r;
    const void* z = group_zeros(n / r);
    return gzero_bytes_ == 1 ? static_cast<const std::int8_t*>(z)[at]
                             : static_cast<const std::int16_t*>(z)[at];
  }
  const void* panel(std::size_t tile, std::size_t kblock) const noexcept {
    return buffer_.bytes() + panels_offset_ + tile * panel_stride_ + kblock * kblock_stride_;
  }

 private:
  friend struct detail::packed_weights_access;
  // Takes every member of o and leaves o as default-constructed (a new member goes here too).
  void take(packed_weights& o) noexcept {
    drop_small();
    small_store_ = std::move(o.small_store_);
    for (int i = 0; i < 2; ++i) small_[i] = std::exchange(o.small_[i], nullptr);
    for (std::size_t m = 0; m < sizeof(small_for_m_); ++m) {
      small_for_m_[m] = std::exchange(o.small_for_m_[m], std::uint8_t{0});
      run_for_m_[m] = std::exchange(o.run_for_m_[m], nullptr);
    }
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
    stored_ = std::exchange(o.stored_, nullptr);
    unpack_ = std::exchange(o.unpack_, nullptr);
    unpack_w_offset_ = std::exchange(o.unpack_w_offset_, 0);
    unpack_parts_ = std::exchange(o.unpack_parts_, std::size_t{1});
    unpack_part_bytes_ = std::exchange(o.unpack_part_bytes_, 0);
    gscales_offset_ = std::exchange(o.gscales_offset_, 0);
    gzeros_offset_ = std::exchange(o.gzeros_offset_, 0);
    gscale_bytes_ = std::exchange(o.gscale_bytes_, 0);
    gzero_bytes_ = std::exchange(o.gzero_bytes_, 0);
  }

  // Destroys the nested small-M layouts (constructed in small_store_ by the packer).
  void drop_small() noexcept {
    for (packed_weights*& l : small_)
      if (l != nullptr) {
        l->~packed_weights();
        l = nullptr;
      }
    for (std::uint8_t& x : small_for_m_) x = 0;
    for (const kernels::ukernel_desc*& r : run_for_m_) r = nullptr;
    small_store_.release();
  }

  detail::aligned_buffer buffer_;
  // Small-M layouts: objects placed in small_store_; small_for_m_[m] (m = 0..8) is 1 + the index
  // of the one a call with m rows runs, or 0 for the main layout.
  detail::aligned_buffer small_store_;
  packed_weights* small_[2] = {nullptr, nullptr};
  std::uint8_t small_for_m_[9] = {};
  // The main layout's kernel for a call with m rows (m = 0..8) when the packing chose one over
  // the same panels; nullptr: kernel_for_rows.
  const kernels::ukernel_desc* run_for_m_[9] = {};
  const kernels::ukernel_desc* kernel_ = nullptr;
  format format_{};
  int a_bits_ = 0;
  int w_offset_ = 0;
  std::size_t n_ = 0, k_ = 0, kc_ = 0, k_group_ = 0;
  std::size_t panels_offset_ = 0, panel_stride_ = 0, kblock_stride_ = 0;
  // One bit-dense layout for every M: the kernel whose panels are stored (kernel_ is then the
  // main kernel large M runs), the unpacker into kernel_'s panels and the offset it stores.
  const kernels::ukernel_desc* stored_ = nullptr;
  panel_unpack_fn unpack_ = nullptr;
  int unpack_w_offset_ = 0;
  std::size_t unpack_parts_ = 1, unpack_part_bytes_ = 0;  // unpack_panel
  // Pack-time group scales and zero points: byte offsets in buffer_ and bytes an entry (0: none).
  std::size_t gscales_offset_ = 0, gzeros_offset_ = 0, gscale_bytes_ = 0, gzero_bytes_ = 0;
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
  // Where the layout's stored group scales and zero points lie (byte offsets in its buffer) and
  // their bytes an entry (0: none).
  static void set_group_storage(packed_weights& p, std::size_t scales_offset,
                                std::size_t scale_bytes, std::size_t zeros_offset,
                                std::size_t zero_bytes) noexcept {
    p.gscales_offset_ = scales_offset;
    p.gscale_bytes_ = scale_bytes;
    p.gzeros_offset_ = zeros_offset;
    p.gzero_bytes_ = zero_bytes;
  }
  // Moves the packed layouts `smalls` (count 0..2) into p as its small-M layouts; for_m[m]
  // (m = 0..8) is 1 + the index of the one a call with m rows runs, 0 for p's own, and run[m]
  // the kernel that layout runs for m rows (nullptr: kernel_for_rows). False (p without small
  // layouts, smalls kept) when the memory for them is not there.
  static bool set_small(packed_weights& p, packed_weights* smalls, std::size_t count,
                        const std::uint8_t (&for_m)[9],
                        const kernels::ukernel_desc* const (&run)[9]) noexcept {
    p.drop_small();
    for (std::size_t m = 0; m < 9; ++m) p.run_for_m_[m] = for_m[m] == 0 ? run[m] : nullptr;
    if (count == 0) return true;
    if (!p.small_store_.allocate(count * sizeof(packed_weights))) return false;
    for (std::size_t i = 0; i < count; ++i)
      p.small_[i] = new (p.small_store_.bytes() + i * sizeof(packed_weights))
          packed_weights(std::move(smalls[i]));
    for (std::size_t m = 0; m < 9; ++m) {
      p.small_for_m_[m] = for_m[m];
      if (for_m[m] != 0) p.small_[for_m[m] - 1]->run_for_m_[m] = run[m];
    }
    return true;
  }
  // Makes p (packed for a bit-dense kernel) one layout for every M: main runs large M on panels
  // unpack makes per call (stored as u - w_offset); run[m] (m = 0..8) is the kernel a call with
  // m rows runs (a bit-dense one on the stored panels, or nullptr: main's, unpacked); a stored
  // panel holds `parts` of main's column tiles, part_bytes apart (unpack_panel).
  static void set_dense(packed_weights& p, const kernels::ukernel_desc* main,
                        panel_unpack_fn unpack, int w_offset,
                        const kernels::ukernel_desc* const (&run)[9], std::size_t parts = 1,
                        std::size_t part_bytes = 0) noexcept {
    p.stored_ = p.kernel_;
    p.kernel_ = main;
    p.unpack_ = unpack;
    p.unpack_w_offset_ = w_offset;
    p.unpack_parts_ = parts;
    p.unpack_part_bytes_ = part_bytes;
    for (std::size_t m = 0; m < 9; ++m) p.run_for_m_[m] = run[m];
  }
};
}  // namespace detail

}  // namespace lowbit
