// lowbit internal: the definitions behind lowbit/conv.hpp (included by it, or compiled once in
// the implementation TU: config.hpp, LOWBIT_COMPILED).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "lowbit/conv.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/detail/driver.hpp"
#include "lowbit/detail/gemm_impl.hpp"
#include "lowbit/detail/row_scan.hpp"
#include "lowbit/reference.hpp"

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
  static void set_gapped(packed_conv_weights& w, std::unique_ptr<packed_weights> g,
                         std::size_t gap) noexcept {
    w.gapped_ = std::move(g);
    w.row_gap_ = gap;
  }
  static packed_conv_weights& self(packed_conv_weights& w) noexcept { return w; }
  static std::unique_ptr<packed_weights[]>& groups_slot(packed_conv_weights& w) noexcept {
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

// A copy of n bytes without a library call when n is small (im2col copies one tap's channels at
// a time: 3 bytes for an RGB input, where a memcpy call per tap dominated).
inline void copy_bytes(std::uint8_t* d, const std::uint8_t* s, std::size_t n) noexcept {
  if (n >= 64) {
    std::memcpy(d, s, n);
    return;
  }
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s + i, 8);
    std::memcpy(d + i, &v, 8);
  }
  if (i + 4 <= n) {
    std::uint32_t v;
    std::memcpy(&v, s + i, 4);
    std::memcpy(d + i, &v, 4);
    i += 4;
  }
  if (i + 2 <= n) {
    std::uint16_t v;
    std::memcpy(&v, s + i, 2);
    std::memcpy(d + i, &v, 2);
    i += 2;
  }
  if (i < n) d[i] = s[i];
}

// im2col rows of one group as a GEMM activation source.
struct im2col_source {
  const std::uint8_t* input;
  tensor_shape in;
  const conv_params* p;
  format f;
  std::size_t group;
  std::size_t out_h, out_w;
  pad_code pad;
  const std::uint32_t* pixel_sums;  // u-code sums over this group's channels, per input pixel
  const std::int32_t* tap_sums;     // [out_c][taps], sums over channels of (w value)
  const zero_points* zeros;
  // The input as bit planes (conv2d_impl, for kernels with pack_a_plane_row), or nullptr: per
  // image row, plane after plane, in.w * in.c / 64 words each.
  const std::uint64_t* plane_image = nullptr;
  // Bytes after each window row in segmented panels (packed_conv_weights::gapped_): K has
  // kernel_h runs of kernel_w * in_c + row_gap bytes, the gap multiplied by zero weights.
  std::size_t row_gap = 0;
  // Weights packed in K groups (per-group scales): k_group, and the sums of w over each
  // tap-and-group segment (packed_conv_weights::kgroup_sums_), for correct_kgroup.
  std::size_t k_group = 0;
  const std::int32_t* kgroup_sums = nullptr;

