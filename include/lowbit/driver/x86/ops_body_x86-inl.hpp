// lowbit internal: the driver's exact, float and fused-tile rows on x86 (ops_generic.hpp's
// interface), written once over a register width's vector traits (detail/x86/vec.hpp).
//
// No include guard: ops_sse4.hpp and ops_avx2.hpp each include this file once, after defining
//   LOWBIT_DRIVER_NS      the namespace below lowbit::detail that gets this level's copy,
//   LOWBIT_DRIVER_TARGET  its target string (one of isa.hpp's LOWBIT_X86_TARGET_*), and
//   LOWBIT_DRIVER_VEC     the traits of its register width (detail::x86::vec_sse4, vec_avx2),
// and then defines, in that namespace, the level's own requant_row (declared here; how the 64-bit
// rounding is done differs by level). It defines there exact_terms, exact_row, exact_tile,
// float_row, float_tile, requant_tile and table(name, scan_row, any_high), the level's driver_ops.
// A copy per level rather than one template over the traits: GCC inlines a target-attributed
// always-inline function only into a caller compiled for its target (dot_body_x86-inl.hpp).
// AVX-512 has whole-tile code of its own (ops_avx512.hpp).

#if !defined(LOWBIT_DRIVER_NS) || !defined(LOWBIT_DRIVER_TARGET) || !defined(LOWBIT_DRIVER_VEC)
#error "define LOWBIT_DRIVER_NS, _TARGET and _VEC before including ops_body_x86-inl.hpp"
#endif

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/x86/vec.hpp"
#include "lowbit/driver/ops_generic.hpp"

#define LOWBIT_DRIVER_FN __attribute__((target(LOWBIT_DRIVER_TARGET))) inline

