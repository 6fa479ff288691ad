// lowbit internal: packing weights, the definitions behind lowbit/gemm.hpp's pack_weights,
// query_kernel, query_kernel_for_rows and pack_weights_from_float (included by gemm.hpp, or
// compiled once in the implementation TU: config.hpp, LOWBIT_COMPILED). Which kernels a packing
// holds (choose_layouts, packing/layout_choice.hpp), the weight offset (choose_w_offset), and one
// layout's sizes and bytes (layout_sizes_for, pack_layout); packed_weights.hpp holds the result.
// The data path runs formats -> packing -> microkernels -> driver: nothing here includes the
// driver.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/detail/codes.hpp"
#include "lowbit/detail/half.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/limits.hpp"
#include "lowbit/packed_weights.hpp"
#include "lowbit/packing/layout_choice.hpp"
#include "lowbit/quantize.hpp"

namespace lowbit {

// Which kernel pack_weights would choose for these formats and shape (nullptr: none).
LOWBIT_API const kernels::ukernel_desc* query_kernel(format wf, format af, std::size_t n,
                                                     std::size_t k,
                                                     const pack_options& opt) noexcept {
  if (!is_valid(wf) || !is_valid(af)) return nullptr;
  return detail::kernel_for_weights(select_ukernel(wf.bits, af.bits, n, k, opt), wf, opt);
}

namespace detail {
// The offset W panels store weights at (u - offset). Where the kernel allows a choice and the
// format is value = u + beta, -beta stores each weight's value itself: the epilogue's row-sum term
// alpha_a * (alpha_w * offset + beta_w) is then zero (without weight zero points) and the driver
// skips the row sums. Otherwise the kernel's own offset.
inline int choose_w_offset(const kernels::ukernel_desc& d, format wf) noexcept {
  if (d.pack_w_offset == nullptr) return d.w_offset;
  const affine_map m = affine_of(wf);
  const int off = -m.beta;
  const int max_u = static_cast<int>(code_mask(wf));
  if (m.alpha == 1 && -off >= -128 && max_u - off <= 127) return off;
  return d.w_offset;
}
}  // namespace detail

namespace detail {
// The sizes of one layout of N x K weights for kernel d (pack_layout allocates them; conv's
// gemm_packing_bytes counts them): K blocks of kc (one a group with k_group), NR-row panels of
// all K blocks, and the column sums (one row, then one a group) ahead of the panels.
struct layout_sizes {
  std::size_t kc = 0, k_blocks = 0, kblock_stride = 0, tiles = 0, panel_stride = 0;
  std::size_t groups = 0;   // K groups with column sums of their own (0: not grouped)
  std::size_t sums = 0;     // bytes of column sums
  std::size_t panels = 0;   // bytes of panels
  std::size_t scratch = 0;  // bytes of one panel's u-code rows, the packing scratch
};

// False when the bytes overflow size_t. K is at least 1 (validate_matrix).
inline bool layout_sizes_for(const kernels::ukernel_desc& d, std::size_t n, std::size_t k,
                             std::size_t k_group, layout_sizes& s) noexcept {
  const std::size_t kc_cap = d.kc_max / d.k_step * d.k_step;
  const std::size_t k_rounded = kernels::round_up(k, d.k_step);
  // Grouped weights: one K block per group (select_ukernel checked the K step divides it).
  s.kc = k_group ? k_group : (k_rounded < kc_cap ? k_rounded : kc_cap);
  s.k_blocks = (k + s.kc - 1) / s.kc;
  s.kblock_stride = round64(d.w_panel_bytes(s.kc));
  s.tiles = (n + d.nr - 1) / d.nr;
  s.groups = k_group ? s.k_blocks : 0;
  s.scratch = std::size_t{d.nr} * k + 64;
  if (!mul_size(s.k_blocks, s.kblock_stride, s.panel_stride) ||
      !mul_size(s.tiles, s.panel_stride, s.panels))
    return false;
  // N column sums, then for grouped packings NR per column panel and group
  // (packed_weights::group_column_sums).
  std::size_t gsums = 0;
  if (!mul_size(s.tiles * d.nr, s.groups, gsums) || gsums > SIZE_MAX / 8) return false;
  s.sums = round64((packed_weights::group_sums_offset(n) + gsums) * sizeof(std::uint32_t));
  return s.panels <= SIZE_MAX - s.sums;
}

// Pack-time group scales and zero points (pack_options::group_scales, group_scales_f16,
// group_zeros), checked, with the storage chosen (group_storage_for): N x groups rows of the
// caller's, and the bytes an entry each layout stores (0: none).
struct group_storage {
  const float* f32 = nullptr;
  const std::uint16_t* f16 = nullptr;
  const std::int32_t* zeros = nullptr;
  std::size_t scale_bytes = 0, zero_bytes = 0;
};

// Checks the pack-time group scales and zero points of opt against N x K weights of format wf
// and chooses their storage: binary16 when every scale converts to binary16 and back exactly
// (always for binary16 input), else float; zero points int8 when every one fits, else int16.
inline status group_storage_for(const pack_options& opt, format wf, std::size_t n, std::size_t k,
                                group_storage& gs) noexcept {
  gs = group_storage{};
  if (opt.group_scales == nullptr && opt.group_scales_f16 == nullptr) {
    if (opt.group_zeros != nullptr)
      return {errc::null_pointer, "options.group_scales (needed with options.group_zeros)"};
    return status::success();
  }
  if (opt.group_scales != nullptr && opt.group_scales_f16 != nullptr)
    return {errc::invalid_argument,
            "options.group_scales_f16 (ambiguous: options.group_scales is given too; give one)"};
  if (opt.k_group == 0)
    return status::expecting(errc::invalid_argument, "options.k_group", 0,
                             "a group size (at least 1) with options.group_scales");
  const std::size_t groups = (k + opt.k_group - 1) / opt.k_group;
  std::size_t count = 0;
  if (!mul_size(n, groups, count) || count > SIZE_MAX / 8)
    return {errc::size_overflow, "N * ceil(K / options.k_group)", static_cast<std::int64_t>(n)};
  if (opt.group_scale_count != count)
    return {errc::dimension_mismatch, "options.group_scale_count",
            static_cast<std::int64_t>(opt.group_scale_count), static_cast<std::int64_t>(count)};
  gs.f32 = opt.group_scales;
  gs.f16 = opt.group_scales_f16;
  gs.scale_bytes = 2;
  std::uint16_t h = 0;
  for (std::size_t x = 0; x < count && gs.f32 != nullptr && gs.scale_bytes == 2; ++x)
    if (!float_to_half_exact(gs.f32[x], h)) gs.scale_bytes = 4;
  if (opt.group_zeros != nullptr) {
    gs.zeros = opt.group_zeros;
    gs.zero_bytes = 1;
    for (std::size_t x = 0; x < count; ++x) {
      const std::int32_t z = opt.group_zeros[x];
      if (z < min_value(wf) || z > max_value(wf))
        return status::out_of_range(errc::invalid_argument, "options.group_zeros", z, min_value(wf),
                                    max_value(wf));
      if (z < -128 || z > 127) gs.zero_bytes = 2;
    }
  }
  return status::success();
}

// Packs w for kernel d alone (one layout) into out, which is empty on entry, with the stored
// group scales and zero points of gs (nullptr: none).
inline status pack_layout(const matrix_ref& w, format wf, int a_bits, const u_table& table,
                          const kernels::ukernel_desc* d, std::size_t k_group, packed_weights& out,
                          const group_storage* gs = nullptr) noexcept {
  const std::size_t n = w.rows, k = w.cols;
  layout_sizes ls;
  if (!layout_sizes_for(*d, n, k, k_group, ls))
    return {errc::size_overflow, "N * K", static_cast<std::int64_t>(n)};
  const std::size_t kc = ls.kc, k_blocks = ls.k_blocks, kblock_stride = ls.kblock_stride;
  const std::size_t tiles = ls.tiles, panel_stride = ls.panel_stride, panels = ls.panels;
  const std::size_t groups = ls.groups;
  // Stored group scales and zero points after the column sums: per panel, per group, NR each
  // (packed_weights::group_scales, group_zeros).
  const std::size_t scale_bytes = gs != nullptr && groups ? gs->scale_bytes : 0;
  const std::size_t zero_bytes = gs != nullptr && groups ? gs->zero_bytes : 0;
  const std::size_t entries = tiles * d->nr * groups;  // below ls.sums / 4: no overflow
  const std::size_t scales_at = ls.sums, zeros_at = scales_at + round64(entries * scale_bytes);
  const std::size_t sums = zeros_at + round64(entries * zero_bytes);
  if (panels > SIZE_MAX - sums) return {errc::size_overflow, "N * K", static_cast<std::int64_t>(n)};

  aligned_buffer& buf = packed_weights_access::buffer(out);
  if (!buf.allocate(sums + panels))
    return {errc::out_of_memory, "packed weights", static_cast<std::int64_t>(sums + panels)};
  aligned_buffer rows_u;
  if (!rows_u.allocate(ls.scratch)) {
    buf.release();
    return {errc::out_of_memory, "packing scratch", static_cast<std::int64_t>(d->nr * k)};
  }
  const int w_offset = choose_w_offset(*d, wf);
  auto* col_sums = reinterpret_cast<std::uint32_t*>(buf.bytes());
  std::memset(buf.bytes(), 0, sums);
  for (std::size_t t = 0; t < tiles; ++t) {
    const std::size_t n0 = t * d->nr;
    const std::size_t rows = (n - n0) < d->nr ? (n - n0) : d->nr;
    to_u_codes(w, wf, table, n0, rows, 0, k, rows_u.bytes(), k);
    for (std::size_t r = 0; r < rows; ++r) {
      std::uint32_t s = 0;
      std::uint32_t* gs = col_sums + packed_weights::group_sums_offset(n) + t * groups * d->nr + r;
      for (std::size_t x = 0; x < k; ++x) {
        s += rows_u.bytes()[r * k + x];
        if (groups) gs[x / kc * d->nr] += rows_u.bytes()[r * k + x];
      }
      col_sums[n0 + r] = s;
    }
    // The panel's stored scales and zero points, [g * NR + j] (zero past N from the memset).
    for (std::size_t r = 0; r < rows && scale_bytes != 0; ++r)
      for (std::size_t g = 0; g < groups; ++g) {
        const std::size_t from = (n0 + r) * groups + g, at = (t * groups + g) * d->nr + r;
        std::uint8_t* s = buf.bytes() + scales_at + at * scale_bytes;
        if (scale_bytes == 4) {
          std::memcpy(s, gs->f32 + from, 4);
        } else {
          std::uint16_t h = 0;
          if (gs->f16 != nullptr)
            h = quiet_half(gs->f16[from]);
          else
            float_to_half_exact(gs->f32[from], h);  // exact: group_storage_for checked
          std::memcpy(s, &h, 2);
        }
        if (zero_bytes == 1) {
          const auto z = static_cast<std::int8_t>(gs->zeros[from]);
          std::memcpy(buf.bytes() + zeros_at + at, &z, 1);
        } else if (zero_bytes == 2) {
          const auto z = static_cast<std::int16_t>(gs->zeros[from]);
          std::memcpy(buf.bytes() + zeros_at + 2 * at, &z, 2);
        }
      }
    for (std::size_t kb = 0; kb < k_blocks; ++kb) {
      const std::size_t kcb = (kb + 1 < k_blocks) ? kc : k - kb * kc;
      void* dst = buf.bytes() + sums + t * panel_stride + kb * kblock_stride;
      if (d->pack_w_offset != nullptr)
        d->pack_w_offset(rows_u.bytes() + kb * kc, k, rows, kcb, dst, w_offset);
      else
        d->pack_w(rows_u.bytes() + kb * kc, k, rows, kcb, dst);
    }
  }
  packed_weights_access::set_layout(out, d, wf, a_bits, n, k, kc, sums, panel_stride, kblock_stride,
                                    w_offset, k_group);
  packed_weights_access::set_group_storage(out, scales_at, scale_bytes, zeros_at, zero_bytes);
  return status::success();
}
}  // namespace detail

// The kernel a gemm call with M rows runs on weights pack_weights packs with these options
// (packed_weights::kernel_name(M)), or nullptr when none qualifies.
LOWBIT_API const kernels::ukernel_desc* query_kernel_for_rows(format wf, format af, std::size_t n,
                                                              std::size_t k, std::size_t m,
                                                              const pack_options& opt) noexcept {
  if (!is_valid(wf) || !is_valid(af)) return nullptr;
  const detail::layout_choice c = detail::choose_layouts(wf, af, n, k, opt);
  if (c.count == 0) return nullptr;
  const std::size_t i = m <= detail::small_m_max ? c.for_m[m] : 0;
  if (m <= detail::small_m_max && c.run[m] != nullptr) return c.run[m];
  return &kernels::kernel_for_rows(*c.kernels[i], m);
}

// Packs N x K weight codes (w.rows = N, w.cols = K) of format wf, for activations of format af
// (its bit width selects the kernel), into `out`: the main layout and, by default, the small-M
// layouts choose_layouts adds. On failure `out` is left empty.
LOWBIT_API status pack_weights(const matrix_ref& w, format wf, format af, packed_weights& out,
                               const pack_options& opt) noexcept {
  detail::packed_weights_access::clear(out);
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(wf, "w_format.bits", "w_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(af, "a_format.bits", "a_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_matrix(w, wf, "w.data", "N", "K", "w.stride"));
  const std::int64_t kmax = max_k(af, wf);
  if (static_cast<std::int64_t>(w.cols) > kmax)
    return {errc::accumulator_overflow, "K", static_cast<std::int64_t>(w.cols), kmax};
  detail::u_table table;
  detail::make_u_table(wf, table);
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(w, wf, table, "w.data"));
  detail::group_storage gs;
  LOWBIT_RETURN_IF_ERROR(detail::group_storage_for(opt, wf, w.rows, w.cols, gs));
  const detail::group_storage* stored = gs.scale_bytes != 0 ? &gs : nullptr;

