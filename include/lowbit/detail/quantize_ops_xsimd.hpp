// lowbit internal: quantize() and dequantize()'s portable rows with xsimd (quantize_ops.hpp's
// portable_quantize_ops), for the build's own architecture: what runs when no vector set of the
// run-time dispatched ones is allowed (isa::scalar, or a target without one). Same bits as the
// scalar loops in quantize.hpp: the steps are those of quantize_ops_body-inl.hpp (whose comments
// give the argument), written with 4-lane batches.
//
// 16 elements per step. The bytes of 16 codes, loaded as four uint32 lanes, give byte b of every
// lane with a shift and a mask: elements b, 4 + b, 8 + b, 12 + b. A 4 x 4 transpose of the floats
// (zips) puts them back in order, and the same transpose of the input puts a quantize step's
// results where one shift and an OR per register make the 16 output bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/detail/portable_simd.hpp"
#include "lowbit/detail/quantize_ops_types.hpp"

#if defined(LOWBIT_XSIMD_FLOAT)

namespace lowbit {
namespace detail {
namespace qops_xsimd {

using xs_u2 = xsimd::batch<std::uint64_t, xs_u4::arch_type>;

// Rows of a 4 x 4 block of 32-bit lanes become its columns.
inline void transpose4(xs_u4& a, xs_u4& b, xs_u4& c, xs_u4& d) noexcept {
  const xs_u4 t0 = xsimd::zip_lo(a, b), t1 = xsimd::zip_hi(a, b);
  const xs_u4 t2 = xsimd::zip_lo(c, d), t3 = xsimd::zip_hi(c, d);
  const xs_u2 q0 = xsimd::bitwise_cast<xs_u2>(t0), q1 = xsimd::bitwise_cast<xs_u2>(t1);
  const xs_u2 q2 = xsimd::bitwise_cast<xs_u2>(t2), q3 = xsimd::bitwise_cast<xs_u2>(t3);
  a = xsimd::bitwise_cast<xs_u4>(xsimd::zip_lo(q0, q2));
  b = xsimd::bitwise_cast<xs_u4>(xsimd::zip_hi(q0, q2));
  c = xsimd::bitwise_cast<xs_u4>(xsimd::zip_lo(q1, q3));
  d = xsimd::bitwise_cast<xs_u4>(xsimd::zip_hi(q1, q3));
}

// a / b in IEEE arithmetic: xsimd 8.1 divides on NEON by a reciprocal estimate and two Newton
// steps, which is not correctly rounded; the register types' own division is (divps, fdiv).
inline xs_f4 ieee_div(const xs_f4& a, const xs_f4& b) noexcept { return xs_f4(a.data / b.data); }

// A comparison's lanes as int32: -1 where true, 0 where false.
template <class M>
inline xs_i4 mask_of(const M& m) noexcept {
  const xs_f4 ones = xsimd::bitwise_cast<xs_f4>(xs_i4(-1));
  return xsimd::bitwise_cast<xs_i4>(xsimd::select(m, ones, xs_f4(0.0f)));
}
inline xs_i4 mask_of_int(const xsimd::batch_bool<std::int32_t, xs_i4::arch_type>& m) noexcept {
  return xsimd::select(m, xs_i4(-1), xs_i4(0));
}

struct quantize_consts {
  xs_f4 scale, zero, lo, hi;
  xs_i4 out_add;
  int out_shift;
  bool odd;
};

// One register of y = x / scale + zero_point to output bytes in int32 lanes.
inline xs_i4 nearest_byte(xs_f4 y, const quantize_consts& k) noexcept {
  xs_f4 c = xsimd::select(y >= k.lo, y, k.lo);  // NaN too gives lo
  c = xsimd::select(c > k.hi, k.hi, c);
  const xs_i4 t = xsimd::to_int(c);  // truncation, exact: |c| <= 255
  const xs_f4 tf = xsimd::to_float(t);
  xs_i4 r;
  if (k.odd) {
    const xs_i4 lt = mask_of(c < tf), above = mask_of(c > tf);
    const xs_i4 b = t + lt;  // floor(c)
    const xs_i4 up =
        mask_of_int((b & xs_i4(1)) == xs_i4(0)) & ((above | lt) | mask_of_int(b >= xs_i4(0)));
    r = ((b - xs_i4(1)) | xs_i4(1)) - (up + up);
  } else {
    const xs_f4 d = c - tf;  // exact
    r = t - mask_of(d >= xs_f4(0.5f)) + mask_of(d <= xs_f4(-0.5f));
  }
  return ((r + k.out_add) >> k.out_shift) & xs_i4(0xFF);
}

inline void quantize_16(const float* x, const quantize_consts& k, std::uint8_t* out) noexcept {
  xs_u4 v[4];
  for (int i = 0; i < 4; ++i) v[i] = xsimd::bitwise_cast<xs_u4>(xs_f4::load_unaligned(x + 4 * i));
  transpose4(v[0], v[1], v[2], v[3]);  // v[b] lane l: element 4 * l + b
  xs_u4 bytes(0u);
  for (int b = 0; b < 4; ++b) {
    const xs_f4 y = ieee_div(xsimd::bitwise_cast<xs_f4>(v[b]), k.scale) + k.zero;
    bytes |= xsimd::bitwise_cast<xs_u4>(nearest_byte(y, k)) << (8 * b);
  }
  alignas(16) std::uint32_t words[4];
  bytes.store_aligned(words);
  std::memcpy(out, words, 16);
}

inline void quantize_row(const float* x, std::size_t n, const quantize_row_params& p,
                         std::uint8_t* out) noexcept {
  const quantize_consts k{xs_f4(p.scale),   xs_f4(p.zero), xs_f4(p.lo), xs_f4(p.hi),
                          xs_i4(p.out_add), p.out_shift,   p.odd};
  const std::size_t full = n / 16, rest = n % 16;
  for (std::size_t i = 0; i < full; ++i) quantize_16(x + 16 * i, k, out + 16 * i);
  if (rest != 0) {  // the tail through a zero-padded copy
    float xs[16] = {};
    std::uint8_t os[16];
    std::memcpy(xs, x + full * 16, rest * sizeof(float));
    quantize_16(xs, k, os);
    std::memcpy(out + full * 16, os, rest);
  }
}

// Whether any of n one-per-byte codes is invalid (codes.hpp's code_of_byte), 16 at a time.
inline bool any_invalid(const std::uint8_t* p, std::size_t n, const code_check& c) noexcept {
  using xs_b16 = xsimd::batch<std::uint8_t, xs_u4::arch_type>;
  const xs_b16 high(c.high), sign(c.sign), zero(std::uint8_t{0});
  const xs_b16 three(std::uint8_t{3}), two(std::uint8_t{2});
  const std::size_t full = n / 16, rest = n % 16;
  std::uint8_t tail[16] = {};  // 0 is a valid code of every format
  std::memcpy(tail, p + full * 16, rest);
  for (std::size_t i = 0; i <= full; ++i) {
    if (i == full && rest == 0) break;
    const xs_b16 x = xs_b16::load_unaligned(i < full ? p + 16 * i : tail);
    const xs_b16 h = x & high;
    auto bad = h != zero;
    if (c.sign_extension_ok) bad = bad & !((h == high) & ((x & sign) != zero));
    if (c.ternary) bad = bad | ((x & three) == two);
    if (xsimd::any(bad)) return true;
  }
  return false;
}

// x = scale * float(value - zero_point), the int32 arithmetic modulo 2^32 as the scalar loop's.
inline void dequantize_16(const std::uint8_t* codes, const dequantize_row_params& p,
                          float* out) noexcept {
  const xs_u4 w = xs_u4::load_unaligned(reinterpret_cast<const std::uint32_t*>(codes));
  const xs_u4 mask(p.mask), sign(p.sign), offset(p.offset);
  const xs_f4 scale(p.scale);
  xs_u4 f[4];
  for (int b = 0; b < 4; ++b) {
    xs_u4 u = (w >> (8 * b)) & mask;  // lane l: code 4 * l + b
    u = ((u ^ sign) - sign) << static_cast<int>(p.shift);
    u += offset;
    f[b] = xsimd::bitwise_cast<xs_u4>(xsimd::to_float(xsimd::bitwise_cast<xs_i4>(u)) * scale);
  }
  transpose4(f[0], f[1], f[2], f[3]);
  for (int i = 0; i < 4; ++i) xsimd::bitwise_cast<xs_f4>(f[i]).store_unaligned(out + 4 * i);
}

inline void dequantize_row(const std::uint8_t* codes, std::size_t n, const dequantize_row_params& p,
                           float* out) noexcept {
  const std::size_t full = n / 16, rest = n % 16;
  for (std::size_t i = 0; i < full; ++i) dequantize_16(codes + 16 * i, p, out + 16 * i);
  if (rest != 0) {
    std::uint8_t cs[16] = {};
    float os[16];
    std::memcpy(cs, codes + full * 16, rest);
    dequantize_16(cs, p, os);
    std::memcpy(out + full * 16, os, rest * sizeof(float));
  }
}

}  // namespace qops_xsimd

LOWBIT_API const quantize_ops* portable_quantize_ops() noexcept {
  static const quantize_ops ops{"xsimd", &qops_xsimd::quantize_row, &qops_xsimd::any_invalid,
                                &qops_xsimd::dequantize_row};
  return &ops;
}

}  // namespace detail
}  // namespace lowbit

#endif
