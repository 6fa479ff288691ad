// lowbit: low-bit GEMM, the public entry points.
//
//   lowbit::packed_weights pw;
//   lowbit::check(lowbit::pack_weights(lowbit::codes(w, N, K), w_format, a_format, pw));
//   lowbit::check(lowbit::gemm(lowbit::codes(a, M, K), a_format, pw,
//                              lowbit::int32_output{c, N}));        // C = A * W^T, exact
//
// Every function returns a lowbit::status and never throws (-fno-exceptions builds work);
// lowbit::check() turns a failure into a lowbit::error exception when exceptions are on. Each
// validates all of its arguments before it writes anything.
//
// This header declares; lowbit/packing/pack_weights.hpp (packing) and
// lowbit/driver/gemm_impl.hpp (gemm) define, included at the end unless the
// build compiles lowbit once (LOWBIT_COMPILED, config.hpp): then the TU that defines
// LOWBIT_IMPLEMENTATION holds the definitions and the kernels, and other TUs only these lines.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/config.hpp"
#include "lowbit/dispatch/settings.hpp"
#include "lowbit/executor.hpp"
#include "lowbit/format.hpp"
#include "lowbit/kernels/ukernel.hpp"
#include "lowbit/matrix.hpp"
#include "lowbit/output.hpp"
#include "lowbit/packed_weights.hpp"
#include "lowbit/quantize.hpp"
#include "lowbit/status.hpp"
#include "lowbit/version.hpp"
#include "lowbit/workspace.hpp"

namespace lowbit {

using pack_options = dispatch_options;

// Which kernel pack_weights would choose for these formats and shape (nullptr: none).
LOWBIT_API const kernels::ukernel_desc* query_kernel(format wf, format af, std::size_t n,
                                                     std::size_t k,
                                                     const pack_options& opt = {}) noexcept;
// The kernel a gemm call with M rows runs on weights pack_weights packs with these options (what
// packed_weights::kernel_name(M) reports; default packing holds small-M layouts, docs/gemv.md).
LOWBIT_API const kernels::ukernel_desc* query_kernel_for_rows(
    format wf, format af, std::size_t n, std::size_t k, std::size_t m,
    const pack_options& opt = {}) noexcept;

// Checks a matrix of codes of format f without computing anything: the matrix arguments
// ("a.data", "M", "K", "a.stride") and every code (errc::invalid_code, value() = the flat index
// row * cols + col of the first bad one). gemm validates activations as it goes and may have
// written other rows of C when it finds an invalid code (docs/errors.md); a caller that needs C
// untouched on every failure validates first.
LOWBIT_API status validate_codes(const matrix_ref& a, format f) noexcept;

// Packs N x K weight codes (w.rows = N, w.cols = K) of format wf, for activations of format af
// (its bit width selects the kernel), into `out`. On failure `out` is left empty.
LOWBIT_API status pack_weights(const matrix_ref& w, format wf, format af, packed_weights& out,
                               const pack_options& opt = {}) noexcept;

// How pack_weights_from_float quantizes.
struct from_float_options {
  quant_mode mode = quant_mode::symmetric;
  quant_calibration calibration = quant_calibration::automatic;  // quantize.hpp
  // The caller's per-channel parameters (N each) instead of calibrating: scale > 0 and finite;
  // zero_points may stay nullptr (all 0). mode and calibration are then unused.
  const float* scales = nullptr;
  const std::int32_t* zero_points = nullptr;
  // When set, receives the N x K codes that were packed, one per byte as quantize() writes them,
  // row stride codes_ld (0: K). Written only on success.
  std::uint8_t* codes_out = nullptr;
  std::size_t codes_ld = 0;
};

// Quantizes float weights (N x K, row stride ld) per output channel (quantize.hpp) and packs
// them. Writes the scales and zero points used (N each) for the output stage; here scales_out
// and zeros_out may be nullptr.
LOWBIT_API status pack_weights_from_float(const float* w, std::size_t n, std::size_t k,
                                          std::size_t ld, format wf, format af,
                                          const from_float_options& options, packed_weights& out,
                                          float* scales_out, std::int32_t* zeros_out,
                                          const pack_options& opt = {}) noexcept;

// The same with parameters chosen by quant_calibration::automatic in `mode`; scales_out and
// zeros_out are required.
LOWBIT_API status pack_weights_from_float(const float* w, std::size_t n, std::size_t k,
                                          std::size_t ld, format wf, format af, quant_mode mode,
                                          packed_weights& out, float* scales_out,
                                          std::int32_t* zeros_out,
                                          const pack_options& opt = {}) noexcept;

// Scratch bytes a gemm call with M rows of activations needs (for a caller-owned workspace),
// on `threads` threads. Weights packed with k_group count the per-group row sums that a
// float_output with w_group_scales needs (more than other stages use). SIZE_MAX for an M
// above gemm's limit (2^31 - 1) or more than 4096 threads; 0 for empty weights or M = 0.
LOWBIT_API std::size_t gemm_workspace_size(const packed_weights& w, std::size_t m,
                                           bool activations_need_conversion = true,
                                           std::size_t threads = 1) noexcept;

// C = A * W^T through an output stage: int32_output, float_output or quantized_output.
// A: M x K activation codes of format af. Uses (and grows) the given workspace, and the given
// executor for threads (nullptr: the calling thread only). One packed_weights may serve
// concurrent calls on different threads, each with its own workspace.
LOWBIT_API status gemm(const matrix_ref& a, format af, const packed_weights& w,
                       const int32_output& out, workspace& ws, executor* ex) noexcept;
LOWBIT_API status gemm(const matrix_ref& a, format af, const packed_weights& w,
                       const float_output& out, workspace& ws, executor* ex) noexcept;
LOWBIT_API status gemm(const matrix_ref& a, format af, const packed_weights& w,
                       const quantized_output& out, workspace& ws, executor* ex) noexcept;

namespace detail {
inline workspace& thread_workspace() noexcept {
#if defined(LOWBIT_NO_THREADS)
  static workspace ws;
#else
  thread_local workspace ws;
#endif
  return ws;
}

}  // namespace detail

// The same with the default executor (set_default_executor / set_num_threads; one thread
// unless set).
template <class Stage>
inline status gemm(const matrix_ref& a, format af, const packed_weights& w, const Stage& out,
                   workspace& ws) noexcept {
  return gemm(a, af, w, out, ws, default_executor());
}

// The same with a per-thread workspace that lowbit keeps (allocates on first use only).
template <class Stage>
inline status gemm(const matrix_ref& a, format af, const packed_weights& w,
                   const Stage& out) noexcept {
  return gemm(a, af, w, out, detail::thread_workspace(), default_executor());
}

#if defined(LOWBIT_EXCEPTIONS)
// Convenience: returns the packed weights, throws lowbit::error on failure.
inline packed_weights pack_weights(const matrix_ref& w, format wf, format af,
                                   const pack_options& opt = {}) {
  packed_weights p;
  check(pack_weights(w, wf, af, p, opt));
  return p;
}
#endif

}  // namespace lowbit

#if !defined(LOWBIT_DECLARATIONS_ONLY)
#include "lowbit/driver/gemm_impl.hpp"
#include "lowbit/packing/pack_weights.hpp"
#endif
