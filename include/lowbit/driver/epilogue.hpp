// lowbit internal: the integer epilogue's algebra, written once. Every path that turns a
// kernel's sums into exact results takes its coefficients from epilogue_algebra: gemm's
// per-tile epilogue (make_coefficients), the choice to skip row sums (row_sums_needed, also
// used by conv2d), and the per-group loop and run_grouped tables (grouped_block_runner).
//
// Each operand is value = alpha * u + beta (affine_of), less a zero point: za for A, zw for a
// weight column (or a column in one K group). The kernel reads A stored as u - ao and W as
// u - wo (the kernel's a_offset, the packing's w_offset), K padded to kp (its K step) with
// u = 0, so over a K range of k real elements its sum is
//   S' = sum (ua - ao)(uw - wo) = S - wo*Sa - ao*Sw + kp*ao*wo
// with S = sum ua*uw, Sa = sum ua (a row's), Sw = sum uw (a column's). With ba = beta_a - za and
// x = beta_w - zw, the exact result is, modulo 2^32 (exact when T fits in int32: limits.hpp),
//   T = sum (aa*ua + ba)(aw*uw + x) = alpha*S' + x*y + p + c1*Sw,
//   alpha = aa*aw,   c1 = aa*aw*ao + aw*ba,   c3 = aa*aw*ao*wo,
//   y = aa*Sa + k*ba   (per row),   p = aa*aw*wo*Sa - kp*c3   (per row).
// Per-group scales use it per K group (that group's k, kp, Sa, Sw and x). Without groups (one
// group, all of K) x*y + p is linear in Sa, so T = alpha*S' + rowcoef*Sa + colconst with
//   rowcoef = aa*aw*wo + aa*x,   colconst = c1*Sw + k*ba*x - kp*c3.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/format.hpp"
#include "lowbit/output.hpp"

namespace lowbit {
namespace detail {

struct epilogue_algebra {
  std::uint32_t aa;      // alpha_a
  std::uint32_t ba;      // beta_a - za
  std::uint32_t beta_w;  // beta_w: x = beta_w - zw
  std::uint32_t alpha;   // aa*aw, S' coefficient
  std::uint32_t c1;      // aa*aw*ao + aw*ba, Sw coefficient
  std::uint32_t c3;      // aa*aw*ao*wo, times kp
  std::uint32_t row_w;   // aa*aw*wo, the part of Sa's coefficient without x

  // x of a weight zero point zw.
  std::uint32_t x(std::int32_t zw) const noexcept {
    return beta_w - static_cast<std::uint32_t>(zw);
  }
  std::uint32_t y(std::uint32_t sa, std::uint32_t k) const noexcept { return aa * sa + k * ba; }
  std::uint32_t p(std::uint32_t sa, std::uint32_t kp) const noexcept {
    return row_w * sa - kp * c3;
  }
  // x*y + p = rowcoef(x)*Sa + constant(x, k, kp).
  std::uint32_t rowcoef(std::uint32_t x) const noexcept { return row_w + aa * x; }
  std::uint32_t constant(std::uint32_t x, std::uint32_t k, std::uint32_t kp) const noexcept {
    return x * y(0, k) + p(0, kp);
  }
  std::uint32_t colconst(std::uint32_t sw, std::uint32_t x, std::uint32_t k,
                         std::uint32_t kp) const noexcept {
    return c1 * sw + constant(x, k, kp);
  }
};

// The algebra of activations af at zero point a_zero, stored by the kernel as u - a_offset,
// against weights wf stored as u - w_offset.
inline epilogue_algebra make_epilogue_algebra(format af, format wf, int a_offset, int w_offset,
                                              std::int32_t a_zero) noexcept {
  const affine_map ma = affine_of(af), mw = affine_of(wf);
  const auto u32 = [](std::int32_t v) { return static_cast<std::uint32_t>(v); };
  const std::uint32_t aa = u32(ma.alpha), aw = u32(mw.alpha);
  const std::uint32_t ao = u32(a_offset), wo = u32(w_offset);
  epilogue_algebra e{};
  e.aa = aa;
  e.ba = u32(ma.beta) - u32(a_zero);
  e.beta_w = u32(mw.beta);
  e.alpha = aa * aw;
  e.c1 = aa * aw * ao + aw * e.ba;
  e.c3 = aa * aw * ao * wo;
  e.row_w = aa * aw * wo;
  return e;
}

// The ungrouped coefficients of n columns over K = k (padded: k_padded):
// rowcoef[j] and colconst[j] of T = alpha*S' + rowcoef[j]*Sa + colconst[j].
inline void make_coefficients(const epilogue_algebra& e, const zero_points& z,
                              const std::uint32_t* col_sums, std::size_t n, std::size_t k,
                              std::size_t k_padded, std::uint32_t* rowcoef,
                              std::uint32_t* colconst) noexcept {
  const auto kk = static_cast<std::uint32_t>(k), kp = static_cast<std::uint32_t>(k_padded);
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint32_t x = e.x(z.w_zero(j));
    rowcoef[j] = e.rowcoef(x);
    colconst[j] = e.colconst(col_sums[j], x, kk, kp);
  }
}

// Whether the epilogue needs the u-code sums of A's rows: some rowcoef is non-zero. Weights
// packed as their values (pack_weights' offset choice) without weight zero points need none.
inline bool row_sums_needed(int w_offset, format af, format wf, const zero_points& z,
                            std::size_t n) noexcept {
  const epilogue_algebra e = make_epilogue_algebra(af, wf, 0, w_offset, z.a_zero);  // no ao
  const std::size_t distinct = z.w_zeros == nullptr ? 1 : (z.w_zero_count == 1 ? 1 : n);
  for (std::size_t j = 0; j < distinct; ++j)
    if (e.rowcoef(e.x(z.w_zero(j))) != 0) return true;
  return false;
}

}  // namespace detail
}  // namespace lowbit