  const detail::layout_choice c = detail::choose_layouts(wf, af, w.rows, w.cols, opt);
  const kernels::ukernel_desc* d = c.kernels[0];
  if (d == nullptr && opt.kernel_name != nullptr)
    return status::bad_name(errc::unsupported_isa, "options.kernel_name", opt.kernel_name,
                            "a kernel this host runs under the ISA cap, as wide as the formats, "
                            "whose K step divides k_group (lowbit_info --all lists them)",
                            static_cast<std::int64_t>(opt.algo));
  if (d == nullptr) {
    const algorithm a = opt.algo != algorithm::automatic ? opt.algo : forced_algorithm();
    return status::bad_name(errc::unsupported_isa, "options.algo", algorithm_name(a),
                            "an algorithm with a kernel for these widths under the ISA cap whose "
                            "K step divides k_group (lowbit_info --all lists them)",
                            static_cast<std::int64_t>(opt.algo));
  }
  if (c.dense.row1 != nullptr) {
    LOWBIT_RETURN_IF_ERROR(
        detail::pack_layout(w, wf, af.bits, table, c.dense.row1, opt.k_group, out, stored));
    detail::packed_weights_access::set_dense(out, d, c.dense.unpack,
                                             detail::choose_w_offset(*d, wf), c.run, c.dense.parts,
                                             c.dense.part_bytes);
    detail::log_kernel_choice(out, wf.bits, encoding_name(wf.enc), af.bits);
    return status::success();
  }
  packed_weights smalls[2];
  for (std::size_t i = 1; i < c.count; ++i) {
    const status s = detail::pack_layout(w, wf, af.bits, table, c.kernels[i], opt.k_group,
                                         smalls[i - 1], stored);
    if (!s.ok()) return s;
  }
  LOWBIT_RETURN_IF_ERROR(detail::pack_layout(w, wf, af.bits, table, d, opt.k_group, out, stored));
  if (!detail::packed_weights_access::set_small(out, smalls, c.count - 1, c.for_m, c.run)) {
    detail::packed_weights_access::clear(out);
    return {errc::out_of_memory, "packed weights",
            static_cast<std::int64_t>((c.count - 1) * sizeof(packed_weights))};
  }
  detail::log_kernel_choice(out, wf.bits, encoding_name(wf.enc), af.bits);
  return status::success();
}