  bool in_place() const noexcept { return false; }
  // Steps output pixel (ox, oy) of image b to the next GEMM row; true when a new output row
  // (or image) starts, so per-output-row state must be refreshed.
  bool next_pixel(std::size_t& ox, std::size_t& oy, std::size_t& b) const noexcept {
    if (++ox < out_w) return false;
    ox = 0;
    if (++oy == out_h) {
      oy = 0;
      ++b;
    }
    return true;
  }
  // Asks for the input bytes under the windows of output pixels [r0, r0 + nr) ahead of use:
  // segmented panels read them inside the kernel, where a miss to L3 stalls the arithmetic.
  void prefetch(std::size_t r0, std::size_t nr) const noexcept {
    std::size_t ox = r0 % out_w, oy = (r0 / out_w) % out_h, b = r0 / (out_w * out_h);
    const auto w = static_cast<std::ptrdiff_t>(in.w);
    for (std::size_t i = 0; i < nr;) {
      const std::size_t run = (nr - i) < (out_w - ox) ? (nr - i) : (out_w - ox);  // this row
      std::ptrdiff_t x0 =
          static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
      std::ptrdiff_t x1 = x0 + static_cast<std::ptrdiff_t>((run - 1) * p->stride_w +
                                                           (p->kernel_w - 1) * p->dilation_w + 1);
      x0 = x0 < 0 ? 0 : x0;
      x1 = x1 > w ? w : x1;
      for (std::size_t ky = 0; x0 < x1 && ky < p->kernel_h; ++ky) {
        const std::ptrdiff_t iy =
            static_cast<std::ptrdiff_t>(oy * p->stride_h + ky * p->dilation_h) -
            static_cast<std::ptrdiff_t>(p->pad_top);
        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in.h)) continue;
        const std::uint8_t* row = input + (b * in.h + static_cast<std::size_t>(iy)) * in.w * in.c;
        const auto first = reinterpret_cast<std::uintptr_t>(row + x0 * in.c) & ~std::uintptr_t{63};
        const auto end = reinterpret_cast<std::uintptr_t>(row + x1 * in.c);
        for (std::uintptr_t a = first; a < end; a += 64)
          __builtin_prefetch(reinterpret_cast<const void*>(a), 0, 3);
      }
      i += run;
      ox += run;
      if (ox == out_w) {
        ox = 0;
        if (++oy == out_h) {
          oy = 0;
          ++b;
        }
      }
    }
  }

  // Implicit convolution: a kernel that takes segmented panels (ukernel_desc::a_segment_table)
  // reads each window row of kernel_w * in_c contiguous bytes straight from the input; only
  // pixels whose window crosses the image border get an im2col row in scratch. Needs codes used
  // as they are, undilated rows spanning every channel, one K block, and rows of whole k steps.
  static constexpr std::size_t max_segment_rows = 16;
  bool segments(const kernels::ukernel_desc& d, std::size_t k_blocks) const noexcept {
    const std::size_t seg = p->kernel_w * p->in_per_group() + row_gap;
    return d.a_segment_table != nullptr && k_blocks == 1 && make_u_transform(f).identity &&
           p->dilation_w == 1 && p->in_per_group() == in.c && seg % d.k_step == 0 && seg >= 8 &&
           p->kernel_h <= max_segment_rows;
  }
  // One micro-panel of rows [r0, r0 + nrows), nrows <= MR, at `panel`; scratch holds MR rows of
  // K bytes for border pixels. Rows nrows..MR-1 repeat row r0 (their results are not stored).
  template <std::size_t MR>
  static void fill_runs(const std::uint8_t* const* base, std::size_t kh, std::size_t x_off,
                        std::size_t step, const std::uint8_t** table) noexcept {
    for (std::size_t ky = 0; ky < kh; ++ky, table += MR)
      for (std::size_t i = 0; i < MR; ++i) table[i] = base[ky] + x_off + i * step;
  }
  void pack_segments(std::size_t r0, std::size_t nrows, const kernels::ukernel_desc& d,
                     std::uint8_t* scratch, std::uint8_t* panel) const noexcept {
    const std::size_t seg = p->kernel_w * in.c + row_gap;
    window_runs(r0, nrows, d.mr, row_gap, d.a_segment_table(panel, p->kernel_h, seg), scratch);
  }
  // The start of each of the kernel_h input rows under output row oy of image b, in an image of
  // `row` elements per input row starting at `origin` (the input, or its bit-plane image), or
  // nullptr where the window row is padding; true when all of them are inside.
  template <class T>
  bool window_rows(std::size_t oy, std::size_t b, const T* origin, std::size_t row,
                   const T** start) const noexcept {
    bool all_inside = true;
    for (std::size_t ky = 0; ky < p->kernel_h; ++ky) {
      const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * p->stride_h + ky * p->dilation_h) -
                                static_cast<std::ptrdiff_t>(p->pad_top);
      const bool inside = iy >= 0 && iy < static_cast<std::ptrdiff_t>(in.h);
      start[ky] = inside ? origin + (b * in.h + static_cast<std::size_t>(iy)) * row : nullptr;
      all_inside = all_inside && inside;
    }
    return all_inside;
  }
  // Windows for kernels that pack A from runs (ukernel_desc::pack_a_runs: few-channel bitplane
  // windows on AVX-512, any window row of whole groups for the vpermb tables): the kernel's
  // packer reads each window row where it is, no im2col row between.
  bool windows(const kernels::ukernel_desc& d, std::size_t k_blocks) const noexcept {
    return kernels::pack_runs_fit(d, p->kernel_w * p->in_per_group(), p->kernel_h) &&
           p->kernel_h <= max_segment_rows && k_blocks == 1 && make_u_transform(f).identity &&
           p->dilation_w == 1 && p->in_per_group() == in.c;
  }
  void pack_windows(std::size_t r0, std::size_t nrows, const kernels::ukernel_desc& d,
                    std::uint8_t* scratch, std::uint8_t* panel) const noexcept {
    const std::uint8_t* table[max_segment_rows * 16];
    window_runs(r0, nrows, d.mr, 0, table, scratch);
    d.pack_a_runs(table, p->kernel_h, p->kernel_w * in.c, nrows, panel);
  }
  // The table of window-row starts (run g of row i at table[g * mr + i]) of output pixels
  // [r0, r0 + nrows): into the input, or, for windows crossing a border, into their im2col rows
  // in scratch (kernel_h runs of kernel_w * in_c + gap bytes each).
  void window_runs(std::size_t r0, std::size_t nrows, std::size_t mr, std::size_t row_gap,
                   const std::uint8_t** table, std::uint8_t* scratch) const noexcept {
    const std::size_t kh = p->kernel_h, kw = p->kernel_w;
    const std::size_t row = kw * in.c, seg = row + row_gap, ld = kh * seg;
    // A gapped run reads row_gap bytes past its window row: in place only while inside the input.
    const std::uint8_t* input_end = input + in.n * in.h * in.w * in.c;
    const auto w = static_cast<std::ptrdiff_t>(in.w);
    std::size_t ox = r0 % out_w, oy = (r0 / out_w) % out_h, b = r0 / (out_w * out_h);
    const std::uint8_t* base[max_segment_rows];
    bool y_inside = true;
    const auto set_bases = [&] { y_inside = window_rows(oy, b, input, in.w * in.c, base); };
    // Window rows starting at input column ix0 read in place.
    const auto in_place = [&](std::ptrdiff_t ix0) {
      return y_inside && ix0 >= 0 && ix0 + static_cast<std::ptrdiff_t>(kw) <= w &&
             (row_gap == 0 || static_cast<std::size_t>(input_end - base[kh - 1]) >=
                                  static_cast<std::size_t>(ix0) * in.c + seg);
    };
    set_bases();
    const std::ptrdiff_t x_first =
        static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
    // Most panels lie inside one output row and clear of the borders: row i's runs are the first
    // row's, stride_w pixels on per row.
    if (nrows == mr && ox + mr <= out_w &&
        in_place(x_first + static_cast<std::ptrdiff_t>((mr - 1) * p->stride_w)) && x_first >= 0) {
      const std::size_t step = p->stride_w * in.c, x_off = static_cast<std::size_t>(x_first) * in.c;
      if (mr == 8)
        fill_runs<8>(base, kh, x_off, step, table);
      else if (mr == 7)
        fill_runs<7>(base, kh, x_off, step, table);
      else if (mr == 6)
        fill_runs<6>(base, kh, x_off, step, table);
      else
        for (std::size_t ky = 0; ky < kh; ++ky)
          for (std::size_t i = 0; i < mr; ++i) table[ky * mr + i] = base[ky] + x_off + i * step;
      return;
    }
    for (std::size_t i = 0; i < nrows; ++i) {
      const std::ptrdiff_t ix0 =
          static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
      if (in_place(ix0)) {
        for (std::size_t ky = 0; ky < kh; ++ky)
          table[ky * mr + i] = base[ky] + static_cast<std::size_t>(ix0) * in.c;
      } else {
        // A window crossing a border: its im2col row in scratch, a window row at a time (the
        // part inside the input in one copy, pad codes around it and in the gap).
        std::uint8_t* r = scratch + i * ld;
        const std::ptrdiff_t x0 = ix0 < 0 ? 0 : ix0;
        const std::ptrdiff_t x1 =
            ix0 + static_cast<std::ptrdiff_t>(kw) > w ? w : ix0 + static_cast<std::ptrdiff_t>(kw);
        const std::size_t lead = static_cast<std::size_t>(x0 - ix0) * in.c;
        const std::size_t body = x1 > x0 ? static_cast<std::size_t>(x1 - x0) * in.c : 0;
        for (std::size_t ky = 0; ky < kh; ++ky) {
          std::uint8_t* o = r + ky * seg;
          table[ky * mr + i] = o;
          if (base[ky] == nullptr || body == 0) {
            std::memset(o, pad.u, seg);
            continue;
          }
          std::memset(o, pad.u, lead);
          copy_bytes(o + lead, base[ky] + static_cast<std::size_t>(x0) * in.c, body);
          std::memset(o + lead + body, pad.u, seg - lead - body);
        }
      }
      if (next_pixel(ox, oy, b)) set_bases();
    }
    for (std::size_t i = nrows; i < mr; ++i)
      for (std::size_t ky = 0; ky < kh; ++ky) table[ky * mr + i] = table[ky * mr];
  }
  // Bit-plane panels: a kernel whose A panels are [plane][64-bit chunk][row] words, with the
  // input already turned into bit planes (plane_image), gets each panel assembled word by word:
  // a tap of a group whose channels are whole 64-bit words is gw = in_per_group / 64 words per
  // plane, copied from the input pixel's plane words (or the pad code's) into its chunks. That
  // replaces an im2col row per output pixel (kernel_h * kernel_w * channels bytes written and
  // read again) and the bit transpose of every panel.
  template <std::size_t MR>
  static void gather_window_words(const std::uint64_t* src, std::size_t step, std::size_t run,
                                  std::uint64_t* o) noexcept {
    for (std::size_t c = 0; c < run; ++c, o += MR)
      for (std::size_t i = 0; i < MR; ++i) o[i] = src[c + i * step];
  }
  // Bit-plane panels read in place (ukernel_desc::run_plane_runs): instead of assembling a
  // panel, a table points each row's window rows (per plane) into the plane image; only windows
  // crossing a border get their words in scratch. Needs undilated windows of one group spanning
  // every channel, and a panel big enough for the table.
  bool plane_runs(const kernels::ukernel_desc& d, std::size_t k_blocks) const noexcept {
    return planes(d, k_blocks) && d.run_plane_runs != nullptr && p->dilation_w == 1 &&
           p->in_per_group() == in.c && p->kernel_h <= max_segment_rows &&
           (d.finish_a_panel != nullptr
                ? kernels::plane_runs_panel::bytes_with_row_terms(d.a_bits, p->kernel_h, d.mr)
                : kernels::plane_runs_panel::bytes(d.a_bits, p->kernel_h, d.mr)) <=
               d.a_panel_bytes(p->taps() * in.c);
  }
  void pack_plane_runs(std::size_t r0, std::size_t nrows, const kernels::ukernel_desc& d,
                       std::uint8_t* scratch, std::uint8_t* panel) const noexcept {
    const std::size_t planes_n = d.a_bits, mr = d.mr, kh = p->kernel_h, kw = p->kernel_w;
    const std::size_t wpp = in.c / 64, run = kw * wpp, plane_words = in.w * wpp;
    const std::size_t image_row = planes_n * plane_words, row_words = planes_n * kh * run;
    const kernels::plane_runs_panel h{kh, run};
    std::memcpy(panel, &h, sizeof h);
    const std::uint64_t** t = kernels::plane_runs_panel::table(panel);  // [q][ky][i]
    std::uint64_t pad_word[8];
    for (std::size_t q = 0; q < planes_n; ++q) pad_word[q] = (pad.u >> q) & 1u ? ~0ull : 0ull;
    std::size_t ox = r0 % out_w, oy = (r0 / out_w) % out_h, b = r0 / (out_w * out_h);
    const std::uint64_t* row_base[max_segment_rows];
    bool y_inside = true;
    const auto set_bases = [&] { y_inside = window_rows(oy, b, plane_image, image_row, row_base); };
    set_bases();
    const auto w = static_cast<std::ptrdiff_t>(in.w);
    const std::ptrdiff_t x_first =
        static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
    const std::ptrdiff_t x_last = x_first + static_cast<std::ptrdiff_t>((mr - 1) * p->stride_w);
    if (nrows == mr && ox + mr <= out_w && y_inside && x_first >= 0 &&
        x_last + static_cast<std::ptrdiff_t>(kw) <= w) {  // most panels: one row, no border
      const std::size_t step = p->stride_w * wpp, x_off = static_cast<std::size_t>(x_first) * wpp;
      for (std::size_t q = 0; q < planes_n; ++q)
        for (std::size_t ky = 0; ky < kh; ++ky) {
          const std::uint64_t* src = row_base[ky] + q * plane_words + x_off;
          const std::uint64_t** o = t + (q * kh + ky) * mr;
          for (std::size_t i = 0; i < mr; ++i) o[i] = src + i * step;
        }
      return;
    }
    for (std::size_t i = 0; i < nrows; ++i) {
      const std::ptrdiff_t ix0 =
          static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
      if (y_inside && ix0 >= 0 && ix0 + static_cast<std::ptrdiff_t>(kw) <= w) {
        const std::size_t x_off = static_cast<std::size_t>(ix0) * wpp;
        for (std::size_t q = 0; q < planes_n; ++q)
          for (std::size_t ky = 0; ky < kh; ++ky)
            t[(q * kh + ky) * mr + i] = row_base[ky] + q * plane_words + x_off;
      } else {  // a window crossing a border: its words in scratch, pad words outside the input
        auto* r = reinterpret_cast<std::uint64_t*>(scratch) + i * row_words;
        for (std::size_t q = 0; q < planes_n; ++q)
          for (std::size_t ky = 0; ky < kh; ++ky) {
            std::uint64_t* o = r + (q * kh + ky) * run;
            t[(q * kh + ky) * mr + i] = o;
            for (std::size_t kx = 0; kx < kw; ++kx) {
              const std::ptrdiff_t ix = ix0 + static_cast<std::ptrdiff_t>(kx);
              const bool inside = row_base[ky] != nullptr && ix >= 0 && ix < w;
              const std::uint64_t* src =
                  inside ? row_base[ky] + q * plane_words + static_cast<std::size_t>(ix) * wpp
                         : nullptr;
              for (std::size_t x = 0; x < wpp; ++x) o[kx * wpp + x] = inside ? src[x] : pad_word[q];
            }
          }
      }
      if (next_pixel(ox, oy, b)) set_bases();
    }
    for (std::size_t i = nrows; i < mr; ++i)  // rows past the block: results are not stored
      for (std::size_t g = 0; g < planes_n * kh; ++g) t[g * mr + i] = t[g * mr];
  }
  bool planes(const kernels::ukernel_desc& d, std::size_t k_blocks) const noexcept {
    return plane_image != nullptr && d.pack_a_plane_row != nullptr && k_blocks == 1 &&
           p->in_per_group() % 64 == 0;
  }
  void pack_planes(std::size_t r0, std::size_t nrows, const kernels::ukernel_desc& d,
                   std::uint8_t* panel) const noexcept {
    const std::size_t planes_n = d.a_bits, mr = d.mr, kh = p->kernel_h, kw = p->kernel_w;
    const std::size_t wpp = in.c / 64, gw = p->in_per_group() / 64, g0 = group * gw;
    const std::size_t nch = p->taps() * gw, plane_words = in.w * wpp;
    const std::size_t image_row = planes_n * plane_words;
    auto* out = reinterpret_cast<std::uint64_t*>(panel);
    std::uint64_t pad_word[8];
    for (std::size_t q = 0; q < planes_n; ++q) pad_word[q] = (pad.u >> q) & 1u ? ~0ull : 0ull;
    constexpr std::size_t max_cached = 16;
    const std::uint64_t* row_base[max_cached];
    const bool cached = kh <= max_cached;
    std::size_t ox = r0 % out_w, oy = (r0 / out_w) % out_h, b = r0 / (out_w * out_h);
    bool bases_current = false;
    const auto base_of = [&](std::size_t ky) -> const std::uint64_t* {
      const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * p->stride_h + ky * p->dilation_h) -
                                static_cast<std::ptrdiff_t>(p->pad_top);
      if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in.h)) return nullptr;
      return plane_image + (b * in.h + static_cast<std::size_t>(iy)) * image_row + g0;
    };
    // Undilated windows of one group spanning all channels: a window row is kw * wpp words per
    // plane, contiguous in the image and in the panel's chunk order.
    const std::size_t run = kw * wpp;
    const bool runs = p->dilation_w == 1 && gw == wpp && cached;
    bool y_inside = false;
    // A whole panel inside one output row and clear of the borders (most panels): per window
    // row and plane, chunk c of row i is word c + i * step of the first row's window.
    if (runs && nrows == mr && ox + mr <= out_w) {
      for (std::size_t ky = 0; ky < kh; ++ky) row_base[ky] = base_of(ky);
      bool inside = true;
      for (std::size_t ky = 0; ky < kh; ++ky) inside = inside && row_base[ky] != nullptr;
      const std::ptrdiff_t x_first =
          static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
      const std::ptrdiff_t x_last = x_first + static_cast<std::ptrdiff_t>((mr - 1) * p->stride_w);
      if (inside && x_first >= 0 &&
          x_last + static_cast<std::ptrdiff_t>(kw) <= static_cast<std::ptrdiff_t>(in.w)) {
        const std::size_t step = p->stride_w * wpp;
        for (std::size_t ky = 0; ky < kh; ++ky) {
          const std::uint64_t* src = row_base[ky] + static_cast<std::size_t>(x_first) * wpp;
          std::uint64_t* o = out + ky * run * mr;
          for (std::size_t q = 0; q < planes_n; ++q, src += plane_words, o += nch * mr) {
            if (mr == 6)
              gather_window_words<6>(src, step, run, o);
            else if (mr == 4)
              gather_window_words<4>(src, step, run, o);
            else
              for (std::size_t c = 0; c < run; ++c)
                for (std::size_t i = 0; i < mr; ++i) o[c * mr + i] = src[c + i * step];
          }
        }
        return;
      }
    }
    for (std::size_t i = 0; i < nrows; ++i) {
      if (cached && !bases_current) {
        y_inside = true;
        for (std::size_t ky = 0; ky < kh; ++ky) {
          row_base[ky] = base_of(ky);
          y_inside = y_inside && row_base[ky] != nullptr;
        }
        bases_current = true;
      }
      const std::ptrdiff_t ix0 =
          static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
      if (runs && y_inside && ix0 >= 0 &&
          ix0 + static_cast<std::ptrdiff_t>(kw) <= static_cast<std::ptrdiff_t>(in.w)) {
        const std::size_t x_off = static_cast<std::size_t>(ix0) * wpp;
        for (std::size_t ky = 0; ky < kh; ++ky) {
          const std::uint64_t* src = row_base[ky] + x_off;
          std::uint64_t* o = out + ky * run * mr + i;
          for (std::size_t q = 0; q < planes_n; ++q, src += plane_words, o += nch * mr)
            for (std::size_t c = 0; c < run; ++c) o[c * mr] = src[c];
        }
        if (next_pixel(ox, oy, b)) bases_current = false;
        continue;
      }
      for (std::size_t ky = 0; ky < kh; ++ky) {
        const std::uint64_t* src_row = cached ? row_base[ky] : base_of(ky);
        for (std::size_t kx = 0; kx < kw; ++kx) {
          const std::ptrdiff_t ix = ix0 + static_cast<std::ptrdiff_t>(kx * p->dilation_w);
          std::uint64_t* o = out + (ky * kw + kx) * gw * mr + i;
          if (src_row != nullptr && ix >= 0 && ix < static_cast<std::ptrdiff_t>(in.w)) {
            const std::uint64_t* src = src_row + static_cast<std::size_t>(ix) * wpp;
            for (std::size_t q = 0; q < planes_n; ++q)
              for (std::size_t w = 0; w < gw; ++w) o[(q * nch + w) * mr] = src[q * plane_words + w];
          } else {
            for (std::size_t q = 0; q < planes_n; ++q)
              for (std::size_t w = 0; w < gw; ++w) o[(q * nch + w) * mr] = pad_word[q];
          }
        }
      }
      if (next_pixel(ox, oy, b)) bases_current = false;
    }
    for (std::size_t i = nrows; i < mr; ++i)  // rows past the block: results are not stored
      for (std::size_t x = 0; x < planes_n * nch; ++x) out[x * mr + i] = 0;
  }

  // Padded taps need a correction only when the pad code is not an exact zero.
  bool corrects() const noexcept { return pad.centered != 0; }
  // conv2d validates the whole input before the GEMM: nothing left for the kernel to check.
  std::uint8_t check_high() const noexcept { return 0; }

  template <class F>
  void for_each_tap(std::size_t m, F&& f) const noexcept {
    const std::size_t ox = m % out_w, oy = (m / out_w) % out_h, b = m / (out_w * out_h);
    for (std::size_t ky = 0; ky < p->kernel_h; ++ky) {
      const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * p->stride_h + ky * p->dilation_h) -
                                static_cast<std::ptrdiff_t>(p->pad_top);
      for (std::size_t kx = 0; kx < p->kernel_w; ++kx) {
        const std::ptrdiff_t ix =
            static_cast<std::ptrdiff_t>(ox * p->stride_w + kx * p->dilation_w) -
            static_cast<std::ptrdiff_t>(p->pad_left);
        const bool inside = iy >= 0 && ix >= 0 && iy < static_cast<std::ptrdiff_t>(in.h) &&
                            ix < static_cast<std::ptrdiff_t>(in.w);
        const std::size_t pixel =
            inside ? (b * in.h + static_cast<std::size_t>(iy)) * in.w + static_cast<std::size_t>(ix)
                   : 0;
        f(ky * p->kernel_w + kx, inside, pixel);
      }
    }
  }

  // Rows [r0, r0 + nr): sums from the per-pixel sums of conv2d's up-front scan (which also
  // validated the input, so nothing can fail here).
  // Walks output pixels in order (no divisions per row). `pixel_sums` holds, per input row, the
  // inclusive prefix sums along x (conv2d_impl turns the per-pixel sums into them), so an
  // undilated window row costs one subtraction instead of kernel_w additions.
  status scan(std::size_t r0, std::size_t nr, std::uint32_t* row_sums, const driver_ops&,
              bool sums_needed = true) const noexcept {
    if (!sums_needed) return status::success();
    const std::size_t taps = p->taps();
    const std::uint32_t pad_sum = static_cast<std::uint32_t>(p->in_per_group()) * pad.u;
    const auto w = static_cast<std::ptrdiff_t>(in.w);
    std::size_t ox = r0 % out_w, oy = (r0 / out_w) % out_h, b = r0 / (out_w * out_h);
    // Undilated rows: the window rows inside the input depend only on the output row, so their
    // prefix-sum rows are looked up once per output row (conv1's 7 rows per pixel cost more
    // than the microkernel otherwise).
    constexpr std::size_t max_cached_rows = 16;
    const bool cached = p->dilation_w == 1 && p->kernel_h <= max_cached_rows;
    const std::uint32_t* window_rows[max_cached_rows];
    std::size_t n_window_rows = 0;
    bool rows_current = false;
    for (std::size_t i = 0; i < nr; ++i) {
      std::uint32_t s = 0;
      std::size_t inside_taps = 0;
      const std::ptrdiff_t ix0 =
          static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
      if (cached && !rows_current) {
        n_window_rows = 0;
        for (std::size_t ky = 0; ky < p->kernel_h; ++ky) {
          const std::ptrdiff_t iy =
              static_cast<std::ptrdiff_t>(oy * p->stride_h + ky * p->dilation_h) -
              static_cast<std::ptrdiff_t>(p->pad_top);
          if (iy >= 0 && iy < static_cast<std::ptrdiff_t>(in.h))
            window_rows[n_window_rows++] =
                pixel_sums + (b * in.h + static_cast<std::size_t>(iy)) * in.w;
        }
        rows_current = true;
      }
      const std::ptrdiff_t lo = ix0 < 0 ? 0 : ix0;
      const std::ptrdiff_t hi = ix0 + static_cast<std::ptrdiff_t>(p->kernel_w) - 1 < w
                                    ? ix0 + static_cast<std::ptrdiff_t>(p->kernel_w) - 1
                                    : w - 1;
      if (cached && lo <= hi) {
        const auto uhi = static_cast<std::size_t>(hi);
        if (lo > 0) {
          const auto ulo = static_cast<std::size_t>(lo - 1);
          for (std::size_t r = 0; r < n_window_rows; ++r)
            s += window_rows[r][uhi] - window_rows[r][ulo];
        } else {
          for (std::size_t r = 0; r < n_window_rows; ++r) s += window_rows[r][uhi];
        }
        inside_taps = n_window_rows * static_cast<std::size_t>(hi - lo + 1);
      }
      for (std::size_t ky = 0; !cached && ky < p->kernel_h; ++ky) {  // dilated or tall windows
        const std::ptrdiff_t iy =
            static_cast<std::ptrdiff_t>(oy * p->stride_h + ky * p->dilation_h) -
            static_cast<std::ptrdiff_t>(p->pad_top);
        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in.h)) continue;
        const std::uint32_t* pre = pixel_sums + (b * in.h + static_cast<std::size_t>(iy)) * in.w;
        if (p->dilation_w == 1) {
          if (lo > hi) continue;
          s += pre[hi] - (lo > 0 ? pre[lo - 1] : 0u);
          inside_taps += static_cast<std::size_t>(hi - lo + 1);
          continue;
        }
        for (std::size_t kx = 0; kx < p->kernel_w; ++kx) {
          const std::ptrdiff_t ix = ix0 + static_cast<std::ptrdiff_t>(kx * p->dilation_w);
          if (ix < 0 || ix >= w) continue;
          s += pre[ix] - (ix > 0 ? pre[ix - 1] : 0u);
          ++inside_taps;
        }
      }
      row_sums[i] = s + static_cast<std::uint32_t>(taps - inside_taps) * pad_sum;
      if (next_pixel(ox, oy, b)) rows_current = false;
    }
    return status::success();
  }

  const std::uint8_t* rows(std::size_t r0, std::size_t nr, std::uint8_t* scratch,
                           std::size_t& ld) const noexcept {
    const std::size_t cg = p->in_per_group(), kw = p->kernel_w, kh = p->kernel_h;
    ld = p->taps() * cg;
    const u_transform t = make_u_transform(f);
    // One kernel row of taps is contiguous in the input when it is undilated, fully inside and
    // the group spans all channels: then it is one conversion of kw * cg bytes. Short ones (a
    // first layer: 7 taps x 3 channels) are one 32-byte load and store: the store's tail lands
    // in the next kernel row or image row, written after it (the driver's scratch has slack
    // after the last row), and the load stays inside the input.
    const bool rows_contiguous = p->dilation_w == 1 && cg == in.c;
    const std::size_t row_bytes = kw * cg;
    const std::uint8_t* input_end = input + in.n * in.h * in.w * in.c;
    const bool wide_copy = t.identity && rows_contiguous && row_bytes <= 32;
    // Per output row (oy), each kernel row's input row start, or nullptr when it is padding.
    constexpr std::size_t max_cached = 16;
    const std::uint8_t* row_base[max_cached];
    const bool cached = kh <= max_cached;
    std::size_t ox = r0 % out_w, oy = (r0 / out_w) % out_h, b = r0 / (out_w * out_h);
    const auto set_bases = [&] {
      for (std::size_t ky = 0; ky < kh && cached; ++ky) {
        const std::ptrdiff_t iy =
            static_cast<std::ptrdiff_t>(oy * p->stride_h + ky * p->dilation_h) -
            static_cast<std::ptrdiff_t>(p->pad_top);
        row_base[ky] =
            (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in.h))
                ? nullptr
                : input + ((b * in.h + static_cast<std::size_t>(iy)) * in.w) * in.c + group * cg;
      }
    };
    set_bases();
    for (std::size_t r = 0; r < nr; ++r) {
      std::uint8_t* out = scratch + r * ld;
      const std::ptrdiff_t ix0 =
          static_cast<std::ptrdiff_t>(ox * p->stride_w) - static_cast<std::ptrdiff_t>(p->pad_left);
      const bool x_inside =
          ix0 >= 0 && ix0 + static_cast<std::ptrdiff_t>((kw - 1) * p->dilation_w) <
                          static_cast<std::ptrdiff_t>(in.w);
      if (cached && wide_copy && x_inside) {
        const std::size_t x_off = static_cast<std::size_t>(ix0) * in.c;
        for (std::size_t ky = 0; ky < kh; ++ky) {
          std::uint8_t* dst = out + ky * row_bytes;
          const std::uint8_t* src = row_base[ky];
          if (src == nullptr) {
            std::memset(dst, pad.u, row_bytes);
          } else if (static_cast<std::size_t>(input_end - (src + x_off)) >= 32) {
            std::memcpy(dst, src + x_off, 32);  // input and scratch never overlap
          } else {
            copy_bytes(dst, src + x_off, row_bytes);
          }
        }
      } else {
        for (std::size_t ky = 0; ky < kh; ++ky) {
          std::uint8_t* dst = out + ky * row_bytes;
          const std::ptrdiff_t iy =
              static_cast<std::ptrdiff_t>(oy * p->stride_h + ky * p->dilation_h) -
              static_cast<std::ptrdiff_t>(p->pad_top);
          if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in.h)) {
            std::memset(dst, pad.u, row_bytes);
            continue;
          }
          const std::uint8_t* row_in =
              input + ((b * in.h + static_cast<std::size_t>(iy)) * in.w) * in.c + group * cg;
          if (x_inside && rows_contiguous) {
            if (t.identity)
              copy_bytes(dst, row_in + static_cast<std::size_t>(ix0) * in.c, row_bytes);
            else
              convert_row_bytes(t, row_in + static_cast<std::size_t>(ix0) * in.c, row_bytes, dst);
            continue;
          }
          for (std::size_t kx = 0; kx < kw; ++kx) {
            const std::ptrdiff_t ix = ix0 + static_cast<std::ptrdiff_t>(kx * p->dilation_w);
            if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(in.w))
              std::memset(dst + kx * cg, pad.u, cg);
            else if (t.identity)
              copy_bytes(dst + kx * cg, row_in + static_cast<std::size_t>(ix) * in.c, cg);
            else
              convert_row_bytes(t, row_in + static_cast<std::size_t>(ix) * in.c, cg, dst + kx * cg);
          }
        }
      }
      if (next_pixel(ox, oy, b)) set_bases();
    }
    return scratch;
  }

  // correct() for K group kg alone (per-group scales): the padded taps' channels in that group.
  void correct_kgroup(std::size_t m, std::size_t n0, std::size_t len, std::size_t kg,
                      std::int32_t* t) const noexcept {
    if (pad.centered == 0) return;
    const kgroup_segments segs{p->taps(), p->in_per_group(), k_group};
    const std::size_t count = segs.count(), ng = p->out_per_group();
    for_each_tap(m, [&](std::size_t tap, bool inside, std::size_t) {
      if (inside || kg < segs.first_group(tap) || kg > segs.last_group(tap)) return;
      const std::size_t s = segs.index(tap, kg);
      const auto channels = static_cast<std::uint32_t>(segs.length(tap, kg));
      for (std::size_t j = 0; j < len; ++j) {
        const std::size_t oc = group * ng + n0 + j;
        const std::uint32_t wsum = static_cast<std::uint32_t>(kgroup_sums[oc * count + s]) -
                                   channels * static_cast<std::uint32_t>(zeros->w_zero(oc));
        t[j] = static_cast<std::int32_t>(static_cast<std::uint32_t>(t[j]) -
                                         static_cast<std::uint32_t>(pad.centered) * wsum);
      }
    });
  }

  // Removes padded taps' contribution when the pad code is not an exact zero.
  void correct(std::size_t m, std::size_t n0, std::size_t len, std::int32_t* t) const noexcept {
    if (pad.centered == 0) return;
    const std::size_t taps = p->taps(), ng = p->out_per_group(), cg = p->in_per_group();
    for_each_tap(m, [&](std::size_t tap, bool inside, std::size_t) {
      if (inside) return;
      for (std::size_t j = 0; j < len; ++j) {
        const std::size_t oc = group * ng + n0 + j;
        const std::uint32_t wsum =
            static_cast<std::uint32_t>(tap_sums[oc * taps + tap]) -
            static_cast<std::uint32_t>(cg) * static_cast<std::uint32_t>(zeros->w_zero(oc));
        t[j] = static_cast<std::int32_t>(static_cast<std::uint32_t>(t[j]) -
                                         static_cast<std::uint32_t>(pad.centered) * wsum);
      }
    });
  }
};

