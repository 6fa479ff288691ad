// lowbit internal: the driver's own work per call (driver_ops.hpp), its interface and the
// baseline implementation that every build has; the x86 vector sets build on it.
//
// Besides the microkernel, every call validates and sums the activation rows (the pre-pass),
// turns each tile's u-code sums into exact int32 results (the epilogue) and, for 8-bit-or-less
// outputs, requantizes them (64-bit products and a rounding shift per output). At small N these
// cost as much as the kernel, and the x86-64 baseline (SSE2) has no 32-bit vector multiply, so each
// is compiled again for AVX2 and AVX-512 with target attributes. The set is chosen from the
// kernel's feature set: a call never executes an instruction its kernel could not.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/row_scan.hpp"
#include "lowbit/isa.hpp"
#include "lowbit/output.hpp"

namespace lowbit {
namespace detail {

// Validates one row of one-byte codes and returns the sum of its u-codes (see row_scan.hpp).
using scan_row_fn = std::uint32_t (*)(const u_transform& t, const std::uint8_t* row, std::size_t k,
                                      bool& bad) noexcept;
// Whether any of n bytes has a bit of `high` set (validation without row sums; row_scan.hpp).
using any_high_fn = bool (*)(const std::uint8_t* p, std::size_t n, std::uint8_t high) noexcept;
// The exact epilogue of one tile row: t[j] = alpha * s[j] + rowcoef[j] * sa + colconst[j]
// (mod 2^32), for j < n. `t` may be the output itself.
using exact_row_fn = void (*)(const std::int32_t* s, std::uint32_t alpha,
                              const std::uint32_t* rowcoef, std::uint32_t sa,
                              const std::uint32_t* colconst, std::size_t n,
                              std::int32_t* t) noexcept;

// exact_row over the rows of a tile: row i reads s + i * lds and rowsum[i], writes t + i * ldt.
// One call per tile instead of one per row: at w1a1 a row's epilogue is a few vector ops, and
// the indirect call around it cost as much.
using exact_tile_fn = void (*)(const std::int32_t* s, std::size_t lds, std::size_t rows,
                               std::uint32_t alpha, const std::uint32_t* rowcoef,
                               const std::uint32_t* rowsum, const std::uint32_t* colconst,
                               std::size_t n, std::int32_t* t, std::size_t ldt) noexcept;

// Requantizes a run of exact results t[0, n) to output bytes (output.hpp's rule, bit-exact).
using requant_row_fn = void (*)(const std::int32_t* t, std::size_t n, const requant_params& q,
                                std::uint8_t* dst) noexcept;

// One row of the float stage (output.hpp, float_row_generic).
using float_row_fn = void (*)(const std::int32_t* t, std::size_t n, const float_params& q,
                              float* dst) noexcept;

struct driver_ops {
  const char* isa;
  scan_row_fn scan_row;
  exact_row_fn exact_row;
  requant_row_fn requant_row;
  any_high_fn any_high;
  exact_tile_fn exact_tile;
  float_row_fn float_row;
};

inline void exact_row_generic(const std::int32_t* s, std::uint32_t alpha,
                              const std::uint32_t* rowcoef, std::uint32_t sa,
                              const std::uint32_t* colconst, std::size_t n,
                              std::int32_t* t) noexcept {
  for (std::size_t j = 0; j < n; ++j)
    t[j] = static_cast<std::int32_t>(alpha * static_cast<std::uint32_t>(s[j]) + rowcoef[j] * sa +
                                     colconst[j]);
}

inline void exact_tile_generic(const std::int32_t* s, std::size_t lds, std::size_t rows,
                               std::uint32_t alpha, const std::uint32_t* rowcoef,
                               const std::uint32_t* rowsum, const std::uint32_t* colconst,
                               std::size_t n, std::int32_t* t, std::size_t ldt) noexcept {
  for (std::size_t i = 0; i < rows; ++i)
    exact_row_generic(s + i * lds, alpha, rowcoef, rowsum[i], colconst, n, t + i * ldt);
}

inline const driver_ops& baseline_driver_ops() noexcept {
  static const driver_ops ops{"baseline",           &scan_row_bytes, &exact_row_generic,
                              &requant_row_generic, &any_high_bytes, &exact_tile_generic,
                              &float_row_generic};
  return ops;
}

}  // namespace detail
}  // namespace lowbit
