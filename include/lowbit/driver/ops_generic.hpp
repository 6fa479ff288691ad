// lowbit internal: the driver's own work per call (driver/ops.hpp), its interface and the
// baseline implementation that every build has; the x86 vector sets build on it.
//
// Besides the microkernel, every call validates and sums the activation rows (the pre-pass),
// turns each tile's u-code sums into exact int32 results (the epilogue) and, for 8-bit-or-less
// outputs, requantizes them (64-bit products and a rounding shift per output) or applies the
// float stage. At small N these cost as much as the kernel, and the x86-64 baseline (SSE2) has no
// 32-bit vector multiply, so each is compiled again for SSE4.1, AVX2 and AVX-512 with target
// attributes (and for NEON on Arm). The set is chosen from the kernel's feature set: a call never
// executes an instruction its kernel could not. The baseline set itself is written with xsimd
// batches for the build's own architecture where xsimd is on (detail/portable_simd.hpp): the
// exact rows where 32-bit multiplies are vector instructions (NEON, an SSE4.1 baseline), the float
// row where float vectors round as the scalar code does (not Armv7 NEON); requantization keeps
// the scalar rows (64-bit products).
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/portable_simd.hpp"
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

// The exact epilogue of a tile followed by its output stage, in one pass while the tile is hot:
// row i of dst (stride ldd) is the stage applied to
//   alpha * s[i * lds + j] + rowcoef[j] * rowsum[i] + colconst[j]   (mod 2^32), j < n.
// rowcoef == nullptr drops the row term (rowsum is then not read), colconst == nullptr the column
// term. The requantizing tile reads q from its column q_col on (the whole row's parameters
// passed as they are: a copy per tile, made with narrow stores read back wide, stalled on store
// forwarding). One call per tile: at small N the per-row calls and the int32 round trip through
// a scratch row cost as much as the stage itself.
using float_tile_fn = void (*)(const std::int32_t* s, std::size_t lds, std::size_t rows,
                               std::uint32_t alpha, const std::uint32_t* rowcoef,
                               const std::uint32_t* rowsum, const std::uint32_t* colconst,
                               std::size_t n, const float_params& q, float* dst,
                               std::size_t ldd) noexcept;
using requant_tile_fn = void (*)(const std::int32_t* s, std::size_t lds, std::size_t rows,
                                 std::uint32_t alpha, const std::uint32_t* rowcoef,
                                 const std::uint32_t* rowsum, const std::uint32_t* colconst,
                                 std::size_t n, const requant_params& q, std::size_t q_col,
                                 std::uint8_t* dst, std::size_t ldd) noexcept;

struct driver_ops {
  const char* isa;
  scan_row_fn scan_row;
  exact_row_fn exact_row;
  requant_row_fn requant_row;
  any_high_fn any_high;
  exact_tile_fn exact_tile;
  float_row_fn float_row;
  float_tile_fn float_tile;
  requant_tile_fn requant_tile;
};

// The float stage's parameters from column n0 on (as output.hpp's requant_params_at).
inline float_params float_params_at(const float_params& q, std::size_t n0) noexcept {
  return {q.per_channel ? q.w_scales + n0 : q.w_scales,
          q.bias ? q.bias + n0 : nullptr,
          q.per_channel,
          q.a_scale,
          q.lo,
          q.hi};
}

inline void exact_row_generic(const std::int32_t* s, std::uint32_t alpha,
                              const std::uint32_t* rowcoef, std::uint32_t sa,
                              const std::uint32_t* colconst, std::size_t n,
                              std::int32_t* t) noexcept {
  for (std::size_t j = 0; j < n; ++j)
    t[j] = static_cast<std::int32_t>(alpha * static_cast<std::uint32_t>(s[j]) + rowcoef[j] * sa +
                                     colconst[j]);
}

// One row of exact results for the fused tiles, with the optional terms of float_tile_fn.
inline void exact_row_terms(const std::int32_t* s, std::uint32_t alpha,
                            const std::uint32_t* rowcoef, std::uint32_t sa,
                            const std::uint32_t* colconst, std::size_t n,
                            std::int32_t* t) noexcept {
  for (std::size_t j = 0; j < n; ++j) {
    std::uint32_t v = alpha * static_cast<std::uint32_t>(s[j]);
    if (rowcoef) v += rowcoef[j] * sa;
    if (colconst) v += colconst[j];
    t[j] = static_cast<std::int32_t>(v);
  }
}