// The direct 1x1 path: the input matrix itself, already validated with its row (pixel) sums
// computed by conv2d's up-front scan, so the GEMM does not read the input a second time for them.
struct prescanned_source : matrix_source {
  const std::uint32_t* row_sums;
  status scan(std::size_t r0, std::size_t nr, std::uint32_t* out, const driver_ops&,
              bool sums_needed = true) const noexcept {
    if (!sums_needed) return status::success();
    std::memcpy(out, row_sums + r0, nr * sizeof(std::uint32_t));
    return status::success();
  }
};

// A stage restricted to the output columns of one group: shifts the data pointer and every
// per-channel array by the group's first channel (per-group scales: kgroups of them a channel),
// and fixes the row stride to out_c.
inline zero_points group_zeros(const zero_points& z, std::size_t c0) noexcept {
  zero_points g = z;
  if (g.w_zeros && g.w_zero_count != 1) g.w_zeros += c0;
  return g;
}
inline int32_output group_stage(const int32_output& o, std::size_t c0, std::size_t oc,
                                std::size_t) noexcept {
  int32_output g = o;
  g.ld = o.ld ? o.ld : oc;
  g.data += c0;
  g.zeros = group_zeros(o.zeros, c0);
  return g;
}
inline float_output group_stage(const float_output& o, std::size_t c0, std::size_t oc,
                                std::size_t kgroups) noexcept {
  float_output g = o;
  g.ld = o.ld ? o.ld : oc;
  g.data += c0;
  if (g.w_scales && g.w_scale_count != 1) g.w_scales += c0;
  if (g.w_group_scales) g.w_group_scales += c0 * kgroups;
  if (g.bias) g.bias += c0;
  g.zeros = group_zeros(o.zeros, c0);
  return g;
}
inline quantized_output group_stage(const quantized_output& o, std::size_t c0, std::size_t oc,
                                    std::size_t) noexcept {
  quantized_output g = o;
  g.ld = o.ld ? o.ld : oc;
  g.data += c0;
  if (g.multiplier_count != 1) g.multipliers += c0;
  if (g.bias) g.bias += c0;
  g.zeros = group_zeros(o.zeros, c0);
  return g;
}
// Per-group stages see counts of 1 or out_per_group entries.
template <class Stage>
Stage group_counts(Stage s, std::size_t, std::size_t) noexcept {
  return s;
}
inline float_output group_counts(float_output s, std::size_t ng, std::size_t oc) noexcept {
  if (s.w_scale_count == oc) s.w_scale_count = ng;
  if (s.zeros.w_zeros && s.zeros.w_zero_count == oc) s.zeros.w_zero_count = ng;
  return s;
}
inline int32_output group_counts(int32_output s, std::size_t ng, std::size_t oc) noexcept {
  if (s.zeros.w_zeros && s.zeros.w_zero_count == oc) s.zeros.w_zero_count = ng;
  return s;
}
inline quantized_output group_counts(quantized_output s, std::size_t ng, std::size_t oc) noexcept {
  if (s.multiplier_count == oc) s.multiplier_count = ng;
  if (s.zeros.w_zeros && s.zeros.w_zero_count == oc) s.zeros.w_zero_count = ng;
  return s;
}

}  // namespace detail

