// lowbit: the scalar reference GEMM, the oracle every kernel is tested against.
//
// C[m][n] = sum_k value_a(A[m][k]) * value_w(W[n][k]) in exact integers, written as int32.
// Deliberately simple: one code at a time, its value from a table of the library's single code
// -> value definition (format.hpp, code_value for every code of the format), 64-bit
// accumulation, no blocking, no packing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/codes.hpp"
#include "lowbit/format.hpp"
#include "lowbit/limits.hpp"
#include "lowbit/matrix.hpp"
#include "lowbit/status.hpp"

namespace lowbit {

// The value of code k of row r of a validated matrix.
inline std::int32_t value_at(const matrix_ref& m, format f, std::size_t r, std::size_t k) noexcept {
  return detail::code_value_at(m, f, r, k);
}

// A: M x K activations, W: N x K weights, C: M x N int32 with row stride ldc (elements).
inline status reference_gemm(const matrix_ref& a, format af, const matrix_ref& w, format wf,
                             std::int32_t* c, std::size_t ldc) noexcept {
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(af, "a_format.bits", "a_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(wf, "w_format.bits", "w_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_matrix(a, af, "a.data", "M", "K", "a.stride"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_matrix(w, wf, "w.data", "N", "w.cols", "w.stride"));
  if (w.cols != a.cols)
    return {errc::dimension_mismatch, "w.cols", static_cast<std::int64_t>(w.cols),
            static_cast<std::int64_t>(a.cols)};
  if (c == nullptr) return {errc::null_pointer, "c"};
  if (ldc < w.rows)
    return {errc::leading_dimension_too_small, "ldc", static_cast<std::int64_t>(ldc),
            static_cast<std::int64_t>(w.rows)};
  const std::int64_t kmax = max_k(af, wf);
  if (static_cast<std::int64_t>(a.cols) > kmax)
    return {errc::accumulator_overflow, "K", static_cast<std::int64_t>(a.cols), kmax};
  detail::u_table ta, tw;
  detail::make_u_table(af, ta);
  detail::make_u_table(wf, tw);
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(a, af, ta, "a.data"));
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(w, wf, tw, "w.data"));
  // code -> value for every code (the validated codes index only valid entries): the oracle
  // then costs a table read per code, not the encoding's switch (tests call it on large shapes,
  // also under sanitizers and QEMU).
  std::int32_t va[256], vw[256];
  for (std::uint32_t code = 0; code <= code_mask(af); ++code) va[code] = code_value(af, code);
  for (std::uint32_t code = 0; code <= code_mask(wf); ++code) vw[code] = code_value(wf, code);
  const auto code_at = [](const matrix_ref& x, format f, const std::uint8_t* row, std::size_t k) {
    return x.store == storage::one_per_byte ? row[k] & code_mask(f)
                                            : detail::read_bitpacked(row, k, f.bits);
  };
  const auto* a_base = static_cast<const std::uint8_t*>(a.data);
  const auto* w_base = static_cast<const std::uint8_t*>(w.data);
  const std::size_t a_stride = detail::effective_stride(a, af.bits);
  const std::size_t w_stride = detail::effective_stride(w, wf.bits);
  for (std::size_t m = 0; m < a.rows; ++m)
    for (std::size_t n = 0; n < w.rows; ++n) {
      const std::uint8_t* a_row = a_base + m * a_stride;
      const std::uint8_t* w_row = w_base + n * w_stride;
      std::int64_t acc = 0;
      for (std::size_t k = 0; k < a.cols; ++k)
        acc += std::int64_t{va[code_at(a, af, a_row, k)]} * vw[code_at(w, wf, w_row, k)];
      c[m * ldc + n] = static_cast<std::int32_t>(acc);
    }
  return status::success();
}

}  // namespace lowbit