#if defined(LOWBIT_XSIMD_MUL32)
// exact_row_terms with xsimd, 4 columns per step (the tail through exact_row_terms).
inline void exact_row_terms_xsimd(const std::int32_t* s, std::uint32_t alpha,
                                  const std::uint32_t* rowcoef, std::uint32_t sa,
                                  const std::uint32_t* colconst, std::size_t n,
                                  std::int32_t* t) noexcept {
  const xs_u4 va(alpha), vsa(sa);
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    xs_u4 v = va * xs_u4::load_unaligned(reinterpret_cast<const std::uint32_t*>(s + j));
    if (rowcoef) v += xs_u4::load_unaligned(rowcoef + j) * vsa;
    if (colconst) v += xs_u4::load_unaligned(colconst + j);
    v.store_unaligned(reinterpret_cast<std::uint32_t*>(t + j));
  }
  exact_row_terms(s + j, alpha, rowcoef ? rowcoef + j : nullptr, sa,
                  colconst ? colconst + j : nullptr, n - j, t + j);
}

// exact_row_generic with xsimd: every term present.
inline void exact_row_xsimd(const std::int32_t* s, std::uint32_t alpha,
                            const std::uint32_t* rowcoef, std::uint32_t sa,
                            const std::uint32_t* colconst, std::size_t n,
                            std::int32_t* t) noexcept {
  exact_row_terms_xsimd(s, alpha, rowcoef, sa, colconst, n, t);
}
#endif

#if defined(LOWBIT_XSIMD_FLOAT)
// float_row_generic with xsimd, 4 columns per step (the tail through it): the same two rounded
// products, the product kept apart from the bias add (xs_unfused), the same clamp. Which NaN an
// operation on two NaNs returns depends on its operand order, which compilers choose freely for
// commutative operations: from the first step that makes a NaN on, the row is float_row_generic's
// own, so even NaN signs are the plain row's.
inline void float_row_xsimd(const std::int32_t* t, std::size_t n, const float_params& q,
                            float* dst) noexcept {
  const xs_f4 a_scale(q.a_scale), lo(q.lo), hi(q.hi);
  const xs_f4 scale0(q.per_channel ? 0.0f : q.a_scale * q.w_scales[0]);
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const xs_f4 scale = q.per_channel ? a_scale * xs_f4::load_unaligned(q.w_scales + j) : scale0;
    xs_f4 v = xs_unfused(xsimd::to_float(xs_i4::load_unaligned(t + j)) * scale);
    if (q.bias) v += xs_f4::load_unaligned(q.bias + j);
    if (xsimd::any(v != v)) break;  // a NaN: the plain row from here (see below)
    v = xsimd::select(v < lo, lo, xsimd::select(v > hi, hi, v));
    v.store_unaligned(dst + j);
  }
  if (j < n) float_row_generic(t + j, n - j, float_params_at(q, j), dst + j);
}
#endif

// One row of exact results with the optional terms (exact_row_terms and its per-ISA versions).
using exact_terms_fn = void (*)(const std::int32_t* s, std::uint32_t alpha,
                                const std::uint32_t* rowcoef, std::uint32_t sa,
                                const std::uint32_t* colconst, std::size_t n, std::int32_t* t);

// A set's tiles from its row functions: exact_tile_rows calls the exact row per tile row; a fused
// tile sends each row's exact results through a scratch run on the stack (up to tile_chunk
// columns at a time), then through the stage's row, with no indirect call between them. Written
// once: the baseline and NEON sets take them as they are (untargeted_set); the SSE4.1 and AVX2
// sets call them from thin wrappers compiled for their target (driver/x86/ops_body_x86-inl.hpp),
// where they and the rows inline; AVX-512 has whole-tile code.
constexpr std::size_t tile_chunk = 128;

template <exact_row_fn Row>
__attribute__((always_inline)) inline void exact_tile_rows(
    const std::int32_t* s, std::size_t lds, std::size_t rows, std::uint32_t alpha,
    const std::uint32_t* rowcoef, const std::uint32_t* rowsum, const std::uint32_t* colconst,
    std::size_t n, std::int32_t* t, std::size_t ldt) noexcept {
  for (std::size_t i = 0; i < rows; ++i)
    Row(s + i * lds, alpha, rowcoef, rowsum[i], colconst, n, t + i * ldt);
}

template <exact_terms_fn Exact, float_row_fn Row>
__attribute__((always_inline)) inline void float_tile_rows(
    const std::int32_t* s, std::size_t lds, std::size_t rows, std::uint32_t alpha,
    const std::uint32_t* rowcoef, const std::uint32_t* rowsum, const std::uint32_t* colconst,
    std::size_t n, const float_params& q, float* dst, std::size_t ldd) noexcept {
  alignas(64) std::int32_t t[tile_chunk];
  for (std::size_t j0 = 0; j0 < n; j0 += tile_chunk) {
    const std::size_t len = (n - j0) < tile_chunk ? (n - j0) : tile_chunk;
    const float_params r = float_params_at(q, j0);
    for (std::size_t i = 0; i < rows; ++i) {
      Exact(s + i * lds + j0, alpha, rowcoef ? rowcoef + j0 : nullptr, rowcoef ? rowsum[i] : 0,
            colconst ? colconst + j0 : nullptr, len, t);
      Row(t, len, r, dst + i * ldd + j0);
    }
  }
}