namespace detail {

// Where conv2d's A comes from, for the kernel choice: kernels that read segmented panels take
// window rows straight from the input (im2col_source::segments); bitplane kernels with
// run_plane_runs read them from a bit-plane image made once per call (im2col_source::
// plane_runs: whole 64-channel words, windows reading each input pixel at least once on
// average); kernels whose pack_a_runs takes the window rows pack them where they are
// (a_window_row); every other kernel copies an im2col row per output pixel and packs it. That copy
// is what makes a strided 1x1 convolution (a ResNet downsample) faster on int8-dot than on
// bitplane kernels, whose GEMM rates alone say the opposite.
inline pack_options conv_a_sources(const conv_params& p, format af, pack_options o) noexcept {
  const bool direct = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                      p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
  const std::size_t row = p.kernel_w * p.in_channels;
  const bool windows = !direct && !p.depthwise() && p.groups == 1 && p.dilation_w == 1 &&
                       p.kernel_h <= im2col_source::max_segment_rows;
  o.a_in_place =
      o.a_in_place || (windows && row % 4 == 0 && row >= 8 && make_u_transform(af).identity);
  o.a_plane_image = o.a_plane_image ||
                    (windows && p.in_channels % 64 == 0 && p.taps() >= p.stride_h * p.stride_w);
  if (windows && make_u_transform(af).identity && o.a_window_row == 0) o.a_window_row = row;
  return o;
}

// The window-row gap that makes kernel_w * in_c bytes a multiple of 4 (the k step of every
// kernel that reads window rows in place), or 0 when the layout does not apply: one group
// spanning every channel, undilated rows, and a weight format with a zero value to fill the gap.
inline std::size_t window_row_gap(const conv_params& p, format wf) noexcept {
  const std::size_t row = p.kernel_w * p.in_channels;
  if (p.groups != 1 || p.dilation_w != 1 || row % 4 == 0 || code_of_value(wf, 0) < 0) return 0;
  return 4 - row % 4;
}

// Packs the gapped copy of conv weights (packed_conv_weights::gapped_) when the kernel chosen for
// it reads window rows in place; otherwise leaves none. Fails only when out of memory.
inline status pack_gapped_conv_weights(const std::uint8_t* w_ohwi, const conv_params& p, format wf,
                                       format af, const pack_options& opt,
                                       packed_conv_weights& out) noexcept {
  // Per-group scales name K positions of the ungapped weights: no gapped copy then.
  const std::size_t gap = opt.k_group != 0 ? 0 : window_row_gap(p, wf);
  if (gap == 0) return status::success();
  const std::size_t row = p.kernel_w * p.in_channels, k = p.taps() * p.in_channels;
  const std::size_t kg = p.kernel_h * (row + gap);
  if (static_cast<std::int64_t>(kg) > max_k(af, wf)) return status::success();
  aligned_buffer codes_gapped;
  if (!codes_gapped.allocate(p.out_channels * kg)) return {errc::out_of_memory, "conv weights"};
  const auto zero = static_cast<std::uint8_t>(code_of_value(wf, 0));
  auto* gapped_codes = static_cast<std::uint8_t*>(codes_gapped.data());
  for (std::size_t oc = 0; oc < p.out_channels; ++oc)
    for (std::size_t ky = 0; ky < p.kernel_h; ++ky) {
      std::uint8_t* d = gapped_codes + oc * kg + ky * (row + gap);
      std::memcpy(d, w_ohwi + oc * k + ky * row, row);
      std::memset(d + row, zero, gap);
    }
  std::unique_ptr<packed_weights> g(new (std::nothrow) packed_weights);
  if (!g) return {errc::out_of_memory, "conv weights"};
  pack_options in_place = opt;  // the gapped weights exist only to be read in place
  in_place.a_in_place = true;
  LOWBIT_RETURN_IF_ERROR(
      pack_weights(codes(gapped_codes, p.out_channels, kg), wf, af, *g, in_place));
  const kernels::ukernel_desc* d = g->kernel();
  if (d->a_segment_table == nullptr || (row + gap) % d->k_step != 0 || g->kc() < kg)
    return status::success();  // no kernel to read the rows in place: the plain packing serves
  conv_access::set_gapped(out, std::move(g), gap);
  return status::success();
}

}  // namespace detail

