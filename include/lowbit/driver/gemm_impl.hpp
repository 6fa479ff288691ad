// lowbit internal: the definitions behind lowbit/gemm.hpp (included by it, or compiled once
// in the implementation TU: config.hpp, LOWBIT_COMPILED).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "lowbit/detail/codes.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/driver/driver.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/limits.hpp"
#include "lowbit/quantize.hpp"

namespace lowbit {

namespace detail {
// The kernel for weights of format wf: d, or its signed-weight sibling when that one stores
// these weights' values (signed codes of exactly d's width: no activation row sums needed). A
// kernel forced by name is kept.
inline const kernels::ukernel_desc* kernel_for_weights(const kernels::ukernel_desc* d, format wf,
                                                       const pack_options& opt) noexcept {
  if (d == nullptr || d->signed_w == nullptr || opt.kernel_name != nullptr) return d;
  const affine_map m = affine_of(wf);
  return m.alpha == 1 && -m.beta == d->signed_w->w_offset ? d->signed_w : d;
}
}  // namespace detail

// Which kernel pack_weights would choose for these formats and shape (nullptr: none).
LOWBIT_API const kernels::ukernel_desc* query_kernel(format wf, format af, std::size_t n,
                                                     std::size_t k,
                                                     const pack_options& opt) noexcept {
  if (!is_valid(wf) || !is_valid(af)) return nullptr;
  return detail::kernel_for_weights(select_ukernel(wf.bits, af.bits, n, k, opt), wf, opt);
}

// Checks a matrix of codes of format f without computing anything: the matrix arguments
// ("a.data", "M", "K", "a.stride") and every code (errc::invalid_code, value() = the flat index
// row * cols + col of the first bad one). gemm validates activations as it goes and may have
// written other rows of C when it finds an invalid code (docs/errors.md); a caller that needs C
// untouched on every failure validates first.
LOWBIT_API status validate_codes(const matrix_ref& a, format f) noexcept {
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(f, "a_format.bits", "a_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_matrix(a, f, "a.data", "M", "K", "a.stride"));
  detail::u_table table;
  detail::make_u_table(f, table);
  return detail::find_invalid_code(a, f, table, "a.data");
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

// Packs N x K weight codes (w.rows = N, w.cols = K) of format wf, for activations of format af
// (its bit width selects the kernel), into `out`. On failure `out` is left empty.
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

  const kernels::ukernel_desc* d =
      detail::kernel_for_weights(select_ukernel(wf.bits, af.bits, w.rows, w.cols, opt), wf, opt);
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
  detail::log_kernel_choice(*d, wf.bits, encoding_name(wf.enc), af.bits, w.rows, w.cols);
  const std::size_t n = w.rows, k = w.cols;
  const std::size_t kc_cap = d->kc_max / d->k_step * d->k_step;
  const std::size_t k_rounded = kernels::round_up(k, d->k_step);
  // Grouped weights: one K block per group (select_ukernel checked the K step divides it).
  const std::size_t kc = opt.k_group ? opt.k_group : (k_rounded < kc_cap ? k_rounded : kc_cap);
  const std::size_t k_blocks = (k + kc - 1) / kc;
  const std::size_t kblock_stride = detail::round64(d->w_panel_bytes(kc));
  const std::size_t tiles = (n + d->nr - 1) / d->nr;
  std::size_t panel_stride = 0, panels = 0;
  if (!detail::mul_size(k_blocks, kblock_stride, panel_stride) ||
      !detail::mul_size(tiles, panel_stride, panels))
    return {errc::size_overflow, "N * K", static_cast<std::int64_t>(n)};
  const std::size_t groups = opt.k_group ? k_blocks : 0;
  const std::size_t sums = detail::round64((groups + 1) * n * sizeof(std::uint32_t));
  if (panels > SIZE_MAX - sums) return {errc::size_overflow, "N * K", static_cast<std::int64_t>(n)};

  detail::aligned_buffer& buf = detail::packed_weights_access::buffer(out);
  if (!buf.allocate(sums + panels))
    return {errc::out_of_memory, "packed weights", static_cast<std::int64_t>(sums + panels)};
  detail::aligned_buffer rows_u;
  if (!rows_u.allocate(std::size_t{d->nr} * k + 64)) {
    buf.release();
    return {errc::out_of_memory, "packing scratch", static_cast<std::int64_t>(d->nr * k)};
  }
  const int w_offset = detail::choose_w_offset(*d, wf);
  auto* col_sums = reinterpret_cast<std::uint32_t*>(buf.bytes());
  std::memset(buf.bytes(), 0, sums);
  for (std::size_t t = 0; t < tiles; ++t) {
    const std::size_t n0 = t * d->nr;
    const std::size_t rows = (n - n0) < d->nr ? (n - n0) : d->nr;
    detail::to_u_codes(w, wf, table, n0, rows, 0, k, rows_u.bytes(), k);
    for (std::size_t r = 0; r < rows; ++r) {
      std::uint32_t s = 0;
      for (std::size_t x = 0; x < k; ++x) {
        s += rows_u.bytes()[r * k + x];
        if (groups) col_sums[(x / kc + 1) * n + n0 + r] += rows_u.bytes()[r * k + x];
      }
      col_sums[n0 + r] = s;
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
  detail::packed_weights_access::set_layout(out, d, wf, af.bits, n, k, kc, sums, panel_stride,
                                            kblock_stride, w_offset, opt.k_group);
  return status::success();
}

namespace detail {

inline std::int64_t max_abs_w_centered(const packed_weights& w, const zero_points& z) noexcept {
  if (z.w_zeros == nullptr) return max_abs_centered(w.weight_format());
  std::int64_t m = 0;
  const std::size_t count = z.w_zero_count == 1 ? 1 : w.rows();
  for (std::size_t j = 0; j < count; ++j) {
    const std::int64_t v = max_abs_centered(w.weight_format(), z.w_zeros[j]);
    if (v > m) m = v;
  }
  return m;
}

template <class Stage>
status gemm_impl(const matrix_ref& a, format af, const packed_weights& w, const Stage& out,
                 workspace& ws, executor* ex) noexcept {
  LOWBIT_RETURN_IF_ERROR(validate_format(af, "a_format.bits", "a_format.enc"));
  if (w.empty()) return {errc::wrong_packing, "weights (empty)"};
  LOWBIT_RETURN_IF_ERROR(validate_matrix(a, af, "a.data", "M", "K", "a.stride"));
  if (a.cols != w.cols())
    return {errc::dimension_mismatch, "K", static_cast<std::int64_t>(a.cols),
            static_cast<std::int64_t>(w.cols())};
  if (af.bits > w.activation_bits())
    return {errc::wrong_packing, "a_format.bits", af.bits, w.activation_bits()};
  if ((w.kernel()->features & ~detail::host_features()) != 0)
    return {errc::wrong_packing, "weights (kernel needs CPU features this host lacks)"};
  LOWBIT_RETURN_IF_ERROR(validate_stage(out, a.rows, w.rows()));
  if constexpr (std::is_same<Stage, float_output>::value) {
    if (out.w_group_scales != nullptr && w.k_group() == 0)
      return {errc::wrong_packing, "out.w_group_scales (weights not packed with k_group)"};
  }
  LOWBIT_RETURN_IF_ERROR(validate_zero_points(out.zeros, af, w.weight_format(), w.rows()));
  const std::int64_t kmax =
      max_k(af, w.weight_format(), out.zeros.a_zero, max_abs_w_centered(w, out.zeros));
  if (static_cast<std::int64_t>(a.cols) > kmax)
    return {errc::accumulator_overflow, "K", static_cast<std::int64_t>(a.cols), kmax};
  const matrix_source src{&a, af};
  return run_gemm(src, af, w, out, out.zeros, a.rows, ws, ex);
}

}  // namespace detail

// Scratch bytes a gemm call with M rows of activations needs (for a caller-owned workspace),
// on `threads` threads. Weights packed with k_group count the per-group row sums that a
// float_output with w_group_scales needs (more than other stages use).
LOWBIT_API std::size_t gemm_workspace_size(const packed_weights& w, std::size_t m,
                                           bool activations_need_conversion,
                                           std::size_t threads) noexcept {
  if (w.empty() || m == 0) return 0;
  // Past gemm's M limit, or more threads than could ever have scratch: no workspace serves it.
  if (m > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) || threads > 4096)
    return std::numeric_limits<std::size_t>::max();
  return detail::make_plan(kernels::kernel_for_rows(*w.kernel(), m), m, w.rows(), w.cols(), w.kc(),
                           activations_need_conversion, threads, w.k_group() != 0)
             .total +
         detail::cache_line;
}

// C = A * W^T through an output stage: int32_output, float_output or quantized_output.
// A: M x K activation codes of format af. Uses (and grows) the given workspace, and the given
// executor for threads (nullptr: the calling thread only).
LOWBIT_API status gemm(const matrix_ref& a, format af, const packed_weights& w,
                       const int32_output& out, workspace& ws, executor* ex) noexcept {
  return detail::gemm_impl(a, af, w, out, ws, ex);
}
LOWBIT_API status gemm(const matrix_ref& a, format af, const packed_weights& w,
                       const float_output& out, workspace& ws, executor* ex) noexcept {
  return detail::gemm_impl(a, af, w, out, ws, ex);
}
LOWBIT_API status gemm(const matrix_ref& a, format af, const packed_weights& w,
                       const quantized_output& out, workspace& ws, executor* ex) noexcept {
  return detail::gemm_impl(a, af, w, out, ws, ex);
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