namespace lowbit {
namespace detail {
namespace LOWBIT_DRIVER_NS {

using V = LOWBIT_DRIVER_VEC;

// requant_row_fn, the level's own, defined after this file by its includer.
LOWBIT_DRIVER_FN void requant_row(const std::int32_t* t, std::size_t n, const requant_params& q,
                                  std::uint8_t* dst) noexcept;

// t[j] = alpha * s[j] + rowcoef[j] * sa + colconst[j] (mod 2^32), V::lanes columns per step, the
// tail through the scalar rows. With Every (exact_row_fn) both terms are present; without, a null
// rowcoef or colconst drops its term (exact_terms_fn, the fused tiles).
template <bool Every>
__attribute__((target(LOWBIT_DRIVER_TARGET), always_inline)) inline void exact_cols(
    const std::int32_t* s, std::uint32_t alpha, const std::uint32_t* rowcoef, std::uint32_t sa,
    const std::uint32_t* colconst, std::size_t n, std::int32_t* t) noexcept {
  const typename V::vec va = V::set32(static_cast<int>(alpha));
  const typename V::vec vsa = V::set32(static_cast<int>(sa));
  std::size_t j = 0;
  for (; j + V::lanes <= n; j += V::lanes) {
    typename V::vec v = V::loadu(s + j);
    if (alpha != 1) v = V::mullo32(v, va);
    if (Every || rowcoef) v = V::add32(v, V::mullo32(V::loadu(rowcoef + j), vsa));
    if (Every || colconst) v = V::add32(v, V::loadu(colconst + j));
    V::storeu(t + j, v);
  }
  if (Every)
    exact_row_generic(s + j, alpha, rowcoef + j, sa, colconst + j, n - j, t + j);
  else
    detail::exact_row_terms(s + j, alpha, rowcoef ? rowcoef + j : nullptr, sa,
                            colconst ? colconst + j : nullptr, n - j, t + j);
}

LOWBIT_DRIVER_FN void exact_terms(const std::int32_t* s, std::uint32_t alpha,
                                  const std::uint32_t* rowcoef, std::uint32_t sa,
                                  const std::uint32_t* colconst, std::size_t n,
                                  std::int32_t* t) noexcept {
  exact_cols<false>(s, alpha, rowcoef, sa, colconst, n, t);
}

LOWBIT_DRIVER_FN void exact_row(const std::int32_t* s, std::uint32_t alpha,
                                const std::uint32_t* rowcoef, std::uint32_t sa,
                                const std::uint32_t* colconst, std::size_t n,
                                std::int32_t* t) noexcept {
  exact_cols<true>(s, alpha, rowcoef, sa, colconst, n, t);
}

LOWBIT_DRIVER_FN void exact_tile(const std::int32_t* s, std::size_t lds, std::size_t rows,
                                 std::uint32_t alpha, const std::uint32_t* rowcoef,
                                 const std::uint32_t* rowsum, const std::uint32_t* colconst,
                                 std::size_t n, std::int32_t* t, std::size_t ldt) noexcept {
  exact_tile_rows<exact_row>(s, lds, rows, alpha, rowcoef, rowsum, colconst, n, t, ldt);
}

// float_row_generic, V::lanes columns per step (the tail through it). The empty asm keeps each
// product a rounded value the add cannot fuse into an FMA, as in the scalar row.
LOWBIT_DRIVER_FN void float_row(const std::int32_t* t, std::size_t n, const float_params& q,
                                float* dst) noexcept {
  const typename V::fvec a_scale = V::fset(q.a_scale), lo = V::fset(q.lo), hi = V::fset(q.hi);
  const typename V::fvec one_scale = V::fmul(a_scale, V::fset(q.w_scales[0]));
  std::size_t j = 0;
  for (; j + V::lanes <= n; j += V::lanes) {
    const typename V::fvec scale =
        q.per_channel ? V::fmul(a_scale, V::floadu(q.w_scales + j)) : one_scale;
    typename V::fvec v = V::fmul(V::to_float(V::loadu(t + j)), scale);
    __asm__("" : "+x"(v));
    if (q.bias) v = V::fadd(v, V::floadu(q.bias + j));
    // max(lo, v) and min(hi, v) return v when it is NaN, as the scalar comparisons do.
    v = V::fmin(hi, V::fmax(lo, v));
    V::fstoreu(dst + j, v);
  }
  if (j < n) float_row_generic(t + j, n - j, float_params_at(q, j), dst + j);
}

// The fused tiles (float_tile_fn, requant_tile_fn): ops_generic.hpp's loop around this level's
// rows, instantiated here so they inline into it.
LOWBIT_DRIVER_FN void float_tile(const std::int32_t* s, std::size_t lds, std::size_t rows,
                                 std::uint32_t alpha, const std::uint32_t* rowcoef,
                                 const std::uint32_t* rowsum, const std::uint32_t* colconst,
                                 std::size_t n, const float_params& q, float* dst,
                                 std::size_t ldd) noexcept {
  float_tile_rows<exact_terms, float_row>(s, lds, rows, alpha, rowcoef, rowsum, colconst, n, q, dst,
                                          ldd);
}

LOWBIT_DRIVER_FN void requant_tile(const std::int32_t* s, std::size_t lds, std::size_t rows,
                                   std::uint32_t alpha, const std::uint32_t* rowcoef,
                                   const std::uint32_t* rowsum, const std::uint32_t* colconst,
                                   std::size_t n, const requant_params& q, std::size_t q_col,
                                   std::uint8_t* dst, std::size_t ldd) noexcept {
  requant_tile_rows<exact_terms, requant_row>(s, lds, rows, alpha, rowcoef, rowsum, colconst, n, q,
                                              q_col, dst, ldd);
}

// The level's table; the row scans are its caller's (the baseline's on levels without their own).
constexpr driver_ops table(const char* name, scan_row_fn scan_row, any_high_fn any_high) noexcept {
  return driver_ops{name,        scan_row,   &exact_row,  &requant_row, any_high,
                    &exact_tile, &float_row, &float_tile, &requant_tile};
}

}  // namespace LOWBIT_DRIVER_NS
}  // namespace detail
}  // namespace lowbit

#undef LOWBIT_DRIVER_FN
#undef LOWBIT_DRIVER_NS
#undef LOWBIT_DRIVER_TARGET
#undef LOWBIT_DRIVER_VEC