// Packs OHWI weight codes (one per byte) for convolutions with these parameters.
LOWBIT_API status pack_conv_weights(const std::uint8_t* w_ohwi, const conv_params& p, format wf,
                                    format af, packed_conv_weights& out,
                                    const pack_options& opt) noexcept {
  out = packed_conv_weights{};
  LOWBIT_RETURN_IF_ERROR(detail::validate_conv_params(p));
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(wf, "w_format.bits", "w_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(af, "a_format.bits", "a_format.enc"));
  if (w_ohwi == nullptr) return {errc::null_pointer, "w"};
  const std::size_t taps = p.taps(), cg = p.in_per_group(), ng = p.out_per_group();
  const std::size_t k = taps * cg;
  const std::int64_t kmax = max_k(af, wf);
  if (static_cast<std::int64_t>(k) > kmax)
    return {errc::accumulator_overflow, "kernel_h * kernel_w * in_channels / groups",
            static_cast<std::int64_t>(k), kmax};
  const matrix_ref all = codes(w_ohwi, p.out_channels, k);
  detail::u_table table;
  detail::make_u_table(wf, table);
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(all, wf, table, "w"));
  using A = detail::conv_access;
  if (!A::tap_sums_buffer(out).allocate(p.out_channels * taps * sizeof(std::int32_t) + 64))
    return {errc::out_of_memory, "conv weights"};
  auto* tap_sums = reinterpret_cast<std::int32_t*>(A::tap_sums_buffer(out).data());
  for (std::size_t oc = 0; oc < p.out_channels; ++oc)
    for (std::size_t t = 0; t < taps; ++t) {
      std::int32_t s = 0;
      for (std::size_t c = 0; c < cg; ++c) s += value_at(all, wf, oc, t * cg + c);
      tap_sums[oc * taps + t] = s;
    }
  if (!p.depthwise() && opt.k_group != 0) {
    // Per K group sums of each tap's weights (conv2d's padding correction with group scales).
    const detail::kgroup_segments segs{taps, cg, opt.k_group};
    const std::size_t count = segs.count();
    if (!A::kgroup_sums_buffer(out).allocate(p.out_channels * count * sizeof(std::int32_t) + 64))
      return {errc::out_of_memory, "conv weights"};
    auto* ks = reinterpret_cast<std::int32_t*>(A::kgroup_sums_buffer(out).data());
    for (std::size_t oc = 0; oc < p.out_channels; ++oc) {
      std::int32_t* row = ks + oc * count;
      for (std::size_t s = 0; s < count; ++s) row[s] = 0;
      for (std::size_t t = 0; t < taps; ++t)
        for (std::size_t c = 0; c < cg; ++c)
          row[segs.index(t, (t * cg + c) / opt.k_group)] += value_at(all, wf, oc, t * cg + c);
    }
  }
  if (p.depthwise()) {
    if (!A::depthwise_buffer(out).allocate(taps * p.out_channels * sizeof(std::int16_t) + 64))
      return {errc::out_of_memory, "conv weights"};
    auto* v = reinterpret_cast<std::int16_t*>(A::depthwise_buffer(out).data());
    for (std::size_t oc = 0; oc < p.out_channels; ++oc)
      for (std::size_t t = 0; t < taps; ++t)
        v[t * p.out_channels + oc] = static_cast<std::int16_t>(value_at(all, wf, oc, t));
  } else {
    A::groups_slot(out).reset(new (std::nothrow) packed_weights[p.groups]);
    if (!A::groups_slot(out)) return {errc::out_of_memory, "conv weights"};
    const pack_options group_opt = detail::conv_a_sources(p, af, opt);
    for (std::size_t g = 0; g < p.groups; ++g) {
      const status s =
          pack_weights(codes(w_ohwi + g * ng * k, ng, k), wf, af, A::groups(out)[g], group_opt);
      if (!s.ok()) {
        out = packed_conv_weights{};
        return s;
      }
    }
    const status s = detail::pack_gapped_conv_weights(w_ohwi, p, wf, af, opt, out);
    if (!s.ok()) {
      out = packed_conv_weights{};
      return s;
    }
  }
  A::finish(out, p, wf, af.bits, opt.k_group);
  return status::success();
}

