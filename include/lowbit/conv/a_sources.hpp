// lowbit internal (conv): where a convolution's A comes from. im2col_source serves the GEMM
// driver (driver.hpp's matrix_source contract) the rows of an implicit im2col matrix: run tables
// of window rows (ukernel.hpp's indirect A: codes in the input or planes in a bit-plane image,
// read in place or copied by the kernel's packer), panels assembled from the bit-plane image, or
// copied im2col rows; prescanned_source is the direct 1x1 path's input matrix; conv_a_sources tells
// the weight packing which of these the kernel choice may count on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/conv/declarations.hpp"
#include "lowbit/conv/geometry.hpp"
#include "lowbit/detail/row_scan.hpp"
#include "lowbit/driver/driver.hpp"
#include "lowbit/kernels/ukernel.hpp"
#include "lowbit/output.hpp"

namespace lowbit {
namespace detail {

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

// im2col rows of one group as a GEMM activation source: an indirect A (run tables of window
// rows) where the kernel takes one, else panels from a bit-plane image or im2col rows.
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
  // The input as bit planes (conv2d_impl, for kernels with a_runs_contract::plane_row), or nullptr:
  // per image row, plane after plane, in.w * in.c / 64 words each.
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

  // How the driver gets this source's A panels (matrix_source::packing), in order of preference:
  // - runs of codes read in place (kernels that keep them: an implicit GEMM, each window row of
  //   kernel_w * in_c (+ row_gap) bytes read straight from the input);
  // - with a bit-plane image, runs of planes read in place from it, else panels assembled from
  //   its words (pack_planes: dilated or grouped windows, or a table the panel cannot hold);
  // - runs of codes the kernel's packer copies (few-channel windows, the vpermb tables);
  // - im2col rows (rows()), every other case.
  // Run tables need codes used as they are (or planes of whole 64-channel words), undilated rows
  // spanning every channel, one K block and at most max_run_runs window rows.
  static constexpr std::size_t max_segment_rows = kernels::max_run_runs;
  a_packing packing(const kernels::ukernel_desc& d, std::size_t k_blocks) const noexcept {
    using kernels::a_run_kind;
    const bool windows = k_blocks == 1 && p->dilation_w == 1 && p->in_per_group() == in.c &&
                         p->kernel_h <= max_segment_rows;
    const bool codes =
        windows && make_u_transform(f).identity &&
        kernels::takes_runs(d, a_run_kind::codes, p->kernel_h, p->kernel_w * in.c + row_gap);
    if (codes && kernels::keeps_runs(d, a_run_kind::codes))
      return {a_from::runs, a_run_kind::codes};
    if (plane_image != nullptr && d.a_runs.plane_row != nullptr && k_blocks == 1 &&
        p->in_per_group() % 64 == 0) {
      if (windows &&
          kernels::takes_runs(d, a_run_kind::planes, p->kernel_h, p->kernel_w * in.c / 64))
        return {a_from::runs, a_run_kind::planes};
      return {a_from::planes, a_run_kind::planes};
    }
    if (codes) return {a_from::runs, a_run_kind::codes};
    return {};
  }
  // The run table of output pixels [r0, r0 + nrows) (nrows <= MR) in slot: window rows of the
  // input or of its bit-plane image; scratch holds MR rows of K codes for windows crossing a
  // border. Rows nrows..MR-1 repeat row r0's runs (their results are not stored).
  kernels::a_run_table runs(std::size_t r0, std::size_t nrows, const kernels::ukernel_desc& d,
                            kernels::a_run_kind kind, std::uint8_t* scratch,
                            const std::uint8_t** slot) const noexcept {
    if (kind == kernels::a_run_kind::planes) {
      plane_runs(r0, nrows, d, scratch, slot);
      return {kind, p->kernel_h, p->kernel_w * in.c / 64, slot};
    }
    window_runs(r0, nrows, d.mr, row_gap, slot, scratch);
    return {kind, p->kernel_h, p->kernel_w * in.c + row_gap, slot};
  }
  template <std::size_t MR>
  static void fill_runs(const std::uint8_t* const* base, std::size_t kh, std::size_t x_off,
                        std::size_t step, const std::uint8_t** table) noexcept {
    for (std::size_t ky = 0; ky < kh; ++ky, table += MR)
      for (std::size_t i = 0; i < MR; ++i) table[i] = base[ky] + x_off + i * step;
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
  // Runs of planes (a table of kind planes): each row's window rows, per plane, point into the
  // plane image; only windows crossing a border get their words in scratch.
  void plane_runs(std::size_t r0, std::size_t nrows, const kernels::ukernel_desc& d,
                  std::uint8_t* scratch, const std::uint8_t** slot) const noexcept {
    const std::size_t planes_n = d.a_bits, mr = d.mr, kh = p->kernel_h, kw = p->kernel_w;
    const std::size_t wpp = in.c / 64, run = kw * wpp, plane_words = in.w * wpp;
    const std::size_t image_row = planes_n * plane_words, row_words = planes_n * kh * run;
    const std::uint8_t** t = slot;  // [q][ky][i]
    const auto at = [](const std::uint64_t* w) { return reinterpret_cast<const std::uint8_t*>(w); };
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
          const std::uint8_t** o = t + (q * kh + ky) * mr;
          for (std::size_t i = 0; i < mr; ++i) o[i] = at(src + i * step);
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
            t[(q * kh + ky) * mr + i] = at(row_base[ky] + q * plane_words + x_off);
      } else {  // a window crossing a border: its words in scratch, pad words outside the input
        auto* r = reinterpret_cast<std::uint64_t*>(scratch) + i * row_words;
        for (std::size_t q = 0; q < planes_n; ++q)
          for (std::size_t ky = 0; ky < kh; ++ky) {
            std::uint64_t* o = r + (q * kh + ky) * run;
            t[(q * kh + ky) * mr + i] = at(o);
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

// Where conv2d's A comes from, for the kernel choice: kernels that read segmented panels take
// window rows straight from the input (runs of codes they keep, im2col_source::packing);
// bitplane kernels that keep runs of planes read them from a bit-plane image made once per call
// (whole 64-channel words, windows reading each input pixel at least once on average); kernels
// that copy runs of codes take the window rows where they are (a_window_row); every other
// kernel copies an im2col row per output pixel and packs it. That copy
// is what makes a strided 1x1 convolution (a ResNet downsample) faster on int8-dot than on
// bitplane kernels, whose GEMM rates alone say the opposite. conv2d runs the main layout
// only: no small-M layouts.
inline pack_options conv_a_sources(const conv_params& p, format af, pack_options o) noexcept {
  o.one_layout = true;
  const bool direct = direct_1x1(p);
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

}  // namespace detail
}  // namespace lowbit