template <exact_terms_fn Exact, requant_row_fn Row>
__attribute__((always_inline)) inline void requant_tile_rows(
    const std::int32_t* s, std::size_t lds, std::size_t rows, std::uint32_t alpha,
    const std::uint32_t* rowcoef, const std::uint32_t* rowsum, const std::uint32_t* colconst,
    std::size_t n, const requant_params& q, std::size_t q_col, std::uint8_t* dst,
    std::size_t ldd) noexcept {
  alignas(64) std::int32_t t[tile_chunk];
  for (std::size_t j0 = 0; j0 < n; j0 += tile_chunk) {
    const std::size_t len = (n - j0) < tile_chunk ? (n - j0) : tile_chunk;
    const requant_params r = requant_params_at(q, q_col + j0);
    for (std::size_t i = 0; i < rows; ++i) {
      Exact(s + i * lds + j0, alpha, rowcoef ? rowcoef + j0 : nullptr, rowcoef ? rowsum[i] : 0,
            colconst ? colconst + j0 : nullptr, len, t);
      Row(t, len, r, dst + i * ldd + j0);
    }
  }
}

// A set whose rows need no target attribute (the baseline, NEON): its tiles are the loops above
// around its rows, and table() its driver_ops.
template <exact_row_fn ExactRow, exact_terms_fn Exact, float_row_fn Float, requant_row_fn Requant>
struct untargeted_set {
  static void exact_tile(const std::int32_t* s, std::size_t lds, std::size_t rows,
                         std::uint32_t alpha, const std::uint32_t* rowcoef,
                         const std::uint32_t* rowsum, const std::uint32_t* colconst, std::size_t n,
                         std::int32_t* t, std::size_t ldt) noexcept {
    exact_tile_rows<ExactRow>(s, lds, rows, alpha, rowcoef, rowsum, colconst, n, t, ldt);
  }
  static void float_tile(const std::int32_t* s, std::size_t lds, std::size_t rows,
                         std::uint32_t alpha, const std::uint32_t* rowcoef,
                         const std::uint32_t* rowsum, const std::uint32_t* colconst, std::size_t n,
                         const float_params& q, float* dst, std::size_t ldd) noexcept {
    float_tile_rows<Exact, Float>(s, lds, rows, alpha, rowcoef, rowsum, colconst, n, q, dst, ldd);
  }
  static void requant_tile(const std::int32_t* s, std::size_t lds, std::size_t rows,
                           std::uint32_t alpha, const std::uint32_t* rowcoef,
                           const std::uint32_t* rowsum, const std::uint32_t* colconst,
                           std::size_t n, const requant_params& q, std::size_t q_col,
                           std::uint8_t* dst, std::size_t ldd) noexcept {
    requant_tile_rows<Exact, Requant>(s, lds, rows, alpha, rowcoef, rowsum, colconst, n, q, q_col,
                                      dst, ldd);
  }
  static constexpr driver_ops table(const char* name) noexcept {
    return driver_ops{name,        &scan_row_bytes, ExactRow,    Requant,      &any_high_bytes,
                      &exact_tile, Float,           &float_tile, &requant_tile};
  }
};

// The baseline set: xsimd's rows where it serves them, else the plain ones.
using baseline_set = untargeted_set<
#if defined(LOWBIT_XSIMD_MUL32)
    &exact_row_xsimd, &exact_row_terms_xsimd,
#else
    &exact_row_generic, &exact_row_terms,
#endif
#if defined(LOWBIT_XSIMD_FLOAT)
    &float_row_xsimd,
#else
    &float_row_generic,
#endif
    &requant_row_generic>;

// AVX-512's fallback for out-of-reach zero points.
inline void requant_tile_generic(const std::int32_t* s, std::size_t lds, std::size_t rows,
                                 std::uint32_t alpha, const std::uint32_t* rowcoef,
                                 const std::uint32_t* rowsum, const std::uint32_t* colconst,
                                 std::size_t n, const requant_params& q, std::size_t q_col,
                                 std::uint8_t* dst, std::size_t ldd) noexcept {
  baseline_set::requant_tile(s, lds, rows, alpha, rowcoef, rowsum, colconst, n, q, q_col, dst, ldd);
}

inline const driver_ops& baseline_driver_ops() noexcept {
  static const driver_ops ops = baseline_set::table("baseline");
  return ops;
}

}  // namespace detail
}  // namespace lowbit