namespace detail {

// Per-pixel sums of u-codes for inputs with few channels (validated): unsigned codes are their
// own u-codes, and a channel count known at compile time lets the loop unroll (RGB: 3).
template <std::size_t C>
void pixel_sums_bytes(const std::uint8_t* x, std::size_t pixels, std::uint32_t* sums) noexcept {
  for (std::size_t px = 0; px < pixels; ++px) {
    std::uint32_t s = 0;
    for (std::size_t c = 0; c < C; ++c) s += x[px * C + c];
    sums[px] = s;
  }
}
inline void pixel_sums_few_channels(const u_transform& ut, const std::uint8_t* x,
                                    std::size_t pixels, std::size_t channels,
                                    std::uint32_t* sums) noexcept {
  if (ut.identity && channels == 1) return pixel_sums_bytes<1>(x, pixels, sums);
  if (ut.identity && channels == 3) return pixel_sums_bytes<3>(x, pixels, sums);
  if (ut.identity && channels == 4) return pixel_sums_bytes<4>(x, pixels, sums);
  for (std::size_t px = 0; px < pixels; ++px) {
    std::uint32_t s = 0;
    for (std::size_t c = 0; c < channels; ++c) s += byte_to_u(ut, x[px * channels + c]);
    sums[px] = s;
  }
}

template <class Stage>
status conv2d_impl(const std::uint8_t* input, const tensor_shape& in, format af,
                   const packed_conv_weights& w, const Stage& out, workspace& ws,
                   executor* ex) noexcept {
  LOWBIT_RETURN_IF_ERROR(validate_format(af, "a_format.bits", "a_format.enc"));
  if (w.empty()) return {errc::wrong_packing, "weights (empty)"};
  const conv_params& p = w.params();
  if (input == nullptr) return {errc::null_pointer, "input"};
  if (in.n == 0 || in.h == 0 || in.w == 0) return {errc::invalid_dimension, "input shape", 0, 1};
  // Per-group weight scales need weights packed in the same K groups.
  bool kgrouped = false;
  if constexpr (std::is_same<Stage, float_output>::value) kgrouped = out.w_group_scales != nullptr;
  if (kgrouped && w.k_group() == 0)
    return {errc::wrong_packing, "out.w_group_scales (weights not packed with k_group)"};
  // Heights and widths with their padding, and every product of sizes below, within size_t.
  const std::size_t dim_lim = std::numeric_limits<std::size_t>::max() / 2;  // + pads (< 2^25)
  if (in.h > dim_lim || in.w > dim_lim)
    return {errc::size_overflow, in.h > dim_lim ? "input.h" : "input.w",
            static_cast<std::int64_t>(in.h > dim_lim ? in.h : in.w),
            static_cast<std::int64_t>(dim_lim)};
  if (in.c != p.in_channels)
    return {errc::dimension_mismatch, "input.c", static_cast<std::int64_t>(in.c),
            static_cast<std::int64_t>(p.in_channels)};
  if (af.bits > w.activation_bits())
    return {errc::wrong_packing, "a_format.bits", af.bits, w.activation_bits()};
  const std::size_t oh = p.out_h(in.h), ow = p.out_w(in.w);
  if (oh == 0 || ow == 0)
    return {errc::invalid_dimension, "output size (kernel larger than padded input)", 0, 1};
  std::size_t pixels = 0, m = 0, codes_in = 0, sums_in = 0, acc16 = 0;
  if (!mul_size(in.n, in.h, pixels) || !mul_size(pixels, in.w, pixels) ||
      !mul_size(pixels, in.c, codes_in) || !mul_size(codes_in, sizeof(std::int16_t), acc16) ||
      !mul_size(pixels, p.groups, sums_in) || !mul_size(sums_in, sizeof(std::uint32_t), sums_in) ||
      !mul_size(in.n, oh, m) || !mul_size(m, ow, m))
    return {errc::size_overflow, "input shape", static_cast<std::int64_t>(in.n)};
  LOWBIT_RETURN_IF_ERROR(validate_stage(out, m, p.out_channels));
  const std::size_t taps = p.taps(), cg = p.in_per_group(), ng = p.out_per_group();
  const zero_points& z = out.zeros;
  std::int64_t wmax = max_abs_centered(w.weight_format());
  if (z.w_zeros) {
    wmax = 0;
    for (std::size_t j = 0; j < (z.w_zero_count == 1 ? 1 : p.out_channels); ++j) {
      const std::int64_t v = max_abs_centered(w.weight_format(), z.w_zeros[j]);
      wmax = v > wmax ? v : wmax;
    }
  }
  const std::int64_t kmax = max_k(af, w.weight_format(), z.a_zero, wmax);
  if (static_cast<std::int64_t>(taps * cg) > kmax)
    return {errc::accumulator_overflow, "K", static_cast<std::int64_t>(taps * cg), kmax};

  // Scratch, all from the caller's workspace (no allocation once it has grown): per-pixel sums,
  // then either the depthwise buffers or the GEMM driver's own workspace.
  const std::size_t groups_scanned = p.depthwise() ? 1 : p.groups;
  const std::size_t oc = p.out_channels;
  const std::size_t sums_bytes = round64(groups_scanned * pixels * sizeof(std::uint32_t));
  // Taps per K group in depthwise (K = taps there), and the K groups.
  const std::size_t dw_kg = kgrouped ? w.k_group() : taps, dw_groups = (taps + dw_kg - 1) / dw_kg;
  std::size_t rest = 0, image_bytes = 0, image_scratch = 0;
  const bool direct = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                      p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
  const kernels::ukernel_desc* gemm_kernel = nullptr;
  // The gapped weights (window rows read in place, few channels) serve when their gap weights
  // contribute nothing without activation row sums: no weight zero points, weights as values.
  const packed_weights* gapped = nullptr;
  if (!p.depthwise() && !direct && conv_access::gapped(w) != nullptr) {
    const packed_weights& gw = *conv_access::gapped(w);
    bool zero_w = true;
    for (std::size_t j = 0; z.w_zeros && j < oc; ++j) zero_w = zero_w && z.w_zero(j) == 0;
    const im2col_source probe{input,
                              in,
                              &p,
                              af,
                              0,
                              oh,
                              ow,
                              pad_code{},
                              nullptr,
                              nullptr,
                              &z,
                              nullptr,
                              conv_access::row_gap(w)};
    if (zero_w && !row_sums_needed(gw.w_offset(), af, gw.weight_format(), z, oc) &&
        probe.segments(kernels::kernel_for_rows(*gw.kernel(), m), 1))
      gapped = &gw;
  }
  if (!p.depthwise()) {
    const packed_weights& pw0 = gapped ? *gapped : conv_access::groups(w)[0];
    gemm_kernel = &kernels::kernel_for_rows(*pw0.kernel(), m);
    // Bit-plane panels (im2col_source::pack_planes): the input once as planes, one image row at
    // a time through the kernel's own row packer (codes that need converting go through a
    // row of scratch first). Only when windows use each input pixel at least once on average:
    // a strided 1x1 convolution reads a quarter of its input, cheaper packed per panel.
    if (!direct && gemm_kernel->pack_a_plane_row != nullptr && cg % 64 == 0 &&
        pw0.kc() >= pw0.cols() && m * taps >= pixels) {
      image_bytes = round64(in.n * in.h * gemm_kernel->a_bits * (in.w * in.c / 8));
      image_scratch = make_u_transform(af).identity ? 0 : round64(in.w * in.c + 64);
    }
  }
  if (p.depthwise()) {
    rest = round64(pixels * in.c * sizeof(std::int16_t)) +  // centered activations
           round64(taps * oc * sizeof(std::int16_t)) +      // w - w_zero
           round64(dw_groups * oc * sizeof(std::int32_t));  // accumulators per K group
  } else {
    const packed_weights& pw0 = gapped ? *gapped : conv_access::groups(w)[0];
    rest = make_plan(kernels::kernel_for_rows(*pw0.kernel(), m), m, pw0.rows(), pw0.cols(),
                     pw0.kc(), true, ex ? ex->threads() : 1, kgrouped)
               .total +
           2 * cache_line;
  }
  std::uint8_t* base = nullptr;
  const std::size_t scratch_parts[] = {sums_bytes, image_bytes, image_scratch, rest};
  std::size_t scratch_bytes = 0;
  for (const std::size_t part : scratch_parts) {
    if (part > std::numeric_limits<std::size_t>::max() - scratch_bytes)
      return {errc::size_overflow, "workspace (input shape)", static_cast<std::int64_t>(in.n)};
    scratch_bytes += part;
  }
  LOWBIT_RETURN_IF_ERROR(ws.acquire(scratch_bytes, base));
  auto* sums = reinterpret_cast<std::uint32_t*>(base);
  // Validate the whole input first (nothing is written on error) and keep per-pixel sums. The
  // scan uses the GEMM kernel's ISA (depthwise has no kernel: the baseline).
  const driver_ops& ops = p.depthwise()
                              ? baseline_driver_ops()
                              : driver_ops_for(conv_access::groups(w)[0].kernel()->features);
  const u_transform ut = make_u_transform(af);
  // Weights stored as their values without weight zero points (gemm.hpp's offset choice): the
  // GEMM epilogue needs no row sums, so the pass only validates (one OR over the whole input).
  const bool sums_needed =
      p.depthwise() ||
      (gapped == nullptr && row_sums_needed(conv_access::groups(w)[0].w_offset(), af,
                                            conv_access::groups(w)[0].weight_format(), z, oc));
  bool whole_ok = false;
  if (!sums_needed && ut.identity) {
    whole_ok = ut.high == 0 || !ops.any_high(input, pixels * in.c, ut.high);
  } else if (groups_scanned == 1 && in.c < 64) {
    // Few channels (a first layer: RGB): one validation pass over the whole tensor instead of a
    // call per pixel, then the per-pixel sums in a plain loop.
    bool bad = false;
    (void)ops.scan_row(ut, input, pixels * in.c, bad);
    whole_ok = !bad;
    if (whole_ok) pixel_sums_few_channels(ut, input, pixels, in.c, sums);
  }
  if (!whole_ok) {  // also finds and names the first invalid code
    // Each group's scan names its first bad code by its index within the group's channels: the
    // error names the first of the whole input, by its flat index pixel * in_c + channel.
    status first;
    for (std::size_t g = 0; g < groups_scanned; ++g) {
      const std::size_t width = p.depthwise() ? in.c : cg;
      const matrix_ref view{input + g * cg, pixels, width, in.c, storage::one_per_byte};
      const status s = scan_rows(view, af, sums + g * pixels, "input", ops.scan_row);
      if (s.ok()) continue;
      if (s.code() != errc::invalid_code) return s;
      const auto at = static_cast<std::size_t>(s.value());
      const auto flat = static_cast<std::int64_t>(at / width * in.c + g * cg + at % width);
      if (first.ok() || flat < first.value()) first = status{errc::invalid_code, "input", flat};
    }
    LOWBIT_RETURN_IF_ERROR(first);
  }
  const pad_code pad = make_pad_code(af, z.a_zero);
  const std::int32_t* tap_sums = conv_access::tap_sums(w);

  if (p.depthwise() && (max_abs_centered(af, z.a_zero) > 32767 || wmax > 32767))
    return {errc::invalid_argument, "zero points (depthwise needs |value - zero| < 2^15)",
            z.a_zero};
  if (p.depthwise()) {
    // Direct depthwise: the input's centered values (a - a_zero) once as int16, the weights'
    // (w - w_zero) once per call, then per output pixel and inside tap one multiply-add per
    // channel over contiguous int16 (padded taps are real zero: they add nothing).
    const std::size_t mult = ng;
    auto* a16 = reinterpret_cast<std::int16_t*>(base + sums_bytes);
    auto* w16 = reinterpret_cast<std::int16_t*>(base + sums_bytes +
                                                round64(pixels * in.c * sizeof(std::int16_t)));
    auto* acc = reinterpret_cast<std::int32_t*>(reinterpret_cast<std::uint8_t*>(w16) +
                                                round64(taps * oc * sizeof(std::int16_t)));
    const affine_map ma = affine_of(af);
    const u_transform t = make_u_transform(af);
    for (std::size_t i = 0; i < pixels * in.c; ++i)
      a16[i] = static_cast<std::int16_t>(ma.alpha * byte_to_u(t, input[i]) + ma.beta - z.a_zero);
    const std::int16_t* wv = conv_access::depthwise_values(w);
    for (std::size_t tp = 0; tp < taps; ++tp)
      for (std::size_t c = 0; c < oc; ++c)
        w16[tp * oc + c] = static_cast<std::int16_t>(wv[tp * oc + c] - z.w_zero(c));
    const im2col_source geo{input, in, &p, af, 0, oh, ow, pad, sums, tap_sums, &z};
    for (std::size_t r = 0; r < m; ++r) {
      for (std::size_t c = 0; c < dw_groups * oc; ++c) acc[c] = 0;
      geo.for_each_tap(r, [&](std::size_t tap, bool inside, std::size_t pixel) {
        if (!inside) return;
        const std::int16_t* wt = w16 + tap * oc;
        const std::int16_t* x = a16 + pixel * in.c;
        std::int32_t* a = acc + (tap / dw_kg) * oc;  // this tap's K group
        if (mult == 1) {
          for (std::size_t c = 0; c < oc; ++c) a[c] += std::int32_t{x[c]} * wt[c];
        } else {
          for (std::size_t c = 0; c < oc; ++c) a[c] += std::int32_t{x[c / mult]} * wt[c];
        }
      });
      if constexpr (std::is_same<Stage, float_output>::value) {
        if (kgrouped) {
          store_row_groups(out, oc, r, 0, oc, acc, dw_groups, oc);
          continue;
        }
      }
      store_row(out, oc, r, 0, oc, acc);
    }
    return status::success();
  }

  std::uint64_t* image = nullptr;
  if (image_bytes != 0) {
    image = reinterpret_cast<std::uint64_t*>(base + sums_bytes);
    std::uint8_t* converted = base + sums_bytes + image_bytes;
    const std::size_t row_codes = in.w * in.c, image_row = gemm_kernel->a_bits * row_codes / 64;
    for (std::size_t row = 0; row < in.n * in.h; ++row) {
      const std::uint8_t* x = input + row * row_codes;
      if (!ut.identity) {
        convert_row_bytes(ut, x, row_codes, converted);
        x = converted;
      }
      gemm_kernel->pack_a_plane_row(x, row_codes, 1, row_codes, image + row * image_row);
    }
  }
  workspace gemm_ws(base + sums_bytes + image_bytes + image_scratch, rest);
  for (std::size_t g = 0; g < p.groups; ++g) {
    const Stage gs =
        group_counts(group_stage(out, g * ng, p.out_channels,
                                 kgrouped ? (taps * cg + w.k_group() - 1) / w.k_group() : 0),
                     ng, p.out_channels);
    const packed_weights& pw = gapped ? *gapped : conv_access::groups(w)[g];
    if (direct) {
      const matrix_ref a{input + g * cg, m, cg, in.c, storage::one_per_byte};
      const prescanned_source src{{&a, af}, sums + g * pixels};
      LOWBIT_RETURN_IF_ERROR(run_gemm(src, af, pw, gs, gs.zeros, m, gemm_ws, ex));
    } else {
      // Per-pixel sums -> inclusive prefix sums along each input row (im2col_source::scan).
      std::uint32_t* pre = sums + g * pixels;
      if (sums_needed)
        for (std::size_t row = 0; row < in.n * in.h; ++row)
          for (std::size_t x = 1; x < in.w; ++x) pre[row * in.w + x] += pre[row * in.w + x - 1];
      const im2col_source src{input,
                              in,
                              &p,
                              af,
                              g,
                              oh,
                              ow,
                              pad,
                              pre,
                              tap_sums,
                              &z,
                              image,
                              gapped ? conv_access::row_gap(w) : 0,
                              w.k_group(),
                              conv_access::kgroup_sums(w)};
      LOWBIT_RETURN_IF_ERROR(run_gemm(src, af, pw, gs, gs.zeros, m, gemm_ws, ex));
    }
  }
  return status::success();
}

}  // namespace detail

LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const int32_output& out, workspace& ws,
                         executor* ex) noexcept {
  return detail::conv2d_impl(input_nhwc, in, af, w, out, ws, ex);
}
LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const float_output& out, workspace& ws,
                         executor* ex) noexcept {
  return detail::conv2d_impl(input_nhwc, in, af, w, out, ws, ex);
}
LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const quantized_output& out, workspace& ws,
                         executor* ex) noexcept {
  return detail::conv2d_impl(input_nhwc, in, af, w, out, ws, ex);
}

}  // namespace lowbit