// Quantizes float weights (N x K, row stride ld) per output channel and packs them, with the
// caller's parameters or calibrated ones. Writes the parameters used (N each) and, if asked, the
// codes; only on success.
LOWBIT_API status pack_weights_from_float(const float* w, std::size_t n, std::size_t k,
                                          std::size_t ld, format wf, format af,
                                          const from_float_options& options, packed_weights& out,
                                          float* scales_out, std::int32_t* zeros_out,
                                          const pack_options& opt) noexcept {
  detail::packed_weights_access::clear(out);
  const std::size_t codes_ld = options.codes_ld ? options.codes_ld : k;
  if (options.codes_out != nullptr) {
    if (codes_ld < k)
      return {errc::leading_dimension_too_small, "options.codes_ld", std::int64_t(codes_ld),
              std::int64_t(k)};
    LOWBIT_RETURN_IF_ERROR(detail::check_extent(n, k, codes_ld, "N * options.codes_ld"));
  }
  if (options.scales != nullptr) {
    LOWBIT_RETURN_IF_ERROR(detail::validate_format(wf, "w_format.bits", "w_format.enc"));
    for (std::size_t r = 0; r < n; ++r)
      if (!(options.scales[r] > 0.0f) || !std::isfinite(options.scales[r]))
        return {errc::invalid_argument, "options.scales", std::int64_t(r)};
  }
  std::size_t total = 0, params_bytes = 0;
  if (!detail::mul_size(n, k, total) || !detail::mul_size(n, sizeof(quant_params), params_bytes))
    return {errc::size_overflow, "N * K", std::int64_t(n)};
  detail::aligned_buffer params(params_bytes), codes(total);
  if ((n && params.empty()) || (total && codes.empty()))
    return {errc::out_of_memory, "quantization scratch", static_cast<std::int64_t>(total)};
  auto* p = reinterpret_cast<quant_params*>(params.data());
  if (options.scales != nullptr) {
    for (std::size_t r = 0; r < n; ++r)
      p[r] = {options.scales[r], options.zero_points ? options.zero_points[r] : 0};
  } else {
    LOWBIT_RETURN_IF_ERROR(
        choose_quant_params_per_channel(w, n, k, ld, wf, options.mode, options.calibration, p));
  }
  LOWBIT_RETURN_IF_ERROR(quantize_per_channel(w, n, k, ld, wf, p, codes.bytes(), k));
  LOWBIT_RETURN_IF_ERROR(pack_weights(lowbit::codes(codes.bytes(), n, k), wf, af, out, opt));
  for (std::size_t r = 0; r < n; ++r) {
    if (scales_out != nullptr) scales_out[r] = p[r].scale;
    if (zeros_out != nullptr) zeros_out[r] = p[r].zero_point;
    if (options.codes_out != nullptr && k != 0)
      std::memcpy(options.codes_out + r * codes_ld, codes.bytes() + r * k, k);
  }
  return status::success();
}

// The same with parameters chosen by quant_calibration::automatic; scales_out and zeros_out
// are required.
LOWBIT_API status pack_weights_from_float(const float* w, std::size_t n, std::size_t k,
                                          std::size_t ld, format wf, format af, quant_mode mode,
                                          packed_weights& out, float* scales_out,
                                          std::int32_t* zeros_out,
                                          const pack_options& opt) noexcept {
  detail::packed_weights_access::clear(out);
  if (scales_out == nullptr) return {errc::null_pointer, "scales_out"};
  if (zeros_out == nullptr) return {errc::null_pointer, "zeros_out"};
  from_float_options options;
  options.mode = mode;
  return pack_weights_from_float(w, n, k, ld, wf, af, options, out, scales_out, zeros_out, opt);
}

}  // namespace lowbit
