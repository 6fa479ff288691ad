// lowbit internal: the definitions behind lowbit/gemm.hpp's gemm, gemm_workspace_size and
// validate_codes (included by it, or compiled once in the implementation TU: config.hpp,
// LOWBIT_COMPILED). Packing weights is packing/pack_weights.hpp's.
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
#include "lowbit/packing/pack_weights.hpp"

namespace lowbit {

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
  const packed_weights& layout = w.for_rows(a.rows);
  // The layout's kernel and the one this call runs on its panels (small M may run another).
  const feature_set needs = layout.kernel()->features | layout.kernel_for_call(a.rows).features;
  if ((needs & ~detail::host_features()) != 0)
    return {errc::wrong_packing, "weights (kernel needs CPU features this host lacks)"};
  if constexpr (std::is_same<Stage, float_output>::value) {
    // Weights packed with their group scales: the stage gives no scales of its own.
    if (w.has_group_scales()) {
      if (out.w_group_scales != nullptr)
        return {errc::invalid_argument,
                "out.w_group_scales (ambiguous: the weights hold pack-time group scales, "
                "pack_options::group_scales; give one or the other)"};
      if (out.w_group_zeros != nullptr)
        return {errc::invalid_argument,
                "out.w_group_zeros (the weights hold pack-time group scales: zero points go "
                "with them, pack_options::group_zeros)"};
      if (out.w_scales != nullptr)
        return {errc::invalid_argument,
                "out.w_scales (the weights' pack-time group scales replace it: leave it null)"};
    }
    LOWBIT_RETURN_IF_ERROR(validate_stage(out, a.rows, w.rows(), w.has_group_scales()));
    if (out.w_group_scales != nullptr && w.k_group() == 0)
      return {errc::wrong_packing, "out.w_group_scales (weights not packed with k_group)"};
    LOWBIT_RETURN_IF_ERROR(
        validate_group_zeros(out, w.weight_format(), w.rows(), w.k_group() ? w.k_blocks() : 0));
    if (w.has_group_zeros() && out.zeros.w_zeros != nullptr)
      return {errc::invalid_argument,
              "out.zeros.w_zeros (not with group zero points: the weights hold them)"};
  } else {
    LOWBIT_RETURN_IF_ERROR(validate_stage(out, a.rows, w.rows()));
  }
  LOWBIT_RETURN_IF_ERROR(validate_zero_points(out.zeros, af, w.weight_format(), w.rows()));
  std::int64_t wmax = max_abs_w_centered(w, out.zeros);
  if constexpr (std::is_same<Stage, float_output>::value) {
    // Group zero points lie in the format's range: |q - z| is at most its span.
    if (out.w_group_zeros != nullptr || w.has_group_zeros())
      wmax = std::int64_t{max_value(w.weight_format())} - min_value(w.weight_format());
  }
  const std::int64_t kmax = max_k(af, w.weight_format(), out.zeros.a_zero, wmax);
  if (static_cast<std::int64_t>(a.cols) > kmax)
    return {errc::accumulator_overflow, "K", static_cast<std::int64_t>(a.cols), kmax};
  const matrix_source src{&a, af};
  return run_gemm(src, af, layout, out, out.zeros, a.rows, ws, ex);
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
  const packed_weights& l = w.for_rows(m);
  return detail::plan_for_call(l, m, activations_need_conversion, threads, l.k_group() != 0).total +
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

}  // namespace lowbit
